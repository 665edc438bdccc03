/**
 * The one transport interface. A transport carries XML *elements* and stream
 * headers, not bytes: TCP wraps them in `<stream:stream>` and feeds a streaming
 * parser; WebSocket (RFC 7395) frames one element per message with `<open/>` and
 * `<close/>`; BOSH can be added later behind the same interface.
 *
 * The session layer owns negotiation; the transport owns the socket, TLS, the
 * parser and its limits, and backpressure.
 */
import type { XmlError } from '../errors.ts';
import type { Element } from '../xml/element.ts';
import type { ParserLimits, StanzaOpen } from '../xml/parser.ts';

export type TransportKind = 'tcp' | 'websocket';
export type ChannelBindingType = 'tls-unique' | 'tls-exporter' | 'tls-server-end-point';

/** The attributes of the stream header we open (from/to/version/xml:lang). */
export interface StreamHeader {
  to: string;
  from?: string | undefined;
  lang?: string | undefined;
}

/** What `streamEnd` carries: RFC 7395 3.6.1 lets `<close/>` redirect the client. */
export interface StreamEndInfo {
  /** `see-other-uri` of a WebSocket `<close/>`: where the server wants us to reconnect. */
  seeOtherUri?: string | undefined;
}

/**
 * What the transport tells the session. Set once, before `connect()`.
 *
 * Nothing is delivered before `connect()` resolved. After it resolved, `closed` is
 * called exactly once, whatever happens; if `connect()` rejects, `closed` is never called.
 */
export interface TransportHandlers {
  /** The peer opened a stream (`<stream:stream>` or `<open/>`): its attributes. */
  streamStart(attrs: Record<string, string>): void;
  /** One complete top-level element (stanza, features, SASL, SM, stream error). */
  element(el: Element): void;
  /** The peer closed its stream (`</stream:stream>` or `<close/>`). The socket stays open: the session answers with `closeStream()` and then `destroy()`. */
  streamEnd(info?: StreamEndInfo): void;
  /**
   * The peer sent XML we refuse (not well-formed, restricted, over a limit). The transport
   * delivers nothing more from this stream and leaves the socket open, so the session can
   * send `<stream:error>` with `err.condition` and close. Without this handler the
   * transport destroys the connection with `err` (and `closed(err)` follows).
   */
  parseError?(err: XmlError): void;
  /**
   * The connection is gone. `error` is unset when it ended on purpose: we called
   * `destroy()` without an error, or the peer closed its stream (`streamEnd`) before the
   * socket closed. Otherwise a ConfabError (ERR_SOCKET_CLOSED, with the socket error as `cause`).
   */
  closed(error?: Error): void;
  /** Wire log hook (already serialized text), for the redacted debug log. */
  wire?(direction: 'in' | 'out', text: string): void;
  /** Debug log lines (DNS answers, candidates tried, TLS details). No secrets. */
  log?(message: string): void;
}

export interface TlsInfo {
  /** e.g. 'TLSv1.3' */
  protocol: string;
  /** SHA-256 of the peer certificate's SubjectPublicKeyInfo, base64. */
  spkiSha256?: string | undefined;
  /** Cipher name, for display. */
  cipher?: string | undefined;
  /** Whether ALPN agreed `xmpp-client` (direct TLS only). */
  alpn?: string | undefined;
  /** SHA-256 fingerprint of the peer certificate, colon-separated hex (as `openssl x509 -fingerprint -sha256` shows it). */
  fingerprint256?: string | undefined;
  /** How the certificate was accepted: CA-verified, by pin, or not at all (the tests-only escape hatch). */
  verifiedBy?: 'ca' | 'pin' | 'nothing' | undefined;
}

export interface Transport {
  readonly kind: TransportKind;
  /** True once TLS is in place (direct TLS, after STARTTLS, or wss://). */
  readonly secure: boolean;
  /** TLS details once secure (undefined over WebSocket, where the browser hides them: use `secure`). */
  readonly tls: TlsInfo | undefined;
  /** Bytes written but not yet handed to the OS (TCP `writableLength`, WebSocket `bufferedAmount`). */
  readonly bufferedAmount: number;
  /** Open the connection (and TLS for direct TLS / wss). Rejects with a ConfabError. */
  connect(signal?: AbortSignal): Promise<void>;
  /** Send a stream header; resets the parser so the next `streamStart` is fresh. */
  openStream(header: StreamHeader): void;
  /**
   * Write one element. Resolves when the bytes were handed to the socket without
   * exceeding its high-water mark; callers that await it never buffer without bound.
   */
  send(el: Element): Promise<void>;
  /** Whitespace keepalive (TCP); a no-op where the framing has no such thing. */
  sendKeepalive(): void;
  /** Upgrade to TLS in place after `<proceed/>` (TCP only): buffered bytes are discarded, parser reset. */
  startTls(signal?: AbortSignal): Promise<void>;
  /** Channel binding data for SCRAM-*-PLUS, or undefined when the type is not available. */
  channelBinding(type: ChannelBindingType): Uint8Array | undefined;
  /**
   * Whether the peer's certificate covers `hostname` (RFC 6125 rules), e.g. before following
   * a `see-other-host`. False without TLS or where the certificate cannot be seen (WebSocket).
   */
  certificateCovers(hostname: string): boolean;
  /** Write the stream close (`</stream:stream>` or `<close/>`). */
  closeStream(): void;
  /** Close the socket now. Pending `send()`s reject; `closed(error)` follows. */
  destroy(error?: Error): void;
}

export interface TransportOptionsBase {
  /** The JID's domain: TLS certificate identity and SNI, whatever host we connect to (RFC 7590). */
  domain: string;
  handlers: TransportHandlers;
  limits?: Partial<ParserLimits> | undefined;
  /**
   * Raise the size limit for one top-level element once its start tag is known (an iq
   * result we asked for, such as a roster of thousands). Never above `maxStanzaLimit`.
   */
  stanzaLimit?: ((open: StanzaOpen) => number | undefined) | undefined;
  /** The largest value `stanzaLimit` returns (WebSocket frames above it are refused unread). */
  maxStanzaLimit?: number | undefined;
}

/** TLS settings of one account. Certificates are verified against the system store unless said otherwise. */
export interface TlsOptions {
  /** Extra trusted CA certificates, PEM text. ADDED to the system store, never replacing it. */
  ca?: string | readonly string[] | undefined;
  /** Extra trusted CA certificate files (PEM), read at connect time (Node only). */
  caFile?: string | readonly string[] | undefined;
  /**
   * SHA-256 of the server certificate's SubjectPublicKeyInfo, base64 or hex (colons allowed,
   * an `sha256/` prefix too). With a pin, a certificate matching it is accepted even when no
   * CA signed it (trust on first use), and one not matching it is refused (ERR_TLS_PIN),
   * even when a CA did sign it.
   */
  pin?: string | readonly string[] | undefined;
  /**
   * TESTS ONLY: accept any certificate. Anyone on the path can then read and change the
   * connection. Logs a warning on every connection.
   */
  insecureSkipVerify_TESTS_ONLY?: boolean | undefined;
  /**
   * Highest TLS version to offer (Node only). Default: the platform's (TLS 1.3 on Node 20).
   * `'TLSv1.2'` makes `tls-unique` channel binding possible with servers that offer
   * SCRAM-*-PLUS but no XEP-0440 list (ejabberd 23.01). TLS 1.2 is the floor either way (RFC 7590).
   */
  maxVersion?: 'TLSv1.2' | 'TLSv1.3' | undefined;
}

/** One SRV answer (RFC 2782). */
export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/** DNS seam for tests: resolve SRV records of a full service name such as `_xmpp-client._tcp.example.org`. */
export interface SrvResolver {
  /** Resolve to the records, or [] when there are none (NXDOMAIN, NODATA). Rejects on other failures. */
  resolveSrv(name: string, signal?: AbortSignal): Promise<SrvRecord[]>;
}

export interface TcpTransportOptions extends TransportOptionsBase {
  kind: 'tcp';
  /** Connect here instead of looking up SRV records (the domain is still what TLS verifies). */
  host?: string | undefined;
  /** Port for `host` (default 5222, or 5223 with `directTls`). */
  port?: number | undefined;
  /**
   * TLS right away (XEP-0368 / the old port 5223) instead of STARTTLS. With `host`: that
   * connection is direct TLS. Without: only `_xmpps-client` records are used (fallback
   * domain:5223). Unset: both record kinds, mixed by priority and weight (XEP-0368).
   */
  directTls?: boolean | undefined;
  /** SRV resolver (default: the system's DNS with `dnsTimeoutMs`). */
  resolver?: SrvResolver | undefined;
  /** Per-lookup DNS timeout, default 3000 ms, so a machine without DNS fails fast. */
  dnsTimeoutMs?: number | undefined;
  /** Per-candidate timeout for TCP connect plus (direct) TLS handshake, default 10000 ms. */
  connectTimeoutMs?: number | undefined;
  /** TCP keepalive probe delay, default 120000 ms (the seed's "minutes"); 0 turns it off. */
  keepAliveMs?: number | undefined;
  tls?: TlsOptions | undefined;
}

export interface WebSocketTransportOptions extends TransportOptionsBase {
  kind: 'websocket';
  /** `wss://...` (or `ws://...`, which is NOT secure: the session refuses it unless plaintext is allowed). */
  url: string;
  /** Node only (the browser owns TLS there): extra CAs, pin, tests-only escape hatch. */
  tls?: TlsOptions | undefined;
  /** Timeout for the WebSocket handshake, default 10000 ms. */
  connectTimeoutMs?: number | undefined;
}
