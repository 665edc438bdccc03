// XEP-0393 v1.1.1: every example of the XEP (the body examples as fixtures, the inline lists of
// section 6.2 and 6.2.5 as cases), the parsing rules one by one, the lossless round trip and the
// renderers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseXml } from '../../xml/parser.ts';
import {
  hasStyling,
  isUnstyled,
  NS_STYLING,
  parseLine,
  parseStyling,
  renderStyled,
  type StyledBlock,
  type StyledSpan,
  toMarkup,
  toPlainText,
  unstyledElement,
} from './styling.ts';

const fixture = (name: string) =>
  parseXml(readFileSync(new URL(`./fixtures/xep0393-${name}.xml`, import.meta.url), 'utf8'));
const body = (name: string) => fixture(name).getChildText('body')!;

// Short builders for expected trees.
const p = (text: string): StyledSpan => ({ type: 'plain', text });
const strong = (...children: StyledSpan[]): StyledSpan => ({ type: 'strong', children });
const em = (...children: StyledSpan[]): StyledSpan => ({ type: 'emphasis', children });
const strike = (...children: StyledSpan[]): StyledSpan => ({ type: 'strike', children });
const pre = (text: string): StyledSpan => ({ type: 'pre', text });
const line = (...spans: StyledSpan[]): StyledBlock => ({ type: 'line', spans });
const plainLine = (text: string): StyledBlock => line(p(text));

describe('XEP-0393 body examples (fixtures)', () => {
  test('6.1.1 plain blocks: one per line, a span cannot escape its line', () => {
    assert.deepEqual(parseStyling(body('plain-blocks')), [
      plainLine('There are three blocks in this body, one per line,'),
      plainLine('but there is no *formatting'),
      plainLine('as spans* may not escape blocks.'),
    ]);
  });

  test('6.1.2 preformatted block with info string, closed', () => {
    assert.deepEqual(parseStyling(body('pre-block')), [
      { type: 'pre', info: 'ignored', lines: ['(println "Hello, world!")'], closed: true },
      line(),
      plainLine('This should show up as monospace, preformatted text ⤴'),
    ]);
  });

  test('6.1.2 unclosed preformatted block ends with its parent quote', () => {
    assert.deepEqual(parseStyling(body('pre-unclosed')), [
      {
        type: 'quote',
        markers: ['> ', '> '],
        children: [{ type: 'pre', info: '', lines: ['(println "Hello, world!")'], closed: false }],
      },
      line(),
      plainLine('The entire blockquote is a preformatted text block, but this line'),
      plainLine('is plaintext!'),
    ]);
  });

  test('6.1.3 quotation', () => {
    assert.deepEqual(parseStyling(body('quote')), [
      { type: 'quote', markers: ['> '], children: [plainLine('That that is, is.')] },
      line(),
      plainLine('Said the old hermit of Prague.'),
    ]);
  });

  test('6.1.3 nested quotation', () => {
    assert.deepEqual(parseStyling(body('quote-nested')), [
      {
        type: 'quote',
        markers: ['>', '> '],
        children: [
          { type: 'quote', markers: ['> '], children: [plainLine('That that is, is.')] },
          plainLine('Said the old hermit of Prague.'),
        ],
      },
      line(),
      plainLine('Who?'),
    ]);
  });

  test('6.2.1 plain', () => {
    assert.deepEqual(parseStyling(body('span-plain')), [
      line(p('Two spans, both '), strong(p('alike in dignity'))),
    ]);
  });

  test('6.2.2 emphasis', () => {
    assert.deepEqual(parseStyling(body('span-emphasis')), [
      line(p('The full title is '), em(p('Twelfth Night, or What You Will')), p(' but')),
      line(em(p('most')), p(' people shorten it.')),
    ]);
  });

  test('6.2.3 strong', () => {
    assert.deepEqual(parseStyling(body('span-strong')), [
      plainLine('The full title is "Twelfth Night, or What You Will" but'),
      line(strong(p('most')), p(' people shorten it.')),
    ]);
  });

  test('6.2.4 strike through', () => {
    assert.deepEqual(parseStyling(body('span-strike')), [
      line(p('Everyone '), strike(p('dis')), p('likes cake.')),
    ]);
  });

  test('6.2.5 preformatted span', () => {
    assert.deepEqual(parseStyling(body('span-pre')), [
      line(p('Wow, I can write in '), pre('monospace'), p('!')),
    ]);
  });

  test('7 disabling styling: <unstyled/> is found; the disco feature string', () => {
    const msg = fixture('unstyled');
    assert.equal(isUnstyled(msg), true);
    assert.equal(msg.getChildText('body'), '> _ <');
    assert.equal(isUnstyled(parseXml("<message xmlns='jabber:client'><body>x</body></message>")), false);
    assert.equal(unstyledElement().xmlns, NS_STYLING);
    assert.equal(NS_STYLING, 'urn:xmpp:styling:0');
  });
});

describe('XEP-0393 section 6.2 inline examples', () => {
  const styled: [string, StyledSpan[]][] = [
    ['plain span', [p('plain span')]],
    ['*strong span*', [strong(p('strong span'))]],
    ['plain _emphasis_ plain', [p('plain '), em(p('emphasis')), p(' plain')]],
    ['`pre` plain *strong*', [pre('pre'), p(' plain '), strong(p('strong'))]],
    ['*strong*plain*', [strong(p('strong')), p('plain*')]],
    ['* plain *strong*', [p('* plain '), strong(p('strong'))]],
    // 6.2.5
    ['This is `monospace`', [p('This is '), pre('monospace')]],
    ['This is `*monospace*`', [p('This is '), pre('*monospace*')]],
    ['This is *`monospace and bold`*', [p('This is '), strong(pre('monospace and bold'))]],
  ];
  for (const [input, spans] of styled) {
    test(`styled: ${JSON.stringify(input)}`, () => assert.deepEqual(parseLine(input), spans));
  }

  const unstyled = ['not strong*', '*not strong', '*not *strong', '**', '***', '****'];
  for (const input of unstyled) {
    test(`nothing styled: ${JSON.stringify(input)}`, () => assert.deepEqual(parseLine(input), [p(input)]));
  }

  test('nothing styled: "*not \\n strong*" (spans do not cross lines)', () => {
    assert.deepEqual(parseStyling('*not \n strong*'), [plainLine('*not '), plainLine(' strong*')]);
  });
});

describe('XEP-0393 span rules, one at a time', () => {
  test('an opener must not be followed by whitespace, a closer not preceded by it', () => {
    assert.deepEqual(parseLine('a * b * c'), [p('a * b * c')]);
    assert.deepEqual(parseLine('_a _b_'), [em(p('a _b'))]);
    assert.deepEqual(
      parseLine('x\u00a0*y*'),
      [p('x\u00a0'), strong(p('y'))],
      'NO-BREAK SPACE is whitespace (Z)',
    );
    assert.deepEqual(parseLine('*\u2003x*'), [p('*\u2003x*')], 'EM SPACE is whitespace');
  });

  test('an opener stands at the start, after whitespace, or after a different opener only', () => {
    assert.deepEqual(parseLine('a*b*'), [p('a*b*')], 'not after a letter');
    assert.deepEqual(parseLine('*a*_b_'), [strong(p('a')), p('_b_')], 'not after a closing directive');
    assert.deepEqual(parseLine('*_both_*'), [strong(em(p('both')))]);
    assert.deepEqual(parseLine('~*_`all`_*~'), [strike(strong(em(pre('all'))))]);
  });

  test('spans do not overlap; the outer closer wins, an inner unmatched opener stays text', () => {
    assert.deepEqual(parseLine('*this cannot _overlap*_'), [strong(p('this cannot _overlap')), p('_')]);
  });

  test('pre spans hold plain text only', () => {
    assert.deepEqual(parseLine('_no pre `with *children*`_'), [em(p('no pre '), pre('with *children*'))]);
  });

  test('lazy matching: the first valid closer closes', () => {
    assert.deepEqual(parseLine('*a *b* c*'), [strong(p('a *b')), p(' c*')]);
  });

  test('blocks: ``` must begin the line; the closing line is exactly ```; quotes trim one space', () => {
    assert.deepEqual(parseStyling(' ```x'), [plainLine(' ```x')]);
    assert.deepEqual(parseStyling('```\na\n``` \nb'), [
      { type: 'pre', info: '', lines: ['a', '``` ', 'b'], closed: false },
    ]);
    assert.deepEqual(parseStyling('>  two'), [
      { type: 'quote', markers: ['> '], children: [plainLine(' two')] },
    ]);
    assert.deepEqual(parseStyling('>x'), [{ type: 'quote', markers: ['>'], children: [plainLine('x')] }]);
    assert.deepEqual(parseStyling(''), [line()]);
  });

  test('quote depth is bounded: 10,000 ">" parse without recursion trouble', () => {
    const deep = '>'.repeat(10_000) + ' deep';
    const doc = parseStyling(deep);
    assert.equal(toMarkup(doc), deep);
    let depth = 0;
    let b: StyledBlock | undefined = doc[0];
    while (b?.type === 'quote') {
      depth++;
      b = b.children[0];
    }
    assert.equal(depth, 16);
    assert.equal(parseStyling('>>>x', { maxQuoteDepth: 1 })[0]!.type, 'quote');
  });

  test('a long line of unmatched directives stays fast (no quadratic scan)', () => {
    const hostile = '*a '.repeat(100_000) + '_b '.repeat(50_000);
    const t0 = performance.now();
    const doc = parseStyling(hostile);
    const ms = performance.now() - t0;
    assert.deepEqual(doc, [plainLine(hostile)]);
    assert.ok(ms < 1500, `took ${ms} ms`);
  });
});

describe('round trip and invariants (fast-check)', () => {
  const alphabet = fc.constantFrom('*', '_', '~', '`', '>', ' ', '\n', 'a', 'b', '\u00a0', '```', '\t');
  const markup = fc.array(alphabet, { maxLength: 80 }).map((a) => a.join(''));

  test('toMarkup(parseStyling(s)) === s for any s', () => {
    fc.assert(
      fc.property(markup, (s) => toMarkup(parseStyling(s)) === s),
      { numRuns: 2000 },
    );
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => toMarkup(parseStyling(s)) === s));
  });

  test('every styled span has content that neither starts nor ends with whitespace, and no line break', () => {
    const ws = /[\p{White_Space}\p{Z}]/u;
    const check = (spans: readonly StyledSpan[]): void => {
      for (const sp of spans) {
        if (sp.type === 'plain') continue;
        const inner = sp.type === 'pre' ? sp.text : toMarkup([{ type: 'line', spans: sp.children }]);
        assert.ok(inner.length > 0, 'empty span');
        assert.ok(!ws.test(inner[0]!) && !ws.test(inner[inner.length - 1]!), `whitespace at edge: ${inner}`);
        assert.ok(!inner.includes('\n'));
        if (sp.type !== 'pre') check(sp.children);
      }
    };
    const walk = (blocks: readonly StyledBlock[]): void => {
      for (const b of blocks) {
        if (b.type === 'line') check(b.spans);
        else if (b.type === 'quote') walk(b.children);
      }
    };
    fc.assert(
      fc.property(markup, (s) => {
        walk(parseStyling(s));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('rendering', () => {
  const doc = parseStyling('Hi *you* _x_ ~y~ `z`\n> quoted *b*\n```js\ncode *no*\n```');

  test('renderStyled with ANSI callbacks keeps the directives inside the styling (section 8)', () => {
    const out = renderStyled(doc, {
      strong: (s) => `\x1b[1m${s}\x1b[22m`,
      emphasis: (s) => `\x1b[3m${s}\x1b[23m`,
      strike: (s) => `\x1b[9m${s}\x1b[29m`,
      pre: (s) => `\x1b[2m${s}\x1b[22m`,
      preBlock: (s) => `[${s}]`,
      quote: (s) => `| ${s}`,
    });
    assert.equal(
      out,
      'Hi \x1b[1m*you*\x1b[22m \x1b[3m_x_\x1b[23m \x1b[9m~y~\x1b[29m \x1b[2m`z`\x1b[22m\n' +
        '| quoted \x1b[1m*b*\x1b[22m\n[```js\ncode *no*\n```]',
    );
  });

  test('without directives; the default quote prefix; plain-text form', () => {
    assert.equal(
      renderStyled(doc, { directives: false, strong: (s) => s.toUpperCase() }),
      'Hi YOU x y z\n> quoted B\ncode *no*',
    );
    assert.equal(toPlainText(doc), 'Hi you x y z\n> quoted b\ncode *no*');
    assert.equal(renderStyled(parseStyling('>x\n>> y')), '> x\n> > y');
  });

  test('hasStyling', () => {
    assert.equal(hasStyling(parseStyling('plain * text')), false);
    assert.equal(hasStyling(parseStyling('a *b*')), true);
    assert.equal(hasStyling(parseStyling('> q')), true);
  });
});
