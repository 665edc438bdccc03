/**
 * Message Carbons: XEP-0280 v1.0.1 (`urn:xmpp:carbons:2`): every resource of the
 * account sees both sides of every conversation.
 *
 * - Discovery (XEP-0280 3): the server domain's disco#info (XEP-0030) lists
 *   `urn:xmpp:carbons:2` (a stream feature in that namespace counts too). Without it the
 *   feature stays quiet: status `unsupported`, no request, no error.
 * - Enabling (4) on every NEW session: the server's carbons state belongs to the
 *   session, so a fresh bind needs a fresh `<enable/>`, while a stream-management
 *   resumption (XEP-0198 5) keeps it and sends nothing. On by default; `disable()` (5)
 *   turns it off and keeps it off across reconnections until `enable()`.
 * - Receiving (6, 7): `<received/>` and `<sent/>` wrappers are unwrapped and handed on
 *   (`onForwarded`, `carbon` event) with their direction; for a sent copy the peer is
 *   the inner `to`.
 * - Private messages (7): `markPrivate()` (codec) adds `<private/>` and the XEP-0334
 *   `<no-copy/>` hint.
 *
 * Trust (XEP-0280 11): a wrapper is believed only when its `from` is our bare JID.
 * Anything else claiming to be a carbon (another account, our own full JID, no `from`)
 * is dropped whole: it is neither a carbon nor shown as a message (its sender wrote
 * nothing a person would read; showing the wrapper would show their forgery), and the
 * app hears of it as an `ignored` event.
 *
 * Carbons must see messages before the plain message path does (see `process`), so a
 * wrapper from our own bare JID never reaches the app as a message from ourselves.
 */
import type { Client } from '../../client.ts';
import { ConfabError } from '../../errors.ts';
import { type Emitter, featureEmitter, rethrowLater } from '../../events.ts';
import { type BareJid, bare, domainOf } from '../../jid.ts';
import type { Stage } from '../../session/pipeline.ts';
import { type Element, xml } from '../../xml/element.ts';
import type { Delay } from '../presence/codec.ts';
import {
  type CarbonDirection,
  type CarbonRejection,
  carbonOrigin,
  disableElement,
  enableElement,
  NS_CARBONS,
  readCarbon,
} from './codec.ts';
import type { ForwardedMeta, OnForwarded } from './forwarded.ts';

/** The part of the Client carbons uses (public API only). */
export type CarbonsHost = Pick<Client, 'on' | 'iq' | 'jid' | 'status' | 'streamFeatures'>;

/**
 * Where carbons stand for the current session:
 * - `off`: not connected yet, or a new session that has not asked yet;
 * - `unsupported`: the server does not offer carbons (the minimal test server): nothing to do;
 * - `enabling` / `disabling`: the request is out;
 * - `enabled`: the server copies messages to us;
 * - `disabled`: the app turned carbons off (stays off across reconnections);
 * - `failed`: the server refused or did not answer (`error` says why; retried on the next session).
 */
export type CarbonsStatus =
  | 'off'
  | 'unsupported'
  | 'enabling'
  | 'enabled'
  | 'disabling'
  | 'disabled'
  | 'failed';

/** A verified carbon copy. */
export interface CarbonEvent {
  direction: CarbonDirection;
  /** The copied message, unwrapped (jabber:client). */
  message: Element;
  /** The other party: the inner `to` for a sent copy, the inner `from` for a received one. */
  peer: string | undefined;
  delay: Delay | undefined;
  wrapper: Element;
}

export interface CarbonsEvents {
  status: CarbonsStatus;
  carbon: CarbonEvent;
  /** A message claiming to be a carbon that is not believed (see the banner). */
  ignored: { reason: CarbonRejection; element: Element };
}

export interface CarbonsOptions {
  /** Enable carbons on each new session when the server offers them. Default true. */
  enabled?: boolean | undefined;
}

export interface CarbonsDeps {
  client: CarbonsHost;
  options?: CarbonsOptions | undefined;
  /** Each verified copy, unwrapped (the messages feature's `ingest`). */
  onForwarded?: OnForwarded | undefined;
  /**
   * Run `process` as an inbound stage ahead of the plain message event (the composition
   * root's pipeline `use`, placed before the `message` stage). Without it carbons listen
   * on `stanza`: they still work, but the client's `message` event also sees the wrapper.
   */
  intercept?: ((stage: Stage) => () => void) | undefined;
  /**
   * The server domain's disco#info features (a disco cache in the composition root).
   * Default: one disco#info request to the domain per new session.
   */
  serverFeatures?: (() => Promise<readonly string[]>) | undefined;
  /** Where failures and throwing listeners are reported (the client's `error`). */
  onError?: ((err: ConfabError) => void) | undefined;
}

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';

/**
 * Message Carbons for one client (`client.carbons`).
 *
 * @example
 * const carbons = new Carbons({ client, onForwarded: (m, meta) => messages.ingest(m, meta) });
 * carbons.on('carbon', (c) => console.log(c.direction, c.peer, c.message.getChildText('body')));
 * await client.connect(); // carbons are enabled once the server says it has them
 * if (carbons.status === 'unsupported') console.log('this server cannot copy messages');
 */
export class Carbons {
  static readonly feature = 'carbons';
  readonly #client: CarbonsHost;
  readonly #events: Emitter<CarbonsEvents>;
  readonly #onForwarded: OnForwarded | undefined;
  readonly #serverFeatures: (() => Promise<readonly string[]>) | undefined;
  readonly #onError: (err: ConfabError) => void;
  readonly #teardown: Array<() => void> = [];
  #status: CarbonsStatus = 'off';
  /** What the app wants (option, then `enable()` / `disable()`). */
  #wanted: boolean;
  /** The server offers carbons on this session (undefined: not known yet). */
  #supported: boolean | undefined;
  /** Bumped per new session, so a late answer from an old one changes nothing. */
  #session = 0;
  #pending: Promise<void> | undefined;

  constructor(deps: CarbonsDeps) {
    this.#client = deps.client;
    this.#wanted = deps.options?.enabled !== false;
    this.#onForwarded = deps.onForwarded;
    this.#serverFeatures = deps.serverFeatures;
    this.#onError = deps.onError ?? rethrowLater;
    this.#events = featureEmitter<CarbonsEvents>('carbons', this.#onError);
    const stage: Stage = (el) => this.process(el);
    this.#teardown.push(
      deps.intercept ? deps.intercept(stage) : this.#client.on('stanza', (el) => void stage(el)),
      this.#client.on('online', (e) => {
        if (!e.resumed) this.#newSession();
      }),
    );
  }

  /** Where carbons stand now (see CarbonsStatus). */
  get status(): CarbonsStatus {
    return this.#status;
  }

  /** Whether the server offers carbons on this session (undefined until known). */
  get supported(): boolean | undefined {
    return this.#supported;
  }

  on<K extends keyof CarbonsEvents>(event: K, listener: (payload: CarbonsEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }
  once<K extends keyof CarbonsEvents>(event: K, listener: (payload: CarbonsEvents[K]) => void): () => void {
    return this.#events.once(event, listener);
  }
  off<K extends keyof CarbonsEvents>(event: K, listener: (payload: CarbonsEvents[K]) => void): void {
    this.#events.off(event, listener);
  }

  /**
   * Turn carbons on now (if online and supported) and on every later session.
   * Resolves when the server agreed, or at once when offline / unsupported (the status
   * says which). Rejects with the server's StanzaError when it refuses.
   */
  async enable(): Promise<void> {
    this.#wanted = true;
    await this.#apply();
  }

  /** Turn carbons off now and for later sessions (XEP-0280 5). */
  async disable(): Promise<void> {
    this.#wanted = false;
    await this.#apply();
  }

  /**
   * The inbound stage: returns true when `el` is a carbon wrapper (believed and handed
   * on, or ignored), so later stages (the plain message event) must not see it.
   * Anything else returns false untouched.
   */
  process(el: Element): boolean {
    const w = readCarbon(el);
    if (!w) return false;
    const jid = this.#client.jid;
    const self = jid ? bare(jid) : undefined;
    const reason = self === undefined ? 'not-from-own-bare-jid' : carbonOrigin(w, self as BareJid);
    if (reason !== undefined || !w.forwarded) {
      this.#events.emit('ignored', { reason: reason ?? 'malformed', element: el });
      return true;
    }
    const { message, delay } = w.forwarded;
    const peer = w.direction === 'sent' ? message.attr('to') : message.attr('from');
    this.#events.emit('carbon', { direction: w.direction, message, peer, delay, wrapper: el });
    if (this.#onForwarded) {
      const meta: ForwardedMeta = {
        source: w.direction === 'sent' ? 'carbon-sent' : 'carbon-received',
        delay,
        archive: self,
        wrapper: el,
      };
      try {
        const r = this.#onForwarded(message, meta);
        if (r) r.catch((err: unknown) => this.#handlerError(err));
      } catch (err) {
        this.#handlerError(err);
      }
    }
    return true;
  }

  /** Stop listening (the server keeps copying until the session ends or `disable()`). */
  destroy(): void {
    for (const t of this.#teardown.splice(0)) t();
    this.#events.clear();
  }

  // ---------------------------------------------------------------- internals

  #newSession(): void {
    this.#session++;
    this.#supported = undefined;
    this.#setStatus('off');
    this.#apply().catch((err: unknown) => {
      // A connection lost mid-request is not worth an error: the next session asks again.
      const e = asError(err);
      if (e.code !== 'ERR_NOT_CONNECTED' && e.code !== 'ERR_SOCKET_CLOSED') this.#onError(e);
    });
  }

  /** Bring the server in line with `#wanted`, one request at a time. */
  async #apply(): Promise<void> {
    while (this.#pending) await this.#pending.catch(() => {});
    const p = this.#applyOnce();
    this.#pending = p;
    try {
      await p;
    } finally {
      if (this.#pending === p) this.#pending = undefined;
    }
  }

  async #applyOnce(): Promise<void> {
    if (this.#client.status !== 'online' || !this.#client.jid) return;
    const session = this.#session;
    if (this.#supported === undefined) {
      const supported = await this.#discover();
      if (session !== this.#session) return;
      // disconnect() may have begun while disco answered: no enable after the goodbye.
      if (this.#client.status !== 'online') return;
      this.#supported = supported;
    }
    if (!this.#supported) {
      this.#setStatus('unsupported');
      return;
    }
    const want = this.#wanted;
    if ((want && this.#status === 'enabled') || (!want && this.#status === 'disabled')) return;
    // A new session starts with carbons off on the server (XEP-0280 4): nothing to ask.
    if (!want && (this.#status === 'off' || this.#status === 'unsupported')) {
      this.#setStatus('disabled');
      return;
    }
    this.#setStatus(want ? 'enabling' : 'disabling');
    try {
      await this.#client.iq({ type: 'set', payload: want ? enableElement() : disableElement() });
    } catch (err) {
      if (session !== this.#session) return;
      this.#setStatus('failed');
      throw asError(err);
    }
    if (session !== this.#session) return;
    this.#setStatus(want ? 'enabled' : 'disabled');
  }

  /** Does the server offer carbons? A failed disco is "no": carbons degrade silently. */
  async #discover(): Promise<boolean> {
    if (this.#client.streamFeatures?.getChildByNs(NS_CARBONS)) return true;
    try {
      if (this.#serverFeatures) return (await this.#serverFeatures()).includes(NS_CARBONS);
      const jid = this.#client.jid;
      if (!jid) return false;
      const res = await this.#client.iq({
        type: 'get',
        to: domainOf(jid),
        payload: xml('query', { xmlns: NS_DISCO_INFO }),
      });
      const q = res.getChild('query', NS_DISCO_INFO);
      return q?.getChildren('feature', NS_DISCO_INFO).some((f) => f.attr('var') === NS_CARBONS) ?? false;
    } catch {
      return false;
    }
  }

  #setStatus(s: CarbonsStatus): void {
    if (this.#status === s) return;
    this.#status = s;
    this.#events.emit('status', s);
  }

  #handlerError(err: unknown): void {
    this.#onError(
      err instanceof ConfabError
        ? err
        : new ConfabError('ERR_HANDLER', `The carbons onForwarded handler threw: ${String(err)}`, {
            cause: err,
          }),
    );
  }
}

function asError(err: unknown): ConfabError {
  return err instanceof ConfabError
    ? err
    : new ConfabError('ERR_HANDLER', String((err as Error)?.message ?? err), { cause: err });
}
