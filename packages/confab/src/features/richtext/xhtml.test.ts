// XEP-0071 v1.5.4: the spec's message examples read through the sanitizer, XHTML-IM generated from
// XEP-0393 markup (exact XML, and round trips through the wire), and app-given markup.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { xml } from '../../xml/element.ts';
import { parseXml } from '../../xml/parser.ts';
import { serialize } from '../../xml/serializer.ts';
import { NS_XHTML, safeToText, sanitizeXhtml } from './sanitize.ts';
import { parseStyling, toPlainText } from './styling.ts';
import {
  markupToXhtmlIm,
  NS_XHTML_IM,
  parseXhtmlIm,
  pickXhtmlBody,
  safeToXhtml,
  stylingToXhtmlBody,
  stylingToXhtmlIm,
} from './xhtml.ts';

const fixture = (name: string) =>
  parseXml(readFileSync(new URL(`./fixtures/xep0071-${name}.xml`, import.meta.url), 'utf8'));
const BODY = `<body xmlns='${NS_XHTML}'>`;

describe('XEP-0071 examples, received', () => {
  test('8.1 a simple example: style bold on a paragraph', () => {
    const [b] = parseXhtmlIm(fixture('simple'));
    assert.deepEqual(
      b?.nodes.filter((n) => n.type !== 'text'),
      [{ type: 'p', style: { 'font-weight': 'bold' }, children: [{ type: 'text', text: 'hi!' }] }],
    );
    assert.equal(safeToText(b!.nodes), 'hi!');
  });

  test('emphasis, font colors, strength (font-size is outside our CSS allow-list)', () => {
    const [b] = parseXhtmlIm(fixture('emphasis-colors'));
    assert.equal(safeToText(b!.nodes), "Wow, I'm green with envy!");
    const p = b!.nodes.find((n) => n.type === 'p');
    assert.ok(p && p.type === 'p');
    assert.equal(p.style, undefined);
    assert.deepEqual(
      p.children.filter((n) => n.type !== 'text'),
      [
        { type: 'em', style: undefined, children: [{ type: 'text', text: 'Wow' }] },
        { type: 'span', style: { color: 'green' }, children: [{ type: 'text', text: 'green' }] },
        { type: 'strong', style: undefined, children: [{ type: 'text', text: 'envy' }] },
      ],
    );
  });

  test('blockquote, cite', () => {
    const [b] = parseXhtmlIm(fixture('blockquote-cite'));
    assert.equal(
      safeToText(b!.nodes),
      'As Emerson said in his essay Self-Reliance:\n> "A foolish consistency is the hobgoblin of little minds."',
    );
  });

  test('an image and a hyperlink: image as alt text by default, kept on request', () => {
    const msg = fixture('image-link');
    const [b] = parseXhtmlIm(msg);
    assert.equal(
      safeToText(b!.nodes),
      'Hey, are you licensed to Jabber <http://www.jabber.org/>?\nA License to Jabber',
    );
    const [k] = parseXhtmlIm(msg, { images: 'keep' });
    const img = JSON.stringify(k!.nodes).includes(
      '"type":"img","src":"http://www.xmpp.org/images/psa-license.jpg"',
    );
    assert.ok(img);
  });

  test('two lists', () => {
    const [b] = parseXhtmlIm(fixture('lists'));
    assert.equal(
      safeToText(b!.nodes),
      "Here's my .plan for today:\n1. Add the following examples to XEP-0071:\n   - ordered and unordered lists\n" +
        '   - more styles (e.g., indentation)\n2. Kick back and relax',
    );
  });

  test('quoted text', () => {
    const [b] = parseXhtmlIm(fixture('quoted-text'));
    assert.equal(
      safeToText(b!.nodes),
      'You wrote:\n> I think we have consensus on the following:\n> 1. Remove <div/>\n> 2. Nesting is not recommended\n' +
        "> 3. Don't preserve whitespace\n> Yes, no, maybe?\nThat seems fine to me.",
    );
  });

  test('multiple bodies, picked by language', () => {
    const bodies = parseXhtmlIm(fixture('multiple-bodies'));
    assert.deepEqual(
      bodies.map((b) => [b.lang, safeToText(b.nodes)]),
      [
        ['en-US', 'awesome!'],
        ['de-DE', 'ausgezeichnet!'],
      ],
    );
    assert.equal(pickXhtmlBody(bodies, 'de')?.lang, 'de-DE');
    assert.equal(pickXhtmlBody(bodies, 'DE-de')?.lang, 'de-DE');
    assert.equal(pickXhtmlBody(bodies, 'fr')?.lang, 'en-US');
    assert.equal(pickXhtmlBody([], 'fr'), undefined);
  });

  test('unrecognized elements and attributes: acronym unwrapped, ol type/start ignored', () => {
    const [b] = parseXhtmlIm(fixture('unrecognized'));
    const text = safeToText(b!.nodes);
    assert.match(
      text,
      /^The XHTML user agent conformance requirements say to ignore elements and attributes you don't understand, to wit:\n1\. If a user agent/,
    );
    assert.ok(!JSON.stringify(b!.nodes).includes('acronym') && !JSON.stringify(b!.nodes).includes('start'));
  });

  test('no <html/>, or bodies outside the XHTML namespace: nothing', () => {
    assert.deepEqual(parseXhtmlIm(parseXml("<message xmlns='jabber:client'><body>x</body></message>")), []);
    const wrong = parseXml(
      `<message xmlns='jabber:client'><html xmlns='${NS_XHTML_IM}'><body>x</body></html></message>`,
    );
    assert.deepEqual(parseXhtmlIm(wrong), []);
  });

  test('security test (issue 4): a message with script, handlers and javascript: links shows only its text', () => {
    const msg = parseXml(
      `<message xmlns='jabber:client' from='mallory@evil.example/x' type='chat'><body>click</body>` +
        `<html xmlns='${NS_XHTML_IM}'><body xmlns='${NS_XHTML}' onload='steal()'>` +
        `<script>steal()</script><p onclick='steal()' style='background:url(javascript:steal())'>` +
        `<a href='javascript:steal()' onmouseover='steal()'>click</a><img src='https://evil.example/t.gif' onerror='steal()' alt=''/>` +
        `</p></body></html></message>`,
    );
    const [b] = parseXhtmlIm(msg);
    assert.deepEqual(b!.nodes, [
      { type: 'p', style: undefined, children: [{ type: 'text', text: 'click' }] },
    ]);
    // And the genuine one works.
    const good = parseXml(
      `<message xmlns='jabber:client'><body>click</body><html xmlns='${NS_XHTML_IM}'><body xmlns='${NS_XHTML}'>` +
        `<p><a href='https://xmpp.org/'>click</a></p></body></html></message>`,
    );
    assert.deepEqual(parseXhtmlIm(good)[0]!.nodes, [
      {
        type: 'p',
        style: undefined,
        children: [
          {
            type: 'a',
            href: 'https://xmpp.org/',
            style: undefined,
            children: [{ type: 'text', text: 'click' }],
          },
        ],
      },
    ]);
  });
});

describe('XHTML-IM generated from XEP-0393 markup', () => {
  test('spans, line breaks, strike as span style (no <del> in XEP-0071), code', () => {
    assert.equal(
      serialize(stylingToXhtmlIm('*bold* _italic_ `code` ~gone~\nnext line')),
      `<html xmlns='${NS_XHTML_IM}'>${BODY}<strong>bold</strong> <em>italic</em> <code>code</code> ` +
        `<span style='text-decoration: line-through'>gone</span><br/>next line</body></html>`,
    );
  });

  test('quotes and pre blocks; significant whitespace as NO-BREAK SPACE', () => {
    assert.equal(
      serialize(
        stylingToXhtmlBody('> quoted *b*\n> more\n```js\n  x = *1*\n```\n  two  spaces', { lang: 'en' }),
      ),
      `<body xmlns='${NS_XHTML}' xml:lang='en'><blockquote>quoted <strong>b</strong><br/>more</blockquote>` +
        `<pre>  x = *1*</pre>\u00a0\u00a0two\u00a0 spaces</body>`,
    );
  });

  test('text is escaped by the serializer, never markup', () => {
    const s = serialize(stylingToXhtmlIm("<script>alert('x')</script> *&*"));
    assert.equal(
      s,
      `<html xmlns='${NS_XHTML_IM}'>${BODY}&lt;script&gt;alert('x')&lt;/script&gt; <strong>&amp;</strong></body></html>`,
    );
  });

  test('round trip over the wire: the receiver sees the same text as the plain form', () => {
    const text = 'Hi *there*, _see_ `this`\n> a quote\n> > nested ~no~\nlast';
    const wire = serialize(
      xml('message', { xmlns: 'jabber:client' }, xml('body', null, text), stylingToXhtmlIm(text)),
    );
    const [b] = parseXhtmlIm(parseXml(wire));
    assert.equal(safeToText(b!.nodes), toPlainText(parseStyling(text)));
  });

  test('property: generated XHTML is inside the safe subset (the sanitizer leaves it unchanged)', () => {
    const alphabet = fc.constantFrom('*', '_', '~', '`', '>', ' ', '\n', 'a', 'b', '```', '<', '&', 'é');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 60 }), (chars) => {
        const body = stylingToXhtmlBody(chars.join(''));
        const wire = serialize(body);
        const reparsed = parseXml(wire);
        const again = serialize(xml('body', { xmlns: NS_XHTML }, safeToXhtml(sanitizeXhtml(reparsed))));
        assert.equal(again, wire);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('XHTML-IM from app-given markup (--xhtml)', () => {
  test('a fragment: legacy tags mapped, handlers and scripts removed', () => {
    const el = markupToXhtmlIm(
      "Read <a href='https://xmpp.org/' onclick='x()'>this</a>, <b>now</b><script>x()</script> <font color='red'>r</font>",
    );
    assert.equal(
      serialize(el),
      `<html xmlns='${NS_XHTML_IM}'>${BODY}Read <a href='https://xmpp.org/'>this</a>, <strong>now</strong> ` +
        `<span style='color: red'>r</span></body></html>`,
    );
  });

  test('a whole <body/> or <html/> is accepted; its language kept', () => {
    const b = markupToXhtmlIm(`<body xmlns='${NS_XHTML}' xml:lang='de'><p>Hallo</p></body>`);
    assert.equal(
      serialize(b),
      `<html xmlns='${NS_XHTML_IM}'><body xmlns='${NS_XHTML}' xml:lang='de'><p>Hallo</p></body></html>`,
    );
    const h = markupToXhtmlIm(
      `<html xmlns='${NS_XHTML_IM}'><body xmlns='${NS_XHTML}' xml:lang='en'><em>a</em></body><body xmlns='${NS_XHTML}' xml:lang='de'><em>b</em></body></html>`,
    );
    assert.deepEqual(
      h
        .getChildren('body', NS_XHTML)
        .map((x) => [x.attrs['xml:lang'], serialize(x.getChild('em')!, NS_XHTML)]),
      [
        ['en', '<em>a</em>'],
        ['de', '<em>b</em>'],
      ],
    );
  });

  test('images the sender chose are kept (http/https only); bad markup is ERR_BAD_INPUT', () => {
    assert.equal(
      serialize(
        markupToXhtmlIm(
          "<img src='https://x.example/a.png' alt='a' onerror='x'/><img src='data:x' alt='d'/>",
        ),
      ),
      `<html xmlns='${NS_XHTML_IM}'>${BODY}<img src='https://x.example/a.png' alt='a'/>d</body></html>`,
    );
    assert.throws(() => markupToXhtmlIm('<b>unclosed'), { code: 'ERR_BAD_INPUT' });
    assert.throws(() => markupToXhtmlIm('</confab-markup><script>x</script><confab-markup>'), {
      code: 'ERR_BAD_INPUT',
    });
    assert.throws(() => markupToXhtmlIm('<!-- c --><b>x</b>'), { code: 'ERR_BAD_INPUT' });
  });
});
