/**
 * Stream Management, client side: XEP-0198 version 1.6.3 (namespace urn:xmpp:sm:3).
 * Re-sent messages are marked with XEP-0203 Delayed Delivery 2.0 (`<delay stamp>`)
 * and XEP-0359 Unique and Stable Stanza IDs 0.7 (`<origin-id>`).
 *
 * A state machine without a socket, a parser or a timer of its own (the clock is
 * injected): the session feeds it what it sends and receives, and writes what it
 * is told to write. Nothing here throws on server input; bad input becomes a result
 * the session acts on.
 *
 * How the session drives it:
 *   start      `await sm.load()` once (state from the Store: a previous run's session)
 *   connect    after auth: `sm.canResume()` ? send `sm.resumeElement()` : bind, then
 *              send `sm.enableElement()`; answer with `onResumed` / `onEnabled` / `onFailed`
 *   out        every stanza: `const r = sm.track(el, outboxId)`; if `sm.saving`, await
 *              `sm.saved()`; write el; if r, write r
 *   in         every top-level element: `sm.receive(el)`: write `reply`, act on `acked`,
 *              close the stream on `violation`, else hand the stanza on
 *   drop       `sm.detach()`; on reconnect resume again, or `sm.discard()` and re-send
 *   end        clean close: write `sm.ackElement()`, then `sm.discard()`
 *
 * Counting (XEP-0198 section 4). Outbound stanzas are counted from the moment
 * `<enable/>` is written, inbound ones from `<enabled/>`. Only `message`,
 * `presence` and `iq` count; nonzas never do. `h` is an unsignedInt that wraps
 * from 2^32-1 to 0: we keep unwrapped local counters (JS numbers are exact to 2^53)
 * and compare the server's `h` modulo 2^32, so the wrap needs no special case.
 *
 * Acks in batches. Asking after every stanza (stanza.io) costs a round of parse
 * and write per stanza on both ends: ~40% of the throughput in our benchmark. We
 * ask after `ackEvery` unrequested stanzas, with at most `maxAcksInFlight`
 * requests outstanding (an answer covers everything before its request, so one
 * in flight is enough at low rates), and after `ackDelay` ms of quiet for a tail
 * smaller than a batch, so a lone message is confirmed quickly.
 *
 * At full speed one request in flight is not enough. The sender is window-bound (the
 * outbox holds at most ~`highWaterMark` unacked messages) and the server answers an
 * `<r/>` only after everything before it, so with a single request the window moved
 * in two lurches: the request written with an `<a/>` covers the few stanzas sent
 * since the last one, the window refills right after it uncovered, and that whole
 * window waits for the next round trip (Prosody: 1.2 s per 1,000 messages in our
 * benchmark, the sender idle meanwhile). So a new request also goes out whenever
 * `highWaterMark / 8` stanzas are uncovered, whatever is in flight: the answers
 * come back through the window and keep it sliding, at one `<r/>` per 125 stanzas.
 *
 * Bad `h` (section 5, "Error Handling"): an `h` that acknowledges more than we
 * sent is answered with `undefined-condition` + `<handled-count-too-high/>` and the
 * stream closes. An `h` below the last one cannot be told apart from one that
 * wrapped past what we sent, so it gets the same answer; an `h` that is not an
 * unsignedInt gets `undefined-condition` with a text.
 *
 * Persistence, only when the Store is durable: the session state and each
 * unacked stanza (serialized) are written through the Store, batched per
 * microtask in one atomic `apply`. A stanza is on record before it reaches the
 * wire (the session awaits `saved()` first): after a crash, a resumed stream's `h`
 * can never point past what we know we sent, so nothing is sent twice. Inbound `h`
 * is written in the same batches (not awaited).
 *
 * After a failed resumption the unacked messages are re-sent once on the new
 * stream, marked with `<delay stamp>` (the original send time: receivers show when
 * it was written, not when we reconnected) and an `<origin-id>` equal to the
 * message id (receivers can drop a duplicate of one that did arrive). Messages the
 * outbox owns (tracked with an `appId`) are handed back to it instead (`returned`),
 * so one place owns each message. iq and presence are never re-sent blindly: an
 * iq's answer would go to a request that is gone, and presence state is rebuilt
 * by the session; they are reported (`dropped`).
 */
import { ConfabError } from '../errors.ts';
import { xmlCodec } from '../store/codec.ts';
import type { ElementCodec, SmStateRecord, SmUnackedRecord, Store, StoreOp } from '../store/types.ts';
import { SM_NS, SM_STATE_KEY, SM_UNACKED_LIST } from '../store/types.ts';
import { Element, xml } from '../xml/element.ts';
import { type Clock, systemClock } from './keepalive.ts';
import { NS_CLIENT, NS_SM, NS_STANZA_ERRORS } from './ns.ts';
import { streamErrorElement } from './stream-error.ts';

/** XEP-0203 Delayed Delivery. */
export const NS_DELAY = 'urn:xmpp:delay';
/** XEP-0359 Unique and Stable Stanza IDs. */
export const NS_SID = 'urn:xmpp:sid:0';

const WRAP = 2 ** 32;

export interface SmOptions {
  /** Where the state lives; without one (or with a non-durable one) it is kept in memory only. */
  store?: Store | undefined;
  /** Serializer/parser for stored stanzas. Default: confab's own (store/codec.ts). */
  codec?: ElementCodec | undefined;
  /** Timers and time. Default: the system clock. */
  clock?: Clock | undefined;
  /** Request an ack once this many sent stanzas are not covered by a request. Default 10. */
  ackEvery?: number | undefined;
  /** Request an ack this long (ms) after the last stanza when fewer than `ackEvery` wait. Default 100. */
  ackDelay?: number | undefined;
  /** At most this many `<r/>` outstanding. Default 1. */
  maxAcksInFlight?: number | undefined;
  /**
   * The sender's window: `saturated` turns true at this many unacked stanzas (the session
   * pauses the outbox), and at full speed a request goes out per eighth of it. Default 1000.
   */
  highWaterMark?: number | undefined;
  /** Preferred maximum resumption time in seconds (`<enable max>`); none by default. */
  maxResume?: number | undefined;
  /** Writes a delayed `<r/>` (the `ackDelay` timer). Without it, only batch-triggered requests happen. */
  sendAckRequest?: ((r: Element) => void) | undefined;
  /** A Store write failed. The state in memory stays right; only durability suffers. */
  onStoreError?: ((err: unknown) => void) | undefined;
  /** Id generator for re-sent messages that had none. Default: 16 random hex digits. */
  newId?: (() => string) | undefined;
}

/** What `<enabled/>` said. */
export interface SmEnabledInfo {
  /** SM-ID; present when the server may let us resume. */
  id: string | undefined;
  /** Whether the server allows resumption. */
  resume: boolean;
  /** Server's maximum resumption time (s). */
  max: number | undefined;
  /** Server's preferred reconnect location ("host:port"). */
  location: string | undefined;
}

/** An outbound stanza SM tracked. */
export interface TrackedStanza {
  element: Element;
  /** The outbox id it was tracked with, if any. */
  appId: string | undefined;
  /** When it was first sent (ms since epoch). */
  sentAt: number;
}

/** What is left when an SM session ends without resumption. */
export interface SmLoss {
  /** Acknowledged by the `h` on `<failed/>` (before the rest was given up). */
  acked: TrackedStanza[];
  /** Messages to write once on the new stream, after bind (and enable): already marked with delay + origin-id. */
  resend: Element[];
  /** Outbox ids of unacked messages: hand to `outbox.returned()`, which re-sends them. */
  returned: string[];
  /** Unacked iq and presence stanzas, not re-sent: report them. */
  dropped: TrackedStanza[];
}

/** `<failed/>`: the condition, and the loss as with `discard()`. */
export interface SmFailure extends SmLoss {
  /** Stanza error condition in the `<failed/>`, e.g. `item-not-found`; `undefined-condition` when none. */
  condition: string;
  text: string | undefined;
  /** The `h` attribute was present but made no sense; it was ignored (everything unacked is in the loss). */
  badH: boolean;
}

/** What `receive()` found. */
export type SmReceived =
  /** Not for SM (a stanza, counted if SM is on; or some other element): hand it on. */
  | { type: 'pass' }
  /** `<r/>`: write `reply` (the `<a/>`) now. */
  | { type: 'reply'; reply: Element }
  /** `<a/>`: these stanzas are acknowledged; write `request` (an `<r/>`) if set. */
  | { type: 'acked'; acked: TrackedStanza[]; request: Element | undefined }
  /** The server broke the protocol: write `streamError`, close the stream (`error` is for the app/log). */
  | { type: 'violation'; error: ConfabError; streamError: Element };

/** What `onResumed()` found. */
export type SmResumed =
  /** Resumed: write `resend` in order (not through `track`: they keep their numbers), then `request`. */
  | { ok: true; acked: TrackedStanza[]; resend: Element[]; request: Element | undefined }
  | { ok: false; error: ConfabError; streamError: Element };

interface Entry {
  /** Unwrapped sequence number: 1 for the first stanza after enable. */
  n: number;
  element: Element;
  appId: string | undefined;
  sentAt: number;
}

const PASS: SmReceived = Object.freeze({ type: 'pass' });

function isStanza(el: Element): boolean {
  return (
    (el.name === 'message' || el.name === 'presence' || el.name === 'iq') &&
    (el.xmlns === NS_CLIENT || el.xmlns === '')
  );
}

/** An unsignedInt (0 .. 2^32-1) in canonical decimal, else undefined. */
function parseUint32(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d{1,10}$/.test(s)) return undefined;
  const v = Number(s);
  return v < WRAP ? v : undefined;
}

function parseBool(s: string | undefined): boolean {
  return s === 'true' || s === '1';
}

// Random bytes drawn in bulk: one getRandomValues call costs ~3 us in Node, more than
// everything else a message costs us; a pool of 512 ids keeps them unpredictable and cheap.
const POOL = new Uint8Array(4096);
let poolAt = POOL.length;
const HEX = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** 16 random hex digits (64 bits from crypto.getRandomValues). */
export function randomId(): string {
  if (poolAt + 8 > POOL.length) {
    crypto.getRandomValues(POOL);
    poolAt = 0;
  }
  // One String.fromCharCode on char codes gives a flat string; `+=` of 8 pieces built a
  // rope (cons cells) that every kept id carried along.
  const out: number[] = new Array(16);
  for (let i = 0; i < 16; i += 2) {
    const b = POOL[poolAt++]!;
    out[i] = HEX[b >> 4]!;
    out[i + 1] = HEX[b & 15]!;
  }
  return String.fromCharCode.apply(null, out);
}

/** A deep copy, so marking a re-send never changes an element someone else holds. */
export function cloneElement(el: Element): Element {
  return new Element(
    el.name,
    el.xmlns,
    { ...el.attrs },
    el.children.map((c) => (typeof c === 'string' ? c : cloneElement(c))),
  );
}

/**
 * A string that owns its characters. The parser's strings are slices of the chunk read
 * from the socket (V8 sliced strings from 13 characters on), so keeping one short
 * attribute keeps the whole chunk (kilobytes) alive. The JSON round trip is exact for
 * every string (lone surrogates included) and yields a flat copy.
 */
export function ownString(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}

/**
 * A deep copy to keep for a long time (e.g. a connection's stream features): every
 * string in it is its own (`ownString`), so it holds nothing of the chunk it was read from.
 */
export function ownedCopy(el: Element): Element {
  const attrs: Record<string, string> = {};
  for (const k in el.attrs) {
    const v = el.attrs[k];
    if (v !== undefined) attrs[ownString(k)] = ownString(v);
  }
  return new Element(
    ownString(el.name),
    ownString(el.xmlns),
    attrs,
    el.children.map((c) => (typeof c === 'string' ? ownString(c) : ownedCopy(c))),
  );
}

/**
 * Mark a message for a re-send on a new stream: a `<delay>` with the original
 * stamp unless it has one, an id and an `<origin-id>` equal to it unless present.
 * Returns a copy.
 */
export function markResend(el: Element, sentAt: number, newId: () => string = randomId): Element {
  const c = cloneElement(el);
  if (!c.getChild('delay', NS_DELAY)) {
    c.append(xml('delay', { xmlns: NS_DELAY, stamp: new Date(sentAt).toISOString() }));
  }
  const origin = c.getChild('origin-id', NS_SID);
  let id = c.attrs.id;
  if (!id) {
    id = origin?.attrs.id || newId();
    c.attrs.id = id;
  }
  if (!origin) c.append(xml('origin-id', { xmlns: NS_SID, id }));
  return c;
}

/**
 * Client-side XEP-0198 state: counters, the unacked queue, ack batching,
 * resumption. One instance per account; it lives across connections.
 *
 * @example
 * const sm = new StreamManagement({ store, sendAckRequest: (r) => transport.send(r) });
 * await sm.load();
 * send(sm.enableElement());                 // after bind
 * sm.onEnabled(await nextSmElement(), { jid });
 * const r = sm.track(message, outboxId); send(message); if (r) send(r);
 */
export class StreamManagement {
  readonly #store: Store | undefined;
  readonly #codec: ElementCodec;
  readonly #clock: Clock;
  readonly #ackEvery: number;
  readonly #ackDelay: number;
  readonly #maxInFlight: number;
  readonly #highWaterMark: number;
  /** Uncovered stanzas that get a request even with `maxAcksInFlight` out (see the module comment). */
  readonly #ackSpread: number;
  readonly #maxResume: number | undefined;
  readonly #sendAckRequest: ((r: Element) => void) | undefined;
  readonly #onStoreError: (err: unknown) => void;
  readonly #newId: () => string;

  // The SM session.
  #id: string | undefined;
  #resume = false;
  #location: string | undefined;
  #max: number | undefined;
  #jid: string | undefined;
  /** Counting outbound stanzas (after `<enable/>` was written, or resumed). */
  #active = false;
  /** Counting inbound stanzas and answering `<r/>` (after `<enabled/>` or `<resumed/>`). */
  #enabled = false;
  #resuming = false;
  #inbound = 0; // wire value
  #sent = 0; // unwrapped
  #acked = 0; // unwrapped
  #queue: Entry[] = [];
  /** Coverage (value of #sent) of each outstanding `<r/>`, oldest first. */
  #requests: number[] = [];
  #timer: unknown;
  #updatedAt = 0;
  #detachedAt: number | undefined;

  // Persistence.
  #pending: StoreOp[] = [];
  #stateDirty = false;
  #scheduled: Promise<void> | undefined;
  #lastWrite: Promise<void> = Promise.resolve();
  #writes = 0;

  constructor(options: SmOptions = {}) {
    this.#store = options.store?.durable ? options.store : undefined;
    this.#codec = options.codec ?? xmlCodec;
    this.#clock = options.clock ?? systemClock;
    this.#ackEvery = Math.max(1, options.ackEvery ?? 10);
    this.#ackDelay = options.ackDelay ?? 100;
    this.#maxInFlight = Math.max(1, options.maxAcksInFlight ?? 1);
    this.#highWaterMark = options.highWaterMark ?? 1000;
    this.#ackSpread = Math.max(this.#ackEvery, Math.floor(this.#highWaterMark / 8));
    this.#maxResume = options.maxResume;
    this.#sendAckRequest = options.sendAckRequest;
    this.#onStoreError = options.onStoreError ?? (() => {});
    this.#newId = options.newId ?? randomId;
  }

  // ---- queries -------------------------------------------------------------

  /** SM-ID of the current (or resumable) session. */
  get id(): string | undefined {
    return this.#id;
  }
  /** Whether the server allows resuming the current session. */
  get resumable(): boolean {
    return this.#resume && this.#id !== undefined;
  }
  /** Server's preferred reconnect location, "host:port" (connect there first when resuming). */
  get location(): string | undefined {
    return this.#location;
  }
  /** Server's maximum resumption time in seconds. */
  get max(): number | undefined {
    return this.#max;
  }
  /** Full JID bound on the managed stream (restored by `load()`: a resumed stream keeps it). */
  get jid(): string | undefined {
    return this.#jid;
  }
  /** True between `<enabled/>`/`<resumed/>` and detach/discard. */
  get enabled(): boolean {
    return this.#enabled;
  }
  /** Our `h`: inbound stanzas handled (mod 2^32). */
  get inboundCount(): number {
    return this.#inbound;
  }
  /** Stanzas sent since enable (mod 2^32). */
  get outboundCount(): number {
    return this.#sent % WRAP;
  }
  /** The server's last `h` (mod 2^32). */
  get ackedCount(): number {
    return this.#acked % WRAP;
  }
  /** Stanzas sent and not yet acknowledged. */
  get unackedCount(): number {
    return this.#queue.length;
  }
  /** Too many unacked stanzas: the session should stop feeding new ones until acks arrive. */
  get saturated(): boolean {
    return this.#queue.length >= this.#highWaterMark;
  }
  /** The unacked stanzas, oldest first. */
  unacked(): TrackedStanza[] {
    return this.#queue.map(toTracked);
  }
  /** Outbox ids among the unacked stanzas (for `outbox.load()` after a restart). */
  pendingAppIds(): Set<string> {
    const s = new Set<string>();
    for (const e of this.#queue) if (e.appId !== undefined) s.add(e.appId);
    return s;
  }

  /**
   * Whether trying `<resume/>` makes sense: a resumable session, not known to have
   * outlived the server's `max`.
   */
  canResume(): boolean {
    if (!this.resumable) return false;
    if (this.#max === undefined) return true;
    const since = this.#detachedAt ?? this.#updatedAt;
    return this.#clock.now() - since <= this.#max * 1000;
  }

  // ---- persistence ---------------------------------------------------------

  /**
   * Restore state from the Store (once, before the first connection). Returns
   * `canResume()`. Unreadable stored stanzas are skipped and reported through
   * `onStoreError`.
   */
  async load(): Promise<boolean> {
    const store = this.#store;
    if (!store) return false;
    const raw = (await store.get(SM_NS, SM_STATE_KEY)) as SmStateRecord | undefined;
    if (!raw || typeof raw !== 'object') return false;
    const items = await store.list(SM_UNACKED_LIST);
    this.#id = typeof raw.id === 'string' ? raw.id : undefined;
    this.#resume = raw.resume === true;
    this.#location = typeof raw.location === 'string' ? raw.location : undefined;
    this.#max = typeof raw.max === 'number' ? raw.max : undefined;
    this.#jid = typeof raw.jid === 'string' ? raw.jid : undefined;
    this.#inbound = parseUint32(String(raw.inbound)) ?? 0;
    const ackedWire = parseUint32(String(raw.acked)) ?? 0;
    const outWire = parseUint32(String(raw.outbound)) ?? ackedWire;
    this.#acked = ackedWire;
    this.#sent = ackedWire + ((outWire - ackedWire) >>> 0);
    this.#updatedAt = typeof raw.updatedAt === 'number' ? raw.updatedAt : 0;
    this.#detachedAt = typeof raw.detachedAt === 'number' ? raw.detachedAt : undefined;
    this.#queue = [];
    for (const item of items) {
      const r = item.value as unknown as SmUnackedRecord;
      try {
        const seq = parseUint32(String(r.seq));
        if (seq === undefined || typeof r.xml !== 'string') throw new TypeError(`bad record ${item.key}`);
        const n = this.#acked + ((seq - ackedWire) >>> 0);
        if (n <= this.#acked || n > this.#sent) continue; // acked, or not ours: nothing to re-send
        this.#queue.push({
          n,
          element: this.#codec.parse(r.xml),
          appId: typeof r.appId === 'string' ? r.appId : undefined,
          sentAt: typeof r.sentAt === 'number' ? r.sentAt : this.#updatedAt,
        });
      } catch (err) {
        this.#onStoreError(err);
      }
    }
    this.#queue.sort((a, b) => a.n - b.n);
    return this.canResume();
  }

  /** True while a Store write is scheduled or running. */
  get saving(): boolean {
    return this.#scheduled !== undefined || this.#writes > 0;
  }

  /**
   * Resolves when everything tracked so far is in the Store. Await it before
   * writing tracked stanzas to the wire when `saving` is true. Never rejects
   * (write errors go to `onStoreError`).
   */
  saved(): Promise<void> {
    return this.#scheduled ? this.#scheduled.then(() => this.#lastWrite) : this.#lastWrite;
  }

  #schedule(): void {
    if (!this.#store || this.#scheduled) return;
    this.#scheduled = Promise.resolve().then(() => this.#flush());
  }

  #touch(): void {
    this.#stateDirty = true;
    this.#schedule();
  }

  #flush(): void {
    this.#scheduled = undefined;
    const store = this.#store;
    if (!store) return;
    const ops = this.#pending;
    this.#pending = [];
    if (this.#stateDirty) {
      this.#stateDirty = false;
      this.#updatedAt = this.#clock.now();
      ops.push({ op: 'set', ns: SM_NS, key: SM_STATE_KEY, value: { ...this.#record() } });
    }
    if (ops.length === 0) return;
    this.#writes++;
    const w = store
      .apply(ops)
      .catch((err: unknown) => this.#onStoreError(err))
      .finally(() => {
        this.#writes--;
      });
    const prev = this.#lastWrite;
    this.#lastWrite = prev.then(() => w);
  }

  #record(): SmStateRecord {
    return {
      id: this.#id ?? null,
      resume: this.#resume,
      location: this.#location ?? null,
      max: this.#max ?? null,
      jid: this.#jid ?? null,
      inbound: this.#inbound,
      outbound: this.#sent % WRAP,
      acked: this.#acked % WRAP,
      updatedAt: this.#updatedAt,
      detachedAt: this.#detachedAt ?? null,
    };
  }

  // ---- negotiation ---------------------------------------------------------

  /**
   * `<enable/>`, to write after resource binding. Starts a new SM session: the
   * outbound count starts now. A previous session must have been ended first
   * (`discard()` or `onFailed()`), so its unacked stanzas were dealt with.
   */
  enableElement(resume = true): Element {
    if (this.#queue.length > 0) {
      throw new ConfabError(
        'ERR_BAD_INPUT',
        'stream management: the previous session still has unacked stanzas; call discard() first',
      );
    }
    this.#reset();
    this.#active = true;
    this.#touch();
    return xml('enable', {
      xmlns: NS_SM,
      resume: resume ? 'true' : undefined,
      max: this.#maxResume,
    });
  }

  /**
   * `<enabled/>` arrived. `jid` is the full JID bound on this stream, kept for a
   * resumption after a restart.
   */
  onEnabled(el: Element, context: { jid?: string | undefined } = {}): SmEnabledInfo {
    const id = el.attrs.id || undefined;
    const max = parseUint32(el.attrs.max);
    this.#id = id;
    this.#resume = id !== undefined && parseBool(el.attrs.resume);
    this.#max = max;
    this.#location = el.attrs.location || undefined;
    this.#jid = context.jid;
    this.#active = true;
    this.#enabled = true;
    this.#inbound = 0;
    this.#detachedAt = undefined;
    this.#touch();
    return { id, resume: this.#resume, max, location: this.#location };
  }

  /** `<resume/>` for the current session (check `canResume()` first). */
  resumeElement(): Element {
    if (!this.resumable) {
      throw new ConfabError('ERR_BAD_INPUT', 'stream management: no resumable session');
    }
    this.#resuming = true;
    return xml('resume', { xmlns: NS_SM, previd: this.#id, h: this.#inbound });
  }

  /**
   * `<resumed/>` arrived: release what the server's `h` covers; the rest is to be
   * written again, in order, as is (same sequence numbers on the resumed stream).
   */
  onResumed(el: Element): SmResumed {
    this.#resuming = false;
    const previd = el.attrs.previd;
    if (previd !== undefined && previd !== this.#id) {
      const v = this.#violation(
        `resumed a different session (${previd}) than requested (${this.#id})`,
        undefined,
        undefined,
      );
      return { ok: false, error: v.error, streamError: v.streamError };
    }
    const r = this.#applyH(el.attrs.h);
    if (r.type === 'violation') return { ok: false, error: r.error, streamError: r.streamError };
    this.#active = true;
    this.#enabled = true;
    this.#requests = [];
    this.#detachedAt = undefined;
    this.#touch();
    const resend = this.#queue.map((e) => e.element);
    const request = resend.length > 0 ? this.#makeRequest() : undefined;
    return { ok: true, acked: r.acked, resend, request };
  }

  /**
   * `<failed/>` arrived, in answer to `<enable/>` or `<resume/>`. Whatever its `h`
   * acknowledges is released first; the session then ends (see `SmLoss`).
   */
  onFailed(el: Element): SmFailure {
    let condition = 'undefined-condition';
    let text: string | undefined;
    for (const c of el.elements()) {
      if (c.xmlns !== NS_STANZA_ERRORS) continue;
      if (c.name === 'text') text = c.text();
      else condition = c.name;
    }
    let acked: TrackedStanza[] = [];
    let badH = false;
    // Only a failed resumption carries a meaningful `h` (the old stream's count).
    if (el.attrs.h !== undefined && this.#resuming) {
      const h = parseUint32(el.attrs.h);
      const delta = h === undefined ? -1 : (h - (this.#acked % WRAP)) >>> 0;
      if (h === undefined || delta > this.#sent - this.#acked) badH = true;
      else acked = this.#release(delta);
    }
    const loss = this.#endSession();
    return { ...loss, acked, condition, text, badH };
  }

  /**
   * The SM session is over without resumption (a cleanly closed stream, a server
   * without SM or resumption, a violation): hand out what was not acknowledged.
   */
  discard(): SmLoss {
    return this.#endSession();
  }

  /** The connection went away uncleanly; the session may be resumed later. */
  detach(): void {
    this.#clearTimer();
    this.#requests = [];
    this.#active = false;
    this.#enabled = false;
    this.#resuming = false;
    if (this.#id !== undefined || this.#queue.length > 0) {
      this.#detachedAt = this.#clock.now();
      this.#touch();
    }
  }

  // ---- stanzas ---------------------------------------------------------------

  /**
   * Count an outbound stanza and keep it until acknowledged. Call in wire order,
   * just before writing it. `appId`: the outbox id when the outbox owns the
   * message. Returns an `<r/>` to write right after the stanza, when a batch is
   * due. Does nothing while SM is off.
   */
  track(el: Element, appId?: string): Element | undefined {
    if (!this.#active) return undefined;
    const n = ++this.#sent;
    const sentAt = this.#clock.now();
    this.#queue.push({ n, element: el, appId, sentAt });
    if (this.#store) {
      const rec: SmUnackedRecord = {
        seq: n % WRAP,
        xml: this.#codec.serialize(el),
        appId: appId ?? null,
        sentAt,
      };
      this.#pending.push({ op: 'push', list: SM_UNACKED_LIST, key: String(n % WRAP), value: { ...rec } });
      this.#touch();
    }
    if (this.#requestDue(n - this.#coverage())) return this.#makeRequest();
    this.#armTimer();
    return undefined;
  }

  /**
   * Feed every top-level element received on the stream. Counts stanzas, answers
   * `<r/>`, processes `<a/>`. `<enabled/>`, `<resumed/>` and `<failed/>` belong to
   * negotiation (`onEnabled` ...) and pass.
   */
  receive(el: Element): SmReceived {
    if (!this.#enabled) return PASS;
    if (el.xmlns === NS_SM) {
      if (el.name === 'r') return { type: 'reply', reply: this.ackElement() };
      if (el.name === 'a') {
        const r = this.#applyH(el.attrs.h);
        if (r.type === 'violation') return r;
        if (this.#requests.length > 0) this.#requests.shift();
        while (this.#requests.length > 0 && this.#requests[0]! <= this.#acked) this.#requests.shift();
        let request: Element | undefined;
        const uncovered = this.#sent - this.#coverage();
        if (this.#requestDue(uncovered)) {
          request = this.#makeRequest();
        } else if (uncovered > 0) {
          this.#armTimer();
        } else if (this.#queue.length === 0) {
          this.#clearTimer();
        }
        return { type: 'acked', acked: r.acked, request };
      }
      return PASS;
    }
    if (isStanza(el)) {
      this.#inbound = (this.#inbound + 1) % WRAP;
      this.#touch();
    }
    return PASS;
  }

  /**
   * An `<r/>` now (the CLI's `send` wants its ack without waiting for the batch).
   * Undefined when SM is off, nothing is unrequested or `maxAcksInFlight` are out.
   */
  requestAck(): Element | undefined {
    if (!this.#active || this.#requests.length >= this.#maxInFlight) return undefined;
    if (this.#sent - this.#coverage() <= 0) return undefined;
    return this.#makeRequest();
  }

  /** `<a h/>` with our count: the answer to `<r/>`, and what to write before a clean close. */
  ackElement(): Element {
    return xml('a', { xmlns: NS_SM, h: this.#inbound });
  }

  // ---- internals -------------------------------------------------------------

  /** Highest sequence number an ack or an outstanding request covers. */
  #coverage(): number {
    const last = this.#requests.at(-1);
    return last !== undefined && last > this.#acked ? last : this.#acked;
  }

  /** A batch is due: `ackEvery` uncovered with room in flight, or `#ackSpread` uncovered at all. */
  #requestDue(uncovered: number): boolean {
    return (
      uncovered >= this.#ackEvery &&
      (this.#requests.length < this.#maxInFlight || uncovered >= this.#ackSpread)
    );
  }

  #makeRequest(): Element {
    this.#requests.push(this.#sent);
    this.#clearTimer();
    return xml('r', { xmlns: NS_SM });
  }

  #armTimer(): void {
    if (this.#timer !== undefined || !this.#sendAckRequest || this.#ackDelay < 0) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      const r = this.requestAck();
      if (r) this.#sendAckRequest?.(r);
    }, this.#ackDelay);
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Process a server `h` (from `<a/>` or `<resumed/>`). */
  #applyH(
    hText: string | undefined,
  ):
    | { type: 'ok'; acked: TrackedStanza[] }
    | { type: 'violation'; error: ConfabError; streamError: Element } {
    const h = parseUint32(hText);
    if (h === undefined) {
      return this.#violation(
        `stream management: 'h' is not an unsignedInt: ${JSON.stringify(hText ?? null)}`,
      );
    }
    const delta = (h - (this.#acked % WRAP)) >>> 0;
    const unacked = this.#sent - this.#acked;
    if (delta > unacked) {
      const sendCount = this.#sent % WRAP;
      return this.#violation(
        `You acknowledged ${h} stanzas, but I only sent you ${sendCount} so far.`,
        h,
        sendCount,
      );
    }
    return { type: 'ok', acked: this.#release(delta) };
  }

  #release(count: number): TrackedStanza[] {
    if (count === 0) return [];
    this.#acked += count;
    // Entries are in order; those at or below the new `h` go (after a restart the
    // queue may have gaps where records were unreadable, hence the comparison).
    let k = 0;
    while (k < this.#queue.length && this.#queue[k]!.n <= this.#acked) k++;
    const gone = this.#queue.splice(0, k);
    if (this.#store) {
      for (const e of gone)
        this.#pending.push({ op: 'remove', list: SM_UNACKED_LIST, key: String(e.n % WRAP) });
    }
    this.#touch();
    return gone.map(toTracked);
  }

  #violation(
    text: string,
    h?: number,
    sendCount?: number,
  ): { type: 'violation'; error: ConfabError; streamError: Element } {
    const streamError = streamErrorElement('undefined-condition', text);
    if (h !== undefined) {
      streamError.append(xml('handled-count-too-high', { xmlns: NS_SM, h, 'send-count': sendCount }));
    }
    // We close the stream cleanly after this, which ends the session on the server
    // too; nothing more is counted. The unacked queue stays for `discard()`.
    this.#resume = false;
    this.#active = false;
    this.#enabled = false;
    this.#requests = [];
    this.#clearTimer();
    this.#touch();
    const error = new ConfabError('ERR_SM_PROTOCOL', text, {
      condition: 'undefined-condition',
      text,
      element: streamError,
    });
    return { type: 'violation', error, streamError };
  }

  #endSession(): SmLoss {
    const loss: SmLoss = { acked: [], resend: [], returned: [], dropped: [] };
    for (const e of this.#queue) {
      if (e.element.name === 'message') {
        if (e.appId !== undefined) loss.returned.push(e.appId);
        else loss.resend.push(markResend(e.element, e.sentAt, this.#newId));
      } else {
        loss.dropped.push(toTracked(e));
      }
    }
    this.#reset();
    if (this.#store) this.#pending.push({ op: 'clear', list: SM_UNACKED_LIST });
    this.#touch();
    return loss;
  }

  #reset(): void {
    this.#clearTimer();
    this.#id = undefined;
    this.#resume = false;
    this.#location = undefined;
    this.#max = undefined;
    this.#jid = undefined;
    this.#active = false;
    this.#enabled = false;
    this.#resuming = false;
    this.#inbound = 0;
    this.#sent = 0;
    this.#acked = 0;
    this.#queue = [];
    this.#requests = [];
    this.#detachedAt = undefined;
  }
}

function toTracked(e: Entry): TrackedStanza {
  return { element: e.element, appId: e.appId, sentAt: e.sentAt };
}
