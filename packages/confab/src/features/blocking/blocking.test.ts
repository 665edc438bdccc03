// Dialogue tests of XEP-0191 v1.3 (block, unblock, unblock all, list, pushes and their origin
// check) and the buddies-only filter with its setting in XEP-0049 private storage.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { el } from '../../../test/helpers/memory-transport.ts';
import { FULL, online } from '../../../test/helpers/online.ts';
import { type Jid, jid } from '../../jid.ts';
import { NS_PRIVATE } from '../private/codec.ts';
import { PrivateStorage } from '../private/private.ts';
import { Blocking } from './blocking.ts';
import { BuddiesOnly, createBuddiesOnlyFilter } from './buddies-only.ts';
import { isBlockedError, NS_BLOCKING, NS_PREFS } from './codec.ts';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

describe('blocking', () => {
  test('list, block, unblock, unblock all (XEP-0191 3.2-3.5 examples)', async () => {
    const { client, nextIq, t } = await online();
    const blocking = new Blocking({ client });
    const pl = blocking.list();
    const l = await nextIq('get', NS_BLOCKING);
    assert.equal(l.attr('to'), undefined);
    t.recv(
      `<iq type='result' id='${l.attr('id')}'><blocklist xmlns='${NS_BLOCKING}'><item jid='romeo@montague.net'/><item jid='iago@shakespeare.lit'/></blocklist></iq>`,
    );
    assert.deepEqual(await pl, ['romeo@montague.net', 'iago@shakespeare.lit']);
    assert.equal(blocking.isBlocked('romeo@montague.net/orchard'), true, 'a full JID of a blocked bare JID');

    const pb = blocking.block('Mallory@Evil.lit');
    const b = await nextIq('set', NS_BLOCKING);
    assert.equal(
      b.getChild('block', NS_BLOCKING)?.getChild('item', NS_BLOCKING)?.attr('jid'),
      'mallory@evil.lit',
    );
    t.recv(`<iq type='result' id='${b.attr('id')}'/>`);
    await pb;
    assert.equal(blocking.isBlocked('mallory@evil.lit'), true);

    const pu = blocking.unblock('romeo@montague.net');
    const u = await nextIq('set', NS_BLOCKING);
    t.recv(`<iq type='result' id='${u.attr('id')}'/>`);
    await pu;
    assert.deepEqual(blocking.blocked.sort(), ['iago@shakespeare.lit', 'mallory@evil.lit']);

    const pa = blocking.unblock();
    const a = await nextIq('set', NS_BLOCKING);
    assert.equal(a.getChild('unblock', NS_BLOCKING)?.elements().length, 0, 'empty unblock = all');
    t.recv(`<iq type='result' id='${a.attr('id')}'/>`);
    await pa;
    assert.deepEqual(blocking.blocked, []);
  });

  test('pushes from our account are applied and answered; a forged push changes nothing', async () => {
    const { client, nextIq, t } = await online();
    const blocking = new Blocking({ client });
    const changes: boolean[] = [];
    blocking.on('change', (c) => changes.push(c.push));
    t.recv(
      `<iq type='set' id='push1' to='${FULL}'><block xmlns='${NS_BLOCKING}'><item jid='romeo@montague.net'/></block></iq>`,
    );
    assert.equal((await nextIq('result')).attr('id'), 'push1');
    t.recv(
      `<iq type='set' id='push2' from='juliet@capulet.lit' to='${FULL}'><block xmlns='${NS_BLOCKING}'><item jid='iago@shakespeare.lit'/></block></iq>`,
    );
    assert.equal((await nextIq('result')).attr('id'), 'push2');
    // Forged: from another account, and from another resource of ours (a client, not the server).
    t.recv(
      `<iq type='set' id='forged1' from='mallory@evil.lit/x' to='${FULL}'><unblock xmlns='${NS_BLOCKING}'/></iq>`,
    );
    const e1 = await nextIq('error');
    assert.ok(e1.getChild('error')?.getChild('service-unavailable', STANZAS));
    t.recv(
      `<iq type='set' id='forged2' from='juliet@capulet.lit/other' to='${FULL}'><unblock xmlns='${NS_BLOCKING}'/></iq>`,
    );
    await nextIq('error');
    assert.deepEqual(blocking.blocked.sort(), ['iago@shakespeare.lit', 'romeo@montague.net']);
    assert.deepEqual(changes, [true, true]);
    t.recv(`<iq type='set' id='push3' to='${FULL}'><unblock xmlns='${NS_BLOCKING}'/></iq>`);
    await nextIq('result');
    assert.deepEqual(blocking.blocked, []);
  });

  test('the blocked error condition (3.3 example)', () => {
    assert.ok(
      isBlockedError(
        el(
          `<message type='error' from='romeo@montague.net'><body>Can you hear me now?</body><error type='cancel'><not-acceptable xmlns='${STANZAS}'/><blocked xmlns='urn:xmpp:blocking:errors'/></error></message>`,
        ),
      ),
    );
  });
});

describe('buddies only', () => {
  const buddies = new Set<Jid>([jid('romeo@montague.lit')]);
  const keep = createBuddiesOnlyFilter({ isBuddy: (j) => buddies.has(j), self: () => jid(FULL) });
  test('drops chat and normal messages from strangers, keeps everything else', () => {
    assert.equal(
      keep(el(`<message from='romeo@montague.lit/orchard' type='chat'><body>hi</body></message>`)),
      true,
    );
    assert.equal(keep(el(`<message from='spam@evil.lit/x' type='chat'><body>buy</body></message>`)), false);
    assert.equal(keep(el(`<message from='spam@evil.lit/x'><body>buy</body></message>`)), false, 'normal');
    assert.equal(
      keep(el(`<message from='room@muc.lit/nick' type='groupchat'><body>x</body></message>`)),
      true,
    );
    assert.equal(keep(el(`<message from='spam@evil.lit/x' type='error'/>`)), true);
    assert.equal(keep(el(`<message from='capulet.lit'><body>server notice</body></message>`)), true);
    assert.equal(keep(el(`<message from='juliet@capulet.lit'><body>carbon</body></message>`)), true);
    assert.equal(keep(el(`<presence from='spam@evil.lit/x'/>`)), true);
  });

  test('the setting is read from and saved to private storage, keeping other preferences', async () => {
    const { client, nextIq, t } = await online();
    const storage = new PrivateStorage({ client });
    const mode = new BuddiesOnly({ storage, client, isBuddy: (j) => buddies.has(j) });
    const pl = mode.load();
    const g = await nextIq('get', NS_PRIVATE);
    assert.equal(g.getChild('query', NS_PRIVATE)?.getChild('prefs', NS_PREFS)?.elements().length, 0);
    t.recv(
      `<iq type='result' id='${g.attr('id')}'><query xmlns='${NS_PRIVATE}'><prefs xmlns='${NS_PREFS}'/></query></iq>`,
    );
    assert.equal(await pl, false);
    const spam = el(`<message from='spam@evil.lit/x' type='chat'><body>buy</body></message>`);
    assert.equal(mode.accept(spam), true, 'off: everything passes');

    const ps = mode.set(true);
    const g2 = await nextIq('get', NS_PRIVATE);
    t.recv(
      `<iq type='result' id='${g2.attr('id')}'><query xmlns='${NS_PRIVATE}'><prefs xmlns='${NS_PREFS}'><theme xmlns='urn:other'>dark</theme></prefs></query></iq>`,
    );
    const s = await nextIq('set', NS_PRIVATE);
    const prefs = s.getChild('query', NS_PRIVATE)!.getChild('prefs', NS_PREFS)!;
    assert.equal(prefs.getChildText('buddies-only', NS_PREFS), 'true');
    assert.equal(prefs.getChildText('theme', 'urn:other'), 'dark', 'other preferences kept');
    t.recv(`<iq type='result' id='${s.attr('id')}'/>`);
    await ps;
    assert.equal(mode.accept(spam), false);
  });
});
