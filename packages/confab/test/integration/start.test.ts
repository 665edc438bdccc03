// `npm start`, the live demo (issue 3 "Also", issue 7 "`npm start`"), tested on a newcomer's path:
// start it, see the demo bot answer alice within 60 seconds, paste the printed `confab listen` and
// `confab send` command lines into a shell and see the bot's answer (in the demo and in
// `confab listen`), press Ctrl-C (SIGINT to the process group, as a terminal sends it) and find
// the process gone with exit status 0 and no Prosody of that run left behind.
// The demo starts its own Prosody (a fresh temp dir on free ports), not the shared test-bed servers.
// Also the bot's answers themselves (scripts/demo/bot.ts), without a server.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { botReply } from '../../../../scripts/demo/bot.ts';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const NEWCOMER_BUDGET_MS = 60_000;

/** A process whose output (stdout + stderr) can be awaited for a pattern. */
class Watched {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #listeners = new Set<() => void>();

  constructor(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = REPO) {
    // Its own process group, so SIGINT can go to the whole group like a terminal's Ctrl-C.
    this.child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d: Buffer) => {
      this.output += d.toString('utf8');
      for (const l of this.#listeners) l();
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        for (const l of this.#listeners) l();
        resolve({ code, signal });
      });
    });
    live.add(this);
    this.exited.then(() => live.delete(this));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the match once the output matches `re` (searched from `from`); rejects on exit or timeout. */
  waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.output.slice(from).match(re);
        if (m) return done(() => resolve(m));
        if (!this.running) {
          done(() => reject(new Error(`exited before ${re} appeared; output:\n${this.output}`)));
        }
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no ${re} within ${timeoutMs} ms; output:\n${this.output}`))),
        timeoutMs,
      );
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        f();
      };
      this.#listeners.add(check);
      check();
    });
  }

  signalGroup(sig: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, sig);
    } catch {
      // gone already
    }
  }
}

// Whatever happens to a test, nothing it started outlives the file (the demo stops its Prosody
// on SIGTERM).
const live = new Set<Watched>();
after(() => {
  for (const w of live) w.signalGroup('SIGTERM');
});

/** Processes whose command line mentions `dir` (the demo server's temp dir). */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      const state = readFileSync(`/proc/${e}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmd.includes(dir) && state !== 'Z') pids.push(Number(e));
    } catch {
      // raced with its exit
    }
  }
  return pids;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A line of the demo's exchange: `[hh:mm:ss] from -> to: body`. */
const line = (from: string, to: string, body: string) =>
  new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\] ${escapeRe(from)} -> ${escapeRe(to)}: ${escapeRe(body)}`, 'm');

/** The scripted exchange: alice's three messages, each followed by the bot's answer, in order. */
async function assertScriptedExchange(demo: Watched, deadline: number): Promise<void> {
  let at = 0;
  for (const [said, answer] of [
    ["Hi Bob, it's Alice!", "echo: Hi Bob, it's Alice!"],
    ['help', "I'm the confab demo bot. Try:"],
    ['ping', 'pong'],
  ] as const) {
    const s = await demo.waitFor(
      line('alice@localhost/demo', 'bob@localhost', said),
      deadline - Date.now(),
      at,
    );
    at += s.index! + s[0].length;
    const a = await demo.waitFor(
      line('bob@localhost/bot', 'alice@localhost', answer),
      deadline - Date.now(),
      at,
    );
    at += a.index! + a[0].length;
  }
}

function assertNothingLeft(serverDir: string): void {
  assert.deepEqual(processesUsing(serverDir), [], `a process of ${serverDir} is still running`);
  assert.equal(existsSync(serverDir), false, `${serverDir} was not removed`);
}

describe('npm start: the live demo', () => {
  test('a newcomer sees the bot answer, talks to it with the printed confab commands, Ctrl-C stops everything', async () => {
    const started = Date.now();
    const env = { ...process.env };
    delete env.CONFAB_START_ONCE;
    const demo = new Watched(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], env);

    await assertScriptedExchange(demo, started + NEWCOMER_BUDGET_MS);
    await demo.waitFor(/Press Ctrl-C to stop/, started + NEWCOMER_BUDGET_MS - Date.now());
    assert.ok(demo.running, 'the demo keeps running after the scripted exchange');

    // The printed command lines, taken as a person would copy them.
    const cd = demo.output.match(/^ {2}cd (\S+)$/m)?.[1];
    const listenCmd = demo.output.match(/^ {2}(CONFAB_PASSWORD=\S+ npx confab listen --jid .*)$/m)?.[1];
    const sendCmd = demo.output.match(/^ {2}(CONFAB_PASSWORD=\S+ npx confab send --jid .*)$/m)?.[1];
    const serverDir = demo.output.match(/^ {2}server dir {2}(\S+)/m)?.[1];
    assert.ok(cd && listenCmd && sendCmd && serverDir, `command lines not printed:\n${demo.output}`);
    for (const c of [listenCmd, sendCmd]) {
      for (const flag of ['--host 127.0.0.1', '--port ', '--ca '])
        assert.ok(c.includes(flag), `${flag} in ${c}`);
    }
    assert.match(sendCmd, / bob@localhost 'hello bot'$/);
    assert.ok(existsSync(serverDir), 'the printed server dir exists while the demo runs');
    assert.notDeepEqual(processesUsing(serverDir), [], 'its Prosody is found while the demo runs');

    // Second terminal: `confab listen`, exactly as printed (it may replay the conversation so far).
    const mark = demo.output.length;
    const listen = new Watched('sh', ['-c', `cd ${cd} && ${listenCmd}`]);
    // The demo announces alice's other clients: once listen is online, the bot's answer reaches it.
    await demo.waitFor(/\] alice@localhost\/(\S+) is online$/m, 20_000, mark);

    // Third terminal: `confab send`, exactly as printed.
    const send = new Watched('sh', ['-c', `cd ${cd} && ${sendCmd}`]);
    const sent = await send.exited;
    assert.equal(sent.code, 0, `confab send failed:\n${send.output}`);

    // The demo shows the message the bot got and the bot's answer; listen prints the answer.
    await demo.waitFor(/\] alice@localhost\/confab-\S+ -> bob@localhost: hello bot$/m, 10_000, mark);
    await demo.waitFor(line('bob@localhost/bot', 'alice@localhost', 'echo: hello bot'), 10_000, mark);
    await listen.waitFor(/^bob@localhost\/bot: echo: hello bot$/m, 10_000);
    // Ctrl-C in that terminal (the shell in between dies of the SIGINT, so no exit status to check).
    listen.signalGroup('SIGINT');
    await listen.exited;
    // The demo saw listen go.
    await demo.waitFor(/\] alice@localhost\/\S+ went offline$/m, 10_000, mark);

    // Ctrl-C.
    demo.signalGroup('SIGINT');
    const { code, signal } = await demo.exited;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, demo.output);
    assert.match(demo.output, /SIGINT: logging out and stopping Prosody/);
    assertNothingLeft(serverDir);
  });

  test('`npm start` with CONFAB_START_ONCE=1 and no terminal stops by itself after the exchange', async () => {
    const started = Date.now();
    const demo = new Watched('npm', ['start'], { ...process.env, CONFAB_START_ONCE: '1' });
    await assertScriptedExchange(demo, started + NEWCOMER_BUDGET_MS);
    const { code } = await demo.exited;
    assert.equal(code, 0, demo.output);
    const serverDir = demo.output.match(/^ {2}server dir {2}(\S+)/m)?.[1];
    assert.ok(serverDir, demo.output);
    assertNothingLeft(serverDir);
  });
});

describe('the demo bot answers', () => {
  test('echo with a friendly line, and the commands', () => {
    const now = new Date('2026-01-02T03:04:05Z');
    assert.equal(
      botReply('hello there', 'carol@localhost/phone', now),
      'echo: hello there\nNice to hear from you, carol! (say "help" for what I can do)',
    );
    assert.match(botReply('  HELP ', 'a@b'), /^I'm the confab demo bot\. Try:\n {2}help/);
    assert.equal(botReply('ping', 'a@b'), 'pong');
    assert.equal(botReply('time', 'a@b', now), 'It is 2026-01-02T03:04:05.000Z here.');
    assert.equal(botReply('whoami', 'carol@localhost/phone'), 'You are carol@localhost/phone.');
  });
});
