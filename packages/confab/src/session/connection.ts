/**
 * One connection: a Transport plus the stream's life on it (RFC 6120 section 4,
 * "XML Streams": opening 4.2, closing 4.4, stream errors 4.9).
 *
 * It turns the transport's callbacks into what the session needs:
 * - during negotiation, a pull interface (`header()`, `next()`) with a deadline, so
 *   negotiate.ts reads like the RFC's step list instead of a callback maze;
 * - once online, push delivery (`deliver(fn)`) into the inbound pipeline;
 * - one `ended` promise that settles exactly once with why the connection ended:
 *   undefined when we closed it on purpose, else a ConfabError (the peer's stream
 *   error, our parse error, the socket's error, a timeout).
 *
 * Fatal local errors (the server sent bad XML): we send the stream error first,
 * then close (RFC 6120 4.9.1.1), as the seed asks ("it's polite to first write an
 * <error> element").
 */
import { ConfabError, type StreamError, type XmlError } from '../errors.ts';
import type { StreamHeader, Transport, TransportHandlers } from '../transport/types.ts';
import type { Element } from '../xml/element.ts';
import { type DebugSink, formatWire } from './debug.ts';
import { isStreamError, parseStreamError, streamErrorElement } from './stream-error.ts';

type Queued = { header: Record<string, string> } | { element: Element };

interface Waiter {
  resolve(q: Queued): void;
  reject(err: Error): void;
}

export interface ConnectionOptions {
  /** Redacted wire log. */
  debug?: DebugSink | undefined;
  /** Every element received (after the debug log), e.g. keepalive bookkeeping. */
  onInbound?: (() => void) | undefined;
  /** Every element written. */
  onOutbound?: (() => void) | undefined;
}

export class Connection {
  readonly #o: ConnectionOptions;
  #transport: Transport | undefined;
  readonly #queue: Queued[] = [];
  #waiter: Waiter | undefined;
  #deliver: ((el: Element) => void) | undefined;
  /** Set once we know how the connection ends (first reason wins). */
  #reason: ConfabError | undefined;
  #closedByUs = false;
  #done = false;
  #resolveEnded!: (err: ConfabError | undefined) => void;
  /** Settles once, when the socket is gone: undefined if we closed on purpose. */
  readonly ended: Promise<ConfabError | undefined>;
  #peerClosed = false;
  #onPeerClose: (() => void) | undefined;

  /** The handlers to pass to the platform's createTransport. */
  readonly handlers: TransportHandlers;

  constructor(options: ConnectionOptions = {}) {
    this.#o = options;
    this.ended = new Promise((r) => {
      this.#resolveEnded = r;
    });
    this.handlers = {
      streamStart: (attrs) => {
        this.#o.debug?.(
          `confab <- <stream:stream ${Object.entries(attrs)
            .map(([k, v]) => `${k}='${v}'`)
            .join(' ')}>`,
        );
        this.#o.onInbound?.();
        this.#push({ header: attrs });
      },
      element: (el) => this.#onElement(el),
      streamEnd: () => {
        this.#o.debug?.('confab <- </stream:stream>');
        this.#peerClosed = true;
        this.#onPeerClose?.();
        // Answer the close and drop the socket (RFC 6120 4.4). If we did not ask for
        // it and saw no stream error, it is an unexpected drop: the caller may reconnect.
        this.#fail(new ConfabError('ERR_SOCKET_CLOSED', 'The server closed the stream'));
        this.#shutdown(true);
      },
      parseError: (err: XmlError) => this.fatal(err),
      closed: (error) => this.#onClosed(error),
      log: (m) => this.#o.debug?.(`confab transport: ${m}`),
    };
  }

  /** The transport, once attached. */
  get transport(): Transport {
    if (!this.#transport) throw new ConfabError('ERR_NOT_CONNECTED', 'No transport');
    return this.#transport;
  }

  /** Whether the connection is gone (or going). */
  get done(): boolean {
    return this.#done || this.#reason !== undefined || this.#closedByUs;
  }

  attach(transport: Transport): void {
    this.#transport = transport;
  }

  /** Open (or restart) our stream. */
  openStream(header: StreamHeader): void {
    this.#o.debug?.(
      `confab -> <stream:stream to='${header.to}'${header.from ? ` from='${header.from}'` : ''}>`,
    );
    this.#o.onOutbound?.();
    this.transport.openStream(header);
  }

  /** Write one element (logged, counted). Rejects when the connection is gone. */
  send(el: Element): Promise<void> {
    if (this.done) {
      return Promise.reject(this.#reason ?? new ConfabError('ERR_NOT_CONNECTED', 'The connection is closed'));
    }
    if (this.#o.debug) this.#o.debug(formatWire('out', el));
    this.#o.onOutbound?.();
    return this.transport.send(el);
  }

  /** Next stream header from the peer, within `timeout` ms. */
  async header(timeout: number): Promise<Record<string, string>> {
    const q = await this.#pull(timeout, 'stream header');
    if ('header' in q) return q.header;
    throw new ConfabError('ERR_NEGOTIATION', `Expected a stream header, got <${q.element.name}>`, {
      element: q.element,
    });
  }

  /** Next element from the peer, within `timeout` ms. Stream errors reject (StreamError). */
  async next(timeout: number, what = 'reply'): Promise<Element> {
    const q = await this.#pull(timeout, what);
    if ('element' in q) return q.element;
    throw new ConfabError('ERR_NEGOTIATION', 'Unexpected stream restart by the server');
  }

  /** Switch to push delivery (online): queued elements first, in order. */
  deliver(fn: (el: Element) => void): void {
    this.#deliver = fn;
    while (this.#queue.length > 0 && this.#deliver === fn && !this.done) {
      const q = this.#queue.shift()!;
      if ('element' in q) fn(q.element);
    }
  }

  /**
   * Close on purpose: our `</stream:stream>`, then wait up to `timeout` ms for the
   * server's close, then drop the socket (RFC 6120 4.4: wait for the peer's closing
   * tag so nothing it sent is lost, but not forever).
   */
  async close(timeout: number): Promise<void> {
    if (this.#done) return;
    this.#closedByUs = true;
    const t = this.#transport;
    if (!t) return;
    if (!this.#peerClosed) {
      try {
        this.#o.debug?.('confab -> </stream:stream>');
        t.closeStream();
      } catch {
        // the socket is already gone; closed() follows
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeout);
        const stop = () => {
          clearTimeout(timer);
          resolve();
        };
        this.#onPeerClose = stop;
        this.ended.then(stop);
      });
    }
    t.destroy();
  }

  /**
   * A fatal local error: send the stream error with its condition (or `element`, a
   * prepared `<stream:error>` such as stream management's `handled-count-too-high`),
   * then close.
   */
  fatal(err: ConfabError, condition = err.condition ?? 'undefined-condition', element?: Element): void {
    if (this.#done) return;
    this.#fail(err);
    const t = this.#transport;
    if (!t) return;
    try {
      const el = element ?? streamErrorElement(condition);
      this.#o.debug?.(formatWire('out', el));
      void t.send(el).catch(() => {});
      t.closeStream();
    } catch {
      // nothing more to say on a broken socket
    }
    t.destroy(err);
  }

  /** Drop the connection now with `err` (e.g. dead link). */
  destroy(err?: ConfabError): void {
    if (err) this.#fail(err);
    else this.#closedByUs = true;
    this.#transport?.destroy(err);
  }

  #onElement(el: Element): void {
    if (this.#o.debug) this.#o.debug(formatWire('in', el));
    this.#o.onInbound?.();
    if (isStreamError(el)) {
      const err: StreamError = parseStreamError(el);
      this.#fail(err);
      this.#shutdown(true);
      return;
    }
    if (this.#deliver && !this.done) this.#deliver(el);
    else this.#push({ element: el });
  }

  #push(q: Queued): void {
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w.resolve(q);
    } else {
      this.#queue.push(q);
    }
  }

  #pull(timeout: number, what: string): Promise<Queued> {
    const q = this.#queue.shift();
    if (q) return Promise.resolve(q);
    if (this.#reason) return Promise.reject(this.#reason);
    if (this.#done) return Promise.reject(new ConfabError('ERR_SOCKET_CLOSED', 'The connection is closed'));
    return new Promise<Queued>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        const err = new ConfabError('ERR_TIMEOUT', `No ${what} from the server within ${timeout} ms`);
        reject(err);
        this.destroy(err);
      }, timeout);
      this.#waiter = {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** Record why the connection ends (first reason wins) and wake a waiting reader. */
  #fail(err: ConfabError): void {
    if (this.#reason || this.#closedByUs) return;
    this.#reason = err;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(err);
  }

  #shutdown(sendClose: boolean): void {
    const t = this.#transport;
    if (!t) return;
    try {
      if (sendClose && !this.#closedByUs) {
        this.#o.debug?.('confab -> </stream:stream>');
        t.closeStream();
      }
    } catch {
      // already gone
    }
    t.destroy();
  }

  #onClosed(error?: Error): void {
    if (this.#done) return;
    if (error && !this.#closedByUs) {
      this.#fail(
        error instanceof ConfabError
          ? error
          : new ConfabError('ERR_SOCKET_CLOSED', `Connection lost: ${error.message}`, { cause: error }),
      );
    } else if (!this.#closedByUs) {
      this.#fail(new ConfabError('ERR_SOCKET_CLOSED', 'Connection closed'));
    }
    this.#done = true;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(this.#reason ?? new ConfabError('ERR_SOCKET_CLOSED', 'Connection closed'));
    this.#resolveEnded(this.#closedByUs && !this.#reason ? undefined : this.#reason);
  }
}
