// Codec fixtures from the specs (RFC 6121 5, RFC 6120 8.3, and the XEPs named in codec/*.ts):
// each fixture parses into the expected model, and each declared extension element round
// trips (read by its declaration, written back, same XML up to attribute order).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { BareJid } from '../../jid.ts';
import { type Element, xml } from '../../xml/element.ts';
import { parseXml } from '../../xml/parser.ts';
import { serialize } from '../../xml/serializer.ts';
import { ADDRESSES } from './codec/addressing.ts';
import { X_CONFERENCE } from './codec/conference.ts';
import { REPLACE } from './codec/correction.ts';
import { DELAY, LEGACY_DELAY } from './codec/delay.ts';
import { X_EVENT } from './codec/events.ts';
import { X_EXPIRE } from './codec/expire.ts';
import { X_ENCRYPTED } from './codec/legacy-pgp.ts';
import { MARKERS } from './codec/markers.ts';
import { X_OOB } from './codec/oob.ts';
import { RECEIPT_RECEIVED } from './codec/receipts.ts';
import { APPLY_TO_RETRACT, FALLBACK, RETRACT } from './codec/retraction.ts';
import { X_LEGACY_ROSTER, X_ROSTERX } from './codec/rosterx.ts';
import { type ElementSpec, matches, read, write } from './codec/schema.ts';
import { STANZA_ID } from './codec/sid.ts';
import { buildMessage, type Message, parseMessage } from './codec.ts';

const SELF = 'romeo@montague.lit' as BareJid;
const NOW = new Date('2002-09-10T23:30:00Z');

function fixture(name: string): Element {
  return parseXml(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim());
}
function parse(name: string, self: string = SELF): Message {
  return parseMessage(fixture(name), { self: self as BareJid, now: NOW });
}

/** Serialization with attributes sorted, for order-insensitive comparison. */
function canon(e: Element): string {
  const c = (x: Element): Element =>
    xml(
      x.name,
      Object.fromEntries([
        ['xmlns', x.xmlns],
        ...Object.entries(x.attrs).sort(([a], [b]) => (a < b ? -1 : 1)),
      ]),
      ...x.children.map((k) => (typeof k === 'string' ? k : c(k))),
    );
  return serialize(c(e), 'jabber:client');
}

/** Every child of the fixture's message that is `spec` round trips through read + write. */
function roundTrip(name: string, spec: ElementSpec): number {
  const msg = fixture(name);
  let n = 0;
  for (const el of msg.elements()) {
    if (!matches(spec, el)) continue;
    assert.equal(canon(write(spec, read(spec, el))), canon(el), `${name}: <${el.name} xmlns='${el.xmlns}'>`);
    n++;
  }
  assert.ok(n > 0, `${name} has no <${spec.name}>`);
  return n;
}

describe('RFC 6121 core', () => {
  test('type, subject and body with xml:lang alternatives, thread with parent', () => {
    const m = parse('rfc6121-chat.xml');
    assert.equal(m.type, 'chat');
    assert.equal(m.from, 'juliet@example.com/balcony');
    assert.equal(m.lang, 'en');
    assert.equal(m.body, 'Wherefore art thou, Romeo?');
    assert.deepEqual(m.bodies, [
      { lang: undefined, text: 'Wherefore art thou, Romeo?' },
      { lang: 'cs', text: 'Proč se to jmenuješ Romeo?' },
    ]);
    assert.equal(m.subject, 'I implore you!');
    assert.equal(m.subjects[1]?.lang, 'cs');
    assert.equal(m.thread, 'e0ffe42b28561960c6b12b944a092794b9683a38');
    assert.equal(m.threadParent, '7edac73ab41e45c4aafa7b2d7b749080');
  });

  test('an unknown type reads as normal; a missing from is our bare JID', () => {
    const m = parseMessage(parseXml("<message xmlns='jabber:client' type='bogus'><body>x</body></message>"), {
      self: SELF,
    });
    assert.equal(m.type, 'normal');
    assert.equal(m.from, SELF);
  });

  test('error: the StanzaError and the echoed body', () => {
    const m = parse('rfc6120-error.xml');
    assert.equal(m.type, 'error');
    assert.equal(m.error?.condition, 'service-unavailable');
    assert.equal(m.error?.type, 'cancel');
    assert.equal(m.error?.text, 'Nobody here');
    assert.equal(m.body, 'Wherefore art thou, Romeo?');
  });

  test('build: subject, bodies, thread (generated when asked), id', () => {
    const el = buildMessage({
      to: 'juliet@example.com',
      body: 'hi',
      bodies: [{ lang: 'cs', text: 'ahoj' }],
      subject: 's',
      thread: true,
      id: 'm1',
    });
    const m = parseMessage(el, { self: SELF });
    assert.equal(m.id, 'm1');
    assert.equal(m.type, 'chat');
    assert.equal(m.subject, 's');
    assert.deepEqual(m.bodies, [
      { lang: undefined, text: 'hi' },
      { lang: 'cs', text: 'ahoj' },
    ]);
    assert.match(m.thread ?? '', /^[0-9a-z]+-[\w-]{16}$/);
    const other = parseMessage(buildMessage({ to: 'x@y', thread: true }), { self: SELF });
    assert.notEqual(other.thread, m.thread);
  });
});

describe('XEP-0203 / XEP-0091 delay', () => {
  test('XEP-0203 stamp, from and reason', () => {
    const m = parse('xep0203-delay.xml');
    assert.equal(m.delay?.stamp.toISOString(), '2002-09-10T23:08:25.000Z');
    assert.equal(m.delay?.from, 'capulet.com');
    assert.equal(m.delay?.reason, 'Offline Storage');
    assert.equal(m.delay?.legacy, false);
    roundTrip('xep0203-delay.xml', DELAY);
  });
  test('legacy jabber:x:delay (CCYYMMDDThh:mm:ss, UTC) is read', () => {
    const m = parse('xep0091-delay.xml');
    assert.equal(m.delay?.stamp.toISOString(), '2002-09-10T23:08:25.000Z');
    assert.equal(m.delay?.legacy, true);
    roundTrip('xep0091-delay.xml', LEGACY_DELAY);
  });
});

describe('XEP-0359 ids', () => {
  test('origin-id; stanza-id only when by is trusted', () => {
    const m = parse('xep0359-ids.xml');
    assert.equal(m.originId, 'de305d54-75b4-431b-adb2-eb6b9e546013');
    assert.equal(m.stanzaId(), '5f3dbc5e-e1d3-4077-a492-693f3769c7ad');
    assert.equal(m.stanzaId('mallory@evil.lit'), undefined, 'an id by someone we do not trust');
    roundTrip('xep0359-ids.xml', STANZA_ID);
  });
  test('the archive we queried is trusted for its own ids', () => {
    const m = parseMessage(fixture('xep0359-ids.xml'), { self: SELF, trusted: ['mallory@evil.lit'] });
    assert.equal(m.stanzaId('mallory@evil.lit'), 'forged');
  });
});

describe('extensions', () => {
  test('XEP-0033 addresses', () => {
    const m = parse('xep0033-addresses.xml');
    assert.deepEqual(
      m.addresses.map((a) => [a.type, a.jid, a.desc, a.delivered]),
      [
        ['to', 'hildjj@jabber.org/Work', 'Joe Hildebrand', undefined],
        ['cc', 'jer@jabber.org/Home', 'Jeremie Miller', undefined],
        ['bcc', 'stpeter@jabber.org', undefined, undefined],
        ['replyto', 'hildjj@jabber.org/Work', undefined, true],
      ],
    );
    roundTrip('xep0033-addresses.xml', ADDRESSES);
  });
  test('XEP-0308 replace', () => {
    assert.equal(parse('xep0308-correction.xml').replace, 'bad1');
    roundTrip('xep0308-correction.xml', REPLACE);
  });
  test('XEP-0424 retract (1) with the XEP-0428 fallback, and 0.3 apply-to', () => {
    const m = parse('xep0424-retraction.xml');
    assert.equal(m.retract, 'origin-id-1');
    assert.deepEqual(m.fallbackFor, ['urn:xmpp:message-retract:1']);
    roundTrip('xep0424-retraction.xml', RETRACT);
    roundTrip('xep0424-retraction.xml', FALLBACK);
    assert.equal(parse('xep0424-retraction-0.3.xml').retract, 'origin-id-1');
    roundTrip('xep0424-retraction-0.3.xml', APPLY_TO_RETRACT);
  });
  test('XEP-0184 request and received', () => {
    assert.deepEqual(parse('xep0184-request.xml').receipt, { request: true, received: undefined });
    assert.deepEqual(parse('xep0184-received.xml').receipt, { request: false, received: 'richard2-4.1.247' });
    roundTrip('xep0184-received.xml', RECEIPT_RECEIVED);
  });
  test('XEP-0085 chat state', () => {
    const m = parse('xep0085-composing.xml');
    assert.equal(m.chatState, 'composing');
    assert.equal(m.thread, 'act2scene2chat1');
  });
  test('XEP-0333 markable and displayed', () => {
    assert.deepEqual(parse('xep0333-markable.xml').markers, { markable: true });
    assert.deepEqual(parse('xep0333-displayed.xml').markers, { markable: false, displayed: 'message-1' });
    roundTrip('xep0333-displayed.xml', MARKERS.displayed);
  });
  test('XEP-0022 request and notification', () => {
    assert.deepEqual(parse('xep0022-request.xml').events, {
      events: ['offline', 'delivered', 'composing'],
      id: undefined,
      kind: 'request',
    });
    assert.deepEqual(parse('xep0022-notification.xml').events, {
      events: ['delivered'],
      id: 'message22',
      kind: 'notification',
    });
    roundTrip('xep0022-request.xml', X_EVENT);
    roundTrip('xep0022-notification.xml', X_EVENT);
  });
  test('XEP-0023 expire: seconds, stored, and when it runs out', () => {
    const m = parse('xep0023-expire.xml');
    assert.deepEqual(m.expire, { seconds: 1800, stored: 912830221 });
    // No delay stamp: the lifetime starts when it was stored.
    assert.equal(m.expiresAt?.getTime(), (912830221 + 1800) * 1000);
    roundTrip('xep0023-expire.xml', X_EXPIRE);
  });
  test('XEP-0066 oob, several', () => {
    assert.deepEqual(parse('xep0066-oob.xml').oob, [
      { url: 'http://www.jabber.org/images/psa-license.jpg', desc: 'A license to Jabber!' },
      { url: 'https://example.org/second.png', desc: undefined },
    ]);
    roundTrip('xep0066-oob.xml', X_OOB);
  });
  test('XEP-0144 and legacy jabber:x:roster items', () => {
    assert.deepEqual(parse('xep0144-rosterx.xml').rosterItems, [
      { action: 'add', jid: 'rosencrantz@denmark.lit', name: 'Rosencrantz', groups: ['Visitors'] },
      {
        action: 'delete',
        jid: 'guildenstern@denmark.lit',
        name: 'Guildenstern',
        groups: ['Visitors', 'Friends'],
      },
    ]);
    assert.deepEqual(parse('legacy-x-roster.xml').rosterItems, [
      { action: 'add', jid: 'rosencrantz@denmark.lit', name: 'Rosencrantz', groups: ['Visitors'] },
    ]);
    roundTrip('xep0144-rosterx.xml', X_ROSTERX);
    roundTrip('legacy-x-roster.xml', X_LEGACY_ROSTER);
  });
  test('XEP-0249 direct invitation and the legacy jabber:x:conference', () => {
    assert.deepEqual(parse('xep0249-invite.xml').invitation, {
      room: 'darkcave@macbeth.shakespeare.lit',
      reason: 'Hey Hecate, this is the place for all good witches!',
      password: 'cauldronburn',
      continue: true,
      thread: 'e0ffe42b28561960c6b12b944a092794b9683a38',
    });
    assert.deepEqual(parse('legacy-x-conference.xml').invitation, {
      room: 'talk@conference.example.org',
      reason: 'Come and chat',
      password: undefined,
      continue: false,
      thread: undefined,
    });
    roundTrip('xep0249-invite.xml', X_CONFERENCE);
  });
  test('XEP-0027 encrypted payload exposed as text', () => {
    assert.match(parse('xep0027-encrypted.xml').encrypted ?? '', /^qANQR1DBwU4DX7jm/);
    roundTrip('xep0027-encrypted.xml', X_ENCRYPTED);
  });
  test('build carries every extension and parses back to the same model', () => {
    const el = buildMessage({
      to: 'juliet@capulet.lit',
      id: 'x1',
      body: 'b',
      receipt: true,
      markable: true,
      chatState: 'active',
      events: ['delivered', 'displayed'],
      expire: 60,
      oob: [{ url: 'https://e.org/f', desc: 'f' }],
      addresses: [{ type: 'to', jid: 'a@b' }],
      rosterItems: [{ jid: 'nurse@capulet.lit', name: 'Nurse', groups: ['Friends'] }],
      invitation: { room: 'room@muc.capulet.lit', reason: 'come', password: 'pw' },
      xhtml: xml('html', { xmlns: 'http://jabber.org/protocol/xhtml-im' }),
    });
    const m = parseMessage(el, { self: SELF });
    assert.deepEqual(m.receipt, { request: true, received: undefined });
    assert.equal(m.markers.markable, true);
    assert.equal(m.chatState, 'active');
    assert.deepEqual(m.events?.events, ['delivered', 'displayed']);
    assert.equal(m.expire?.seconds, 60);
    assert.deepEqual(m.oob, [{ url: 'https://e.org/f', desc: 'f' }]);
    assert.equal(m.addresses[0]?.jid, 'a@b');
    assert.deepEqual(m.rosterItems, [
      { action: 'add', jid: 'nurse@capulet.lit', name: 'Nurse', groups: ['Friends'] },
    ]);
    assert.equal(m.invitation?.room, 'room@muc.capulet.lit');
    assert.ok(m.xhtml);
  });
  test('values outside the declaration read as absent', () => {
    const m = parseMessage(
      parseXml(
        "<message xmlns='jabber:client'><x xmlns='jabber:x:expire' seconds='soon'/><delay xmlns='urn:xmpp:delay' stamp='yesterday'/><x xmlns='http://jabber.org/protocol/rosterx'><item action='steal' jid='a@b'/><item jid='@@bad'/></x></message>",
      ),
      { self: SELF },
    );
    assert.equal(m.expire, undefined);
    assert.equal(m.delay, undefined);
    assert.deepEqual(
      m.rosterItems.map((i) => i.action),
      ['add'],
    );
  });
});
