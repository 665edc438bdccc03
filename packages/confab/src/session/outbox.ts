/**
 * The outbox: outbound messages are owned here until the server has them.
 * Specs: XEP-0359 Unique and Stable Stanza IDs 0.7 (`<origin-id>` = message id, so
 * a receiver can drop a duplicate), XEP-0203 Delayed Delivery 2.0 (`<delay stamp>`
 * on a message that goes out late), XEP-0198 1.6.3 acks and XEP-0199 2.0.1 pings as
 * the two ways the server confirms it has them.
 *
 * Promise: nothing the app sent is silently lost. `enqueue()` resolves only once
 * the message is in the Store; when full it rejects (`ERR_OUTBOX_FULL`) instead of
 * dropping anything. Messages go out in the order they were enqueued, once online.
 *
 * A message is done ("acked") when
 * - stream management acknowledges it (`acked(ids)`, from `sm.receive()`), or
 * - on a stream without SM, a ping round trip that started after it was written
 *   succeeded (`checkpoint()` before the ping, `confirmThrough(point)` on the pong):
 *   the server processes a stream in order, so it has handled what came before.
 *
 * Connection loss. With SM, written messages stay with SM (which resumes and
 * re-sends them, or on failure hands their ids back: `returned(ids)`). Without SM,
 * `offline()` puts every unconfirmed message back in the queue: it is sent again on
 * the next connection. That is at-least-once (the server may have taken it just
 * before the link died), which is why every message carries an origin-id and
 * re-sends carry the original time in a `<delay>`: receivers can de-duplicate.
 * Exactly-once across a reconnect needs SM resumption.
 *
 * Restart. `load(sm.pendingAppIds())` restores the stored messages: those SM still
 * tracks stay with SM (its resumption decides), all others are queued. The order of
 * Store writes makes this exact: on an ack the outbox's removal is written before
 * SM's release (same tick, `apply` keeps call order), so a message SM no longer
 * has is either acked-and-gone here too, or was never written to the wire.
 *
 * Each message has a handle with its status and a `confirmed()` promise; listeners
 * see `queued`, `sent`, `acked` and `failed` for every message.
 */
import { ConfabError } from '../errors.ts';
import { xmlCodec } from '../store/codec.ts';
import type { ElementCodec, OutboxRecord, Store } from '../store/types.ts';
import { OUTBOX_LIST } from '../store/types.ts';
import { type Element, xml } from '../xml/element.ts';
import { type Clock, systemClock } from './keepalive.ts';
import { cloneElement, NS_DELAY, NS_SID, randomId } from './sm.ts';

export type OutboxStatus = 'queued' | 'sent' | 'acked' | 'failed';

/**
 * Writes a message to the stream (tracking it with SM where SM is on). Called in
 * enqueue order. A rejection means the connection went away before it was written:
 * the message goes back to the queue.
 */
export type OutboxSender = (el: Element, id: string) => void | Promise<void>;

/** How the server confirms messages on the current connection. */
export type ConfirmMode = 'sm' | 'ping';

export interface OutboxOptions {
  /** Where messages are kept. Without one (or with a non-durable one) they live in memory only. */
  store?: Store | undefined;
  codec?: ElementCodec | undefined;
  clock?: Clock | undefined;
  /** At most this many unconfirmed messages. Default 1000. */
  max?: number | undefined;
  /** Id for messages that have none. Default: 16 random hex digits. */
  newId?: (() => string) | undefined;
  /** A Store write failed after the message was accepted (durability lost; in-memory state kept). */
  onStoreError?: ((err: unknown) => void) | undefined;
}

/** One message in the outbox. */
export interface OutboxMessage {
  /** Message id = origin-id. */
  readonly id: string;
  /** The message as it will be (or was) written. */
  readonly element: Element;
  readonly status: OutboxStatus;
  /** When the app enqueued it (ms since epoch). */
  readonly queuedAt: number;
  /** How many times it was handed to the stream. */
  readonly attempts: number;
  /** Why it failed (status `failed`). */
  readonly error: ConfabError | undefined;
  /**
   * Resolves when the server has it; rejects with the error when it failed.
   * Created on first call, so nobody gets an unhandled rejection for a message
   * whose outcome they never asked about.
   */
  confirmed(): Promise<void>;
}

export interface OutboxEvents {
  queued: (m: OutboxMessage) => void;
  sent: (m: OutboxMessage) => void;
  acked: (m: OutboxMessage) => void;
  failed: (m: OutboxMessage, error: ConfabError) => void;
}

class Item implements OutboxMessage {
  readonly id: string;
  element: Element;
  status: OutboxStatus = 'queued';
  readonly queuedAt: number;
  attempts = 0;
  error: ConfabError | undefined;
  /** Outbox send counter when last written (for ping confirmation). */
  sendNo = 0;
  /** May already have reached the server (re-send or restored): mark with a delay. */
  late = false;
  /** In the Store (or no Store to wait for): only then may it be written to the wire. */
  stored = true;
  #promise: Promise<void> | undefined;
  #resolve: (() => void) | undefined;
  #reject: ((e: ConfabError) => void) | undefined;

  constructor(id: string, element: Element, queuedAt: number) {
    this.id = id;
    this.element = element;
    this.queuedAt = queuedAt;
  }

  confirmed(): Promise<void> {
    if (!this.#promise) {
      if (this.status === 'acked') this.#promise = Promise.resolve();
      else if (this.status === 'failed') this.#promise = Promise.reject(this.error);
      else {
        this.#promise = new Promise<void>((res, rej) => {
          this.#resolve = res;
          this.#reject = rej;
        });
      }
    }
    return this.#promise;
  }

  settle(error?: ConfabError): void {
    if (error) {
      this.status = 'failed';
      this.error = error;
      this.#reject?.(error);
    } else {
      this.status = 'acked';
      this.#resolve?.();
    }
    this.#resolve = undefined;
    this.#reject = undefined;
  }
}

type Listeners = { [K in keyof OutboxEvents]: Set<OutboxEvents[K]> };

/**
 * Queue of outbound messages, persisted, confirmed by SM acks or pings.
 *
 * @example
 * const outbox = new Outbox({ store });
 * await outbox.load(sm.pendingAppIds());
 * outbox.online((el, id) => session.write(el, id), 'sm');
 * const m = await outbox.enqueue(xml('message', { to, type: 'chat' }, xml('body', {}, 'hi')));
 * await m.confirmed();
 */
export class Outbox {
  readonly #store: Store | undefined;
  readonly #codec: ElementCodec;
  readonly #clock: Clock;
  readonly #max: number;
  readonly #newId: () => string;
  readonly #onStoreError: (err: unknown) => void;
  /** Unconfirmed messages in enqueue order (Map keeps insertion order). */
  readonly #items = new Map<string, Item>();
  readonly #listeners: Listeners = {
    queued: new Set(),
    sent: new Set(),
    acked: new Set(),
    failed: new Set(),
  };
  /**
   * Messages to write, in enqueue order, from `#head` on: `#flush` starts there instead of
   * rescanning up to `max` sent messages on every enqueue. Entries that were sent or settled
   * meanwhile are skipped. Putting sent messages back in the queue (a lost connection) marks
   * it `#stale`: it is rebuilt from `#items`, the source of truth, at the next flush.
   */
  #queue: Item[] = [];
  #head = 0;
  #stale = false;
  #sender: OutboxSender | undefined;
  #mode: ConfirmMode = 'ping';
  #sendCounter = 0;
  #flushing = false;

  constructor(options: OutboxOptions = {}) {
    this.#store = options.store?.durable ? options.store : undefined;
    this.#codec = options.codec ?? xmlCodec;
    this.#clock = options.clock ?? systemClock;
    this.#max = options.max ?? 1000;
    this.#newId = options.newId ?? randomId;
    this.#onStoreError = options.onStoreError ?? (() => {});
  }

  /** Unconfirmed messages (queued + sent). */
  get size(): number {
    return this.#items.size;
  }
  /** True while a sender is set (`online`). */
  get isOnline(): boolean {
    return this.#sender !== undefined;
  }
  /** Messages written but not yet confirmed. */
  get unconfirmed(): number {
    let n = 0;
    for (const it of this.#items.values()) if (it.status === 'sent') n++;
    return n;
  }
  has(id: string): boolean {
    return this.#items.has(id);
  }
  get(id: string): OutboxMessage | undefined {
    return this.#items.get(id);
  }
  /** The unconfirmed messages, in order. */
  messages(): OutboxMessage[] {
    return [...this.#items.values()];
  }

  on<K extends keyof OutboxEvents>(event: K, fn: OutboxEvents[K]): () => void {
    (this.#listeners[event] as Set<OutboxEvents[K]>).add(fn);
    return () => {
      (this.#listeners[event] as Set<OutboxEvents[K]>).delete(fn);
    };
  }

  #emit<K extends keyof OutboxEvents>(event: K, ...args: Parameters<OutboxEvents[K]>): void {
    for (const fn of this.#listeners[event] as Set<(...a: Parameters<OutboxEvents[K]>) => void>) {
      try {
        fn(...args);
      } catch {
        // A listener's failure must not break delivery bookkeeping.
      }
    }
  }

  /**
   * Restore stored messages after a restart (call once, before `online`). Ids in
   * `custody` are still tracked by SM (`sm.pendingAppIds()` after `sm.load()`):
   * they count as sent and wait for SM's verdict. Returns how many were restored.
   */
  async load(custody: ReadonlySet<string> = new Set()): Promise<number> {
    const store = this.#store;
    if (!store) return 0;
    let n = 0;
    for (const { key, value } of await store.list(OUTBOX_LIST)) {
      if (this.#items.has(key)) continue;
      const r = value as unknown as OutboxRecord;
      try {
        if (typeof r.xml !== 'string') throw new TypeError(`bad outbox record ${key}`);
        const it = new Item(key, this.#codec.parse(r.xml), typeof r.queuedAt === 'number' ? r.queuedAt : 0);
        // It may have gone out before the restart: mark it as late whatever happens.
        it.late = true;
        if (custody.has(key)) it.status = 'sent';
        else this.#queue.push(it);
        this.#items.set(key, it);
        n++;
      } catch (err) {
        this.#onStoreError(err);
      }
    }
    return n;
  }

  /**
   * Take a message: give it an id (its own, or a new one) and an origin-id equal
   * to it, store it, and send it now if online. Resolves once it is stored.
   * The outbox takes ownership of `el` (it adds the id and origin-id).
   * Rejects with `ERR_OUTBOX_FULL` when `max` messages are unconfirmed, with
   * `ERR_BAD_INPUT` for a non-message or a duplicate id, or with the Store's error.
   */
  async enqueue(el: Element): Promise<OutboxMessage> {
    if (el.name !== 'message')
      throw new ConfabError('ERR_BAD_INPUT', `the outbox takes messages, not ${el.name}`);
    if (this.#items.size >= this.#max) {
      throw new ConfabError(
        'ERR_OUTBOX_FULL',
        `outbox full: ${this.#items.size} messages wait for the server; wait for confirmations or raise \`max\``,
      );
    }
    const origin = el.getChild('origin-id', NS_SID);
    const id = el.attrs.id || origin?.attrs.id || this.#newId();
    if (this.#items.has(id))
      throw new ConfabError('ERR_BAD_INPUT', `a message with id ${id} is already queued`);
    el.attrs.id = id;
    if (!origin) el.append(xml('origin-id', { xmlns: NS_SID, id }));
    const it = new Item(id, el, this.#clock.now());
    // Reserve the slot before the first await, so concurrent enqueues respect `max` and order.
    this.#items.set(id, it);
    this.#queue.push(it);
    if (this.#store) {
      const rec: OutboxRecord = { id, xml: this.#codec.serialize(el), queuedAt: it.queuedAt };
      it.stored = false;
      try {
        await this.#store.apply([{ op: 'push', list: OUTBOX_LIST, key: id, value: { ...rec } }]);
      } catch (err) {
        this.#items.delete(id);
        if (this.#sender) this.#flush(); // later messages no longer wait for this one
        throw err;
      }
      it.stored = true;
      // Settled (failed by the app) while we waited? Then it is not ours to send.
      if (this.#items.get(id) !== it) return it;
    }
    this.#emit('queued', it);
    if (this.#sender) this.#flush();
    return it;
  }

  /**
   * The stream is up: send everything queued, in order, through `sender`, and new
   * messages as they come. `mode`: how this connection confirms them.
   */
  online(sender: OutboxSender, mode: ConfirmMode): void {
    this.#sender = sender;
    this.#mode = mode;
    this.#flush();
  }

  /**
   * The stream is gone. Without SM, unconfirmed messages go back to the queue
   * (re-sent, marked late, on the next connection); with SM they stay with SM
   * until it says `acked` or `returned`.
   */
  offline(): void {
    this.#sender = undefined;
    if (this.#mode === 'sm') return;
    for (const it of this.#items.values()) {
      if (it.status === 'sent') {
        it.status = 'queued';
        it.late = true;
        this.#stale = true;
      }
    }
  }

  /** SM acknowledged these ids (unknown ids are ignored). Call right after `sm.receive()` returned them. */
  acked(ids: Iterable<string | undefined>): void {
    const done: Item[] = [];
    for (const id of ids) {
      if (id === undefined) continue;
      const it = this.#items.get(id);
      if (it) done.push(it);
    }
    this.#finish(done);
  }

  /**
   * SM gave these back (`SmLoss.returned`: its session ended without resumption):
   * queue them again, marked late, ahead of newer messages (enqueue order is kept).
   */
  returned(ids: Iterable<string>): void {
    for (const id of ids) {
      const it = this.#items.get(id);
      if (it && it.status === 'sent') {
        it.status = 'queued';
        it.late = true;
        this.#stale = true;
      }
    }
    if (this.#sender) this.#flush();
  }

  /** A point in the send order: everything written so far is before it. Take it just before a ping. */
  checkpoint(): number {
    return this.#sendCounter;
  }

  /** A round trip started at `point` succeeded: everything written before it is confirmed. */
  confirmThrough(point: number): void {
    const done: Item[] = [];
    for (const it of this.#items.values()) {
      if (it.status === 'sent' && it.sendNo <= point) done.push(it);
    }
    this.#finish(done);
  }

  /**
   * The message bounced (a `<message type='error'>` with its id, or the app gave
   * up on it). Returns false for an unknown id.
   */
  failed(id: string, error: ConfabError): boolean {
    const it = this.#items.get(id);
    if (!it) return false;
    this.#items.delete(id);
    this.#persistRemoval([it]);
    it.settle(error);
    this.#emit('failed', it, error);
    return true;
  }

  #finish(done: Item[]): void {
    if (done.length === 0) return;
    for (const it of done) this.#items.delete(it.id);
    // Written before SM writes its release (SM batches per microtask): see the module comment.
    this.#persistRemoval(done);
    for (const it of done) {
      it.settle();
      this.#emit('acked', it);
    }
  }

  #persistRemoval(items: Item[]): void {
    if (!this.#store) return;
    this.#store
      .apply(items.map((it) => ({ op: 'remove' as const, list: OUTBOX_LIST, key: it.id })))
      .catch((err: unknown) => this.#onStoreError(err));
  }

  #flush(): void {
    // A sender that calls back into the outbox (enqueue from a listener) must not re-enter.
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      for (;;) {
        const sender = this.#sender;
        if (!sender) break;
        if (this.#stale) this.#rebuildQueue();
        const it = this.#queue[this.#head];
        if (it === undefined) break;
        // Sent or settled since it was queued: not ours to write any more.
        if (it.status !== 'queued' || this.#items.get(it.id) !== it) {
          this.#head++;
          continue;
        }
        // Order: a message still on its way into the Store holds back the ones after it.
        if (!it.stored) break;
        this.#head++;
        if (!this.#sendOne(it, sender)) break;
      }
    } finally {
      this.#flushing = false;
    }
    // Drop the consumed prefix now and then (amortised O(1) per message).
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 256 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The queued messages again, in enqueue order (`#items` keeps it), after some went back. */
  #rebuildQueue(): void {
    this.#stale = false;
    const q: Item[] = [];
    for (const it of this.#items.values()) if (it.status === 'queued') q.push(it);
    this.#queue = q;
    this.#head = 0;
  }

  /** Written nowhere: back in the queue, for the next connection. */
  #back(it: Item): void {
    if (it.status === 'sent' && this.#items.get(it.id) === it) {
      it.status = 'queued';
      it.late = true;
      this.#stale = true;
    }
  }

  /** Hand one message to the sender; false when it threw (connection gone: stop, keep order). */
  #sendOne(it: Item, sender: OutboxSender): boolean {
    it.status = 'sent';
    it.attempts++;
    it.sendNo = ++this.#sendCounter;
    let el = it.element;
    if (it.late && !el.getChild('delay', NS_DELAY)) {
      el = cloneElement(el);
      el.append(xml('delay', { xmlns: NS_DELAY, stamp: new Date(it.queuedAt).toISOString() }));
      it.element = el;
    }
    let r: void | Promise<void>;
    try {
      r = sender(el, it.id);
    } catch {
      this.#back(it);
      return false;
    }
    this.#emit('sent', it);
    // Only a sender that returns a promise (no SM) gets a rejection handler: nothing per message under SM.
    if (r && typeof r.then === 'function') r.then(undefined, () => this.#back(it));
    return true;
  }
}
