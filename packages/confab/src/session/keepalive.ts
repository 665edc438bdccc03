/**
 * Keepalive and dead-link detection: whitespace keepalive (RFC 6120 4.6.1) on an
 * idle TCP stream, and XMPP Ping (XEP-0199 version 2.0.1, section 4.2 "Client-to-
 * Server Pings") when nothing has arrived for a while.
 *
 * Why both: the seed's advice (send a newline once a minute) keeps NATs and
 * firewalls from dropping an idle connection, but a write into a half-open TCP
 * connection can sit in the kernel's buffer for many minutes before the OS gives
 * up. Only an answer proves the link works, so after `pingInterval` of inbound
 * silence we ping the server and declare the link dead if nothing at all arrives
 * within `pingTimeout`. Defaults: 40 s + 20 s, so a dead link is noticed within
 * about a minute of the last byte received.
 *
 * Cost: activity is recorded as a timestamp (no timer reset per stanza); one timer
 * per connection wakes at the next deadline.
 */
import { ConfabError } from '../errors.ts';

/** Keepalive settings, in milliseconds; 0 switches a mechanism off. */
export interface KeepaliveOptions {
  /** Send whitespace after this long without writing anything (TCP only). Default 30 s. */
  whitespaceInterval: number;
  /** Ping the server after this long without receiving anything. Default 40 s. */
  pingInterval: number;
  /** Declare the link dead when nothing arrives this long after a ping. Default 20 s. */
  pingTimeout: number;
}

export const DEFAULT_KEEPALIVE: KeepaliveOptions = {
  whitespaceInterval: 30_000,
  pingInterval: 40_000,
  pingTimeout: 20_000,
};

/** The clock the session's timers run on; tests inject a fake one. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface KeepaliveDeps {
  clock: Clock;
  /** Write whitespace (the transport's no-op where framing has none). */
  sendWhitespace(): void;
  /** Ping the server; resolves on any reply (an error reply also proves the link). */
  ping(timeout: number): Promise<void>;
  /** The link is dead: tear the connection down. */
  dead(err: ConfabError): void;
}

export class Keepalive {
  readonly #o: KeepaliveOptions;
  readonly #d: KeepaliveDeps;
  #lastIn = 0;
  #lastOut = 0;
  #timer: unknown;
  #pingSentAt: number | undefined;
  #running = false;

  constructor(options: KeepaliveOptions, deps: KeepaliveDeps) {
    this.#o = options;
    this.#d = deps;
  }

  start(): void {
    const now = this.#d.clock.now();
    this.#lastIn = now;
    this.#lastOut = now;
    this.#running = true;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#d.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pingSentAt = undefined;
  }

  /** Something arrived (any element). */
  inbound(): void {
    this.#lastIn = this.#d.clock.now();
  }

  /** Something was written. */
  outbound(): void {
    this.#lastOut = this.#d.clock.now();
  }

  #schedule(): void {
    if (!this.#running) return;
    const now = this.#d.clock.now();
    let next = Number.POSITIVE_INFINITY;
    if (this.#o.whitespaceInterval > 0) next = Math.min(next, this.#lastOut + this.#o.whitespaceInterval);
    if (this.#o.pingInterval > 0) {
      next = Math.min(
        next,
        this.#pingSentAt !== undefined
          ? this.#pingSentAt + this.#o.pingTimeout
          : this.#lastIn + this.#o.pingInterval,
      );
    }
    if (!Number.isFinite(next)) return;
    this.#timer = this.#d.clock.setTimeout(() => this.#tick(), Math.max(0, next - now));
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#d.clock.now();
    const o = this.#o;
    if (this.#pingSentAt !== undefined) {
      if (this.#lastIn >= this.#pingSentAt) {
        // Traffic since the ping (same millisecond included: loopback is fast) proves the link.
        this.#pingSentAt = undefined;
      } else if (now - this.#pingSentAt >= o.pingTimeout) {
        this.stop();
        this.#d.dead(
          new ConfabError(
            'ERR_TIMEOUT',
            `Connection dead: no data for ${now - this.#lastIn} ms, ping unanswered`,
          ),
        );
        return;
      }
    }
    if (o.pingInterval > 0 && this.#pingSentAt === undefined && now - this.#lastIn >= o.pingInterval) {
      const sentAt = now;
      this.#pingSentAt = sentAt;
      this.#lastOut = now;
      this.#d.ping(o.pingTimeout).then(
        () => {
          if (this.#pingSentAt === sentAt) {
            this.#pingSentAt = undefined;
            this.#reschedule();
          }
        },
        () => {
          // A failed/timed-out ping is judged in #tick by whether anything arrived.
        },
      );
    }
    if (o.whitespaceInterval > 0 && now - this.#lastOut >= o.whitespaceInterval) {
      this.#lastOut = now;
      this.#d.sendWhitespace();
    }
    this.#schedule();
  }

  #reschedule(): void {
    if (!this.#running) return;
    if (this.#timer !== undefined) this.#d.clock.clearTimeout(this.#timer);
    this.#schedule();
  }
}
