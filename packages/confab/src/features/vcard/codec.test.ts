// The vCard codec (XEP-0054 v1.3.0) against the spec's examples and a card with every kind of
// repeat: nothing with content is lost on read + write, the parts the DTD requires are written,
// and a second parse reads the same card.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { el, wire } from '../../../test/helpers/memory-transport.ts';
import type { Element } from '../../xml/element.ts';
import { buildVCard, NS_VCARD, parseVCard, type VCard } from './codec.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim();

/** The `<vCard/>` of a fixture (an iq around it, or the vCard itself). */
function card(name: string): Element {
  const e = el(fixture(name));
  return e.name === 'vCard' ? e : e.getChild('vCard', NS_VCARD)!;
}

/** Every text with content, with the path of element names to it ("TEL/NUMBER 303-..."). */
function leaves(e: Element, path = ''): string[] {
  const out: string[] = [];
  const here = path ? `${path}/${e.name}` : e.name;
  const t = e.children
    .filter((c): c is string => typeof c === 'string')
    .join('')
    .trim();
  if (t !== '') out.push(`${here} ${t}`);
  for (const c of e.elements()) out.push(...leaves(c, here));
  return out;
}

/** The elements present (empty ones too), with their paths: flags and required parts. */
function shape(e: Element, path = ''): string[] {
  const here = path ? `${path}/${e.name}` : e.name;
  return [here, ...e.elements().flatMap((c) => shape(c, here))];
}

const sorted = (xs: string[]) => [...xs].sort();
const named = (e: Element) => `${e.name} ${e.text()}`;

describe('vcard codec: XEP-0054 examples round trip', () => {
  for (const name of ['xep0054-own.xml', 'xep0054-set.xml', 'xep0054-other.xml', 'repeated.xml']) {
    test(`${name}: read, write, read again: the same card, every text kept`, () => {
      const original = card(name);
      const parsed = parseVCard(original);
      const written = el(wire(buildVCard(parsed)));
      assert.deepEqual(sorted(leaves(written)), sorted(leaves(original)));
      assert.deepEqual(
        JSON.parse(JSON.stringify(parseVCard(written), (_k, v) => (v?.name && v.children ? wire(v) : v))),
        JSON.parse(JSON.stringify(parsed, (_k, v) => (v?.name && v.children ? wire(v) : v))),
      );
    });
  }

  test('example 2: the empty parts the DTD requires come back (<NUMBER/> in TEL, flags kept)', () => {
    const original = card('xep0054-own.xml');
    const written = el(wire(buildVCard(parseVCard(original))));
    // Only optional empty parts (<MIDDLE/>, <ORGUNIT/>, <EXTADD/>, <STREET/>) may go.
    const optionalEmpty = ['vCard/N/MIDDLE', 'vCard/ORG/ORGUNIT', 'vCard/ADR/EXTADD', 'vCard/ADR/STREET'];
    const expected = sorted(shape(original)).filter((p) => !optionalEmpty.includes(p));
    const got = sorted(shape(written)).filter((p) => !optionalEmpty.includes(p));
    assert.deepEqual(got, expected);
    assert.equal(written.getChildren('TEL').length, 6);
    for (const t of written.getChildren('TEL')) assert.ok(t.getChild('NUMBER', NS_VCARD), wire(t));
  });
});

describe('vcard codec: repeats and required parts', () => {
  test('a second FN and PHOTO, extra ORGUNITs, an X- child of TEL, LABEL, CATEGORIES, NOTE: kept', () => {
    const c = parseVCard(card('repeated.xml'));
    assert.equal(c.fullName, 'Juliet Capulet');
    assert.equal(c.photo?.type, 'image/png');
    assert.equal(c.org?.name, 'House Capulet');
    assert.equal(c.org?.unit, 'Household');
    assert.deepEqual(c.org?.extra?.map(named), ['ORGUNIT Balcony']);
    assert.deepEqual(
      c.tel?.map((t) => [t.number, t.flags, t.extra?.map(named)]),
      [
        ['+39 045 1', ['HOME', 'VOICE'], undefined],
        ['+39 045 2', ['CELL'], ['X-EXT 9']],
        [undefined, ['WORK', 'FAX'], undefined],
      ],
    );
    assert.deepEqual(
      c.email?.map((e) => [e.userid, e.flags]),
      [
        ['juliet@capulet.lit', ['INTERNET', 'PREF']],
        [undefined, ['WORK']],
      ],
    );
    assert.equal(c.address?.length, 2);
    assert.deepEqual(
      c.extra?.map((e) => e.name),
      ['FN', 'PHOTO', 'LABEL', 'CATEGORIES', 'NOTE', 'x'],
    );
  });

  test('a card built from scratch: TEL without a number and EMAIL without an address stay valid', () => {
    const built: VCard = {
      fullName: 'Romeo',
      tel: [{ flags: ['CELL'] }],
      email: [{ flags: ['HOME'] }],
      org: { unit: 'Montague' },
    };
    assert.equal(
      wire(buildVCard(built)),
      "<vCard xmlns='vcard-temp'><FN>Romeo</FN><ORG><ORGNAME/><ORGUNIT>Montague</ORGUNIT></ORG><TEL><CELL/><NUMBER/></TEL><EMAIL><HOME/><USERID/></EMAIL></vCard>",
    );
  });
});
