// XEP-0071 v1.5.4 section 11 (inbound XHTML-IM is hostile): a corpus of known attacks, the legacy
// mappings the seed asks for, the limits, and a fast-check property over random trees: whatever comes
// in, only allow-listed elements, attributes, CSS and link schemes come out.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Element, xml } from '../../xml/element.ts';
import { parseXml } from '../../xml/parser.ts';
import {
  LINK_SCHEMES,
  NS_XHTML,
  type SafeNode,
  type SanitizeOptions,
  safeStyle,
  safeToHtml,
  safeToText,
  safeUrl,
  sanitizeXhtml,
  styleText,
} from './sanitize.ts';

const body = (inner: string) => parseXml(`<body xmlns='${NS_XHTML}'>${inner}</body>`);
const clean = (inner: string, options?: SanitizeOptions) => sanitizeXhtml(body(inner), options);
const text = (t: string): SafeNode => ({ type: 'text', text: t });

const ALLOWED = new Set([
  'text',
  'br',
  'a',
  'img',
  'blockquote',
  'cite',
  'code',
  'em',
  'li',
  'ol',
  'p',
  'pre',
  'q',
  'span',
  'strong',
  'ul',
]);
const STYLE_KEYS = new Set(['color', 'background-color', 'font-style', 'font-weight', 'text-decoration']);

/** Every invariant of the safe tree; returns the depth and node count. */
function assertSafe(
  nodes: readonly SafeNode[],
  options: SanitizeOptions = {},
): { depth: number; count: number } {
  let count = 0;
  let maxDepth = 0;
  const walk = (list: readonly SafeNode[], depth: number): void => {
    maxDepth = Math.max(maxDepth, depth);
    for (const n of list) {
      count++;
      assert.ok(ALLOWED.has(n.type), `element ${n.type}`);
      const keys = Object.keys(n).filter((k) => (n as unknown as Record<string, unknown>)[k] !== undefined);
      const allowedKeys =
        n.type === 'text'
          ? ['type', 'text']
          : n.type === 'br'
            ? ['type']
            : n.type === 'a'
              ? ['type', 'href', 'style', 'children']
              : n.type === 'img'
                ? ['type', 'src', 'alt', 'width', 'height']
                : ['type', 'style', 'children'];
      for (const k of keys) assert.ok(allowedKeys.includes(k), `attribute ${k} on ${n.type}`);
      if (n.type === 'a') {
        const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(n.href)?.[1]?.toLowerCase();
        assert.ok(scheme !== undefined && LINK_SCHEMES.has(scheme), `href ${n.href}`);
        assert.ok(
          !/[\u0000-\u0020\u007f-\u009f]/.test(n.href),
          `href has controls: ${JSON.stringify(n.href)}`,
        );
      }
      if (n.type === 'img') {
        assert.equal(options.images, 'keep', 'an image survived with images: alt');
        assert.match(n.src, /^https?:/i);
      }
      if ('style' in n && n.style !== undefined) {
        for (const k of Object.keys(n.style)) assert.ok(STYLE_KEYS.has(k), `css ${k}`);
        const css = styleText(n.style);
        assert.doesNotMatch(css, /url|expression|\\|\/\*|[<>"'&@]/i);
        assert.deepEqual(safeStyle(css), n.style, 'style is a fixed point of the CSS filter');
      }
      if ('children' in n) walk(n.children, depth + 1);
    }
  };
  walk(nodes, 0);
  return { depth: maxDepth, count };
}

/** A strict tokenizer for safeToHtml output: only allow-listed tags and attributes, all quoted. */
function assertSafeHtml(html: string): void {
  const tag =
    /<(\/?)(a|blockquote|br|cite|code|em|img|li|ol|p|pre|q|span|strong|ul)((?: (?:href|src|alt|width|height|style|rel|referrerpolicy)="[^"<>]*")*)>/y;
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    const chunk = lt === -1 ? html.slice(i) : html.slice(i, lt);
    assert.doesNotMatch(chunk, /[<>"']|&(?!amp;|lt;|gt;|quot;|#39;)/, `unescaped text: ${chunk}`);
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(html);
    assert.ok(m, `bad tag at ${lt}: ${html.slice(lt, lt + 60)}`);
    const href = /href="([^"]*)"/.exec(m[3]!)?.[1];
    if (href !== undefined) assert.match(href.replace(/&amp;/g, '&'), /^(?:https?|xmpp|mailto):/i);
    i = tag.lastIndex;
  }
}

describe('hostile XHTML-IM corpus', () => {
  test('script elements are dropped with their content, whatever their case or prefix', () => {
    assert.deepEqual(clean('<script>alert(1)</script>hi'), [text('hi')]);
    assert.deepEqual(clean('<SCRIPT>alert(1)</SCRIPT><ScRiPt>x</ScRiPt>ok'), [text('ok')]);
    assert.deepEqual(clean(`<h:script xmlns:h='${NS_XHTML}'>alert(1)</h:script>ok`), [text('ok')]);
    assert.deepEqual(clean("<script xmlns='urn:other'>alert(1)</script>ok"), [text('ok')]);
  });

  test('event handlers and every other attribute are gone', () => {
    assert.deepEqual(clean("<img src='x' onerror='alert(1)'/>"), []);
    assert.deepEqual(clean("<p onclick='x()' onmouseover='y()' class='c' id='i' title='t'>t</p>"), [
      { type: 'p', style: undefined, children: [text('t')] },
    ]);
    assert.deepEqual(
      clean("<a href='https://ok.example/' onclick='x()' target='_blank' rel='opener'>t</a>"),
      [{ type: 'a', href: 'https://ok.example/', style: undefined, children: [text('t')] }],
    );
    assert.deepEqual(clean("<body onload='alert(1)'>in</body>"), [text('in')]);
  });

  const badLinks = [
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'java&#9;script:alert(1)',
    'java&#10;script:alert(1)',
    'java&#13;script:alert(1)',
    '&#x6A;avascript:alert(1)',
    '&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)',
    ' javascript:alert(1)',
    '&#1;javascript:alert(1)'.replace('&#1;', '&#x20;'),
    'javascript&#58;alert(1)',
    'javascript\u00adx:alert(1)',
    'java\u200bscript:alert(1)',
    'javascript\uff1aalert(1)',
    'vbscript:msgbox(1)',
    'VBScript:msgbox(1)',
    'livescript:x',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'DATA:text/html,x',
    'file:///etc/passwd',
    '//evil.example/',
    '/relative',
    'https://ok.example/with space',
    'https://ok.example/\u2028',
    '',
  ];
  for (const href of badLinks) {
    test(`link refused, text kept: ${JSON.stringify(href)}`, () => {
      assert.deepEqual(clean(`<a href='${href}'>click</a>`), [text('click')]);
    });
  }

  test('good links survive, case-insensitive scheme, ends trimmed', () => {
    for (const href of [
      'http://a.example/',
      'HTTPS://a.example/x?y=1&amp;z=2',
      'xmpp:romeo@montague.lit?message',
      'mailto:a@b.example',
    ]) {
      const [a] = clean(`<a href='${href}'>t</a>`);
      assert.equal(a?.type, 'a');
    }
    assert.deepEqual(clean("<a href='  https://a.example/\n'>t</a>")[0], {
      type: 'a',
      href: 'https://a.example/',
      style: undefined,
      children: [text('t')],
    });
    assert.equal(safeUrl('java\tscript:x'), undefined);
  });

  test('svg and math are dropped whole, with their handlers, links and scripts', () => {
    assert.deepEqual(clean("<svg onload='alert(1)'><a href='https://x.example/'>t</a></svg>ok"), [
      text('ok'),
    ]);
    assert.deepEqual(
      clean(
        "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script><foreignObject><p>x</p></foreignObject></svg>ok",
      ),
      [text('ok')],
    );
    assert.deepEqual(
      clean("<math><mi xlink:href='javascript:x' xmlns:xlink='http://www.w3.org/1999/xlink'>x</mi></math>ok"),
      [text('ok')],
    );
  });

  test('style attributes: only the CSS allow-list, no url(), expression(), escapes or comments', () => {
    const styleOf = (style: string) =>
      (clean(`<span style='${style}'>t</span>`)[0] as { style?: unknown }).style;
    assert.equal(styleOf('background: url(javascript:alert(1))'), undefined);
    assert.equal(styleOf('background-color: url(x)'), undefined);
    assert.equal(styleOf('color: expression(alert(1))'), undefined);
    assert.equal(styleOf('color: re\\64'), undefined);
    assert.equal(styleOf('c\\olor: red'), undefined);
    assert.equal(styleOf('color:/**/red'), undefined);
    assert.equal(styleOf('behavior: url(x.htc); -moz-binding: url(x)'), undefined);
    assert.equal(styleOf('position: fixed; top: 0; width: 100%'), undefined);
    assert.equal(styleOf('color: rgb(1,2,3) !important'), undefined);
    assert.deepEqual(styleOf('color: Red; position: fixed; background-image: url(x); font-weight: bold'), {
      color: 'red',
      'font-weight': 'bold',
    });
    assert.deepEqual(styleOf('text-decoration: underline line-through; color: #0f0'), {
      'text-decoration': 'underline line-through',
      color: '#0f0',
    });
    assert.deepEqual(clean('<style>* { background: url(//evil) }</style>ok'), [text('ok')]);
  });

  test('embedded documents, forms and metadata are dropped with their content', () => {
    const corpus =
      "<iframe src='https://evil.example/'>fallback</iframe><object data='x.swf'><param name='a' value='b'/>o</object>" +
      "<embed src='x.swf'/><applet code='x'>ap</applet><form action='https://evil.example/'><input name='pw'/>" +
      '<button>b</button><textarea>t</textarea><select><option>o</option></select></form>' +
      "<meta http-equiv='refresh' content='0;url=https://evil.example/'/><link rel='stylesheet' href='https://evil.example/x.css'/>" +
      "<base href='https://evil.example/'/><head><title>T</title></head><noscript>n</noscript><template>t</template>" +
      "<video src='https://evil.example/v'>v</video><audio src='a'>a</audio>ok";
    assert.deepEqual(clean(corpus), [text('ok')]);
  });

  test('images are alt text by default (tracking pixels); kept only http/https with images: keep', () => {
    assert.deepEqual(clean("<img src='https://tracker.example/p.gif' alt='' width='1' height='1'/>"), []);
    assert.deepEqual(clean("<p><img src='https://x.example/i.png' alt='A cat'/></p>"), [
      { type: 'p', style: undefined, children: [text('A cat')] },
    ]);
    assert.deepEqual(
      clean("<img src='https://x.example/i.png' alt='A cat' width='20' height='x' style='border:1px'/>", {
        images: 'keep',
      }),
      [{ type: 'img', src: 'https://x.example/i.png', alt: 'A cat', width: 20, height: undefined }],
    );
    for (const src of [
      'data:image/png;base64,AAAA',
      'javascript:alert(1)',
      'cid:sha1+x@bob.xmpp.org',
      '//x.example/i.png',
    ]) {
      assert.deepEqual(clean(`<img src='${src}' alt='alt'/>`, { images: 'keep' }), [text('alt')], src);
    }
  });

  test('nested <font> abuse: colors checked, faces and sizes ignored, handlers gone', () => {
    const nodes = clean(
      "<font color='red'><font color='javascript:alert(1)' onmouseover='x()'><font face='Comic Sans' size='+7' style='position:fixed'>t</font></font></font>",
    );
    assert.deepEqual(nodes, [{ type: 'span', style: { color: 'red' }, children: [text('t')] }]);
  });

  test('10,000-deep nesting built by hand: bounded depth, text kept, no script, no recursion error', () => {
    // Built with explicit namespaces: xml()'s namespace inheritance recurses, which a 10,000-deep
    // tree would overflow before the sanitizer ever saw it.
    const el = (name: string, attrs: Record<string, string>, ...children: (Element | string)[]) =>
      new Element(name, NS_XHTML, attrs, children);
    let inner = el(
      'b',
      {},
      'bottom',
      el('script', {}, 'alert(1)'),
      el('img', { src: 'https://x/', onerror: 'x' }),
    );
    for (let k = 0; k < 10_000; k++)
      inner = el(k % 2 ? 'span' : 'font', { color: 'red', onclick: 'x' }, inner);
    const nodes = sanitizeXhtml(el('body', {}, inner));
    const { depth } = assertSafe(nodes);
    assert.ok(depth <= 33, `depth ${depth}`);
    assert.equal(safeToText(nodes), 'bottom');
    assert.ok(!safeToHtml(nodes).includes('alert'));
  });

  test('the XML parser itself refuses deep nesting from the wire (its maxDepth)', () => {
    const deep = '<b>'.repeat(100) + 'x' + '</b>'.repeat(100);
    assert.throws(() => body(deep), { code: 'ERR_XML_LIMIT' });
  });

  test('huge attributes and texts are cut down', () => {
    const huge = 'https://x.example/' + 'a'.repeat(1_000_000);
    assert.deepEqual(sanitizeXhtml(xml('body', { xmlns: NS_XHTML }, xml('a', { href: huge }, 't'))), [
      text('t'),
    ]);
    const style = 'color: red;' + ' '.repeat(1_000_000);
    assert.deepEqual(sanitizeXhtml(xml('body', { xmlns: NS_XHTML }, xml('span', { style }, 't'))), [
      text('t'),
    ]);
    const alt = 'x'.repeat(100_000);
    const [img] = sanitizeXhtml(xml('body', { xmlns: NS_XHTML }, xml('img', { src: 'https://x/', alt })));
    assert.equal((img as { text: string }).text.length, 1024);
    const many = xml(
      'body',
      { xmlns: NS_XHTML },
      Array.from({ length: 50_000 }, (_, k) => xml('em', null, String(k))),
    );
    assert.ok(assertSafe(sanitizeXhtml(many)).count <= 2000 * 2);
    assert.equal(sanitizeXhtml(many, { maxNodes: 10 }).length, 5);
    const long = sanitizeXhtml(xml('body', { xmlns: NS_XHTML }, 'y'.repeat(200_000)));
    assert.equal((long[0] as { text: string }).text.length, 65_536);
  });

  test('unknown elements are unwrapped (XHTML Modularization 3.5), foreign ones never become links', () => {
    assert.deepEqual(clean('<acronym>XHTML</acronym> <blink>b</blink><custom-el>c</custom-el>'), [
      text('XHTML c'),
    ]);
    assert.deepEqual(clean("<a xmlns='urn:evil' href='https://x.example/'>t</a>"), [text('t')]);
    assert.deepEqual(clean("<a href='https://a.example/'><a href='https://b.example/'>x</a></a>"), [
      { type: 'a', href: 'https://a.example/', style: undefined, children: [text('x')] },
    ]);
  });

  test('text that looks like markup stays text and is escaped in HTML output', () => {
    const nodes = clean('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    assert.deepEqual(nodes, [text('<script>alert("x")</script> & more')]);
    assert.equal(safeToHtml(nodes), '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    assertSafeHtml(safeToHtml(nodes));
  });
});

describe('legacy markup (seed section 6: old <b>, <i>, <font> recognised)', () => {
  test('b, i, u, s, strike, font color map to their safe equivalents', () => {
    assert.deepEqual(
      clean("<b>B</b><i>I</i><u>U</u><s>S</s><strike>K</strike><font color='#ff0000'>F</font><tt>T</tt>"),
      [
        { type: 'strong', style: undefined, children: [text('B')] },
        { type: 'em', style: undefined, children: [text('I')] },
        { type: 'span', style: { 'text-decoration': 'underline' }, children: [text('U')] },
        { type: 'span', style: { 'text-decoration': 'line-through' }, children: [text('S')] },
        { type: 'span', style: { 'text-decoration': 'line-through' }, children: [text('K')] },
        { type: 'span', style: { color: '#ff0000' }, children: [text('F')] },
        { type: 'code', style: undefined, children: [text('T')] },
      ],
    );
    assert.deepEqual(clean("<B>x</B><FONT COLOR='red'>y</FONT>")[0], {
      type: 'strong',
      style: undefined,
      children: [text('x')],
    });
  });
});

describe('renderers', () => {
  test('plain text: whitespace collapsed, blocks, quotes, lists, links shown when they differ', () => {
    const nodes = clean(
      "<p>Hey,   are you\n  licensed to <a href='http://www.jabber.org/'>Jabber</a>?</p><blockquote><p>q1</p><p>q2</p></blockquote>" +
        "<ol><li>one</li><li>two<ul><li>sub</li></ul></li></ol><pre>  keep\n  this</pre>a<br/>b <a href='mailto:x@y.example'>x@y.example</a>",
    );
    assert.equal(
      safeToText(nodes),
      'Hey, are you licensed to Jabber <http://www.jabber.org/>?\n> q1\n> q2\n1. one\n2. two\n   - sub\n  keep\n  this\na\nb x@y.example',
    );
    assert.equal(safeToText(nodes, { showLinks: false }).split('\n')[0], 'Hey, are you licensed to Jabber?');
  });

  test('HTML: escaped, allow-listed, links with rel, images with no-referrer', () => {
    const nodes = clean(
      "<p style='color: red'>a &amp; <a href='https://x.example/?a=1&amp;b=\"2\"'>l</a><img src='https://x.example/i.png' alt='&quot;&gt;'/></p>",
      { images: 'keep' },
    );
    const html = safeToHtml(nodes);
    assert.equal(
      html,
      '<p style="color: red">a &amp; <a href="https://x.example/?a=1&amp;b=&quot;2&quot;" rel="noopener noreferrer nofollow">l</a>' +
        '<img src="https://x.example/i.png" alt="&quot;&gt;" referrerpolicy="no-referrer"></p>',
    );
    assertSafeHtml(html);
  });
});

describe('property: any tree in, only the safe subset out (fast-check)', () => {
  const names = [
    'a',
    'blockquote',
    'br',
    'cite',
    'code',
    'em',
    'img',
    'li',
    'ol',
    'p',
    'pre',
    'q',
    'span',
    'strong',
    'ul',
    'b',
    'i',
    'u',
    'font',
    'div',
    'h1',
    'body',
    'html',
    'table',
    'td',
    'x-unknown',
    'script',
    'style',
    'iframe',
    'object',
    'embed',
    'form',
    'input',
    'svg',
    'math',
    'meta',
    'link',
    'base',
    'SCRIPT',
    'Svg',
  ];
  const namespaces = [NS_XHTML, NS_XHTML, NS_XHTML, '', 'http://www.w3.org/2000/svg', 'urn:x'];
  const attrNames = [
    'href',
    'src',
    'style',
    'alt',
    'width',
    'height',
    'color',
    'onclick',
    'onerror',
    'onload',
    'class',
    'id',
    'xml:base',
    'formaction',
    'srcdoc',
  ];
  const urlish = fc.oneof(
    fc.constantFrom(
      'https://ok.example/',
      'HTTP://ok.example/',
      'xmpp:a@b',
      'mailto:a@b',
      'javascript:alert(1)',
      'JAVASCRIPT:x',
      'java\tscript:x',
      ' javascript:x',
      'java\nscript:x',
      'vbscript:x',
      'data:text/html,x',
      'data:image/png;base64,AA',
      '//x',
      'cid:x',
      'https://a\u0000b',
      'javascript\u00a0:x',
      'ja\u200bvascript:x',
      'https://x/ y',
    ),
    fc.string({ maxLength: 12 }).map((s) => s + ':' + s),
    fc.string({ maxLength: 20 }),
  );
  const styleish = fc.oneof(
    fc.constantFrom(
      'color: red',
      'color: expression(alert(1))',
      'background: url(x)',
      'background-color: url(javascript:x)',
      'color: re\\64',
      'font-weight: bold; position: fixed',
      'text-decoration: underline',
      'color: rgb(1, 2, 3)',
      'color:/**/red',
      '-moz-binding: url(x)',
      'font-style: italic; color: #abc',
      'color: red; background-color: rgba(0,0,0,0.5)',
      'COLOR: RED',
    ),
    fc
      .array(
        fc.tuple(
          fc.constantFrom(
            'color',
            'background-color',
            'font-style',
            'font-weight',
            'text-decoration',
            'behavior',
            'x',
          ),
          fc.string({ maxLength: 12 }),
        ),
        { maxLength: 3 },
      )
      .map((ds) => ds.map(([k, v]) => `${k}: ${v}`).join('; ')),
  );
  const attrValue = fc.oneof(urlish, styleish, fc.string({ maxLength: 10 }));

  const tree = fc.letrec<{ node: Element | string; el: Element }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.string({ maxLength: 8 }).map((s) => s.replace(/SECRET/g, '')),
      tie('el'),
    ),
    el: fc
      .tuple(
        fc.constantFrom(...names),
        fc.constantFrom(...namespaces),
        fc.dictionary(fc.constantFrom(...attrNames), attrValue, { maxKeys: 4 }),
        fc.array(tie('node'), { maxLength: 4 }),
      )
      .map(([name, ns, attrs, children]) => {
        const el = new Element(name, ns, { ...attrs }, []);
        // Anything inside an element that must be dropped carries a marker that must never come out.
        const dropped = [
          'script',
          'style',
          'iframe',
          'object',
          'embed',
          'form',
          'input',
          'svg',
          'math',
          'meta',
          'link',
          'base',
        ].includes(name.toLowerCase());
        el.children = dropped ? [...children, 'SECRET'] : children;
        return el;
      }),
  }));

  test('sanitized output holds only allow-listed elements, attributes, CSS and schemes; dropped content never leaks', () => {
    fc.assert(
      fc.property(
        fc.array(tree.node, { maxLength: 5 }),
        fc.constantFrom<'alt' | 'keep'>('alt', 'keep'),
        (children, images) => {
          const nodes = sanitizeXhtml(new Element('body', NS_XHTML, {}, children), { images, maxDepth: 6 });
          const { depth } = assertSafe(nodes, { images });
          assert.ok(depth <= 7);
          const html = safeToHtml(nodes);
          assertSafeHtml(html);
          assert.ok(!html.includes('SECRET') && !safeToText(nodes).includes('SECRET'));
        },
      ),
      { numRuns: 1500 },
    );
  });
});
