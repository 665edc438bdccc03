// `npm test`: everything a fresh machine needs, in one command.
//   1. installs the test bed's system packages (prosody, ejabberd, tmux, openssl) with apt-get if missing
//   2. checks: Biome, type-check (tsc -b of the packages, then the whole tree), and the library's
//      package as a user receives it (npm pack, then publint and attw on the tarball)
//   3. starts the shared test-bed servers once (Prosody full, Prosody minimal, ejabberd) and writes
//      their description to a JSON file named by CONFAB_TESTBED for the test processes
//   4. runs every unit and integration test file with node:test (explicit file list: Node 20 does
//      not expand quoted globs and `node --test dir/` finds no .ts files)
//   5. always stops the servers (finally, SIGINT/SIGTERM/SIGHUP, process exit)
//   6. ends with the line `N passed, N failed`; exits non-zero when a test or a check failed or when
//      no test ran.
// Developer filters: `npm test -- --unit` (unit tests only: no servers, no checks),
// `npm test -- --no-checks`, `npm test -- path/to/a.test.ts ...` (only those files; servers only if
// one is an integration test), `--concurrency N` (or CONFAB_TEST_CONCURRENCY).

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSharedServers } from '../testbed/index.ts';
import { ensurePackages } from '../testbed/install.ts';
import { RUN_DIR_PREFIX, reapStale, stopAllOwnedSync, stopGroupSync } from '../testbed/process.ts';
import type { TestServer } from '../testbed/types.ts';
import { ensureChromium } from './install-browser.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const REPORTER = join(ROOT, 'testbed', 'reporter.mjs');
const RUN_TIMEOUT_MS = 13 * 60_000;

// ---- arguments ----
const argv = process.argv.slice(2);
let unitOnly = false;
let checks = true;
let concurrency =
  Number(process.env.CONFAB_TEST_CONCURRENCY) || Math.min(8, Math.max(2, availableParallelism() * 2));
const explicitFiles: string[] = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--unit') unitOnly = true;
  else if (a === '--no-checks') checks = false;
  else if (a === '--checks') checks = true;
  else if (a === '--concurrency') concurrency = Number(argv[++i]);
  else if (a.startsWith('--concurrency=')) concurrency = Number(a.slice('--concurrency='.length));
  else if (a === '--help' || a === '-h') {
    console.log('usage: npm test [-- [--unit] [--no-checks | --checks] [--concurrency N] [test files...]]');
    process.exit(0);
  } else if (a.startsWith('-')) {
    console.error(`unknown option ${a}`);
    process.exit(2);
  } else explicitFiles.push(resolve(a));
}
if (unitOnly || explicitFiles.length > 0) checks = argv.includes('--checks');

// ---- cleanup on every path ----
const runDir = mkdtempSync(join(tmpdir(), RUN_DIR_PREFIX));
writeFileSync(join(runDir, 'owner.json'), JSON.stringify({ owner: process.pid }));
let testChild: ChildProcess | undefined;
let cleanedUp = false;
function cleanupSync(): void {
  if (cleanedUp) return;
  cleanedUp = true;
  if (testChild?.pid !== undefined && testChild.exitCode === null) stopGroupSync(testChild.pid);
  stopAllOwnedSync();
  reapStale(); // servers that test processes started and could not stop
  rmSync(runDir, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping tests and test-bed servers`);
    cleanupSync();
    console.log('0 passed, 1 failed');
    process.exit(sig === 'SIGINT' ? 130 : sig === 'SIGTERM' ? 143 : 129);
  });
}
process.on('exit', cleanupSync);
// If whoever started us dies (npm killed by SIGTERM does not always pass it on), we are re-parented:
// treat that like SIGTERM rather than run on unattended.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.emit('SIGTERM', 'SIGTERM');
}, 500).unref();

// ---- helpers ----
const secs = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

interface Captured {
  code: number;
  output: string;
}
function capture(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Captured> {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d;
    });
    child.on('error', (err) => resolvePromise({ code: 127, output: String(err) }));
    child.on('close', (code) => resolvePromise({ code: code ?? 1, output }));
  });
}

const failedSteps: string[] = [];
async function step(name: string, fn: () => Promise<Captured>): Promise<boolean> {
  const t0 = performance.now();
  const r = await fn();
  if (r.code === 0) {
    console.log(`ok   ${name} (${secs(t0)})`);
    return true;
  }
  failedSteps.push(name);
  console.log(`FAIL ${name} (${secs(t0)}, exit ${r.code})\n${r.output.trimEnd()}\n`);
  return false;
}

function walk(dir: string, out: string[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n === 'node_modules' || n === 'dist' || n.startsWith('.')) continue;
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.test\.tsx?$/.test(n)) out.push(p);
  }
}

function findTests(): { unit: string[]; integration: string[] } {
  const all: string[] = [];
  for (const pkg of readdirSync(join(ROOT, 'packages'))) {
    walk(join(ROOT, 'packages', pkg, 'src'), all);
    walk(join(ROOT, 'packages', pkg, 'test'), all);
  }
  all.sort();
  const isIntegration = (f: string) => f.includes('/test/integration/');
  return { unit: all.filter((f) => !isIntegration(f)), integration: all.filter(isIntegration) };
}

// ---- checks ----
async function runChecks(): Promise<void> {
  await step('biome check', () => capture('npx', ['biome', 'check', '.']));
  const typed = await step('type-check (tsc -b packages, tsc --noEmit tree)', () =>
    capture('npm', ['run', '-s', 'typecheck']),
  );
  if (!typed) {
    failedSteps.push('package check (skipped: needs a successful build)');
    console.log('FAIL package check: skipped, the build failed');
    return;
  }
  const packDir = join(runDir, 'pack');
  mkdirSync(packDir);
  await step('package check (npm pack, publint, attw --profile esm-only)', async () => {
    const pack = await capture('npm', [
      'pack',
      '--silent',
      '--workspace',
      'packages/confab',
      '--pack-destination',
      packDir,
    ]);
    if (pack.code !== 0) return pack;
    const tgz = readdirSync(packDir).find((f) => f.endsWith('.tgz'));
    if (!tgz) return { code: 1, output: `npm pack wrote no tarball\n${pack.output}` };
    const tarball = join(packDir, tgz);
    const lint = await capture('npx', ['publint', 'run', tarball]);
    const attw = await capture('npx', ['attw', tarball, '--profile', 'esm-only', '--no-color', '--no-emoji']);
    return {
      code: lint.code || attw.code,
      output: `publint:\n${lint.output}\nattw:\n${attw.output}`,
    };
  });
}

// ---- tests ----
interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  failures: string[];
}

function runTests(
  files: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; counts: Counts | undefined }> {
  const countsFile = join(runDir, 'counts.json');
  const args = [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=180000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${REPORTER}`,
    `--test-reporter-destination=${countsFile}`,
    ...files,
  ];
  return new Promise((resolvePromise) => {
    // Own process group, so the cleanup can stop the runner and every test process it spawned.
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    testChild = child;
    const timer = setTimeout(() => {
      console.error(`tests still running after ${RUN_TIMEOUT_MS / 60_000} min: stopping them`);
      if (child.pid !== undefined) stopGroupSync(child.pid);
    }, RUN_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let counts: Counts | undefined;
      try {
        counts = JSON.parse(readFileSync(countsFile, 'utf8')) as Counts;
      } catch {
        counts = undefined;
      }
      resolvePromise({ code: code ?? (signal ? 1 : 0), counts });
    });
  });
}

// ---- main ----
async function main(): Promise<number> {
  const t0 = performance.now();
  const found = findTests();
  const files =
    explicitFiles.length > 0 ? explicitFiles : unitOnly ? found.unit : [...found.unit, ...found.integration];
  const needServers = files.some((f) => f.includes('/test/integration/'));

  if (needServers) {
    try {
      ensurePackages(['prosody', 'ejabberd', 'tmux', 'openssl']);
      if (files.some((f) => f.endsWith('/browser.test.ts'))) ensureChromium();
    } catch (err) {
      console.error(`cannot set up the test bed: ${(err as Error).message}`);
      return 1;
    }
  }

  reapStale();
  // Start the servers while the checks run (the checks are CPU-bound, the servers mostly wait).
  const serversStarted = performance.now();
  const serversPromise: Promise<TestServer[] | Error> = needServers
    ? startSharedServers().catch((err: Error) => err)
    : Promise.resolve([]);

  if (checks) await runChecks();

  const servers = await serversPromise;
  if (servers instanceof Error) {
    console.log(`FAIL test bed\n${servers.message}`);
    return 1;
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (needServers) {
    const testbedFile = join(runDir, 'testbed.json');
    writeFileSync(testbedFile, JSON.stringify({ servers }, null, 2));
    env.CONFAB_TESTBED = testbedFile;
    console.log(
      `ok   test bed (${secs(serversStarted)} incl. waiting for checks): ${servers
        .map((s) => `${s.name} ${s.startupMs} ms`)
        .join(', ')}`,
    );
  }

  if (files.length === 0) {
    console.log('no test files found');
    console.log('0 passed, 0 failed');
    return 1;
  }
  console.log(`running ${files.length} test files, concurrency ${concurrency}`);
  const { code, counts } = await runTests(
    files.map((f) => relative(ROOT, f)),
    env,
  );
  testChild = undefined;

  await Promise.all(servers.map((s) => s.stop()));
  reapStale();

  const passed = counts?.passed ?? 0;
  const failed = (counts?.failed ?? 0) + (counts ? 0 : 1);
  console.log('');
  if (!counts) console.log('the test reporter wrote no counts: node --test crashed?');
  if (counts && counts.failures.length > 0) console.log(`failed tests:\n  ${counts.failures.join('\n  ')}`);
  if (counts && (counts.skipped > 0 || counts.todo > 0))
    console.log(`(${counts.skipped} skipped, ${counts.todo} todo)`);
  if (failedSteps.length > 0) console.log(`failed checks: ${failedSteps.join('; ')}`);
  if (passed === 0) console.log('no test passed: a run that tests nothing fails');
  console.log(`total ${secs(t0)}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 || passed === 0 || code !== 0 || failedSteps.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    cleanupSync();
    process.exit(code);
  },
  (err: unknown) => {
    console.error(err);
    cleanupSync();
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
