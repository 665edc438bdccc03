/**
 * WebSocket transport, browser-safe (the WebSocket constructor is injected by the platform).
 *
 * - RFC 7395 (XMPP over WebSocket): subprotocol `xmpp` (3.1, the server must agree), one
 *   complete element per text message (3.3.3), `<open/>` / `<close/>` of namespace
 *   `urn:ietf:params:xml:ns:xmpp-framing` instead of the stream header (3.3.2, 3.6), a stream
 *   restart is a new `<open/>` (3.5), `<close see-other-uri=.../>` redirects (3.6.1),
 *   no whitespace keepalive (3.3.3; WebSocket pings are the browser's business).
 * - Each message is parsed on its own with the same limits as the TCP stream parser.
 *
 * Backpressure: the browser API has no 'drain' event, so `send()` resolves at once while
 * `bufferedAmount` is under HIGH_WATER_MARK (64 KiB) and otherwise polls it (every 10 ms)
 * until it is back under. Nothing is queued in the transport itself.
 */
import { ConfabError, XmlError } from '../errors.ts';
import { NS_CLIENT } from '../session/ns.ts';
import { Element, xml } from '../xml/element.ts';
import { parseXml } from '../xml/parser.ts';
import { serialize } from '../xml/serializer.ts';
import type {
  ChannelBindingType,
  StreamHeader,
  TlsInfo,
  Transport,
  TransportHandlers,
  WebSocketTransportOptions,
} from './types.ts';

export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
/** Above this many buffered bytes `send()` waits. */
export const HIGH_WATER_MARK = 64 * 1024;
const POLL_MS = 10;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const RESOLVED = Promise.resolve();
const OPEN = 1;

/** The part of the WHATWG WebSocket API we use; `ws` on Node and browsers both provide it. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  readonly bufferedAmount: number;
  binaryType: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string; wasClean?: boolean }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: drop the connection without the closing handshake. */
  terminate?(): void;
}

/**
 * Opens a WebSocket. The platform supplies it: globalThis.WebSocket in browsers, `ws` on Node
 * (with TLS options). A factory may attach `confabError` (why the connection was refused,
 * e.g. a TlsCertificateError) and `confabTls` (what TLS was agreed) to the socket it returns.
 */
export type WebSocketFactory = (url: string, protocols: string[]) => WebSocketLike & WebSocketExtras;
export interface WebSocketExtras {
  confabError?: Error | undefined;
  confabTls?: TlsInfo | undefined;
}

export interface WebSocketTransportDeps {
  createWebSocket: WebSocketFactory;
}

export class WebSocketTransport implements Transport {
  readonly kind = 'websocket' as const;
  readonly secure: boolean;
  #opts: WebSocketTransportOptions;
  #handlers: TransportHandlers;
  #create: WebSocketFactory;
  #ws: (WebSocketLike & WebSocketExtras) | undefined;
  #decoder: TextDecoder | undefined;
  #open = false;
  #closed = false;
  #streamEnded = false;
  #closingStream = false;
  #destroyedByUs = false;
  #destroyError: Error | undefined;
  #parseFailed = false;
  #pending = new Set<{ reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> | undefined }>();

  constructor(options: WebSocketTransportOptions, deps: WebSocketTransportDeps) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (err) {
      throw new ConfabError('ERR_BAD_INPUT', `not a WebSocket URL: ${JSON.stringify(options.url)}`, {
        cause: err,
      });
    }
    if (url.protocol !== 'wss:' && url.protocol !== 'ws:') {
      throw new ConfabError(
        'ERR_BAD_INPUT',
        `a WebSocket URL starts with wss:// (or ws://), not ${url.protocol}//`,
      );
    }
    this.secure = url.protocol === 'wss:';
    this.#opts = options;
    this.#handlers = options.handlers;
    this.#create = deps.createWebSocket;
  }

  get tls(): TlsInfo | undefined {
    return this.#ws?.confabTls;
  }

  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  connect(signal?: AbortSignal): Promise<void> {
    if (this.#ws)
      return Promise.reject(
        new ConfabError('ERR_BAD_INPUT', 'connect() was already called on this transport'),
      );
    if (signal?.aborted) return Promise.reject(new ConfabError('ERR_ABORTED', 'connection attempt aborted'));
    const url = this.#opts.url;
    const timeoutMs = this.#opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise<void>((resolve, reject) => {
      let ws: WebSocketLike & WebSocketExtras;
      try {
        ws = this.#create(url, ['xmpp']);
      } catch (err) {
        reject(
          new ConfabError('ERR_CONNECT', `cannot open ${url}: ${(err as Error).message}`, { cause: err }),
        );
        return;
      }
      this.#ws = ws;
      ws.binaryType = 'arraybuffer';
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        cleanup();
        ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
        try {
          ws.close();
        } catch {
          // already closing
        }
        reject(err);
      };
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => fail(new ConfabError('ERR_ABORTED', 'connection attempt aborted'));
      const timer = setTimeout(
        () => fail(new ConfabError('ERR_TIMEOUT', `${url}: no WebSocket connection within ${timeoutMs} ms`)),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      ws.onerror = (ev) => {
        const cause = ws.confabError ?? (ev as { error?: unknown }).error;
        if (ws.confabError) fail(ws.confabError);
        else fail(new ConfabError('ERR_CONNECT', `cannot connect to ${url}${describe(cause)}`, { cause }));
      };
      ws.onclose = (ev) => {
        fail(
          ws.confabError ?? new ConfabError('ERR_CONNECT', `${url} closed the connection (code ${ev.code})`),
        );
      };
      ws.onopen = () => {
        // RFC 7395 3.1: without the `xmpp` subprotocol the server does not speak XMPP to us.
        if (ws.protocol !== 'xmpp') {
          fail(new ConfabError('ERR_CONNECT', `${url} did not agree to the 'xmpp' WebSocket subprotocol`));
          return;
        }
        if (settled) return;
        settled = true;
        cleanup();
        this.#open = true;
        ws.onmessage = (ev) => this.#onMessage(ev.data);
        ws.onerror = () => {};
        ws.onclose = (ev) => this.#onClose(ev.code, ev.reason);
        resolve();
      };
    });
  }

  #onMessage(data: unknown): void {
    if (this.#parseFailed || this.#closed) return;
    let text: string;
    if (typeof data === 'string') text = data;
    else if (data instanceof ArrayBuffer) {
      this.#decoder ??= new TextDecoder('utf-8', { fatal: true });
      text = this.#decoder.decode(data);
    } else return;
    this.#handlers.wire?.('in', text);
    let el: Element;
    try {
      el = parseXml(text, { limits: this.#opts.limits, stanzaLimit: this.#opts.stanzaLimit });
    } catch (err) {
      const e =
        err instanceof XmlError
          ? err
          : new XmlError(
              'ERR_XML_NOT_WELL_FORMED',
              'not-well-formed',
              `bad WebSocket message: ${(err as Error).message}`,
              {
                cause: err,
              },
            );
      this.#parseFailed = true;
      if (this.#handlers.parseError) this.#handlers.parseError(e);
      else this.destroy(e);
      return;
    }
    if (el.xmlns === NS_FRAMING && el.name === 'open') {
      this.#handlers.streamStart({ ...el.attrs });
    } else if (el.xmlns === NS_FRAMING && el.name === 'close') {
      this.#streamEnded = true;
      const seeOtherUri = el.attr('see-other-uri');
      this.#handlers.streamEnd(seeOtherUri === undefined ? undefined : { seeOtherUri });
    } else {
      this.#handlers.element(el);
    }
  }

  #onClose(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#open = false;
    const lost = new ConfabError(
      'ERR_SOCKET_CLOSED',
      `the WebSocket closed (code ${code}${reason ? `, ${reason}` : ''})`,
    );
    for (const p of this.#pending) {
      clearTimeout(p.timer);
      p.reject(lost);
    }
    this.#pending.clear();
    let error: Error | undefined;
    if (this.#destroyedByUs) error = this.#destroyError;
    else if (this.#streamEnded || this.#closingStream) error = undefined;
    else error = lost;
    this.#handlers.closed(error);
  }

  #write(text: string): Promise<void> {
    const ws = this.#ws;
    if (!ws || !this.#open || this.#closed || this.#destroyedByUs || ws.readyState !== OPEN) {
      return Promise.reject(new ConfabError('ERR_NOT_CONNECTED', 'the WebSocket is not open'));
    }
    this.#handlers.wire?.('out', text);
    ws.send(text);
    if (ws.bufferedAmount < HIGH_WATER_MARK) return RESOLVED;
    return new Promise<void>((resolve, reject) => {
      const entry = { reject, timer: undefined as ReturnType<typeof setTimeout> | undefined };
      const poll = () => {
        if (ws.bufferedAmount < HIGH_WATER_MARK) {
          this.#pending.delete(entry);
          resolve();
        } else entry.timer = setTimeout(poll, POLL_MS);
      };
      this.#pending.add(entry);
      entry.timer = setTimeout(poll, POLL_MS);
    });
  }

  openStream(header: StreamHeader): void {
    const open = xml('open', {
      xmlns: NS_FRAMING,
      to: header.to,
      from: header.from,
      version: '1.0',
      'xml:lang': header.lang,
    });
    this.#streamEnded = false;
    this.#write(serialize(open)).catch(() => {});
  }

  send(el: Element): Promise<void> {
    let text: string;
    try {
      // No parent namespace: RFC 7395 3.3.3 wants every message to declare its own, so a
      // stanza built without one (it inherits jabber:client on a TCP stream) gets it here.
      text = serialize(el.xmlns === '' ? new Element(el.name, NS_CLIENT, el.attrs, el.children) : el);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#write(text);
  }

  /** RFC 7395 3.3.3 forbids whitespace between elements: nothing to send. */
  sendKeepalive(): void {}

  startTls(): Promise<void> {
    return Promise.reject(
      new ConfabError(
        'ERR_UNSUPPORTED',
        'STARTTLS does not exist over WebSocket (RFC 7395): use a wss:// URL',
      ),
    );
  }

  channelBinding(_type: ChannelBindingType): Uint8Array | undefined {
    return undefined;
  }

  certificateCovers(_hostname: string): boolean {
    return false;
  }

  closeStream(): void {
    this.#closingStream = true;
    this.#write(serialize(xml('close', { xmlns: NS_FRAMING }))).catch(() => {});
  }

  destroy(error?: Error): void {
    if (this.#destroyedByUs) return;
    this.#destroyedByUs = true;
    this.#destroyError = error;
    const ws = this.#ws;
    if (!ws) return;
    // "Now" means now: don't wait for a closing handshake the peer may never answer.
    if (ws.terminate) ws.terminate();
    else ws.close(1000);
  }
}

function describe(cause: unknown): string {
  const m = (cause as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' && m !== '' ? `: ${m}` : '';
}

/**
 * Create a WebSocket transport with an injected WebSocket constructor (normally the
 * platform does this for you).
 *
 * @example
 * const t = createWebSocketTransport(
 *   { kind: 'websocket', url: 'wss://example.org/xmpp-websocket', domain: 'example.org', handlers },
 *   { createWebSocket: (url, p) => new WebSocket(url, p) },
 * );
 */
export function createWebSocketTransport(
  options: WebSocketTransportOptions,
  deps: WebSocketTransportDeps,
): Transport {
  return new WebSocketTransport(options, deps);
}
