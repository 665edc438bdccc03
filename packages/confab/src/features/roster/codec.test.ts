// Round trips of the roster codec against the RFC 6121 examples in fixtures/, plus the
// declaration's edge cases and the Store record form.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { el, wire } from '../../../test/helpers/memory-transport.ts';
import {
  fromRecord,
  itemElement,
  NS_ROSTER,
  parseItem,
  parseQuery,
  type RosterItem,
  rosterGet,
  rosterRemove,
  rosterSet,
  toRecord,
} from './codec.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const query = (name: string) => {
  const q = el(fixture(name)).getChild('query', NS_ROSTER);
  assert.ok(q, name);
  return parseQuery(q);
};
const items = (name: string): RosterItem[] =>
  query(name).items.map((c) => {
    assert.equal(c.remove, false);
    return (c as { item: RosterItem }).item;
  });

describe('roster codec (fixtures)', () => {
  test('RFC 6121 2.1.4 roster result: version, items, names, groups, subscriptions', () => {
    const q = query('rfc6121-result.xml');
    assert.equal(q.ver, 'ver11');
    assert.deepEqual(items('rfc6121-result.xml'), [
      {
        jid: 'romeo@example.net',
        name: 'Romeo',
        subscription: 'both',
        pending: false,
        approved: false,
        groups: ['Friends'],
      },
      {
        jid: 'mercutio@example.com',
        name: 'Mercutio',
        subscription: 'from',
        pending: false,
        approved: false,
        groups: [],
      },
      {
        jid: 'benvolio@example.net',
        name: 'Benvolio',
        subscription: 'both',
        pending: false,
        approved: false,
        groups: [],
      },
    ]);
  });

  test('items are built back byte for byte', () => {
    const q = el(fixture('rfc6121-result.xml')).getChild('query', NS_ROSTER)!;
    const built = items('rfc6121-result.xml').map((i) => wire(itemElement(i)));
    assert.deepEqual(
      built,
      q.getChildren('item').map((i) => wire(i).replace(` xmlns='${NS_ROSTER}'`, '')),
    );
  });

  test('RFC 6121 2.1.6 push and 2.5.2 removal push', () => {
    const push = query('rfc6121-push.xml');
    assert.equal(push.ver, 'ver13');
    assert.equal(push.items.length, 1);
    assert.deepEqual(items('rfc6121-push.xml')[0]?.groups, ['Servants']);
    const rm = query('rfc6121-push-remove.xml');
    assert.deepEqual(rm.items, [{ remove: true, jid: 'nurse@example.com' }]);
  });

  test('RFC 6121 3.1.2 pending out (ask) and 3.4 pre-approval (approved)', () => {
    const p = items('rfc6121-pending.xml')[0]!;
    assert.equal(p.pending, true);
    assert.equal(p.subscription, 'none');
    assert.equal(
      wire(itemElement(p)),
      "<item jid='juliet@example.com' subscription='none' ask='subscribe'/>",
    );
    const a = items('rfc6121-approved.xml')[0]!;
    assert.equal(a.approved, true);
    assert.equal(wire(itemElement(a)), "<item jid='romeo@example.net' subscription='none' approved='true'/>");
  });

  test('RFC 6121 2.6.3 empty result has no query', () => {
    assert.equal(el(fixture('rfc6121-empty-result.xml')).getChild('query', NS_ROSTER), undefined);
  });
});

describe('roster codec (edge cases and requests)', () => {
  test('bad items: no jid skipped; unknown subscription reads as none; full JID cut to bare; empty and duplicate groups dropped', () => {
    const q = parseQuery(
      el(
        "<query xmlns='jabber:iq:roster'><item name='x'/><item jid='a@b/res' subscription='weird'><group></group><group>G</group><group>G</group></item></query>",
      ),
    );
    assert.deepEqual(q.items, [
      {
        remove: false,
        item: {
          jid: 'a@b',
          name: undefined,
          subscription: 'none',
          pending: false,
          approved: false,
          groups: ['G'],
        },
      },
    ]);
    assert.equal(parseItem(el("<item jid='not a jid@@'/>")), undefined);
  });

  test('requests: get with version, set with groups, remove', () => {
    assert.equal(wire(rosterGet('')), "<query xmlns='jabber:iq:roster' ver=''/>");
    assert.equal(wire(rosterGet(undefined)), "<query xmlns='jabber:iq:roster'/>");
    assert.equal(
      wire(rosterSet('nurse@example.com', 'Nurse', ['Servants'])),
      "<query xmlns='jabber:iq:roster'><item jid='nurse@example.com' name='Nurse'><group>Servants</group></item></query>",
    );
    assert.equal(
      wire(rosterRemove('nurse@example.com')),
      "<query xmlns='jabber:iq:roster'><item jid='nurse@example.com' subscription='remove'/></query>",
    );
  });

  test('Store records round-trip and reject garbage', () => {
    const it = items('rfc6121-result.xml')[0]!;
    assert.deepEqual(fromRecord(JSON.parse(JSON.stringify(toRecord(it)))), it);
    assert.equal(fromRecord({ jid: 'a@b', subscription: 'sometimes' }), undefined);
    assert.equal(fromRecord('x'), undefined);
  });
});
