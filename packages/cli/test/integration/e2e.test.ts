// End-to-end tests of the `confab` command: the real bin (bin/confab.js -> dist/main.js) in a child
// process against the shared test-bed servers (testbed/harness.ts). Lives under test/integration/
// so the runner (scripts/test.ts) starts the servers for it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { ejabberd, freshAccount, prosody, prosodyMinimal } from '../../../../testbed/harness.ts';
import { as, build, jsonLines, type Ran, type Running, start as startIn, via } from './helpers.ts';

// Its own HOME (config, data), apart from the other CLI test files'.
const HOME = mkdtempSync(join(tmpdir(), 'confab-e2e-'));

/** Starts `confab ARGS` with a clean environment (no user config, no colour). */
function start(args: string[], env: Record<string, string> = {}, stdin?: string): Running {
  return startIn(args, env, stdin, HOME);
}

function confab(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Ran> {
  return start(args, env, stdin).done;
}

before(build);

describe('confab without a server', () => {
  it('--help lists the commands, exit 0', async () => {
    const r = await confab(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}send +Send a message/m);
    assert.match(r.stdout, /^ {2}listen +Print incoming messages/m);
    assert.match(r.stdout, /--password-command CMD/);
  });

  it('a usage error exits 2 with one line on stderr', async () => {
    const r = await confab(['listen', '--count', 'x']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "confab: --count wants a whole number, not 'x' (see 'confab listen --help')\n");
  });

  it('no password and no terminal exits 2', async () => {
    const r = await confab(['--jid', 'a@localhost', 'listen']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no password/);
  });
});

for (const server of [
  { name: 'Prosody', info: prosody, websocket: true },
  { name: 'Prosody minimal (no stream management)', info: prosodyMinimal, websocket: false },
  { name: 'ejabberd', info: ejabberd, websocket: true },
]) {
  describe(`confab send and listen on ${server.name}`, () => {
    it('B listens while A sends: B prints the message, both exit 0', async () => {
      const s = server.info();
      const [a, b] = await Promise.all([freshAccount(s, 'clia'), freshAccount(s, 'clib')]);
      // --debug shows when B's presence is out, i.e. the message will come live, not from storage.
      const listener = start(
        ['listen', '--count', '1', '--json', '--timeout', '30', '--debug', ...via(s)],
        as(b),
      );
      await listener.waitStderr(/confab -> <presence[ />]/);
      const sent = await confab(['send', b.jid, 'hello', 'from', 'A', '--json', ...via(s)], as(a));
      assert.equal(sent.code, 0, sent.stderr);
      const [result] = jsonLines(sent.stdout);
      assert.equal(result?.event, 'result');
      assert.equal(typeof result?.id, 'string');
      const heard = await listener.done;
      assert.equal(heard.code, 0, heard.stderr);
      const [msg, ...more] = jsonLines(heard.stdout);
      assert.deepEqual(more, []);
      assert.equal(msg?.event, 'message');
      assert.equal(msg?.body, 'hello from A');
      assert.equal(msg?.type, 'chat');
      assert.equal(msg?.id, result?.id);
      assert.match(String(msg?.from), new RegExp(`^${a.jid}/confab-[a-z0-9]{8}$`));
      assert.equal(msg?.delay, undefined, 'a live message has no delay');
    });

    it('a message sent while B is offline (text from stdin) is printed with its delay', async () => {
      const s = server.info();
      const [a, b] = await Promise.all([freshAccount(s, 'clia'), freshAccount(s, 'clib')]);
      const sent = await confab(
        ['send', b.jid, '--subject', 'note', ...via(s)],
        as(a),
        'line one\nline two\n',
      );
      assert.equal(sent.code, 0, sent.stderr);
      assert.equal(sent.stdout, '');
      const heard = await confab(['listen', '--count', '1', '--json', '--timeout', '30', ...via(s)], as(b));
      assert.equal(heard.code, 0, heard.stderr);
      const [msg] = jsonLines(heard.stdout);
      assert.equal(msg?.body, 'line one\nline two');
      assert.equal(msg?.subject, 'note');
      assert.match(String(msg?.delay), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    });

    it('listen --count exits 5 when the time runs out, 0 without --count', async () => {
      const s = server.info();
      const b = await freshAccount(s, 'clib');
      const [counted, plain] = await Promise.all([
        confab(['listen', '--count', '1', '--timeout', '0.5', ...via(s)], as(b)),
        confab(['listen', '--timeout', '0.5', ...via(s)], as(b)),
      ]);
      assert.equal(counted.code, 5, counted.stderr);
      assert.equal(plain.code, 0, plain.stderr);
    });

    it('a message the server refuses (no such user) exits 1 with the condition', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'clia');
      const r = await confab(['send', `nosuchuser${Date.now()}@${s.domain}`, 'x', ...via(s)], as(a));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^confab: .*refused the message(: | \[)service-unavailable/);
    });

    it('a wrong password exits 4 within seconds, with the condition', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'clia');
      const r = await confab(['send', a.jid, 'x', ...via(s)], {
        CONFAB_JID: a.jid,
        CONFAB_PASSWORD: 'wrong',
      });
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /not-authorized/);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
    });

    it('connects by direct TLS and legacy auth (where offered), password from --password-command', async () => {
      const s = server.info();
      const [a, b] = await Promise.all([freshAccount(s, 'clia'), freshAccount(s, 'clib')]);
      const password = ['--password-command', `printf '%s\\n' '${a.password}' 'not this line'`];
      const ways: [string, string[]][] = [
        [
          'direct TLS',
          ['--direct-tls', '--host', s.host, '--port', String(s.ports.c2sTls), '--ca', s.caFile],
        ],
      ];
      // The minimal Prosody profile has no mod_legacyauth.
      if (s.profile === 'full') ways.push(['legacy auth', ['--legacy-auth', ...via(s)]]);
      for (const [way, args] of ways) {
        const r = await confab(['send', b.jid, way, ...password, ...args], { CONFAB_JID: a.jid });
        assert.equal(r.code, 0, `${way}: ${r.stderr}`);
      }
      const heard = await confab(
        ['listen', '--count', String(ways.length), '--json', '--timeout', '30', ...via(s)],
        as(b),
      );
      assert.equal(heard.code, 0, heard.stderr);
      assert.deepEqual(
        jsonLines(heard.stdout).map((m) => m.body),
        ways.map(([way]) => way),
      );
    });

    // (Defined only where the server offers WebSocket: the minimal profile has none.)
    if (server.websocket)
      it('sends and listens over WebSocket (wss)', async () => {
        const s = server.info();
        const url = s.wssUrl ?? '';
        assert.match(url, /^wss:\/\//);
        const [a, b] = await Promise.all([freshAccount(s, 'clia'), freshAccount(s, 'clib')]);
        const ws = ['--websocket', url, '--ca', s.caFile];
        const sent = await confab(['send', b.jid, 'over ws', ...ws], as(a));
        assert.equal(sent.code, 0, sent.stderr);
        const heard = await confab(['listen', '--count', '1', '--json', '--timeout', '30', ...ws], as(b));
        assert.equal(heard.code, 0, heard.stderr);
        assert.equal(jsonLines(heard.stdout)[0]?.body, 'over ws');
      });

    it('a certificate from a CA we do not trust exits 3', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'clia');
      const r = await confab(['send', a.jid, 'x', '--host', s.host, '--port', String(s.ports.c2s)], as(a));
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /certificate/i);
    });
  });
}

describe('confab keeps remote text off the terminal', () => {
  it('listen prints no C1 or bidi controls in plain mode and escapes them in --json', async () => {
    // XML 1.0 cannot carry ESC or BEL, so what a remote party can send is C1 (8-bit CSI U+009B,
    // NEL U+0085) and bidi controls: exactly what must not reach the terminal.
    const s = prosody();
    const [a, b] = await Promise.all([freshAccount(s, 'clia'), freshAccount(s, 'clib')]);
    const evil = 'pay \u009b2J\u0085 \u202eevil\u202c \u2066x\u2069 \u200fend';
    for (const json of [false, true]) {
      const sent = await confab(['send', b.jid, evil, '--subject', 's\u009d0;t', ...via(s)], as(a));
      assert.equal(sent.code, 0, sent.stderr);
      const heard = await confab(
        ['listen', '--count', '1', '--timeout', '30', ...via(s), ...(json ? ['--json'] : [])],
        as(b),
      );
      assert.equal(heard.code, 0, heard.stderr);
      assert.doesNotMatch(heard.stdout, /[\u0080-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/);
      if (json) assert.equal(jsonLines(heard.stdout)[0]?.body, evil, 'JSON keeps the data exactly');
      else assert.match(heard.stdout, /: \[s\] pay {2}evil x end\n$/, 'whole sequences removed');
    }
  });
});

describe('confab refuses insecure connections', () => {
  const servers: Server[] = [];
  after(() => {
    for (const srv of servers) srv.close();
  });

  async function listen(srv: Server): Promise<number> {
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return (srv.address() as { port: number }).port;
  }

  it('a self-signed certificate exits 3 (even with the test CA trusted)', async () => {
    const s = prosody();
    const srv = createTlsServer({
      cert: readFileSync(s.selfSignedCertFile),
      key: readFileSync(s.selfSignedKeyFile),
      ALPNProtocols: ['xmpp-client'],
    });
    srv.on('tlsClientError', () => {});
    const port = await listen(srv);
    const r = await confab(
      [
        'send',
        'x@localhost',
        'x',
        '--direct-tls',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--ca',
        s.caFile,
      ],
      { CONFAB_JID: 'a@localhost', CONFAB_PASSWORD: 'pw' },
    );
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /certificate/i);
  });

  it('an unencrypted WebSocket exits 3 with a hint to --allow-plaintext', async () => {
    const s = prosody();
    const url = s.wsUrl ?? '';
    assert.match(url, /^ws:\/\//, 'the full Prosody serves ws://');
    const a = await freshAccount(s, 'clia');
    const r = await confab(['send', a.jid, 'x', '--websocket', url], as(a));
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /--allow-plaintext/);
  });

  it('a server that offers no STARTTLS exits 3 with a hint to --allow-plaintext', async () => {
    // A scripted server: answers the stream header with features that lack <starttls/>.
    const srv = createNetServer((sock) => {
      sock.on('error', () => {});
      sock.once('data', () => {
        sock.write(
          "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
            "from='localhost' id='s1' version='1.0'><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" +
            '<mechanism>PLAIN</mechanism></mechanisms></stream:features>',
        );
      });
    });
    const port = await listen(srv);
    const r = await confab(['send', 'x@localhost', 'x', '--host', '127.0.0.1', '--port', String(port)], {
      CONFAB_JID: 'a@localhost',
      CONFAB_PASSWORD: 'pw',
    });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /--allow-plaintext/);
  });
});
