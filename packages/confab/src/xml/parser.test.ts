import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XmlError } from '../errors.ts';
import { type Element, xml } from './element.ts';
import {
  DEFAULT_LIMITS,
  type ParserLimits,
  parseXml,
  StreamParser,
  type StreamParserOptions,
} from './parser.ts';
import { NS_STREAMS, serialize } from './serializer.ts';

const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}' id='s1' from='localhost' version='1.0' xml:lang='en'>`;
const enc = new TextEncoder();

interface Run {
  parser: StreamParser;
  headers: Element[];
  elements: Element[];
  ends: number;
  errors: XmlError[];
  maxBuffered: number;
}

function make(options?: StreamParserOptions): Run {
  const r: Run = { headers: [], elements: [], ends: 0, errors: [], maxBuffered: 0 } as unknown as Run;
  r.parser = new StreamParser(
    {
      streamStart: (h) => r.headers.push(h),
      element: (e) => r.elements.push(e),
      streamEnd: () => r.ends++,
      error: (e) => r.errors.push(e),
    },
    options,
  );
  return r;
}

/** Feed chunks, tracking the most the parser held after any write. */
function feed(r: Run, chunks: Iterable<string | Uint8Array>): Run {
  for (const c of chunks) {
    r.parser.write(c);
    r.maxBuffered = Math.max(r.maxBuffered, r.parser.bufferedBytes);
  }
  return r;
}

function run(input: string | Uint8Array, options?: Parameters<typeof make>[0]): Run {
  return feed(make(options), [input]);
}

/** The one error of a run: typed, with the condition expected, parser holding nothing. */
function expectError(r: Run, condition: string, code?: string): XmlError {
  assert.equal(r.errors.length, 1, `expected one error, got ${r.errors.map((e) => e.message).join('; ')}`);
  const e = r.errors[0]!;
  assert.ok(e instanceof XmlError);
  assert.equal(e.condition, condition, e.message);
  if (code) assert.equal(e.code, code);
  assert.equal(r.parser.bufferedBytes, 0);
  return e;
}

describe('StreamParser: stream framing', () => {
  it('emits the header, stanzas with namespaces resolved, and the end', () => {
    const r = run(
      `${HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>\n` +
        `<message to='a@b' type="chat"><body>a &amp; b &lt; &#x1F600;&#233;</body><x:y xmlns:x='urn:x' x:attr='1' xml:lang='de'/></message> </stream:stream>`,
    );
    assert.deepEqual(r.errors, []);
    const h = r.headers[0]!;
    assert.equal(h.name, 'stream');
    assert.equal(h.xmlns, NS_STREAMS);
    assert.deepEqual(h.attrs, { id: 's1', from: 'localhost', version: '1.0', 'xml:lang': 'en' });
    assert.equal(r.elements.length, 2);
    const [features, msg] = r.elements as [Element, Element];
    assert.ok(features.is('features', NS_STREAMS));
    assert.equal(features.getChild('mechanisms')?.xmlns, 'urn:ietf:params:xml:ns:xmpp-sasl');
    assert.equal(features.getChild('mechanisms')?.getChildText('mechanism'), 'PLAIN');
    assert.ok(msg.is('message', 'jabber:client'));
    assert.deepEqual(msg.attrs, { to: 'a@b', type: 'chat' });
    assert.equal(msg.getChildText('body'), 'a & b < 😀é');
    assert.equal(msg.getChild('body')?.xmlns, 'jabber:client');
    const y = msg.getChild('y', 'urn:x')!;
    assert.deepEqual(y.attrs, { 'x:attr': '1', 'xml:lang': 'de' });
    assert.equal(r.ends, 1);
  });

  it('inherits and overrides default namespaces and prefixes', () => {
    const el = parseXml(
      "<a xmlns='urn:a' xmlns:p='urn:p'><b><p:c><d/></p:c><e xmlns='urn:e'><p:f xmlns:p='urn:p2'/></e><g xmlns=''/></b></a>",
    );
    const b = el.getChild('b')!;
    assert.equal(b.xmlns, 'urn:a');
    const c = b.getChild('c')!;
    assert.equal(c.xmlns, 'urn:p');
    assert.equal(c.getChild('d')?.xmlns, 'urn:a');
    assert.equal(b.getChild('e')?.getChild('f')?.xmlns, 'urn:p2');
    assert.equal(b.getChild('g')?.xmlns, '');
    assert.equal(Object.keys(el.attrs).length, 0);
  });

  it('normalizes line ends and attribute whitespace, keeps references', () => {
    const el = parseXml("<a xmlns='u' v='1\t2\n3&#10;4'>x\r\ny\rz&#13;</a>");
    assert.equal(el.attrs.v, '1 2 3\n4');
    assert.equal(el.text(), 'x\ny\nz\r');
    // CRLF split across chunks
    const r = feed(make({ framing: 'fragments' }), ["<a xmlns='u'>x\r", '\ny</a>']);
    assert.equal(r.elements[0]!.text(), 'x\ny');
  });

  it('accepts a self-closed stream and whitespace keepalives between stanzas', () => {
    const r = feed(make(), [HEADER, ' ', '\n\n', '<presence/>', '   ', '</stream:stream>']);
    assert.deepEqual(r.errors, []);
    assert.equal(r.elements.length, 1);
    assert.equal(r.ends, 1);
    assert.equal(r.parser.bufferedBytes, 0);
  });

  it('refuses a non-stream root, a wrong stream namespace, content after the end', () => {
    expectError(run("<message xmlns='jabber:client'/>"), 'not-well-formed');
    expectError(run("<stream:stream xmlns:stream='urn:wrong'>"), 'invalid-namespace');
    expectError(run(`${HEADER}</stream:stream><presence/>`), 'not-well-formed');
    expectError(run(`${HEADER}hello`), 'not-well-formed');
  });

  it('reset() drops everything and accepts a new stream (STARTTLS, SASL)', () => {
    const r = make();
    r.parser.write(`${HEADER}<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><message><bo`);
    assert.ok(r.parser.bufferedBytes > 0);
    r.parser.reset();
    assert.equal(r.parser.bufferedBytes, 0);
    r.parser.write(`${HEADER}<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
    assert.deepEqual(r.errors, []);
    assert.equal(r.headers.length, 2);
    assert.deepEqual(
      r.elements.map((e) => e.name),
      ['proceed', 'success'],
    );
  });

  it('a handler may reset the parser: the rest of that chunk is dropped', () => {
    const seen: string[] = [];
    const p: StreamParser = new StreamParser({
      streamStart: () => seen.push('start'),
      element: (e) => {
        seen.push(e.name);
        if (e.name === 'proceed') p.reset();
      },
      streamEnd: () => seen.push('end'),
      error: (e) => seen.push(`error ${e.message}`),
    });
    p.write(`${HEADER}<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\u0016\u0003garbage`);
    p.write(`${HEADER}<a/>`);
    assert.deepEqual(seen, ['start', 'proceed', 'start', 'a']);
  });

  it('a throwing handler does not lose the rest of the input', () => {
    const seen: string[] = [];
    const p = new StreamParser({
      streamStart() {},
      element: (e) => {
        seen.push(e.name);
        if (e.name === 'a') throw new Error('boom');
      },
      streamEnd: () => seen.push('end'),
      error: (e) => seen.push(`error ${e.message}`),
    });
    assert.throws(() => p.write(`${HEADER}<a/><b/><c`), /boom/);
    p.write('/></stream:stream>');
    assert.deepEqual(seen, ['a', 'b', 'c', 'end']);
  });

  it('stays failed until reset()', () => {
    const r = run(`${HEADER}<!-- x -->`);
    expectError(r, 'restricted-xml');
    r.parser.write('<message/>');
    assert.equal(r.elements.length, 0);
    assert.equal(r.errors.length, 1);
    r.parser.reset();
    r.parser.write(`${HEADER}<message/>`);
    assert.equal(r.elements.length, 1);
  });

  it('end() reports input that stops inside a stanza', () => {
    const r = run(`${HEADER}<message><body>`);
    r.parser.end();
    expectError(r, 'not-well-formed');
    const ok = run(`${HEADER}<message/>`);
    ok.parser.end();
    assert.deepEqual(ok.errors, []);
  });
});

describe('StreamParser: fragments framing (RFC 7395)', () => {
  it('emits elements at depth 0, no header needed', () => {
    const r = feed(make({ framing: 'fragments' }), [
      "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>",
      `<stream:features xmlns:stream='${NS_STREAMS}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`,
      "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
    ]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.elements.map((e) => `${e.xmlns} ${e.name}`),
      [
        'urn:ietf:params:xml:ns:xmpp-framing open',
        `${NS_STREAMS} features`,
        'urn:ietf:params:xml:ns:xmpp-framing close',
      ],
    );
    assert.equal(r.headers.length, 0);
  });
});

describe('UTF-8', () => {
  it('decodes characters split across reads (the @xmpp/client defect)', () => {
    const text = 'é中😀';
    const bytes = enc.encode(`${HEADER}<message><body>${text}</body></message>`);
    // Split at every byte boundary, also inside each multibyte character.
    const bodyAt = bytes.length - enc.encode(`${text}</body></message>`).length;
    for (let cut = bodyAt; cut < bodyAt + enc.encode(text).length; cut++) {
      const r = feed(make(), [bytes.subarray(0, cut), bytes.subarray(cut)]);
      assert.deepEqual(r.errors, []);
      assert.equal(r.elements[0]!.getChildText('body'), text, `split at ${cut}`);
    }
    // And one byte at a time.
    const r = feed(
      make(),
      Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)),
    );
    assert.equal(r.elements[0]!.getChildText('body'), text);
  });

  it('decodes surrogate pairs split across string writes', () => {
    const r = feed(make(), [`${HEADER}<m>\uD83D`, '\uDE00</m>']);
    assert.deepEqual(r.errors, []);
    assert.equal(r.elements[0]!.text(), '😀');
  });

  it('refuses invalid UTF-8 with a typed error', () => {
    for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]) {
      const r = feed(make(), [enc.encode(`${HEADER}<m>`), new Uint8Array(bad), enc.encode('</m>')]);
      expectError(r, 'not-well-formed', 'ERR_XML_ENCODING');
    }
    // Truncated at the end of input.
    const r = feed(make(), [enc.encode(`${HEADER}`), new Uint8Array([0xe4, 0xb8])]);
    r.parser.end();
    expectError(r, 'not-well-formed', 'ERR_XML_ENCODING');
  });

  it('refuses characters XML forbids in the input', () => {
    expectError(run(`${HEADER}<m>\u0001</m>`), 'not-well-formed', 'ERR_XML_INVALID_CHAR');
    expectError(run(enc.encode(`${HEADER}<m>\uFFFF</m>`)), 'not-well-formed', 'ERR_XML_INVALID_CHAR');
    expectError(run(`${HEADER}<m>\uDE00</m>`), 'not-well-formed', 'ERR_XML_INVALID_CHAR');
  });

  it('accepts a UTF-8 declaration, refuses any other encoding', () => {
    for (const d of [`<?xml version='1.0' encoding='UTF-8'?>`, '<?xml version="1.0" encoding="utf-8"?>']) {
      assert.deepEqual(run(d + HEADER.slice(HEADER.indexOf('?>') + 2)).errors, []);
    }
    for (const e of ['ISO-8859-1', 'UTF-16', 'us-ascii']) {
      expectError(
        run(`<?xml version='1.0' encoding='${e}'?><stream:stream/>`),
        'unsupported-encoding',
        'ERR_XML_ENCODING',
      );
    }
  });
});

describe('hostile input: each ends in one typed error, memory bounded', () => {
  const small: Partial<ParserLimits> = { maxStanzaBytes: 64 * 1024 };
  const cases: [string, () => Run, string][] = [
    [
      'billion laughs DTD',
      () =>
        run(
          `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`,
        ),
      'restricted-xml',
    ],
    [
      'external entity',
      () =>
        run(
          `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>`,
        ),
      'restricted-xml',
    ],
    ['DOCTYPE after the header', () => run(`${HEADER}<!DOCTYPE x>`), 'restricted-xml'],
    ['comment', () => run(`${HEADER}<message><!-- hi --></message>`), 'restricted-xml'],
    ['CDATA', () => run(`${HEADER}<message><![CDATA[x]]></message>`), 'restricted-xml'],
    ['processing instruction', () => run(`${HEADER}<?php evil() ?>`), 'restricted-xml'],
    ['second XML declaration', () => run(`${HEADER}<?xml version='1.0'?>`), 'restricted-xml'],
    ['undefined entity &lol;', () => run(`${HEADER}<message><body>&lol;</body></message>`), 'restricted-xml'],
    ['undefined entity in an attribute', () => run(`${HEADER}<message to='&lol;'/>`), 'restricted-xml'],
    ['&#0;', () => run(`${HEADER}<message><body>&#0;</body></message>`), 'not-well-formed'],
    ['&#xFFFE;', () => run(`${HEADER}<message a='&#xFFFE;'/>`), 'not-well-formed'],
    ['&#xD800;', () => run(`${HEADER}<m>&#xD800;</m>`), 'not-well-formed'],
    ['bare &', () => run(`${HEADER}<m>a & b</m>`), 'not-well-formed'],
    [
      'invalid UTF-8',
      () => run(new Uint8Array([...enc.encode(`${HEADER}<m>`), 0xc0, 0xaf])),
      'not-well-formed',
    ],
    [
      'depth 100,000',
      () => feed(make(), [HEADER, ...Array.from({ length: 1000 }, () => '<a>'.repeat(100))]),
      'policy-violation',
    ],
    [
      '100,000 attributes',
      () => feed(make(), [HEADER, '<message', ...Array.from({ length: 1000 }, (_, k) => chunkAttrs(k))]),
      'policy-violation',
    ],
    [
      '100,000 attributes in one write',
      () => run(`${HEADER}<message${chunkAttrs(0, 100_000)}/>`),
      'policy-violation',
    ],
    [
      'attribute never closed',
      () =>
        feed(make({ limits: small }), [
          HEADER,
          "<message to='",
          ...Array.from({ length: 200 }, () => 'x'.repeat(4096)),
        ]),
      'policy-violation',
    ],
    [
      'attribute never closed, then markup',
      () => run(`${HEADER}<message to='abc><body>x</body></message>`),
      'not-well-formed',
    ],
    [
      '10 MB of text without <',
      () =>
        feed(make({ limits: small }), [
          HEADER,
          '<message><body>',
          ...Array.from({ length: 2560 }, () => 'y'.repeat(4096)),
        ]),
      'policy-violation',
    ],
    ['10 MB of text outside a stanza', () => run(`${HEADER}${'z'.repeat(10_000_000)}`), 'not-well-formed'],
    [
      'a huge tag name',
      () =>
        feed(make({ limits: small }), [HEADER, '<', ...Array.from({ length: 100 }, () => 'n'.repeat(4096))]),
      'policy-violation',
    ],
    [
      'a second stream header',
      () => run(`${HEADER}${HEADER.slice(HEADER.indexOf('?>') + 2)}`),
      'not-well-formed',
    ],
    ['a mismatched close tag', () => run(`${HEADER}<message><body></message></body>`), 'not-well-formed'],
    ['a stray close tag', () => run(`${HEADER}</message>`), 'not-well-formed'],
    ['an undeclared element prefix', () => run(`${HEADER}<foo:message/>`), 'invalid-namespace'],
    ['an undeclared attribute prefix', () => run(`${HEADER}<message foo:a='1'/>`), 'invalid-namespace'],
    [
      'non-UTF-8 encoding declaration',
      () => run(`<?xml version='1.0' encoding='ISO-8859-1'?>${HEADER.slice(HEADER.indexOf('?>') + 2)}`),
      'unsupported-encoding',
    ],
    ['duplicate attributes', () => run(`${HEADER}<message to='a' to='b'/>`), 'not-well-formed'],
    ['duplicate xmlns', () => run(`${HEADER}<message xmlns='a' xmlns='b'/>`), 'not-well-formed'],
    ['< in an attribute value', () => run(`${HEADER}<message to='a<b'/>`), 'not-well-formed'],
    ['unquoted attribute', () => run(`${HEADER}<message to=a/>`), 'not-well-formed'],
    ['attributes without whitespace', () => run(`${HEADER}<message a='1'b='2'/>`), 'not-well-formed'],
    ['bad name', () => run(`${HEADER}<1message/>`), 'not-well-formed'],
    [
      'stanza over the size limit',
      () => run(`${HEADER}<m>${'<a/>'.repeat(20_000)}</m>`, { limits: small }),
      'policy-violation',
    ],
  ];
  for (const [name, make_, condition] of cases) {
    it(name, () => {
      const r = make_();
      expectError(r, condition);
      const lim = { ...DEFAULT_LIMITS, ...small };
      assert.ok(
        r.maxBuffered <= Math.max(DEFAULT_LIMITS.maxStanzaBytes, lim.maxStanzaBytes) + 4096,
        `held ${r.maxBuffered}`,
      );
    });
  }

  it('bounded before the error too: the attribute never closed is held at most maxStanzaBytes', () => {
    const r = make({ limits: { maxStanzaBytes: 10_000 } });
    const p = r.parser;
    p.write(`${HEADER}<message to='`);
    let max = 0;
    for (let k = 0; k < 100 && r.errors.length === 0; k++) {
      p.write('x'.repeat(1000));
      max = Math.max(max, p.bufferedBytes);
    }
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0]!.condition, 'policy-violation');
    assert.ok(max <= 10_000, `held ${max}`);
  });
});

function chunkAttrs(k: number, n = 100): string {
  let s = '';
  for (let j = 0; j < n; j++) s += ` a${k}_${j}='v'`;
  return s;
}

describe('parseXml', () => {
  it('parses one element and round-trips with serialize', () => {
    const src =
      "<iq xmlns='jabber:client' type='result' id='1'><query xmlns='jabber:iq:roster'><item jid='a@b' name='&lt;A&gt;'/></query></iq>";
    const el = parseXml(src);
    assert.equal(serialize(el), src);
    assert.deepEqual(
      el,
      xml(
        'iq',
        { xmlns: 'jabber:client', type: 'result', id: '1' },
        xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'a@b', name: '<A>' })),
      ),
    );
  });
  it('refuses zero or two elements, and applies limits', () => {
    assert.throws(
      () => parseXml('  '),
      (e: unknown) => e instanceof XmlError && e.condition === 'not-well-formed',
    );
    assert.throws(
      () => parseXml('<a/><b/>'),
      (e: unknown) => e instanceof XmlError && e.condition === 'not-well-formed',
    );
    assert.throws(
      () => parseXml('<a><b>'),
      (e: unknown) => e instanceof XmlError && e.condition === 'not-well-formed',
    );
    assert.throws(
      () => parseXml('<a><a><a/></a></a>', { limits: { maxDepth: 2 } }),
      (e: unknown) =>
        e instanceof XmlError && e.code === 'ERR_XML_LIMIT' && e.condition === 'policy-violation',
    );
  });
  it('attribute names that are Object.prototype members', () => {
    const el = parseXml("<a constructor='1' toString='2' __proto__='3' hasOwnProperty='4'/>");
    assert.equal(el.attrs.constructor, '1');
    assert.equal(Object.getOwnPropertyDescriptor(el.attrs, '__proto__')?.value, '3');
    assert.deepEqual(Object.keys(el.attrs), ['constructor', 'toString', '__proto__', 'hasOwnProperty']);
  });
});

describe('StreamParser: forbidden characters in bytes, at any chunk boundary', () => {
  // The byte input is checked before decoding (a word at a time), so test every split of the
  // three-byte U+FFFE/U+FFFF and every control, at every alignment, after a complete stanza.
  const bad = ['\uFFFE', '\uFFFF', '\u0000', '\u0001', '\u000B', '\u001F'];
  for (const ch of bad) {
    it(`U+${ch.charCodeAt(0).toString(16).padStart(4, '0')} is refused wherever the chunks are cut`, () => {
      for (let pad = 0; pad < 8; pad++) {
        const bytes = enc.encode(`${HEADER}<m>ok</m><m>${'é'.repeat(pad)}x${ch}y ${'a'.repeat(40)}</m>`);
        for (let cut = bytes.length - 60; cut < bytes.length; cut++) {
          const r = feed(make(), [bytes.subarray(0, cut), bytes.subarray(cut)]);
          expectError(r, 'not-well-formed', 'ERR_XML_INVALID_CHAR');
          assert.equal(r.elements.length, 1, 'the stanza before the character is emitted');
        }
        // one byte at a time
        const r = feed(
          make(),
          Array.from(bytes, (_, k) => bytes.subarray(k, k + 1)),
        );
        expectError(r, 'not-well-formed', 'ERR_XML_INVALID_CHAR');
        assert.equal(r.elements.length, 1);
      }
    });
  }
  it('characters next to the forbidden ones are fine: U+FFFD, U+EFBF, U+FEFF, TAB, LF, CR', () => {
    const text = '\uFFFD\uEFBF\uFEFF\uFFEF\t\n\r\n!';
    const bytes = enc.encode(`${HEADER}<m a='${text}'>${text.repeat(20)}</m>`);
    for (let cut = 0; cut < bytes.length; cut += 7) {
      const r = feed(make(), [bytes.subarray(0, cut), bytes.subarray(cut)]);
      assert.equal(r.errors.length, 0, r.errors[0]?.message);
      assert.equal(r.elements.length, 1);
      assert.equal(r.elements[0]!.attrs.a, '\uFFFD\uEFBF\uFEFF\uFFEF   !');
      assert.equal(r.elements[0]!.text(), '\uFFFD\uEFBF\uFEFF\uFFEF\t\n\n!'.repeat(20));
    }
  });
});

describe('StreamParser: stanzaLimit hook', () => {
  // A roster result of about 600 KiB: over the default 256 KiB.
  const items: string[] = [];
  for (let k = 0; items.join('').length < 600 * 1024; k++) {
    items.push(
      `<item jid='contact${k}@example.org' name='Contact ${k}' subscription='both'><group>Friends</group></item>`,
    );
  }
  const roster = `<iq type='result' id='roster_1'><query xmlns='jabber:iq:roster'>${items.join('')}</query></iq>`;
  const other = roster.replace("id='roster_1'", "id='other'");
  const bytes = (s: string): Uint8Array => enc.encode(`${HEADER}${s}<message><body>after</body></message>`);
  const chunks = (b: Uint8Array): Uint8Array[] => {
    const out: Uint8Array[] = [];
    for (let k = 0; k < b.length; k += 1000) out.push(b.subarray(k, k + 1000));
    return out;
  };
  const LIMIT = 1024 * 1024;
  const seen: { name: string; xmlns: string; id: string | undefined }[] = [];
  const hook = (o: { name: string; xmlns: string; attrs: Record<string, string> }): number | undefined => {
    seen.push({ name: o.name, xmlns: o.xmlns, id: o.attrs.id });
    return o.name === 'iq' && o.xmlns === 'jabber:client' && o.attrs.id === 'roster_1' ? LIMIT : undefined;
  };

  it('allows the 600 KiB roster result it raises the limit for, memory bounded by that limit', () => {
    seen.length = 0;
    const r = feed(make({ stanzaLimit: hook }), chunks(bytes(roster)));
    assert.equal(r.errors.length, 0, r.errors[0]?.message);
    assert.equal(r.elements.length, 2);
    assert.equal(
      r.elements[0]!.getChild('query', 'jabber:iq:roster')!.getChildren('item').length,
      items.length,
    );
    assert.ok(r.maxBuffered > DEFAULT_LIMITS.maxStanzaBytes, `held ${r.maxBuffered}`);
    assert.ok(r.maxBuffered <= LIMIT, `held ${r.maxBuffered}`);
    // called once per top-level element, with the resolved name and namespace
    assert.deepEqual(seen, [
      { name: 'iq', xmlns: 'jabber:client', id: 'roster_1' },
      { name: 'message', xmlns: 'jabber:client', id: undefined },
    ]);
  });
  it('refuses the same stanza without the hook, and one the hook does not raise', () => {
    const r1 = feed(make(), chunks(bytes(roster)));
    expectError(r1, 'policy-violation', 'ERR_XML_LIMIT');
    assert.ok(r1.maxBuffered <= DEFAULT_LIMITS.maxStanzaBytes, `held ${r1.maxBuffered}`);
    const r2 = feed(make({ stanzaLimit: hook }), chunks(bytes(other)));
    expectError(r2, 'policy-violation', 'ERR_XML_LIMIT');
    assert.ok(r2.maxBuffered <= DEFAULT_LIMITS.maxStanzaBytes, `held ${r2.maxBuffered}`);
  });
  it('the raised limit is still a limit, and applies to one stanza only', () => {
    const small = (): number => 300 * 1024;
    const r1 = feed(make({ stanzaLimit: small }), chunks(bytes(roster)));
    expectError(r1, 'policy-violation', 'ERR_XML_LIMIT');
    assert.ok(r1.maxBuffered <= 300 * 1024, `held ${r1.maxBuffered}`);
    // raised for the self-closing first stanza only: the roster after it gets the default again
    let calls = 0;
    const first = (): number | undefined => (calls++ === 0 ? LIMIT : undefined);
    const r2 = feed(make({ stanzaLimit: first }), chunks(bytes(`<iq type='get' id='x'/>${roster}`)));
    expectError(r2, 'policy-violation', 'ERR_XML_LIMIT');
    assert.equal(r2.elements.length, 1);
  });
  it('a hook that throws stops the parser; the exception reaches the caller', () => {
    const r = make({
      stanzaLimit: () => {
        throw new Error('boom');
      },
    });
    assert.throws(() => r.parser.write(`${HEADER}<message><body>x</body></message>`), /boom/);
    assert.equal(r.parser.bufferedBytes, 0);
    r.parser.write('<message/>');
    assert.equal(r.elements.length, 0);
    r.parser.reset();
    assert.throws(() => r.parser.write(`${HEADER}<message/>`), /boom/);
    assert.equal(r.elements.length, 0);
    assert.equal(r.headers.length, 2, 'the header after reset() was parsed');
  });
});
