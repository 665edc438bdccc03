/**
 * Messaging behaviour: the one inbound entry (`ingest`) for live, carbon, offline and
 * archive copies, and the sending API behind `client.messages`.
 *
 * Specs (wire formats in codec.ts and codec/*.ts):
 * - RFC 6121 (March 2011) 5: types, subject, thread (generated unique; reused by `reply`),
 *   errors with the echoed body.
 * - XEP-0160 1.0.1: a message delayed by our own server (offline storage) is source `offline`.
 * - XEP-0359 0.7: de-duplication keys (trusted stanza-id, else origin-id + sender, else
 *   id + sender + body hash) in a bounded LRU, so each message reaches the app once.
 * - XEP-0033 1.2.1: `sendToMany` through the server's multicast service (XEP-0030 disco of
 *   the domain and its items for `http://jabber.org/protocol/address`), else one per recipient.
 * - XEP-0184 1.4 receipts: request and track (`waitForReceipt`), answer (policy below).
 * - XEP-0085 2.1 chat states: `active` rides on the first messages to a peer; standalone
 *   states only to peers that showed support (5.1: they sent one; stop when a reply has none).
 * - XEP-0333 0.4 markers: `markDisplayed` (only for markable messages).
 * - XEP-0022 1.4 events: requested from peers that still use them, answered (delivered on
 *   receipt, displayed on `markDisplayed`, composing with `chatState`).
 * - XEP-0308 1.2 / XEP-0424 0.4 (+ XEP-0428 fallback): send for our own (last) message;
 *   received ones applied only when they come from the original's sender (XEP-0308 5,
 *   XEP-0424 "Business Rules": same bare JID one-to-one, same full JID in a room).
 * - XEP-0023 1.3 expiry: dropped on arrival when the lifetime (from the delay stamp) has
 *   passed; `expired` when it runs out before the app called `markDisplayed`. No server
 *   does this for clients any more (ejabberd only drops expired *offline* messages): it is
 *   the client's job.
 *
 * Who gets automatic answers (XEP-0184 8 "Security Considerations": a receipt tells the
 * sender we are online, so "a recipient SHOULD NOT return message receipts to senders who
 * are not otherwise authorized to view its presence"). Default policy `subscribers`:
 * answer receipt requests and XEP-0022 delivered requests only for our own account, for
 * JIDs the composition root says may see our presence (`presenceVisibleTo`, wired to the
 * roster: subscription from/both), and for JIDs we sent directed presence to. Never for
 * group chat, errors, carbons or archive copies (another resource or the past answered).
 * `always` / `never` for bots and the paranoid.
 *
 * State lives per client in bounded maps (no module globals); `destroy()` clears timers.
 */
import type { SentMessage } from '../../client.ts';
import { ConfabError } from '../../errors.ts';
import { Emitter } from '../../events.ts';
import { type BareJid, bare, type Jid, tryJid } from '../../jid.ts';
import { Element, xml } from '../../xml/element.ts';
import type { AddressInput } from './codec/addressing.ts';
import { NS_ADDRESS } from './codec/addressing.ts';
import { NS_CHATSTATES } from './codec/chatstates.ts';
import { readDelay } from './codec/delay.ts';
import { LEGACY_EVENTS, NS_EVENT } from './codec/events.ts';
import { NS_SID } from './codec/sid.ts';
import {
  buildMessage,
  type ChatState,
  chatStateMessage,
  correctionExtra,
  type Delay,
  eventNotification,
  type Invitation,
  type LegacyEvent,
  type MarkerType,
  type Message,
  type MessageSource,
  type MessageType,
  markerElement,
  newThreadId,
  type OutgoingMessage,
  parseMessage,
  type RosterExchangeItem,
  receiptElement,
  retractionMessage,
} from './codec.ts';

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';

/** What the feature needs from the client (the composition root passes these). */
export interface MessagingHost {
  self(): { bare: BareJid; domain: string };
  /** Deliver to the app: the client's `message` event. */
  emitMessage(m: Message): void;
  /** Into the outbox (never lost). */
  enqueue(el: Element): Promise<SentMessage>;
  /** Straight to the stream (ephemeral: chat states, receipts, markers). */
  send(el: Element): Promise<void>;
  iq(req: { type: 'get' | 'set'; to?: string; payload: Element }): Promise<Element>;
  pending(): SentMessage[];
  log(line: string): void;
  onError(err: unknown): void;
}

export interface MessagingOptions {
  /** Who gets automatic receipts / XEP-0022 delivered answers (see the banner). Default `subscribers`. */
  autoReceipts: 'subscribers' | 'always' | 'never';
  /** May `bare` see our presence? Wire the roster here (subscription `from` or `both`). */
  presenceVisibleTo: ((bare: BareJid) => boolean) | undefined;
  /** Capability lookup (entity caps): does `jid` support `feature`? undefined = unknown. */
  peerSupports: ((jid: Jid, feature: string) => boolean | undefined) | undefined;
  /** Send XEP-0085 chat states at all. Default true. */
  chatStates: boolean;
  /** De-duplication keys remembered. Default 5000. */
  dedupSize: number;
  /** Received and sent messages remembered for corrections, retractions, receipts. Default 2000. */
  historySize: number;
}

const DEFAULTS: MessagingOptions = {
  autoReceipts: 'subscribers',
  presenceVisibleTo: undefined,
  peerSupports: undefined,
  chatStates: true,
  dedupSize: 5000,
  historySize: 2000,
};

/** `ingest` options: where the copy came from. */
export interface IngestOptions {
  source: MessageSource;
  /** The archive that served it (MAM: our bare JID or the room); its stanza-ids are trusted. */
  archive?: string | undefined;
  /** The archive's id for it (MAM `<result id>`): a trusted stanza-id by `archive`. */
  archiveId?: string | undefined;
  /** The `<forwarded><delay/>` of a MAM result or carbon, when the message itself has none. */
  delay?: Delay | undefined;
}

export interface ReceiptEvent {
  /** Id of our message. */
  id: string;
  from: Jid;
  via: 'xep0184' | 'xep0022';
}
export interface ChatStateEvent {
  from: Jid;
  state: ChatState;
  thread: string | undefined;
  /** From XEP-0022 composing events rather than XEP-0085. */
  legacy: boolean;
}
export interface MarkerEvent {
  from: Jid;
  marker: MarkerType;
  id: string;
  /** The id names a message we sent to that peer (and the marker comes from that peer). */
  ours: boolean;
  legacy: boolean;
}
export interface CorrectionEvent {
  /** Id of the original message. */
  id: string;
  /** The original, when we delivered it (then the sender was checked); else the app must check `message.from`. */
  original: Message | undefined;
  verified: boolean;
  body: string | undefined;
  message: Message;
}
export interface RetractionEvent {
  id: string;
  original: Message | undefined;
  verified: boolean;
  message: Message;
}
export interface IgnoredEvent {
  reason: 'duplicate' | 'expired' | 'forged-correction' | 'forged-retraction' | 'unexpected-receipt';
  message: Message;
}

export interface MessagingEvents {
  receipt: ReceiptEvent;
  chatState: ChatStateEvent;
  marker: MarkerEvent;
  correction: CorrectionEvent;
  retraction: RetractionEvent;
  /** A delivered message's lifetime ran out before `markDisplayed`: remove it from view. */
  expired: { message: Message };
  /** Dropped before the app saw it, and why. */
  ignored: IgnoredEvent;
  invitation: { from: Jid; invitation: Invitation; message: Message };
  rosterExchange: { from: Jid; items: RosterExchangeItem[]; message: Message };
}

/** What `messages.sendToMany` did. */
export interface MulticastResult {
  via: 'multicast' | 'per-recipient';
  /** The multicast service used. */
  service: string | undefined;
  sent: SentMessage[];
}

interface SentRecord {
  id: string;
  to: string;
  peer: string;
  type: MessageType;
  thread: string | undefined;
  receipt: boolean;
}

/** A Map that forgets its oldest entries beyond `max` (insertion order; `touch` refreshes). */
class Lru<K, V> {
  readonly #m = new Map<K, V>();
  constructor(readonly max: number) {}
  get(k: K): V | undefined {
    return this.#m.get(k);
  }
  has(k: K): boolean {
    return this.#m.has(k);
  }
  set(k: K, v: V): void {
    this.#m.delete(k);
    this.#m.set(k, v);
    if (this.#m.size > this.max) this.#m.delete(this.#m.keys().next().value as K);
  }
  delete(k: K): void {
    this.#m.delete(k);
  }
  get size(): number {
    return this.#m.size;
  }
}

/** FNV-1a 32-bit: a short, stable hash of a body for the last-resort de-duplication key. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}

/** Delayed by our own server or account (XEP-0160 offline storage), not by the sender. */
function fromOfflineStorage(el: Element, me: { bare: BareJid; domain: string }): boolean {
  const by = readDelay(el)?.from;
  return by !== undefined && (by === me.domain || bare(by) === me.bare);
}

/** How peers are keyed: bare JID one-to-one, full JID (occupant) in a room. */
function peerOf(j: Jid, type: MessageType): string {
  return type === 'groupchat' ? j : bare(j);
}

/**
 * Messaging for one client: `client.messages` is this object.
 *
 * @example
 * const sent = await client.messages.send({ to: 'romeo@example.net', body: 'hi', receipt: true, thread: true });
 * await client.messages.waitForReceipt(sent.id, { timeout: 10_000 });
 */
export class Messaging {
  readonly #host: MessagingHost;
  readonly #o: MessagingOptions;
  readonly #events = new Emitter<MessagingEvents>((err) => this.#host.onError(err));
  readonly #seen: Lru<string, true>;
  /** Delivered messages by `${peer}\n${id}` (and origin-id). */
  readonly #received: Lru<string, Message>;
  /** id -> peer of the last message delivered with that id (forgery detection). */
  readonly #receivedBy: Lru<string, string>;
  readonly #sent: Lru<string, SentRecord>;
  readonly #lastSent = new Map<string, string>();
  readonly #receipts: Lru<string, ReceiptEvent>;
  readonly #receiptWaiters = new Map<string, Set<(e: ReceiptEvent) => void>>();
  /** XEP-0085 support per peer: true (they sent states), false (a reply without). */
  readonly #chatStateSupport: Lru<string, boolean>;
  readonly #lastState: Lru<string, ChatState>;
  /** XEP-0022: peers that use it, their last request, and whether we told them "composing". */
  readonly #legacyPeers: Lru<string, true>;
  readonly #eventRequests: Lru<string, { id: string; events: LegacyEvent[]; to: Jid }>;
  readonly #legacyComposing = new Set<string>();
  /** Bare JIDs we sent directed available presence to (they may see our presence). */
  readonly #directed = new Set<string>();
  readonly #expiry = new Map<Message, ReturnType<typeof setTimeout>>();
  #multicast: Promise<string | undefined> | undefined;

  constructor(host: MessagingHost, options: Partial<MessagingOptions> = {}) {
    this.#host = host;
    this.#o = { ...DEFAULTS, ...options };
    const h = this.#o.historySize;
    this.#seen = new Lru(this.#o.dedupSize);
    this.#received = new Lru(h);
    this.#receivedBy = new Lru(h);
    this.#sent = new Lru(h);
    this.#receipts = new Lru(h);
    this.#chatStateSupport = new Lru(h);
    this.#lastState = new Lru(h);
    this.#legacyPeers = new Lru(h);
    this.#eventRequests = new Lru(h);
  }

  /** Listen to a messaging event; returns the teardown. */
  on<K extends keyof MessagingEvents>(event: K, fn: (e: MessagingEvents[K]) => void): () => void {
    return this.#events.on(event, fn);
  }
  once<K extends keyof MessagingEvents>(event: K, fn: (e: MessagingEvents[K]) => void): () => void {
    return this.#events.once(event, fn);
  }
  off<K extends keyof MessagingEvents>(event: K, fn: (e: MessagingEvents[K]) => void): void {
    this.#events.off(event, fn);
  }

  /** Change the policy hooks later (the composition root wires the roster / caps once they exist). */
  configure(options: Partial<MessagingOptions>): void {
    Object.assign(this.#o, options);
  }

  /** A new unique thread id (RFC 6121 5.2.5). */
  newThread(): string {
    return newThreadId();
  }

  /** Messages not yet confirmed by the server, oldest first. */
  pending(): SentMessage[] {
    return this.#host.pending();
  }

  // ---------------------------------------------------------------- sending

  /**
   * Send a message. It never gets lost: while offline or reconnecting it waits in the
   * outbox (in the Store before this resolves) and goes out, in order, once online.
   * Resolves once queued or sent; `confirmed` says when the server has it. Every
   * message carries an origin-id equal to its id, so receivers can drop duplicates.
   * Rejects with ERR_OUTBOX_FULL when `outboxMax` messages wait and the client is not online.
   *
   * @example
   * const { id, confirmed } = await client.messages.send({ to: 'romeo@example.net', body: 'Wherefore art thou?' });
   * await confirmed; // the server has it
   */
  send(m: OutgoingMessage | Element): Promise<SentMessage> {
    if (m instanceof Element) {
      const el = m;
      return this.#host.enqueue(el).then((s) => {
        this.#recordElement(el, s.id, false);
        return s;
      });
    }
    return this.#sendObject(m, false);
  }

  #sendObject(m: OutgoingMessage, special: boolean): Promise<SentMessage> {
    const to = tryJid(m.to);
    if (to === undefined) return Promise.reject(new ConfabError('ERR_BAD_INPUT', `Invalid JID '${m.to}'`));
    const type = m.type ?? 'chat';
    const peer = peerOf(to, type);
    const hasBody = m.body !== undefined;
    const o: OutgoingMessage = { ...m, thread: m.thread === true ? newThreadId() : m.thread };
    if (
      m.chatState === undefined &&
      hasBody &&
      this.#o.chatStates &&
      type === 'chat' &&
      this.#mayChatState(to) !== false
    )
      o.chatState = 'active';
    if (m.chatState === false) o.chatState = undefined;
    if (
      (m.events === undefined || m.events === 'auto') &&
      hasBody &&
      type !== 'groupchat' &&
      type !== 'error'
    ) {
      o.events =
        this.#legacyPeers.has(peer) || this.#o.peerSupports?.(to, NS_EVENT) === true ? LEGACY_EVENTS : false;
    }
    if (type === 'error' && o.receipt) o.receipt = false; // XEP-0184 5.4: never on errors
    const el = buildMessage(o);
    if (o.chatState) this.#lastState.set(peer, o.chatState);
    if (hasBody) this.#legacyComposing.delete(peer); // XEP-0022 4.4: a message ends "composing"
    return this.#host.enqueue(el).then((s) => {
      this.#sent.set(s.id, {
        id: s.id,
        to,
        peer,
        type,
        thread: o.thread as string | undefined,
        receipt: !!o.receipt,
      });
      if (hasBody && !special) this.#lastSent.set(peer, s.id);
      return s;
    });
  }

  #recordElement(el: Element, id: string, special: boolean): void {
    const to = tryJid(el.attr('to'));
    if (!to) return;
    const type = (el.attr('type') ?? 'normal') as MessageType;
    const peer = peerOf(to, type);
    this.#sent.set(id, {
      id,
      to,
      peer,
      type,
      thread: el.getChildText('thread'),
      receipt: el.getChild('request', 'urn:xmpp:receipts') !== undefined,
    });
    if (el.getChild('body') && !special) this.#lastSent.set(peer, id);
  }

  /**
   * Reply in the same conversation: same type, same thread (RFC 6121 5.2.5), to the
   * sender (a room's bare JID for group chat; XEP-0033 `replyto` when the message names one).
   */
  reply(msg: Message, m: Omit<OutgoingMessage, 'to'> & { to?: string }): Promise<SentMessage> {
    const replyTo = msg.addresses.find((a) => a.type === 'replyto' && a.jid)?.jid;
    const to = m.to ?? replyTo ?? (msg.type === 'groupchat' ? bare(msg.from) : msg.from);
    const type: MessageType = m.type ?? (msg.type === 'error' ? 'chat' : msg.type);
    return this.#sendObject({ ...m, to, type, thread: m.thread ?? msg.thread }, false);
  }

  /**
   * XEP-0033: one message to many. Through the server's multicast service when disco says
   * it has one (ejabberd's mod_multicast), else one message per `to`/`cc`/`bcc` recipient
   * (each carrying the visible addresses, never the bcc ones).
   */
  async sendToMany(
    m: Omit<OutgoingMessage, 'to' | 'addresses'>,
    addresses: readonly AddressInput[],
  ): Promise<MulticastResult> {
    const targets = addresses.filter(
      (a) => a.jid && (a.type === 'to' || a.type === 'cc' || a.type === 'bcc'),
    );
    if (targets.length === 0)
      throw new ConfabError('ERR_BAD_INPUT', 'sendToMany needs a to, cc or bcc address');
    const service = await this.multicastService();
    const type = m.type ?? 'normal';
    if (service) {
      const s = await this.#sendObject(
        { ...m, type, to: service, addresses, chatState: false, events: false },
        true,
      );
      return { via: 'multicast', service, sent: [s] };
    }
    const visible = addresses.filter((a) => a.type !== 'bcc');
    const sent: SentMessage[] = [];
    for (const a of targets)
      sent.push(await this.#sendObject({ ...m, type, to: a.jid!, addresses: visible }, false));
    return { via: 'per-recipient', service: undefined, sent };
  }

  /** The server's XEP-0033 multicast service, found once by disco (undefined: none). */
  multicastService(): Promise<string | undefined> {
    this.#multicast ??= this.#findService(NS_ADDRESS).catch((err: unknown) => {
      this.#multicast = undefined;
      this.#host.log(`multicast discovery failed: ${String((err as Error)?.message ?? err)}`);
      return undefined;
    });
    return this.#multicast;
  }

  async #findService(feature: string): Promise<string | undefined> {
    const { domain } = this.#host.self();
    const has = async (jid: string) => {
      try {
        const r = await this.#host.iq({
          type: 'get',
          to: jid,
          payload: xml('query', { xmlns: NS_DISCO_INFO }),
        });
        const q = r.getChild('query', NS_DISCO_INFO);
        return q?.getChildren('feature').some((f) => f.attr('var') === feature) === true;
      } catch {
        return false;
      }
    };
    if (await has(domain)) return domain;
    const items = await this.#host.iq({
      type: 'get',
      to: domain,
      payload: xml('query', { xmlns: NS_DISCO_ITEMS }),
    });
    const jids = (items.getChild('query', NS_DISCO_ITEMS)?.getChildren('item') ?? [])
      .map((i) => i.attr('jid'))
      .filter((j): j is string => !!j && i2(j))
      .slice(0, 32);
    const found = await Promise.all(jids.map(has));
    return jids[found.indexOf(true)];
    function i2(j: string) {
      // Only services of our own server (a component on a subdomain or the domain itself).
      return j === domain || j.endsWith(`.${domain}`);
    }
  }

  /**
   * XEP-0085: tell `to` our chat state. Sent only to peers that showed support (they
   * sent us a chat state, or caps say so); the same state twice in a row is not repeated.
   * Also answers a pending XEP-0022 composing request. Returns whether anything was sent.
   */
  chatState(to: string, state: ChatState, o: { type?: MessageType; thread?: string } = {}): boolean {
    const j = tryJid(to);
    if (!j) throw new ConfabError('ERR_BAD_INPUT', `Invalid JID '${to}'`);
    const type = o.type ?? 'chat';
    const peer = peerOf(j, type);
    let sent = false;
    if (this.#o.chatStates && this.#mayChatState(j) === true && this.#lastState.get(peer) !== state) {
      this.#lastState.set(peer, state);
      this.#fire(chatStateMessage(to, state, type, o.thread));
      sent = true;
    }
    const req = this.#eventRequests.get(peer);
    if (req?.events.includes('composing')) {
      if (state === 'composing' && !this.#legacyComposing.has(peer)) {
        this.#legacyComposing.add(peer);
        this.#fire(eventNotification(req.to, req.id, 'composing'));
        sent = true;
      } else if (state !== 'composing' && this.#legacyComposing.delete(peer)) {
        this.#fire(eventNotification(req.to, req.id, undefined));
        sent = true;
      }
    }
    return sent;
  }

  /** true: send; false: they replied without states (stop); undefined: unknown (only with messages). */
  #mayChatState(j: Jid): boolean | undefined {
    const caps = this.#o.peerSupports?.(j, NS_CHATSTATES);
    if (caps !== undefined) return caps;
    return this.#chatStateSupport.get(bare(j)) ?? this.#chatStateSupport.get(j);
  }

  /**
   * The user has seen `msg`: send the XEP-0333 displayed marker (if it was markable), the
   * XEP-0022 displayed event (if requested), and stop its XEP-0023 expiry clock.
   */
  markDisplayed(msg: Message): void {
    const t = this.#expiry.get(msg);
    if (t !== undefined) {
      clearTimeout(t);
      this.#expiry.delete(msg);
    }
    if (msg.type === 'error' || msg.outgoing) return;
    if (msg.markers.markable) {
      const id = msg.type === 'groupchat' ? (msg.stanzaId(bare(msg.from)) ?? msg.id) : msg.id;
      if (id !== undefined) {
        const to = msg.type === 'groupchat' ? bare(msg.from) : msg.from;
        this.#fire(markerElement(to, msg.type, 'displayed', id, msg.thread));
      }
    }
    if (msg.events?.kind === 'request' && msg.events.events.includes('displayed') && msg.id !== undefined)
      this.#fire(eventNotification(msg.from, msg.id, 'displayed'));
  }

  /**
   * XEP-0308: correct our own last message to that peer (`id` is the original's id, also
   * for a second correction). Rejects with ERR_BAD_INPUT for any other message.
   */
  correct(id: string, body: string, o: Partial<OutgoingMessage> = {}): Promise<SentMessage> {
    const rec = this.#sent.get(id);
    if (!rec)
      return Promise.reject(new ConfabError('ERR_BAD_INPUT', `message ${id} was not sent by this client`));
    if (this.#lastSent.get(rec.peer) !== id)
      return Promise.reject(
        new ConfabError(
          'ERR_BAD_INPUT',
          `message ${id} is not the last message to ${rec.peer}: only that one can be corrected`,
        ),
      );
    return this.#sendObject(
      {
        ...o,
        to: rec.to,
        type: rec.type,
        thread: rec.thread,
        body,
        extra: [...(o.extra ?? []), correctionExtra(id)],
      },
      true,
    );
  }

  /** XEP-0424: retract a message we sent (by its id = origin-id), with the XEP-0428 fallback body. */
  retract(id: string): Promise<SentMessage> {
    const rec = this.#sent.get(id);
    if (!rec)
      return Promise.reject(new ConfabError('ERR_BAD_INPUT', `message ${id} was not sent by this client`));
    if (this.#lastSent.get(rec.peer) === id) this.#lastSent.delete(rec.peer);
    return this.#sendObject(retractionMessage(rec.to, rec.type, id, rec.thread), true);
  }

  /**
   * Resolves with the receipt for our message `id` (XEP-0184, or a XEP-0022 delivered
   * event) from its recipient; rejects with ERR_TIMEOUT (default 30 s) or ERR_ABORTED.
   */
  waitForReceipt(id: string, o: { timeout?: number; signal?: AbortSignal } = {}): Promise<ReceiptEvent> {
    const got = this.#receipts.get(id);
    if (got) return Promise.resolve(got);
    return new Promise((resolve, reject) => {
      const set = this.#receiptWaiters.get(id) ?? new Set<(e: ReceiptEvent) => void>();
      this.#receiptWaiters.set(id, set);
      const done = (e: ReceiptEvent) => {
        cleanup();
        resolve(e);
      };
      const onAbort = () => {
        cleanup();
        reject(new ConfabError('ERR_ABORTED', `waiting for the receipt of ${id} was cancelled`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new ConfabError('ERR_TIMEOUT', `no receipt for message ${id}`));
      }, o.timeout ?? 30_000);
      const cleanup = () => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        set.delete(done);
        if (set.size === 0) this.#receiptWaiters.delete(id);
      };
      set.add(done);
      if (o.signal?.aborted) onAbort();
      else o.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The client tells us about presence we send (directed presence lets the target see us). */
  outboundPresence(el: Element): void {
    const to = tryJid(el.attr('to'));
    if (!to) return;
    const type = el.attr('type');
    if (type === undefined) this.#directed.add(bare(to));
    else if (type === 'unavailable') this.#directed.delete(bare(to));
  }

  /** Stop timers and waiters (the client is being thrown away). */
  destroy(): void {
    for (const t of this.#expiry.values()) clearTimeout(t);
    this.#expiry.clear();
  }

  // ---------------------------------------------------------------- receiving

  /**
   * The one inbound entry: live stanzas (the client), unwrapped carbons (`carbon-sent`,
   * `carbon-received`), offline and archive (MAM) copies. Checks, de-duplicates, applies
   * and answers, then emits. Returns the message delivered to the app as `message`, or
   * undefined when it was dropped or consumed (a correction or retraction goes to its own event).
   * The caller has checked that the copy is genuine (carbons from our bare JID, MAM results
   * from the queried archive); everything about the inner message is checked here.
   */
  ingest(el: Element, o: IngestOptions = { source: 'live' }): Message | undefined {
    const me = this.#host.self();
    const self = me.bare;
    const trusted = o.archive ? [o.archive] : [];
    // XEP-0160 (1.0.1) 2 "Process Flow": a message our server kept while we were away
    // carries a delay stamped by the server (Prosody and ejabberd: the domain). Nothing
    // else tells it from a live one; the label only informs the app (a peer faking it
    // gains nothing: offline copies are treated exactly like live ones).
    const source = o.source === 'live' && fromOfflineStorage(el, me) ? 'offline' : o.source;
    const m = parseMessage(el, {
      self,
      source,
      trusted,
      extraStanzaIds: o.archive && o.archiveId ? [{ by: o.archive, id: o.archiveId }] : undefined,
      delay: o.delay,
    });
    // 1. Once per message.
    const keys = this.#keys(m, self, o.archive);
    if (keys.some((k) => this.#seen.has(k))) {
      this.#events.emit('ignored', { reason: 'duplicate', message: m });
      return undefined;
    }
    for (const k of keys) this.#seen.set(k, true);
    // 2. Lifetime over (XEP-0023): never shown.
    if (m.expiresAt && m.expiresAt.getTime() <= m.receivedAt.getTime()) {
      this.#host.log(`dropped expired message ${m.id ?? ''} from ${m.from}`);
      this.#events.emit('ignored', { reason: 'expired', message: m });
      return undefined;
    }
    const peer = m.outgoing ? undefined : peerOf(m.from, m.type);
    const live = source === 'live' || source === 'offline';
    if (peer !== undefined && m.type !== 'error') this.#learn(m, peer, live);
    // 3. Feedback about our messages. A message one of our other resources sent (its sent
    // carbon, XEP-0280) is ours too: the receipt or marker its recipient returns reaches this
    // resource as a received carbon, and is then recognised (not as our own last message,
    // which corrections refer to: that stays the one this resource sent).
    if (m.outgoing && source === 'carbon-sent' && m.id !== undefined && m.type !== 'error')
      this.#recordElement(el, m.id, true);
    if (m.type !== 'error' && !m.outgoing) this.#feedback(m);
    // 4. Corrections and retractions go to their own events, never as a second message.
    if (m.replace !== undefined && m.type !== 'error') return this.#applyCorrection(m, self);
    if (m.retract !== undefined && m.type !== 'error') return this.#applyRetraction(m, self);
    // 5. Answers we owe (live copies only: for carbons another resource answers, the archive is past).
    if (live && !m.outgoing && m.type !== 'error' && m.type !== 'groupchat' && m.id !== undefined)
      this.#answer(m, self);
    // 6. Remember it (corrections, retractions), arm its expiry, deliver.
    this.#remember(m, self);
    if (m.expiresAt) this.#armExpiry(m);
    this.#host.emitMessage(m);
    if (m.invitation) this.#events.emit('invitation', { from: m.from, invitation: m.invitation, message: m });
    if (m.rosterItems.length > 0)
      this.#events.emit('rosterExchange', { from: m.from, items: m.rosterItems, message: m });
    return m;
  }

  #keys(m: Message, self: BareJid, archive: string | undefined): string[] {
    const keys: string[] = [];
    const sid = m.stanzaId(self) ?? (archive ? m.stanzaId(archive) : undefined);
    if (sid !== undefined) keys.push(`s\n${archive && !m.stanzaId(self) ? archive : self}\n${sid}`);
    const sender = m.type === 'groupchat' ? m.from : bare(m.from);
    if (m.originId !== undefined) keys.push(`o\n${sender}\n${m.originId}`);
    else if (m.id !== undefined && m.type !== 'error')
      keys.push(`i\n${sender}\n${m.id}\n${hash(`${m.body ?? ''}\u0000${m.replace ?? ''}`)}`);
    return keys;
  }

  /** What a peer's message tells us about what it supports (XEP-0085 5.1, XEP-0022). */
  #learn(m: Message, peer: string, live: boolean): void {
    if (m.chatState) this.#chatStateSupport.set(peer, true);
    else if (live && m.body !== undefined && m.type === 'chat' && m.replace === undefined)
      this.#chatStateSupport.set(peer, false);
    if (m.events) this.#legacyPeers.set(peer, true);
    if (live && m.events?.kind === 'request' && m.id !== undefined && m.body !== undefined)
      this.#eventRequests.set(peer, { id: m.id, events: m.events.events, to: m.from });
  }

  #feedback(m: Message): void {
    const r = m.receipt.received;
    if (r !== undefined) this.#gotReceipt(r, m.from, 'xep0184', m);
    if (m.chatState && m.body === undefined)
      this.#events.emit('chatState', { from: m.from, state: m.chatState, thread: m.thread, legacy: false });
    for (const marker of ['received', 'displayed', 'acknowledged'] as const) {
      const id = m.markers[marker];
      if (id !== undefined)
        this.#events.emit('marker', {
          from: m.from,
          marker,
          id,
          ours: this.#isOurs(id, m.from),
          legacy: false,
        });
    }
    const ev = m.events;
    if (ev?.kind === 'notification' && ev.id !== undefined && m.body === undefined) {
      if (ev.events.includes('delivered')) this.#gotReceipt(ev.id, m.from, 'xep0022', m);
      if (ev.events.includes('displayed'))
        this.#events.emit('marker', {
          from: m.from,
          marker: 'displayed',
          id: ev.id,
          ours: this.#isOurs(ev.id, m.from),
          legacy: true,
        });
      if (ev.events.includes('composing') || ev.events.length === 0)
        this.#events.emit('chatState', {
          from: m.from,
          state: ev.events.includes('composing') ? 'composing' : 'paused',
          thread: m.thread,
          legacy: true,
        });
    }
  }

  #isOurs(id: string, from: Jid): boolean {
    const rec = this.#sent.get(id);
    if (!rec) return false;
    // One-to-one: from the recipient's account; in a room: from the room (its occupants).
    return bare(from) === bare(rec.to as Jid);
  }

  /** A receipt counts only from the recipient of the message it names (DESIGN principle 5). */
  #gotReceipt(id: string, from: Jid, via: ReceiptEvent['via'], m: Message): void {
    if (!this.#isOurs(id, from)) {
      this.#events.emit('ignored', { reason: 'unexpected-receipt', message: m });
      return;
    }
    if (this.#receipts.has(id)) return;
    const e: ReceiptEvent = { id, from, via };
    this.#receipts.set(id, e);
    this.#events.emit('receipt', e);
    for (const w of [...(this.#receiptWaiters.get(id) ?? [])]) w(e);
  }

  #senderKey(m: Message, self: BareJid): string {
    return m.outgoing ? self : peerOf(m.from, m.type);
  }

  /** Find the message `id` from this sender; `forged` when it exists but from someone else. */
  #lookup(
    id: string,
    m: Message,
    self: BareJid,
  ): { original: Message | undefined; verified: boolean; forged: boolean } {
    const key = this.#senderKey(m, self);
    const original = this.#received.get(`${key}\n${id}\n-orig`) ?? this.#received.get(`${key}\n${id}`);
    if (original) return { original, verified: true, forged: false };
    // Our own message corrected from another of our devices (carbon-sent).
    if (key === self && this.#sent.has(id)) return { original: undefined, verified: true, forged: false };
    const other = this.#receivedBy.get(id);
    if (other !== undefined && other !== key) return { original: undefined, verified: false, forged: true };
    if (key !== self && this.#sent.has(id)) return { original: undefined, verified: false, forged: true };
    return { original: undefined, verified: false, forged: false };
  }

  #applyCorrection(m: Message, self: BareJid): undefined {
    const id = m.replace!;
    const r = this.#lookup(id, m, self);
    if (r.forged) {
      this.#host.log(`ignored a correction of ${id} from ${m.from}: not the sender of that message`);
      this.#events.emit('ignored', { reason: 'forged-correction', message: m });
      return undefined;
    }
    // A correction's own id may be named by a buggy client later: map it to the original.
    if (m.id !== undefined)
      this.#received.set(`${this.#senderKey(m, self)}\n${m.id}\n-orig`, r.original ?? m);
    this.#events.emit('correction', {
      id,
      original: r.original,
      verified: r.verified,
      body: m.body,
      message: m,
    });
    return undefined;
  }

  #applyRetraction(m: Message, self: BareJid): undefined {
    const id = m.retract!;
    const r = this.#lookup(id, m, self);
    if (r.forged) {
      this.#host.log(`ignored a retraction of ${id} from ${m.from}: not the sender of that message`);
      this.#events.emit('ignored', { reason: 'forged-retraction', message: m });
      return undefined;
    }
    if (r.original) {
      const t = this.#expiry.get(r.original);
      if (t !== undefined) clearTimeout(t);
      this.#expiry.delete(r.original);
    }
    this.#events.emit('retraction', { id, original: r.original, verified: r.verified, message: m });
    return undefined;
  }

  #remember(m: Message, self: BareJid): void {
    if (m.type === 'error') return;
    const key = this.#senderKey(m, self);
    for (const id of new Set([m.id, m.originId])) {
      if (id === undefined) continue;
      this.#received.set(`${key}\n${id}`, m);
      this.#receivedBy.set(id, key);
    }
  }

  #mayTellPresence(from: Jid, self: BareJid): boolean {
    const p = this.#o.autoReceipts;
    if (p === 'always') return true;
    if (p === 'never') return false;
    const b = bare(from);
    return b === self || this.#directed.has(b) || this.#o.presenceVisibleTo?.(b) === true;
  }

  #answer(m: Message, self: BareJid): void {
    const wantsReceipt = m.receipt.request;
    const wantsDelivered = m.events?.kind === 'request' && m.events.events.includes('delivered');
    if (!wantsReceipt && !wantsDelivered) return;
    if (!this.#mayTellPresence(m.from, self)) {
      this.#host.log(
        `not answering the receipt request of ${m.from}: it may not see our presence (XEP-0184 8)`,
      );
      return;
    }
    if (wantsReceipt) this.#fire(receiptElement(m.from, m.id!, m.type));
    if (wantsDelivered) this.#fire(eventNotification(m.from, m.id!, 'delivered'));
  }

  #armExpiry(m: Message): void {
    if (this.#expiry.size >= this.#o.historySize) return; // bounded: the oldest clocks keep running
    const ms = Math.max(0, m.expiresAt!.getTime() - Date.now());
    const t = setTimeout(() => {
      this.#expiry.delete(m);
      this.#events.emit('expired', { message: m });
    }, ms);
    (t as { unref?: () => void }).unref?.();
    this.#expiry.set(m, t);
  }

  /** Ephemeral stanzas straight to the stream; if we are offline they are simply not sent. */
  #fire(el: Element): void {
    this.#host
      .send(el)
      .catch((err: unknown) => this.#host.log(`not sent (${String((err as Error)?.message ?? err)})`));
  }
}

/** What we announce in disco#info (XEP-0030) and so in our caps (XEP-0115). */
export const MESSAGING_FEATURES = [
  'urn:xmpp:receipts',
  NS_CHATSTATES,
  'urn:xmpp:chat-markers:0',
  'urn:xmpp:message-correct:0',
  'urn:xmpp:message-retract:1',
  'urn:xmpp:message-retract:0',
  NS_EVENT,
  'jabber:x:oob',
  'jabber:x:conference',
  'http://jabber.org/protocol/rosterx',
  NS_ADDRESS,
  NS_SID,
] as const;
