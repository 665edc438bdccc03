// Dialogue tests of XEP-0054 v1.3.0 (vcard-temp): get ours and another user's (replies from
// the wrong JID ignored), no vCard, set (exact wire), update keeping unknown fields, photo bytes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { el, wire } from '../../../test/helpers/memory-transport.ts';
import { FULL, online } from '../../../test/helpers/online.ts';
import { ConfabError, StanzaError } from '../../errors.ts';
import type { Element } from '../../xml/element.ts';
import { NS_VCARD, type VCard } from './codec.ts';
import { photoBytes, VCards } from './vcard.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim();

/** A spec example addressed to us, answering `id`. */
function spec(name: string, id: string): Element {
  const e = el(fixture(name));
  e.attrs.to = FULL;
  e.attrs.id = id;
  return e;
}

async function setup() {
  const on = await online();
  return { ...on, vcards: new VCards({ client: on.client }) };
}

/** XEP-0054 example 2, parsed: empty parts (<MIDDLE/>, <NUMBER/>) are left out. */
const STPETER: VCard = {
  fullName: 'Peter Saint-Andre',
  name: { family: 'Saint-Andre', given: 'Peter' },
  nickname: 'stpeter',
  url: 'http://www.xmpp.org/xsf/people/stpeter.shtml',
  birthday: '1966-08-06',
  org: { name: 'XMPP Standards Foundation' },
  title: 'Executive Director',
  role: 'Patron Saint',
  tel: [
    { number: '303-308-3282', flags: ['WORK', 'VOICE'] },
    { flags: ['WORK', 'FAX'] },
    { flags: ['WORK', 'MSG'] },
    { number: '303-555-1212', flags: ['HOME', 'VOICE'] },
    { flags: ['HOME', 'FAX'] },
    { flags: ['HOME', 'MSG'] },
  ],
  address: [
    {
      extadd: 'Suite 600',
      street: '1899 Wynkoop Street',
      locality: 'Denver',
      region: 'CO',
      pcode: '80202',
      country: 'USA',
      flags: ['WORK'],
    },
    { locality: 'Denver', region: 'CO', pcode: '80209', country: 'USA', flags: ['HOME'] },
  ],
  email: [{ userid: 'stpeter@jabber.org', flags: ['INTERNET', 'PREF'] }],
  jabberId: 'stpeter@jabber.org',
  description:
    '\n      More information about me is located on my\n      personal website: http://www.saint-andre.com/\n    ',
};

describe('vcard: get', () => {
  test('ours: no to, answered by our server (XEP-0054 examples 1-2); a stranger is ignored', async () => {
    const { vcards, nextIq, t } = await setup();
    const p = vcards.get();
    const q = await nextIq('get', NS_VCARD);
    const id = q.attr('id')!;
    assert.equal(wire(q), `<iq type='get' id='${id}'><vCard xmlns='vcard-temp'/></iq>`);
    t.recv(
      `<iq type='result' id='${id}' from='mallory@evil.lit'><vCard xmlns='${NS_VCARD}'><FN>Evil</FN></vCard></iq>`,
    );
    t.recv(spec('xep0054-own.xml', id));
    const card = await p;
    assert.deepEqual(card, STPETER);
  });

  test("another user's: to the bare JID, only that JID may answer (examples 8-9)", async () => {
    const { vcards, nextIq, t } = await setup();
    const p = vcards.get('jer@jabber.org');
    const q = await nextIq('get', NS_VCARD);
    const id = q.attr('id')!;
    assert.equal(wire(q), `<iq type='get' to='jer@jabber.org' id='${id}'><vCard xmlns='vcard-temp'/></iq>`);
    // Neither a resource of his nor our own server may answer for him.
    t.recv(
      `<iq type='result' id='${id}' from='jer@jabber.org/laptop'><vCard xmlns='${NS_VCARD}'><FN>A</FN></vCard></iq>`,
    );
    t.recv(
      `<iq type='result' id='${id}' from='capulet.lit'><vCard xmlns='${NS_VCARD}'><FN>B</FN></vCard></iq>`,
    );
    t.recv(spec('xep0054-other.xml', id));
    assert.deepEqual(await p, {
      fullName: 'JeremieMiller',
      name: { given: 'Jeremie', family: 'Miller' },
      nickname: 'jer',
      email: [{ userid: 'jeremie@jabber.org', flags: ['INTERNET', 'PREF'] }],
      jabberId: 'jer@jabber.org',
    });
  });

  test('no vCard: item-not-found and an empty vCard both give undefined (examples 3-4)', async () => {
    const { vcards, nextIq, t } = await setup();
    const p1 = vcards.get();
    t.recv(spec('xep0054-not-found.xml', (await nextIq('get', NS_VCARD)).attr('id')!));
    assert.equal(await p1, undefined);
    const p2 = vcards.get();
    t.recv(spec('xep0054-empty.xml', (await nextIq('get', NS_VCARD)).attr('id')!));
    assert.equal(await p2, undefined);
    // A result without any vCard element: nothing to read either.
    const p3 = vcards.get();
    t.recv(`<iq type='result' id='${(await nextIq('get', NS_VCARD)).attr('id')}'/>`);
    assert.equal(await p3, undefined);
  });

  test('service-unavailable for another user (example 10) means no vCard (XEP-0054 1.3 3.1)', async () => {
    const { vcards, nextIq, t } = await setup();
    const p = vcards.get('jer@jabber.org');
    const q = await nextIq('get', NS_VCARD);
    const e = spec('xep0054-service-unavailable.xml', q.attr('id')!);
    e.attrs.from = 'jer@jabber.org';
    t.recv(e);
    assert.equal(await p, undefined);
  });

  test('service-unavailable for our own vCard is an error, not "none"', async () => {
    const { vcards, nextIq, t } = await setup();
    const p = vcards.get();
    const q = await nextIq('get', NS_VCARD);
    const e = spec('xep0054-service-unavailable.xml', q.attr('id')!);
    delete e.attrs.from;
    t.recv(e);
    await assert.rejects(
      p,
      (err: unknown) => err instanceof StanzaError && err.condition === 'service-unavailable',
    );
  });
});

describe('vcard: set and update', () => {
  test('set sends the whole card, no to; a forbidden answer rejects (examples 5-7)', async () => {
    const { vcards, nextIq, t } = await setup();
    const p = vcards.set({
      fullName: 'Juliet Capulet',
      nickname: 'jc',
      name: { family: 'Capulet', given: 'Juliet' },
      org: { name: 'House Capulet', unit: 'Balcony' },
      photo: { type: 'image/png', binval: 'iVBORw0K' },
      tel: [{ number: '+39 045 8034', flags: ['HOME', 'VOICE'] }],
      email: [{ userid: 'juliet@capulet.lit', flags: ['INTERNET'] }],
      address: [{ locality: 'Verona', country: 'Italy', flags: ['HOME'] }],
    });
    const s = await nextIq('set', NS_VCARD);
    assert.equal(
      wire(s),
      `<iq type='set' id='${s.attr('id')}'><vCard xmlns='vcard-temp'>` +
        '<FN>Juliet Capulet</FN><NICKNAME>jc</NICKNAME>' +
        '<N><FAMILY>Capulet</FAMILY><GIVEN>Juliet</GIVEN></N>' +
        '<ORG><ORGNAME>House Capulet</ORGNAME><ORGUNIT>Balcony</ORGUNIT></ORG>' +
        '<PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORw0K</BINVAL></PHOTO>' +
        '<TEL><HOME/><VOICE/><NUMBER>+39 045 8034</NUMBER></TEL>' +
        '<EMAIL><INTERNET/><USERID>juliet@capulet.lit</USERID></EMAIL>' +
        '<ADR><HOME/><LOCALITY>Verona</LOCALITY><CTRY>Italy</CTRY></ADR>' +
        '</vCard></iq>',
    );
    t.recv(`<iq type='result' id='${s.attr('id')}'/>`);
    await p;

    const pf = vcards.set({ fullName: 'x' });
    t.recv(spec('xep0054-forbidden.xml', (await nextIq('set', NS_VCARD)).attr('id')!));
    await assert.rejects(
      pf,
      (e: unknown) => e instanceof StanzaError && e.condition === 'forbidden' && e.type === 'auth',
    );
  });

  test('update changes one field and keeps the rest, unknown fields included', async () => {
    const { vcards, nextIq, t } = await setup();
    const p = vcards.update({ nickname: 'jules' });
    const g = await nextIq('get', NS_VCARD);
    t.recv(
      `<iq type='result' id='${g.attr('id')}'><vCard xmlns='${NS_VCARD}'><FN>Juliet</FN><NICKNAME>jc</NICKNAME>` +
        `<X-GENDER>F</X-GENDER><LABEL><HOME/><LINE>Via Cappello 23</LINE></LABEL>` +
        `<custom xmlns='urn:example:x' a='1'>kept</custom></vCard></iq>`,
    );
    const s = await nextIq('set', NS_VCARD);
    assert.equal(
      wire(s),
      `<iq type='set' id='${s.attr('id')}'><vCard xmlns='vcard-temp'><FN>Juliet</FN><NICKNAME>jules</NICKNAME>` +
        `<X-GENDER>F</X-GENDER><LABEL><HOME/><LINE>Via Cappello 23</LINE></LABEL>` +
        `<custom xmlns='urn:example:x' a='1'>kept</custom></vCard></iq>`,
    );
    t.recv(`<iq type='result' id='${s.attr('id')}'/>`);
    const card = await p;
    assert.equal(card.fullName, 'Juliet');
    assert.equal(card.nickname, 'jules');
    assert.deepEqual(
      card.extra?.map((e) => `${e.xmlns} ${e.name}`),
      [`${NS_VCARD} X-GENDER`, `${NS_VCARD} LABEL`, 'urn:example:x custom'],
    );
  });

  test("update keeps Prosody's NOTE (its form of our DESC) as the DESC, and several TELs and EMAILs", async () => {
    const { vcards, nextIq, t } = await setup();
    const p = vcards.update({ nickname: 'jules' });
    const g = await nextIq('get', NS_VCARD);
    t.recv(
      `<iq type='result' id='${g.attr('id')}'><vCard xmlns='${NS_VCARD}'><FN>Juliet</FN>` +
        `<TEL><HOME/><NUMBER>1</NUMBER></TEL><TEL><CELL/><NUMBER/></TEL>` +
        `<EMAIL><HOME/><USERID>a@b</USERID></EMAIL><EMAIL><WORK/><USERID>c@d</USERID></EMAIL>` +
        `<NOTE>On the balcony</NOTE></vCard></iq>`,
    );
    const s = await nextIq('set', NS_VCARD);
    assert.equal(
      wire(s),
      `<iq type='set' id='${s.attr('id')}'><vCard xmlns='vcard-temp'><FN>Juliet</FN><NICKNAME>jules</NICKNAME>` +
        `<DESC>On the balcony</DESC><TEL><HOME/><NUMBER>1</NUMBER></TEL><TEL><CELL/><NUMBER/></TEL>` +
        `<EMAIL><HOME/><USERID>a@b</USERID></EMAIL><EMAIL><WORK/><USERID>c@d</USERID></EMAIL></vCard></iq>`,
    );
    t.recv(`<iq type='result' id='${s.attr('id')}'/>`);
    assert.equal((await p).description, 'On the balcony');
  });

  test('update with no vCard yet sets just the patch; a failing get sends no set', async () => {
    const { vcards, nextIq, t } = await setup();
    const p = vcards.update({ fullName: 'Juliet' });
    t.recv(spec('xep0054-not-found.xml', (await nextIq('get', NS_VCARD)).attr('id')!));
    const s = await nextIq('set', NS_VCARD);
    assert.equal(
      wire(s),
      `<iq type='set' id='${s.attr('id')}'><vCard xmlns='vcard-temp'><FN>Juliet</FN></vCard></iq>`,
    );
    t.recv(`<iq type='result' id='${s.attr('id')}'/>`);
    assert.deepEqual(await p, { fullName: 'Juliet' });

    const pf = vcards.update({ fullName: 'Juliet' });
    const g = await nextIq('get', NS_VCARD);
    t.recv(
      `<iq type='error' id='${g.attr('id')}'><error type='wait'><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
    await assert.rejects(
      pf,
      (e: unknown) => e instanceof StanzaError && e.condition === 'resource-constraint',
    );
    // The next thing on the wire is our next request, not a set that would wipe the card.
    const pn = vcards.get();
    const n = await nextIq('get', NS_VCARD);
    t.recv(spec('xep0054-empty.xml', n.attr('id')!));
    assert.equal(await pn, undefined);
  });
});

describe('vcard: photo', () => {
  test('photo bytes from a BINVAL wrapped over lines; none; not base64', async () => {
    const { vcards, nextIq, t } = await setup();
    const p = vcards.get('romeo@montague.lit');
    const q = await nextIq('get', NS_VCARD);
    // "GIF89a" plus two bytes, base64 broken over lines as servers and clients store it.
    t.recv(
      `<iq type='result' id='${q.attr('id')}' from='romeo@montague.lit'><vCard xmlns='${NS_VCARD}'><PHOTO><TYPE>image/gif</TYPE><BINVAL>\n  R0lG\n  ODlh\n  AP8=\n</BINVAL></PHOTO></vCard></iq>`,
    );
    const card = await p;
    assert.deepEqual(card?.photo, { type: 'image/gif', binval: 'R0lGODlhAP8=' });
    const ph = photoBytes(card!);
    assert.equal(ph?.type, 'image/gif');
    assert.deepEqual(ph?.bytes, new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x00, 0xff]));

    assert.equal(photoBytes({ fullName: 'no photo' }), undefined);
    assert.equal(photoBytes({ photo: { extval: 'https://example.org/a.png' } }), undefined);
    assert.throws(
      () => photoBytes({ photo: { type: 'image/png', binval: 'not*base64' } }),
      (e: unknown) => e instanceof ConfabError && e.code === 'ERR_BAD_REPLY',
    );
  });
});
