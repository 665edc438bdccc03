/**
 * Shared machinery of `npm run bench`: the suite interface every benchmark module implements, the
 * interleaved round-robin timer, statistics and the table printer.
 *
 * A suite (bench/parse.ts, bench/serialize.ts; later time-to-online, throughput, memory per
 * connection, bundle size) is registered in bench/run.ts. It returns tables of rows; each row is one
 * contestant measured against the suite's floor, with an optional goal. run.ts prints the tables and
 * writes them all to bench/results.json, so every suite reports the same way.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface SuiteContext {
  /** Timed rounds per contestant (the median is reported): `--rounds`, else the suite's default. */
  rounds: number;
  /** Smaller inputs for a smoke run (`--quick`). */
  quick: boolean;
  /** Progress messages go to stderr so stdout stays the tables. */
  log(message: string): void;
}

export interface Column {
  key: string;
  /** Header text, with the unit. */
  label: string;
  /** Digits after the point for numbers. */
  digits?: number;
}

export interface Row {
  name: string;
  /** Column values by key; null prints as 'n/a'. */
  values: Record<string, number | string | null>;
  /** Time (or cost) relative to the floor: 1 = as fast as the floor, 2 = twice the time. */
  ratio: number | null;
  /** The goal for this contestant, as a maximum ratio to the floor. */
  goal?: number;
  /** Problems found while checking the contestant's output (dropped stanzas, corrupted text, errors). */
  flags: string[];
  /** Free-form details for results.json (raw timings etc.). */
  detail?: Record<string, unknown>;
}

export interface Table {
  title: string;
  /** How it was measured, printed under the table (what is timed, what is not). */
  notes: string[];
  columns: Column[];
  rows: Row[];
}

export interface SuiteResult {
  tables: Table[];
  /** Inputs and settings, for results.json. */
  config: Record<string, unknown>;
}

export interface Suite {
  name: string;
  description: string;
  /** Timed rounds when `--rounds` is not given (long suites take fewer). */
  defaultRounds?: number;
  run(ctx: SuiteContext): Promise<SuiteResult>;
}

// ---------------------------------------------------------------------------------------------
// Timing

/**
 * A full garbage collection between measurements, so one contestant's garbage is not collected on
 * the next one's clock. `npm run bench` cannot pass --expose-gc, so it is switched on at run time.
 */
export const gc: () => void = (() => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  setFlagsFromString('--expose-gc');
  const fn = runInNewContext('gc') as unknown;
  return typeof fn === 'function' ? (fn as () => void) : () => {};
})();

export interface Contestant<R> {
  name: string;
  /** One timed run. Returns what it computed (a count), so the work cannot be optimized away. */
  run(): R;
}

export interface Timing<R> {
  name: string;
  /** Milliseconds per round, in the order run. */
  times: number[];
  median: number;
  /** The result of the last round. */
  result: R;
  /** Set when a round threw; the contestant is then left out of later rounds. */
  error?: unknown;
}

/**
 * Run the contestants interleaved: one warm-up round, then `rounds` timed rounds, each running every
 * contestant once, starting from a different contestant each round so no one always runs first
 * (after the previous one's garbage, or with a warmer CPU). A GC before each run.
 */
export function roundRobin<R>(
  contestants: Contestant<R>[],
  rounds: number,
  log: (m: string) => void,
): Timing<R>[] {
  const timings: Timing<R>[] = contestants.map((c) => ({
    name: c.name,
    times: [],
    median: Number.NaN,
    result: undefined as R,
  }));
  const once = (i: number, timed: boolean): void => {
    const c = contestants[i] as Contestant<R>;
    const t = timings[i] as Timing<R>;
    if (t.error !== undefined) return;
    gc();
    const start = performance.now();
    try {
      t.result = c.run();
    } catch (err) {
      t.error = err;
      log(`  ${c.name}: threw ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const ms = performance.now() - start;
    if (timed) t.times.push(ms);
  };
  log('  warm-up round');
  for (let i = 0; i < contestants.length; i++) once(i, false);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contestants.length; k++) once((r + k) % contestants.length, true);
    log(
      `  round ${r + 1}/${rounds}: ${timings.map((t) => `${t.name} ${t.times.at(-1)?.toFixed(0) ?? '-'}ms`).join(', ')}`,
    );
  }
  for (const t of timings) t.median = median(t.times);
  return timings;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Output

function cell(v: number | string | null | undefined, digits: number): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return 'n/a';
  if (typeof v === 'string') return v;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Render a table as aligned plain text (numbers right-aligned), with its notes and flags below. */
export function formatTable(table: Table): string {
  const headers = ['name', ...table.columns.map((c) => c.label), 'vs floor', 'goal', 'met'];
  const lines: string[][] = table.rows.map((r) => [
    r.name,
    ...table.columns.map((c) => cell(r.values[c.key], c.digits ?? 0)),
    r.ratio === null ? 'n/a' : `${r.ratio.toFixed(2)}x`,
    r.goal === undefined ? '' : `<= ${r.goal}x`,
    r.goal === undefined ? '' : r.ratio === null ? 'n/a' : r.ratio <= r.goal ? 'yes' : 'NO',
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (l: string[]): string =>
    l
      .map((v, i) => (i === 0 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const out = [`== ${table.title}`, fmt(headers), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const l of lines) out.push(fmt(l));
  const flagged = table.rows.filter((r) => r.flags.length > 0);
  if (flagged.length > 0) {
    out.push('flags:');
    for (const r of flagged) for (const f of r.flags) out.push(`  ${r.name}: ${f}`);
  }
  for (const n of table.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

/** An error as one line for the bench's notes: `code: message`. */
export const errText = (e: unknown): string =>
  e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e);

/** Waits `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `p`, or a rejection naming `what` after `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
