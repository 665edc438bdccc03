/**
 * The full-screen client's adapter over the library's public API (the only file of chat/ that
 * knows `createClient`): the roster model (`client.roster` events, RFC 6121 2-3), contacts'
 * presence (`client.presence` 'contact' events), auto-away from the keyboard's idle time
 * (`presence.autoAway` + `idleSource`, XEP-0319 idle since), messages with receipts (XEP-0184),
 * chat states (XEP-0085), corrections (XEP-0308) and carbons (XEP-0280, shown as ours), the
 * connection's life (`status`, `reconnecting` with its delay: the countdown), the redacted wire
 * log (`debug` sink) for /xmlconsole, and blocking (XEP-0191) and vCards (XEP-0054).
 *
 * Group chat goes through `client.muc` (library-rooms.ts), files through `client.files`
 * (XEP-0363 upload, XEP-0066 offers with the one-file server), the history and the durable
 * session state through the CLI's SQLite store (store/attach.ts) when a data dir is given.
 */
import { mkdir } from 'node:fs/promises';
import {
  type Client,
  createClient,
  fileNameFromUrl,
  fileSource,
  type OobOffer,
  StanzaError,
  TlsCertificateError,
} from 'confab';
import type { ResolvedAccount } from '../account.ts';
import { vcardFields } from '../library.ts';
import { connectionOptions } from '../library-connection.ts';
import { type AccountStorage, openAccountStorage } from '../store/attach.ts';
import type { CliHistory } from '../store/types.ts';
import {
  type BackendEvents,
  type ChatBackend,
  type ConnState,
  type Contact,
  Events,
  type FilesBackend,
  type HistoryBackend,
  type InMessage,
  type OwnPresenceView,
  type Show,
} from './backend.ts';
import { LibraryRooms } from './library-rooms.ts';

export interface LibraryBackendOptions {
  account: ResolvedAccount;
  password: string;
  /** Seconds of keyboard idleness before away / xa (0 or less: no auto-away). */
  awayAfter: number;
  xaAfter: number;
  /** Seconds since the user last pressed a key. */
  idleSeconds: () => number;
  /** How many of the newest archived messages a first start fetches (default 50). */
  archiveOnStart?: number;
  /**
   * The CLI's data dir (store/): the account's SQLite database keeps the history, the outbox,
   * the stream-management session and the archive position, so a restart resumes. Without it,
   * everything lives in memory.
   */
  dataDir?: string | undefined;
}

export { TlsCertificateError };

export class LibraryBackend implements ChatBackend {
  readonly #o: LibraryBackendOptions;
  readonly #events = new Events<BackendEvents>();
  #client: Client | undefined;
  #pin: string | undefined;
  readonly rooms: LibraryRooms;
  readonly files: FilesBackend;
  readonly history: HistoryBackend;
  #storage: AccountStorage | undefined;
  /** Inbound file offers waiting for the user's answer, by our id. */
  readonly #offers = new Map<string, OobOffer>();
  #offerSeq = 0;
  #recorded: CliHistory | undefined;

  constructor(o: LibraryBackendOptions) {
    this.#o = o;
    this.#pin = o.account.pin;
    // A bug in a listener of the client's must not end the session: it is shown instead.
    let reporting = false;
    this.#events.onError = (err) => {
      if (reporting) return;
      reporting = true;
      try {
        this.#events.emit('problem', { text: `internal error: ${(err as Error)?.stack ?? String(err)}` });
      } finally {
        reporting = false;
      }
    };
    this.rooms = new LibraryRooms(() => this.#c(), this.#events);
    this.history = {
      recent: async (peer, limit) => {
        const h = this.#recorded;
        if (!h) throw new Error('no history: the database could not be opened (see the console)');
        return h.store.history(h.account, peer, { limit }).map((m) => ({
          from: m.from ?? m.peer,
          body: m.body ?? '(retracted)',
          at: m.timestamp,
          outgoing: m.direction === 'out',
        }));
      },
    };
    this.files = {
      upload: async (path, onProgress) => {
        const up = await this.#c().files.upload(await fileSource(path), {
          onProgress: (p) => onProgress(p.transferred, p.total),
        });
        return up.get;
      },
      offer: async (path, to, onProgress) => {
        let target = to;
        if (!to.includes('/')) {
          const best = this.contact(to)?.resources[0];
          if (!best) throw new Error(`${to} is not online: an offer goes to one of their clients`);
          target = best;
        }
        try {
          await this.#c().files.offerFile(target, path, {
            onProgress: (p) => onProgress(p.transferred, p.total),
          });
          return true;
        } catch (err) {
          if (err instanceof StanzaError && err.condition === 'not-acceptable') return false;
          throw err;
        }
      },
      offerSize: async (id) => {
        const o = this.#offers.get(id);
        return o ? this.#c().files.announcedSize(o.url, { signal: AbortSignal.timeout(5000) }) : undefined;
      },
      accept: async (id, dir, onProgress) => {
        const o = this.#offers.get(id);
        if (!o || o.answered) throw new Error('that offer is no longer open');
        this.#offers.delete(id);
        await mkdir(dir, { recursive: true });
        const r = await o.accept({ dir, onProgress: (p) => onProgress(p.transferred, p.total) });
        return { path: r.path ?? '', size: r.size };
      },
      decline: (id, condition) => {
        const o = this.#offers.get(id);
        this.#offers.delete(id);
        o?.reject(condition ?? 'not-acceptable');
      },
    };
  }

  get account(): string {
    return this.#o.account.jid;
  }

  get jid(): string | undefined {
    return this.#client?.jid;
  }

  get status(): ConnState {
    return this.#client?.status ?? 'offline';
  }

  /** Trust this SPKI pin from now on (trust on first use); takes effect at the next connect. */
  pin(pin: string): void {
    this.#pin = pin;
    this.#client = undefined;
  }

  on<K extends keyof BackendEvents>(event: K, listener: (e: BackendEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  #c(): Client {
    if (!this.#client) this.#client = this.#create();
    return this.#client;
  }

  #create(): Client {
    const a = this.#o.account;
    const ev = this.#events;
    const away = this.#o.awayAfter;
    const xa = Math.max(this.#o.xaAfter, away);
    // A new client (after pinning a certificate) gets the database afresh: one recorder per client.
    this.#storage?.close();
    this.#storage =
      this.#o.dataDir === undefined
        ? undefined
        : openAccountStorage(this.#o.dataDir, a.jid, (text) => ev.emit('problem', { text }));
    const client = createClient({
      ...connectionOptions(a),
      password: this.#o.password,
      // The pin the user accepted in this run (trust on first use) wins over the config's.
      tls: { caFile: a.ca, pin: this.#pin },
      presence:
        away > 0
          ? {
              autoAway: { away, xa },
              idleSource: this.#o.idleSeconds,
              // Poll often enough that a short threshold (tests) is noticed within a third of it.
              pollInterval: Math.max(250, Math.min(15_000, (away * 1000) / 3)),
            }
          : { autoAway: false },
      reconnect: true,
      // With no archive position stored yet (a first start, or a second process of the account
      // without the database lease) the chat starts with the newest archived messages: what
      // came while it was not running is in the archive (XEP-0313). Otherwise the library
      // catches up from the stored position.
      mam: { fresh: { last: this.#o.archiveOnStart ?? 50 } },
      store: this.#storage?.store,
      debug: (line: string) => ev.emit('wire', { line }),
    });
    client.on('status', (state) => {
      if (state !== 'reconnecting') ev.emit('status', { state });
    });
    client.on('online', (e) => ev.emit('status', { state: 'online', resumed: e.resumed }));
    client.on('reconnecting', (e) =>
      ev.emit('status', {
        state: 'reconnecting',
        retryAt: Date.now() + e.delay,
        attempt: e.attempt,
        error: e.error?.message,
      }),
    );
    client.on('offline', (e) => ev.emit('status', { state: 'offline', error: e.error?.message }));
    client.on('error', (e) => ev.emit('problem', { text: e.message }));
    client.on('message', (m) => {
      // Corrections, pure chat states and receipts come as their own events; a correction's
      // message must not show twice.
      if (m.replace !== undefined || m.retract !== undefined) return;
      if (m.body === undefined && m.subject === undefined && m.oob.length === 0 && m.type !== 'error') return;
      const msg: InMessage = {
        from: m.from,
        to: m.to,
        id: m.id,
        type: m.type,
        body: m.body,
        subject: m.subject,
        thread: m.thread,
        delay: m.delay?.stamp,
        oob: m.oob.map((o) => ({ url: o.url, desc: o.desc })),
        outgoing: m.outgoing,
        archived: m.source === 'archive',
        error: m.error ? `${m.error.condition}${m.error.text ? `: ${m.error.text}` : ''}` : undefined,
      };
      ev.emit('message', msg);
    });
    client.on('messageAcked', (e) => ev.emit('delivery', { id: e.id, state: 'acked' }));
    client.on('messageFailed', (e) =>
      ev.emit('delivery', { id: e.id, state: 'failed', error: e.error.message }),
    );
    const msgs = client.messages;
    msgs.on('receipt', (e) => ev.emit('delivery', { id: e.id, state: 'received' }));
    msgs.on('chatState', (e) => ev.emit('chatState', { from: e.from, state: e.state }));
    msgs.on('correction', (e) => {
      if (e.verified && e.body !== undefined)
        ev.emit('correction', { id: e.id, from: e.message.from, body: e.body });
    });
    // File offers (XEP-0066 iq form): the app decides (strangers are refused there). The library
    // refuses one nobody answers within its decision timeout, and drops them when the stream ends.
    client.files.on('offer', (o) => {
      const id = String(++this.#offerSeq);
      this.#offers.set(id, o);
      if (this.#offers.size > 100) this.#offers.delete(this.#offers.keys().next().value!);
      ev.emit('offer', { id, from: o.from, url: o.url, name: fileNameFromUrl(o.url, 'file'), desc: o.desc });
    });
    // Direct (XEP-0249) and mediated (XEP-0045 7.8.2) invitations, both from the MUC feature.
    client.muc.on('invite', (e) =>
      ev.emit('invitation', { from: e.from ?? e.room, room: e.room, reason: e.reason, password: e.password }),
    );
    // Rooms the library joins by itself: bookmarks with autojoin (on by default: this client
    // passes no `bookmarks` option, unlike the one-shot commands' session), after each login and
    // when a bookmark arrives from another of our clients. The bookmarks feature calls
    // `muc.join` right after a fresh list (`change`) or a new bookmark (`set`), and the Room
    // exists long before the room answers (a disco round trip comes first), so adopting on the
    // next macrotask wires it early enough to see the occupants, history and subject; `joined`
    // catches any other room the library joined (idempotent: wired rooms are skipped).
    const adoptSoon = () => void setTimeout(() => this.rooms.adoptAll(), 0);
    client.bookmarks.on('change', adoptSoon);
    client.bookmarks.on('set', adoptSoon);
    client.muc.on('joined', (room) => this.rooms.adopt(room));
    client.bookmarks.on('autojoin', (e) => {
      if (e.error)
        ev.emit('problem', { text: `Could not join ${e.bookmark.jid} (bookmarked): ${e.error.message}` });
    });
    const r = client.roster;
    const changed = () => ev.emit('contacts', undefined);
    r.on('added', changed);
    r.on('updated', changed);
    r.on('removed', changed);
    r.on('loaded', changed);
    r.on('request', (q) => ev.emit('request', { from: q.from, status: q.status, nick: q.nick }));
    for (const type of ['subscribed', 'unsubscribed', 'unsubscribe'] as const) {
      r.on(type, (e) => ev.emit('subscription', { from: e.from, type }));
    }
    client.presence.on('contact', changed);
    // Every message sent or received goes into the history, archive results too (store/recorder.ts).
    this.#recorded = this.#storage?.attach(client);
    return client;
  }

  async connect(): Promise<void> {
    await this.#c().connect();
  }

  async disconnect(): Promise<void> {
    try {
      await this.#client?.disconnect();
    } finally {
      this.#storage?.close();
      this.#storage = undefined;
    }
  }

  contacts(): Contact[] {
    const c = this.#client;
    if (!c) return [];
    return [...c.roster.items()].map((it) => this.#contact(c, it.jid)!).filter(Boolean);
  }

  contact(jid: string): Contact | undefined {
    const c = this.#client;
    return c ? this.#contact(c, jid) : undefined;
  }

  #contact(c: Client, jid: string): Contact | undefined {
    let it: ReturnType<Client['roster']['get']>;
    let p: ReturnType<Client['presence']['contact']>;
    try {
      it = c.roster.get(jid);
      p = c.presence.contact(jid);
    } catch {
      return undefined;
    }
    if (!it) return undefined;
    return {
      jid: it.jid,
      name: it.name,
      groups: it.groups,
      subscription: it.subscription,
      pending: it.pending,
      available: p?.available ?? false,
      show: p?.best?.show,
      status: p?.best?.status,
      resources: p?.resources.map((x) => x.jid) ?? [],
    };
  }

  async addContact(jid: string, name?: string): Promise<void> {
    const c = this.#c();
    await c.roster.set(jid, name === undefined ? {} : { name });
    await c.roster.subscribe(jid);
  }

  async removeContact(jid: string): Promise<void> {
    await this.#c().roster.remove(jid);
  }

  async approve(jid: string): Promise<void> {
    const c = this.#c();
    await c.roster.approve(jid);
    // Ask back, unless we already see them or asked (profanity's /sub allow does the same on request).
    const it = c.roster.get(jid);
    if (!it || (it.subscription !== 'to' && it.subscription !== 'both' && !it.pending))
      await c.roster.subscribe(jid);
  }

  async deny(jid: string): Promise<void> {
    await this.#c().roster.deny(jid);
  }

  own(): OwnPresenceView {
    const c = this.#client;
    if (!c) return { show: undefined, status: undefined, auto: false, invisible: false };
    const own = c.presence.own;
    const show = c.presence.currentShow as Show | undefined;
    return { show, status: own.status, auto: show !== own.show, invisible: own.mode === 'invisible' };
  }

  async setPresence(show: Show | 'online' | 'invisible', status: string | undefined): Promise<void> {
    const p = this.#c().presence;
    if (show === 'invisible') await p.invisible();
    else await p.set({ show: show === 'online' ? undefined : show, status });
  }

  async sendMessage(
    to: string,
    body: string,
    o: { type?: 'chat' | 'normal'; subject?: string; oob?: string } = {},
  ): Promise<{ id: string; queued: boolean }> {
    const sent = await this.#c().messages.send({
      to,
      body,
      type: o.type ?? 'chat',
      subject: o.subject,
      oob: o.oob === undefined ? undefined : [{ url: o.oob }],
      receipt: (o.type ?? 'chat') === 'chat',
    });
    return { id: sent.id, queued: sent.status === 'queued' };
  }

  async correct(id: string, body: string): Promise<{ id: string }> {
    const sent = await this.#c().messages.correct(id, body);
    return { id: sent.id };
  }

  chatState(to: string, state: 'active' | 'composing' | 'paused' | 'inactive'): void {
    const c = this.#client;
    if (c?.status !== 'online') return;
    try {
      c.messages.chatState(to, state);
    } catch {
      // A malformed JID in a window name: nothing to tell.
    }
  }

  async block(jid: string): Promise<void> {
    await this.#c().blocking.block(jid);
  }

  async unblock(jid: string): Promise<void> {
    await this.#c().blocking.unblock([jid]);
  }

  blocklist(): Promise<string[]> {
    return this.#c().blocking.list();
  }

  async vcard(jid: string | undefined): Promise<Record<string, string> | undefined> {
    const card = await this.#c().vcard.get(jid);
    if (!card) return undefined;
    return flatten(vcardFields(card));
  }
}

/** `{ email: [{ userid }], n: { given } }` as `email: userid`, `n.given: ...` lines. */
function flatten(v: Record<string, unknown>, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    const key = prefix + k;
    if (val === undefined || val === null) continue;
    if (Array.isArray(val)) {
      val.forEach((x, i) => {
        if (x && typeof x === 'object') {
          const o = x as Record<string, unknown>;
          const main = o.userid ?? o.number;
          if (typeof main === 'string') out[val.length > 1 ? `${key}[${i + 1}]` : key] = main;
          else Object.assign(out, flatten(o, `${key}.`));
        } else out[key] = String(x);
      });
    } else if (typeof val === 'object') {
      if (k === 'photo') {
        const ph = val as { type?: string; binval?: string; extval?: string };
        out.photo =
          ph.extval ?? `${ph.type ?? 'image'}, ${Math.round(((ph.binval?.length ?? 0) * 3) / 4)} bytes`;
      } else Object.assign(out, flatten(val as Record<string, unknown>, `${key}.`));
    } else out[key] = String(val);
  }
  return out;
}
