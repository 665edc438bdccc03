// WebSocket transport (RFC 7395) against a local `ws` server (ws:// and wss:// with the test
// CA), plus backpressure with a scripted WebSocket whose bufferedAmount the test controls.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type WebSocket, WebSocketServer } from 'ws';
import { createCertificates, createSelfSigned } from '../../../../testbed/certs.ts';
import type { ConfabError, XmlError } from '../errors.ts';
import { nodePlatform } from '../platform/node.ts';
import { type Element, xml } from '../xml/element.ts';
import { spkiSha256 } from './tcp.ts';
import type { TlsCertificateError } from './tls.ts';
import type { TlsOptions, Transport, TransportHandlers } from './types.ts';
import { createWebSocketTransport, HIGH_WATER_MARK, NS_FRAMING, type WebSocketLike } from './websocket.ts';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

let pem: { ca: string; cert: string; key: string; selfCert: string; selfKey: string };
before(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'confab-ws-'));
  const f = await createCertificates(dir);
  const s = await createSelfSigned(dir);
  const r = (p: string) => readFile(p, 'utf8');
  pem = {
    ca: await r(f.caCert),
    cert: await r(f.cert),
    key: await r(f.key),
    selfCert: await r(s.cert),
    selfKey: await r(s.key),
  };
});

function recorder() {
  const events: Array<{ kind: string; value?: unknown }> = [];
  const waiters: Array<{ kind: string; resolve: (v: unknown) => void }> = [];
  const push = (kind: string, value?: unknown) => {
    events.push({ kind, value });
    const i = waiters.findIndex((w) => w.kind === kind);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(value);
  };
  const handlers: TransportHandlers = {
    streamStart: (a) => push('start', a),
    element: (el) => push('element', el),
    streamEnd: (info) => push('end', info),
    closed: (e) => push('closed', e),
    parseError: (e) => push('parseError', e),
  };
  /** The next event of this kind not yet consumed. */
  const seen = new Map<string, number>();
  const next = (kind: string): Promise<unknown> => {
    const n = seen.get(kind) ?? 0;
    seen.set(kind, n + 1);
    const matching = events.filter((e) => e.kind === kind);
    if (matching.length > n) return Promise.resolve(matching[n]!.value);
    return new Promise((resolve) => waiters.push({ kind, resolve }));
  };
  return { handlers, events, next };
}

/** A ws server speaking `xmpp` (or not); hands each connection's socket and messages to the test. */
async function wsServer(options: { secure?: { key: string; cert: string }; protocol?: string | false } = {}) {
  const httpsServer = options.secure ? https.createServer(options.secure) : undefined;
  const wss = new WebSocketServer({
    ...(httpsServer ? { server: httpsServer } : { port: 0, host: '127.0.0.1' }),
    handleProtocols: (protocols) =>
      options.protocol === false
        ? false
        : protocols.has(options.protocol ?? 'xmpp')
          ? (options.protocol ?? 'xmpp')
          : false,
  });
  if (httpsServer) await new Promise<void>((r) => httpsServer.listen(0, '127.0.0.1', () => r()));
  else await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = ((httpsServer ?? wss).address() as AddressInfo).port;
  const conns: Array<{ ws: WebSocket; messages: string[]; next: () => Promise<string> }> = [];
  const waiting: Array<(c: (typeof conns)[number]) => void> = [];
  wss.on('connection', (ws) => {
    const messages: string[] = [];
    const msgWaiters: Array<(m: string) => void> = [];
    let taken = 0;
    ws.on('message', (d) => {
      const m = d.toString();
      messages.push(m);
      msgWaiters.shift()?.(m);
    });
    const conn = {
      ws,
      messages,
      next: () => {
        const i = taken++;
        return i < messages.length
          ? Promise.resolve(messages[i]!)
          : new Promise<string>((r) => msgWaiters.push(r));
      },
    };
    const w = waiting.shift();
    if (w) w(conn);
    else conns.push(conn);
  });
  const close = async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
    if (httpsServer) await new Promise((r) => httpsServer.close(r));
  };
  cleanups.push(close);
  return {
    url: `${httpsServer ? 'wss' : 'ws'}://${httpsServer ? 'localhost' : '127.0.0.1'}:${port}/xmpp-websocket`,
    next: () => {
      const c = conns.shift();
      return c ? Promise.resolve(c) : new Promise<(typeof conns)[number]>((r) => waiting.push(r));
    },
  };
}

function wsTransport(r: ReturnType<typeof recorder>, url: string, tls?: TlsOptions): Transport {
  const t = nodePlatform.createTransport({
    kind: 'websocket',
    url,
    domain: 'localhost',
    handlers: r.handlers,
    tls,
  });
  cleanups.push(() => t.destroy());
  return t;
}

describe('WebSocket framing (RFC 7395)', { timeout: 15_000 }, () => {
  test('open/close framing, one element per message, stream errors and see-other-uri passed through', async () => {
    const srv = await wsServer();
    const r = recorder();
    const t = wsTransport(r, srv.url);
    assert.equal(t.secure, false, 'ws:// is not secure');
    await t.connect();
    const conn = await srv.next();
    assert.equal(conn.ws.protocol, 'xmpp');
    t.openStream({ to: 'localhost', lang: 'en' });
    const open = await conn.next();
    assert.equal(open, `<open xmlns='${NS_FRAMING}' to='localhost' version='1.0' xml:lang='en'/>`);
    conn.ws.send(`<open xmlns='${NS_FRAMING}' id='ws1' from='localhost' version='1.0' xml:lang='en'/>`);
    const attrs = (await r.next('start')) as Record<string, string>;
    assert.equal(attrs.id, 'ws1');
    conn.ws.send(
      "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
    );
    const features = (await r.next('element')) as Element;
    assert.ok(features.is('features', 'http://etherx.jabber.org/streams'));

    await t.send(xml('message', { xmlns: 'jabber:client', to: 'a@localhost' }, xml('body', {}, 'hi')));
    assert.equal(
      await conn.next(),
      "<message xmlns='jabber:client' to='a@localhost'><body>hi</body></message>",
    );
    t.sendKeepalive(); // nothing on the wire: RFC 7395 has no whitespace keepalive

    conn.ws.send(
      "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
    );
    const err = (await r.next('element')) as Element;
    assert.ok(err.is('error', 'http://etherx.jabber.org/streams'));
    assert.ok(err.getChild('conflict', 'urn:ietf:params:xml:ns:xmpp-streams'));

    conn.ws.send(`<close xmlns='${NS_FRAMING}' see-other-uri='wss://other.example/ws'/>`);
    assert.deepEqual(await r.next('end'), { seeOtherUri: 'wss://other.example/ws' });
    t.closeStream();
    assert.equal(await conn.next(), `<close xmlns='${NS_FRAMING}'/>`);
    conn.ws.close(1000);
    assert.equal(await r.next('closed'), undefined);
    assert.equal(conn.messages.length, 3, 'open, message, close: the keepalive sent nothing');
    await assert.rejects(t.startTls(), { code: 'ERR_UNSUPPORTED' });
    assert.equal(t.channelBinding('tls-exporter'), undefined);
  });

  test('a server that does not agree to the xmpp subprotocol is refused', async () => {
    const srv = await wsServer({ protocol: false });
    const t = wsTransport(recorder(), srv.url);
    await assert.rejects(t.connect(), { code: 'ERR_CONNECT' });
  });

  test('nothing listening: ERR_CONNECT', async () => {
    const srv = await wsServer();
    const url = srv.url;
    for (const c of cleanups.splice(-1)) await c();
    await assert.rejects(wsTransport(recorder(), url).connect(), { code: 'ERR_CONNECT' });
  });

  test('a malformed message: parseError with the stream error condition; later messages ignored', async () => {
    const srv = await wsServer();
    const r = recorder();
    const t = wsTransport(r, srv.url);
    await t.connect();
    const conn = await srv.next();
    conn.ws.send("<message xmlns='jabber:client'><body>x</message>");
    conn.ws.send("<message xmlns='jabber:client'/>");
    const pe = (await r.next('parseError')) as XmlError;
    assert.equal(pe.condition, 'not-well-formed');
    conn.ws.close(1000);
    await r.next('closed');
    assert.equal(r.events.filter((e) => e.kind === 'element').length, 0);
  });

  test('the server going away without <close/>: closed(ERR_SOCKET_CLOSED)', async () => {
    const srv = await wsServer();
    const r = recorder();
    const t = wsTransport(r, srv.url);
    await t.connect();
    (await srv.next()).ws.terminate();
    const e = (await r.next('closed')) as ConfabError;
    assert.equal(e.code, 'ERR_SOCKET_CLOSED');
    await assert.rejects(t.send(xml('presence')), { code: 'ERR_NOT_CONNECTED' });
  });
});

describe('wss:// on Node', { timeout: 15_000 }, () => {
  test('verified with the extra CA: secure, TLS details', async () => {
    const srv = await wsServer({ secure: { key: pem.key, cert: pem.cert } });
    const t = wsTransport(recorder(), srv.url, { ca: pem.ca });
    assert.equal(t.secure, true);
    await t.connect();
    assert.equal(t.tls?.verifiedBy, 'ca');
    assert.equal(t.tls?.spkiSha256, spkiSha256(new X509Certificate(pem.cert).raw));
  });

  test('self-signed refused with ERR_TLS_CERT; accepted with its pin', async () => {
    const srv = await wsServer({ secure: { key: pem.selfKey, cert: pem.selfCert } });
    await assert.rejects(
      wsTransport(recorder(), srv.url, { ca: pem.ca }).connect(),
      (e: TlsCertificateError) => {
        assert.equal(e.code, 'ERR_TLS_CERT');
        assert.equal(e.reason, 'self-signed');
        return true;
      },
    );
    const pin = spkiSha256(new X509Certificate(pem.selfCert).raw);
    const t = wsTransport(recorder(), srv.url, { pin });
    await t.connect();
    assert.equal(t.tls?.verifiedBy, 'pin');
    const wrong = wsTransport(recorder(), srv.url, { pin: spkiSha256(new X509Certificate(pem.cert).raw) });
    await assert.rejects(wrong.connect(), { code: 'ERR_TLS_PIN' });
  });
});

describe('WebSocket backpressure', () => {
  /** A scripted WebSocket: opens at once, lets the test set bufferedAmount. */
  function fakeSocket() {
    const sock: WebSocketLike & { buffered: number; sent: string[] } = {
      readyState: 0,
      protocol: 'xmpp',
      buffered: 0,
      sent: [],
      get bufferedAmount() {
        return this.buffered;
      },
      binaryType: 'blob',
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
      send(data: string) {
        this.sent.push(data);
        this.buffered += data.length;
      },
      close() {
        (this as { readyState: number }).readyState = 3;
        this.onclose?.({ code: 1000, reason: '' });
      },
    };
    return sock;
  }

  test('send() waits while bufferedAmount is over the mark, resolves once it drains', async () => {
    const sock = fakeSocket();
    const r = recorder();
    const t = createWebSocketTransport(
      { kind: 'websocket', url: 'wss://example.org/ws', domain: 'example.org', handlers: r.handlers },
      { createWebSocket: () => sock },
    );
    const connected = t.connect();
    (sock as { readyState: number }).readyState = 1;
    sock.onopen?.({});
    await connected;
    assert.equal(sock.binaryType, 'arraybuffer');
    const big = xml('message', { xmlns: 'jabber:client' }, xml('body', {}, 'x'.repeat(HIGH_WATER_MARK)));
    let resolved = false;
    const p = t.send(big).then(() => {
      resolved = true;
    });
    assert.equal(t.bufferedAmount, sock.buffered);
    // Several poll intervals pass: still over the mark, still waiting.
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(resolved, false);
    sock.buffered = 0; // the browser flushed
    await p;
    assert.equal(resolved, true);
    // Small sends under the mark resolve at once.
    await t.send(xml('presence', { xmlns: 'jabber:client' }));
    // A close while waiting rejects the send.
    sock.buffered = HIGH_WATER_MARK * 2;
    const waiting = t.send(xml('presence', { xmlns: 'jabber:client' }));
    sock.close();
    await assert.rejects(waiting, { code: 'ERR_SOCKET_CLOSED' });
  });

  test('a URL that is not ws(s):// is refused up front', () => {
    assert.throws(
      () =>
        createWebSocketTransport(
          {
            kind: 'websocket',
            url: 'https://example.org/ws',
            domain: 'example.org',
            handlers: recorder().handlers,
          },
          { createWebSocket: () => fakeSocket() },
        ),
      { code: 'ERR_BAD_INPUT' },
    );
  });
});
