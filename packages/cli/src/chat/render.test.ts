// The renderer's parts: cell widths (wide, combining, emoji), the cell grid, frame diffing
// (checked by replaying the output on the fake terminal), wrapping, input layout, nick colours.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hueAngle, nickColour, rgbTo256 } from './colour.ts';
import { FakeTerminal } from './fake-terminal.ts';
import { BOLD, fg, Renderer, Screen } from './screen.ts';
import { entrySegments, inputLayout, styledSegments, wrap } from './view.ts';
import { clusterWidth, fitWidth, graphemes, padTo, textWidth } from './width.ts';

describe('width', () => {
  it('counts wide, combining and emoji clusters as a terminal does', () => {
    assert.equal(textWidth('abc'), 3);
    assert.equal(textWidth('日本語'), 6);
    assert.equal(textWidth('e\u0301'), 1, 'e + combining acute');
    assert.equal(graphemes('e\u0301x').length, 2);
    assert.equal(textWidth('👍'), 2);
    assert.equal(textWidth('👨‍👩‍👧'), 2, 'a ZWJ family is one picture');
    assert.equal(textWidth('❤️'), 2, 'VS16 makes it a picture');
    assert.equal(textWidth('한국'), 4);
    assert.equal(textWidth('ｆｕｌｌ'), 8, 'fullwidth forms');
    assert.equal(clusterWidth('\u200b'), 0);
  });

  it('cuts and pads to a width without splitting a wide character', () => {
    assert.deepEqual(fitWidth('日本語', 5), { text: '日本', width: 4 });
    assert.equal(padTo('ab', 4), 'ab  ');
    assert.equal(padTo('日本語', 5), '日本…');
    assert.equal(textWidth(padTo('日本語abc', 6)), 6);
  });
});

describe('screen and renderer', () => {
  it('puts text with wide characters and clips at the limit', () => {
    const s = new Screen(10, 2);
    const x = s.put(0, 0, 'a日b');
    assert.equal(x, 4);
    assert.equal(s.line(0), 'a日b');
    s.put(8, 1, '日本');
    assert.equal(s.line(1), '        日');
    s.put(9, 1, '語');
    assert.equal(s.chars[19], ' ', 'no half of a wide character at the edge');
  });

  it('drops control characters even if they reach put', () => {
    const s = new Screen(20, 1);
    s.put(0, 0, 'a\u001b[2Jb\u0007c');
    assert.equal(s.line(0), 'a[2Jbc');
  });

  it('draws only what changed, and the replayed output equals the frame', () => {
    const term = new FakeTerminal(20, 3);
    const r = new Renderer();
    const a = new Screen(20, 3);
    a.put(0, 0, 'hello 日本', BOLD);
    a.put(0, 2, 'status', fg(4));
    a.cursor = { x: 3, y: 1 };
    term.write(r.frame(a));
    assert.equal(term.text(), a.text());
    const b = new Screen(20, 3);
    b.put(0, 0, 'hello 日本', BOLD);
    b.put(0, 2, 'statue', fg(4));
    b.cursor = { x: 3, y: 1 };
    const out = r.frame(b);
    assert.ok(out.length < 60, `small diff: ${JSON.stringify(out)}`);
    assert.match(out, /e/);
    assert.doesNotMatch(out, /hello/);
    term.write(out);
    assert.equal(term.text(), b.text());
    assert.deepEqual([term.cursor.x, term.cursor.y], [3, 1]);
    assert.equal(r.frame(b), '', 'nothing changed, nothing written');
  });

  it('replays any sequence of random frames exactly (property)', () => {
    const alphabet = ['a', 'b', ' ', '日', 'é', '👍', 'x', '\u0301'];
    const frameArb = fc.array(
      fc.record({
        x: fc.integer({ min: 0, max: 11 }),
        y: fc.integer({ min: 0, max: 3 }),
        text: fc.array(fc.constantFrom(...alphabet), { maxLength: 6 }).map((a) => a.join('')),
        style: fc.constantFrom(0, BOLD, fg(3), fg(200) | BOLD),
      }),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 5 }), (frames) => {
        const term = new FakeTerminal(12, 4);
        const r = new Renderer();
        for (const puts of frames) {
          const s = new Screen(12, 4);
          for (const p of puts) s.put(p.x, p.y, p.text, p.style);
          term.write(r.frame(s));
          assert.equal(term.text(), s.text());
          for (let y = 0; y < 4; y++) {
            for (let x = 0; x < 12; x++) {
              if (s.chars[y * 12 + x] === '') continue;
              const want = s.styles[y * 12 + x]!;
              const got = term.sgr[y]![x]!;
              if (want === 0) assert.ok(got === '0' || got === '', `plain at ${x},${y}: ${got}`);
              else if (want & BOLD) assert.match(got, /(^|;)1(;|$)/);
            }
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('layout pieces', () => {
  it('wraps at spaces, indents continuation lines, breaks long words', () => {
    const lines = wrap([{ text: '10:30 hello wonderful world', style: 0 }], 20, 6);
    assert.deepEqual(
      lines.map((l) => l.map((s) => s.text).join('')),
      ['10:30 hello ', '      wonderful ', '      world'],
    );
    const long = wrap([{ text: 'x'.repeat(30), style: 0 }], 10, 0);
    assert.deepEqual(
      long.map((l) => l.map((s) => s.text).join('')),
      ['xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxxxxxxx'],
    );
  });

  it('renders XEP-0393 styling with the directives shown', () => {
    const segs = styledSegments('a *b* _c_ ~d~ `e`', 0);
    assert.equal(segs.map((s) => s.text).join(''), 'a *b* _c_ ~d~ `e`');
    const b = segs.find((s) => s.text === 'b');
    assert.ok(b && b.style & BOLD);
  });

  it('marks deliveries and edits on entries', () => {
    const e = entrySegments(
      {
        kind: 'message',
        at: new Date(2026, 0, 1, 9, 5),
        from: 'me',
        text: 'x',
        outgoing: true,
        delivery: 'received',
        edited: true,
      },
      false,
    );
    assert.equal(e.segs.map((s) => s.text).join(''), '09:05 <me> x (edited) ✓✓');
  });

  it('lays out a multi-line input with the cursor where it belongs', () => {
    const l = inputLayout('> ', 'ab\ncd', 4, 20);
    assert.deepEqual(l.rows, ['> ab', '  cd']);
    assert.deepEqual([l.cx, l.cy], [3, 1]);
    const wide = inputLayout('> ', '日本語', 2, 20);
    assert.equal(wide.cx, 2 + 4);
    const wrapped = inputLayout('> ', 'x'.repeat(25), 25, 10);
    assert.ok(wrapped.rows.length >= 3);
    assert.ok(wrapped.cx <= 10);
  });

  it('never writes escapes from the input line itself', () => {
    const l = inputLayout('> ', 'a\u001b[2Jb\u0007', 7, 20);
    assert.deepEqual(l.rows, ['> a[2Jb']);
  });
});

describe('XEP-0392 nick colour', () => {
  it('is stable and follows the hue of SHA-1 of the nick', () => {
    // XEP-0392 8.1 test vector: "Romeo" has the angle 327.255249°.
    assert.ok(Math.abs(hueAngle('Romeo') - 327.255249) < 0.001, String(hueAngle('Romeo')));
    assert.ok(Math.abs(hueAngle('juliet@capulet.lit') - 209.4104) < 0.001);
    assert.equal(nickColour('Romeo'), nickColour('Romeo'));
    const c = nickColour('Romeo');
    assert.ok(c >= 16 && c <= 231);
    assert.equal(rgbTo256(255, 0, 0), 196);
    assert.equal(rgbTo256(0, 0, 255), 21);
  });
});
