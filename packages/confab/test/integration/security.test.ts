// Session security and resilience against the real test-bed servers (Prosody, ejabberd), with a
// man in the middle where the attack needs one (test/helpers/proxy.ts):
// - RFC 6120 5 / RFC 7590: a STARTTLS-stripping proxy makes the login abort before any SASL step;
// - RFC 5802 6, RFC 5929 (tls-unique), RFC 9266 (tls-exporter), XEP-0440 0.4: SCRAM-*-PLUS where a
//   binding type can be agreed, plain SCRAM where not, and a TLS-terminating MITM caught by the
//   channel binding (whether it strips -PLUS or not);
// - RFC 7469 2.4 style SPKI pins: right pin connects without any CA, wrong pin refused;
// - XEP-0199 2.0.1 4.2: a silently dead link (proxy stops forwarding) noticed within bounds;
// - RFC 6120 3.3: reconnect with backoff after the server is killed and restarted;
// - RFC 6120 4.9.3.19: `see-other-host` followed only to a host the certificate covers;
// - RFC 6120 3.2 / XEP-0368 1.1.0: SRV and xmpps-client SRV lookups (injected resolver);
// - RFC 6120 6.5 / RFC 6120 6.4.5: a wrong password is a typed, final ERR_AUTH (not-authorized).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { caOf, ejabberd, freshAccount, prosody, type ServerInfo } from '../../../../testbed/harness.ts';
import {
  createProsodyAccount,
  randomPassword,
  startProsody,
  uniqueUsername,
} from '../../../../testbed/index.ts';
import type { TestServer } from '../../../../testbed/types.ts';
import type { Client, ClientOptions, ReconnectingEvent } from '../../src/client.ts';
import { ConfabError } from '../../src/errors.ts';
import { createClient } from '../../src/index.ts';
import type { SrvRecord } from '../../src/transport/types.ts';
import { xml } from '../../src/xml/element.ts';
import {
  serverStreamHeader,
  startProxy,
  startScriptedServer,
  stripPlusMechanisms,
  stripStartTls,
} from '../helpers/proxy.ts';

const run = promisify(execFile);
const SERVERS: Array<[string, () => ServerInfo]> = [
  ['Prosody', prosody],
  ['ejabberd', ejabberd],
];

/** Mechanism named in the (redacted) `<auth>` of a debug log. */
function mechanismIn(lines: readonly string[]): string | undefined {
  const auth = lines.find((l) => l.startsWith('confab -> <auth '));
  return auth ? /mechanism='([^']+)'/.exec(auth)?.[1] : undefined;
}

function newClient(o: ClientOptions & { lines?: string[] }): Client {
  const lines = o.lines;
  return createClient({ reconnect: false, ...(lines ? { debug: (l: string) => lines.push(l) } : {}), ...o });
}

async function ping(client: Client): Promise<void> {
  await client.iq({ type: 'get', to: 'localhost', payload: xml('ping', { xmlns: 'urn:xmpp:ping' }) });
}

/** The first event of `name`, or a rejection after `ms` (a bound, not a sleep). */
function nextEvent<T>(client: Client, name: 'online' | 'reconnecting' | 'offline', ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${name}' event within ${ms} ms (status ${client.status})`));
    }, ms);
    const off = client.once(name, (e) => {
      clearTimeout(timer);
      resolve(e as T);
    });
  });
}

/** SHA-256 of a PEM certificate's SubjectPublicKeyInfo, base64: what `tls.pin` takes. */
function spkiPin(certFile: string): string {
  const cert = new X509Certificate(readFileSync(certFile));
  return createHash('sha256')
    .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
}

/** base64 payloads of `<auth>` elements in raw client text (seen by a TLS-terminating MITM). */
function authPayloads(clientText: string): string[] {
  return [...clientText.matchAll(/<auth\b[^>]*>([^<]*)<\/auth>/g)].map((m) =>
    Buffer.from(m[1]!, 'base64').toString('utf8'),
  );
}

// ---------------------------------------------------------------------------------------------
describe('STARTTLS stripping (RFC 6120 5, RFC 7590): abort before any authentication', () => {
  for (const [name, server] of SERVERS) {
    for (const variant of ['strip', 'strip and offer PLAIN'] as const) {
      test(`${name}: ${variant} -> ERR_TLS_REQUIRED, no credentials on the wire`, async () => {
        const s = server();
        const account = await freshAccount(s);
        // The stronger attacker also advertises PLAIN, hoping the client sends the password in the clear.
        const proxy = await startProxy({
          target: { host: s.host, port: s.ports.c2s },
          rewriteFirstFeatures: (f) => {
            const stripped = stripStartTls(f);
            if (variant === 'strip') return stripped;
            return stripped
              .replace(/<mechanisms\b[\s\S]*?<\/mechanisms\s*>/, '')
              .replace(
                /<\/(?:stream:)?features\s*>$/,
                "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>$&",
              );
          },
        });
        try {
          const client = newClient({
            jid: account.jid,
            password: account.password,
            host: proxy.host,
            port: proxy.port,
            tls: { ca: caOf(s) },
            reconnect: true,
          });
          let reconnecting = 0;
          client.on('reconnecting', () => reconnecting++);
          await assert.rejects(client.connect(), (e: unknown) => {
            assert.ok(e instanceof ConfabError);
            assert.equal(e.code, 'ERR_TLS_REQUIRED');
            return true;
          });
          assert.equal(proxy.rewrites, 1, 'the server features went through the proxy and were rewritten');
          assert.ok(!proxy.serverText().includes('starttls'), 'the client never saw <starttls/>');
          const sent = proxy.clientText();
          assert.match(sent, /<stream:stream /, 'the client did open a stream through the proxy');
          assert.ok(!/<auth\b/.test(sent), `no <auth> sent: ${sent}`);
          assert.ok(!/jabber:iq:auth/.test(sent), 'no legacy auth attempt');
          assert.ok(!sent.includes(account.password), 'password never sent');
          assert.ok(
            !sent.includes(account.username),
            'not even the username (RFC 6120 4.7.1: no from before TLS)',
          );
          assert.equal(client.status, 'offline');
          assert.equal(reconnecting, 0, 'TLS-required is final');
        } finally {
          await proxy.close();
        }
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
describe('SCRAM-*-PLUS and channel binding (RFC 5802, RFC 5929, RFC 9266)', () => {
  // What the servers do (checked here, on these versions):
  // - ejabberd 23.01 offers SCRAM-*-PLUS (tls-unique only, no XEP-0440 list) on TLS 1.2 AND 1.3.
  //   On Node's default TLS 1.3 tls-unique does not exist: the client must use plain SCRAM with gs2
  //   flag `n` and still log in. With `tls.maxVersion: 'TLSv1.2'` it must use -PLUS, and succeed.
  // - Prosody 0.12 offers -PLUS (tls-unique) on TLS 1.2 only; on TLS 1.3 it offers no -PLUS, so the
  //   client (which could bind with tls-exporter) sends flag `y`, which Prosody accepts: it cannot bind.
  // A proxy can only strip -PLUS from the list if it reads the stream: it terminates TLS (with a
  // certificate the client trusts, as a CA-issued or stolen one would be; without one the
  // certificate check stops it first, see session.test.ts) and opens its own TLS to the server.
  // The two TLS sessions have different bindings, so:
  // - MITM leaves -PLUS alone: the client binds to its session, the server checks against its own,
  //   the proof fails on both servers;
  // - MITM strips -PLUS: the client sees none, could bind, sends `y`; RFC 5802 6 says a server that
  //   supports binding must then fail the login. Prosody does (malformed-request). ejabberd 23.01
  //   does not: p1_xmpp 1.6.1 `xmpp_sasl_scram:cbind_valid/2` accepts `y` on plain SCRAM even though
  //   it offered -PLUS. There we can only check the client's half (the MITM's view shows `y,,`) and
  //   record that this ejabberd lets the login through; if a later ejabberd refuses it, the
  //   test fails and should be tightened.
  // Not testable: stripping on TLS 1.3 against Prosody (it offers no -PLUS there, nothing to detect).
  const tls12 = 'TLSv1.2' as const;

  async function setup(s: ServerInfo, o: Partial<ClientOptions> = {}) {
    const account = await freshAccount(s);
    const lines: string[] = [];
    const client = newClient({
      jid: account.jid,
      password: account.password,
      host: s.host,
      port: s.ports.c2s,
      lines,
      ...o,
      tls: { ca: caOf(s), ...o.tls },
    });
    return { client, lines, account };
  }

  function mitm(s: ServerInfo, strip: boolean) {
    return startProxy({
      target: { host: s.host, port: s.ports.c2sTls },
      tls: {
        cert: readFileSync(s.certFile, 'utf8'),
        key: readFileSync(s.keyFile, 'utf8'),
        maxVersion: tls12,
      },
      rewriteFirstFeatures: strip ? stripPlusMechanisms : undefined,
    });
  }

  for (const [name, server] of SERVERS) {
    test(`${name}, default TLS 1.3: plain SCRAM (no binding type can be agreed), login works`, async () => {
      const { client, lines } = await setup(server());
      try {
        await client.connect();
        assert.ok(lines.some((l) => l.includes('TLSv1.3')));
        assert.match(mechanismIn(lines) ?? '', /^SCRAM-SHA-(1|256)$/);
        const plusOffered = lines.some((l) => /<mechanism>SCRAM-SHA-1-PLUS<\/mechanism>/.test(l));
        if (name === 'ejabberd') {
          assert.ok(plusOffered, 'ejabberd offers -PLUS on TLS 1.3 too');
          assert.ok(
            lines.some((l) => l.includes('gs2 flag "n"')),
            'flag n, noted in the debug log',
          );
        } else {
          assert.ok(!plusOffered, 'Prosody offers no -PLUS on TLS 1.3');
          assert.ok(
            lines.some((l) => l.includes('gs2 flag "y"')),
            'flag y: we could bind, the server cannot',
          );
        }
        await ping(client);
      } finally {
        await client.disconnect();
      }
    });

    for (const directTls of [false, true]) {
      test(`${name}, TLS 1.2 (tls.maxVersion) over ${directTls ? 'direct TLS' : 'STARTTLS'}: SCRAM-*-PLUS with tls-unique`, async () => {
        const s = server();
        const { client, lines } = await setup(s, {
          port: directTls ? s.ports.c2sTls : s.ports.c2s,
          directTls,
          tls: { maxVersion: tls12 },
        });
        try {
          await client.connect();
          assert.ok(
            lines.some((l) => l.includes('TLSv1.2')),
            'TLS 1.2 was negotiated',
          );
          assert.match(mechanismIn(lines) ?? '', /^SCRAM-SHA-(1|256)-PLUS$/);
          await ping(client);
        } finally {
          await client.disconnect();
        }
      });
    }

    test(`${name}, MITM leaving -PLUS alone (TLS 1.2): the bindings differ, the login fails`, async () => {
      const s = server();
      const proxy = await mitm(s, false);
      const { client, lines } = await setup(s, {
        host: proxy.host,
        port: proxy.port,
        directTls: true,
        tls: { maxVersion: tls12 },
        reconnect: true,
      });
      let reconnecting = 0;
      client.on('reconnecting', () => reconnecting++);
      try {
        await assert.rejects(client.connect(), (err: unknown) => {
          assert.ok(err instanceof ConfabError, String(err));
          assert.equal(err.code, 'ERR_AUTH', err.message);
          return true;
        });
        assert.match(mechanismIn(lines) ?? '', /-PLUS$/, 'the client did bind');
        assert.match(authPayloads(proxy.clientText())[0] ?? '', /^p=tls-unique,,n=/);
        assert.equal(reconnecting, 0);
      } finally {
        await client.disconnect();
        await proxy.close();
      }
    });

    test(`${name}, MITM stripping -PLUS (TLS 1.2): the client sends gs2 flag y${name === 'Prosody' ? ', the server refuses' : ' (ejabberd 23.01 does not check it)'}`, async () => {
      const s = server();
      const proxy = await mitm(s, true);
      const { client, lines, account } = await setup(s, {
        host: proxy.host,
        port: proxy.port,
        directTls: true,
        tls: { maxVersion: tls12 },
        reconnect: true,
      });
      let reconnecting = 0;
      client.on('reconnecting', () => reconnecting++);
      try {
        const outcome = await client.connect().then(
          () => undefined,
          (err: unknown) => err,
        );
        assert.equal(proxy.rewrites, 1);
        assert.ok(!proxy.serverText().includes('-PLUS'), 'the client saw no -PLUS');
        const payloads = authPayloads(proxy.clientText());
        assert.equal(payloads.length, 1, 'one SASL attempt');
        assert.match(payloads[0]!, /^y,,n=/, `gs2 header y (the MITM saw: ${payloads[0]})`);
        assert.ok(lines.some((l) => l.includes('gs2 flag "y"')));
        assert.ok(!proxy.clientText().includes(account.password), 'SCRAM never sends the password');
        if (name === 'Prosody') {
          assert.ok(outcome instanceof ConfabError, `login must fail, got ${String(outcome)}`);
          assert.equal(outcome.code, 'ERR_AUTH');
          assert.equal(outcome.condition, 'malformed-request');
          assert.equal(reconnecting, 0);
        } else {
          // ejabberd 23.01 lets it through (see above). Pinned down so that a change shows.
          assert.equal(outcome, undefined, `ejabberd now refuses: tighten this test (${String(outcome)})`);
        }
      } finally {
        await client.disconnect();
        await proxy.close();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
describe('SPKI pinning (tls.pin)', () => {
  for (const [name, server] of SERVERS) {
    for (const directTls of [false, true]) {
      const how = directTls ? 'direct TLS' : 'STARTTLS';
      test(`${name} over ${how}: the right pin connects without the CA`, async () => {
        const s = server();
        const account = await freshAccount(s);
        const client = newClient({
          jid: account.jid,
          password: account.password,
          host: s.host,
          port: directTls ? s.ports.c2sTls : s.ports.c2s,
          directTls,
          tls: { pin: `sha256/${spkiPin(s.certFile)}` }, // no `ca`: the pin alone
        });
        await client.connect();
        try {
          await ping(client);
        } finally {
          await client.disconnect();
        }
      });

      test(`${name} over ${how}: a wrong pin is refused with ERR_TLS_PIN, even with the CA trusted`, async () => {
        const s = server();
        const account = await freshAccount(s);
        const lines: string[] = [];
        const client = newClient({
          jid: account.jid,
          password: account.password,
          host: s.host,
          port: directTls ? s.ports.c2sTls : s.ports.c2s,
          directTls,
          tls: { ca: caOf(s), pin: randomBytes(32).toString('base64') },
          reconnect: true,
          lines,
        });
        await assert.rejects(client.connect(), (err: unknown) => {
          assert.ok(err instanceof ConfabError);
          assert.equal(err.code, 'ERR_TLS_PIN');
          // The error names the real key, so a user can check and update the pin.
          assert.ok(err.message.includes(spkiPin(s.certFile)), err.message);
          return true;
        });
        assert.ok(!lines.some((l) => l.startsWith('confab -> <auth')), 'nothing sent after the handshake');
        assert.equal(client.status, 'offline');
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
describe('keepalive (XEP-0199): a link that silently stops forwarding is noticed', () => {
  for (const [name, server] of SERVERS) {
    test(`${name}: frozen proxy -> reconnecting within bounds, then online again`, async () => {
      const s = server();
      const account = await freshAccount(s);
      const proxy = await startProxy({ target: { host: s.host, port: s.ports.c2s } });
      const keepalive = { whitespaceInterval: 200, pingInterval: 400, pingTimeout: 600 };
      const client = newClient({
        jid: account.jid,
        password: account.password,
        host: proxy.host,
        port: proxy.port,
        tls: { ca: caOf(s) },
        keepalive,
        reconnect: { initialDelay: 100, maxDelay: 400 },
      });
      try {
        await client.connect();
        await ping(client);
        const connectionsBefore = proxy.connections;
        const frozenAt = Date.now();
        proxy.freeze();
        const ev = await nextEvent<ReconnectingEvent>(client, 'reconnecting', 8000);
        const noticed = Date.now() - frozenAt;
        // Nothing arrives after the freeze: ping after pingInterval, dead after pingTimeout more.
        assert.ok(
          noticed >= keepalive.pingTimeout,
          `noticed after ${noticed} ms: too early to be the ping timeout`,
        );
        assert.ok(
          noticed < keepalive.pingInterval + keepalive.pingTimeout + 2000,
          `noticed after ${noticed} ms`,
        );
        assert.equal(ev.attempt, 1);
        assert.equal(ev.error?.code, 'ERR_TIMEOUT', ev.error?.message);
        await nextEvent(client, 'online', 10_000);
        assert.ok(proxy.connections > connectionsBefore, 'reconnected through a new connection');
        await ping(client);
      } finally {
        await client.disconnect();
        await proxy.close();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
describe('reconnect after the server is killed and restarted (private Prosody)', () => {
  let server: TestServer | undefined;
  before(async () => {
    server = await startProsody({ name: 'prosody-restart', profile: 'minimal' });
  });
  after(async () => {
    await server?.stop();
  });

  test('SIGKILL, restart on the same ports: reconnecting events with attempt and delay, online again', async () => {
    const s = server!;
    const account = await s.freshAccount();
    const client = newClient({
      jid: account.jid,
      password: account.password,
      host: s.host,
      port: s.ports.c2s,
      tls: { ca: caOf(s) },
      reconnect: { initialDelay: 100, maxDelay: 400, factor: 2 },
    });
    const events: ReconnectingEvent[] = [];
    client.on('reconnecting', (e) => events.push(e));
    try {
      await client.connect();
      const firstJid = client.jid;
      const third = new Promise<void>((resolve) => {
        const off = client.on('reconnecting', (e) => {
          if (e.attempt >= 3) {
            off();
            resolve();
          }
        });
      });
      await s.kill();
      // Let a few attempts fail against the dead server (bounded: delays are 50..400 ms).
      await Promise.race([
        third,
        new Promise((_, rej) => setTimeout(() => rej(new Error('fewer than 3 attempts in 10 s')), 10_000)),
      ]);
      assert.ok(client.status === 'reconnecting' || client.status === 'connecting');
      const online = nextEvent(client, 'online', 20_000);
      await s.start();
      await online;
      assert.equal(client.status, 'online');
      await ping(client);
      // Attempts count up from 1 with backoff inside [d/2, d], d = min(400, 100 * 2^(n-1)).
      assert.ok(events.length >= 3);
      events.forEach((e, i) => {
        assert.equal(e.attempt, i + 1);
        const d = Math.min(400, 100 * 2 ** i);
        assert.ok(
          e.delay >= d / 2 && e.delay <= d,
          `attempt ${e.attempt}: delay ${e.delay} not in [${d / 2}, ${d}]`,
        );
      });
      assert.equal(events[0]!.error?.code, 'ERR_SOCKET_CLOSED', events[0]!.error?.message);
      assert.ok(
        events.slice(1).every((e) => e.error !== undefined),
        'later attempts report why the previous failed',
      );
      assert.ok(client.jid?.startsWith(`${account.jid}/`), `${client.jid} (was ${firstJid})`);
    } finally {
      await client.disconnect();
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('see-other-host (RFC 6120 4.9.3.19): followed only where the certificate covers the host', () => {
  const redirectTo = (target: string) => (received: string) =>
    received.includes('<stream:stream')
      ? {
          send:
            serverStreamHeader() +
            `<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>${target}</see-other-host></stream:error></stream:stream>`,
          end: true,
        }
      : undefined;

  test('to 127.0.0.1 (in the certificate): followed, logged in on the real server', async () => {
    const s = prosody();
    const account = await freshAccount(s);
    const scripted = await startScriptedServer({
      tls: { cert: readFileSync(s.certFile, 'utf8'), key: readFileSync(s.keyFile, 'utf8') },
      respond: redirectTo(`127.0.0.1:${s.ports.c2sTls}`),
    });
    const lines: string[] = [];
    try {
      const client = newClient({
        jid: account.jid,
        password: account.password,
        host: scripted.host,
        port: scripted.port,
        directTls: true,
        tls: { ca: caOf(s) },
        lines,
      });
      await client.connect();
      assert.equal(scripted.connections, 1);
      assert.ok(lines.some((l) => l.includes(`following see-other-host to 127.0.0.1:${s.ports.c2sTls}`)));
      await ping(client);
      await client.disconnect();
    } finally {
      await scripted.close();
    }
  });

  test('to 127.0.0.2 (not in the certificate): refused, never contacted', async () => {
    const s = prosody();
    const account = await freshAccount(s);
    // If the client followed, it would land here: a listener that must see no connection.
    const decoy = await startScriptedServer({ host: '127.0.0.2' });
    const scripted = await startScriptedServer({
      tls: { cert: readFileSync(s.certFile, 'utf8'), key: readFileSync(s.keyFile, 'utf8') },
      respond: redirectTo(`127.0.0.2:${decoy.port}`),
    });
    try {
      const client = newClient({
        jid: account.jid,
        password: account.password,
        host: scripted.host,
        port: scripted.port,
        directTls: true,
        tls: { ca: caOf(s) },
        reconnect: true,
      });
      await assert.rejects(client.connect(), (err: unknown) => {
        assert.ok(err instanceof ConfabError);
        assert.equal(err.code, 'ERR_STREAM');
        assert.equal(err.condition, 'see-other-host');
        return true;
      });
      assert.equal(scripted.connections, 1);
      assert.equal(decoy.connections, 0, 'the uncovered host was never contacted');
    } finally {
      await scripted.close();
      await decoy.close();
    }
  });

  test('before TLS (unauthenticated) even to a covered host: refused', async () => {
    const s = prosody();
    const account = await freshAccount(s);
    const decoy = await startScriptedServer();
    const scripted = await startScriptedServer({ respond: redirectTo(`127.0.0.1:${decoy.port}`) });
    try {
      const client = newClient({
        jid: account.jid,
        password: account.password,
        host: scripted.host,
        port: scripted.port,
        tls: { ca: caOf(s) },
      });
      await assert.rejects(client.connect(), { code: 'ERR_STREAM', condition: 'see-other-host' });
      assert.equal(decoy.connections, 0);
    } finally {
      await scripted.close();
      await decoy.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('SRV and XEP-0368 lookups through an injected resolver', () => {
  // The test-bed domain is `localhost`, for which the transport never asks DNS (by design: RFC 6761
  // reserves it for loopback), and SRV is skipped for IP literals too. So these tests use a private
  // Prosody that also hosts `xmpp.test` (RFC 6761 reserves .test for testing), with its certificate
  // re-signed by the test CA for localhost AND xmpp.test: the client verifies TLS for the JID's
  // domain (RFC 7590) while the SRV records send it to 127.0.0.1 and a port only they know.
  const DOMAIN = 'xmpp.test';
  let server: TestServer | undefined;

  before(async () => {
    server = await startProsody({
      name: 'prosody-srv',
      profile: 'minimal',
      extraConfig: `VirtualHost "${DOMAIN}"`,
    });
    const certDir = dirname(server.caFile);
    const csr = join(certDir, 'srv.csr');
    const ext = join(certDir, 'srv.ext');
    writeFileSync(
      ext,
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
        `extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,DNS:${DOMAIN},IP:127.0.0.1\n`,
    );
    await run('openssl', ['req', '-new', '-key', server.keyFile, '-subj', '/CN=localhost', '-out', csr]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      server.caFile,
      '-CAkey',
      join(certDir, 'ca-key.pem'),
      '-CAcreateserial',
      '-days',
      '30',
      '-sha256',
      '-extfile',
      ext,
      '-out',
      server.certFile,
    ]);
    // Prosody reads certificates at start: restart it on the same ports with the new one.
    await server.stopKeepingData();
    await server.start();
  });
  after(async () => {
    await server?.stop();
  });

  async function srvAccount() {
    const s = server!;
    const username = uniqueUsername('srv');
    const password = randomPassword();
    if (s.accounts.kind !== 'prosody-files') throw new Error('expected a Prosody data dir');
    await createProsodyAccount(s.accounts.dataDir, DOMAIN, username, password);
    return { jid: `${username}@${DOMAIN}`, password };
  }

  function resolverFor(records: Record<string, SrvRecord[]>) {
    const asked: string[] = [];
    return {
      asked,
      resolver: {
        async resolveSrv(name: string) {
          asked.push(name);
          return records[name] ?? [];
        },
      },
    };
  }

  const rec = (port: number, priority = 0, weight = 0): SrvRecord => ({
    name: '127.0.0.1',
    port,
    priority,
    weight,
  });

  test('_xmpp-client._tcp -> STARTTLS port: connects (no explicit host)', async () => {
    const s = server!;
    const account = await srvAccount();
    const { asked, resolver } = resolverFor({ [`_xmpp-client._tcp.${DOMAIN}`]: [rec(s.ports.c2s)] });
    const lines: string[] = [];
    const client = newClient({ ...account, tls: { ca: caOf(s) }, resolver, lines });
    await client.connect();
    try {
      assert.deepEqual(asked.sort(), [`_xmpp-client._tcp.${DOMAIN}`, `_xmpps-client._tcp.${DOMAIN}`]);
      assert.ok(
        lines.some((l) => l.includes(`connecting to 127.0.0.1:${s.ports.c2s}`) && !l.includes('direct TLS')),
      );
      assert.ok(client.jid?.startsWith(`${account.jid}/`));
      await client.iq({ type: 'get', to: DOMAIN, payload: xml('ping', { xmlns: 'urn:xmpp:ping' }) });
    } finally {
      await client.disconnect();
    }
  });

  test('_xmpps-client._tcp (XEP-0368) -> direct TLS port: connects with direct TLS', async () => {
    const s = server!;
    const account = await srvAccount();
    const { resolver } = resolverFor({ [`_xmpps-client._tcp.${DOMAIN}`]: [rec(s.ports.c2sTls)] });
    const lines: string[] = [];
    const client = newClient({ ...account, tls: { ca: caOf(s) }, resolver, lines });
    await client.connect();
    try {
      assert.ok(lines.some((l) => l.includes(`connecting to 127.0.0.1:${s.ports.c2sTls} (direct TLS)`)));
      assert.ok(!lines.some((l) => l.includes('<starttls')), 'no STARTTLS on a direct TLS connection');
    } finally {
      await client.disconnect();
    }
  });

  test('mixed records: priority order, a dead first target is skipped', async () => {
    const s = server!;
    const account = await srvAccount();
    const dead = await startScriptedServer(); // accepts, then we close it: a port with nobody behind
    const deadPort = dead.port;
    await dead.close();
    const { resolver } = resolverFor({
      [`_xmpps-client._tcp.${DOMAIN}`]: [rec(deadPort, 0), rec(s.ports.c2sTls, 20)],
      [`_xmpp-client._tcp.${DOMAIN}`]: [rec(s.ports.c2s, 10)],
    });
    const lines: string[] = [];
    const client = newClient({ ...account, tls: { ca: caOf(s) }, resolver, lines });
    await client.connect();
    try {
      const tried = lines.filter((l) => l.includes('connecting to '));
      assert.equal(tried.length, 2, tried.join('\n'));
      assert.ok(tried[0]!.includes(`:${deadPort} (direct TLS)`));
      assert.ok(
        tried[1]!.includes(`:${s.ports.c2s}`) && !tried[1]!.includes('direct TLS'),
        'priority 10 before 20',
      );
    } finally {
      await client.disconnect();
    }
  });

  test('the certificate is checked for the JID domain, not the SRV target', async () => {
    // SRV for other.test leads to a server whose (CA-signed) certificate covers localhost and
    // 127.0.0.1, the very address dialled, but not other.test: refused, nothing sent. (A scripted
    // server: Prosody itself would already refuse the unknown SNI name.)
    const s = server!;
    const scripted = await startScriptedServer({
      tls: { cert: readFileSync(s.certFile, 'utf8'), key: readFileSync(s.keyFile, 'utf8') },
      respond: () => ({ send: serverStreamHeader('other.test') }),
    });
    try {
      const { resolver } = resolverFor({ '_xmpps-client._tcp.other.test': [rec(scripted.port)] });
      const client = newClient({ jid: 'someone@other.test', password: 'x', tls: { ca: caOf(s) }, resolver });
      await assert.rejects(client.connect(), (err: unknown) => {
        assert.ok(err instanceof ConfabError);
        assert.equal(err.code, 'ERR_TLS_CERT');
        assert.equal((err as ConfabError & { reason?: string }).reason, 'hostname mismatch');
        return true;
      });
      // (No connection count: the server side may see the handshake end after the client gave up.)
      assert.equal(scripted.received(), '', 'not a byte after the handshake');
    } finally {
      await scripted.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('wrong password: typed ERR_AUTH not-authorized, final', () => {
  for (const [name, server] of SERVERS) {
    test(`${name}: within 10 s, no reconnect`, async () => {
      const s = server();
      const account = await freshAccount(s);
      const client = newClient({
        jid: account.jid,
        password: `${account.password}-wrong`,
        host: s.host,
        port: s.ports.c2s,
        tls: { ca: caOf(s) },
        reconnect: { initialDelay: 10, maxDelay: 10 },
      });
      let reconnecting = 0;
      const statuses: string[] = [];
      client.on('reconnecting', () => reconnecting++);
      client.on('status', (st) => statuses.push(st));
      const started = Date.now();
      await assert.rejects(client.connect(), (err: unknown) => {
        assert.ok(err instanceof ConfabError);
        assert.equal(err.code, 'ERR_AUTH');
        assert.equal(err.condition, 'not-authorized');
        return true;
      });
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
      assert.equal(client.status, 'offline');
      assert.equal(reconnecting, 0);
      assert.ok(!statuses.includes('reconnecting'), statuses.join(' > '));
      assert.ok(!statuses.includes('online'));
    });
  }
});
