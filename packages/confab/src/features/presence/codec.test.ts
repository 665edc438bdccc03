// Round trips of the presence codec against the spec examples in fixtures/ (RFC 6121 4.7,
// XEP-0203, XEP-0091, XEP-0319, XEP-0027, XEP-0172), plus the declaration's edge cases.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { el, wire } from '../../../test/helpers/memory-transport.ts';
import {
  buildPresence,
  formatDateTime,
  PRESENCE_FIELDS,
  parseDateTime,
  parseLegacyStamp,
  parsePresenceStanza,
  readFields,
} from './codec.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const parse = (name: string) => {
  const p = parsePresenceStanza(el(fixture(name)));
  assert.ok(p, name);
  return p;
};

describe('presence codec (fixtures)', () => {
  test('RFC 6121 available with show, status, priority: parsed and built back byte for byte', () => {
    const p = parse('rfc6121-available.xml');
    assert.equal(p.type, 'available');
    assert.equal(p.from, 'juliet@example.com/balcony');
    assert.equal(p.show, 'dnd');
    assert.equal(p.status, 'Wooing Romeo');
    assert.equal(p.priority, 1);
    assert.equal(p.delay, undefined);
    const built = buildPresence({ to: p.to, show: p.show, status: p.status, priority: p.priority });
    built.attrs = { from: p.from!, ...built.attrs };
    assert.equal(wire(built), fixture('rfc6121-available.xml'));
  });

  test('RFC 6121 unavailable with status', () => {
    const p = parse('rfc6121-unavailable.xml');
    assert.equal(p.type, 'unavailable');
    assert.equal(p.status, 'gone home');
    const built = buildPresence({ type: 'unavailable', status: 'gone home' });
    assert.equal(wire(built), "<presence type='unavailable'><status>gone home</status></presence>");
  });

  test('presence error: condition and type surfaced as a StanzaError', () => {
    const p = parse('rfc6121-error.xml');
    assert.equal(p.type, 'error');
    assert.equal(p.error?.code, 'ERR_STANZA');
    assert.equal(p.error?.condition, 'remote-server-not-found');
    assert.equal(p.error?.type, 'cancel');
  });

  test('XEP-0203 delay read; written back as XEP-0203', () => {
    const p = parse('xep0203-delay.xml');
    assert.equal(p.show, 'xa');
    assert.equal(p.delay?.legacy, false);
    assert.equal(p.delay?.stamp.toISOString(), '2002-09-10T23:41:07.000Z');
    assert.equal(p.delay?.from, 'juliet@capulet.com/balcony');
    const built = buildPresence({ show: p.show, status: p.status, priority: p.priority, delay: p.delay });
    const again = parsePresenceStanza(el(wire(built)))!;
    assert.deepEqual(
      {
        show: again.show,
        status: again.status,
        priority: again.priority,
        stamp: again.delay?.stamp,
        legacy: again.delay?.legacy,
      },
      { show: 'xa', status: 'anon!', priority: 1, stamp: p.delay!.stamp, legacy: false },
    );
  });

  test('XEP-0091 legacy delay read (UTC, CCYYMMDDThh:mm:ss); never written', () => {
    const p = parse('xep0091-delay.xml');
    assert.equal(p.delay?.legacy, true);
    assert.equal(p.delay?.stamp.toISOString(), '2002-09-10T23:41:07.000Z');
    const built = buildPresence({ delay: p.delay });
    assert.ok(built.getChild('delay', 'urn:xmpp:delay'));
    assert.equal(built.getChild('x', 'jabber:x:delay'), undefined);
  });

  test('XEP-0203 wins over XEP-0091 when a stanza carries both', () => {
    const both = el(
      "<presence><delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/><x xmlns='jabber:x:delay' stamp='19990101T00:00:00'/></presence>",
    );
    assert.equal(parsePresenceStanza(both)?.delay?.stamp.getUTCFullYear(), 2020);
  });

  test('XEP-0319 idle: read, and built byte for byte', () => {
    const p = parse('xep0319-idle.xml');
    assert.equal(p.idleSince?.toISOString(), '1969-07-21T02:56:15.000Z');
    const built = buildPresence({ show: 'away', idleSince: p.idleSince });
    built.attrs = { from: p.from!, ...built.attrs };
    assert.equal(wire(built), fixture('xep0319-idle.xml'));
  });

  test('XEP-0027 jabber:x:signed payload exposed, unverified; jabber:x:encrypted likewise', () => {
    const p = parse('xep0027-signed.xml');
    assert.match(p.signed!, /^iQA\/AwUBOjU5/);
    assert.equal(p.encrypted, undefined);
    const enc = parsePresenceStanza(
      el("<presence><x xmlns='jabber:x:encrypted'>\n qANQR1DBwU4D\n</x></presence>"),
    );
    assert.equal(enc?.encrypted, 'qANQR1DBwU4D');
  });

  test('XEP-0172 nick in a subscription request; built byte for byte', () => {
    const p = parse('xep0172-subscribe.xml');
    assert.equal(p.type, 'subscribe');
    assert.equal(p.nick, 'Ishmael');
    const built = buildPresence({ type: 'subscribe', to: p.to, nick: p.nick });
    built.attrs = { from: p.from!, to: built.attrs.to!, type: built.attrs.type! };
    assert.equal(wire(built), fixture('xep0172-subscribe.xml'));
  });
});

describe('presence codec (declaration edge cases)', () => {
  test('values outside RFC 6121 4.7.2 read as absent', () => {
    const f = readFields(
      PRESENCE_FIELDS,
      el('<presence><show>busy</show><priority>300</priority></presence>'),
    );
    assert.deepEqual(f, { show: undefined, status: undefined, priority: undefined });
    const g = readFields(
      PRESENCE_FIELDS,
      el('<presence><show> away </show><priority>-128</priority></presence>'),
    );
    assert.equal(g.show, 'away');
    assert.equal(g.priority, -128);
    assert.equal(
      readFields(PRESENCE_FIELDS, el('<presence><priority>1e2</priority></presence>')).priority,
      undefined,
    );
  });

  test('an undefined presence type is dropped', () => {
    assert.equal(parsePresenceStanza(el("<presence type='invisible'/>")), undefined);
    assert.equal(parsePresenceStanza(el("<presence type='available'/>"))?.type, 'available');
  });

  test('the builder refuses what the declaration forbids', () => {
    assert.throws(() => buildPresence({ priority: 128 }), RangeError);
    assert.throws(() => buildPresence({ show: 'busy' as never }), RangeError);
  });

  test('XEP-0082 date-times: strict shape, offsets, fractions', () => {
    assert.equal(parseDateTime('2002-09-10T23:41:07.123+02:00')?.toISOString(), '2002-09-10T21:41:07.123Z');
    assert.equal(parseDateTime('2002-09-10'), undefined);
    assert.equal(parseDateTime('yesterday'), undefined);
    assert.equal(parseLegacyStamp('2002-09-10T23:41:07'), undefined);
    assert.equal(formatDateTime(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))), '2024-01-02T03:04:05Z');
  });
});
