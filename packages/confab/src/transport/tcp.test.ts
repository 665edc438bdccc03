// TCP transport against scripted local servers: TLS verification (CA, self-signed, hostname =
// the JID's domain, pins, the tests-only escape hatch), STARTTLS with injected bytes after
// <proceed/>, SRV candidates, timeouts, backpressure, channel binding on TLS 1.2 and 1.3.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { type CertificateFiles, createCertificates, createSelfSigned } from '../../../../testbed/certs.ts';
import type { ConfabError, XmlError } from '../errors.ts';
import { type Element, xml } from '../xml/element.ts';
import { createTcpTransport, spkiSha256 } from './tcp.ts';
import type { TlsCertificateError } from './tls.ts';
import type { SrvResolver, TcpTransportOptions, Transport, TransportHandlers } from './types.ts';

const run = promisify(execFile);
const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
const SERVER_HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
  "id='s1' from='localhost' version='1.0'>";

// --- fixtures ---

interface Pems {
  ca: string;
  cert: string;
  key: string;
  selfCert: string;
  selfKey: string;
  /** A CA-signed leaf for `xmpp.example` only: no IP, no localhost. */
  otherCert: string;
  otherKey: string;
}
let pems: Pems;
let files: CertificateFiles;

before(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'confab-tcp-'));
  files = await createCertificates(dir);
  const self = await createSelfSigned(dir);
  const otherKey = join(dir, 'other-key.pem');
  const otherCsr = join(dir, 'other.csr');
  const otherCert = join(dir, 'other.pem');
  const ext = join(dir, 'other.ext');
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', otherKey]);
  await run('openssl', ['req', '-new', '-key', otherKey, '-subj', '/CN=xmpp.example', '-out', otherCsr]);
  await writeFile(ext, 'subjectAltName=DNS:xmpp.example\nextendedKeyUsage=serverAuth\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    otherCsr,
    '-CA',
    files.caCert,
    '-CAkey',
    files.caKey,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    ext,
    '-out',
    otherCert,
  ]);
  const r = (p: string) => readFile(p, 'utf8');
  pems = {
    ca: await r(files.caCert),
    cert: await r(files.cert),
    key: await r(files.key),
    selfCert: await r(self.cert),
    selfKey: await r(self.key),
    otherCert: await r(otherCert),
    otherKey: await r(otherKey),
  };
});

/** Records what the transport reports; `until` waits for an event (no sleeps). */
function recorder() {
  type Ev =
    | { kind: 'start'; attrs: Record<string, string> }
    | { kind: 'element'; el: Element }
    | { kind: 'end' }
    | { kind: 'closed'; error: Error | undefined }
    | { kind: 'parseError'; error: XmlError };
  const events: Ev[] = [];
  const waiters: Array<{ pred: (e: Ev) => boolean; resolve: (e: Ev) => void }> = [];
  const push = (e: Ev) => {
    events.push(e);
    for (const w of [...waiters]) {
      if (w.pred(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  };
  const logs: string[] = [];
  const handlers: TransportHandlers = {
    streamStart: (attrs) => push({ kind: 'start', attrs }),
    element: (el) => push({ kind: 'element', el }),
    streamEnd: () => push({ kind: 'end' }),
    closed: (error) => push({ kind: 'closed', error }),
    parseError: (error) => push({ kind: 'parseError', error }),
    log: (m) => logs.push(m),
  };
  const until = <K extends Ev['kind']>(
    kind: K,
    pred: (e: Extract<Ev, { kind: K }>) => boolean = () => true,
  ) =>
    new Promise<Extract<Ev, { kind: K }>>((resolve) => {
      const match = (e: Ev) => e.kind === kind && pred(e as Extract<Ev, { kind: K }>);
      const found = events.find(match);
      if (found) resolve(found as Extract<Ev, { kind: K }>);
      else waiters.push({ pred: match, resolve: resolve as (e: Ev) => void });
    });
  const elements = () => events.filter((e) => e.kind === 'element').map((e) => (e as { el: Element }).el);
  return { handlers, events, until, elements, logs };
}

/** The server side of one connection: collects text, lets the test wait for a substring. */
class Peer {
  text = '';
  #waiters: Array<{ s: string; resolve: () => void }> = [];
  constructor(public socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', this.#onData);
    socket.on('error', () => {});
  }
  #onData = (d: string) => {
    this.text += d;
    for (const w of [...this.#waiters]) {
      if (this.text.includes(w.s)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  /** Stop collecting (before handing the socket to TLS). */
  detach() {
    this.socket.removeListener('data', this.#onData);
  }
  until(s: string): Promise<void> {
    if (this.text.includes(s)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ s, resolve }));
  }
}

interface TestServer {
  port: number;
  next(): Promise<Peer>;
  close(): Promise<void>;
}

// Everything opened is closed in after(), so a failing assertion cannot leave the process hanging.
const openServers = new Set<TestServer>();
const openTransports = new Set<Transport>();

function serve(server: net.Server, event: 'connection' | 'secureConnection'): Promise<TestServer> {
  const queue: Peer[] = [];
  const waiting: Array<(p: Peer) => void> = [];
  const sockets = new Set<net.Socket>();
  server.on(event, (s: net.Socket) => {
    sockets.add(s);
    const p = new Peer(s);
    const w = waiting.shift();
    if (w) w(p);
    else queue.push(p);
  });
  // Raw sockets under a TLS server are not destroyed directly: destroying the TCP socket under a
  // live TLSSocket crashed Node 20 (segfault) in this suite. Their TLS sockets are closed instead.
  server.on('connection', (s: net.Socket) => {
    s.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const ts: TestServer = {
        port: (server.address() as net.AddressInfo).port,
        next: () => {
          const p = queue.shift();
          return p ? Promise.resolve(p) : new Promise((r) => waiting.push(r));
        },
        close: () =>
          new Promise((r) => {
            openServers.delete(ts);
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      };
      openServers.add(ts);
      resolve(ts);
    });
  });
}

const tlsServer = (options: tls.TlsOptions) =>
  serve(tls.createServer({ ALPNProtocols: ['xmpp-client'], ...options }), 'secureConnection');
const tcpServer = () => serve(net.createServer(), 'connection');

function transport(r: ReturnType<typeof recorder>, options: Partial<TcpTransportOptions>): Transport {
  const t = createTcpTransport({ kind: 'tcp', domain: 'localhost', handlers: r.handlers, ...options });
  openTransports.add(t);
  return t;
}

// --- direct TLS and verification ---

describe('direct TLS', { timeout: 15_000 }, () => {
  test('verified against the extra CA; SNI and ALPN; a whole stream round trip', async () => {
    const srv = await tlsServer({ key: pems.key, cert: pems.cert });
    const r = recorder();
    const t = transport(r, { host: '127.0.0.1', port: srv.port, directTls: true, tls: { ca: pems.ca } });
    await t.connect();
    const peer = await srv.next();
    const serverSide = peer.socket as tls.TLSSocket;
    assert.equal((serverSide as unknown as { servername: string }).servername, 'localhost'); // SNI = domain
    assert.equal(serverSide.alpnProtocol, 'xmpp-client');
    assert.equal(t.secure, true);
    assert.equal(t.tls?.alpn, 'xmpp-client');
    assert.equal(t.tls?.verifiedBy, 'ca');
    assert.equal(t.tls?.spkiSha256, spkiSha256(new X509Certificate(pems.cert).raw));
    assert.equal(t.tls?.fingerprint256, new X509Certificate(pems.cert).fingerprint256);
    assert.ok(t.certificateCovers('localhost'));
    assert.ok(t.certificateCovers('127.0.0.1'));
    assert.ok(!t.certificateCovers('example.org'));

    t.openStream({ to: 'localhost', lang: 'en' });
    await peer.until("version='1.0'");
    assert.match(peer.text, /^<\?xml version='1.0'\?><stream:stream /);
    assert.match(peer.text, /to='localhost'/);
    assert.match(peer.text, /xml:lang='en'/);
    peer.socket.write(
      `${SERVER_HEADER}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`,
    );
    const start = await r.until('start');
    assert.equal(start.attrs.id, 's1');
    const features = (await r.until('element')).el;
    assert.ok(features.is('features', 'http://etherx.jabber.org/streams'));
    assert.ok(features.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind'));

    await t.send(xml('message', { to: 'a@localhost' }, xml('body', {}, 'hi <3')));
    await peer.until('</message>');
    assert.match(peer.text, /<message to='a@localhost'><body>hi &lt;3<\/body><\/message>/);
    t.sendKeepalive();
    t.closeStream();
    await peer.until('</stream:stream>');
    assert.match(peer.text, /<\/message> <\/stream:stream>$/);
    peer.socket.end('</stream:stream>');
    await r.until('end');
    const closed = await r.until('closed');
    assert.equal(closed.error, undefined, 'a clean close reports no error');
    await srv.close();
  });

  test('a self-signed certificate is refused with ERR_TLS_CERT, the reason and its fingerprints', async () => {
    const srv = await tlsServer({ key: pems.selfKey, cert: pems.selfCert });
    const r = recorder();
    const t = transport(r, { host: '127.0.0.1', port: srv.port, directTls: true, tls: { ca: pems.ca } });
    const x = new X509Certificate(pems.selfCert);
    await assert.rejects(t.connect(), (e: TlsCertificateError) => {
      assert.equal(e.code, 'ERR_TLS_CERT');
      assert.equal(e.reason, 'self-signed');
      assert.equal(e.fingerprint256, x.fingerprint256);
      assert.equal(e.spkiSha256, spkiSha256(x.raw));
      assert.ok(e.message.includes(x.fingerprint256), e.message);
      assert.ok(e.message.includes('self-signed'), e.message);
      return true;
    });
    assert.equal(t.secure, false);
    assert.ok(!r.events.some((e) => e.kind === 'closed'), 'closed is not reported when connect() rejects');
    await srv.close();
  });

  test('a CA-signed certificate is refused when that CA is not trusted (the system store lacks it)', async () => {
    const srv = await tlsServer({ key: pems.key, cert: pems.cert });
    const t = transport(recorder(), { host: '127.0.0.1', port: srv.port, directTls: true });
    await assert.rejects(t.connect(), { code: 'ERR_TLS_CERT', reason: 'untrusted issuer' });
    await srv.close();
  });

  test('identity is the JID domain, not the host dialled (RFC 7590)', async () => {
    // The localhost leaf also covers 127.0.0.1, the host we dial: still refused for another domain.
    const srv = await tlsServer({ key: pems.key, cert: pems.cert });
    const t = transport(recorder(), {
      domain: 'example.org',
      host: '127.0.0.1',
      port: srv.port,
      directTls: true,
      tls: { ca: pems.ca },
    });
    await assert.rejects(t.connect(), { code: 'ERR_TLS_CERT', reason: 'hostname mismatch' });
    await srv.close();

    // A leaf that covers only the domain (not 127.0.0.1) is accepted, and SNI carries the domain.
    const other = await tlsServer({ key: pems.otherKey, cert: pems.otherCert });
    const t2 = transport(recorder(), {
      domain: 'xmpp.example',
      host: '127.0.0.1',
      port: other.port,
      directTls: true,
      tls: { ca: pems.ca },
    });
    await t2.connect();
    const peer = await other.next();
    assert.equal((peer.socket as unknown as { servername: string }).servername, 'xmpp.example');
    assert.equal(t2.tls?.verifiedBy, 'ca');
    t2.destroy();
    await other.close();
  });

  test('SPKI pin: the right pin accepts even a self-signed certificate; a wrong one refuses even a CA-signed one', async () => {
    const self = await tlsServer({ key: pems.selfKey, cert: pems.selfCert });
    const pin = spkiSha256(new X509Certificate(pems.selfCert).raw);
    const hexPin = Buffer.from(pin, 'base64').toString('hex');
    for (const p of [pin, `sha256/${pin}`, hexPin]) {
      const r = recorder();
      const t = transport(r, { host: '127.0.0.1', port: self.port, directTls: true, tls: { pin: p } });
      await t.connect();
      assert.equal(t.tls?.verifiedBy, 'pin');
      t.destroy();
      assert.equal((await r.until('closed')).error, undefined);
    }
    await self.close();

    const signed = await tlsServer({ key: pems.key, cert: pems.cert });
    const t = transport(recorder(), {
      host: '127.0.0.1',
      port: signed.port,
      directTls: true,
      tls: { ca: pems.ca, pin },
    });
    await assert.rejects(t.connect(), (e: TlsCertificateError) => {
      assert.equal(e.code, 'ERR_TLS_PIN');
      assert.equal(e.spkiSha256, spkiSha256(new X509Certificate(pems.cert).raw));
      return true;
    });
    // A malformed pin fails before any connection.
    const bad = transport(recorder(), {
      host: '127.0.0.1',
      port: signed.port,
      directTls: true,
      tls: { pin: 'nope' },
    });
    await assert.rejects(bad.connect(), { code: 'ERR_BAD_INPUT' });
    await signed.close();
  });

  test('insecureSkipVerify_TESTS_ONLY accepts anything, loudly', async () => {
    const srv = await tlsServer({ key: pems.selfKey, cert: pems.selfCert });
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    const t = transport(recorder(), {
      domain: 'example.org',
      host: '127.0.0.1',
      port: srv.port,
      directTls: true,
      tls: { insecureSkipVerify_TESTS_ONLY: true },
    });
    await t.connect();
    assert.equal(t.tls?.verifiedBy, 'nothing');
    const w = await warned;
    assert.match(w.message, /NOT verified/);
    t.destroy();
    await srv.close();
  });

  test('a server that never completes the handshake: ERR_TIMEOUT within the connect timeout', async () => {
    const srv = await tcpServer(); // accepts TCP, never speaks TLS
    const t = transport(recorder(), {
      host: '127.0.0.1',
      port: srv.port,
      directTls: true,
      connectTimeoutMs: 150,
      tls: { ca: pems.ca },
    });
    const t0 = performance.now();
    await assert.rejects(t.connect(), { code: 'ERR_TIMEOUT' });
    assert.ok(performance.now() - t0 < 2000);
    await srv.close();
  });
});

// --- candidates ---

describe('candidates', { timeout: 15_000 }, () => {
  test('an explicit host means no SRV lookup at all', async () => {
    const srv = await tcpServer();
    const resolver: SrvResolver = {
      resolveSrv: () => {
        throw new Error('no lookup expected');
      },
    };
    const t = transport(recorder(), { domain: 'example.org', host: '127.0.0.1', port: srv.port, resolver });
    await t.connect();
    assert.equal(t.secure, false);
    t.destroy();
    await srv.close();
  });

  test('SRV (XEP-0368): a dead first candidate is skipped; an xmpps record means direct TLS', async () => {
    const dead = await tcpServer();
    const deadPort = dead.port;
    await dead.close(); // nothing listens there now
    const srv = await tlsServer({ key: pems.otherKey, cert: pems.otherCert });
    const resolver: SrvResolver = {
      resolveSrv: async (name) =>
        name === '_xmpp-client._tcp.xmpp.example'
          ? [{ name: '127.0.0.1', port: deadPort, priority: 0, weight: 0 }]
          : name === '_xmpps-client._tcp.xmpp.example'
            ? [{ name: '127.0.0.1', port: srv.port, priority: 5, weight: 0 }]
            : [],
    };
    const r = recorder();
    const t = transport(r, { domain: 'xmpp.example', resolver, tls: { ca: pems.ca } });
    await t.connect();
    assert.equal(t.secure, true);
    assert.equal(t.tls?.alpn, 'xmpp-client');
    assert.ok(
      r.logs.some((l) => l.includes(`127.0.0.1:${deadPort}`)),
      r.logs.join('\n'),
    );
    t.destroy();
    await srv.close();
  });

  test('all candidates failing: one error naming each attempt', async () => {
    const a = await tcpServer();
    const b = await tcpServer();
    const ports = [a.port, b.port];
    await a.close();
    await b.close();
    const resolver: SrvResolver = {
      resolveSrv: async (name) =>
        name.startsWith('_xmpp-client')
          ? ports.map((port, i) => ({ name: '127.0.0.1', port, priority: i, weight: 0 }))
          : [],
    };
    const t = transport(recorder(), { domain: 'example.org', resolver });
    await assert.rejects(t.connect(), (e: ConfabError) => {
      assert.equal(e.code, 'ERR_CONNECT');
      assert.ok(e.message.includes(String(ports[0])) && e.message.includes(String(ports[1])), e.message);
      return true;
    });
  });
});

// --- STARTTLS ---

describe('STARTTLS', { timeout: 15_000 }, () => {
  test('upgrade in place; bytes sent after <proceed/> are discarded; TLS verified for the domain', async () => {
    const srv = await tcpServer();
    const r = recorder();
    const t = transport(r, { host: '127.0.0.1', port: srv.port, tls: { ca: pems.ca } });
    await t.connect();
    const peer = await srv.next();
    t.openStream({ to: 'localhost' });
    await peer.until('>');
    peer.socket.write(
      `${SERVER_HEADER}<stream:features><starttls xmlns='${NS_TLS}'><required/></starttls></stream:features>`,
    );
    const features = (await r.until('element')).el;
    assert.ok(features.getChild('starttls', NS_TLS));
    await t.send(xml('starttls', { xmlns: NS_TLS }));
    await peer.until('starttls');
    // An attacker's injection rides in the same packet as <proceed/>.
    const injected = "<message xmlns='jabber:client' from='admin@localhost'><body>injected</body></message>";
    let secureSide: tls.TLSSocket | undefined;
    const serverSecure = new Promise<void>((resolve) => {
      peer.detach();
      peer.socket.write(`<proceed xmlns='${NS_TLS}'/>${injected}`, () => {
        secureSide = new tls.TLSSocket(peer.socket, { isServer: true, key: pems.key, cert: pems.cert });
        secureSide.on('secure', () => resolve());
        secureSide.on('error', () => {});
      });
    });
    const proceed = await r.until('element', (e) => e.el.is('proceed', NS_TLS));
    assert.ok(proceed);
    await t.startTls();
    await serverSecure;
    assert.equal(t.secure, true);
    assert.equal(t.tls?.verifiedBy, 'ca');
    assert.equal(t.tls?.alpn, undefined); // ALPN belongs to direct TLS
    const securePeer = new Peer(secureSide!);
    t.openStream({ to: 'localhost' });
    await securePeer.until("version='1.0'");
    securePeer.socket.write(
      `${SERVER_HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>`,
    );
    await r.until('element', (e) => e.el.getChild('mechanisms') !== undefined);
    const names = r.elements().map((e) => e.name);
    assert.deepEqual(names, ['features', 'proceed', 'features']);
    assert.ok(!r.elements().some((e) => e.is('message')), 'the injected stanza never reached the session');
    assert.equal(r.events.filter((e) => e.kind === 'start').length, 2);
    t.destroy();
    assert.equal((await r.until('closed')).error, undefined);
    await srv.close();
  });

  test('STARTTLS to a server with a bad certificate: startTls rejects and closed(err) follows', async () => {
    const srv = await tcpServer();
    const r = recorder();
    const t = transport(r, { host: '127.0.0.1', port: srv.port, tls: { ca: pems.ca } });
    await t.connect();
    const peer = await srv.next();
    peer.detach();
    const secureSide = new tls.TLSSocket(peer.socket, {
      isServer: true,
      key: pems.selfKey,
      cert: pems.selfCert,
    });
    secureSide.on('error', () => {});
    await assert.rejects(t.startTls(), { code: 'ERR_TLS_CERT', reason: 'self-signed' });
    const closed = await r.until('closed');
    assert.equal((closed.error as ConfabError | undefined)?.code, 'ERR_TLS_CERT');
    assert.equal(t.secure, false);
    await srv.close();
  });
});

// --- stream errors and closes ---

describe('errors and closes', { timeout: 15_000 }, () => {
  test('bad XML: parseError, nothing more delivered, the socket stays writable for the stream error', async () => {
    const srv = await tcpServer();
    const r = recorder();
    const t = transport(r, { host: '127.0.0.1', port: srv.port });
    await t.connect();
    const peer = await srv.next();
    peer.socket.write(`${SERVER_HEADER}<message><body>a</wrong></message><message/>`);
    const pe = await r.until('parseError');
    assert.equal(pe.error.condition, 'not-well-formed');
    await t.send(
      xml(
        'error',
        { xmlns: 'http://etherx.jabber.org/streams' },
        xml('not-well-formed', { xmlns: 'urn:ietf:params:xml:ns:xmpp-streams' }),
      ),
    );
    await peer.until('not-well-formed');
    peer.socket.write('<message/>');
    t.destroy(pe.error);
    const closed = await r.until('closed');
    assert.equal(closed.error, pe.error);
    assert.equal(r.elements().length, 0);
    await srv.close();
  });

  test('the peer dropping the connection mid-stream: closed(ERR_SOCKET_CLOSED); sends then reject', async () => {
    const srv = await tcpServer();
    const r = recorder();
    const t = transport(r, { host: '127.0.0.1', port: srv.port });
    await t.connect();
    const peer = await srv.next();
    peer.socket.write(SERVER_HEADER);
    await r.until('start');
    peer.socket.destroy();
    const closed = await r.until('closed');
    assert.equal((closed.error as ConfabError).code, 'ERR_SOCKET_CLOSED');
    await assert.rejects(t.send(xml('presence')), { code: 'ERR_NOT_CONNECTED' });
    await srv.close();
  });
});

// --- backpressure ---

test('backpressure: a peer that does not read makes send() wait; memory stays bounded', {
  timeout: 15_000,
}, async () => {
  const srv = await tcpServer();
  const r = recorder();
  const t = transport(r, { host: '127.0.0.1', port: srv.port });
  await t.connect();
  const peer = await srv.next();
  peer.detach();
  peer.socket.pause(); // the peer stops reading: kernel buffers fill, then ours
  let received = 0;
  const body = 'x'.repeat(32 * 1024);
  const el = xml('message', { to: 'a@localhost' }, xml('body', {}, body));
  const elBytes = Buffer.byteLength(`<message to='a@localhost'><body>${body}</body></message>`);
  const hwm = 16 * 1024; // net.Socket's writableHighWaterMark on Node 20
  let sent = 0;
  let maxBuffered = 0;
  let blocked: Promise<void> | undefined;
  for (; sent < 10_000; sent++) {
    const p = t.send(el);
    maxBuffered = Math.max(maxBuffered, t.bufferedAmount);
    const state = await Promise.race([
      p.then(() => 'done'),
      new Promise((res) => setImmediate(() => res('pending'))),
    ]);
    if (state === 'pending') {
      blocked = p;
      sent++;
      break;
    }
  }
  assert.ok(blocked, 'send() never waited although the peer reads nothing');
  assert.ok(maxBuffered <= hwm + elBytes, `buffered ${maxBuffered} > ${hwm + elBytes}`);
  // While the peer stays paused the send stays pending and nothing more piles up in our process.
  let settled = false;
  blocked.then(() => {
    settled = true;
  });
  for (let i = 0; i < 20; i++) await new Promise((res) => setImmediate(res));
  assert.equal(settled, false);
  assert.ok(t.bufferedAmount <= hwm + elBytes);
  // The peer reads again: the send resolves and every byte arrives.
  const expected = sent * elBytes;
  const all = new Promise<void>((resolve) => {
    peer.socket.on('data', (d: Buffer | string) => {
      received += Buffer.byteLength(d);
      if (received >= expected) resolve();
    });
  });
  peer.socket.resume();
  await blocked;
  await all;
  assert.equal(received, expected);
  t.destroy();
  await srv.close();
});

// --- channel binding ---

describe('channel binding', { timeout: 15_000 }, () => {
  test('TLS 1.2: tls-unique equals the client Finished the server saw; no tls-exporter', async () => {
    const srv = await tlsServer({ key: pems.key, cert: pems.cert, maxVersion: 'TLSv1.2' });
    const t = transport(recorder(), {
      host: '127.0.0.1',
      port: srv.port,
      directTls: true,
      tls: { ca: pems.ca },
    });
    await t.connect();
    const server = (await srv.next()).socket as tls.TLSSocket;
    assert.equal(t.tls?.protocol, 'TLSv1.2');
    const unique = t.channelBinding('tls-unique');
    assert.ok(unique && unique.length >= 12);
    assert.deepEqual(Buffer.from(unique), server.getPeerFinished());
    assert.equal(t.channelBinding('tls-exporter'), undefined);
    const endPoint = t.channelBinding('tls-server-end-point');
    assert.deepEqual(
      Buffer.from(endPoint!),
      createHash('sha256').update(new X509Certificate(pems.cert).raw).digest(),
    );
    t.destroy();
    await srv.close();
  });

  test('TLS 1.3: tls-exporter equals the server side export; no tls-unique', async () => {
    const srv = await tlsServer({ key: pems.key, cert: pems.cert, minVersion: 'TLSv1.3' });
    const t = transport(recorder(), {
      host: '127.0.0.1',
      port: srv.port,
      directTls: true,
      tls: { ca: pems.ca },
    });
    await t.connect();
    const server = (await srv.next()).socket as tls.TLSSocket;
    assert.equal(t.tls?.protocol, 'TLSv1.3');
    const exporter = t.channelBinding('tls-exporter');
    assert.equal(exporter?.length, 32);
    assert.deepEqual(
      Buffer.from(exporter!),
      server.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)),
    );
    assert.equal(t.channelBinding('tls-unique'), undefined);
    t.destroy();
    await srv.close();
  });

  test('no TLS: no channel binding', async () => {
    const srv = await tcpServer();
    const t = transport(recorder(), { host: '127.0.0.1', port: srv.port });
    await t.connect();
    assert.equal(t.channelBinding('tls-unique'), undefined);
    assert.equal(t.channelBinding('tls-server-end-point'), undefined);
    assert.equal(t.certificateCovers('localhost'), false);
    t.destroy();
    await srv.close();
  });
});

after(async () => {
  for (const t of openTransports) t.destroy();
  await Promise.all([...openServers].map((s) => s.close()));
});
