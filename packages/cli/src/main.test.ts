// run() end to end with fake streams and a fake session: parsing, account and password
// resolution, the send and listen handlers, output formats and exit codes, without a network.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { ConfabError } from '../../confab/src/errors.ts';
import { type RunDeps, run } from './main.ts';
import type { Io } from './output.ts';
import type { CliEvent, CliSession, IncomingMessage, OutgoingMessage, SessionParams } from './session.ts';

interface Harness {
  io: Io;
  stdout(): string;
  stderr(): string;
  stdin: PassThrough & { isTTY?: boolean };
}

function harness(env: Record<string, string | undefined> = {}, stdinTTY = false): Harness {
  let out = '';
  let err = '';
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  stdin.isTTY = stdinTTY;
  const home = mkdtempSync(join(tmpdir(), 'confab-cli-test-'));
  return {
    io: {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      stdin,
      env: { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), ...env },
    },
    stdout: () => out,
    stderr: () => err,
    stdin,
  };
}

/** A session part these tests do not use: any call fails the test loudly. */
function unused<T extends object>(part: string): T {
  return new Proxy({} as T, {
    get: (_, key) => () => {
      throw new Error(`FakeSession.${part}.${String(key)} is not faked`);
    },
  });
}

class FakeSession implements CliSession {
  jid = 'me@example.org/confab-x';
  roster = unused<CliSession['roster']>('roster');
  presence = unused<CliSession['presence']>('presence');
  profile = unused<CliSession['profile']>('profile');
  rooms = unused<CliSession['rooms']>('rooms');
  files = unused<CliSession['files']>('files');
  registration = unused<CliSession['registration']>('registration');
  account = {
    ...unused<CliSession['account']>('account'),
    buddiesOnly: async () => false,
  } as CliSession['account'];
  async roundTrip() {}
  receipts = new Map<string, string>();
  async waitReceipt(id: string, seconds: number) {
    const from = this.receipts.get(id);
    if (from === undefined) {
      await new Promise((r) => setTimeout(r, seconds * 1000));
      throw new ConfabError('ERR_TIMEOUT', `no receipt for message ${id}`);
    }
    return { from };
  }
  #events = new Set<(e: CliEvent) => void>();
  onEvent(l: (e: CliEvent) => void) {
    this.#events.add(l);
    return () => this.#events.delete(l);
  }
  emit(e: CliEvent) {
    for (const l of this.#events) l(e);
  }
  sent: OutgoingMessage[] = [];
  disconnected = 0;
  sendError: Error | undefined;
  #messages = new Set<(m: IncomingMessage) => void>();
  #fatal = new Set<(e: Error) => void>();
  async sendMessage(msg: OutgoingMessage) {
    if (this.sendError) throw this.sendError;
    this.sent.push(msg);
    return { id: `id-${this.sent.length}` };
  }
  onMessage(l: (m: IncomingMessage) => void) {
    this.#messages.add(l);
    return () => this.#messages.delete(l);
  }
  onFatal(l: (e: Error) => void) {
    this.#fatal.add(l);
    return () => this.#fatal.delete(l);
  }
  async disconnect() {
    this.disconnected++;
  }
  deliver(m: Partial<IncomingMessage>) {
    const msg: IncomingMessage = {
      from: undefined,
      to: undefined,
      id: undefined,
      type: undefined,
      body: undefined,
      subject: undefined,
      thread: undefined,
      delay: undefined,
      delayFrom: undefined,
      oob: [],
      ...m,
    };
    for (const l of this.#messages) l(msg);
  }
  fail(e: Error) {
    for (const l of this.#fatal) l(e);
  }
  get listening() {
    return this.#messages.size > 0;
  }
}

function withSession(
  session: FakeSession,
  onParams?: (p: SessionParams) => void,
  connectError?: Error,
): RunDeps & { params: SessionParams[] } {
  const params: SessionParams[] = [];
  return {
    params,
    sessionFactory: async () => async (p) => {
      params.push(p);
      onParams?.(p);
      if (connectError) throw connectError;
      return session;
    },
  };
}

const ENV = { CONFAB_JID: 'me@example.org', CONFAB_PASSWORD: 'pw' };

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

describe('run: help and usage', () => {
  it('prints global help with --help, exit 0', async () => {
    const h = harness();
    assert.equal(await run(['--help'], h.io), 0);
    assert.match(h.stdout(), /Commands:\n {2}send/);
  });

  it('prints command help with `send --help` even without its arguments', async () => {
    const h = harness();
    assert.equal(await run(['send', '--help'], h.io), 0);
    assert.match(h.stdout(), /^Usage: confab send JID/);
  });

  it('has a help command that shows the same texts', async () => {
    const a = harness();
    const b = harness();
    assert.equal(await run(['help', 'send'], a.io), 0);
    assert.equal(await run(['send', '--help'], b.io), 0);
    assert.equal(a.stdout(), b.stdout());
    const g = harness();
    assert.equal(await run(['help'], g.io), 0);
    assert.match(g.stdout(), /^ {2}help +Show the commands/m);
    const bad = harness();
    assert.equal(await run(['help', 'nope'], bad.io), 2);
    assert.equal(bad.stderr(), "confab: unknown command 'nope' (see 'confab help --help')\n");
  });

  it('exits 2 with one line and a hint for usage errors', async () => {
    for (const argv of [['send'], ['listen', '--bogus'], ['nope'], ['listen', '--count']]) {
      const h = harness(ENV);
      assert.equal(await run(argv, h.io), 2, argv.join(' '));
      const lines = h.stderr().trimEnd().split('\n');
      assert.equal(lines.length, 1, h.stderr());
      assert.match(lines[0]!, /^confab: .*\(see 'confab( [a-z]+)? --help'\)$/);
      assert.equal(h.stdout(), '');
    }
  });

  it('exits 2 with help on stderr when no command is given', async () => {
    const h = harness();
    assert.equal(await run([], h.io), 2);
    assert.match(h.stderr(), /Commands:/);
  });

  it('prints the version', async () => {
    const h = harness();
    assert.equal(await run(['--version'], h.io), 0);
    assert.match(h.stdout(), /^confab \d+\.\d+\.\d+\n$/);
  });
});

describe('run: account and password', () => {
  it('needs an account', async () => {
    const h = harness({ CONFAB_PASSWORD: 'pw' });
    assert.equal(await run(['send', 'a@b', 'x'], h.io, withSession(new FakeSession())), 2);
    assert.match(h.stderr(), /no account: give --jid JID, set CONFAB_JID/);
  });

  it('takes --jid over CONFAB_JID, and a fresh confab- resource', async () => {
    const h = harness(ENV);
    const deps = withSession(new FakeSession());
    assert.equal(await run(['send', 'a@b', 'x', '--jid', 'other@example.org'], h.io, deps), 0);
    const p = deps.params[0]!;
    assert.equal(p.account.jid, 'other@example.org');
    assert.match(p.account.resource, /^confab-[a-z0-9]{8}$/);
    assert.equal(p.account.resourceChosen, false);
    assert.equal(p.password, 'pw');
    assert.equal(p.presence, false, 'send sends no presence');
  });

  it('binds --resource when given, and each run gets a different random one otherwise', async () => {
    const deps = withSession(new FakeSession());
    await run(['send', 'a@b', 'x', '--resource', 'Home'], harness(ENV).io, deps);
    await run(['send', 'a@b', 'x'], harness(ENV).io, deps);
    await run(['send', 'a@b', 'x'], harness(ENV).io, deps);
    assert.equal(deps.params[0]!.account.resource, 'Home');
    assert.notEqual(deps.params[1]!.account.resource, deps.params[2]!.account.resource);
  });

  it('passes the connection options through', async () => {
    const deps = withSession(new FakeSession());
    const argv = ['--host', '127.0.0.1', '--port', '5223', '--direct-tls', '--ca', '/ca.pem', '--pin', 'abc'];
    await run([...argv, 'send', 'a@b', 'x', '--allow-plaintext', '--legacy-auth'], harness(ENV).io, deps);
    const a = deps.params[0]!.account;
    assert.deepEqual(
      [a.host, a.port, a.directTls, a.ca, a.pin, a.allowPlaintext, a.legacyAuth],
      ['127.0.0.1', 5223, true, '/ca.pem', 'abc', true, true],
    );
  });

  it('reads the password from --password-command (first line), before CONFAB_PASSWORD', async () => {
    const deps = withSession(new FakeSession());
    const h = harness(ENV);
    assert.equal(
      await run(['send', 'a@b', 'x', '--password-command', "printf 's3cret\\nrest'"], h.io, deps),
      0,
    );
    assert.equal(deps.params[0]!.password, 's3cret');
  });

  it('fails clearly when the password command fails', async () => {
    const h = harness({ CONFAB_JID: 'me@example.org' });
    assert.equal(
      await run(['send', 'a@b', 'x', '--password-command', 'exit 3'], h.io, withSession(new FakeSession())),
      2,
    );
    assert.match(h.stderr(), /the password command exited with status 3/);
  });

  it('refuses to go on without a password when stdin is not a terminal', async () => {
    const h = harness({ CONFAB_JID: 'me@example.org' });
    assert.equal(await run(['listen'], h.io, withSession(new FakeSession())), 2);
    assert.match(h.stderr(), /no password: use --password-command CMD or set CONFAB_PASSWORD/);
  });

  it('prompts without echo on a terminal', async () => {
    const h = harness({ CONFAB_JID: 'me@example.org' }, true);
    let raw: boolean[] = [];
    (h.stdin as unknown as { setRawMode(m: boolean): void }).setRawMode = (m) => raw.push(m);
    const deps = withSession(new FakeSession());
    const done = run(['send', 'a@b', 'x'], h.io, deps);
    await until(() => h.stderr().includes('Password for me@example.org: '));
    h.stdin.write('pa');
    h.stdin.write('x\u007fss\r');
    assert.equal(await done, 0);
    assert.equal(deps.params[0]!.password, 'pass');
    assert.deepEqual(raw, [true, false]);
    assert.ok(!h.stderr().includes('pass'), 'not echoed');
    raw = [];
  });

  it('reads the default account and its settings from the config', async () => {
    const h = harness({ CONFAB_PASSWORD: 'pw' });
    const file = join(h.io.env.HOME!, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({
        default: 'cfg@example.org',
        accounts: { 'cfg@example.org': { host: 'h', port: 1, resource: 'Desk' } },
      }),
    );
    const deps = withSession(new FakeSession());
    assert.equal(await run(['--config', file, 'send', 'a@b', 'x'], h.io, deps), 0);
    const a = deps.params[0]!.account;
    assert.deepEqual(
      [a.jid, a.host, a.port, a.resource, a.resourceChosen],
      ['cfg@example.org', 'h', 1, 'Desk', true],
    );
    const missing = harness(ENV);
    assert.equal(await run(['--config', '/nonexistent/c.json', 'listen'], missing.io, deps), 2);
  });
});

describe('run: send', () => {
  it('sends the words joined, then disconnects; prints nothing in plain mode', async () => {
    const s = new FakeSession();
    const h = harness(ENV);
    assert.equal(
      await run(['send', 'juliet@example.org', 'Art', 'thou', '--subject', 'Q'], h.io, withSession(s)),
      0,
    );
    assert.deepEqual(s.sent, [
      { to: 'juliet@example.org', body: 'Art thou', type: 'chat', subject: 'Q', thread: undefined },
    ]);
    assert.equal(s.disconnected, 1);
    assert.equal(h.stdout(), '');
  });

  it('prints one result object with --json', async () => {
    const h = harness(ENV);
    assert.equal(
      await run(['send', '--json', 'a@b', 'hi', '--type', 'normal'], h.io, withSession(new FakeSession())),
      0,
    );
    assert.deepEqual(JSON.parse(h.stdout()), { event: 'result', command: 'send', to: 'a@b', id: 'id-1' });
  });

  it("reads the text from stdin for '-' and when no TEXT is given on a pipe", async () => {
    for (const argv of [
      ['send', 'a@b', '-'],
      ['send', 'a@b'],
    ]) {
      const s = new FakeSession();
      const h = harness(ENV);
      h.stdin.end('line one\nline two\n');
      assert.equal(await run(argv, h.io, withSession(s)), 0);
      assert.equal(s.sent[0]!.body, 'line one\nline two');
    }
  });

  it('refuses an empty message and no TEXT on a terminal', async () => {
    const h = harness(ENV);
    h.stdin.end('');
    assert.equal(await run(['send', 'a@b'], h.io, withSession(new FakeSession())), 2);
    assert.match(h.stderr(), /the message is empty/);
    const t = harness(ENV, true);
    assert.equal(await run(['send', 'a@b'], t.io, withSession(new FakeSession())), 2);
    assert.match(t.stderr(), /no TEXT given/);
  });

  it('refuses an invalid recipient before connecting', async () => {
    const deps = withSession(new FakeSession());
    const h = harness(ENV);
    assert.equal(await run(['send', '@@', 'x'], h.io, deps), 2);
    assert.match(h.stderr(), /^confab: Invalid JID "@@": .*\(see 'confab send --help'\)\n$/);
    assert.equal(deps.params.length, 0);
  });

  it('refuses text XML cannot carry before connecting, naming the character', async () => {
    const deps = withSession(new FakeSession());
    const h = harness(ENV);
    assert.equal(await run(['send', 'a@b', 'bell\u0007'], h.io, deps), 2);
    assert.match(h.stderr(), /the text contains U\+0007, which XMPP \(XML 1\.0\) cannot carry/);
    assert.equal(deps.params.length, 0, 'no connection attempted');
    const ok = harness(ENV);
    assert.equal(await run(['send', 'a@b', 'tab\tnewline\n\u0085 emoji \ud83c\udf89'], ok.io, deps), 0);
  });

  it('stops waiting when interrupted, exit 1, still disconnecting', async () => {
    const s = new FakeSession();
    let release: (() => void) | undefined;
    s.sendMessage = (msg) =>
      new Promise((resolve) => {
        release = () => resolve({ id: msg.to });
      });
    const ac = new AbortController();
    const h = harness(ENV);
    const done = run(['send', 'a@b', 'x'], h.io, { ...withSession(s), signal: ac.signal });
    await until(() => release !== undefined);
    ac.abort();
    assert.equal(await done, 1);
    assert.equal(s.disconnected, 1);
    assert.match(h.stderr(), /interrupted before the server confirmed the message/);
  });

  it('maps a failed send to its exit code, still disconnecting', async () => {
    const s = new FakeSession();
    s.sendError = new ConfabError('ERR_STANZA', 'the server refused the message', {
      condition: 'service-unavailable',
    });
    const h = harness(ENV);
    assert.equal(await run(['send', 'a@b', 'x'], h.io, withSession(s)), 1);
    assert.equal(s.disconnected, 1);
    assert.equal(h.stderr(), 'confab: the server refused the message [service-unavailable]\n');
    const t = new FakeSession();
    t.sendError = new ConfabError('ERR_TIMEOUT', 'no answer from the server');
    assert.equal(await run(['send', 'a@b', 'x'], harness(ENV).io, withSession(t)), 5);
  });

  it('maps connect failures: auth 4, TLS 3, plaintext refused 3 with a hint', async () => {
    const cases: [ConfabError, number, RegExp][] = [
      [
        new ConfabError('ERR_AUTH', 'authentication failed', { condition: 'not-authorized' }),
        4,
        /not-authorized/,
      ],
      [new ConfabError('ERR_TLS_CERT', 'certificate not trusted'), 3, /--ca FILE/],
      [new ConfabError('ERR_PLAINTEXT_REFUSED', 'the connection is not encrypted'), 3, /--allow-plaintext/],
      [new ConfabError('ERR_TIMEOUT', 'connecting timed out'), 5, /timed out/],
    ];
    for (const [err, code, pattern] of cases) {
      const h = harness(ENV);
      assert.equal(
        await run(['send', 'a@b', 'x'], h.io, withSession(new FakeSession(), undefined, err)),
        code,
      );
      assert.match(h.stderr(), pattern);
      assert.equal(h.stderr().split('\n').length, 2, 'one line');
    }
  });
});

describe('run: listen', () => {
  it('prints messages until --count messages with a body, exit 0; sends presence', async () => {
    const s = new FakeSession();
    const h = harness(ENV);
    const deps = withSession(s);
    const done = run(['listen', '--count', '2', '--json'], h.io, deps);
    await until(() => s.listening);
    assert.equal(deps.params[0]!.presence, true);
    s.deliver({ from: 'a@b/r', body: 'one', type: 'chat', id: 'm1' });
    s.deliver({ from: 'a@b/r' }); // a chat state: nothing printed, not counted
    s.deliver({
      from: 'c@d',
      body: 'two',
      delay: new Date('2026-01-02T03:04:05Z'),
      oob: [{ url: 'https://x/f.png', desc: undefined }],
    });
    s.deliver({ from: 'late@x', body: 'three' });
    assert.equal(await done, 0);
    assert.equal(s.disconnected, 1);
    const lines = h
      .stdout()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { event: 'message', from: 'a@b/r', id: 'm1', type: 'chat', body: 'one' },
      {
        event: 'message',
        from: 'c@d',
        body: 'two',
        delay: '2026-01-02T03:04:05.000Z',
        oob: [{ url: 'https://x/f.png' }],
      },
    ]);
  });

  it('exits 5 when --count is not reached in --timeout, 0 without --count', async () => {
    const s = new FakeSession();
    const h = harness(ENV);
    const done = run(['listen', '--count', '2', '--timeout', '0.05'], h.io, withSession(s));
    await until(() => s.listening);
    s.deliver({ from: 'a@b', body: 'only one' });
    assert.equal(await done, 5);
    assert.equal(h.stdout(), 'a@b: only one\n');
    assert.equal(
      await run(['listen', '--timeout', '0.01'], harness(ENV).io, withSession(new FakeSession())),
      0,
    );
  });

  it('prints remote text sanitized in plain mode, multi-line bodies indented', async () => {
    const s = new FakeSession();
    const h = harness({ ...ENV, NO_COLOR: '1' });
    const done = run(['listen', '--count', '1'], h.io, withSession(s));
    await until(() => s.listening);
    s.deliver({
      from: 'evil@x/\u001b[2J',
      subject: 'sub\u202eject',
      body: 'hi\u001b]52;c;AAAA\u0007\nsecond\rline\u0007',
      delay: new Date('2026-01-02T03:04:05Z'),
    });
    assert.equal(await done, 0);
    assert.equal(h.stdout(), '[2026-01-02T03:04:05.000Z] evil@x/: [subject] hi\n  secondline\n');
  });

  it('stops cleanly with exit 0 when interrupted', async () => {
    const s = new FakeSession();
    const ac = new AbortController();
    const done = run(['listen'], harness(ENV).io, { ...withSession(s), signal: ac.signal });
    await until(() => s.listening);
    ac.abort();
    assert.equal(await done, 0);
    assert.equal(s.disconnected, 1);
  });

  it('exits with the code of a fatal connection error', async () => {
    const s = new FakeSession();
    const h = harness(ENV);
    const done = run(['listen'], h.io, withSession(s));
    await until(() => s.listening);
    s.fail(new ConfabError('ERR_STREAM', 'the server closed the stream', { condition: 'conflict' }));
    assert.equal(await done, 3);
    assert.match(h.stderr(), /\[conflict\]/);
  });
});
