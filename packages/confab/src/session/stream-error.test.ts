import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamError } from '../errors.ts';
import { parseXml } from '../xml/parser.ts';
import { serialize } from '../xml/serializer.ts';
import { parseStanzaError } from './stanza-error.ts';
import { parseSeeOtherHost, parseStreamError, streamErrorElement } from './stream-error.ts';

const S = "xmlns:stream='http://etherx.jabber.org/streams'";
const E = "xmlns='urn:ietf:params:xml:ns:xmpp-streams'";

test('parses a stream error (RFC 6120 4.9.2 example) into condition and text', () => {
  const el = parseXml(
    `<stream:error ${S}><xml-not-well-formed ${E}/><text ${E} xml:lang='en'>Some special application diagnostic information!</text><escape-your-data xmlns='http://example.org/ns'/></stream:error>`,
  );
  const err = parseStreamError(el);
  assert.ok(err instanceof StreamError);
  assert.equal(err.code, 'ERR_STREAM');
  assert.equal(err.condition, 'xml-not-well-formed');
  assert.equal(err.text, 'Some special application diagnostic information!');
  assert.equal(parseStreamError(parseXml(`<stream:error ${S}/>`)).condition, 'undefined-condition');
});

test('builds ours', () => {
  assert.equal(
    serialize(streamErrorElement('not-well-formed'), 'http://etherx.jabber.org/streams'),
    `<error><not-well-formed ${E}/></error>`,
  );
});

test('see-other-host targets: host, host:port, [v6]:port; junk refused', () => {
  const soh = (t: string) =>
    parseSeeOtherHost(
      parseStreamError(
        parseXml(`<stream:error ${S}><see-other-host ${E}>${t}</see-other-host></stream:error>`),
      ),
    );
  assert.deepEqual(soh('Foo.Example.COM'), { host: 'foo.example.com', port: undefined });
  assert.deepEqual(soh('foo.example.com:5223'), { host: 'foo.example.com', port: 5223 });
  assert.deepEqual(soh('[2001:db8::1]:5222'), { host: '2001:db8::1', port: 5222 });
  assert.deepEqual(soh('[2001:db8::1]'), { host: '2001:db8::1', port: undefined });
  for (const bad of ['', '2001:db8::1', 'a:b', 'a:99999', '[::1]x', 'a:0'])
    assert.equal(soh(bad), undefined, bad);
});

test('stanza errors: type, condition, text (RFC 6120 8.3.2 example)', () => {
  const e = parseStanzaError(
    parseXml(
      "<iq xmlns='jabber:client' from='im.example.com' id='z' type='error'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>nope</text></error></iq>",
    ),
  );
  assert.equal(e.code, 'ERR_STANZA');
  assert.equal(e.type, 'cancel');
  assert.equal(e.condition, 'service-unavailable');
  assert.equal(e.text, 'nope');
  assert.match(e.message, /from im\.example\.com: service-unavailable \(nope\)/);
});
