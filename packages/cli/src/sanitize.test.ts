import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { colorEnabled, jsonLine, Output } from './output.ts';
import { sanitizeForTerminal } from './sanitize.ts';

// Anything a terminal would act on, after sanitizing: C0 but \n and \t, DEL, C1, bidi controls.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('sanitizeForTerminal', () => {
  it('keeps ordinary text, newlines, tabs and non-Latin scripts', () => {
    const text = 'Hello\tworld\nשלום עולם · 你好 · emoji 🎉 · café';
    assert.equal(sanitizeForTerminal(text), text);
  });

  it('removes whole CSI sequences (clear screen, colours, cursor moves)', () => {
    assert.equal(sanitizeForTerminal('a\u001b[2Jb'), 'ab');
    assert.equal(sanitizeForTerminal('\u001b[31;1mred\u001b[0m'), 'red');
    assert.equal(sanitizeForTerminal('x\u001b[?1049hy'), 'xy');
    assert.equal(sanitizeForTerminal('8-bit \u009b2J CSI'), '8-bit  CSI');
  });

  it('removes OSC strings with their payload (OSC 52 clipboard, titles, hyperlinks)', () => {
    assert.equal(sanitizeForTerminal('a\u001b]52;c;ZXZpbA==\u0007b'), 'ab');
    assert.equal(sanitizeForTerminal('a\u001b]0;title\u001b\\b'), 'ab');
    assert.equal(sanitizeForTerminal('\u001b]8;;http://evil/\u001b\\link\u001b]8;;\u001b\\'), 'link');
    assert.equal(sanitizeForTerminal('a\u009d0;t\u009cb'), 'ab');
    assert.equal(sanitizeForTerminal('unterminated \u001b]0;title'), 'unterminated ');
  });

  it('removes DCS and two-character escapes', () => {
    assert.equal(sanitizeForTerminal('a\u001bPq#0;2;0;0;0\u001b\\b'), 'ab');
    assert.equal(sanitizeForTerminal('a\u001bcb'), 'ab', 'ESC c (full reset)');
    assert.equal(sanitizeForTerminal('a\u001b(Bb'), 'ab');
    assert.equal(sanitizeForTerminal('trailing\u001b'), 'trailing');
  });

  it('removes BEL, backspace, carriage return and other C0, DEL and C1', () => {
    assert.equal(sanitizeForTerminal('ding\u0007'), 'ding');
    assert.equal(sanitizeForTerminal('rm -rf\rsafe'), 'rm -rfsafe');
    assert.equal(sanitizeForTerminal('ab\bc\u0000\u007f\u0085d'), 'abcd');
  });

  it('turns CRLF into LF', () => {
    assert.equal(sanitizeForTerminal('one\r\ntwo\r\n'), 'one\ntwo\n');
  });

  it('removes bidi overrides, isolates and marks', () => {
    assert.equal(sanitizeForTerminal('abc\u202edcba\u202c'), 'abcdcba');
    assert.equal(sanitizeForTerminal('\u2066x\u2067y\u2068z\u2069'), 'xyz');
    assert.equal(sanitizeForTerminal('\u200ea\u200fb\u061cc\u202a\u202b\u202d'), 'abc');
  });

  it('singleLine turns newlines and tabs into spaces', () => {
    assert.equal(sanitizeForTerminal('nick\nname\tx', { singleLine: true }), 'nick name x');
  });

  it('never lets an unsafe character through (property)', () => {
    const risky = fc.constantFrom(
      '\u001b',
      '[',
      ']',
      '\\',
      '\u0007',
      '\u009b',
      '\u009c',
      '\u009d',
      '\r',
      '\n',
      '\t',
      '\u202e',
      '\u2066',
      '\u200f',
      '\u061c',
      '\u0000',
      '\u0085',
      'a',
      '2',
      'J',
      ';',
      'P',
    );
    fc.assert(
      fc.property(
        fc.array(fc.oneof(risky, fc.string())).map((a) => a.join('')),
        (s) => {
          const out = sanitizeForTerminal(s);
          assert.doesNotMatch(out, UNSAFE);
          assert.doesNotMatch(sanitizeForTerminal(s, { singleLine: true }), /[\n\t]/);
          assert.equal(sanitizeForTerminal(out), out, 'idempotent');
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('jsonLine', () => {
  it('keeps the data exactly but escapes what a terminal could act on', () => {
    const value = { body: 'a\u001b[2J\u009b\u202e\u2028b' };
    const line = jsonLine(value);
    assert.doesNotMatch(line, UNSAFE);
    assert.doesNotMatch(line, /[\u2028\u2029]/);
    assert.deepEqual(JSON.parse(line), value);
  });
});

describe('colour', () => {
  it('only on a terminal, never with NO_COLOR (non-empty) or TERM=dumb', () => {
    assert.equal(colorEnabled({ isTTY: true }, {}), true);
    assert.equal(colorEnabled({ isTTY: false }, {}), false);
    assert.equal(colorEnabled({}, {}), false);
    assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '' }), true, 'no-color.org: empty means unset');
    assert.equal(colorEnabled({ isTTY: true }, { TERM: 'dumb' }), false);
  });

  it('never in --json output', () => {
    const io = {
      stdout: { write: () => true, isTTY: true },
      stderr: { write: () => true },
      stdin: process.stdin,
      env: {},
    };
    assert.equal(new Output(io, false).style.bold('x'), '\u001b[1mx\u001b[22m');
    assert.equal(new Output(io, true).style.bold('x'), 'x');
    assert.equal(new Output({ ...io, env: { NO_COLOR: 'yes' } }, false).style.bold('x'), 'x');
  });
});
