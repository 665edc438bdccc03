import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XmlError } from '../errors.ts';
import { Element, xml } from './element.ts';
import { escapeAttr, escapeText, NS_STREAMS, STREAM_CLOSE, serialize, streamOpen } from './serializer.ts';

const invalid = (fn: () => unknown) =>
  assert.throws(fn, (e: unknown) => e instanceof XmlError && e.code === 'ERR_XML_INVALID_CHAR');

describe('escapeText / escapeAttr', () => {
  it('returns clean strings unchanged (same object)', () => {
    const s = 'hello wörld 日本 😀';
    assert.equal(escapeText(s), s);
    assert.equal(escapeAttr(s), s);
  });
  it('escapes & < > in text, leaves quotes alone', () => {
    assert.equal(escapeText(`a<b>&c"'`), `a&lt;b&gt;&amp;c"'`);
  });
  it('escapes all five metacharacters and TAB/LF/CR in attributes', () => {
    assert.equal(escapeAttr(`<&>"'`), '&lt;&amp;&gt;&quot;&apos;');
    assert.equal(escapeAttr('a\tb\nc\rd'), 'a&#9;b&#10;c&#13;d');
  });
  it('writes CR in text as a reference, keeps TAB and LF', () => {
    assert.equal(escapeText('a\r\nb\tc'), 'a&#13;\nb\tc');
  });
  it('rejects characters XML 1.0 forbids', () => {
    for (const c of ['\u0000', '\u0001', '\u0008', '\u000B', '\u000C', '\u001F', '\uFFFE', '\uFFFF']) {
      invalid(() => escapeText(`x${c}y`));
      invalid(() => escapeAttr(`x${c}y`));
    }
  });
  it('rejects lone surrogates, accepts pairs', () => {
    invalid(() => escapeText('a\uD83D'));
    invalid(() => escapeText('\uDE00a'));
    invalid(() => escapeAttr('a\uDE00\uD83Db'));
    assert.equal(escapeText('\uD83D\uDE00&'), '😀&amp;');
  });
});

describe('serialize', () => {
  it('writes a stanza with no xmlns when it matches the context', () => {
    const msg = xml('message', { to: 'a@b', type: 'chat', id: undefined }, xml('body', {}, 'hi & bye'));
    assert.equal(
      serialize(msg, 'jabber:client'),
      "<message to='a@b' type='chat'><body>hi &amp; bye</body></message>",
    );
  });
  it('writes xmlns only where it differs from the parent', () => {
    const el = xml(
      'iq',
      { xmlns: 'jabber:client', type: 'get' },
      xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'x@y' })),
    );
    assert.equal(
      serialize(el),
      "<iq xmlns='jabber:client' type='get'><query xmlns='jabber:iq:roster'><item jid='x@y'/></query></iq>",
    );
    assert.equal(
      serialize(el, 'jabber:client'),
      "<iq type='get'><query xmlns='jabber:iq:roster'><item jid='x@y'/></query></iq>",
    );
  });
  it('children built without a namespace inherit it (no xmlns written)', () => {
    const el = xml('x', { xmlns: 'urn:a' }, xml('y'), 'text');
    assert.equal(el.getChild('y')?.xmlns, 'urn:a');
    assert.equal(serialize(el, 'urn:a'), '<x><y/>text</x>');
  });
  it('escapes attribute values and text', () => {
    const el = new Element('a', '', { v: `'"<&>` }, ['<&>']);
    assert.equal(serialize(el), "<a v='&apos;&quot;&lt;&amp;&gt;'>&lt;&amp;&gt;</a>");
  });
  it('throws on invalid characters anywhere', () => {
    invalid(() => serialize(xml('a', {}, 'x\u0000')));
    invalid(() => serialize(xml('a', { v: '\u0007' })));
  });
  it('refuses names that are not XML names (no markup injection)', () => {
    invalid(() => serialize(new Element('a b', '')));
    invalid(() => serialize(new Element('a', '', { "x='1' y": '2' })));
    invalid(() => serialize(new Element('a><script', '')));
    invalid(() => serialize(new Element('a', '', { xmlns: 'urn:x' })));
    assert.equal(serialize(new Element('é', '', { 'xml:lang': 'en' })), "<é xml:lang='en'/>");
  });
  it('streamOpen and STREAM_CLOSE', () => {
    assert.equal(
      streamOpen({ to: 'example.org', version: '1.0', from: undefined, 'xml:lang': 'en' }),
      `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}' to='example.org' version='1.0' xml:lang='en'>`,
    );
    assert.ok(streamOpen({}, 'jabber:server').includes("xmlns='jabber:server'"));
    assert.equal(STREAM_CLOSE, '</stream:stream>');
  });
});

describe('Element', () => {
  it('builder flattens children and skips nullish', () => {
    const el = xml('a', { n: 1, skip: null }, [xml('b'), null, false, ['t', undefined, xml('c')]]);
    assert.deepEqual(el.attrs, { n: '1' });
    assert.deepEqual(
      el.children.map((c) => (typeof c === 'string' ? c : c.name)),
      ['b', 't', 'c'],
    );
    assert.equal(el.text(), 't');
    assert.equal(el.elements().length, 2);
    assert.equal(el.getChildren('b').length, 1);
  });
  it('lookups by name and namespace', () => {
    const el = xml('m', { xmlns: 'jabber:client' }, xml('body', {}, 'hi'), xml('x', { xmlns: 'urn:x' }));
    assert.equal(el.getChildText('body'), 'hi');
    assert.equal(el.getChild('body', 'urn:x'), undefined);
    assert.equal(el.getChildByNs('urn:x')?.name, 'x');
    assert.ok(el.is('m', 'jabber:client'));
    assert.ok(!el.is('m', 'urn:x'));
    assert.equal(el.attr('nope'), undefined);
  });
});
