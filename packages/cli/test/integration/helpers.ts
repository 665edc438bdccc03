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
}

export interface Running {
  child: ChildProcess;
  done: Promise<Ran>;
  /** Resolves once stdout matches (rejects when the process ends first). */
  waitStdout(pattern: RegExp): Promise<void>;
}

/** Starts `confab ARGS` with no user config and no colour. */
export function start(args: string[], env: Record<string, string> = {}, stdin?: string): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME,
      XDG_CONFIG_HOME: join(HOME, 'config'),
      NO_COLOR: '1',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void; reject: (e: Error) => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d;
    for (const w of [...waiters]) {
      if (w.pattern.test(stdout)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  if (stdin !== undefined) child.stdin!.end(stdin);
  else child.stdin!.end();
  const done = new Promise<Ran>((resolve) => {
    child.on('close', (code) => {
      for (const w of waiters) w.reject(new Error(`confab ended before ${w.pattern}:\n${stderr}`));
      resolve({ code, stdout, stderr });
    });
  });
  return {
    child,
    done,
    waitStdout: (pattern) =>
      pattern.test(stdout)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => waiters.push({ pattern, resolve, reject })),
  };
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
