// Sessions against the real test-bed servers (Prosody full and minimal, ejabberd): every login
// path the servers offer (RFC 6120 STARTTLS + SASL SCRAM-SHA-1 / SCRAM-SHA-256 / PLAIN, direct
// TLS XEP-0368, WebSocket RFC 7395, legacy XEP-0078 digest and plaintext), the bound resource,
// typed auth failure without reconnect, iq correlation against a spoofed reply, and the
// five-statement echo bot of DESIGN.md run as its own process.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  caOf,
  ejabberd,
  freshAccount,
  prosody,
  prosodyMinimal,
  type ServerInfo,
} from '../../../../testbed/harness.ts';
import type { Client, ClientOptions } from '../../src/client.ts';
import { ConfabError } from '../../src/errors.ts';
import { createClient } from '../../src/index.ts';
import { xml } from '../../src/xml/element.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

type Route = 'starttls' | 'direct' | 'wss';

function route(server: ServerInfo, r: Route): Partial<ClientOptions> {
  const tls = { ca: caOf(server) };
  if (r === 'wss') {
    assert.ok(server.wssUrl, `${server.name} has no WebSocket`);
    return { websocket: server.wssUrl, tls };
  }
  return {
    host: server.host,
    port: r === 'direct' ? server.ports.c2sTls : server.ports.c2s,
    directTls: r === 'direct',
    tls,
  };
}

/** Connect a fresh account; returns the client, the wire log, and the mechanism used. */
async function login(server: ServerInfo, r: Route, o: Partial<ClientOptions> = {}) {
  const account = await freshAccount(server);
  const lines: string[] = [];
  const client = createClient({
    jid: account.jid,
    password: account.password,
    debug: (l) => lines.push(l),
    reconnect: false,
    ...route(server, r),
    ...o,
  });
  await client.connect();
  const auth = lines.find((l) => l.startsWith('confab -> <auth '));
  const mechanism = auth
    ? /mechanism='([^']+)'/.exec(auth)?.[1]
    : lines.some((l) => l.includes("xmlns='jabber:iq:auth'"))
      ? 'jabber:iq:auth'
      : undefined;
  return { client, account, lines, mechanism };
}

async function roundTrip(client: Client): Promise<void> {
  // A ping to our server proves the session works after login.
  await client.iq({ type: 'get', to: 'localhost', payload: xml('ping', { xmlns: 'urn:xmpp:ping' }) });
}

describe('login on Prosody (full)', () => {
  for (const [mechanism, r] of [
    ['SCRAM-SHA-256', 'starttls'],
    ['SCRAM-SHA-1', 'starttls'],
    ['PLAIN', 'starttls'],
    ['SCRAM-SHA-256', 'direct'],
    ['SCRAM-SHA-1', 'wss'],
  ] as const) {
    test(`${mechanism} over ${r}`, async () => {
      const s = await login(prosody(), r, { mechanisms: [mechanism] });
      assert.equal(s.mechanism, mechanism);
      assert.equal(s.client.status, 'online');
      assert.ok(s.client.jid?.startsWith(`${s.account.jid}/`));
      await roundTrip(s.client);
      await s.client.disconnect();
      assert.equal(s.client.status, 'offline');
    });
  }

  test('default choice: the strongest mechanism offered, redacted in the log', async () => {
    const s = await login(prosody(), 'starttls');
    assert.match(s.mechanism ?? '', /^SCRAM-SHA-256/);
    const log = s.lines.join('\n');
    assert.ok(!log.includes(s.account.password), 'password never in the debug log');
    assert.match(
      log,
      /<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='[^']+'>\[redacted\]<\/auth>/,
    );
    await s.client.disconnect();
  });

  test('legacy plaintext login over TLS (mod_legacyauth)', async () => {
    const s = await login(prosody(), 'starttls', { legacyAuth: true, resource: 'Home' });
    assert.equal(s.mechanism, 'jabber:iq:auth');
    assert.equal(s.client.jid, `${s.account.jid}/Home`);
    assert.ok(!s.lines.join('\n').includes(s.account.password));
    await roundTrip(s.client);
    await s.client.disconnect();
  });

  test('the chosen resource is bound', async () => {
    const s = await login(prosody(), 'starttls', { resource: 'Balcony' });
    assert.equal(s.client.jid, `${s.account.jid}/Balcony`);
    await s.client.disconnect();
  });

  test('wrong password: typed auth error within seconds, no reconnect', async () => {
    const account = await freshAccount(prosody());
    const client = createClient({
      jid: account.jid,
      password: 'wrong-password',
      ...route(prosody(), 'starttls'),
      reconnect: true,
    });
    let reconnecting = 0;
    client.on('reconnecting', () => reconnecting++);
    const started = Date.now();
    await assert.rejects(client.connect(), (e: unknown) => {
      assert.ok(e instanceof ConfabError);
      assert.equal(e.code, 'ERR_AUTH');
      assert.equal(e.condition, 'not-authorized');
      return true;
    });
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.equal(client.status, 'offline');
    assert.equal(reconnecting, 0);
  });

  test('a self-signed certificate (not the test CA) is refused: ERR_TLS_CERT, final', async () => {
    const account = await freshAccount(prosody());
    const client = createClient({
      jid: account.jid,
      password: account.password,
      host: prosody().host,
      port: prosody().ports.c2sTls,
      directTls: true,
      reconnect: true,
    });
    await assert.rejects(client.connect(), { code: 'ERR_TLS_CERT' });
    assert.equal(client.status, 'offline');
  });

  test('iq correlation: a reply spoofed by another account is ignored; the real one resolves', async () => {
    const server = prosody();
    const [a, b, c] = await Promise.all([
      login(server, 'starttls'),
      login(server, 'starttls'),
      login(server, 'starttls'),
    ]);
    try {
      const NS = 'urn:confab:test:spoof';
      let release!: () => void;
      const released = new Promise<void>((r) => {
        release = r;
      });
      b.client.handleIq('get', NS, 'query', async () => {
        await released;
        return xml('query', { xmlns: NS }, xml('who', {}, 'b'));
      });
      // c learns the request id the way a snooping attacker might (here: from a's wire), and
      // answers first. The server stamps c's real address on it.
      const requestId = new Promise<string>((resolve) => {
        const off = a.client.on('stanzaOut', (el) => {
          if (el.name === 'iq' && el.getChild('query', NS)) {
            off();
            resolve(el.attr('id')!);
          }
        });
      });
      const spoofSeen = new Promise<void>((resolve) => {
        const off = a.client.on('stanza', (el) => {
          if (el.name === 'iq' && el.attr('from') === c.client.jid) {
            off();
            resolve();
          }
        });
      });
      let settled = false;
      const request = a.client.iq({ type: 'get', to: b.client.jid, payload: xml('query', { xmlns: NS }) });
      void request.then(
        () => {
          settled = true;
        },
        () => {
          settled = true;
        },
      );
      const id = await requestId;
      await c.client.send(
        xml('iq', { type: 'result', id, to: a.client.jid }, xml('query', { xmlns: NS }, xml('who', {}, 'c'))),
      );
      await spoofSeen;
      assert.equal(settled, false, 'the spoofed reply did not settle the request');
      release();
      const result = await request;
      assert.equal(result.attr('from'), b.client.jid);
      assert.equal(result.getChild('query', NS)?.getChildText('who'), 'b');
    } finally {
      await Promise.all([a.client.disconnect(), b.client.disconnect(), c.client.disconnect()]);
    }
  });
});

describe('login on Prosody (minimal)', () => {
  for (const r of ['starttls', 'direct'] as const) {
    test(`default (SCRAM-SHA-1) over ${r}`, async () => {
      const s = await login(prosodyMinimal(), r);
      assert.equal(s.mechanism, 'SCRAM-SHA-1');
      await roundTrip(s.client);
      await s.client.disconnect();
    });
  }
  test('PLAIN over TLS', async () => {
    const s = await login(prosodyMinimal(), 'starttls', { mechanisms: ['PLAIN'] });
    assert.equal(s.mechanism, 'PLAIN');
    await s.client.disconnect();
  });
});

describe('login on ejabberd', () => {
  for (const [mechanism, r] of [
    ['SCRAM-SHA-1', 'starttls'],
    ['SCRAM-SHA-256', 'starttls'],
    ['PLAIN', 'starttls'],
    ['SCRAM-SHA-1', 'direct'],
    ['SCRAM-SHA-1', 'wss'],
  ] as const) {
    test(`${mechanism} over ${r}`, async () => {
      const s = await login(ejabberd(), r, { mechanisms: [mechanism] });
      assert.equal(s.mechanism, mechanism);
      await roundTrip(s.client);
      await s.client.disconnect();
    });
  }

  test('default choice logs in (plain SCRAM where -PLUS cannot be agreed)', async () => {
    const s = await login(ejabberd(), 'starttls');
    assert.match(s.mechanism ?? '', /^SCRAM-/);
    await s.client.disconnect();
  });

  test('legacy digest login (XEP-0078, plain password storage)', async () => {
    const s = await login(ejabberd(), 'starttls', { legacyAuth: true, resource: 'PowerBook' });
    assert.equal(s.mechanism, 'jabber:iq:auth');
    const log = s.lines.join('\n');
    assert.match(log, /<digest>\[redacted\]<\/digest>/, 'digest used (and redacted)');
    assert.equal(s.client.jid, `${s.account.jid}/PowerBook`);
    await roundTrip(s.client);
    await s.client.disconnect();
  });

  test('wrong password: ERR_AUTH not-authorized, no reconnect', async () => {
    const account = await freshAccount(ejabberd());
    const client = createClient({ jid: account.jid, password: 'nope', ...route(ejabberd(), 'starttls') });
    let reconnecting = 0;
    client.on('reconnecting', () => reconnecting++);
    await assert.rejects(client.connect(), { code: 'ERR_AUTH', condition: 'not-authorized' });
    assert.equal(reconnecting, 0);
  });
});

describe('the echo bot (examples/echo-bot.ts)', () => {
  test('answers a message with echo: ..., in the same thread', async () => {
    const server = prosody();
    const bot = await freshAccount(server, 'bot');
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'examples/echo-bot.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: join(ROOT, 'examples/tsconfig.json'),
        XMPP_JID: bot.jid,
        XMPP_PASSWORD: bot.password,
        XMPP_HOST: server.host,
        XMPP_PORT: String(server.ports.c2s),
        XMPP_CA_FILE: server.caFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const user = await login(server, 'starttls');
    try {
      // The bot is online once its resource shows up in presence... it has no roster with us,
      // so ask the server instead: retry a message until the echo comes back.
      const reply = new Promise<{ body?: string; thread?: string; from: string }>((resolve) => {
        user.client.on('message', (m) => {
          if (m.body?.startsWith('echo: ')) resolve({ body: m.body, thread: m.thread, from: m.from });
        });
      });
      const send = () => user.client.messages.send({ to: bot.jid, body: 'hello bot', thread: 'th-1' });
      // Until the bot is online, Prosody stores the message offline and delivers it when the bot
      // sends its initial presence: one send is enough either way.
      await send();
      const got = await Promise.race([
        reply,
        exited.then((code) => {
          throw new Error(`echo bot exited (${code}): ${stderr}`);
        }),
      ]);
      assert.equal(got.body, 'echo: hello bot');
      assert.equal(got.thread, 'th-1');
      assert.ok(got.from.startsWith(`${bot.jid}/`));
    } finally {
      child.kill('SIGTERM');
      await exited;
      await user.client.disconnect();
    }
  });
});
