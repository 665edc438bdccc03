/**
 * The client: composition root of the library (DESIGN "Layout"). It owns the
 * connection's life (RFC 6120 3 "TCP Binding" ... 4.4 "Closing"; reconnection 3.3)
 * and wires the session units in a fixed order:
 *
 *   transport (platform seam) -> Connection (stream life, wire log)
 *     -> negotiate (STARTTLS, SASL / legacy auth, bind)
 *     -> online: inbound Pipeline (origin checks, iq tracker, iq handlers, stages)
 *                Keepalive (whitespace, XEP-0199 ping), built-in ping answer
 *     -> on loss: reconnect policy (backoff; stops on final errors)
 *
 * Features get their collaborators from here (`iq`, `handleIq`, `send`, events) and
 * tear down with the functions those return; there is no module-global state, so
 * many clients live in one process (the benchmark runs 200).
 *
 * Seams left for later modules: `session/sm.ts` (stream management: enable after
 * bind, resume in `#connectOnce`, count in `#sendStanza`/`#inbound`) and
 * `session/outbox.ts` (queue `messages.send` while offline instead of rejecting).
 */
import { ConfabError, StreamError } from './errors.ts';
import { Emitter } from './events.ts';
import { bare, domainOf, type FullJid, type Jid, localOf, resourceOf, jid as toJid } from './jid.ts';
import type { Platform, TransportOptions } from './platform/types.ts';
import { Connection } from './session/connection.ts';
import { type DebugSink, debugSink } from './session/debug.ts';
import { type IqRequestOptions, IqTracker } from './session/iq.ts';
import { DEFAULT_KEEPALIVE, Keepalive, type KeepaliveOptions, systemClock } from './session/keepalive.ts';
import { type Negotiated, negotiate } from './session/negotiate.ts';
import { NS_CLIENT, NS_PING } from './session/ns.ts';
import { type IqHandler, type IqRequest, Pipeline } from './session/pipeline.ts';
import { backoffDelay, DEFAULT_RECONNECT, isFinalError, type ReconnectOptions } from './session/reconnect.ts';
import { ScramKeyCache } from './session/sasl/scram.ts';
import { memoryStore, type SessionStore, storeKeys } from './session/session-store.ts';
import {
  buildMessage,
  type Message,
  type OutgoingMessage,
  type Presence,
  parseMessage,
  parsePresence,
} from './session/stanzas.ts';
import { parseSeeOtherHost } from './session/stream-error.ts';
import { discoverWebSocket } from './transport/resolve.ts';
import type { SrvResolver, TlsOptions, Transport, TransportHandlers } from './transport/types.ts';
import { Element, xml } from './xml/element.ts';
import type { ParserLimits } from './xml/parser.ts';

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
  /** Where the session remembers things across connections (default: in memory). */
  store?: SessionStore | undefined;
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
}

/** `client.iq()` accepts an element or this shape. */
export interface IqInput {
  type: 'get' | 'set';
  to?: string | undefined;
  payload: Element;
}

/** The messaging part of the API (grows in the messaging feature). */
export interface Messages {
  /**
   * Send a message; resolves with its id once written.
   * @example
   * await client.messages.send({ to: 'romeo@example.net', body: 'Wherefore art thou?' })
   */
  send(message: OutgoingMessage): Promise<string>;
}

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
  readonly #store: SessionStore;
  readonly #events: Emitter<ClientEvents>;
  readonly #iq: IqTracker;
  readonly #pipeline: Pipeline;
  readonly #keepalive: Keepalive;

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
    if (local === undefined)
      throw new ConfabError('ERR_BAD_INPUT', `The JID '${options.jid}' has no user part`);
    this.#account = account;
    this.#domain = domainOf(account);
    this.#username = local;
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.#keepaliveOptions = { ...DEFAULT_KEEPALIVE, ...options.keepalive };
    this.#reconnect =
      options.reconnect === false
        ? { ...DEFAULT_RECONNECT, enabled: false }
        : { ...DEFAULT_RECONNECT, ...(options.reconnect === true ? {} : options.reconnect) };
    this.#debug = debugSink(options.debug);
    this.#store = options.store ?? memoryStore();
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
      ev.emit('stanza', el);
    });
    this.#pipeline.use((el) => {
      if (el.name === 'message') {
        if (ev.listenerCount('message') > 0) ev.emit('message', parseMessage(el, this.#selfJid()));
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

    this.messages = {
      send: (m) => {
        const el = buildMessage(m);
        const p = this.#sendStanza(el).then(() => el.attr('id')!);
        // The echo bot does not await its replies: a failed send must not become an
        // unhandled rejection that kills the process. It rejects for callers who await,
        // and is reported as `error` for those who do not.
        p.catch((err: unknown) => this.#emitError(asConfabError(err)));
        return p;
      },
    };
  }

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
      try {
        await Promise.race([
          conn.send(xml('presence', { type: 'unavailable' })),
          delay(this.#timeouts.disconnect),
        ]);
      } catch {
        // already gone: nothing to say goodbye on
      }
      await conn.close(this.#timeouts.disconnect);
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

  // ---------------------------------------------------------------- internals

  /** One login, following at most MAX_REDIRECTS `see-other-host` redirects. */
  async #attempt(signal: AbortSignal): Promise<void> {
    let target = this.#redirect;
    this.#redirect = undefined;
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
      const last = await this.#store.get(storeKeys.lastMechanism(this.#account));
      negotiated = await negotiate(conn, {
        domain: this.#domain,
        username: this.#username,
        resource: o.resource ?? resourceOf(this.#account),
        password: () => this.#password(),
        allowPlaintext: o.allowPlaintext === true,
        legacyAuth: o.legacyAuth === true,
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

    // Online. Order matters: pipeline before presence (the server answers presence
    // with our contacts' presence at once), keepalive before anything can stall.
    this.#conn = conn;
    this.#negotiated = negotiated;
    void conn.ended.then((err) => this.#onEnded(conn, err));
    conn.deliver((el) => this.#inbound(el));
    this.#keepalive.start();
    if (o.initialPresence !== false) await this.#sendStanza(xml('presence'));
    void Promise.resolve(this.#store.set(storeKeys.lastMechanism(this.#account), negotiated.mechanism)).catch(
      () => {},
    );
    if (conn.done)
      throw (await conn.ended) ?? new ConfabError('ERR_SOCKET_CLOSED', 'Connection closed while logging in');
    this.#setStatus('online');
    this.#events.emit('online', { jid: negotiated.jid, resumed: false });
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
        tls: o.tls,
        connectTimeoutMs: this.#timeouts.connect,
      };
    }
    return {
      kind: 'tcp',
      domain: this.#domain,
      handlers,
      limits: o.limits,
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
    if (el.xmlns === NS_CLIENT && (el.name === 'message' || el.name === 'presence' || el.name === 'iq')) {
      this.#pipeline.process(el);
      return;
    }
    // Stream-level elements other than stream errors (handled by Connection): stream
    // management's <r/>, <a/> (session/sm.ts will take these) and anything unknown.
    this.#log(`ignored top-level <${el.name} xmlns='${el.xmlns}'>`);
  }

  #sendStanza(el: Element): Promise<void> {
    const conn = this.#conn;
    if (
      !conn ||
      conn.done ||
      (this.#status !== 'online' && this.#status !== 'negotiating' && this.#status !== 'disconnecting')
    ) {
      return Promise.reject(new ConfabError('ERR_NOT_CONNECTED', `Not connected (status: ${this.#status})`));
    }
    const p = conn.send(el);
    this.#events.emit('stanzaOut', el);
    return p;
  }

  #onEnded(conn: Connection, err: ConfabError | undefined): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    this.#keepalive.stop();
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
    if (this.#status === 'offline') return;
    this.#iq.rejectAll(new ConfabError('ERR_NOT_CONNECTED', 'Disconnected'));
    this.#setStatus('offline');
    this.#events.emit('offline', { error });
  }

  #setStatus(s: Status): void {
    if (this.#status === s) return;
    this.#status = s;
    this.#events.emit('status', s);
  }

  async #password(): Promise<string> {
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
