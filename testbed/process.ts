// Process plumbing for the test bed: start a server process in its own process group with its
// output in a log file, wait until its ports accept, stop it by pid (SIGTERM, then SIGKILL), and
// never leave one behind: every server started by this process is stopped on exit and on
// SIGINT/SIGTERM, and servers left by a process that died without cleaning up (SIGKILL) are reaped
// by the next start (their temp dir records the owner's pid).

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Prefix of every test-bed temp dir (under the OS temp dir). */
export const DIR_PREFIX = 'confab-testbed-';

/** Prefix of the test runner's own temp dir (JSON for the test processes); reaped like server dirs. */
export const RUN_DIR_PREFIX = 'confab-run-';

/** Makes a fresh temp dir for one server: `<tmp>/confab-testbed-<name>-XXXXXX`. */
export function makeServerDir(name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `${DIR_PREFIX}${name}-`));
}

/** True while `pid` is a live (non-zombie) process. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised command) is the state; Z = zombie, X = dead.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  // Servers run as leaders of their own process group (detached spawn): signal the whole group so
  // helpers they spawned (erl_child_setup, port programs) go too. Fall back to the pid alone.
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops `pid` (and its process group): SIGTERM, then SIGKILL after `graceMs`. Resolves once it is gone. */
export async function stopPid(pid: number, graceMs = 3000): Promise<void> {
  if (!isAlive(pid)) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(10);
  if (isAlive(pid)) {
    signalGroup(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(10);
  }
}

/** True while any non-zombie process is in process group `pgid` (Linux /proc scan; else kill(-pgid, 0)). */
export function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // rest[0] = state, rest[1] = ppid, rest[2] = pgrp
      if (Number(rest[2]) === pgid && rest[0] !== 'Z' && rest[0] !== 'X') return true;
    } catch {
      // raced with its exit
    }
  }
  return false;
}

/** Stops a whole process group synchronously: SIGTERM, wait up to `graceMs` for all of it, SIGKILL. */
export function stopGroupSync(pgid: number, graceMs = 3000): void {
  signalGroup(pgid, 'SIGTERM');
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) Atomics.wait(cell, 0, 0, 20);
  if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
}

/** Synchronous variant for exit handlers: SIGTERM, busy-wait up to `graceMs`, then SIGKILL. */
export function stopPidSync(pid: number, graceMs = 2000): void {
  if (!isAlive(pid)) return;
  signalGroup(pid, 'SIGTERM');
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) Atomics.wait(cell, 0, 0, 10);
  if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
}

// ---- Ownership: every server this process started, stopped on exit/signals ----

interface Owned {
  pid: number;
  dir: string;
  keepDir: boolean;
}
const owned = new Map<number, Owned>();
let hooksInstalled = false;

/** Stops every server this process started, synchronously (exit and signal paths). */
export function stopAllOwnedSync(): void {
  for (const o of owned.values()) {
    stopPidSync(o.pid);
    if (!o.keepDir) rmSync(o.dir, { recursive: true, force: true });
  }
  owned.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', stopAllOwnedSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      // If the application handles this signal too, it decides when to exit (the exit hook above
      // still stops the servers); otherwise behave like the default action, servers stopped first.
      if (process.listenerCount(sig) > 1) return;
      stopAllOwnedSync();
      // Keep the conventional exit status of a signal death.
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Records that this process owns the server `pid` living in `dir` (written to `<dir>/owner.json`). */
export function own(pid: number, dir: string, keepDir: boolean): void {
  installHooks();
  owned.set(pid, { pid, dir, keepDir });
  writeFileSync(join(dir, 'owner.json'), JSON.stringify({ owner: process.pid, pid }));
}

/** Forgets `pid` (after it was stopped). */
export function disown(pid: number): void {
  owned.delete(pid);
}

/**
 * Stops servers whose owner process is gone (it was SIGKILLed before it could clean up) and removes
 * their dirs. A pid is only signalled if its command line still names the server's dir, so a
 * recycled pid is never hit.
 */
export function reapStale(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(DIR_PREFIX) && !name.startsWith(RUN_DIR_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    let info: { owner: number; pid?: number };
    try {
      info = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8'));
    } catch {
      continue; // being set up right now, or not ours
    }
    if (isAlive(info.owner)) continue;
    try {
      if (info.pid && readFileSync(`/proc/${info.pid}/cmdline`, 'utf8').includes(dir)) stopPidSync(info.pid);
    } catch {
      // server already gone
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- Starting ----

export interface SpawnOptions {
  cmd: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr go here. */
  logFile: string;
}

/** Spawns a server as the leader of a new process group, output appended to `logFile`. */
export function spawnServer(opts: SpawnOptions): ChildProcess {
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = spawn(opts.cmd, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    // Let this process exit without waiting for the server; the exit hook stops it.
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

/** Last `lines` lines of a log file, for error messages. */
export async function logTail(file: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function portAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/**
 * Waits until every port accepts a TCP connection. Rejects (with the log's tail) when the process
 * exits first or `timeoutMs` passes.
 */
export async function waitForPorts(
  child: ChildProcess,
  host: string,
  ports: number[],
  timeoutMs: number,
  logFiles: string[],
  what: string,
): Promise<void> {
  const tails = async () =>
    (await Promise.all(logFiles.map(async (f) => `--- ${f}\n${await logTail(f)}`))).join('\n');
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(ports);
  while (pending.size > 0) {
    if (child.exitCode !== null || child.signalCode !== null || !isAlive(child.pid!)) {
      throw new Error(
        `${what} exited (code ${child.exitCode ?? child.signalCode}) before its ports opened:\n${await tails()}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: ports ${[...pending].join(', ')} not accepting after ${timeoutMs} ms:\n${await tails()}`,
      );
    }
    for (const p of [...pending]) if (await portAccepts(host, p)) pending.delete(p);
    if (pending.size > 0) await sleep(15);
  }
}

/** True when a server's log says a port was already taken (so a retry with new ports may help). */
export async function logSaysPortInUse(logFiles: string[]): Promise<boolean> {
  const text = (await Promise.all(logFiles.map((f) => logTail(f, 200)))).join('\n');
  return /address already in use|eaddrinuse|Failed to open server port/i.test(text);
}

/**
 * Stop a test server we started: SIGKILL its process group first when `hard` (a crash, data
 * kept for a restart), then the usual SIGTERM-then-SIGKILL, and forget the pid.
 */
export async function stopServerProcess(pid: number, hard: boolean, graceMs?: number): Promise<void> {
  if (hard) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await stopPid(pid, graceMs);
  disown(pid);
}
