// `npm start`, the live demo (issue 3 "Also", issue 7 "`npm start`"), tested on a newcomer's path.
// On a terminal (a tmux pane, driven as a person would, like packages/cli/test/integration/chat.test.ts):
// `npm start` opens `confab chat` as alice within 60 seconds with bob in the roster and the demo
// room open; the newcomer talks to the bot 1:1 and in the room and sees its answers; /quit ends
// npm start with exit status 0 and no Prosody of that run left behind.
// Without a terminal: start it, see the demo bot answer alice within 60 seconds, paste the printed
// `confab listen` and `confab send` command lines into a shell and see the bot's answer (in the demo
// and in `confab listen`), press Ctrl-C (SIGINT to the process group, as a terminal sends it) and
// find the process gone with exit status 0 and no Prosody of that run left behind.
// The demo starts its own Prosody (a fresh temp dir on free ports), not the shared test-bed servers.
// Also the bot's answers themselves (scripts/demo/bot.ts), without a server.

import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { addressedTo, botReply } from '../../../../scripts/demo/bot.ts';
import { DIR_PREFIX } from '../../../../testbed/process.ts';

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

const run = promisify(execFile);

/**
 * A tmux server of our own (its own -L socket) with one 120x40 pane running a shell command;
 * the pane stays after the command ends (its exit status is printed).
 */
class Pane {
  readonly socket = `confab-start-${process.pid}`;

  async tmux(...args: string[]): Promise<string> {
    return (await run('tmux', ['-L', this.socket, '-f', '/dev/null', ...args])).stdout;
  }

  async start(command: string): Promise<void> {
    await this.tmux('new-session', '-d', '-x', '120', '-y', '40', '-s', 'main', command);
  }

  screen(): Promise<string> {
    return this.tmux('capture-pane', '-p', '-t', 'main');
  }

  /** Polls the screen until it matches `pattern`; fails with the screen once `deadline` (epoch ms) passed. */
  async waitFor(pattern: RegExp, deadline: number): Promise<RegExpMatchArray> {
    for (;;) {
      const screen = await this.screen();
      const m = screen.match(pattern);
      if (m) return m;
      if (Date.now() > deadline) assert.fail(`the screen never showed ${pattern}:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async line(text: string): Promise<void> {
    await this.tmux('send-keys', '-t', 'main', '-l', text);
    await this.tmux('send-keys', '-t', 'main', 'Enter');
  }

  async press(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', 'main', ...keys);
  }

  async stop(): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined);
  }
}

describe('npm start on a terminal: confab chat with the demo bot', () => {
  // The chat runs from the built CLI (`npm install` builds it): build this tree's sources.
  before(async () => {
    await run('npx', ['tsc', '-b', 'packages/confab', 'packages/cli'], { cwd: REPO });
  });

  test('the newcomer lands in the chat with bob and the demo room, the bot answers 1:1 and in the room, /quit stops everything', async () => {
    // A temp dir of its own (TMPDIR) holds the demo's Prosody dir and chat config: found and checked after.
    const tmp = mkdtempSync(join(tmpdir(), 'confab-start-tty-'));
    const pane = new Pane();
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const vars = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? tmp,
      TMPDIR: tmp,
      TERM: 'xterm-256color',
      LANG: 'C.UTF-8',
    };
    const env = Object.entries(vars)
      .map(([k, v]) => q(`${k}=${v}`))
      .join(' ');
    try {
      const started = Date.now();
      const deadline = started + NEWCOMER_BUDGET_MS;
      await pane.start(`cd ${q(REPO)} && env -i ${env} npm start; echo "[npm start exited $?]"; sleep 600`);

      // The chat, logged in as alice: bob in the roster (online), the bookmarked room joined in a window.
      await pane.waitFor(/Online as alice@localhost\/chat\./, deadline);
      await pane.waitFor(/● bob \(demo bot\)/, deadline);
      const win = await pane.waitFor(
        /Joining demo@conference\.localhost \(bookmarked, autojoin\): window (\d+), Alt-\d/,
        deadline,
      );
      const serverDirs = readdirSync(tmp).filter((e) => e.startsWith(`${DIR_PREFIX}prosody-demo-`));
      assert.equal(serverDirs.length, 1, `one demo Prosody dir in ${tmp}: ${serverDirs}`);
      const serverDir = join(tmp, serverDirs[0]!);
      assert.notDeepEqual(processesUsing(serverDir), [], 'its Prosody is found while the demo runs');

      // 1:1 with the bot.
      await pane.line('/msg bob@localhost hello');
      await pane.waitFor(/^ bob \(demo bot\) <bob@localhost>/m, deadline);
      await pane.waitFor(/<bob \(demo bot\)> echo: hello$/m, deadline);

      // The room: its window shows the subject and both occupants; the bot answers a mention.
      await pane.press(`M-${win[1]}`);
      await pane.waitFor(/^ demo@conference\.localhost — Welcome to confab!/m, deadline);
      await pane.waitFor(/@bob[\s\S]*alice/, deadline);
      await pane.line('bob: ping');
      await pane.waitFor(/<alice> bob: ping$/m, deadline);
      await pane.waitFor(/<bob> alice: pong$/m, deadline);
      assert.ok(Date.now() <= deadline, `the newcomer's path took ${Date.now() - started} ms`);

      // /quit: the chat ends, npm start logs the bot out, stops Prosody, exits 0.
      await pane.line('/quit');
      const end = await pane.waitFor(/\[npm start exited (\d+)\]/, Date.now() + 30_000);
      assert.equal(end[1], '0', await pane.screen());
      assert.match(await pane.screen(), /confab chat ended: logging the bot out and stopping Prosody/);
      assertNothingLeft(serverDir);
      assert.deepEqual(
        readdirSync(tmp).filter((e) => e.startsWith('confab-')),
        [],
        'the demo left a temp dir behind',
      );
    } finally {
      await pane.stop();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

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

  test('in a room, what is addressed to it by nick (or "bot"), and nothing else', () => {
    assert.equal(addressedTo('bob: ping', 'bob'), 'ping');
    assert.equal(addressedTo('  Bob, help ', 'bob'), 'help');
    assert.equal(addressedTo('@bob:time', 'bob'), 'time');
    assert.equal(addressedTo('bot: ping', 'bob'), 'ping');
    assert.equal(addressedTo('bob:', 'bob'), 'help');
    assert.equal(addressedTo('hey bob, how are you?', 'bob'), 'hey bob, how are you?');
    assert.equal(addressedTo('is the bot there?', 'bob'), 'is the bot there?');
    assert.equal(addressedTo('bobby: hi', 'bob'), undefined);
    assert.equal(addressedTo('kebob and robots', 'bob'), undefined);
    assert.equal(addressedTo('hello all', 'bob'), undefined);
    assert.equal(addressedTo('b.b: hi', 'b.b'), 'hi');
    assert.equal(addressedTo('bxb: hi', 'b.b'), undefined);
  });
});
