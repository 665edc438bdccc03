// The progress bar of `confab upload|offer|download` (commands/files.ts): only on a terminal,
// rewritten in place, ends with one newline, and a remote-derived label cannot inject escapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressBar } from './files.ts';

function stream(isTTY: boolean) {
  const out: string[] = [];
  return { out, s: { isTTY, write: (x: string) => out.push(x) } };
}

test('nothing when stderr is not a terminal', () => {
  const { out, s } = stream(false);
  const bar = progressBar(s, 'x.bin');
  bar.update({ transferred: 5, total: 10 });
  bar.update({ transferred: 10, total: 10 });
  bar.end();
  assert.deepEqual(out, []);
});

test('a terminal gets the bar rewritten in place, 100% at the end, then one newline', () => {
  const { out, s } = stream(true);
  const bar = progressBar(s, 'evil\u001b]52;c;aGk=\u0007\u202ename.bin');
  bar.update({ transferred: 0, total: 2 * 1024 * 1024 });
  bar.update({ transferred: 2 * 1024 * 1024, total: 2 * 1024 * 1024 });
  bar.end();
  assert.ok(out.length >= 2);
  assert.ok(out.slice(0, -1).every((l) => l.startsWith('\r\u001b[2K')));
  const last = out.at(-2)!;
  assert.match(last, /\[#{30}\] 100% 2\.0 MiB \/ 2\.0 MiB$/);
  assert.equal(out.at(-1), '\n');
  const label = out.join('').replaceAll('\r\u001b[2K', '');
  assert.ok(
    !label.includes('\u001b') && !label.includes('\u0007') && !label.includes('\u202e'),
    JSON.stringify(label),
  );
});

test('an unknown total shows the bytes so far', () => {
  const { out, s } = stream(true);
  const bar = progressBar(s, 'x');
  bar.update({ transferred: 1536, total: undefined });
  assert.match(out[0]!, /x 1\.5 KiB$/);
});
