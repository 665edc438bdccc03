// Wire formats of XEP-0066 v1.5 (jabber:iq:oob) and XEP-0363 v1.1 (urn:xmpp:http:upload:0):
// the spec examples (fixtures/) read into the model, and what we build reads back the same.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { StanzaError } from '../../errors.ts';
import { parseStanzaError } from '../../session/stanza-error.ts';
import type { Element } from '../../xml/element.ts';
import { xml } from '../../xml/element.ts';
import { parseXml } from '../../xml/parser.ts';
import { serialize } from '../../xml/serializer.ts';
import { parseInfo } from '../disco/codec.ts';
import {
  buildOobOffer,
  buildSlotRequest,
  maxFileSize,
  NS_IQ_OOB,
  NS_UPLOAD,
  parseOobOffer,
  parseSlot,
  uploadErrorDetails,
} from './codec.ts';

function fixture(name: string): Element {
  return parseXml(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim());
}

describe('XEP-0066 iq form', () => {
  test('the offer example reads into url, desc, sid', () => {
    const q = fixture('xep0066-iq-offer.xml').getChild('query', NS_IQ_OOB)!;
    assert.deepEqual(parseOobOffer(q), {
      url: 'http://www.jabber.org/images/psa-license.jpg',
      desc: 'A license to Jabber!',
      sid: 'a0',
    });
  });
  test('built offers round trip; no <desc/> or sid when not given', () => {
    const o = { url: 'http://127.0.0.1:4242/abc/x.bin', desc: 'x', sid: 's1' };
    assert.deepEqual(parseOobOffer(buildOobOffer(o)), o);
    const bare = buildOobOffer({ url: 'http://h/x' });
    assert.equal(serialize(bare), "<query xmlns='jabber:iq:oob'><url>http://h/x</url></query>");
  });
  test('an offer without a URL is not an offer', () => {
    assert.equal(parseOobOffer(xml('query', { xmlns: NS_IQ_OOB }, xml('url', {}, '  '))), undefined);
  });
  test('the two refusals of section 3.2 carry their conditions', () => {
    assert.equal(parseStanzaError(fixture('xep0066-iq-not-acceptable.xml')).condition, 'not-acceptable');
    assert.equal(parseStanzaError(fixture('xep0066-iq-item-not-found.xml')).condition, 'item-not-found');
  });
});

describe('XEP-0363', () => {
  test('max-file-size from the service disco#info (section 3)', () => {
    const info = parseInfo(fixture('xep0363-disco-info.xml').getChild('query')!);
    assert.ok(info.features.includes(NS_UPLOAD));
    assert.equal(maxFileSize(info), 5242880);
    assert.equal(maxFileSize({ identities: [], features: [NS_UPLOAD], extensions: [] }), undefined);
  });
  test('the slot request is the example (section 4)', () => {
    const built = buildSlotRequest({ filename: 'très cool.jpg', size: 23456, contentType: 'image/jpeg' });
    assert.equal(serialize(built), serialize(fixture('xep0363-request.xml')));
  });
  test('the slot example: PUT and GET URLs, the allowed headers', () => {
    const slot = parseSlot(fixture('xep0363-slot.xml'));
    assert.equal(
      slot.put,
      'https://upload.montague.tld/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/tr%C3%A8s%20cool.jpg',
    );
    assert.equal(
      slot.get,
      'https://download.montague.tld/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/tr%C3%A8s%20cool.jpg',
    );
    assert.deepEqual(slot.headers, { Authorization: 'Basic Base64String==', Cookie: 'foo=bar; user=romeo' });
  });
  test('only Authorization, Cookie and Expires are kept, newlines stripped', () => {
    const slot = parseSlot(
      xml(
        'slot',
        { xmlns: NS_UPLOAD },
        xml(
          'put',
          { url: 'https://u.example/p' },
          xml('header', { name: 'Host' }, 'evil.example'),
          xml('header', { name: 'authorization' }, 'Bearer a\r\nX-Injected: 1'),
          xml('header', { name: 'Expires' }, 'Tue, 01 Dec 2026 00:00:00 GMT'),
          xml('header', { name: 'Content-Length' }, '1'),
          xml('header', { name: 'Transfer-Encoding' }, 'chunked'),
        ),
        xml('get', { url: 'https://u.example/g' }),
      ),
    );
    assert.deepEqual(slot.headers, {
      Authorization: 'Bearer aX-Injected: 1',
      Expires: 'Tue, 01 Dec 2026 00:00:00 GMT',
    });
  });
  test('a slot without http(s) URLs is refused (ERR_BAD_REPLY)', () => {
    for (const [put, get] of [
      ['file:///etc/passwd', 'https://u/g'],
      ['https://u/p', 'javascript:alert(1)'],
      ['', 'https://u/g'],
    ]) {
      const s = xml('slot', { xmlns: NS_UPLOAD }, xml('put', { url: put }), xml('get', { url: get }));
      assert.throws(() => parseSlot(s), { code: 'ERR_BAD_REPLY' });
    }
    assert.throws(() => parseSlot(xml('iq', { type: 'result' })), { code: 'ERR_BAD_REPLY' });
  });
  test('file-too-large and retry details (section 5)', () => {
    const big = parseStanzaError(fixture('xep0363-too-large.xml'));
    assert.ok(big instanceof StanzaError);
    assert.equal(big.condition, 'not-acceptable');
    assert.deepEqual(uploadErrorDetails(big), { maxFileSize: 20000 });
    const wait = parseStanzaError(fixture('xep0363-retry.xml'));
    assert.equal(wait.condition, 'resource-constraint');
    assert.equal(uploadErrorDetails(wait).retry?.toISOString(), '2017-12-03T23:42:05.000Z');
  });
});
