/**
 * `npm run bench`: confab against its peers, in one process and one run, as ratios to a floor.
 *
 *   npm run bench                      every suite
 *   npm run bench -- parse             only the named suites (parse, serialize, ...)
 *   npm run bench -- --rounds 7        timed rounds per contestant (median reported; default per suite)
 *   npm run bench -- --quick           small inputs, 2 rounds: a smoke run of the harness
 *   npm run bench -- --list            list the suites
 *
 * Tables go to stdout, progress to stderr, everything to bench/results.json.
 *
 * Adding a benchmark (time to online, throughput, memory per connection, bundle size...): write a
 * module in bench/ exporting a `Suite` (bench/harness.ts) and add it to SUITES below. Suites that
 * need the test-bed servers or a browser start them themselves and report 'n/a' rows with the reason
 * when they cannot.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { formatTable, type Suite, type SuiteContext, type SuiteResult } from './harness.ts';
import { mucSuite } from './muc.ts';
import { parseSuite } from './parse.ts';
import { rosterSuite } from './roster.ts';
import { serializeSuite } from './serialize.ts';
import { sessionSuite } from './session.ts';
import { sizeSuite } from './size.ts';

/** Every suite, in the order they run. */
const SUITES: Suite[] = [parseSuite, serializeSuite, sizeSuite, sessionSuite, rosterSuite, mucSuite];

function usage(): never {
  process.stderr.write(
    `usage: npm run bench -- [${SUITES.map((s) => s.name).join('|')} ...] [--rounds N] [--quick] [--list]\n`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const names: string[] = [];
  let rounds: number | undefined;
  let quick = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--quick') quick = true;
    else if (a === '--rounds' || a.startsWith('--rounds=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      rounds = Number(v);
      if (!Number.isInteger(rounds) || rounds < 1) usage();
    } else if (a === '--list') {
      for (const s of SUITES) process.stdout.write(`${s.name.padEnd(12)} ${s.description}\n`);
      return;
    } else if (a === '--help' || a === '-h') usage();
    else if (a.startsWith('-')) usage();
    else names.push(a);
  }
  const unknown = names.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown suite: ${unknown.join(', ')}\n`);
    usage();
  }
  const selected = names.length > 0 ? SUITES.filter((s) => names.includes(s.name)) : SUITES;
  const log = (m: string): void => {
    process.stderr.write(`${m}\n`);
  };
  const roundsFor = (s: Suite): number => rounds ?? (quick ? 2 : (s.defaultRounds ?? 5));

  const cpu = cpus()[0]?.model ?? 'unknown';
  const header = `confab bench: node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} x ${cpu}${quick ? ', QUICK (small inputs)' : ''}`;
  process.stdout.write(`${header}\n`);
  // Other processes on the machine (tests, servers) skew timings; say so rather than print ratios
  // that look exact. The medians of interleaved rounds absorb short bursts, not sustained load.
  const busy = (when: string): void => {
    const load = loadavg()[0] ?? 0;
    if (load > cpus().length * 0.5) {
      process.stdout.write(
        `warning: load average ${load.toFixed(1)} on ${cpus().length} cores ${when}: other processes compete, ratios are noisy\n`,
      );
    }
  };
  const loadBefore = loadavg()[0] ?? 0;
  busy('at start');

  type Entry = (SuiteResult | { error: string }) & { date?: string; loadAverage?: number };
  const results: Record<string, Entry> = {};
  const started = performance.now();
  let failed = false;
  for (const suite of selected) {
    const ctx: SuiteContext = { rounds: roundsFor(suite), quick, log };
    ctx.log(`[${suite.name}] ${suite.description} (${ctx.rounds} rounds)`);
    const t = performance.now();
    try {
      const r = await suite.run(ctx);
      results[suite.name] = { ...r, date: new Date().toISOString(), loadAverage: loadavg()[0] ?? 0 };
      for (const table of r.tables) process.stdout.write(`\n${formatTable(table)}\n`);
    } catch (err) {
      failed = true;
      const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
      results[suite.name] = { error: msg };
      process.stdout.write(`\n== ${suite.name}: FAILED\n${msg}\n`);
    }
    ctx.log(`[${suite.name}] ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  busy('at the end');
  const out = new URL('./results.json', import.meta.url);
  // a partial run (`npm run bench -- parse`) keeps the other suites' last results
  let previous: Record<string, Entry> = {};
  if (names.length > 0 && existsSync(out)) {
    try {
      previous = (JSON.parse(readFileSync(out, 'utf8')) as { suites?: Record<string, Entry> }).suites ?? {};
    } catch {
      previous = {};
    }
  }
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
        cpus: cpus().length,
        cpu,
        quick,
        loadAverage: { start: loadBefore, end: loadavg()[0] ?? 0 },
        seconds: (performance.now() - started) / 1000,
        suites: { ...previous, ...results },
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(
    `\nresults: ${out.pathname} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
  );
  if (failed) process.exitCode = 1;
}

await main();
