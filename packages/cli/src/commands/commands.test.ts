import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../args.ts';
import { parseRootIn } from '../xmltext.ts';
import { imageSize, imageType, vcardLines } from './identity.ts';
import { rosterFields, rosterLine } from './roster.ts';

const PNG_2X3 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAEUlEQVR4nGP4z8DAwMDAAAAM/wH/VgBlzgAAAABJRU5ErkJggg==',
  'base64',
);

describe('roster rendering', () => {
  const item = {
    jid: 'romeo@example.net',
    name: 'Romeo\u202e',
    groups: ['Friends', 'Ver\u001b[2Jona'],
    subscription: 'both' as const,
    ask: undefined,
    approved: false,
  };
  it('prints presence only where we see it, remote text sanitized', () => {
    const on = { available: true, show: 'away', status: 'At\u0007 lunch', resources: 1 };
    assert.equal(rosterLine(item, on), 'romeo@example.net (Romeo) [Friends, Verona] both; away "At lunch"');
    assert.equal(rosterLine(item, undefined), 'romeo@example.net (Romeo) [Friends, Verona] both; offline');
    const none = {
      ...item,
      subscription: 'none' as const,
      ask: 'subscribe' as const,
      groups: [],
      name: undefined,
    };
    assert.equal(rosterLine(none, undefined), 'romeo@example.net none, asked');
  });
  it('gives the JSON fields under their XMPP names', () => {
    assert.deepEqual(rosterFields(item, undefined), {
      jid: item.jid,
      name: item.name,
      groups: item.groups,
      subscription: 'both',
      ask: undefined,
      approved: undefined,
      available: false,
    });
    const none = { ...item, subscription: 'from' as const };
    assert.equal('available' in rosterFields(none, undefined), false);
  });
});

describe('images', () => {
  it('knows PNG and JPEG by their first bytes and reads the dimensions', () => {
    assert.equal(imageType(PNG_2X3), 'image/png');
    assert.deepEqual(imageSize(PNG_2X3), { width: 2, height: 3 });
    // SOI, an APP0 segment, then SOF0 with height 7 and width 5.
    const jpeg = Uint8Array.from([
      0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x07, 0x00, 0x05,
      0x01, 0x01, 0x11, 0x00,
    ]);
    assert.equal(imageType(jpeg), 'image/jpeg');
    assert.deepEqual(imageSize(jpeg), { width: 5, height: 7 });
    assert.equal(imageType(new TextEncoder().encode('hello')), undefined);
  });
});

describe('vcard lines', () => {
  it('labels the fields and sanitizes them', () => {
    assert.deepEqual(
      vcardLines({
        fn: 'Juliet\u202e',
        email: [{ userid: 'j@example.org', flags: ['internet', 'home'] }],
        photo: { type: 'image/png', binval: PNG_2X3.toString('base64') },
      }),
      ['Full name: Juliet', 'Email: j@example.org (home)', `Photo: image/png, ${PNG_2X3.length} bytes`],
    );
  });
});

describe('XML on the command line', () => {
  it('puts the root in NAMESPACE by default and checks it', () => {
    const el = parseRootIn('urn:x', '<prefs><theme>dark</theme></prefs>', 'private set');
    assert.equal(el.name, 'prefs');
    assert.equal(el.xmlns, 'urn:x');
    assert.equal(el.getChildText('theme', 'urn:x'), 'dark');
    assert.equal(parseRootIn('urn:x', "<prefs xmlns='urn:x'/>", 'private get').name, 'prefs');
    assert.throws(() => parseRootIn('urn:x', "<prefs xmlns='urn:y'/>", 'private set'), UsageError);
    assert.throws(() => parseRootIn('urn:x', '<a/><b/>', 'private set'), /exactly one element/);
    assert.throws(() => parseRootIn('urn:x', 'text<a/>', 'private set'), /exactly one element/);
    assert.throws(() => parseRootIn('urn:x', '<a>', 'private set'), /not well-formed/);
  });
});
