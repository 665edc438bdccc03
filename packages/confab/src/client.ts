/**
 * The client: composition root of the library (DESIGN "Layout"). It owns the
 * connection's life (RFC 6120 3 "TCP Binding" ... 4.4 "Closing"; reconnection 3.3)
 * and wires the session units in a fixed order:
 *
 *   transport (platform seam) -> Connection (stream life, wire log)
 *     -> negotiate (STARTTLS, SASL / legacy auth, bind)
 *     -> negotiate (STARTTLS, SASL / legacy auth, [SM resume], bind, [SM enable])
 *     -> online: inbound: StreamManagement.receive (XEP-0198 counting, <r/>, <a/>)
 *                  -> Pipeline (origin checks, iq tracker, iq handlers, stages)
 *                outbound: every stanza through `#writeNow` (SM `track`, Store first)
 *                Outbox (messages.send: queued while offline, confirmed by SM ack or
 *                  by a ping round trip where SM is off)
 *                Keepalive (whitespace, XEP-0199 ping), built-in ping answer
 *     -> on loss: SM detach, outbox offline, reconnect policy (backoff; stops on final
 *        errors); the next login resumes (XEP-0198 5) or ends the old SM session and
 *        hands its unacked messages back to the outbox.
 *
 * Features get their collaborators from here (`iq`, `handleIq`, `send`, events) and
 * tear down with the functions those return; there is no module-global state, so
 * many clients live in one process (the benchmark runs 200).
 *
 * Stream management and the outbox (XEP-0198 1.6.3, XEP-0359 0.7, XEP-0203 2.0):
 * the state machines live in session/sm.ts and session/outbox.ts; this file drives
 * them in the order their banners give (load, resume-or-enable, track in wire order,
 * receive, detach, clean close), and owns only the timing: ack waits on disconnect,
 * the confirmation ping where SM is off, and waiting for room in a full outbox.
 */
import { ConfabError, StanzaError, StreamError } from './errors.ts';
import { Emitter } from './events.ts';
import type { Blocking } from './features/blocking/blocking.ts';
import type { BuddiesOnly } from './features/blocking/buddies-only.ts';
import type { Bookmarks, BookmarksOptions } from './features/bookmarks/bookmarks.ts';
import type { Caps } from './features/caps/caps.ts';
import type { Carbons, CarbonsOptions } from './features/carbons/carbons.ts';
import type { Disco } from './features/disco/disco.ts';
import type { Files } from './features/files/files.ts';
import { createFeatures, type Features } from './features/index.ts';
import type { Mam, MamOptions } from './features/mam/mam.ts';
import { MESSAGING_FEATURES, Messaging, type MessagingOptions } from './features/messages/messages.ts';
import type { Muc } from './features/muc/muc.ts';
import type { MucOptions } from './features/muc/types.ts';
import type { Avatars } from './features/pep/avatar.ts';
import type { Nicknames } from './features/pep/nick.ts';
import type { Pep } from './features/pep/pep.ts';
import type { PresenceManager, PresenceOptions } from './features/presence/presence.ts';
import type { PrivateStorage } from './features/private/private.ts';
import type { AccountRegistration } from './features/register/register.ts';
import type { Roster, RosterOptions } from './features/roster/roster.ts';
import type { Software } from './features/software/software.ts';
import type { VCards } from './features/vcard/vcard.ts';
import {
  type BareJid,
  bare,
  domainOf,
  type FullJid,
  type Jid,
  localOf,
  resourceOf,
  jid as toJid,
} from './jid.ts';
import type { Platform, TransportOptions } from './platform/types.ts';
import { Connection } from './session/connection.ts';
import { type DebugSink, debugSink } from './session/debug.ts';
import { type IqRequestOptions, IqTracker } from './session/iq.ts';
import { DEFAULT_KEEPALIVE, Keepalive, type KeepaliveOptions, systemClock } from './session/keepalive.ts';
import { type Negotiated, negotiate, negotiateUntilAuth, type SmHooks } from './session/negotiate.ts';
import { NS_CLIENT, NS_PING } from './session/ns.ts';
import { Outbox, type OutboxMessage, type OutboxSender, type OutboxStatus } from './session/outbox.ts';
import { type IqHandler, type IqRequest, Pipeline } from './session/pipeline.ts';
import { PreAuthStream } from './session/preauth.ts';
import { backoffDelay, DEFAULT_RECONNECT, isFinalError, type ReconnectOptions } from './session/reconnect.ts';
import { ScramKeyCache } from './session/sasl/scram.ts';
import { ownedCopy, ownString, type SmLoss, StreamManagement } from './session/sm.ts';
import { parseStanzaError } from './session/stanza-error.ts';
import { type Message, type Presence, parsePresence } from './session/stanzas.ts';
import { parseSeeOtherHost } from './session/stream-error.ts';
import { loadAccountFacts, saveAccountFacts } from './store/account.ts';
import { MemoryStore } from './store/memory.ts';
import type { Store } from './store/types.ts';
import { discoverWebSocket } from './transport/resolve.ts';
import type { SrvResolver, TlsOptions, Transport, TransportHandlers } from './transport/types.ts';
import { Element, xml } from './xml/element.ts';
import type { ParserLimits, StanzaOpen } from './xml/parser.ts';

/** Where the client is in its life. */
export type Status = 'offline' | 'connecting' | 'negotiating' | 'online' | 'reconnecting' | 'disconnecting';

/** Timeouts in milliseconds. */
export interface Timeouts {
  /** TCP connect + TLS handshake per candidate (or the WebSocket handshake). Default 10 000. */
  connect: number;
  /** From connected to bound: STARTTLS, authentication, bind. Default 30 000. */
  login: number;
  /** Default for `iq()` requests. Default 30 000. */
  iq: number;
  /** How long `disconnect()` waits for the server's `</stream:stream>`. Default 2 000. */
  disconnect: number;
}

const DEFAULT_TIMEOUTS: Timeouts = { connect: 10_000, login: 30_000, iq: 30_000, disconnect: 2_000 };

/** Stream management (XEP-0198) settings. */
export interface StreamManagementOptions {
  /** Enable SM where the server offers it. Default true. */
  enabled: boolean;
  /** Ask for resumption (`<enable resume='true'/>`), and resume after a drop. Default true. */
  resume: boolean;
  /** Request an ack after this many stanzas (acks in batches cost no throughput). Default 10. */
  ackEvery: number;
  /** Request an ack this long (ms) after the last stanza of a smaller tail. Default 100. */
  ackDelay: number;
  /** Preferred maximum resumption time in seconds (`<enable max>`); the server's default otherwise. */
  maxResume: number | undefined;
}

const DEFAULT_SM: StreamManagementOptions = {
  enabled: true,
  resume: true,
  ackEvery: 10,
  ackDelay: 100,
  maxResume: undefined,
};

/** Options of `createClient`. Only `jid` and `password` are needed for a normal account. */
export interface ClientOptions {
  /** The account, e.g. `juliet@example.com` (a resource here is used when `resource` is unset). */
  jid: string;
  /** The password, or a function asked at each login (e.g. a prompt or a keychain). */
  password: string | (() => string | Promise<string>) | undefined;
  /** Resource to bind, e.g. "Home" or "PowerBook" (the seed's advice). Default: server-assigned. */
  resource?: string | undefined;
  /** Connect here instead of using SRV (TLS still verifies the JID's domain). */
  host?: string | undefined;
  port?: number | undefined;
  /** TLS at once (XEP-0368, the old port 5223) instead of STARTTLS. */
  directTls?: boolean | undefined;
  /** WebSocket URL (RFC 7395), e.g. `wss://example.com/xmpp-websocket`: use WebSocket instead of TCP. */
  websocket?: string | undefined;
  /** Extra CA, SPKI pin, or the tests-only escape hatch. */
  tls?: TlsOptions | undefined;
  /** Allow an unencrypted connection (TCP without TLS, `ws://`) and plaintext passwords on it. Default false. */
  allowPlaintext?: boolean | undefined;
  /**
   * Only these SASL mechanisms, e.g. `['SCRAM-SHA-256']` to pin an account to what it is
   * known to support. Default: the strongest the server offers and confab accepts.
   */
  mechanisms?: readonly string[] | undefined;
  /**
   * Log in with SASL ANONYMOUS (RFC 4505): `jid` is then the server's domain (e.g.
   * `anon.example.org`), no password is asked, and the server assigns a temporary JID.
   */
  anonymous?: boolean | undefined;
  /** Log in with legacy jabber:iq:auth (XEP-0078) even when SASL is offered. Default false. */
  legacyAuth?: boolean | undefined;
  /** Send `<presence/>` once bound, so bare-JID chat reaches us. Default true. */
  initialPresence?: boolean | undefined;
  /** `xml:lang` of our stream. */
  lang?: string | undefined;
  timeouts?: Partial<Timeouts> | undefined;
  keepalive?: Partial<KeepaliveOptions> | undefined;
  /** `false` switches reconnecting off; an object tunes the backoff. */
  reconnect?: boolean | Partial<ReconnectOptions> | undefined;
  /** Wire log with secrets redacted: true (stderr / console) or a sink. Also `CONFAB_DEBUG=1`. */
  debug?: boolean | DebugSink | undefined;
  /** Parser limits for what the server sends. */
  limits?: Partial<ParserLimits> | undefined;
  /**
   * Size limit for an iq reply to a request of ours (a roster of thousands of contacts is
   * larger than the 256 KiB stanza limit). Default 16 MiB. Unsolicited stanzas keep `limits`.
   */
  maxReplyBytes?: number | undefined;
  /** Presence feature options (auto away thresholds, initial presence...). */
  presence?: PresenceOptions | undefined;
  /** Roster feature options. */
  roster?: RosterOptions | undefined;
  /** Carbons (XEP-0280) options: `{ enabled: false }` switches them off. */
  carbons?: CarbonsOptions | undefined;
  /** Archive (XEP-0313) options: catch-up after reconnect, first-run depth, page size. */
  mam?: MamOptions | undefined;
  /** Group chat (XEP-0045): self-ping interval, timeouts, rejoin after a reconnect. */
  muc?: MucOptions | undefined;
  /** Room bookmarks: autojoin after login (default true). */
  bookmarks?: BookmarksOptions | undefined;
  /**
   * `false`: a bare core with no built-in features (no roster, presence, disco, caps...),
   * for tests and embedders who wire their own; `client.roster` and the like then throw.
   */
  features?: false | undefined;
  /** Messaging policy (auto-receipts, chat states, history sizes): features/messages. */
  messages?: Partial<MessagingOptions> | undefined;
  /**
   * Where the client keeps what must outlive a connection or the process: the outbox,
   * the stream-management session, account facts (store/types.ts). Default: in memory,
   * for this client object only (`new MemoryStore({ durable: false })`). With a durable
   * store (the CLI's SQLite), a queued message survives the process being killed.
   */
  store?: Store | undefined;
  /** Stream management (XEP-0198): `false` switches it off; an object tunes it. Default on, with resumption. */
  streamManagement?: boolean | Partial<StreamManagementOptions> | undefined;
  /** At most this many messages wait for the server in the outbox (default 1000). */
  outboxMax?: number | undefined;
  /** DNS seam (tests). */
  resolver?: SrvResolver | undefined;
}

/** Passed to `online` listeners. */
export interface OnlineEvent {
  jid: FullJid;
  /** True when a stream-management session was resumed (nothing was lost). */
  resumed: boolean;
}

/** Passed to `offline` listeners. */
export interface OfflineEvent {
  /** Why, unless `disconnect()` was called. */
  error: ConfabError | undefined;
}

/** Passed to `reconnecting` listeners. */
export interface ReconnectingEvent {
  /** 1 for the first retry after a loss. */
  attempt: number;
  /** Milliseconds until this attempt starts. */
  delay: number;
  /** Why the connection was lost (or why the previous attempt failed). */
  error: ConfabError | undefined;
}

/** Passed to `messageAcked` listeners: the server has the message. */
export interface MessageAckedEvent {
  id: string;
  element: Element;
}

/** Passed to `messageFailed` listeners: the message bounced before the server confirmed it. */
export interface MessageFailedEvent {
  id: string;
  error: ConfabError;
  element: Element;
}

/**
 * Passed to `dropped` listeners: iq and presence stanzas a stream-management session
 * sent but the server never acknowledged, when that session ended without resumption.
 * They are not re-sent blindly (an iq's answer would reach a request that is gone;
 * presence is re-sent by the session); the app decides. Messages are never dropped:
 * they go back to the outbox.
 */
export interface DroppedEvent {
  stanzas: Element[];
  /** Why the session ended: resumption refused, a server without SM now, a clean close. */
  reason: 'resume-failed' | 'session-ended';
}

/** Something worth telling the user that is not an error. */
export interface WarningEvent {
  code: 'sasl-downgrade';
  message: string;
}

/** Every event a client emits, with its payload type. */
export interface ClientEvents {
  status: Status;
  online: OnlineEvent;
  offline: OfflineEvent;
  reconnecting: ReconnectingEvent;
  /** A failure that did not come back through a promise (lost connection, a listener threw...). */
  error: ConfabError;
  warning: WarningEvent;
  /** Every inbound stanza that passed the origin checks. */
  stanza: Element;
  /** Every stanza we sent. */
  stanzaOut: Element;
  message: Message;
  presence: Presence;
  /** Every inbound iq get/set (answered by its handler, or `service-unavailable`). */
  iq: IqRequest;
  /** A message from `messages.send` is confirmed (SM ack, or ping round trip where SM is off). */
  messageAcked: MessageAckedEvent;
  /** A message from `messages.send` bounced (`<message type='error'>`) before it was confirmed. */
  messageFailed: MessageFailedEvent;
  /** Unacknowledged iq/presence given up with an SM session that could not be resumed. */
  dropped: DroppedEvent;
}

/** `client.iq()` accepts an element or this shape. */
export interface IqInput {
  type: 'get' | 'set';
  to?: string | undefined;
  payload: Element;
}

/** A message handed to `messages.send`. */
export interface SentMessage {
  /** The message id (also its XEP-0359 origin-id). */
  readonly id: string;
  /** Where it is now: queued (offline, or waiting its turn), sent, acked, failed. */
  readonly status: OutboxStatus;
  /**
   * Resolves when the server has the message: a stream-management ack, or a ping
   * round trip where SM is off. Rejects (a StanzaError) if it bounced first. Reading
   * it never causes an unhandled rejection; failures are also `messageFailed` events.
   */
  readonly confirmed: Promise<void>;
}

/** The messaging API (`client.messages`): features/messages/messages.ts. */
export type Messages = Messaging;

interface Target {
  host: string;
  port: number | undefined;
}

/** A redirect we may follow (internal: never escapes `#attempt`). */
class Redirect {
  constructor(
    readonly target: Target,
    readonly error: StreamError,
  ) {}
}

const MAX_REDIRECTS = 3;

const noop = (): void => {};

/** The app's view of an outbox message (lazy `confirmed`, so nothing is created per message unless asked). */
class SentHandle implements SentMessage {
  readonly #m: OutboxMessage;
  #confirmed: Promise<void> | undefined;
  constructor(m: OutboxMessage) {
    this.#m = m;
  }
  get id(): string {
    return this.#m.id;
  }
  get status(): OutboxStatus {
    return this.#m.status;
  }
  get confirmed(): Promise<void> {
    if (!this.#confirmed) {
      const p = this.#m.confirmed();
      // Marked handled: an app that never looks must not crash on a bounce (it is an event too).
      p.catch(noop);
      this.#confirmed = p;
    }
    return this.#confirmed;
  }
}

/** A write waiting for the Store (SM's record of it must land before the wire does). */
interface Held {
  conn: Connection;
  el: Element;
  r: Element | undefined;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** `<enabled location>`: "host", "host:port" or "[v6]:port". */
function parseLocation(location: string): Target | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(location.trim());
  if (!m) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { host: (m[1] ?? m[2])!, port };
}

/**
 * An XMPP client. Make one with `createClient`.
 *
 * @example
 * const client = createClient({ jid: 'bot@example.org', password: process.env.XMPP_PASSWORD });
 * client.on('message', (msg) => {
 *   if (msg.body) client.messages.send({ to: msg.from, body: `echo: ${msg.body}`, thread: msg.thread });
 * });
 * await client.connect();
 */
export class Client {
  readonly #platform: Platform;
  readonly #o: ClientOptions;
  readonly #account: Jid;
  readonly #domain: string;
  readonly #username: string;
  readonly #timeouts: Timeouts;
  readonly #keepaliveOptions: KeepaliveOptions;
  readonly #reconnect: ReconnectOptions;
  readonly #debug: DebugSink | undefined;
  readonly #store: Store;
  readonly #events: Emitter<ClientEvents>;
  readonly #iq: IqTracker;
  readonly #pipeline: Pipeline;
  readonly #keepalive: Keepalive;
  readonly #smOptions: StreamManagementOptions;
  readonly #sm: StreamManagement;
  readonly #outbox: Outbox;
  readonly #outboxMax: number;
  /** Store state loaded (`sm.load()`, then `outbox.load()`), once. */
  #loading: Promise<void> | undefined;
  #loaded = false;
  /** Writes held until SM's Store batch has landed, in wire order. */
  #held: Held[] = [];
  #draining = false;
  /** Messages of an ended SM session to write once on the next stream (already marked). */
  #resend: Element[] = [];
  /** `<enabled location>` the certificate covered: where to resume first. */
  #smLocation: Target | undefined;
  /** Waiting for every stanza to be acked (clean disconnect). */
  readonly #ackWaiters = new Set<() => void>();
  /** The connection an `<r/>` came in on whose `<a/>` is due this microtask (`#answerAck`). */
  #ackDue: Connection | undefined;
  /** `messages.send` calls waiting for room in a full outbox, in order. */
  #roomQueue: Array<{ el: Element; resolve: (m: OutboxMessage) => void; reject: (e: unknown) => void }> = [];
  /** Confirmation ping (SM off): scheduled / in flight. */
  #confirmTimer: ReturnType<typeof setTimeout> | undefined;
  #confirming = false;

  #status: Status = 'offline';
  #conn: Connection | undefined;
  #negotiated: Negotiated | undefined;
  #connecting: Promise<void> | undefined;
  #abort: AbortController | undefined;
  /** Set by `disconnect()`: nothing reconnects until the next `connect()`. */
  #stopped = true;
  #redirect: Target | undefined;
  #discovered: string | undefined;

  /** The messaging API. */
  readonly messages: Messages;
  /** The built-in features; undefined with `features: false` (a bare core). */
  readonly #features: Features | undefined;
  /** Inbound stanza filters (return false to drop), run before the app-facing events. */
  readonly #filters: Array<(stanza: Element) => boolean> = [];
  /** Size limit for replies to our own iq requests. */
  readonly #replyBytes: number;

  constructor(platform: Platform, options: ClientOptions) {
    this.#platform = platform;
    this.#o = options;
    let account: Jid;
    try {
      account = toJid(options.jid);
    } catch (cause) {
      throw new ConfabError('ERR_BAD_INPUT', `Invalid JID '${options.jid}'`, { cause });
    }
    const local = localOf(account);
    if (local === undefined && !options.anonymous)
      throw new ConfabError(
        'ERR_BAD_INPUT',
        `The JID '${options.jid}' has no user part (for an anonymous login, pass anonymous: true)`,
      );
    if (local !== undefined && options.anonymous)
      throw new ConfabError(
        'ERR_BAD_INPUT',
        `An anonymous login takes the server's domain as its JID, not '${options.jid}'`,
      );
    this.#account = account;
    this.#domain = domainOf(account);
    this.#username = local ?? '';
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.#keepaliveOptions = { ...DEFAULT_KEEPALIVE, ...options.keepalive };
    this.#reconnect =
      options.reconnect === false
        ? { ...DEFAULT_RECONNECT, enabled: false }
        : { ...DEFAULT_RECONNECT, ...(options.reconnect === true ? {} : options.reconnect) };
    this.#debug = debugSink(options.debug);
    this.#store = options.store ?? new MemoryStore({ durable: false });
    const smo = options.streamManagement;
    this.#smOptions =
      smo === false
        ? { ...DEFAULT_SM, enabled: false }
        : { ...DEFAULT_SM, ...(smo === true || smo === undefined ? {} : smo) };
    this.#outboxMax = options.outboxMax ?? 1000;
    this.#replyBytes = options.maxReplyBytes ?? 16 * 1024 * 1024;
    // Nothing to load from a store that does not outlive us (SM and the outbox skip it too).
    this.#loaded = !this.#store.durable;
    this.#events = new Emitter<ClientEvents>((err, event) => this.#listenerThrew(err, String(event)));

    // 1. Requests we make: correlated by id and responder.
    this.#iq = new IqTracker({
      send: (el) => this.#sendStanza(el),
      self: () => ({ bare: bare(this.#negotiated?.jid ?? this.#account), domain: this.#domain }),
      timeout: this.#timeouts.iq,
      log: (l) => this.#log(l),
    });
    // 2. Everything that arrives, in one ordered pipeline.
    this.#pipeline = new Pipeline({
      send: (el) => void this.#sendStanza(el).catch(() => {}),
      iq: this.#iq,
      self: () => {
        const full = this.#negotiated?.jid ?? this.#account;
        return { full, bare: bare(full) };
      },
      log: (l) => this.#log(l),
      onHandlerError: (err, req) =>
        this.#emitError(
          new ConfabError(
            'ERR_HANDLER',
            `The handler for iq ${req.type} <${req.payload.name} xmlns='${req.payload.xmlns}'> threw: ${String((err as Error)?.message ?? err)}`,
            {
              cause: err,
              element: req.element,
            },
          ),
        ),
    });
    // 3. Stages after the iq routing: app-facing events, in a fixed order.
    // (Parsing only when someone listens: this runs for every stanza.)
    const ev = this.#events;
    this.#pipeline.use((el) => {
      for (const keep of this.#filters) if (!keep(el)) return true;
      return undefined;
    });
    this.#pipeline.use((el) => {
      ev.emit('stanza', el);
    });
    this.#pipeline.use((el) => {
      if (el.name === 'message') {
        // The messaging feature checks, de-duplicates, answers, then emits `message`.
        this.messages.ingest(el, { source: 'live' });
      } else if (el.name === 'presence') {
        if (ev.listenerCount('presence') > 0) ev.emit('presence', parsePresence(el, this.#selfJid()));
      } else if (el.name === 'iq' && ev.listenerCount('iq') > 0) {
        const type = el.attr('type');
        const payload = el.elements()[0];
        if ((type === 'get' || type === 'set') && payload) {
          this.#events.emit('iq', {
            type,
            id: el.attr('id') ?? '',
            from: el.attr('from'),
            payload,
            element: el,
          });
        }
      }
    });
    // 4. Answer the server's pings (XEP-0199 4.1): an empty result.
    this.#pipeline.handleIq('get', NS_PING, 'ping', () => undefined);
    // 5. Keepalive: whitespace on idle TCP, ping when silent.
    this.#keepalive = new Keepalive(this.#keepaliveOptions, {
      clock: systemClock,
      sendWhitespace: () => {
        try {
          this.#conn?.transport.sendKeepalive();
        } catch {
          // the connection is going away; its end is reported elsewhere
        }
      },
      ping: (timeout) =>
        this.iq(
          { type: 'get', to: this.#domain, payload: xml('ping', { xmlns: NS_PING }) },
          { timeout },
        ).then(
          () => {},
          (err: unknown) => {
            // An error reply (service-unavailable...) proves the link as well as a result.
            if (err instanceof ConfabError && err.code === 'ERR_STANZA') return;
            throw err;
          },
        ),
      dead: (err) => this.#conn?.destroy(err),
    });

    // 6. Stream management and the outbox: one of each per client, living across
    // connections (and, with a durable Store, across processes).
    const storeError = (err: unknown) =>
      this.#emitError(
        new ConfabError('ERR_HANDLER', `Store write failed: ${String((err as Error)?.message ?? err)}`, {
          cause: err,
        }),
      );
    this.#sm = new StreamManagement({
      store: this.#store,
      ackEvery: this.#smOptions.ackEvery,
      ackDelay: this.#smOptions.ackDelay,
      // The outbox's window paces ack requests at full speed (see session/sm.ts).
      highWaterMark: this.#outboxMax,
      maxResume: this.#smOptions.maxResume,
      sendAckRequest: (r) => this.#writeNonza(r),
      onStoreError: storeError,
    });
    this.#outbox = new Outbox({ store: this.#store, max: this.#outboxMax, onStoreError: storeError });
    this.#outbox.on('acked', (m) => {
      this.#makeRoom();
      if (ev.listenerCount('messageAcked') > 0) ev.emit('messageAcked', { id: m.id, element: m.element });
    });
    this.#outbox.on('failed', (m, error) => {
      this.#makeRoom();
      ev.emit('messageFailed', { id: m.id, error, element: m.element });
    });

    // Messaging (features/messages): every inbound message goes through `ingest` (stage 3);
    // what the app sends goes through the outbox.
    this.messages = new Messaging(
      {
        self: () => ({ bare: this.#selfJid() as BareJid, domain: this.#domain }),
        emitMessage: (m) => {
          if (ev.listenerCount('message') > 0) ev.emit('message', m);
        },
        enqueue: (el) => {
          const p = this.#enqueue(el);
          // The echo bot does not await its replies: a failed send must not become an
          // unhandled rejection that kills the process. It rejects for callers who await,
          // and is reported as `error` for those who do not.
          p.catch((err: unknown) => this.#emitError(asConfabError(err)));
          return p;
        },
        send: (el) => this.#sendStanza(el),
        iq: (req) => this.iq(req),
        pending: () => this.#outbox.messages().map((m) => new SentHandle(m)),
        log: (l) => this.#log(l),
        onError: (err) => this.#listenerThrew(err, 'messages'),
      },
      options.messages,
    );

    // 7. Features (features/index.ts builds them in dependency order), unless the app
    // asked for a bare core to wire its own.
    this.#features =
      options.features === false
        ? undefined
        : createFeatures({
            client: this,
            store: this.#store,
            options,
            onError: (e) => this.#emitError(e),
            isOnline: () => this.#status === 'online',
            messaging: this.messages,
          });
    // Messaging answers receipts only to those who may see our presence (XEP-0184 8: the
    // roster's from/both), sends chat states / XEP-0022 where caps say the peer has them,
    // and announces what it understands in disco (and so in our caps).
    const f = this.#features;
    if (f) {
      this.messages.configure({
        presenceVisibleTo:
          options.messages?.presenceVisibleTo ??
          ((j) => {
            const s = f.roster.get(j)?.subscription;
            return s === 'both' || s === 'from';
          }),
        peerSupports: options.messages?.peerSupports ?? ((j, feature) => f.caps.hasFeature(j, feature)),
      });
      f.disco.addFeature(...MESSAGING_FEATURES);
    }
  }

  #feature<K extends keyof Features>(name: K): Features[K] {
    const f = this.#features;
    if (f === undefined) {
      throw new ConfabError(
        'ERR_UNSUPPORTED',
        `client.${name} is not available: this client was created with features: false`,
      );
    }
    return f[name];
  }

  /** The contact list, driven by the server's pushes (RFC 6121 2). */
  get roster(): Roster {
    return this.#feature('roster');
  }
  /** Our presence and our contacts' (RFC 6121 4, XEP-0186, XEP-0352, XEP-0319). */
  get presence(): PresenceManager {
    return this.#feature('presence');
  }
  /** Service discovery (XEP-0030): ask others, answer about ourselves. */
  get disco(): Disco {
    return this.#feature('disco');
  }
  /** Entity capabilities (XEP-0115): ours on every presence, others' verified and cached. */
  get caps(): Caps {
    return this.#feature('caps');
  }
  /** Software version, last activity, entity time (XEP-0092, XEP-0012, XEP-0202). */
  get software(): Software {
    return this.#feature('software');
  }
  /** Personal eventing (XEP-0163) for any namespace. */
  get pep(): Pep {
    return this.#feature('pep');
  }
  /** User nickname over PEP (XEP-0172). */
  get nick(): Nicknames {
    return this.#feature('nick');
  }
  /** User avatar over PEP (XEP-0084). */
  get avatar(): Avatars {
    return this.#feature('avatar');
  }
  /** vCards (XEP-0054). */
  get vcard(): VCards {
    return this.#feature('vcard');
  }
  /** Private XML storage (XEP-0049, the seed's jabber:iq:private). */
  get private(): PrivateStorage {
    return this.#feature('private');
  }
  /** Blocking (XEP-0191). */
  get blocking(): Blocking {
    return this.#feature('blocking');
  }
  /** The seed's "only messages from my buddies", kept in private storage. */
  get buddiesOnly(): BuddiesOnly {
    return this.#feature('buddiesOnly');
  }
  /** Message carbons (XEP-0280): our other resources' conversations, enabled by default. */
  get carbons(): Carbons {
    return this.#feature('carbons');
  }
  /** Message archive (XEP-0313): history queries and catch-up after reconnect. */
  get mam(): Mam {
    return this.#feature('mam');
  }
  /** Multi-User Chat (XEP-0045): rooms, occupants, invitations, moderation. */
  get muc(): Muc {
    return this.#feature('muc');
  }
  /** Room bookmarks (XEP-0402, XEP-0048 in private storage as the fallback), with autojoin. */
  get bookmarks(): Bookmarks {
    return this.#feature('bookmarks');
  }
  /** File transfer: HTTP upload (XEP-0363), out-of-band data (XEP-0066), downloads. */
  get files(): Files {
    return this.#feature('files');
  }
  /** The logged-in account's registration (XEP-0077): change password, update fields, cancel. */
  get account(): AccountRegistration {
    return this.#feature('account');
  }

  /**
   * For features: drop inbound stanzas before the app sees them (`keep` returns false).
   * Runs after the origin checks and iq routing. Returns the teardown.
   */
  addInboundFilter(keep: (stanza: Element) => boolean): () => void {
    this.#filters.push(keep);
    return () => {
      const i = this.#filters.indexOf(keep);
      if (i >= 0) this.#filters.splice(i, 1);
    };
  }

  /** The parser's size hook: replies to our own pending requests may be larger. */
  readonly #stanzaLimit = (open: StanzaOpen): number | undefined => {
    if (open.name !== 'iq') return undefined;
    const type = open.attrs.type;
    if (type !== 'result' && type !== 'error') return undefined;
    const id = open.attrs.id;
    return id !== undefined && this.#iq.awaiting(id) ? this.#replyBytes : undefined;
  };

  /** Where the client is: offline, connecting, negotiating, online, reconnecting, disconnecting. */
  get status(): Status {
    return this.#status;
  }

  /** The bound full JID while online (and the last one after), else undefined. */
  get jid(): FullJid | undefined {
    return this.#negotiated?.jid;
  }

  /** The server's stream features after login (stream management, CSI, roster versioning...). */
  get streamFeatures(): Element | undefined {
    return this.#negotiated?.features;
  }

  /** Listen to an event; returns the function that stops listening. */
  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Listen once; returns the function that stops listening. */
  once<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.#events.once(event, listener);
  }

  /** Stop listening. */
  off<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): void {
    this.#events.off(event, listener);
  }

  /**
   * Connect and log in. Resolves when online (bound, initial presence sent unless
   * `initialPresence: false`). Rejects with a ConfabError when this first attempt
   * fails; reconnecting is only for connections that were up.
   */
  connect(): Promise<void> {
    if (this.#status === 'online') return Promise.resolve();
    if (this.#connecting) return this.#connecting;
    if (this.#status === 'reconnecting') {
      return new Promise((resolve, reject) => {
        const offOnline = this.once('online', () => {
          offOffline();
          resolve();
        });
        const offOffline = this.once('offline', (e) => {
          offOnline();
          reject(e.error ?? new ConfabError('ERR_ABORTED', 'Disconnected'));
        });
      });
    }
    this.#stopped = false;
    this.#abort = new AbortController();
    const p = this.#attempt(this.#abort.signal).then(
      () => {
        this.#connecting = undefined;
      },
      (err: unknown) => {
        this.#connecting = undefined;
        const e = asConfabError(err);
        this.#goOffline(e);
        throw e;
      },
    );
    this.#connecting = p;
    return p;
  }

  /**
   * Log out: unavailable presence, `</stream:stream>`, a bounded wait for the
   * server's close, then the socket is closed. Stops reconnecting. Pending iq
   * requests reject with ERR_NOT_CONNECTED.
   */
  async disconnect(): Promise<void> {
    this.#stopped = true;
    this.#abort?.abort(new ConfabError('ERR_ABORTED', 'disconnect() was called'));
    const conn = this.#conn;
    if (conn && this.#status === 'online') {
      this.#setStatus('disconnecting');
      this.#keepalive.stop();
      const sm = this.#sm;
      try {
        await Promise.race([
          this.#sendStanza(xml('presence', { type: 'unavailable' })),
          delay(this.#timeouts.disconnect),
        ]);
      } catch {
        // already gone: nothing to say goodbye on
      }
      // XEP-0198: ask for the final ack (bounded), tell the server our `h`, then close;
      // the closed stream ends the SM session on both sides.
      const managed = sm.enabled;
      if (managed) {
        const r = sm.requestAck();
        if (r) this.#writeNonza(r);
        await this.#allAcked(conn, this.#timeouts.disconnect);
        this.#writeNonza(sm.ackElement());
      }
      this.#outbox.offline();
      await conn.close(this.#timeouts.disconnect);
      if (managed) this.#sessionEnded(sm.discard(), 'session-ended');
    } else if (conn) {
      conn.destroy();
    }
    if (this.#connecting) await this.#connecting.catch(() => {});
    this.#goOffline(undefined);
  }

  /**
   * Send a stanza as is (message, presence, iq). Rejects with ERR_NOT_CONNECTED
   * when not online.
   */
  send(stanza: Element): Promise<void> {
    return this.#sendStanza(stanza);
  }

  /**
   * Send an iq get/set and resolve with the result stanza. Rejects with StanzaError
   * (code ERR_STANZA, with type/condition/text) on an error reply, ERR_TIMEOUT,
   * ERR_ABORTED (signal), or ERR_NOT_CONNECTED / ERR_SOCKET_CLOSED.
   *
   * @example
   * const result = await client.iq({ type: 'get', to: 'example.org', payload: xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }) });
   */
  iq(request: Element | IqInput, options: IqRequestOptions = {}): Promise<Element> {
    const el =
      request instanceof Element
        ? request
        : xml('iq', { type: request.type, to: request.to }, request.payload);
    return this.#iq.request(el, options);
  }

  /**
   * Answer inbound iq `type` requests whose payload is `<name xmlns=ns>`. Return
   * the result payload (or nothing); throw a StanzaError to answer with an error;
   * any other throw answers `internal-server-error` (and emits `error`). Returns the
   * teardown.
   */
  handleIq(type: 'get' | 'set', ns: string, name: string, handler: IqHandler): () => void {
    return this.#pipeline.handleIq(type, ns, name, handler);
  }

  // ------------------------------------------- account registration (XEP-0077) hooks
  // For features/register only (`client.account`); apps use that API instead.

  /** Set by `useNewPassword`: the password every later login uses. */
  #newPassword: string | undefined;

  /**
   * @internal `client.account.changePassword()` succeeded: log in with `password` from now
   * on (reconnects included), and forget the SCRAM keys derived from the old one.
   */
  useNewPassword(password: string): void {
    this.#newPassword = password;
    this.#scramCache.clear();
  }

  /**
   * @internal The server is about to end our stream on purpose (XEP-0077 3.2: it removes
   * the account, then closes the stream, ejabberd even before answering): that end is
   * neither an error nor a reason to reconnect. Returns the undo, for when it did not.
   */
  expectStreamEnd(): () => void {
    const was = this.#stopped;
    this.#stopped = true;
    return () => {
      this.#stopped = was;
    };
  }

  /**
   * @internal A fresh connection negotiated up to authentication, for in-band
   * registration (XEP-0077 3.1.1): the same transport, TLS and plaintext rules as
   * `connect()`, then the stream features; nothing logs in. Also the account's username
   * and password (as a login would ask for it). The caller closes the stream.
   */
  async openPreAuth(
    signal?: AbortSignal,
  ): Promise<{ stream: PreAuthStream; username: string; password(): Promise<string> }> {
    const o = this.#o;
    const sig = signal ?? new AbortController().signal;
    const conn = new Connection({ debug: this.#debug });
    const url =
      o.websocket ?? (this.#platform.transports.includes('tcp') ? undefined : await this.#discover(sig));
    const transport = this.#platform.createTransport(this.#transportOptions(conn.handlers, undefined, url));
    conn.attach(transport);
    const onAbort = () => conn.destroy(new ConfabError('ERR_ABORTED', 'Registration was cancelled'));
    sig.addEventListener('abort', onAbort, { once: true });
    try {
      await transport.connect(sig);
      const { features } = await negotiateUntilAuth(conn, {
        domain: this.#domain,
        allowPlaintext: o.allowPlaintext === true,
        timeout: this.#timeouts.login,
        lang: o.lang,
        log: (l) => this.#log(l),
      });
      const stream = new PreAuthStream(conn, {
        domain: this.#domain,
        features,
        secure: transport.secure,
        timeout: this.#timeouts.iq,
        closeTimeout: this.#timeouts.disconnect,
        log: (l) => this.#log(l),
      });
      return { stream, username: this.#username, password: () => this.#password() };
    } catch (err) {
      conn.destroy();
      throw sig.aborted
        ? new ConfabError('ERR_ABORTED', 'Registration was cancelled', { cause: err })
        : asConfabError(err);
    } finally {
      sig.removeEventListener('abort', onAbort);
    }
  }

  // ---------------------------------------------------------------- internals

  /** One login, following at most MAX_REDIRECTS `see-other-host` redirects. */
  async #attempt(signal: AbortSignal): Promise<void> {
    if (!this.#loaded) {
      this.#setStatus('connecting');
      await this.#ready();
    }
    let target = this.#redirect;
    this.#redirect = undefined;
    // XEP-0198 5: resume at the server's preferred location first (only one the
    // certificate covered when it was announced); anywhere else if that fails.
    const location = this.#smLocation;
    if (!target && location && this.#sm.canResume()) {
      try {
        await this.#connectOnce(location, signal);
        return;
      } catch (err) {
        if (err instanceof Redirect || signal.aborted) throw err;
        const e = asConfabError(err);
        if (isFinalError(e)) throw e;
        this.#log(
          `resuming at ${location.host}:${location.port ?? ''} failed (${e.message}); trying the usual way`,
        );
      }
    }
    for (let hop = 0; ; hop++) {
      try {
        await this.#connectOnce(target, signal);
        return;
      } catch (err) {
        if (err instanceof Redirect) {
          if (hop + 1 > MAX_REDIRECTS) throw err.error;
          this.#log(`following see-other-host to ${err.target.host}:${err.target.port ?? '(default port)'}`);
          target = err.target;
          continue;
        }
        throw err;
      }
    }
  }

  async #connectOnce(target: Target | undefined, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new ConfabError('ERR_ABORTED', 'Connecting was cancelled');
    const o = this.#o;
    const conn = new Connection({
      debug: this.#debug,
      onInbound: () => this.#keepalive.inbound(),
      onOutbound: () => this.#keepalive.outbound(),
    });
    this.#setStatus('connecting');
    const url =
      o.websocket ?? (this.#platform.transports.includes('tcp') ? undefined : await this.#discover(signal));
    const transport = this.#platform.createTransport(this.#transportOptions(conn.handlers, target, url));
    conn.attach(transport);
    const onAbort = () => conn.destroy(new ConfabError('ERR_ABORTED', 'Connecting was cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    let negotiated: Negotiated;
    try {
      await transport.connect(signal);
      this.#setStatus('negotiating');
      const last = (await loadAccountFacts(this.#store)).saslMechanism;
      negotiated = await negotiate(conn, {
        domain: this.#domain,
        username: this.#username,
        resource: o.resource ?? resourceOf(this.#account),
        password: () => this.#password(),
        allowPlaintext: o.allowPlaintext === true,
        legacyAuth: o.legacyAuth === true,
        anonymous: o.anonymous === true,
        scramCache: this.#scramCache,
        mechanisms: o.mechanisms,
        lastMechanism: last,
        timeout: this.#timeouts.login,
        lang: o.lang,
        log: (l) => this.#log(l),
        warn: (code, message) => {
          this.#log(`warning: ${message}`);
          this.#events.emit('warning', { code, message });
        },
        sm: this.#smOptions.enabled ? this.#smHooks : undefined,
      });
    } catch (err) {
      signal.removeEventListener('abort', onAbort);
      const e = signal.aborted
        ? new ConfabError('ERR_ABORTED', 'Connecting was cancelled', { cause: err })
        : asConfabError(err);
      const redirect = this.#redirectFor(e, transport);
      if (conn.done) conn.destroy();
      else void conn.close(200);
      if (redirect) throw redirect;
      throw e;
    }
    signal.removeEventListener('abort', onAbort);

    // Stream management's answer, before any inbound stanza is delivered (counting
    // starts with `<enabled/>` / `<resumed/>`) and before anything of ours is written.
    const sm = this.#sm;
    let resumed = false;
    if (negotiated.resumed) {
      const r = sm.onResumed(negotiated.resumed);
      if (!r.ok) {
        conn.fatal(r.error, 'undefined-condition', r.streamError);
        this.#sessionEnded(sm.discard(), 'resume-failed');
        throw r.error;
      }
      resumed = true;
      this.#outbox.acked(r.acked.map((a) => a.appId));
      // The unacked stanzas again, as they were (they keep their numbers), ahead of
      // anything new; then the request that covers them.
      for (const el of r.resend) conn.send(el).catch(noop);
      if (r.request) conn.send(r.request).catch(noop);
    } else if (negotiated.smAnswer?.name === 'enabled') {
      const info = sm.onEnabled(negotiated.smAnswer, { jid: negotiated.jid });
      const loc = info.location === undefined ? undefined : parseLocation(info.location);
      this.#smLocation = loc && conn.transport.certificateCovers(loc.host) ? loc : undefined;
      if (info.location !== undefined && !this.#smLocation) {
        this.#log(`ignoring SM location ${info.location}: not covered by the certificate`);
      }
    } else {
      if (negotiated.smAnswer) {
        const f = sm.onFailed(negotiated.smAnswer);
        this.#log(`stream management refused: ${f.condition}${f.text ? ` (${f.text})` : ''}`);
        this.#sessionEnded(f, 'session-ended');
      } else if (sm.id !== undefined || sm.unackedCount > 0) {
        // A previous SM session, and this stream has no SM (server changed, legacy auth).
        this.#sessionEnded(sm.discard(), 'session-ended');
      }
      this.#smLocation = undefined;
    }

    // Online. Order matters: pipeline before presence (the server answers presence
    // with our contacts' presence at once), keepalive before anything can stall.
    this.#conn = conn;
    // Kept for the connection's life: only what is read later (jid, features, mechanism, stream
    // id), in strings of their own, so it does not pin the chunks they were parsed from.
    this.#negotiated = {
      jid: ownString(negotiated.jid) as FullJid,
      mechanism: negotiated.mechanism,
      streamId: negotiated.streamId === undefined ? undefined : ownString(negotiated.streamId),
      features: negotiated.features && ownedCopy(negotiated.features),
      legacy: negotiated.legacy,
    };
    void conn.ended.then((err) => this.#onEnded(conn, err));
    conn.deliver((el) => this.#inbound(el));
    this.#keepalive.start();
    // A resumed session keeps its presence (XEP-0198 5); a new one announces it.
    // The initial presence is the presence feature's (after the roster get, with caps);
    // a bare core (features: false) sends a plain one itself.
    if (!resumed && this.#features === undefined && o.initialPresence !== false)
      await this.#sendStanza(xml('presence'));
    // Messages of an SM session that ended unresumed and that no outbox owned: once, marked.
    for (const el of this.#resend.splice(0)) this.#sendStanza(el).catch(noop);
    this.#outbox.online(this.#outboxSender, sm.enabled ? 'sm' : 'ping');
    void saveAccountFacts(this.#store, {
      saslMechanism: negotiated.mechanism,
      saslMechanismAt: Date.now(),
    }).catch(noop);
    if (conn.done)
      throw (await conn.ended) ?? new ConfabError('ERR_SOCKET_CLOSED', 'Connection closed while logging in');
    this.#setStatus('online');
    this.#events.emit('online', { jid: negotiated.jid, resumed });
  }

  /** What negotiation asks stream management (see session/negotiate.ts SmHooks). */
  readonly #smHooks: SmHooks = {
    resume: () => {
      const sm = this.#sm;
      if (!this.#smOptions.resume || !sm.canResume() || sm.jid === undefined) return undefined;
      let full: FullJid;
      try {
        const j = toJid(sm.jid);
        if (resourceOf(j) === undefined) return undefined;
        full = j as FullJid;
      } catch {
        return undefined;
      }
      return { element: sm.resumeElement(), jid: full };
    },
    resumeFailed: (failed) => {
      const f = this.#sm.onFailed(failed);
      this.#log(`stream management: resumption failed: ${f.condition}${f.text ? ` (${f.text})` : ''}`);
      this.#sessionEnded(f, 'resume-failed');
    },
    enable: () => {
      const sm = this.#sm;
      // An old session we did not resume ends here: its unacked messages go back.
      if (sm.id !== undefined || sm.unackedCount > 0) this.#sessionEnded(sm.discard(), 'session-ended');
      return sm.enableElement(this.#smOptions.resume);
    },
  };

  /**
   * An SM session ended without resumption: release what its last `h` acked, give
   * the outbox its messages back (re-sent, marked, on the next stream), keep the
   * other messages for a single marked re-send, and report the iq/presence.
   */
  #sessionEnded(loss: SmLoss, reason: DroppedEvent['reason']): void {
    if (loss.acked.length > 0) this.#outbox.acked(loss.acked.map((a) => a.appId));
    if (loss.returned.length > 0) this.#outbox.returned(loss.returned);
    if (loss.resend.length > 0) this.#resend.push(...loss.resend);
    if (loss.dropped.length > 0) {
      this.#log(`stream management: ${loss.dropped.length} unacknowledged iq/presence not re-sent`);
      this.#events.emit('dropped', { stanzas: loss.dropped.map((d) => d.element), reason });
    }
  }

  /** Load the SM session and outbox from the Store, once (XEP-0198 state of a previous run). */
  #ready(): Promise<void> {
    if (this.#loaded) return Promise.resolve();
    this.#loading ??= (async () => {
      try {
        await this.#sm.load();
        await this.#outbox.load(this.#sm.pendingAppIds());
      } catch (err) {
        this.#emitError(
          new ConfabError(
            'ERR_HANDLER',
            `Could not load the outbox / SM state from the Store: ${String((err as Error)?.message ?? err)}`,
            { cause: err },
          ),
        );
      }
      this.#loaded = true;
    })();
    return this.#loading;
  }

  /** `messages.send`: into the outbox (waiting for room while online), in call order. */
  async #enqueue(el: Element): Promise<SentMessage> {
    if (!this.#loaded) await this.#ready();
    if (this.#roomQueue.length > 0 || this.#outbox.size >= this.#outboxMax) {
      if (this.#status === 'online') {
        const m = await new Promise<OutboxMessage>((resolve, reject) => {
          this.#roomQueue.push({ el, resolve, reject });
        });
        return new SentHandle(m);
      }
    }
    return new SentHandle(await this.#outbox.enqueue(el));
  }

  /** Room in the outbox: hand it to the waiting `send` calls, oldest first (enqueue reserves synchronously). */
  #makeRoom(): void {
    while (this.#roomQueue.length > 0 && this.#outbox.size < this.#outboxMax) {
      const w = this.#roomQueue.shift()!;
      this.#outbox.enqueue(w.el).then(w.resolve, w.reject);
    }
  }

  /**
   * The outbox writes through here. Throws synchronously when there is no stream (the
   * message stays queued, order kept). Under SM, once tracked the message is SM's:
   * a failed write is resumed or handed back, so the promise must not put it back
   * in the queue as well. Without SM, a confirmation ping follows.
   */
  readonly #outboxSender: OutboxSender = (el, id) => {
    const p = this.#writeNow(el, id);
    if (this.#sm.enabled) {
      p.catch(noop);
      return;
    }
    this.#scheduleConfirm();
    return p;
  };

  /** Without SM: one ping for a batch of messages; its answer confirms all written before it. */
  #scheduleConfirm(): void {
    if (this.#confirming || this.#confirmTimer !== undefined) return;
    this.#confirmTimer = setTimeout(() => {
      this.#confirmTimer = undefined;
      void this.#confirm();
    }, 0);
  }

  async #confirm(): Promise<void> {
    if (this.#outbox.unconfirmed === 0 || !this.#conn || this.#sm.enabled) return;
    this.#confirming = true;
    const point = this.#outbox.checkpoint();
    let ok = false;
    try {
      await this.iq({ type: 'get', to: this.#domain, payload: xml('ping', { xmlns: NS_PING }) });
      ok = true;
    } catch (err) {
      // An error reply proves the round trip as well as a result does.
      ok = err instanceof ConfabError && err.code === 'ERR_STANZA';
    } finally {
      this.#confirming = false;
    }
    if (ok) this.#outbox.confirmThrough(point);
    if (ok && this.#outbox.unconfirmed > 0) this.#scheduleConfirm();
  }

  /** Resolves when SM has nothing unacked, the connection ends, or after `timeout`. */
  #allAcked(conn: Connection, timeout: number): Promise<void> {
    if (this.#sm.unackedCount === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.#ackWaiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, timeout);
      this.#ackWaiters.add(done);
      void conn.ended.then(done);
    });
  }

  /** Derived SCRAM keys (they contain the password: one per client, never persisted). */
  readonly #scramCache = new ScramKeyCache(2);

  /** XEP-0156: where a platform without TCP (a browser) finds the WebSocket endpoint. */
  async #discover(signal: AbortSignal): Promise<string> {
    if (this.#discovered) return this.#discovered;
    const urls = await discoverWebSocket(this.#domain, {
      signal,
      allowPlaintext: this.#o.allowPlaintext === true,
    });
    const url = urls[0];
    if (url === undefined) {
      throw new ConfabError(
        'ERR_CONNECT',
        `${this.#domain} announces no WebSocket endpoint (XEP-0156 host-meta); pass websocket: 'wss://...'`,
      );
    }
    this.#log(`XEP-0156: ${this.#domain} announces ${url}`);
    this.#discovered = url;
    return url;
  }

  #transportOptions(
    handlers: TransportHandlers,
    target: Target | undefined,
    url: string | undefined,
  ): TransportOptions {
    const o = this.#o;
    if (url !== undefined) {
      if (/^ws:/i.test(url) && !o.allowPlaintext) {
        throw new ConfabError(
          'ERR_PLAINTEXT_REFUSED',
          `Refusing the unencrypted WebSocket ${url}: use wss://, or set allowPlaintext: true (--allow-plaintext in the CLI) to allow it`,
        );
      }
      return {
        kind: 'websocket',
        url,
        domain: this.#domain,
        handlers,
        limits: o.limits,
        stanzaLimit: this.#stanzaLimit,
        maxStanzaLimit: this.#replyBytes,
        tls: o.tls,
        connectTimeoutMs: this.#timeouts.connect,
      };
    }
    return {
      kind: 'tcp',
      domain: this.#domain,
      handlers,
      limits: o.limits,
      stanzaLimit: this.#stanzaLimit,
      maxStanzaLimit: this.#replyBytes,
      host: target?.host ?? o.host,
      port: target ? target.port : o.port,
      directTls: o.directTls,
      tls: o.tls,
      resolver: o.resolver,
      connectTimeoutMs: this.#timeouts.connect,
    };
  }

  /**
   * A `see-other-host` we follow: only on a verified TLS stream, and only to a host
   * the certificate (checked for our domain) also covers. A redirect before TLS is
   * unauthenticated, so anyone on the path could send one; it is refused.
   */
  #redirectFor(err: ConfabError, transport: Transport): Redirect | undefined {
    if (!(err instanceof StreamError) || err.condition !== 'see-other-host') return undefined;
    const target = parseSeeOtherHost(err);
    if (target && transport.kind === 'tcp' && transport.secure && transport.certificateCovers(target.host)) {
      return new Redirect(target, err);
    }
    this.#log(
      `not following see-other-host to ${target?.host ?? '(unreadable)'}: not covered by the certificate`,
    );
    return undefined;
  }

  #inbound(el: Element): void {
    // XEP-0198 first: it counts stanzas and takes <r/> and <a/>.
    const r = this.#sm.receive(el);
    if (r.type !== 'pass') {
      if (r.type === 'reply') {
        this.#answerAck();
      } else if (r.type === 'acked') {
        if (r.acked.length > 0) this.#outbox.acked(r.acked.map((a) => a.appId));
        if (r.request) this.#writeNonza(r.request);
        if (this.#ackWaiters.size > 0 && this.#sm.unackedCount === 0)
          for (const w of [...this.#ackWaiters]) w();
      } else {
        // A nonsensical `h`: end the stream cleanly (the session is discarded at the next login).
        this.#log(r.error.message);
        this.#conn?.fatal(r.error, 'undefined-condition', r.streamError);
      }
      return;
    }
    if (el.xmlns === NS_CLIENT && (el.name === 'message' || el.name === 'presence' || el.name === 'iq')) {
      // A bounce of one of our queued messages fails it (RFC 6120 8.3: same id, type error).
      if (el.name === 'message' && el.attrs.type === 'error' && this.#outbox.size > 0) {
        const id = el.attrs.id;
        if (id !== undefined && this.#outbox.has(id)) this.#outbox.failed(id, bounceError(el));
      }
      this.#pipeline.process(el);
      return;
    }
    // Stream-level elements other than stream errors (handled by Connection) and SM's.
    this.#log(`ignored top-level <${el.name} xmlns='${el.xmlns}'>`);
  }

  #sendStanza(el: Element): Promise<void> {
    try {
      return this.#writeNow(el, undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Write one stanza on the current stream, in wire order (XEP-0198 4): SM counts it
   * and keeps it until acked; with a durable Store its record lands before the bytes
   * leave (so a crash can never leave the server with a stanza we do not know we
   * sent). Throws synchronously when there is no stream; the promise is the write.
   */
  #writeNow(el: Element, appId: string | undefined): Promise<void> {
    const conn = this.#conn;
    if (
      !conn ||
      conn.done ||
      (this.#status !== 'online' && this.#status !== 'negotiating' && this.#status !== 'disconnecting')
    ) {
      throw new ConfabError('ERR_NOT_CONNECTED', `Not connected (status: ${this.#status})`);
    }
    // Directed presence lets its target see ours (the receipts policy asks).
    if (el.name === 'presence') this.messages.outboundPresence(el);
    const sm = this.#sm;
    const r = sm.track(el, appId);
    if (this.#events.listenerCount('stanzaOut') > 0) this.#events.emit('stanzaOut', el);
    if (this.#held.length > 0 || sm.saving) {
      return new Promise<void>((resolve, reject) => {
        this.#held.push({ conn, el, r, resolve, reject });
        if (!this.#draining) void this.#drain();
      });
    }
    const p = conn.send(el);
    if (r) conn.send(r).catch(noop);
    return p;
  }

  /**
   * XEP-0198 4: answer an `<r/>` with our `h`, once per microtask, i.e. after the rest of
   * the chunk just read has been parsed. Prosody asks after nearly every stanza it sends,
   * and a TLS write per answer was ~18% of a receiver's CPU. The `h` is the count when the
   * answer is written: one that also covers stanzas read after the request is still true.
   */
  #answerAck(): void {
    if (this.#ackDue !== undefined || !this.#conn) return;
    this.#ackDue = this.#conn;
    queueMicrotask(this.#writeAck);
  }

  /** The coalesced `<a/>` (one shared function: nothing allocated per request). */
  readonly #writeAck = (): void => {
    const conn = this.#ackDue;
    this.#ackDue = undefined;
    if (conn === this.#conn && this.#sm.enabled) this.#writeNonza(this.#sm.ackElement());
  };

  /** A nonza (`<r/>`, `<a/>`): not counted; behind any held stanza so the order stays. */
  #writeNonza(el: Element): void {
    const conn = this.#conn;
    if (!conn || conn.done) return;
    if (this.#held.length > 0) {
      this.#held.push({ conn, el, r: undefined, resolve: noop, reject: noop });
      return;
    }
    conn.send(el).catch(noop);
  }

  /** Write held stanzas once SM's Store batch covering them has landed. */
  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#held.length > 0) {
        await this.#sm.saved();
        for (const h of this.#held.splice(0)) {
          h.conn.send(h.el).then(h.resolve, h.reject);
          if (h.r) h.conn.send(h.r).catch(noop);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #onEnded(conn: Connection, err: ConfabError | undefined): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    this.#keepalive.stop();
    // XEP-0198: the session may be resumed on the next stream; the outbox waits.
    this.#sm.detach();
    this.#outbox.offline();
    this.#stopConfirm();
    this.#iq.rejectAll(err ?? new ConfabError('ERR_NOT_CONNECTED', 'Disconnected'));
    if (this.#stopped || this.#status === 'disconnecting') {
      this.#goOffline(undefined);
      return;
    }
    const redirect = err ? this.#redirectFor(err, conn.transport) : undefined;
    if (redirect) {
      this.#redirect = redirect.target;
    } else if (isFinalError(err) || !this.#reconnect.enabled) {
      if (err) this.#emitError(err);
      this.#goOffline(err);
      return;
    }
    void this.#reconnectLoop(err, redirect !== undefined);
  }

  async #reconnectLoop(first: ConfabError | undefined, immediate: boolean): Promise<void> {
    const abort = new AbortController();
    this.#abort = abort;
    let error = first;
    for (let attempt = 1; ; attempt++) {
      if (attempt > this.#reconnect.maxAttempts) {
        this.#goOffline(error);
        return;
      }
      const wait = immediate && attempt === 1 ? 0 : backoffDelay(attempt, this.#reconnect);
      this.#setStatus('reconnecting');
      this.#events.emit('reconnecting', { attempt, delay: wait, error });
      try {
        await delay(wait, abort.signal);
        await this.#attempt(abort.signal);
        return; // online again; the attempt counter starts over at the next loss
      } catch (err) {
        if (abort.signal.aborted || this.#stopped) {
          this.#goOffline(undefined);
          return;
        }
        error = asConfabError(err);
        if (isFinalError(error)) {
          this.#emitError(error);
          this.#goOffline(error);
          return;
        }
        this.#log(`reconnect attempt ${attempt} failed: ${error.message}`);
      }
    }
  }

  #goOffline(error: ConfabError | undefined): void {
    this.#keepalive.stop();
    this.#stopConfirm();
    // Not online: `send` calls waiting for room would wait for acks that cannot come.
    for (const w of this.#roomQueue.splice(0)) {
      w.reject(
        new ConfabError('ERR_OUTBOX_FULL', `outbox full (${this.#outboxMax} messages wait) and offline`),
      );
    }
    if (this.#status === 'offline') return;
    this.#iq.rejectAll(new ConfabError('ERR_NOT_CONNECTED', 'Disconnected'));
    this.#setStatus('offline');
    this.#events.emit('offline', { error });
  }

  #stopConfirm(): void {
    if (this.#confirmTimer !== undefined) clearTimeout(this.#confirmTimer);
    this.#confirmTimer = undefined;
  }

  #setStatus(s: Status): void {
    if (this.#status === s) return;
    this.#status = s;
    this.#events.emit('status', s);
  }

  async #password(): Promise<string> {
    // After `account.changePassword()` the new password, whatever the options said.
    if (this.#newPassword !== undefined) return this.#newPassword;
    const p = this.#o.password;
    const v = typeof p === 'function' ? await p() : p;
    if (v === undefined || v === '')
      throw new ConfabError('ERR_BAD_INPUT', 'No password given for ' + this.#account);
    return v;
  }

  #selfJid(): Jid {
    return bare(this.#negotiated?.jid ?? this.#account);
  }

  #log(line: string): void {
    this.#debug?.(`confab: ${line}`);
  }

  #emitError(err: ConfabError): void {
    this.#events.emit('error', err);
  }

  #listenerThrew(err: unknown, event: string): void {
    if (event === 'error') {
      // An error listener that throws has nowhere left to report to.
      queueMicrotask(() => {
        throw err;
      });
      return;
    }
    this.#emitError(
      err instanceof ConfabError
        ? err
        : new ConfabError(
            'ERR_HANDLER',
            `A '${event}' listener threw: ${String((err as Error)?.message ?? err)}`,
            { cause: err },
          ),
    );
  }
}

/** Create a client on a platform (the entries pass Node's or the browser's). */
export function createClientOn(platform: Platform, options: ClientOptions): Client {
  return new Client(platform, options);
}

/** A `<message type='error'>` bounce as a StanzaError (RFC 6120 8.3). */
function bounceError(el: Element): StanzaError {
  const se = parseStanzaError(el);
  return new StanzaError(
    `${el.attrs.from ?? 'the server'} refused the message: ${se.condition}${se.text ? ` (${se.text})` : ''}`,
    { condition: se.condition, type: se.type, text: se.text, element: el },
  );
}

function asConfabError(err: unknown): ConfabError {
  if (err instanceof ConfabError) return err;
  return new ConfabError('ERR_CONNECT', err instanceof Error ? err.message : String(err), { cause: err });
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
