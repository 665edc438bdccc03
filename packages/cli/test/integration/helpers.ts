// Shared by the CLI's end-to-end tests: run the real bin (bin/confab.js -> dist/main.js) in a child
// process with a clean environment, against the shared test-bed servers (testbed/harness.ts).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Account, ServerInfo } from '../../../../testbed/harness.ts';

export const ROOT = new URL('../../../../', import.meta.url).pathname;
const BIN = new URL('../../bin/confab.js', import.meta.url).pathname;
export const HOME = mkdtempSync(join(tmpdir(), 'confab-cli-'));

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

export interface Running {
  child: ChildProcess;
  done: Promise<Ran>;
  /** Resolves once stdout matches (rejects when the process ends first). */
  waitStdout(pattern: RegExp): Promise<void>;
  /** Resolves once stderr matches (rejects when the process ends first). */
  waitStderr(pattern: RegExp): Promise<void>;
}

/** Output that can be awaited for a pattern. */
class Watched {
  text = '';
  readonly #waiters: { pattern: RegExp; resolve: () => void; reject: (e: Error) => void }[] = [];

  add(d: Buffer): void {
    this.text += d;
    for (const w of [...this.#waiters]) {
      if (w.pattern.test(this.text)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  wait(pattern: RegExp): Promise<void> {
    if (pattern.test(this.text)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.#waiters.push({ pattern, resolve, reject }));
  }

  end(why: (pattern: RegExp) => Error): void {
    for (const w of this.#waiters.splice(0)) w.reject(why(w.pattern));
  }
}

/** Starts `confab ARGS` with no user config and no colour. */
export function start(
  args: string[],
  env: Record<string, string> = {},
  stdin?: string,
  home: string = HOME,
): Running {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      NO_COLOR: '1',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out = new Watched();
  const err = new Watched();
  child.stdout!.on('data', (d: Buffer) => out.add(d));
  child.stderr!.on('data', (d: Buffer) => err.add(d));
  if (stdin !== undefined) child.stdin!.end(stdin);
  else child.stdin!.end();
  const done = new Promise<Ran>((resolve) => {
    child.on('close', (code) => {
      const why = (p: RegExp) => new Error(`confab ended before ${p}:\n${err.text}`);
      out.end(why);
      err.end(why);
      resolve({ code, stdout: out.text, stderr: err.text, ms: performance.now() - t0 });
    });
  });
  return { child, done, waitStdout: (p) => out.wait(p), waitStderr: (p) => err.wait(p) };
}

/** Runs `confab ARGS` as `account` on `server` and waits for it to end. */
export function confab(
  server: ServerInfo,
  account: Account | undefined,
  args: string[],
  stdin?: string,
): Promise<Ran> {
  return start([...args, ...via(server)], account ? as(account) : {}, stdin).done;
}

/** Starts a long-running `confab ARGS` as `account` on `server`. */
export function startAs(server: ServerInfo, account: Account, args: string[]): Running {
  return start([...args, ...via(server)], as(account));
}

/** Connection options for a test-bed server, verifying TLS against its CA. */
export function via(s: ServerInfo): string[] {
  return ['--host', s.host, '--port', String(s.ports.c2s), '--ca', s.caFile];
}

export function as(account: Account): Record<string, string> {
  return { CONFAB_JID: account.jid, CONFAB_PASSWORD: account.password };
}

export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .trimEnd()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Builds the library and the CLI so the bin runs the current source. */
export async function build(): Promise<void> {
  await promisify(execFile)('npx', ['tsc', '-b', 'packages/confab', 'packages/cli'], { cwd: ROOT }).catch(
    (err: { stdout?: string; stderr?: string }) => {
      throw new Error(`build failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    },
  );
}
