/**
 * `confab chat`: the state of the full-screen client (windows, entries, requests, the input
 * line), what keys and slash commands do, and how backend events land in windows. Drawing is
 * view.ts (a pure function of the state), output is screen.ts's diffing renderer, the terminal
 * is an interface (terminal.ts), so all of this runs in unit tests with a fake terminal and a
 * fake backend.
 *
 * Conversations: one window per bare JID (a private chat in a room: per occupant JID), one per
 * room, plus the console (window 1: connection, requests, command output) and the XML console.
 * Message types (RFC 6121 5.2.2): `chat` flows in the conversation; `normal` and any message with
 * a subject is its own framed entry; `groupchat` goes to the room; `error` says what failed.
 * Typing (XEP-0085): `composing` when the user types into a chat window, `paused` after 5 s
 * without a key, `active` rides on the message. Mentions of our nick are highlighted and ring
 * the bell (BEL, written by us, never taken from remote text).
 * File offers (XEP-0066 iq form) from contacts with a subscription wait in the sender's window
 * for /accept (saved in the download dir, progress on the hint line) or /decline; anyone else's
 * are refused (`not-acceptable`) before anything is fetched.
 */
import { describeError } from '../exit.ts';
import { sanitizeForTerminal } from '../sanitize.ts';
import type { BackendEvents, ChatBackend, FileOffer, InMessage, Show } from './backend.ts';
import { findCommand, KEYS, SLASH_COMMANDS } from './commands.ts';
import { type CompletionSource, candidates, commonPrefix } from './complete.ts';
import { Editor } from './editor.ts';
import { type Key, KeyParser } from './keys.ts';
import { Renderer } from './screen.ts';
import type { Terminal } from './terminal.ts';
import {
  type ChatWindow,
  clean,
  cleanBlock,
  draw,
  type Entry,
  showWord,
  type ViewState,
  windowName,
} from './view.ts';

export interface ChatAppOptions {
  terminal: Terminal;
  backend: ChatBackend;
  /** 256 colours (off with NO_COLOR). */
  colour: boolean;
  /** Pins a certificate for the account (trust on first use); resolves once saved. */
  trust?: ((pin: string) => Promise<void>) | undefined;
  /** Called once the user quit and the session is closed. */
  onExit?: ((code: number) => void) | undefined;
  now?: () => Date;
  /** Re-render every second (clock, reconnect countdown). Default true; tests switch it off. */
  ticker?: boolean;
  /** Seconds without a key before `paused` is sent. Default 5. */
  pausedAfter?: number;
  /** Where `/accept` saves offered files (config.ts `downloadDirOf`); created when missing. */
  downloadDir?: string | undefined;
}

/** A file offer shown to the user and not answered yet. */
export interface PendingOffer {
  offer: FileOffer;
  /** The bare JID of the sender: its window. */
  peer: string;
  entry: Entry;
}

const MAX_ENTRIES = 2000;
const WIRE_KEEP = 500;

function bareOf(j: string): string {
  const s = j.indexOf('/');
  return s === -1 ? j : j.slice(0, s);
}

function resourceOf(j: string): string | undefined {
  const s = j.indexOf('/');
  return s === -1 ? undefined : j.slice(s + 1);
}

export class ChatApp {
  readonly terminal: Terminal;
  readonly backend: ChatBackend;
  readonly windows: ChatWindow[] = [
    { kind: 'console', jid: '', entries: [], unread: 0, highlight: false, scroll: 0 },
  ];
  active = 0;
  readonly editor = new Editor();
  readonly requests: string[] = [];
  hint: string | undefined;
  readonly #o: ChatAppOptions;
  readonly #keys = new KeyParser();
  readonly #renderer = new Renderer();
  readonly #offs: (() => void)[] = [];
  readonly #wire: Entry[] = [];
  readonly #deliveries = new Map<string, Entry>();
  readonly #early = new Map<string, Entry['delivery']>();
  /** Per window jid: our last sent message id (for /correct). */
  readonly #lastSent = new Map<string, { id: string; entry: Entry }>();
  readonly #presenceSeen = new Map<string, string>();
  /** File offers waiting for /accept or /decline, by the backend's id. */
  readonly offers = new Map<string, PendingOffer>();
  #status: BackendEvents['status'] = { state: 'offline' };
  #ask: { question: string; resolve: (answer: string) => void } | undefined;
  #completion: { start: number; list: string[]; index: number; suffix: string } | undefined;
  #typingTo: string | undefined;
  #pausedTimer: ReturnType<typeof setTimeout> | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #scheduled = false;
  #lastKey = Date.now();
  #quitting = false;
  #stopped = false;

  constructor(o: ChatAppOptions) {
    this.#o = o;
    this.terminal = o.terminal;
    this.backend = o.backend;
  }

  #now(): Date {
    return this.#o.now?.() ?? new Date();
  }

  /** Now (the clock tests fix). */
  at(): Date {
    return this.#now();
  }

  /** Seconds since the last key: the library's auto-away reads this. */
  idleSeconds(): number {
    return (Date.now() - this.#lastKey) / 1000;
  }

  /** Our nick: the account's local part (rooms: the nick we have there). */
  get nick(): string {
    const a = this.backend.account;
    return a.slice(0, a.indexOf('@'));
  }

  // ------------------------------------------------------------------ life

  /** Takes over the terminal and connects. */
  async start(): Promise<void> {
    const t = this.terminal;
    t.start();
    this.#offs.push(
      t.onData((d) => this.feed(d)),
      t.onResize(() => {
        this.#renderer.invalidate();
        this.render();
      }),
    );
    this.#listen();
    if (this.#o.ticker !== false) {
      this.#ticker = setInterval(() => this.render(), 1000);
      this.#ticker.unref?.();
    }
    this.info(`confab chat: ${this.backend.account}. /help lists the commands; /quit leaves.`);
    this.render();
    void this.connect();
  }

  /** Connects; a certificate nobody vouches for is shown and, if the user says so, pinned. */
  async connect(): Promise<void> {
    for (;;) {
      this.#status = { state: 'connecting' };
      this.scheduleRender();
      try {
        await this.backend.connect();
        return;
      } catch (err) {
        const cert = err as {
          code?: string;
          spkiSha256?: string;
          fingerprint256?: string;
          domain?: string;
          reason?: string;
        };
        if (cert.code === 'ERR_TLS_CERT' && cert.spkiSha256 && this.#o.trust) {
          this.error(
            `The certificate of ${cert.domain} could not be verified (${cert.reason}).\n` +
              `SHA-256 fingerprint: ${cert.fingerprint256}\nSPKI pin: sha256/${cert.spkiSha256}\n` +
              'Compare the fingerprint with one you got from the server operator another way.',
          );
          this.switchTo(0);
          const answer = (
            await this.ask(`Trust this certificate for ${this.backend.account}? (yes/no) `)
          ).trim();
          if (/^y(es)?$/i.test(answer)) {
            await this.#o.trust(`sha256/${cert.spkiSha256}`);
            this.info(`Pinned sha256/${cert.spkiSha256} for ${this.backend.account}; connecting again.`);
            continue;
          }
          this.error('Not trusted: not connected. /connect tries again.');
        } else {
          this.error(`Cannot connect: ${describeError(err).replace(/^confab: /, '')}. /connect tries again.`);
        }
        this.#status = { state: 'offline', error: (err as Error).message };
        this.scheduleRender();
        return;
      }
    }
  }

  /** Asks a question on the input line; resolves with the answer (Enter). */
  ask(question: string): Promise<string> {
    return new Promise((resolve) => {
      this.#ask = { question, resolve };
      this.editor.set('');
      this.render();
    });
  }

  async quit(message?: string): Promise<void> {
    if (this.#quitting) return;
    this.#quitting = true;
    this.info('Going offline...');
    this.render();
    try {
      if (message) await this.backend.setPresence('online', message).catch(() => undefined);
      await this.backend.disconnect();
    } catch {
      // Leaving anyway.
    }
    this.stop();
    this.#o.onExit?.(0);
  }

  /** Gives the terminal back (also when the process is told to stop). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const off of this.#offs) off();
    if (this.#ticker) clearInterval(this.#ticker);
    if (this.#pausedTimer) clearTimeout(this.#pausedTimer);
    this.terminal.stop();
  }

  // ------------------------------------------------------------------ windows and entries

  get current(): ChatWindow {
    return this.windows[this.active]!;
  }

  /** The window for `jid` (bare for chats, a room, or an occupant's full JID), created when missing. */
  windowFor(kind: 'chat' | 'room' | 'xml', jid: string): number {
    const i = this.windows.findIndex((w) => w.kind === kind && w.jid.toLowerCase() === jid.toLowerCase());
    if (i >= 0) return i;
    this.windows.push({
      kind,
      jid,
      entries: kind === 'xml' ? [...this.#wire] : [],
      unread: 0,
      highlight: false,
      scroll: 0,
    });
    return this.windows.length - 1;
  }

  switchTo(i: number): void {
    if (i < 0 || i >= this.windows.length) return;
    if (this.#typingTo && i !== this.active) this.#stopTyping('inactive');
    this.active = i;
    const w = this.current;
    w.unread = 0;
    w.highlight = false;
    this.hint = undefined;
    this.scheduleRender();
  }

  add(i: number, e: Entry): void {
    const w = this.windows[i]!;
    w.entries.push(e);
    if (w.entries.length > MAX_ENTRIES) w.entries.splice(0, w.entries.length - MAX_ENTRIES);
    if (
      i !== this.active &&
      w.kind !== 'xml' &&
      (e.kind === 'message' || e.kind === 'action' || e.kind === 'notice')
    ) {
      w.unread++;
      if (e.highlight) w.highlight = true;
    }
    this.scheduleRender();
  }

  /** A line of ours in the current window (the console when `console`). */
  info(text: string, console = false): void {
    this.add(console ? 0 : this.active, { kind: 'info', at: this.#now(), text });
  }

  error(text: string, console = false): void {
    this.add(console ? 0 : this.active, { kind: 'error', at: this.#now(), text });
  }

  // ------------------------------------------------------------------ backend events

  #listen(): void {
    const b = this.backend;
    this.#offs.push(
      b.on('status', (e) => this.#onStatus(e)),
      b.on('message', (m) => this.#onMessage(m)),
      b.on('correction', (e) => {
        const i = this.#windowOfSender(e.from, 'chat');
        const w = this.windows[i];
        const entry = w?.entries.findLast((x) => x.id === e.id && !x.outgoing);
        if (entry) {
          entry.text = entry.kind === 'action' ? e.body.replace(/^\/me /, '') : e.body;
          entry.edited = true;
          this.scheduleRender();
        }
      }),
      b.on('delivery', (e) => {
        const entry = this.#deliveries.get(e.id);
        if (!entry) {
          this.#early.set(e.id, e.state);
          return;
        }
        // received beats acked (a receipt may overtake the ack).
        if (entry.delivery === 'received' && e.state === 'acked') return;
        entry.delivery = e.state;
        if (e.state === 'failed' && e.error) this.error(`Not delivered: ${clean(e.error)}`);
        this.scheduleRender();
      }),
      b.on('chatState', (e) => {
        const i = this.windows.findIndex(
          (w) => w.kind === 'chat' && w.jid.toLowerCase() === this.#peerKey(e.from),
        );
        if (i >= 0) {
          this.windows[i]!.theirState = e.state;
          this.scheduleRender();
        }
      }),
      b.on('contacts', () => this.#onContacts()),
      b.on('request', (r) => {
        if (!this.requests.includes(r.from)) this.requests.push(r.from);
        const who = r.nick ? `${r.from} (${clean(r.nick)})` : r.from;
        this.info(
          `${who} asks to see your presence${r.status ? `: "${clean(r.status)}"` : ''}. /approve ${r.from} or /deny ${r.from}`,
          true,
        );
        this.#markConsole();
      }),
      b.on('subscription', (e) => {
        const text =
          e.type === 'subscribed'
            ? `${e.from} approved your request: you see their presence now`
            : e.type === 'unsubscribed'
              ? `${e.from} refused or cancelled your subscription`
              : `${e.from} stopped watching your presence`;
        this.info(text, true);
      }),
      b.on('invitation', (e) => {
        this.info(
          `${clean(e.from)} invites you to ${clean(e.room)}${e.reason ? `: "${clean(e.reason)}"` : ''}. /join ${clean(e.room)}${e.password ? ` ${clean(e.password)}` : ''}`,
          true,
        );
        this.#markConsole();
      }),
      b.on('wire', (e) => {
        const entry: Entry = { kind: 'wire', at: this.#now(), text: e.line };
        this.#wire.push(entry);
        if (this.#wire.length > WIRE_KEEP) this.#wire.shift();
        const i = this.windows.findIndex((w) => w.kind === 'xml');
        if (i >= 0) this.add(i, entry);
      }),
      b.on('problem', (e) => this.error(clean(e.text), true)),
      b.on('offer', (o) => this.#onOffer(o)),
      b.on('room', (e) => {
        const i = this.windowFor('room', e.room);
        if (e.event === 'autojoin') {
          // A room joined without /join (a bookmark with autojoin): say where its window is.
          const n = i + 1;
          const keys = n <= 10 ? `Alt-${n % 10} or /win ${n}` : `/win ${n}`;
          this.info(`Joining ${clean(e.room)} (bookmarked, autojoin): window ${n}, ${keys}.`, true);
        } else if (e.text) this.add(i, { kind: 'info', at: this.#now(), text: cleanBlock(e.text) });
        else this.scheduleRender();
      }),
    );
  }

  /**
   * An XEP-0066 file offer: from a contact with a subscription it is shown in their window with
   * its (safe) name and size, for /accept or /decline; anyone else's is refused at once
   * (`not-acceptable`) with a line in the console, before anything is fetched.
   */
  #onOffer(o: FileOffer): void {
    const files = this.backend.files;
    if (!files) return;
    const peer = bareOf(o.from);
    const c = this.backend.contact(peer);
    const name = clean(o.name);
    if (!c || c.subscription === 'none') {
      files.decline(o.id, 'not-acceptable');
      this.info(`Declined the file ${name} offered by ${clean(o.from)}: not one of your contacts.`, true);
      this.#markConsole();
      return;
    }
    const dir = this.downloadDir;
    const details = (size: string) =>
      [
        `${name}, ${size}`,
        ...(o.desc ? [clean(o.desc)] : []),
        `/accept ${o.id} saves it in ${dir}; /decline ${o.id} refuses it.`,
      ].join('\n');
    const entry: Entry = {
      kind: 'notice',
      at: this.#now(),
      from: c.name ?? peer,
      subject: `file offer ${o.id}`,
      text: details('size unknown yet'),
    };
    this.offers.set(o.id, { offer: o, peer, entry });
    this.add(this.windowFor('chat', peer), entry);
    files.offerSize(o.id).then(
      (size) => {
        entry.text = details(size === undefined ? 'size not announced' : sizeText(size));
        this.scheduleRender();
      },
      () => {
        entry.text = details('size not announced');
        this.scheduleRender();
      },
    );
  }

  /** Where /accept saves files. */
  get downloadDir(): string {
    return this.#o.downloadDir ?? 'Downloads';
  }

  /**
   * The offer `/accept ID` or `/decline ID` means: that id, else the only one open in this
   * window, else the only one open at all.
   */
  takeOffer(id: string | undefined): PendingOffer {
    let p: PendingOffer | undefined;
    if (id !== undefined) {
      p = this.offers.get(id);
      if (!p) throw new Error(`no open file offer ${id}`);
    } else {
      const all = [...this.offers.values()];
      const here = all.filter(
        (x) => this.current.kind === 'chat' && x.peer.toLowerCase() === this.current.jid.toLowerCase(),
      );
      const pick = here.length > 0 ? here : all;
      if (pick.length === 0) throw new Error('no file offer is open');
      if (pick.length > 1)
        throw new Error(`which one? open offers: ${pick.map((x) => x.offer.id).join(', ')}`);
      p = pick[0]!;
    }
    this.offers.delete(p.offer.id);
    return p;
  }

  #markConsole(): void {
    if (this.active !== 0) {
      this.windows[0]!.unread++;
      this.windows[0]!.highlight = true;
    }
  }

  #onStatus(e: BackendEvents['status']): void {
    const prev = this.#status.state;
    this.#status = e;
    if (e.state === 'online' && prev !== 'online') {
      this.info(
        `Online as ${this.backend.jid ?? this.backend.account}${e.resumed ? ' (session resumed)' : ''}.`,
        true,
      );
    } else if (e.state === 'reconnecting' && e.retryAt !== undefined) {
      const s = Math.max(0, Math.ceil((e.retryAt - Date.now()) / 1000));
      this.info(
        `Connection lost${e.error ? ` (${clean(e.error)})` : ''}; reconnecting in ${s} s (attempt ${e.attempt}).`,
        true,
      );
    } else if (e.state === 'offline' && prev !== 'offline' && !this.#quitting) {
      this.error(`Offline${e.error ? `: ${clean(e.error)}` : ''}. /connect tries again.`, true);
    }
    this.scheduleRender();
  }

  /** The window key of a sender: a room occupant keeps the full JID, anyone else the bare. */
  #peerKey(from: string): string {
    const b = bareOf(from).toLowerCase();
    return this.#isRoom(b) ? from.toLowerCase() : b;
  }

  #isRoom(bare: string): boolean {
    return (
      this.windows.some((w) => w.kind === 'room' && w.jid.toLowerCase() === bare) ||
      (this.backend.rooms?.joined().some((r) => r.toLowerCase() === bare) ?? false)
    );
  }

  #windowOfSender(from: string, _kind: 'chat'): number {
    const key = this.#peerKey(from);
    return this.windowFor('chat', this.#isRoom(bareOf(key)) ? from : bareOf(from));
  }

  #mentions(text: string | undefined, nick: string): boolean {
    if (!text || nick === '') return false;
    const esc = nick.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(^|[^\\p{L}\\p{N}_])${esc}($|[^\\p{L}\\p{N}_])`, 'iu').test(text);
  }

  #onMessage(m: InMessage): void {
    const at = m.delay ?? this.#now();
    // Offline and archived messages are the past: shown with their date, never a bell.
    const delayed = m.delay !== undefined || m.archived === true;
    if (m.type === 'groupchat') {
      const room = bareOf(m.from);
      const i = this.windowFor('room', room);
      const nick = resourceOf(m.from);
      if (m.subject !== undefined && m.body === undefined) {
        this.add(i, {
          kind: 'info',
          at,
          text: `Subject: ${clean(m.subject)}${nick ? ` (set by ${clean(nick)})` : ''}`,
        });
        return;
      }
      const own = this.backend.rooms?.ownNick(room);
      const mine = nick !== undefined && own !== undefined && nick === own;
      const highlight = !mine && !delayed && this.#mentions(m.body, own ?? this.nick);
      this.#addMessage(i, m, nick ?? room, nick ?? room, at, delayed, mine, highlight);
      return;
    }
    if (m.type === 'error') {
      const peer = m.from;
      const i = this.#windowOfSender(peer, 'chat');
      this.add(i, {
        kind: 'error',
        at,
        text: `Message to ${peer} failed: ${m.error ?? 'error'}${m.body ? ` ("${m.body}")` : ''}`,
      });
      return;
    }
    // Our other client sent it (carbon): it belongs to the conversation with its recipient.
    const peer = m.outgoing && m.to ? m.to : m.from;
    const i = this.#windowOfSender(peer, 'chat');
    const w = this.windows[i]!;
    if (!m.outgoing) w.theirState = undefined;
    const contact = this.backend.contact(bareOf(peer));
    const name = m.outgoing
      ? this.nick
      : this.#isRoom(bareOf(peer).toLowerCase())
        ? (resourceOf(peer) ?? peer)
        : (contact?.name ?? bareOf(peer));
    if (m.type === 'normal' || m.subject !== undefined) {
      this.add(i, { kind: 'notice', at, from: name, subject: m.subject, text: this.#withOob(m), delayed });
      if (!m.outgoing && this.#mentions(m.body, this.nick)) this.#bell();
      return;
    }
    const highlight = !m.outgoing && !delayed && this.#mentions(m.body, this.nick);
    this.#addMessage(
      i,
      m,
      name,
      m.outgoing ? this.backend.account : bareOf(peer),
      at,
      delayed,
      m.outgoing,
      highlight,
    );
  }

  #withOob(m: InMessage): string {
    const links = m.oob.map((o) => (o.desc ? `${o.url} (${o.desc})` : o.url));
    const body = m.body ?? '';
    // A link already in the body (XEP-0066 with HTTP upload puts it there) is not repeated.
    const extra = links.filter((l) => !body.includes(l.split(' ')[0]!));
    return [body, ...extra].filter((s) => s !== '').join('\n');
  }

  #addMessage(
    i: number,
    m: InMessage,
    from: string,
    colourKey: string,
    at: Date,
    delayed: boolean,
    outgoing: boolean,
    highlight: boolean,
  ): void {
    const text = this.#withOob(m);
    const action = text.startsWith('/me ');
    this.add(i, {
      kind: action ? 'action' : 'message',
      at,
      from,
      colourKey,
      text: action ? text.slice(4) : text,
      id: m.id,
      outgoing,
      highlight,
      delayed,
    });
    if (highlight) this.#bell();
  }

  #bell(): void {
    this.terminal.write('\u0007');
  }

  #onContacts(): void {
    for (const w of this.windows) {
      if (w.kind !== 'chat') continue;
      const c = this.backend.contact(w.jid);
      if (!c) continue;
      const now = `${showWord(c)}${c.status ? `: ${clean(c.status)}` : ''}`;
      const before = this.#presenceSeen.get(c.jid);
      this.#presenceSeen.set(c.jid, now);
      if (before !== undefined && before !== now) {
        this.add(this.windows.indexOf(w), {
          kind: 'info',
          at: this.#now(),
          text: `${c.name ?? c.jid} is now ${now}`,
        });
      }
    }
    this.scheduleRender();
  }

  // ------------------------------------------------------------------ drawing

  scheduleRender(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.render();
    });
  }

  #connectionText(): string {
    const s = this.#status;
    switch (s.state) {
      case 'online':
        return 'online';
      case 'connecting':
      case 'negotiating':
        return 'connecting…';
      case 'disconnecting':
        return 'disconnecting…';
      case 'reconnecting': {
        if (s.retryAt === undefined) return 'reconnecting…';
        const left = Math.ceil((s.retryAt - Date.now()) / 1000);
        return left > 0
          ? `reconnecting in ${left}s (attempt ${s.attempt})`
          : `reconnecting… (attempt ${s.attempt})`;
      }
      default:
        return 'offline';
    }
  }

  state(): ViewState {
    const w = this.current;
    const rooms = this.backend.rooms;
    let title = '';
    let occupants: ViewState['occupants'];
    if (w.kind === 'console') title = `confab — ${this.backend.account}`;
    else if (w.kind === 'xml') title = 'XML console (redacted wire log)';
    else if (w.kind === 'room') {
      const subject = rooms?.subject(w.jid);
      title = `${w.jid}${subject ? ` — ${clean(subject)}` : ''}`;
      occupants = rooms?.occupants(w.jid).map((o) => ({ nick: o.nick, role: o.role, show: o.show }));
    } else if (resourceOf(w.jid) !== undefined && this.#isRoom(bareOf(w.jid).toLowerCase())) {
      // A private chat with a room occupant (XEP-0045 7.5): titled room/nick.
      const typing = w.theirState === 'composing' ? ' — typing…' : '';
      title = `${clean(w.jid)} (private, in ${clean(bareOf(w.jid))})${typing}`;
    } else {
      const c = this.backend.contact(w.jid);
      const pres = c ? `${showWord(c)}${c.status ? `: ${clean(c.status)}` : ''}` : '';
      const name = c?.name ? `${clean(c.name)} <${clean(w.jid)}>` : clean(w.jid);
      const typing =
        w.theirState === 'composing' ? ' — typing…' : w.theirState === 'paused' ? ' — stopped typing' : '';
      title = `${name}${pres ? ` (${pres})` : ''}${typing}`;
    }
    const prompt = this.#ask
      ? this.#ask.question
      : w.kind === 'chat' || w.kind === 'room'
        ? `[${clean(w.kind === 'room' ? (rooms?.ownNick(w.jid) ?? this.nick) : w.jid)}] `
        : '> ';
    return {
      account: this.backend.account,
      jid: this.backend.jid,
      windows: this.windows,
      active: this.active,
      contacts: this.backend.contacts(),
      requests: this.requests,
      connection: this.#connectionText(),
      own: this.backend.own(),
      input: { prompt, text: this.editor.text, cursor: this.editor.cursor },
      hint: this.hint,
      title,
      now: this.#now(),
      colour: this.#o.colour,
      occupants,
    };
  }

  render(): void {
    if (this.#stopped) return;
    const t = this.terminal;
    const scr = draw(this.state(), t.columns, t.rows);
    t.write(this.#renderer.frame(scr));
  }

  // ------------------------------------------------------------------ input

  /** Raw terminal input. */
  feed(data: string): void {
    this.#lastKey = Date.now();
    for (const k of this.#keys.feed(data)) this.key(k);
    this.scheduleRender();
  }

  key(k: Key): void {
    const e = this.editor;
    if (k.name !== 'tab' && k.name !== 'backtab') this.#completion = undefined;
    const before = e.text;
    if (k.name === 'text' && k.ctrl) {
      this.#ctrl(k.text ?? '');
    } else if (k.name === 'text' && k.alt) {
      const t = k.text ?? '';
      if (/^[0-9]$/.test(t)) this.switchTo(t === '0' ? 9 : Number(t) - 1);
      else if (t === 'b') e.wordLeft();
      else if (t === 'f') e.wordRight();
      else if (t === 'n') this.switchTo((this.active + 1) % this.windows.length);
      else if (t === 'p') this.switchTo((this.active - 1 + this.windows.length) % this.windows.length);
    } else if (k.name === 'text') {
      e.insert(k.text ?? '');
    } else if (k.name === 'paste') {
      // A paste may carry escapes (copied from a terminal): they would go to the peer.
      e.insert(sanitizeForTerminal(k.text ?? ''));
    } else if (k.name === 'enter') {
      if (k.alt || k.ctrl) e.insert('\n');
      else this.#submit();
    } else if (k.name === 'tab') this.#complete(1);
    else if (k.name === 'backtab') this.#complete(-1);
    else if (k.name === 'backspace') e.backspace();
    else if (k.name === 'delete') e.delete();
    else if (k.name === 'left') k.ctrl || k.alt ? e.wordLeft() : e.left();
    else if (k.name === 'right') k.ctrl || k.alt ? e.wordRight() : e.right();
    else if (k.name === 'home') e.home();
    else if (k.name === 'end') e.end();
    else if (k.name === 'up') e.up();
    else if (k.name === 'down') e.down();
    else if (k.name === 'pageup') this.#scroll(1);
    else if (k.name === 'pagedown') this.#scroll(-1);
    else if (k.name === 'escape') this.hint = undefined;
    if (e.text !== before) this.#typed();
  }

  #ctrl(c: string): void {
    const e = this.editor;
    switch (c) {
      case 'a':
        e.home();
        break;
      case 'e':
        e.end();
        break;
      case 'b':
        e.left();
        break;
      case 'f':
        e.right();
        break;
      case 'd':
        e.delete();
        break;
      case 'h':
        e.backspace();
        break;
      case 'u':
        e.killToStart();
        break;
      case 'k':
        e.killToEnd();
        break;
      case 'w':
        e.killWord();
        break;
      case 'y':
        e.yank();
        break;
      case 'n':
        this.switchTo((this.active + 1) % this.windows.length);
        break;
      case 'p':
        this.switchTo((this.active - 1 + this.windows.length) % this.windows.length);
        break;
      case 'l':
        this.#renderer.invalidate();
        break;
      case 'c':
        if (this.#ask) {
          const a = this.#ask;
          this.#ask = undefined;
          a.resolve('');
        } else if (e.text !== '') e.set('');
        else this.hint = 'Type /quit to leave.';
        break;
      default:
        break;
    }
  }

  #scroll(dir: number): void {
    const w = this.current;
    const page = Math.max(1, this.terminal.rows - 6);
    w.scroll = Math.max(0, w.scroll + dir * page);
  }

  /** XEP-0085: tell the peer we type (and, after a pause, that we stopped). */
  #typed(): void {
    const w = this.current;
    if (this.#ask || w.kind !== 'chat') return;
    const t = this.editor.text;
    if (t === '' || t.startsWith('/')) {
      if (this.#typingTo) this.#stopTyping('active');
      return;
    }
    if (this.#typingTo !== w.jid) {
      if (this.#typingTo) this.#stopTyping('active');
      this.#typingTo = w.jid;
      this.backend.chatState(w.jid, 'composing');
    }
    if (this.#pausedTimer) clearTimeout(this.#pausedTimer);
    this.#pausedTimer = setTimeout(
      () => {
        this.#pausedTimer = undefined;
        if (this.#typingTo) {
          this.backend.chatState(this.#typingTo, 'paused');
          this.#typingTo = undefined;
        }
      },
      (this.#o.pausedAfter ?? 5) * 1000,
    );
    this.#pausedTimer.unref?.();
  }

  #stopTyping(state: 'active' | 'inactive' | undefined): void {
    if (this.#pausedTimer) clearTimeout(this.#pausedTimer);
    this.#pausedTimer = undefined;
    if (this.#typingTo && state) this.backend.chatState(this.#typingTo, state);
    this.#typingTo = undefined;
  }

  #completionSource(): CompletionSource {
    const rooms = this.backend.rooms;
    const w = this.current;
    return {
      jids: () => [
        ...this.backend.contacts().map((c) => c.jid),
        ...this.requests,
        ...this.windows.filter((x) => x.kind === 'chat').map((x) => x.jid),
      ],
      rooms: () => [
        ...new Set([
          ...(rooms?.joined() ?? []),
          ...this.windows.filter((x) => x.kind === 'room').map((x) => x.jid),
        ]),
      ],
      nicks: () => (w.kind === 'room' && rooms ? rooms.occupants(w.jid).map((o) => o.nick) : []),
      windows: () => this.windows.map((_, i) => String(i + 1)),
    };
  }

  #complete(dir: number): void {
    const e = this.editor;
    const c = this.#completion;
    if (c && c.list.length > 1) {
      c.index = (c.index + dir + c.list.length) % c.list.length;
      e.replaceBeforeCursor(c.start, c.list[c.index]!);
      this.hint = c.list.map((x, i) => (i === c.index ? `[${x}]` : x)).join(' ');
      return;
    }
    const found = candidates(e.text, e.cursor, this.#completionSource(), this.current.kind === 'room');
    const list = [...new Set(found.list)];
    if (list.length === 0) {
      this.hint = found.word === '' ? undefined : `no completion for '${found.word}'`;
      return;
    }
    if (list.length === 1) {
      e.replaceBeforeCursor(found.start, list[0]! + (list[0]!.endsWith('/') ? '' : found.suffix));
      this.hint = undefined;
      return;
    }
    const prefix = commonPrefix(list);
    if (prefix.length > found.word.length) {
      e.replaceBeforeCursor(found.start, prefix);
      this.#completion = undefined;
    } else {
      this.#completion = { start: found.start, list, index: -1, suffix: found.suffix };
    }
    this.hint = list.join(' ');
  }

  #submit(): void {
    if (this.#ask) {
      const a = this.#ask;
      this.#ask = undefined;
      a.resolve(this.editor.submit());
      return;
    }
    const text = this.editor.submit();
    this.hint = undefined;
    if (text.trim() === '') return;
    if (text.startsWith('/') && !text.startsWith('//')) {
      void this.command(text.slice(1));
      return;
    }
    void this.say(text.startsWith('//') ? text.slice(1) : text);
  }

  /** Sends text to the active conversation (`oob`: the text is this link, XEP-0066). */
  async say(text: string, oob?: string): Promise<void> {
    const w = this.current;
    const i = this.active;
    this.#stopTyping(undefined);
    try {
      if (w.kind === 'room') {
        const rooms = this.backend.rooms;
        if (!rooms) return this.error('Group chat is not available yet.');
        await rooms.send(w.jid, text);
        return;
      }
      if (w.kind !== 'chat') {
        this.hint = 'This window is no conversation: /msg JID opens one.';
        return;
      }
      const room = bareOf(w.jid);
      const pmNick = resourceOf(w.jid);
      if (pmNick !== undefined && this.backend.rooms && this.#isRoom(room.toLowerCase())) {
        // A private message to a room occupant (XEP-0045 7.5), through the room.
        const sent = await this.backend.rooms.sendPrivate(room, pmNick, text);
        const me = this.backend.rooms.ownNick(room) ?? this.nick;
        const action = text.startsWith('/me ');
        this.add(i, {
          kind: action ? 'action' : 'message',
          at: this.#now(),
          from: me,
          colourKey: me,
          text: action ? text.slice(4) : text,
          id: sent.id,
          outgoing: true,
        });
        return;
      }
      // Shown at once, in the order typed; the id and the delivery mark follow.
      const action = text.startsWith('/me ');
      const entry: Entry = {
        kind: action ? 'action' : 'message',
        at: this.#now(),
        from: this.nick,
        colourKey: this.backend.account,
        text: action ? text.slice(4) : text,
        outgoing: true,
      };
      this.add(i, entry);
      let sent: { id: string; queued: boolean };
      try {
        sent = await this.backend.sendMessage(w.jid, text, oob === undefined ? {} : { oob });
      } catch (err) {
        entry.delivery = 'failed';
        throw err;
      }
      entry.id = sent.id;
      entry.delivery = this.#early.get(sent.id) ?? (sent.queued ? 'queued' : 'sent');
      this.#early.delete(sent.id);
      this.#deliveries.set(sent.id, entry);
      if (this.#deliveries.size > 5000) this.#deliveries.delete(this.#deliveries.keys().next().value!);
      this.#lastSent.set(w.jid, { id: sent.id, entry });
      this.scheduleRender();
    } catch (err) {
      this.error(`Not sent: ${describeError(err).replace(/^confab: /, '')}`);
    }
  }

  /** Runs a slash command line (without the slash). */
  async command(line: string): Promise<void> {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line);
    if (!m) return;
    const cmd = findCommand(m[1]!.toLowerCase());
    if (!cmd) {
      this.error(`Unknown command /${m[1]}. /help lists them.`);
      return;
    }
    const handler = HANDLERS[cmd.name];
    try {
      await handler!(this, m[2]!.trim());
    } catch (err) {
      this.error(`/${cmd.name}: ${describeError(err).replace(/^confab: /, '')}`);
    }
    this.scheduleRender();
  }

  /** The conversation JID of the current window, if it is a chat. */
  currentPeer(): string | undefined {
    return this.current.kind === 'chat' ? bareOf(this.current.jid) : undefined;
  }

  /** The room of the current window, if it is one. */
  currentRoom(): string | undefined {
    return this.current.kind === 'room' ? this.current.jid : undefined;
  }

  lastSent(jid: string): { id: string; entry: Entry } | undefined {
    return this.#lastSent.get(jid);
  }

  registerSent(id: string, entry: Entry): void {
    this.#deliveries.set(id, entry);
  }

  connectionState(): string {
    return this.#status.state;
  }
}

type Handler = (app: ChatApp, args: string) => Promise<void> | void;

const words = (s: string): string[] => (s === '' ? [] : s.split(/\s+/));
const rest = (s: string, n: number): string => {
  const re = new RegExp(`^(?:\\S+\\s+){${n}}`);
  const m = re.exec(s);
  if (m) return s.slice(m[0].length);
  return words(s).length <= n ? '' : s;
};

function needJid(app: ChatApp, given: string | undefined, what: string): string {
  const j = given ?? app.currentPeer();
  if (!j) throw new Error(`give a JID (${what})`);
  if (!/^[^@/\s]+@[^@/\s]+$/.test(bareOf(j)) && !/^[^@/\s]+\.[^@/\s]+$/.test(j))
    throw new Error(`'${j}' is not a JID`);
  return j;
}

function roomsOf(app: ChatApp): NonNullable<ChatBackend['rooms']> {
  const r = app.backend.rooms;
  if (!r) throw new Error('group chat is not available yet in this build');
  return r;
}

function needRoom(app: ChatApp): string {
  const room = app.currentRoom();
  if (!room) throw new Error('this command works in a room window');
  return room;
}

/** "1.5 MB (1500000 bytes)". */
function sizeText(n: number): string {
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = '';
  for (const unit of units) {
    if (v < 1000) break;
    v /= 1000;
    u = unit;
  }
  return u === '' ? `${n} bytes` : `${v.toFixed(1)} ${u} (${n} bytes)`;
}

const SHOWS = new Set(['online', 'chat', 'away', 'xa', 'dnd', 'invisible']);

/** "42% (4200/10000 bytes)", or the bytes alone when the total is unknown. */
function progress(done: number, total: number | undefined): string {
  return total
    ? `${Math.floor((done / Math.max(1, total)) * 100)}% (${done}/${total} bytes)`
    : `${done} bytes`;
}

/** One handler per slash command of the table (commands.ts). */
export const HANDLERS: Record<string, Handler> = {
  msg(app, args) {
    const [to] = words(args);
    if (!to) throw new Error('usage: /msg JID|NICK [TEXT]');
    const room = app.currentRoom();
    if (room !== undefined && !to.includes('@')) {
      // An occupant of this room: a private window room/nick (XEP-0045 7.5).
      const occupants = app.backend.rooms?.occupants(room) ?? [];
      const nick =
        occupants.find((o) => o.nick === to)?.nick ??
        occupants.find((o) => o.nick.toLowerCase() === to.toLowerCase())?.nick;
      if (nick === undefined) throw new Error(`nobody called ${to} in ${room}`);
      app.switchTo(app.windowFor('chat', `${room}/${nick}`));
      const text = rest(args, 1);
      if (text !== '') return app.say(text);
      return;
    }
    const target = needJid(app, to, '/msg JID');
    const bare = bareOf(target);
    const isRoomPm = app.backend.rooms?.joined().some((r) => r.toLowerCase() === bare.toLowerCase()) ?? false;
    const i = app.windowFor('chat', isRoomPm ? target : bare);
    app.switchTo(i);
    const text = rest(args, 1);
    if (text !== '') return app.say(text);
  },
  me(app, args) {
    if (args === '') throw new Error('usage: /me ACTION');
    return app.say(`/me ${args}`);
  },
  async correct(app, args) {
    const peer = app.current.kind === 'chat' ? app.current.jid : undefined;
    if (!peer) throw new Error('/correct works in a chat window');
    const last = app.lastSent(peer);
    if (!last) throw new Error('nothing to correct here yet');
    if (args === '') throw new Error('usage: /correct TEXT');
    const sent = await app.backend.correct(last.id, args);
    const action = args.startsWith('/me ');
    last.entry.text = action ? args.slice(4) : args;
    last.entry.kind = action ? 'action' : 'message';
    last.entry.edited = true;
    app.registerSent(sent.id, last.entry);
  },
  async status(app, args) {
    const [show, ...text] = words(args);
    if (!show || !SHOWS.has(show)) throw new Error('usage: /status online|chat|away|xa|dnd|invisible [TEXT]');
    const status = text.length > 0 ? rest(args, 1) : undefined;
    await app.backend.setPresence(show as Show | 'online' | 'invisible', status);
    app.info(`You are ${show}${status ? `: ${status}` : ''}.`);
  },
  async add(app, args) {
    const [j] = words(args);
    const jid = needJid(app, j, '/add JID [NAME]');
    const name = rest(args, 1) || undefined;
    await app.backend.addContact(jid, name);
    app.info(`Added ${jid}${name ? ` as ${name}` : ''} and asked to see their presence.`);
  },
  async remove(app, args) {
    const jid = needJid(app, words(args)[0], '/remove JID');
    await app.backend.removeContact(jid);
    app.info(`Removed ${jid} from your contacts.`);
  },
  async approve(app, args) {
    const jid = needJid(
      app,
      words(args)[0] ?? (app.requests.length === 1 ? app.requests[0] : undefined),
      '/approve JID',
    );
    await app.backend.approve(jid);
    app.requests.splice(0, app.requests.length, ...app.requests.filter((r) => r !== jid));
    app.info(`${jid} may see your presence now.`);
  },
  async deny(app, args) {
    const jid = needJid(
      app,
      words(args)[0] ?? (app.requests.length === 1 ? app.requests[0] : undefined),
      '/deny JID',
    );
    await app.backend.deny(jid);
    app.requests.splice(0, app.requests.length, ...app.requests.filter((r) => r !== jid));
    app.info(`Refused ${jid}.`);
  },
  async block(app, args) {
    const [j] = words(args);
    if (!j && !app.currentPeer()) {
      const list = await app.backend.blocklist();
      app.info(list.length === 0 ? 'Nobody is blocked.' : `Blocked: ${list.map((j) => clean(j)).join(', ')}`);
      return;
    }
    const jid = needJid(app, j, '/block JID');
    await app.backend.block(jid);
    app.info(`Blocked ${jid}: no messages or presence from them, they do not see you.`);
  },
  async unblock(app, args) {
    const jid = needJid(app, words(args)[0], '/unblock JID');
    await app.backend.unblock(jid);
    app.info(`Unblocked ${jid}.`);
  },
  async vcard(app, args) {
    const [j] = words(args);
    const card = await app.backend.vcard(j);
    const who = j ?? 'you';
    if (!card || Object.keys(card).length === 0) {
      app.info(`No vCard for ${who}.`);
      return;
    }
    const lines = Object.entries(card).map(([k, v]) => `  ${clean(k)}: ${clean(v)}`);
    app.info(`vCard of ${who}:\n${lines.join('\n')}`);
  },
  async join(app, args) {
    const rooms = roomsOf(app);
    const [spec, password] = words(args);
    if (!spec) throw new Error('usage: /join ROOM[/NICK] [PASSWORD]');
    const room = bareOf(spec);
    const nick = resourceOf(spec) ?? app.nick;
    const i = app.windowFor('room', room);
    app.switchTo(i);
    app.info(`Joining ${room} as ${nick}...`);
    await rooms.join(room, nick, password);
  },
  async part(app, args) {
    const rooms = roomsOf(app);
    const [first] = words(args);
    const room = first?.includes('@') ? first : needRoom(app);
    const reason = first?.includes('@') ? rest(args, 1) : args;
    await rooms.leave(room, reason || undefined);
    app.info(`Left ${room}.`);
  },
  async nick(app, args) {
    const rooms = roomsOf(app);
    const room = needRoom(app);
    if (args === '') throw new Error('usage: /nick NICK');
    await rooms.setNick(room, args);
  },
  async invite(app, args) {
    const rooms = roomsOf(app);
    const room = needRoom(app);
    const jid = needJid(app, words(args)[0], '/invite JID');
    await rooms.invite(room, jid, rest(args, 1) || undefined);
    app.info(`Invited ${jid} to ${room}.`);
  },
  async topic(app, args) {
    const rooms = roomsOf(app);
    const room = needRoom(app);
    if (args === '') {
      app.info(`Subject: ${rooms.subject(room) ?? '(none)'}`);
      return;
    }
    await rooms.setSubject(room, args);
  },
  async kick(app, args) {
    const rooms = roomsOf(app);
    const room = needRoom(app);
    const [nick] = words(args);
    if (!nick) throw new Error('usage: /kick NICK [REASON]');
    await rooms.kick(room, nick, rest(args, 1) || undefined);
  },
  async ban(app, args) {
    const rooms = roomsOf(app);
    const room = needRoom(app);
    const [who] = words(args);
    if (!who) throw new Error('usage: /ban NICK|JID [REASON]');
    const occupant = rooms.occupants(room).find((o) => o.nick === who);
    const jid = who.includes('@') ? who : occupant?.jid ? bareOf(occupant.jid) : undefined;
    if (!jid) throw new Error(`the real JID of ${who} is not visible here: /ban JID`);
    await rooms.ban(room, jid, rest(args, 1) || undefined);
  },
  async upload(app, args) {
    const files = app.backend.files;
    if (!files) throw new Error('file upload is not available yet in this build');
    if (args === '') throw new Error('usage: /upload FILE');
    const name = args.slice(args.lastIndexOf('/') + 1);
    const url = await files.upload(args, (done, total) => {
      app.hint = `uploading ${name}: ${progress(done, total)}`;
      app.scheduleRender();
    });
    app.hint = undefined;
    app.info(`Uploaded ${name}: ${url}`);
    if (app.current.kind === 'chat' || app.current.kind === 'room') await app.say(url, url);
  },
  async offer(app, args) {
    const files = app.backend.files;
    if (!files) throw new Error('file offers are not available yet in this build');
    const [file, to] = words(args);
    if (!file) throw new Error('usage: /offer FILE [JID]');
    const target = needJid(
      app,
      to ?? (app.current.kind === 'chat' ? app.current.jid : undefined),
      '/offer FILE JID',
    );
    const name = file.slice(file.lastIndexOf('/') + 1);
    app.info(`Offering ${name} to ${target}; waiting for the answer...`);
    const ok = await files.offer(file, target, (done, total) => {
      app.hint = `${target} downloads ${name}: ${progress(done, total)}`;
      app.scheduleRender();
    });
    app.hint = undefined;
    app.info(ok ? `${target} accepted ${name}.` : `${target} refused ${name}.`);
  },
  async accept(app, args) {
    const files = app.backend.files;
    if (!files) throw new Error('file offers are not available yet in this build');
    const { offer, peer } = app.takeOffer(words(args)[0]);
    const name = clean(offer.name);
    const dir = app.downloadDir;
    const i = app.windowFor('chat', peer);
    app.add(i, { kind: 'info', at: app.at(), text: `Downloading ${name} from ${clean(offer.from)}...` });
    try {
      const r = await files.accept(offer.id, dir, (done, total) => {
        app.hint = `downloading ${name}: ${progress(done, total)}`;
        app.scheduleRender();
      });
      app.add(app.windowFor('chat', peer), {
        kind: 'info',
        at: app.at(),
        text: `Saved ${name} (${sizeText(r.size)}) as ${clean(r.path)}`,
      });
    } finally {
      app.hint = undefined;
    }
  },
  decline(app, args) {
    const files = app.backend.files;
    if (!files) throw new Error('file offers are not available yet in this build');
    const { offer, peer } = app.takeOffer(words(args)[0]);
    files.decline(offer.id, 'not-acceptable');
    app.add(app.windowFor('chat', peer), {
      kind: 'info',
      at: app.at(),
      text: `Declined ${clean(offer.name)} from ${clean(offer.from)}.`,
    });
  },
  async history(app, args) {
    const h = app.backend.history;
    if (!h) throw new Error('history is not available yet in this build (no local store)');
    const peer = app.current.kind === 'console' || app.current.kind === 'xml' ? undefined : app.current.jid;
    if (!peer) throw new Error('/history works in a conversation window');
    const n = Number(words(args)[0] ?? '20');
    const list = await h.recent(peer, Number.isFinite(n) && n > 0 ? n : 20);
    app.info(`Last ${list.length} messages with ${peer}:`);
    for (const m of list) {
      app.add(app.active, {
        kind: 'message',
        at: m.at,
        from: m.outgoing ? app.nick : m.from,
        colourKey: m.outgoing ? app.backend.account : m.from,
        text: m.body,
        delayed: true,
      });
    }
  },
  xmlconsole(app) {
    app.switchTo(app.windowFor('xml', 'xmlconsole'));
  },
  win(app, args) {
    const n = Number(args);
    if (args === '') {
      app.info(app.windows.map((w, i) => `${i + 1}: ${windowName(w)}`).join('\n'));
      return;
    }
    if (!Number.isInteger(n) || n < 1 || n > app.windows.length) throw new Error(`no window ${args}`);
    app.switchTo(n - 1);
  },
  close(app) {
    if (app.active === 0) throw new Error('the console stays');
    const w = app.current;
    if (w.kind === 'room' && app.backend.rooms?.joined().includes(w.jid)) void app.backend.rooms.leave(w.jid);
    app.windows.splice(app.active, 1);
    app.switchTo(Math.min(app.active, app.windows.length - 1));
  },
  clear(app) {
    app.current.entries.length = 0;
    app.current.scroll = 0;
  },
  connect(app) {
    if (app.connectionState() === 'online') throw new Error('already online');
    return app.connect();
  },
  help(app, args) {
    if (args !== '') {
      const c = findCommand(args.replace(/^\//, ''));
      if (!c) throw new Error(`no command ${args}`);
      app.info(`/${c.name} ${c.args}\n  ${c.summary}`);
      return;
    }
    const width = Math.max(...SLASH_COMMANDS.map((c) => `/${c.name} ${c.args}`.length));
    const cmds = SLASH_COMMANDS.map((c) => `  ${`/${c.name} ${c.args}`.padEnd(width)}  ${c.summary}`);
    const keys = KEYS.map(([k, d]) => `  ${k.padEnd(24)}${d}`);
    app.info(`Commands:\n${cmds.join('\n')}\nKeys:\n${keys.join('\n')}\nText starting with // sends one /.`);
  },
  quit(app, args) {
    return app.quit(args || undefined);
  },
};
