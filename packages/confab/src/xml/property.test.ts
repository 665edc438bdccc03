/**
 * Property tests (fast-check): serialize/parse round trips for random trees (text with metacharacters,
 * multibyte and astral characters; random namespaces, also written with prefixes), and chunking
 * independence down to byte splits inside multibyte characters.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Element } from './element.ts';
import { parseXml, StreamParser } from './parser.ts';
import { NS_STREAMS, serialize, streamOpen } from './serializer.ts';

const NAMES = ['a', 'body', 'x-y.z', 'é', '中文', 'item_2', 'query', 'B'];
const ATTR_NAMES = ['to', 'id', 'type', 'xml:lang', 'é', 'a-b', 'constructor'];
const NSS = ['jabber:client', 'urn:a', 'urn:b', 'http://jabber.org/protocol/muc#user', 'urn:x?q=1&r=<2>'];

const XML_CHAR = /[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const unit = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '&',
      '<',
      '>',
      '"',
      "'",
      '\t',
      '\n',
      '\r',
      ' ',
      ']]>',
      'é',
      '中',
      '😀',
      '&amp;',
      '\u{10FFFD}',
    ),
  },
  {
    weight: 5,
    arbitrary: fc.string({ unit: 'binary', maxLength: 1 }).filter((c) => c === '' || XML_CHAR.test(c)),
  },
);
const xmlText = fc.array(unit, { maxLength: 12 }).map((a) => a.join(''));

interface Tree {
  name: string;
  ns: string;
  attrs: [string, string][];
  children: (Tree | string)[];
}
const { tree } = fc.letrec<{ tree: Tree; node: Tree | string }>((tie) => ({
  tree: fc.record({
    name: fc.constantFrom(...NAMES),
    ns: fc.constantFrom(...NSS),
    attrs: fc.uniqueArray(fc.tuple(fc.constantFrom(...ATTR_NAMES), xmlText), {
      selector: (t) => t[0],
      maxLength: 4,
    }),
    children: fc.array(tie('node'), { maxLength: 4 }),
  }),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, xmlText, tie('tree')),
}));

/** Build the Element the parser must give back: adjacent text merged, empty text dropped. */
function toElement(t: Tree): Element {
  const el = new Element(t.name, t.ns, Object.fromEntries(t.attrs));
  for (const c of t.children) {
    if (typeof c === 'string') {
      if (c === '') continue;
      const last = el.children.length - 1;
      if (typeof el.children[last] === 'string') el.children[last] += c;
      else el.children.push(c);
    } else {
      el.children.push(toElement(c));
    }
  }
  return el;
}

/** A test-side writer that uses prefixes where `pick` says so (the serializer never does). */
function writePrefixed(el: Element, pick: () => number): string {
  let n = 0;
  const esc = (s: string) => s.replace(/[&<>"'\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
  const walk = (e: Element, dflt: string, prefixes: Map<string, string>): string => {
    const scope = new Map(prefixes);
    let decl = '';
    let qname = e.name;
    let childDefault = dflt;
    const choice = pick();
    if (choice === 0) {
      // Prefixed: reuse a prefix bound to this namespace or declare a new one.
      let p = [...scope].find(([, u]) => u === e.xmlns)?.[0];
      if (p === undefined || pick() === 0) {
        p = `p${n++}`;
        scope.set(p, e.xmlns);
        decl += ` xmlns:${p}='${esc(e.xmlns)}'`;
      }
      qname = `${p}:${e.name}`;
      // Sometimes also change the default namespace for the children.
      if (pick() === 1) {
        childDefault = NSS[pick() % NSS.length]!;
        decl += ` xmlns='${esc(childDefault)}'`;
      }
    } else if (e.xmlns !== dflt || choice === 1) {
      decl += ` xmlns='${esc(e.xmlns)}'`;
      childDefault = e.xmlns;
    } else {
      childDefault = dflt;
    }
    let s = `<${qname}${decl}`;
    for (const [k, v] of Object.entries(e.attrs)) s += ` ${k}="${esc(v)}"`;
    s += '>';
    for (const c of e.children) s += typeof c === 'string' ? esc(c) : walk(c, childDefault, scope);
    return `${s}</${qname}>`;
  };
  return walk(el, '', new Map());
}

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % 3;
  };
}

describe('properties', () => {
  it('parse(serialize(tree)) equals the tree', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const el = toElement(t);
        const text = serialize(el);
        assert.deepEqual(parseXml(text), el, text);
      }),
      { numRuns: 500 },
    );
  });

  it('parsing a tree written with random prefixes and declarations gives the tree', () => {
    fc.assert(
      fc.property(tree, fc.integer(), (t, seed) => {
        const el = toElement(t);
        const text = writePrefixed(el, prng(seed));
        assert.deepEqual(parseXml(text), el, text);
      }),
      { numRuns: 500 },
    );
  });

  it('any chunking of a stream (bytes, also inside characters) yields the same stanzas', () => {
    fc.assert(
      fc.property(
        fc.array(tree, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        (trees, sizes, asString) => {
          const stanzas = trees.map(toElement);
          const text =
            streamOpen({ to: 'localhost', version: '1.0' }) +
            stanzas.map((s) => serialize(s, 'jabber:client')).join('\n') +
            '</stream:stream>';
          const input: string | Uint8Array = asString ? text : new TextEncoder().encode(text);
          const got: Element[] = [];
          let ended = false;
          const p = new StreamParser({
            streamStart: (h) => assert.ok(h.is('stream', NS_STREAMS)),
            element: (e) => got.push(e),
            streamEnd: () => {
              ended = true;
            },
            error: (e) => assert.fail(e),
          });
          let i = 0;
          let k = 0;
          while (i < input.length) {
            const n = sizes[k++ % sizes.length]!;
            p.write(input.slice(i, i + n));
            i += n;
          }
          p.end();
          assert.ok(ended);
          assert.deepEqual(got, stanzas);
        },
      ),
      { numRuns: 300 },
    );
  });
});
