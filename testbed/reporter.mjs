// A tiny node:test reporter used by scripts/test.ts beside `spec`: it counts finished tests and
// writes `{"passed":N,"failed":N,"skipped":N,"todo":N,"failures":[...]}` to its destination, so the
// runner can print the final `N passed, N failed` line itself (after stopping the servers).
// Counted like node's own summary: every test and subtest, not describe() suites; a file that fails
// to load counts as one failed test; cancelled tests count as failed.
// A file with no tests shows up as one passing "test" named after the file: not counted, so a run of
// empty files still ends in "0 passed".
// Plain JavaScript: node loads reporters before `--import tsx` can compile TypeScript for them.

/**
 * @param {AsyncIterable<{ type: string, data: { name: string, nesting: number, file?: string, skip?: unknown, todo?: unknown, details?: { type?: string } } }>} source
 * @returns {AsyncGenerator<string>}
 */
import { resolve } from 'node:path';

export default async function* counter(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let todo = 0;
  /** @type {string[]} */
  const failures = [];
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    const d = ev.data;
    if (d.details?.type === 'suite') continue;
    const fileLevel = d.nesting === 0 && d.file !== undefined && resolve(d.name) === resolve(d.file);
    if (fileLevel && ev.type === 'test:pass') continue;
    if (d.skip) skipped++;
    else if (d.todo) todo++;
    else if (ev.type === 'test:pass') passed++;
    else {
      failed++;
      failures.push(`${d.file ?? '?'}: ${d.name}`);
    }
  }
  yield `${JSON.stringify({ passed, failed, skipped, todo, failures })}\n`;
}
