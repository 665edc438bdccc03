// The test bed itself, checked with the barest client: raw TCP, STARTTLS (RFC 6120 section 5) and
// direct TLS (XEP-0368) verified against the test CA, stream features parsed with confab's own
// StreamParser, SASL PLAIN (RFC 4616, RFC 6120 section 6) with a fresh account, a clean close
// (RFC 6120 section 4.4). If these pass, every later integration test has working servers.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { type Account, freshAccount, getServer, type ServerInfo } from '../../../../testbed/harness.ts';
import type { Element } from '../../src/xml/element.ts';
import { xml } from '../../src/xml/element.ts';
import { StreamParser } from '../../src/xml/parser.ts';
import { STREAM_CLOSE, serialize, streamOpen } from '../../src/xml/serializer.ts';

const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const NS_SM = 'urn:xmpp:sm:3';
const TIMEOUT_MS = 5000;

type StreamEvent =
  | { kind: 'open'; el: Element }
  | { kind: 'element'; el: Element }
  | { kind: 'end' }
  | { kind: 'error'; error: Error }
  | { kind: 'closed' };

/** A raw XMPP stream over a socket, events read in order with `next()`. Test scaffolding only. */
class RawStream {
  private socket: Socket | TLSSocket;
  private readonly queue: StreamEvent[] = [];
  private waiter: ((e: StreamEvent) => void) | undefined;
  private readonly parser: StreamParser;
  private readonly onData = (chunk: Buffer) => this.parser.write(new Uint8Array(chunk));
  private readonly onClose = () => this.push({ kind: 'closed' });

  constructor(socket: Socket | TLSSocket) {
    this.socket = socket;
    this.parser = new StreamParser({
      streamStart: (el) => this.push({ kind: 'open', el }),
      element: (el) => this.push({ kind: 'element', el }),
      streamEnd: () => this.push({ kind: 'end' }),
      error: (error) => this.push({ kind: 'error', error }),
    });
    this.attach(socket);
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('error', (error) => this.push({ kind: 'error', error }));
  }

  private push(e: StreamEvent): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(e);
    } else this.queue.push(e);
  }

  next(what = 'an event'): Promise<StreamEvent> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`timed out waiting for ${what}`));
      }, TIMEOUT_MS);
      this.waiter = (e) => {
        clearTimeout(timer);
        resolve(e);
      };
    });
  }

  async expect<K extends StreamEvent['kind']>(
    kind: K,
    what: string,
  ): Promise<Extract<StreamEvent, { kind: K }>> {
    const e = await this.next(what);
    if (e.kind === 'error') throw e.error;
    assert.equal(e.kind, kind, `expected ${what}, got ${e.kind}${'el' in e ? `: ${serialize(e.el)}` : ''}`);
    return e as Extract<StreamEvent, { kind: K }>;
  }

  send(s: string): void {
    this.socket.write(s);
  }

  /** Sends a stream header and returns the server's header and features. */
  async open(): Promise<{ header: Element; features: Element }> {
    this.send(streamOpen({ to: 'localhost', version: '1.0', 'xml:lang': 'en' }));
    const header = (await this.expect('open', 'the stream header')).el;
    const features = (await this.expect('element', 'stream features')).el;
    assert.ok(
      features.is('features', 'http://etherx.jabber.org/streams'),
      `not features: ${serialize(features)}`,
    );
    return { header, features };
  }

  /** STARTTLS: request, <proceed/>, TLS handshake verified against `ca`, fresh parser. */
  async starttls(ca: string): Promise<TLSSocket> {
    this.send(serialize(xml('starttls', { xmlns: NS_TLS }), 'jabber:client'));
    const proceed = (await this.expect('element', '<proceed/>')).el;
    assert.ok(proceed.is('proceed', NS_TLS), `expected proceed, got ${serialize(proceed)}`);
    const plain = this.socket;
    plain.off('data', this.onData);
    plain.off('close', this.onClose);
    const secure = await secureConnect({ socket: plain, ca });
    this.socket = secure;
    this.parser.reset();
    this.attach(secure);
    return secure;
  }

  /** SASL PLAIN; returns the server's answer element (success or failure). */
  async plain(username: string, password: string): Promise<Element> {
    const payload = Buffer.from(`\0${username}\0${password}`, 'utf8').toString('base64');
    this.send(serialize(xml('auth', { xmlns: NS_SASL, mechanism: 'PLAIN' }, payload), 'jabber:client'));
    return (await this.expect('element', 'SASL answer')).el;
  }

  /** Restart after TLS or SASL: fresh parser, new header. */
  restart(): Promise<{ header: Element; features: Element }> {
    this.parser.reset();
    return this.open();
  }

  /** Sends </stream:stream> and waits for the server's close and the socket's end. */
  async close(): Promise<void> {
    this.send(STREAM_CLOSE);
    await this.expect('end', "the server's </stream:stream>");
    this.socket.end();
    await this.expect('closed', 'the socket to close');
  }
}

function tcp(server: ServerInfo, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: server.host, port }, () => resolve(s));
    s.once('error', reject);
  });
}

function secureConnect(opts: {
  socket?: Socket;
  host?: string;
  port?: number;
  ca: string;
}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ ...opts, servername: 'localhost' }, () => {
      // Verified against the test CA only (ca replaces the system roots), for the name localhost.
      if (!s.authorized) reject(new Error(`TLS not authorized: ${s.authorizationError}`));
      else resolve(s);
    });
    s.once('error', reject);
  });
}

function mechanisms(features: Element): string[] {
  const mechs = features.getChild('mechanisms', NS_SASL);
  assert.ok(mechs, `no SASL mechanisms in ${serialize(features)}`);
  return mechs.getChildren('mechanism', NS_SASL).map((m) => m.text());
}

const NS_IQ_AUTH_FEATURE = 'http://jabber.org/features/iq-auth';

/** What each profile must offer: later tests rely on these. */
const expected: Record<
  string,
  { mechanisms: string[]; exactly?: boolean; sm: boolean; legacyAuth: boolean }
> = {
  prosody: { mechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256', 'PLAIN'], sm: true, legacyAuth: true },
  'prosody-minimal': { mechanisms: ['SCRAM-SHA-1', 'PLAIN'], exactly: true, sm: false, legacyAuth: false },
  // ejabberd offers channel binding (-PLUS) on TLS 1.3 too.
  ejabberd: {
    mechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'PLAIN'],
    sm: true,
    legacyAuth: true,
  },
};

for (const name of Object.keys(expected)) {
  const want = expected[name]!;
  describe(`test bed: ${name}`, () => {
    const server = getServer(name);
    const ca = readFileSync(server.caFile, 'utf8');

    test('STARTTLS verified with the test CA; features parsed by confab; clean close', async () => {
      const stream = new RawStream(await tcp(server, server.ports.c2s));
      const pre = await stream.open();
      assert.equal(pre.header.attr('from'), 'localhost');
      assert.equal(pre.header.attr('version'), '1.0');
      assert.ok(pre.header.attr('id'), 'stream id');
      const starttls = pre.features.getChild('starttls', NS_TLS);
      assert.ok(starttls, `no <starttls/> offered: ${serialize(pre.features)}`);
      assert.ok(starttls.getChild('required', NS_TLS), 'STARTTLS must be required');
      assert.equal(pre.features.getChild('mechanisms', NS_SASL), undefined, 'no SASL before TLS');

      const tls = await stream.starttls(ca);
      assert.match(tls.getProtocol() ?? '', /^TLSv1\.[23]$/);
      const post = await stream.restart();
      const offered = mechanisms(post.features);
      for (const m of want.mechanisms)
        assert.ok(offered.includes(m), `${m} not offered (offered: ${offered})`);
      if (want.exactly) assert.deepEqual([...offered].sort(), [...want.mechanisms].sort());
      assert.equal(post.features.getChild('starttls', NS_TLS), undefined, 'no STARTTLS after TLS');
      assert.equal(
        Boolean(post.features.getChild('auth', NS_IQ_AUTH_FEATURE)),
        want.legacyAuth,
        'XEP-0078 offered',
      );
      await stream.close();
    });

    test('direct TLS port (XEP-0368) verified with the test CA', async () => {
      const socket = await secureConnect({ host: server.host, port: server.ports.c2sTls, ca });
      const stream = new RawStream(socket);
      const { features } = await stream.open();
      assert.ok(mechanisms(features).includes('SCRAM-SHA-1'));
      await stream.close();
    });

    test('a fresh account logs in with PLAIN over TLS; a wrong password is refused', async () => {
      const account: Account = await freshAccount(server);
      assert.match(account.jid, /^[a-z0-9]+@localhost$/);

      const bad = new RawStream(await tcp(server, server.ports.c2s));
      await bad.open();
      await bad.starttls(ca);
      await bad.restart();
      const refused = await bad.plain(account.username, `${account.password}x`);
      assert.ok(refused.is('failure', NS_SASL), `expected failure, got ${serialize(refused)}`);
      assert.ok(refused.getChild('not-authorized', NS_SASL), serialize(refused));
      await bad.close();

      const good = new RawStream(await tcp(server, server.ports.c2s));
      await good.open();
      await good.starttls(ca);
      await good.restart();
      const ok = await good.plain(account.username, account.password);
      assert.ok(ok.is('success', NS_SASL), `expected success, got ${serialize(ok)}`);
      const { features } = await good.restart();
      assert.ok(features.getChild('bind', NS_BIND), `no bind offered: ${serialize(features)}`);
      assert.equal(
        Boolean(features.getChild('sm', NS_SM)),
        want.sm,
        `stream management offered: ${!want.sm}`,
      );
      await good.close();
    });
  });
}
