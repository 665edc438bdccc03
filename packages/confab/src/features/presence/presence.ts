/**
 * Presence: what we tell our contacts and what we know about theirs.
 *
 * Specs:
 * - RFC 6121 (March 2011) 4 "Exchanging Presence Information": initial presence (4.2),
 *   updates (4.4), unavailable (4.5), directed presence (4.6), syntax (4.7); 4.7.2.3
 *   priority (-128..127; the best resource is the one the server would pick, 8.5.2.1.1).
 * - XEP-0186 0.13 "Invisible Command" (`urn:xmpp:invisible:0`), used only where the server
 *   says so in disco#info (XEP-0030 1.0 is only asked, never answered here).
 * - XEP-0352 1.0 "Client State Indication": `<inactive/>` / `<active/>` when the stream
 *   feature `urn:xmpp:csi:0` was offered.
 * - XEP-0319 1.0 "Last User Interaction in Presence": `<idle since/>` while auto-away.
 * - XEP-0203 1.0 / XEP-0091 1.4 delay, XEP-0027 1.4 signed/encrypted payloads: read (codec.ts).
 *
 * What "invisible" does here, plainly: with a server that offers XEP-0186, `invisible()`
 * asks the server to hide us (we stay reachable at our full JID and keep receiving
 * messages sent to the bare JID). Neither Prosody 0.12 nor ejabberd 23 offers it. Then
 * `invisible()` rejects with ERR_UNSUPPORTED, unless the app passes
 * `{ fallback: 'unavailable' }`: that sends unavailable presence, the seed's "invisible",
 * with its cost: the server then treats this resource as offline, so messages to the bare
 * JID are no longer delivered to it (they go to other resources or offline storage), and
 * contacts' presence updates stop too. The caller is told which one happened.
 *
 * Design: the library keeps the user's own choice (`own`) apart from what is on the wire
 * (`current`): auto-away and invisibility change the latter and restore the former.
 * Incoming presence is kept per contact as one small list of resources, best first (a
 * contact has one to three resources, so re-ranking it on a change is cheaper than any
 * index), replaced rather than changed in place so a list handed out stays as it was. The
 * record per resource is compact, because a roster of thousands keeps thousands of them
 * (bench/roster.ts): the fields the API shows, strings detached from the parsed text
 * (util/strings.ts), a number for the time received, and no stanza (the raw `<presence/>` goes
 * with the `resource` event for those who read extensions, then is let go). The per-contact
 * view is made when asked for, from that list.
 * Subscription presences (subscribe, subscribed, ...) belong to the roster feature and
 * are ignored here; probes are the server's business and ignored too.
 */
import type { Client } from '../../client.ts';
import { ConfabError, type StanzaError } from '../../errors.ts';
import { type Emitter, featureEmitter, rethrowLater } from '../../events.ts';
import { type BareJid, bare, domainOf, type Jid, resourceOf, jid as toJid } from '../../jid.ts';
import { detach } from '../../util/strings.ts';
import type { Element } from '../../xml/element.ts';
import { xml } from '../../xml/element.ts';
import {
  buildPresence,
  csiElement,
  type Delay,
  invisibleElement,
  isUserAction,
  NS_CSI,
  NS_INVISIBLE,
  type OutgoingPresence,
  type PresenceStanza,
  parsePresenceStanza,
  SHOWS,
  type Show,
  visibleElement,
} from './codec.ts';

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';

/** The part of the Client this feature uses (so tests and other hosts can supply it). */
export type PresenceHost = Pick<Client, 'on' | 'send' | 'iq' | 'jid' | 'status' | 'streamFeatures'>;

/** What the user chose to be: the state auto-away and invisibility return to. */
export interface OwnPresence {
  /** 'available' (with show/status/priority), 'unavailable', or 'invisible'. */
  mode: 'available' | 'unavailable' | 'invisible';
  show: Show | undefined;
  status: string | undefined;
  /** Default 0. */
  priority: number;
}

/** One resource of a contact (or of our own account), as last heard. */
export interface ResourcePresence {
  /** The full JID (or the bare JID when the contact sent presence without a resource). */
  jid: Jid;
  /** The resource ('' when none). */
  resource: string;
  show: Show | undefined;
  status: string | undefined;
  priority: number;
  /** XEP-0203 / XEP-0091: when the status was set, if the server said (e.g. at login). */
  delay: Delay | undefined;
  /** XEP-0319: when the user last interacted with that client. */
  idleSince: Date | undefined;
  /** XEP-0027 payloads, unverified and not decrypted. */
  signed: string | undefined;
  encrypted: string | undefined;
  /** When we received it (milliseconds since the epoch, as `Date.now()`). */
  receivedAt: number;
}

/** The per-contact view: what a buddy list shows. */
export interface ContactPresence {
  jid: BareJid;
  /** At least one resource is available. */
  available: boolean;
  /** The resource to show (and to talk to): highest priority, then show rank, then newest. */
  best: ResourcePresence | undefined;
  /** Every available resource, best first. */
  resources: readonly ResourcePresence[];
}

/** A presence error (RFC 6120 8.3 in a `<presence type='error'/>`). */
export interface PresenceErrorEvent {
  /** Who the error is about (the address our presence went to). */
  from: Jid | undefined;
  error: StanzaError;
  stanza: PresenceStanza;
}

/** One resource came, changed or went. */
export interface ResourceEvent {
  jid: Jid;
  bare: BareJid;
  /** The resource now; undefined when it went unavailable. */
  presence: ResourcePresence | undefined;
  /** What we had before; undefined when it is new. */
  previous: ResourcePresence | undefined;
  /**
   * The `<presence/>` that made this change (caps, vCard hash and other extensions); not kept
   * in the model, read it here. Undefined when the change came from no stanza (our session
   * ended).
   */
  element: Element | undefined;
}

export interface PresenceEvents {
  /** Per full JID. */
  resource: ResourceEvent;
  /** The per-contact view of the contact that changed (after `resource`). */
  contact: ContactPresence;
  /** A presence error came back. */
  error: PresenceErrorEvent;
}

/** Auto-away thresholds in seconds of idle time (XEP-0319 idle time is sent along). */
export interface AutoAwayOptions {
  /** Seconds idle before `away`. Default 300. */
  away: number;
  /** Seconds idle before `xa`. Default 900. */
  xa: number;
  /** Status text while auto-away; default: keep the user's own text. */
  awayStatus?: string | undefined;
  xaStatus?: string | undefined;
}

export interface PresenceOptions {
  /**
   * Send our presence when a new session comes online (the initial presence, RFC 6121
   * 4.2), in the user's last chosen state. Default true. A resumed stream (XEP-0198)
   * keeps its presence and sends nothing.
   */
  initial?: boolean | undefined;
  /** Initial own state (default: available, priority 0). */
  own?: Partial<OwnPresence> | undefined;
  /** Auto-away from the app's idle time; `false` switches it off. Default on with 300/900 s. */
  autoAway?: Partial<AutoAwayOptions> | false | undefined;
  /**
   * Where idle seconds come from, polled every `pollInterval` ms while online. Without
   * it the app calls `setIdle(seconds)` itself.
   */
  idleSource?: (() => number | Promise<number>) | undefined;
  /** Default 15 000. */
  pollInterval?: number | undefined;
}

export interface PresenceDeps {
  client: PresenceHost;
  options?: PresenceOptions | undefined;
  /** Clock (tests). */
  now?: (() => number) | undefined;
  timers?:
    | {
        setInterval(fn: () => void, ms: number): unknown;
        clearInterval(handle: unknown): void;
      }
    | undefined;
  /** Where a throwing listener or a failing idle source is reported (the client's `error`). */
  onError?: ((err: ConfabError) => void) | undefined;
  /**
   * The initial presence waits for this (the composition root passes the roster's
   * `requested()`, so the roster get goes first: RFC 6121 2.2).
   */
  initialAfter?: (() => Promise<unknown>) | undefined;
}

/** Rank of `show` for the best-resource choice: higher is better. */
const SHOW_RANK: Record<string, number> = {
  chat: 5,
  available: 4,
  // A dnd user is at the device, only busy: more likely to see a message than one away.
  dnd: 3,
  away: 2,
  xa: 1,
};

/** Order resources: best first (priority, show rank, newest). */
export function compareResources(a: ResourcePresence, b: ResourcePresence): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const ra = SHOW_RANK[a.show ?? 'available']!;
  const rb = SHOW_RANK[b.show ?? 'available']!;
  if (ra !== rb) return rb - ra;
  return b.receivedAt - a.receivedAt;
}

type AutoLevel = 'active' | 'away' | 'xa';

/**
 * The presence feature (`client.presence`).
 *
 * @example
 * await client.presence.set({ show: 'away', status: 'At lunch' });
 * client.presence.on('contact', (c) => console.log(c.jid, c.available ? c.best?.show ?? 'online' : 'offline'));
 */
export class PresenceManager {
  readonly #client: PresenceHost;
  readonly #events: Emitter<PresenceEvents>;
  readonly #now: () => number;
  readonly #timers: NonNullable<PresenceDeps['timers']>;
  readonly #onError: (err: ConfabError) => void;
  readonly #initial: boolean;
  readonly #initialAfter: () => Promise<unknown>;
  readonly #auto: AutoAwayOptions | undefined;
  readonly #idleSource: PresenceOptions['idleSource'];
  readonly #pollInterval: number;
  readonly #teardown: Array<() => void> = [];
  readonly #decorators = new Set<(presence: Element) => void>();

  #own: OwnPresence;
  #level: AutoLevel = 'active';
  #idleSince: Date | undefined;
  #inactive = false;
  #csiSent: 'active' | 'inactive' | undefined;
  #invisibleSupport: Promise<boolean> | undefined;
  #lastKey: string | undefined;
  #poll: unknown;
  #polling = false;

  /** Bare JID -> its available resources, best first (never empty; replaced, never mutated). */
  readonly #resources = new Map<BareJid, readonly ResourcePresence[]>();

  constructor(deps: PresenceDeps) {
    const o = deps.options ?? {};
    this.#client = deps.client;
    this.#now = deps.now ?? Date.now;
    this.#timers = deps.timers ?? {
      setInterval: (fn, ms) => setInterval(fn, ms),
      clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
    };
    this.#onError = deps.onError ?? rethrowLater;
    this.#events = featureEmitter<PresenceEvents>('presence', this.#onError);
    this.#initial = o.initial !== false;
    this.#initialAfter = deps.initialAfter ?? (() => Promise.resolve());
    this.#auto = o.autoAway === false ? undefined : { away: 300, xa: 900, ...o.autoAway };
    this.#idleSource = o.idleSource;
    this.#pollInterval = o.pollInterval ?? 15_000;
    this.#own = { mode: 'available', show: undefined, status: undefined, priority: 0, ...o.own };
    checkOwn(this.#own);

    const c = this.#client;
    this.#teardown.push(
      c.on('online', (e) => this.#online(e.resumed)),
      c.on('offline', () => this.#offline()),
      c.on('stanza', (el) => {
        if (el.name === 'presence') this.#inbound(el);
      }),
      c.on('stanzaOut', (el) => {
        // The user wrote a message (isUserAction: not a receipt, chat state or marker the
        // library sent by itself): they are back, whatever the last idle poll said.
        if (el.name === 'message' && this.#level !== 'active' && isUserAction(el, false)) {
          this.setIdle(0).catch((err: unknown) => this.#onError(asError(err)));
        }
      }),
    );
  }

  // ------------------------------------------------------------------ events

  on<K extends keyof PresenceEvents>(event: K, listener: (payload: PresenceEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }
  once<K extends keyof PresenceEvents>(event: K, listener: (payload: PresenceEvents[K]) => void): () => void {
    return this.#events.once(event, listener);
  }
  off<K extends keyof PresenceEvents>(event: K, listener: (payload: PresenceEvents[K]) => void): void {
    this.#events.off(event, listener);
  }

  // ------------------------------------------------------------------ our presence

  /** What the user chose (auto-away and invisibility return to this). */
  get own(): Readonly<OwnPresence> {
    return { ...this.#own };
  }

  /** The show we broadcast now (the user's, or auto-away's). */
  get currentShow(): Show | undefined {
    return this.#effective().show;
  }

  /**
   * Become available with this show and status (both replaced; omitted means none) and
   * broadcast it. `priority` keeps its last value unless given. Sent at once when
   * online, otherwise remembered and sent as the initial presence of the next session.
   * Counts as user activity: ends auto-away.
   *
   * @example
   * await client.presence.set({ show: 'dnd', status: 'In a meeting', priority: 5 });
   */
  async set(
    p: { show?: Show | undefined; status?: string | undefined; priority?: number | undefined } = {},
  ): Promise<void> {
    const next: OwnPresence = {
      mode: 'available',
      show: p.show,
      status: p.status,
      priority: p.priority ?? this.#own.priority,
    };
    checkOwn(next);
    await this.#leaveInvisible();
    this.#own = next;
    this.#level = 'active';
    this.#idleSince = undefined;
    await this.#broadcast(true);
  }

  /** Broadcast unavailable presence (RFC 6121 4.5), staying connected. */
  async unavailable(status?: string): Promise<void> {
    await this.#leaveInvisible();
    this.#own = { ...this.#own, mode: 'unavailable', status };
    await this.#broadcast(true);
  }

  /**
   * Send directed presence to one entity (RFC 6121 4.6): available with the given show,
   * status and priority (default: our current ones), or unavailable.
   */
  async sendTo(
    to: string,
    p: {
      type?: 'available' | 'unavailable';
      show?: Show | undefined;
      status?: string | undefined;
      priority?: number | undefined;
    } = {},
  ): Promise<void> {
    const target = parseTarget(to);
    if (p.type === 'unavailable') {
      await this.#client.send(buildPresence({ type: 'unavailable', to: target, status: p.status }));
      return;
    }
    const e = this.#effective();
    const out: OutgoingPresence = {
      to: target,
      show: 'show' in p ? p.show : e.show,
      status: 'status' in p ? p.status : e.status,
      priority: p.priority ?? this.#own.priority,
    };
    checkOwn({ mode: 'available', show: out.show, status: out.status, priority: out.priority ?? 0 });
    if (out.priority === 0) out.priority = undefined; // the default (RFC 6121 4.7.2.3) goes unsaid
    await this.#client.send(this.#decorate(buildPresence(out)));
  }

  /**
   * Become invisible (XEP-0186) where the server offers it; resolves 'invisible'. Where
   * it does not: rejects with ERR_UNSUPPORTED, or with `fallback: 'unavailable'` sends
   * unavailable presence and resolves 'unavailable' (see the banner for what that costs).
   * `probe` (default true) asks the server to fetch contacts' presence for us.
   */
  async invisible(
    o: { fallback?: 'error' | 'unavailable'; probe?: boolean } = {},
  ): Promise<'invisible' | 'unavailable'> {
    this.#requireOnline();
    if (await this.invisibleSupported()) {
      await this.#client.iq({ type: 'set', payload: invisibleElement(o.probe !== false) });
      this.#own = { ...this.#own, mode: 'invisible' };
      this.#lastKey = 'invisible';
      return 'invisible';
    }
    if (o.fallback === 'unavailable') {
      await this.unavailable();
      return 'unavailable';
    }
    throw new ConfabError(
      'ERR_UNSUPPORTED',
      `${this.#domain()} does not offer invisibility (XEP-0186, ${NS_INVISIBLE}); pass { fallback: 'unavailable' } to send unavailable presence instead (messages to the bare JID then stop reaching this resource)`,
    );
  }

  /** Whether the server offers XEP-0186 (asked once per session with disco#info). */
  invisibleSupported(): Promise<boolean> {
    if (!this.#invisibleSupport) {
      const p = this.#client
        .iq({ type: 'get', to: this.#domain(), payload: xml('query', { xmlns: NS_DISCO_INFO }) })
        .then(
          (r) =>
            r
              .getChild('query', NS_DISCO_INFO)
              ?.getChildren('feature')
              .some((f) => f.attr('var') === NS_INVISIBLE) === true,
        );
      // A failed query is not an answer: ask again next time.
      p.catch(() => {
        if (this.#invisibleSupport === p) this.#invisibleSupport = undefined;
      });
      this.#invisibleSupport = p;
    }
    return this.#invisibleSupport;
  }

  /** Extensions for every available presence we send (caps `<c/>`, vCard update...). */
  addDecorator(fn: (presence: Element) => void): () => void {
    this.#decorators.add(fn);
    return () => this.#decorators.delete(fn);
  }

  /** Re-send our current presence (after a decorator's data changed). */
  resend(): Promise<void> {
    // Nothing announced on this session yet (e.g. `initial: false`): nothing to re-send;
    // re-sending would announce us when the app asked not to.
    if (this.#lastKey === undefined) return Promise.resolve();
    return this.#broadcast(true);
  }

  // ------------------------------------------------------------------ CSI (XEP-0352)

  /** True when the server offered client state indication on this stream. */
  get csiSupported(): boolean {
    return this.#client.streamFeatures?.getChild('csi', NS_CSI) !== undefined;
  }

  /**
   * The app went to the background: tell the server (XEP-0352 `<inactive/>`) so it can
   * hold back unimportant traffic. Remembered across reconnections. Returns whether the
   * server offers CSI (when not, nothing is sent).
   */
  background(): boolean {
    this.#inactive = true;
    return this.#sendCsi();
  }

  /** The app is in the foreground again (`<active/>`). */
  foreground(): boolean {
    this.#inactive = false;
    return this.#sendCsi();
  }

  // ------------------------------------------------------------------ auto-away

  /**
   * The app reports how long the user has been idle. Past the thresholds the show becomes
   * `away`, then `xa`, with XEP-0319 `<idle since/>`; back under them, the user's own
   * presence is restored. A message the user sends (one with a body or subject) ends
   * auto-away too; what the library sends by itself (receipts, chat states, markers) does not. A user who chose `dnd`, `unavailable` or invisibility is left
   * alone (dnd means "here, but busy", and auto-away would invite messages).
   */
  setIdle(seconds: number): Promise<void> {
    const a = this.#auto;
    if (!a || !Number.isFinite(seconds) || seconds < 0) return Promise.resolve();
    const level: AutoLevel = seconds >= a.xa ? 'xa' : seconds >= a.away ? 'away' : 'active';
    if (level === this.#level) return Promise.resolve();
    if (this.#level === 'active') this.#idleSince = new Date(this.#now() - seconds * 1000);
    this.#level = level;
    if (level === 'active') this.#idleSince = undefined;
    return this.#broadcast(false);
  }

  // ------------------------------------------------------------------ contacts' presence

  /** The per-contact view, or undefined when nothing is available for that contact. */
  contact(j: string): ContactPresence | undefined {
    const b = bare(toJid(j));
    const list = this.#resources.get(b);
    return list ? view(b, list) : undefined;
  }

  /** One full JID's presence. */
  resource(full: string): ResourcePresence | undefined {
    const j = toJid(full);
    const res = resourceOf(j) ?? '';
    return this.#resources.get(bare(j))?.find((r) => r.resource === res);
  }

  /** Every contact with an available resource. */
  *contacts(): IterableIterator<ContactPresence> {
    for (const [b, list] of this.#resources) yield view(b, list);
  }

  /** Stop listening (teardown). */
  destroy(): void {
    for (const t of this.#teardown.splice(0)) t();
    this.#stopPolling();
    this.#events.clear();
  }

  // ------------------------------------------------------------------ internals

  #online(resumed: boolean): void {
    if (!resumed) {
      this.#invisibleSupport = undefined;
      this.#csiSent = undefined;
      this.#lastKey = undefined;
      this.#clearRemote();
      if (this.#initial) {
        const session = this.#client.jid;
        void this.#initialAfter()
          .catch(() => {}) // a failed roster fetch must not keep us silent
          .then(() => {
            // Still the session this was for? (It may have ended while we waited.)
            if (this.#client.status !== 'online' || this.#client.jid !== session) return;
            if (this.#own.mode === 'invisible') {
              // Invisibility is per session (XEP-0186 3.1): ask again, or stay silent.
              return this.invisibleSupported().then((yes) =>
                yes
                  ? this.#client.iq({ type: 'set', payload: invisibleElement(true) }).then(() => {})
                  : this.#client.send(buildPresence({ type: 'unavailable' })),
              );
            }
            if (this.#own.mode === 'available') return this.#broadcast(true);
            return undefined;
          })
          .catch((err: unknown) => this.#onError(asError(err)));
      }
    }
    if (this.#inactive) this.#sendCsi();
    this.#startPolling();
  }

  #offline(): void {
    this.#stopPolling();
    this.#clearRemote();
  }

  #requireOnline(): void {
    if (this.#client.status !== 'online')
      throw new ConfabError('ERR_NOT_CONNECTED', `Not connected (status: ${this.#client.status})`);
  }

  #domain(): string {
    const j = this.#client.jid;
    if (!j) throw new ConfabError('ERR_NOT_CONNECTED', 'Not connected');
    return domainOf(j);
  }

  /** Leaving XEP-0186 invisibility before a normal broadcast. */
  async #leaveInvisible(): Promise<void> {
    if (this.#own.mode !== 'invisible') return;
    this.#own = { ...this.#own, mode: 'available' };
    if (this.#client.status === 'online') await this.#client.iq({ type: 'set', payload: visibleElement() });
  }

  #effective(): { show: Show | undefined; status: string | undefined; idle: boolean } {
    const own = this.#own;
    const a = this.#auto;
    if (own.mode !== 'available' || !a || this.#level === 'active' || own.show === 'dnd')
      return { show: own.show, status: own.status, idle: false };
    // Auto-away never makes us look *more* present than the user chose (own xa stays xa).
    const show: Show = this.#level === 'xa' || own.show === 'xa' ? 'xa' : 'away';
    const status = (show === 'xa' ? a.xaStatus : a.awayStatus) ?? own.status;
    return { show, status, idle: true };
  }

  /** Send our broadcast presence; unless `force`, only when it would differ from the last. */
  #broadcast(force: boolean): Promise<void> {
    const own = this.#own;
    if (own.mode === 'invisible') return Promise.resolve();
    let el: Element;
    let key: string;
    if (own.mode === 'unavailable') {
      el = buildPresence({ type: 'unavailable', status: own.status });
      key = `u\u0000${own.status ?? ''}`;
    } else {
      const e = this.#effective();
      el = this.#decorate(
        buildPresence({
          show: e.show,
          status: e.status,
          priority: own.priority === 0 ? undefined : own.priority,
          idleSince: e.idle ? this.#idleSince : undefined,
        }),
      );
      key = `a\u0000${e.show ?? ''}\u0000${e.status ?? ''}\u0000${own.priority}\u0000${e.idle}`;
    }
    if (!force && key === this.#lastKey) return Promise.resolve();
    if (this.#client.status !== 'online') return Promise.resolve(); // sent as the next initial presence
    this.#lastKey = key;
    return this.#client.send(el);
  }

  #decorate(el: Element): Element {
    for (const d of this.#decorators) {
      try {
        d(el);
      } catch (err) {
        this.#onError(
          new ConfabError('ERR_HANDLER', `A presence decorator threw: ${message(err)}`, { cause: err }),
        );
      }
    }
    return el;
  }

  #sendCsi(): boolean {
    if (!this.csiSupported) return false;
    const state = this.#inactive ? 'inactive' : 'active';
    if (this.#client.status !== 'online' || this.#csiSent === state) return true;
    this.#csiSent = state;
    this.#client.send(csiElement(state)).catch((err: unknown) => this.#onError(asError(err)));
    return true;
  }

  #startPolling(): void {
    const source = this.#idleSource;
    if (!source || this.#poll !== undefined) return;
    this.#poll = this.#timers.setInterval(() => {
      if (this.#polling) return; // a slow source: never two polls at once
      this.#polling = true;
      Promise.resolve()
        .then(source)
        .then((s) => this.setIdle(s))
        .catch((err: unknown) => this.#onError(asError(err)))
        .finally(() => {
          this.#polling = false;
        });
    }, this.#pollInterval);
  }

  #stopPolling(): void {
    if (this.#poll === undefined) return;
    this.#timers.clearInterval(this.#poll);
    this.#poll = undefined;
  }

  #inbound(el: Element): void {
    const p = parsePresenceStanza(el);
    if (!p) return;
    if (p.type === 'error') {
      this.#events.emit('error', { from: p.from, error: p.error!, stanza: p });
      return;
    }
    if (p.type !== 'available' && p.type !== 'unavailable') return; // subscriptions: roster; probes: server
    // Room occupants (XEP-0045 `muc#user`) are the group-chat feature's, not contacts.
    if (el.getChild('x', NS_MUC_USER)) return;
    // Without `from` a presence comes from our own account (RFC 6120 10.3.3): nothing
    // to track there beyond what our own resources send with a from.
    if (p.from === undefined) return;
    const from = p.from;
    const res = resourceOf(from) ?? '';
    const list = this.#resources.get(bare(from));
    if (p.type === 'unavailable') {
      if (!list) return;
      // A bare-JID unavailable (e.g. after a subscription was cancelled) ends every resource.
      const gone = res === '' ? list : list.filter((r) => r.resource === res);
      if (gone.length === 0) return;
      const b = bareOf(gone[0]!);
      const rest = res === '' ? [] : list.filter((r) => r.resource !== res);
      if (rest.length === 0) this.#resources.delete(b);
      else this.#resources.set(b, rest);
      for (const g of gone)
        this.#events.emit('resource', { jid: g.jid, bare: b, presence: undefined, previous: g, element: el });
      this.#events.emit('contact', rest.length ? view(b, rest) : offline(b));
      return;
    }
    // Kept for as long as the contact stays online: no string may pin the parsed text.
    const previous = list?.find((r) => r.resource === res);
    const full = previous ? previous.jid : detach(from);
    const b = list ? bareOf(list[0]!) : bare(full);
    const now: ResourcePresence = {
      jid: full,
      resource: previous ? previous.resource : (resourceOf(full) ?? ''),
      show: p.show === undefined ? undefined : SHOW_VALUE[p.show],
      status: detach(p.status),
      priority: p.priority ?? 0,
      delay: p.delay && { ...p.delay, from: detach(p.delay.from), reason: detach(p.delay.reason) },
      idleSince: p.idleSince,
      signed: detach(p.signed),
      encrypted: detach(p.encrypted),
      receivedAt: this.#now(),
    };
    // Literals and `concat` make arrays of the exact size; `[].push()` would reserve 17 slots.
    const others = list ? (previous ? list.filter((r) => r !== previous) : list) : [];
    const next = others.length === 0 ? [now] : others.concat(now).sort(compareResources);
    this.#resources.set(b, next);
    this.#events.emit('resource', { jid: now.jid, bare: b, presence: now, previous, element: el });
    this.#events.emit('contact', view(b, next));
  }

  /** Everyone offline (our session ended; the server re-sends presence on the next). */
  #clearRemote(): void {
    const had = [...this.#resources.keys()];
    this.#resources.clear();
    for (const b of had) this.#events.emit('contact', offline(b));
  }
}

/** The per-contact view of a non-empty resource list (best first). */
function view(b: BareJid, list: readonly ResourcePresence[]): ContactPresence {
  return { jid: b, available: true, best: list[0], resources: list };
}

function offline(b: BareJid): ContactPresence {
  return { jid: b, available: false, best: undefined, resources: [] };
}

/** The bare JID a stored record belongs to (a slice of its detached `jid`, no new copy kept). */
function bareOf(r: ResourcePresence): BareJid {
  return bare(r.jid);
}

/** The shared constant for each show value (the parsed one would be one more string per record). */
const SHOW_VALUE: Record<Show, Show> = { away: 'away', chat: 'chat', dnd: 'dnd', xa: 'xa' };

function checkOwn(o: OwnPresence): void {
  if (o.show !== undefined && !(SHOWS as readonly string[]).includes(o.show))
    throw new ConfabError(
      'ERR_BAD_INPUT',
      `show must be one of ${SHOWS.join(', ')} (got '${String(o.show)}')`,
    );
  if (!Number.isInteger(o.priority) || o.priority < -128 || o.priority > 127)
    throw new ConfabError(
      'ERR_BAD_INPUT',
      `priority must be an integer from -128 to 127 (got ${String(o.priority)})`,
    );
}

function parseTarget(to: string): Jid {
  try {
    return toJid(to);
  } catch (cause) {
    throw new ConfabError('ERR_BAD_INPUT', `Invalid JID '${to}'`, { cause });
  }
}

function message(err: unknown): string {
  return String((err as Error)?.message ?? err);
}

function asError(err: unknown): ConfabError {
  return err instanceof ConfabError ? err : new ConfabError('ERR_HANDLER', message(err), { cause: err });
}
