// Man-in-the-middle helpers for the security integration tests (test/integration/security.test.ts):
// a TCP proxy between the client and a real test-bed server that can
// - rewrite the server's first `<stream:features/>` (RFC 6120 4.3.2): strip `<starttls/>` (RFC 6120 5,
//   the STARTTLS-stripping attack) or SCRAM-*-PLUS mechanisms (RFC 5802 6 / RFC 7677, the
//   channel-binding downgrade);
// - terminate TLS itself (direct TLS, XEP-0368) with a certificate the client trusts and open its own
//   TLS to the server, so it sees and changes the plaintext: the MITM channel binding exists to catch;
// - silently stop forwarding (a half-open link, the case XEP-0199 pings detect);
// - record every byte the client sent, after TLS where it terminates TLS, so a test can assert that
//   no credentials ever left the client.
// Plus a scripted TLS/TCP "server" for stream errors such as `see-other-host` (RFC 6120 4.9.3.19).

import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';

export interface ProxyOptions {
  /** Where the real server listens. */
  target: { host: string; port: number };
  /**
   * Rewrite the text of the first `<stream:features>...</stream:features>` the server sends on each
   * connection (the proxy holds back the server's bytes until that element is complete).
   */
  rewriteFirstFeatures?: ((features: string) => string) | undefined;
  /**
   * Terminate TLS: the client speaks direct TLS to the proxy (certificate and key, PEM), and the
   * proxy speaks direct TLS to the target. Without it, bytes pass as they are (STARTTLS included,
   * end to end between client and server).
   */
  tls?: { cert: string; key: string; maxVersion?: tls.SecureVersion | undefined } | undefined;
}

interface Pair {
  client: net.Socket;
  server: net.Socket;
  frozen: boolean;
}

/** A running proxy on 127.0.0.1. */
export interface Proxy {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Everything the client sent that the proxy forwarded to the server (decrypted where it terminates TLS). */
  clientText(): string;
  /** Everything the server sent that the proxy forwarded to the client (after rewriting). */
  serverText(): string;
  /** Whether the rewrite hook has run (the server's first features went through the proxy). */
  readonly rewrites: number;
  /**
   * From now on, drop every byte in both directions on the connections open now, keeping their
   * sockets open: a link that died without a FIN or RST. New connections pass normally.
   */
  freeze(): void;
  /** Close every connection and the listener. */
  close(): Promise<void>;
}

const FEATURES_END = /<\/(?:[A-Za-z0-9_-]+:)?features\s*>/;

/** Start a proxy. */
export async function startProxy(options: ProxyOptions): Promise<Proxy> {
  const pairs = new Set<Pair>();
  let fromClient = '';
  let fromServer = '';
  let connections = 0;
  let rewrites = 0;

  const handle = (client: net.Socket) => {
    connections++;
    const server = options.tls
      ? tls.connect({
          host: options.target.host,
          port: options.target.port,
          // The proxy is the attacker: it does not care whom it talks to.
          rejectUnauthorized: false,
          servername: 'localhost',
          ALPNProtocols: ['xmpp-client'],
          maxVersion: options.tls.maxVersion,
        })
      : net.connect({ host: options.target.host, port: options.target.port });
    const pair: Pair = { client, server, frozen: false };
    pairs.add(pair);
    let held: string | undefined = options.rewriteFirstFeatures ? '' : undefined;
    // Bytes stay bytes (after a passed-through STARTTLS they are TLS records); text views use
    // latin1, which maps every byte to one character and back without loss.
    client.on('data', (d: Buffer) => {
      if (pair.frozen) return;
      fromClient += d.toString('latin1');
      server.write(d);
    });
    server.on('data', (chunk: Buffer) => {
      if (pair.frozen) return;
      let d = chunk.toString('latin1');
      if (held !== undefined) {
        held += d;
        const m = FEATURES_END.exec(held);
        if (!m) return;
        const end = m.index + m[0].length;
        const start = held.search(/<(?:[A-Za-z0-9_-]+:)?features[\s>]/);
        const before = held.slice(0, start);
        const after = held.slice(end);
        const features = held.slice(start, end);
        held = undefined;
        rewrites++;
        d = before + options.rewriteFirstFeatures!(features) + after;
      }
      fromServer += d;
      client.write(Buffer.from(d, 'latin1'));
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    for (const s of [client, server]) {
      s.on('error', end);
      s.on('close', end);
    }
  };

  const listener = options.tls
    ? tls.createServer(
        { cert: options.tls.cert, key: options.tls.key, maxVersion: options.tls.maxVersion },
        handle,
      )
    : net.createServer(handle);
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const port = (listener.address() as net.AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    get connections() {
      return connections;
    },
    get rewrites() {
      return rewrites;
    },
    clientText: () => fromClient,
    serverText: () => fromServer,
    freeze() {
      for (const p of pairs) p.frozen = true;
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.server.destroy();
      }
      await new Promise<void>((r) => listener.close(() => r()));
    },
  };
}

/** Remove `<starttls .../>` (self-closing or with children such as `<required/>`) from features text. */
export function stripStartTls(features: string): string {
  return features
    .replace(/<starttls\b[^>]*\/>/g, '')
    .replace(/<starttls\b[^>]*>[\s\S]*?<\/starttls\s*>/g, '');
}

/** Remove every `<mechanism>...-PLUS</mechanism>` from features text. */
export function stripPlusMechanisms(features: string): string {
  return features.replace(/<mechanism>\s*[A-Za-z0-9_-]+-PLUS\s*<\/mechanism>/g, '');
}

/** What a scripted server saw and lets the test control. */
export interface ScriptedServer {
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  /** Everything clients sent. */
  received(): string;
  close(): Promise<void>;
}

export interface ScriptedServerOptions {
  /** Listen address (default 127.0.0.1; any 127/8 address works on Linux). */
  host?: string | undefined;
  /** Direct TLS with this certificate and key (PEM); plain TCP without. */
  tls?: { cert: string; key: string } | undefined;
  /**
   * Called with the client's text so far each time more arrives; returns what to send back
   * (undefined: nothing yet). `end: true` closes our side afterwards.
   */
  respond?: ((received: string) => { send: string; end?: boolean } | undefined) | undefined;
}

/**
 * A scripted XMPP "server": answers what the test scripts, and counts connections (a listener that
 * must NOT be contacted is one with no `respond`).
 */
export async function startScriptedServer(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  let connections = 0;
  let received = '';
  const sockets = new Set<net.Socket>();
  const handle = (socket: net.Socket) => {
    connections++;
    sockets.add(socket);
    socket.setEncoding('utf8');
    let mine = '';
    let done = false;
    socket.on('data', (d: string) => {
      received += d;
      mine += d;
      if (done || !options.respond) return;
      const answer = options.respond(mine);
      if (!answer) return;
      socket.write(answer.send);
      if (answer.end) {
        done = true;
        socket.end();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  };
  const listener = options.tls ? tls.createServer(options.tls, handle) : net.createServer(handle);
  listener.listen(0, options.host ?? '127.0.0.1');
  await once(listener, 'listening');
  const addr = listener.address() as net.AddressInfo;
  return {
    host: addr.address,
    port: addr.port,
    get connections() {
      return connections;
    },
    received: () => received,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => listener.close(() => r()));
    },
  };
}

/** A server's stream header as a scripted server sends it (RFC 6120 4.7). */
export function serverStreamHeader(domain = 'localhost'): string {
  return (
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " +
    `xmlns:stream='http://etherx.jabber.org/streams' id='scripted-1' from='${domain}' version='1.0'>`
  );
}
