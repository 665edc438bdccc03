/**
 * TCP transport (Node only): the classic XMPP client connection.
 *
 * - RFC 6120 (XMPP Core) section 3 (connection, SRV via ./resolve.ts), 4 (the stream: one
 *   `<stream:stream>` document per direction, whitespace keepalive 4.6.1), 5 (STARTTLS: after
 *   `<proceed/>` nothing more of the old stream is read, the parser starts afresh).
 * - RFC 7590 (TLS in XMPP): certificate checked for the JID's domain, which is also the SNI,
 *   whatever host we dialled; TLS 1.2 at least (Node's default floor).
 * - XEP-0368 v1.1.0: direct TLS with SNI and ALPN `xmpp-client`.
 * - RFC 5929 (tls-unique, tls-server-end-point) and RFC 9266 (tls-exporter): channel binding.
 * - RFC 7469 section 2.4 style SPKI pins (sha256 of the SubjectPublicKeyInfo), per account.
 *
 * Backpressure: `send()` writes at once (so order with keepalives and the stream close is
 * the call order) and resolves when `socket.write` accepted the data under the socket's
 * high-water mark (`writableHighWaterMark`, 16 KiB on Node 20), otherwise on the next
 * 'drain'. The transport keeps no queue of its own: a caller that awaits `send()` holds at
 * most one high-water mark plus one element in memory.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import process from 'node:process';
import tls from 'node:tls';
import { ConfabError, type XmlError } from '../errors.ts';
import type { Element } from '../xml/element.ts';
import { StreamParser } from '../xml/parser.ts';
import { STREAM_CLOSE, serialize, streamOpen } from '../xml/serializer.ts';
import {
  type Candidate,
  DEFAULT_DIRECT_TLS_PORT,
  DEFAULT_DNS_TIMEOUT_MS,
  DEFAULT_PORT,
  isIpLiteral,
  resolveCandidates,
} from './resolve.ts';
import { normalizePins, serverEndPointHash, TlsCertificateError } from './tls.ts';
import type {
  ChannelBindingType,
  SrvResolver,
  StreamHeader,
  TcpTransportOptions,
  TlsInfo,
  TlsOptions,
  Transport,
  TransportHandlers,
} from './types.ts';

const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_KEEPALIVE_MS = 120_000;
const RESOLVED = Promise.resolve();

/** The system's DNS (node:dns), with a per-query timeout and one try, so no-DNS fails fast. */
export function nodeSrvResolver(timeoutMs = DEFAULT_DNS_TIMEOUT_MS): SrvResolver {
  return {
    async resolveSrv(name, signal) {
      const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
      const cancel = () => resolver.cancel();
      signal?.addEventListener('abort', cancel, { once: true });
      try {
        return await resolver.resolveSrv(name);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
        throw err;
      } finally {
        signal?.removeEventListener('abort', cancel);
      }
    },
  };
}

// Building a secure context parses every root certificate (~30 ms): do it once per distinct
// set of extra CAs, not per connection. Bounded: accounts rarely differ in their CA files.
const contexts = new Map<string, tls.SecureContext>();
export function secureContextFor(
  extra: readonly string[],
  maxVersion?: tls.SecureVersion | undefined,
): tls.SecureContext | undefined {
  // Newer Node (22.15+) can read the OS store; Node 20 ships Mozilla's list (plus NODE_EXTRA_CA_CERTS).
  const getCa = (tls as { getCACertificates?: (kind: string) => string[] }).getCACertificates;
  if (extra.length === 0 && getCa === undefined && maxVersion === undefined) return undefined; // Node's shared default context
  // The version range lives in the context: tls.connect ignores `maxVersion` when given a context.
  const key = `${maxVersion ?? ''}\n${extra.join('\n')}`;
  let ctx = contexts.get(key);
  if (ctx === undefined) {
    const roots = getCa ? [...getCa('default'), ...getCa('system')] : [...tls.rootCertificates];
    ctx = tls.createSecureContext({
      ca: [...roots, ...extra],
      ...(maxVersion === undefined ? {} : { maxVersion }),
    });
    if (contexts.size >= 16) contexts.delete(contexts.keys().next().value!);
    contexts.set(key, ctx);
  }
  return ctx;
}

async function extraCas(options: TlsOptions | undefined): Promise<string[]> {
  const list = (v: string | readonly string[] | undefined) =>
    v === undefined ? [] : typeof v === 'string' ? [v] : [...v];
  const files = list(options?.caFile);
  const read = await Promise.all(
    files.map((f) =>
      readFile(f, 'utf8').catch((err: unknown) => {
        throw new ConfabError('ERR_BAD_INPUT', `cannot read CA file ${f}: ${(err as Error).message}`, {
          cause: err,
        });
      }),
    ),
  );
  return [...list(options?.ca), ...read];
}

/** SHA-256 of the certificate's SubjectPublicKeyInfo (NOT of `cert.pubkey`, which is the bare key for EC). */
export function spkiSha256(raw: Uint8Array): string {
  const spki = new X509Certificate(raw).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * Decide on a finished TLS handshake made with `rejectUnauthorized: false` (so that a pin can
 * accept a certificate no CA signed). Returns the TlsInfo, or throws the refusal.
 * Shared with the Node WebSocket factory.
 */
export function verifyPeer(
  socket: tls.TLSSocket,
  domain: string,
  options: TlsOptions | undefined,
  log?: (message: string) => void,
): TlsInfo {
  const cert = socket.getPeerCertificate(false);
  if (!cert?.raw) throw new ConfabError('ERR_TLS', `TLS: ${domain} presented no certificate`);
  const spki = spkiSha256(cert.raw);
  const pins = normalizePins(options?.pin);
  const details = { domain, fingerprint256: cert.fingerprint256, spkiSha256: spki };
  let verifiedBy: TlsInfo['verifiedBy'];
  if (pins.length > 0) {
    if (!pins.includes(spki))
      throw new TlsCertificateError('ERR_TLS_PIN', { ...details, tlsCode: 'PIN_MISMATCH' });
    verifiedBy = 'pin';
  } else if (socket.authorized) {
    verifiedBy = 'ca';
  } else if (options?.insecureSkipVerify_TESTS_ONLY === true) {
    const msg =
      `confab: TLS certificate of ${domain} NOT verified (insecureSkipVerify_TESTS_ONLY; ` +
      `${String(socket.authorizationError)}). Anyone on the path can read and change this connection.`;
    process.emitWarning(msg, { code: 'CONFAB_INSECURE_TLS' });
    log?.(msg);
    verifiedBy = 'nothing';
  } else {
    throw new TlsCertificateError('ERR_TLS_CERT', { ...details, tlsCode: String(socket.authorizationError) });
  }
  const alpn = socket.alpnProtocol;
  return {
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: socket.getCipher()?.name,
    spkiSha256: spki,
    fingerprint256: cert.fingerprint256,
    alpn: typeof alpn === 'string' ? alpn : undefined,
    verifiedBy,
  };
}

/** The tls.connect options for the JID's domain: SNI, identity check, trust. */
function tlsConnectOptions(
  domain: string,
  context: tls.SecureContext | undefined,
  alpn: boolean,
  options: TlsOptions | undefined,
): tls.ConnectionOptions {
  return {
    // (also in the context: tls.connect ignores it when given one, see secureContextFor)
    ...(options?.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
    // RFC 6066 forbids IP literals in SNI; the identity check below still uses the domain.
    servername: isIpLiteral(domain) ? undefined : domain,
    ALPNProtocols: alpn ? ['xmpp-client'] : undefined,
    // The chain is still verified (socket.authorized), but the decision is ours (verifyPeer):
    // a matching pin may accept a certificate no CA signed. Nothing is written before it.
    rejectUnauthorized: false,
    // RFC 7590: identity of the JID's domain, whatever host we dialled.
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(domain, cert),
    secureContext: context,
  };
}

function socketErrorCode(err: unknown): string | undefined {
  return (err as { code?: string } | undefined)?.code;
}

/** The TCP transport. Use `createTcpTransport` (or a Platform) rather than `new`. */
export class TcpTransport implements Transport {
  readonly kind = 'tcp' as const;
  #opts: TcpTransportOptions;
  #handlers: TransportHandlers;
  #socket: net.Socket | undefined;
  #tlsSocket: tls.TLSSocket | undefined;
  #tls: TlsInfo | undefined;
  /**
   * The peer certificate, kept from the handshake: a `see-other-host` is judged after the server
   * ended the stream, when the socket may be closed and `getPeerCertificate()` returns null.
   */
  #peerCert: tls.PeerCertificate | undefined;
  #context: tls.SecureContext | undefined;
  #parser: StreamParser;
  #decoder: TextDecoder | undefined;
  /** After `<proceed/>`: everything read is thrown away until TLS is up (RFC 6120 5.4.3.3). */
  #awaitingTls = false;
  #parseFailed = false;
  #streamEnded = false;
  #closingStream = false;
  #destroyedByUs = false;
  #destroyError: Error | undefined;
  #lastError: Error | undefined;
  #closed = false;
  #drainWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  constructor(options: TcpTransportOptions) {
    this.#opts = options;
    this.#handlers = options.handlers;
    if (options.handlers.wire) this.#decoder = new TextDecoder();
    const h = this.#handlers;
    this.#parser = new StreamParser(
      {
        streamStart: (header) => {
          if (this.#deliverable()) h.streamStart({ ...header.attrs });
        },
        element: (el) => {
          if (!this.#deliverable()) return;
          // Stop reading the plaintext stream right here, even for bytes in this very chunk:
          // an attacker could append stanzas after <proceed/> (the STARTTLS command injection class).
          if (this.#tlsSocket === undefined && el.is('proceed', NS_TLS)) this.#awaitingTls = true;
          h.element(el);
        },
        streamEnd: () => {
          if (!this.#deliverable()) return;
          this.#streamEnded = true;
          h.streamEnd();
        },
        error: (err) => this.#onParseError(err),
      },
      { framing: 'stream', limits: options.limits, stanzaLimit: options.stanzaLimit },
    );
  }

  get secure(): boolean {
    return this.#tls !== undefined;
  }

  get tls(): TlsInfo | undefined {
    return this.#tls;
  }

  get bufferedAmount(): number {
    return (this.#tlsSocket ?? this.#socket)?.writableLength ?? 0;
  }

  #deliverable(): boolean {
    return !this.#awaitingTls && !this.#parseFailed && !this.#closed;
  }

  #log(message: string): void {
    this.#handlers.log?.(message);
  }

  async connect(signal?: AbortSignal): Promise<void> {
    if (this.#socket)
      throw new ConfabError('ERR_BAD_INPUT', 'connect() was already called on this transport');
    if (signal?.aborted) throw new ConfabError('ERR_ABORTED', 'connection attempt aborted');
    const o = this.#opts;
    this.#context = secureContextFor(await extraCas(o.tls), o.tls?.maxVersion);
    normalizePins(o.tls?.pin); // a malformed pin fails now, not after a handshake
    let candidates: Candidate[];
    if (o.host !== undefined) {
      const port = o.port ?? (o.directTls ? DEFAULT_DIRECT_TLS_PORT : DEFAULT_PORT);
      candidates = [{ host: o.host, port, directTls: o.directTls === true, source: 'explicit' }];
    } else {
      candidates = await resolveCandidates(o.domain, {
        resolver: o.resolver ?? nodeSrvResolver(o.dnsTimeoutMs),
        directTls: o.directTls,
        timeoutMs: o.dnsTimeoutMs,
        signal,
        log: (m) => this.#log(m),
      });
    }
    const failures: ConfabError[] = [];
    for (const c of candidates) {
      try {
        this.#log(`connecting to ${c.host}:${c.port}${c.directTls ? ' (direct TLS)' : ''}`);
        const socket = await this.#dial(c, signal);
        this.#attach(socket);
        return;
      } catch (err) {
        const e = err as ConfabError;
        // A refused certificate is an answer, not an outage: do not shop for another server.
        if (e.code === 'ERR_TLS_CERT' || e.code === 'ERR_TLS_PIN' || e.code === 'ERR_ABORTED') throw e;
        this.#log(`${c.host}:${c.port}: ${e.message}`);
        failures.push(e);
      }
    }
    const codes = new Set(failures.map((f) => f.code));
    const code = codes.size === 1 ? failures[0]!.code : 'ERR_CONNECT';
    const detail = failures.map((f) => f.message).join('; ');
    throw new ConfabError(code, `cannot connect to ${o.domain}: ${detail}`, { cause: failures.at(-1) });
  }

  /** One candidate: TCP (and the TLS handshake for direct TLS) under one timeout. */
  #dial(c: Candidate, signal: AbortSignal | undefined): Promise<net.Socket> {
    const timeoutMs = this.#opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const where = `${c.host}:${c.port}`;
    return new Promise((resolve, reject) => {
      let socket: net.Socket;
      let settled = false;
      const finish = (err: Error | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.removeListener('error', onError);
        if (err) {
          socket.destroy();
          reject(err);
        } else resolve(socket);
      };
      const onAbort = () => finish(new ConfabError('ERR_ABORTED', 'connection attempt aborted'));
      const onError = (err: Error) => {
        const code = socketErrorCode(err);
        if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
          finish(new ConfabError('ERR_DNS', `${c.host}: no such host (${code})`, { cause: err }));
        } else if (c.directTls && socket.connecting === false) {
          finish(
            new ConfabError('ERR_TLS', `${where}: TLS handshake failed: ${err.message}`, { cause: err }),
          );
        } else {
          finish(new ConfabError('ERR_CONNECT', `${where}: ${err.message}`, { cause: err }));
        }
      };
      const timer = setTimeout(
        () => finish(new ConfabError('ERR_TIMEOUT', `${where}: no connection within ${timeoutMs} ms`)),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      if (c.directTls) {
        const s = tls.connect({
          host: c.host,
          port: c.port,
          ...tlsConnectOptions(this.#opts.domain, this.#context, true, this.#opts.tls),
        });
        socket = s;
        s.once('secureConnect', () => {
          try {
            this.#tls = verifyPeer(s, this.#opts.domain, this.#opts.tls, (m) => this.#log(m));
            this.#peerCert = s.getPeerCertificate(false);
            this.#tlsSocket = s;
            this.#log(`TLS ${this.#tls.protocol} ${this.#tls.cipher ?? ''} alpn=${this.#tls.alpn ?? 'none'}`);
            finish(undefined);
          } catch (err) {
            finish(err as Error);
          }
        });
      } else {
        socket = net.connect({ host: c.host, port: c.port });
        socket.once('connect', () => finish(undefined));
      }
      socket.on('error', onError);
    });
  }

  /** Take the socket into use: events, keepalive, Nagle off (stanzas are small and latency matters). */
  #attach(socket: net.Socket): void {
    const raw = this.#socket ?? socket;
    this.#socket = raw;
    raw.setNoDelay(true);
    const keepAlive = this.#opts.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;
    if (keepAlive > 0) raw.setKeepAlive(true, keepAlive);
    socket.on('data', this.#onData);
    socket.on('drain', this.#onDrain);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  #detach(socket: net.Socket): void {
    socket.removeListener('data', this.#onData);
    socket.removeListener('drain', this.#onDrain);
    socket.removeListener('error', this.#onError);
    socket.removeListener('close', this.#onClose);
  }

  #onData = (chunk: Buffer): void => {
    if (this.#awaitingTls || this.#parseFailed) return;
    if (this.#decoder) this.#handlers.wire?.('in', this.#decoder.decode(chunk, { stream: true }));
    try {
      this.#parser.write(chunk);
    } catch (err) {
      // A handler threw: a bug above us. Fail this connection loudly rather than crash the process.
      this.destroy(
        new ConfabError('ERR_STREAM', `a stream handler threw: ${(err as Error).message}`, { cause: err }),
      );
    }
  };

  #onParseError(err: XmlError): void {
    if (this.#parseFailed || this.#closed) return;
    this.#parseFailed = true;
    this.#log(`XML from the server refused: ${err.message}`);
    if (this.#handlers.parseError) this.#handlers.parseError(err);
    else this.destroy(err);
  }

  #onDrain = (): void => {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.resolve();
  };

  #onError = (err: Error): void => {
    this.#lastError = err;
  };

  #onClose = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    const lost = new ConfabError(
      'ERR_SOCKET_CLOSED',
      this.#lastError ? `connection lost: ${this.#lastError.message}` : 'the server closed the connection',
      { cause: this.#lastError },
    );
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.reject(lost);
    let error: Error | undefined;
    if (this.#destroyedByUs) error = this.#destroyError;
    else if ((this.#streamEnded || this.#closingStream) && this.#lastError === undefined) error = undefined;
    else error = lost;
    this.#handlers.closed(error);
  };

  #write(text: string): Promise<void> {
    const s = this.#tlsSocket ?? this.#socket;
    if (s === undefined || this.#closed || this.#destroyedByUs || !s.writable) {
      return Promise.reject(new ConfabError('ERR_NOT_CONNECTED', 'the connection is not open'));
    }
    this.#handlers.wire?.('out', text);
    if (s.write(text)) return RESOLVED;
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  openStream(header: StreamHeader): void {
    const text = streamOpen(
      { to: header.to, from: header.from, version: '1.0', 'xml:lang': header.lang },
      'jabber:client',
    );
    // A new stream (RFC 6120 4.3.3 restart): the old parser state and anything still buffered go.
    // Called from inside an element handler, the parser also stops scanning the current chunk.
    this.#parser.reset();
    this.#streamEnded = false;
    this.#write(text).catch(() => {});
  }

  send(el: Element): Promise<void> {
    let text: string;
    try {
      text = serialize(el, 'jabber:client');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#write(text);
  }

  sendKeepalive(): void {
    if (this.#awaitingTls) return;
    this.#write(' ').catch(() => {});
  }

  closeStream(): void {
    this.#closingStream = true;
    this.#write(STREAM_CLOSE).catch(() => {});
  }

  async startTls(signal?: AbortSignal): Promise<void> {
    const raw = this.#socket;
    if (raw === undefined || this.#closed)
      throw new ConfabError('ERR_NOT_CONNECTED', 'the connection is not open');
    if (this.#tlsSocket)
      throw new ConfabError('ERR_TLS', 'TLS is already in place; STARTTLS over TLS is not allowed');
    // Whatever the server sent after <proceed/> is not to be trusted: drop it with the parser.
    this.#awaitingTls = true;
    this.#detach(raw);
    this.#parser.reset();
    this.#decoder = this.#handlers.wire ? new TextDecoder() : undefined;
    const domain = this.#opts.domain;
    const timeoutMs = this.#opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const s = tls.connect({
      socket: raw,
      ...tlsConnectOptions(domain, this.#context, false, this.#opts.tls),
    });
    this.#tlsSocket = s;
    // From here the TLS socket is the connection: its close is `closed()` (exactly once).
    s.on('error', this.#onError);
    s.on('close', this.#onClose);
    try {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          s.removeListener('secureConnect', onSecure);
          s.removeListener('error', onErr);
          s.removeListener('close', onEarlyClose);
          if (err) reject(err);
          else resolve();
        };
        const onSecure = () => {
          try {
            this.#tls = verifyPeer(s, domain, this.#opts.tls, (m) => this.#log(m));
            this.#peerCert = s.getPeerCertificate(false);
            this.#log(`STARTTLS: ${this.#tls.protocol} ${this.#tls.cipher ?? ''}`);
            done();
          } catch (err) {
            done(err as Error);
          }
        };
        const onErr = (err: Error) =>
          done(new ConfabError('ERR_TLS', `STARTTLS handshake failed: ${err.message}`, { cause: err }));
        const onEarlyClose = () =>
          done(new ConfabError('ERR_TLS', 'the server closed the connection during the TLS handshake'));
        const onAbort = () => done(new ConfabError('ERR_ABORTED', 'connection attempt aborted'));
        const timer = setTimeout(
          () => done(new ConfabError('ERR_TIMEOUT', `no TLS handshake within ${timeoutMs} ms`)),
          timeoutMs,
        );
        signal?.addEventListener('abort', onAbort, { once: true });
        s.once('secureConnect', onSecure);
        s.once('error', onErr);
        s.once('close', onEarlyClose);
      });
    } catch (err) {
      this.destroy(err as Error);
      throw err;
    }
    s.on('data', this.#onData);
    s.on('drain', this.#onDrain);
    this.#awaitingTls = false;
  }

  channelBinding(type: ChannelBindingType): Uint8Array | undefined {
    const s = this.#tlsSocket;
    if (s === undefined || this.#tls === undefined) return undefined;
    const protocol = s.getProtocol();
    switch (type) {
      case 'tls-unique': {
        // RFC 5929 3.1: the first Finished message of the latest handshake: ours in a full
        // handshake, the server's on resumption. Undefined on TLS 1.3 (RFC 9266 section 1).
        if (protocol === 'TLSv1.3') return undefined;
        const f = s.isSessionReused() ? s.getPeerFinished() : s.getFinished();
        return f ? new Uint8Array(f) : undefined;
      }
      case 'tls-exporter': {
        // RFC 9266: 32 bytes, label EXPORTER-Channel-Binding, empty context. Only on TLS 1.3:
        // on 1.2 it is only safe with extended master secret, which Node does not report.
        if (protocol !== 'TLSv1.3') return undefined;
        return new Uint8Array(s.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)));
      }
      case 'tls-server-end-point': {
        const raw = s.getPeerCertificate(false)?.raw;
        if (!raw) return undefined;
        const hash = serverEndPointHash(raw);
        return hash ? new Uint8Array(createHash(hash).update(raw).digest()) : undefined;
      }
      default:
        return undefined;
    }
  }

  certificateCovers(hostname: string): boolean {
    const cert = this.#peerCert;
    if (!cert?.raw || this.#tls === undefined) return false;
    return tls.checkServerIdentity(hostname, cert) === undefined;
  }

  destroy(error?: Error): void {
    if (this.#destroyedByUs) return;
    this.#destroyedByUs = true;
    this.#destroyError = error;
    // Only the outermost socket: a TLSSocket destroys the TCP socket under it, and destroying
    // that one directly under a live TLSSocket is what crashed Node 20 in our tests.
    (this.#tlsSocket ?? this.#socket)?.destroy();
  }
}

/**
 * Create a TCP transport (Node). Nothing happens until `connect()`.
 *
 * @example
 * const t = createTcpTransport({ kind: 'tcp', domain: 'example.org', handlers });
 * await t.connect();
 * t.openStream({ to: 'example.org' });
 */
export function createTcpTransport(options: TcpTransportOptions): Transport {
  return new TcpTransport(options);
}
