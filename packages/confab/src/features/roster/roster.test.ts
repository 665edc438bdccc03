// Dialogue tests of the roster (RFC 6121 2, 3): the test plays the server on a memory
// transport and asserts exactly what the client writes and what the model and events say.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FEATURE, FULL, type ImSession, imSession } from '../../../test/helpers/im-session.ts';
import { wire } from '../../../test/helpers/memory-transport.ts';
import { MemoryStore } from '../../store/memory.ts';
import { ROSTER_NS } from '../../store/types.ts';
import { xml } from '../../xml/element.ts';
import { NS_ROSTER } from './codec.ts';
import { ROSTER_ITEMS_NS, ROSTER_META_KEY } from './roster.ts';

const ROMEO = "<item jid='romeo@example.net' name='Romeo' subscription='both'><group>Friends</group></item>";
const NURSE = "<item jid='nurse@example.com' name='Nurse' subscription='none'><group>Servants</group></item>";

/** Answer the roster get the login triggered; returns the `ver` the client sent. */
async function answerGet(s: ImSession, result: string | null): Promise<string | undefined> {
  const get = await s.iq('get');
  const q = get.getChild('query', NS_ROSTER);
  assert.ok(q, `expected a roster get, got ${wire(get)}`);
  const loaded = new Promise((r) => s.roster.once('loaded', r));
  s.t.recv(`<iq type='result' id='${get.attr('id')}' to='${FULL}'>${result ?? ''}</iq>`);
  await loaded;
  return q.attr('ver');
}

/** The server pushes; resolves with the client's reply. */
async function push(
  s: ImSession,
  body: string,
  from?: string,
): Promise<import('../../xml/element.ts').Element> {
  const id = `push${Math.random().toString(36).slice(2)}`;
  s.t.recv(`<iq type='set' id='${id}' to='${FULL}'${from ? ` from='${from}'` : ''}>${body}</iq>`);
  const reply = await s.t.expectElement('iq');
  assert.equal(reply.attr('id'), id);
  return reply;
}

describe('roster fetch and versioning (RFC 6121 2.2, 2.6)', () => {
  test('first login: get with ver="" before the initial presence; items, events, store', async () => {
    const s = await imSession({ features: [FEATURE.ver] });
    const added: string[] = [];
    s.roster.on('added', ({ item }) => added.push(item.jid));
    const ver = await answerGet(s, `<query xmlns='jabber:iq:roster' ver='ver11'>${ROMEO}${NURSE}</query>`);
    assert.equal(ver, '', 'no cached version yet');
    const p = await s.t.expectElement('presence');
    assert.equal(wire(p), '<presence/>', 'initial presence after the roster get');
    assert.deepEqual(added, ['romeo@example.net', 'nurse@example.com']);
    assert.equal(s.roster.size, 2);
    assert.equal(s.roster.version, 'ver11');
    assert.deepEqual(s.roster.get('Romeo@Example.net/phone')?.groups, ['Friends']);
    assert.deepEqual(await s.store.get(ROSTER_NS, ROSTER_META_KEY), { ver: 'ver11' });
    assert.equal((await s.store.entries(ROSTER_ITEMS_NS)).length, 2);
    assert.deepEqual(s.errors, []);
    await s.client.disconnect();
  });

  test('second login with the cached version: empty result means the cache is current; pushes follow', async () => {
    const store = new MemoryStore();
    const first = await imSession({ features: [FEATURE.ver], store });
    await answerGet(first, `<query xmlns='jabber:iq:roster' ver='ver11'>${ROMEO}${NURSE}</query>`);
    await first.client.disconnect();

    const s = await imSession({ features: [FEATURE.ver], store });
    const loaded = new Promise<{ fromCache: boolean }>((r) => s.roster.once('loaded', r));
    const ver = await answerGet(s, null);
    await s.t.expectElement('presence');
    assert.equal(ver, 'ver11');
    assert.equal((await loaded).fromCache, true);
    assert.equal(s.roster.size, 2, 'items from the Store');
    // The server now pushes what changed since ver11.
    const updated = new Promise<string | undefined>((r) => s.roster.once('updated', (e) => r(e.item.name)));
    const reply = await push(
      s,
      "<query xmlns='jabber:iq:roster' ver='ver12'><item jid='romeo@example.net' name='Romeo Montague' subscription='both'/></query>",
    );
    assert.equal(
      wire(reply),
      `<iq type='result' id='${reply.attr('id')}'/>`,
      'answered with an empty result',
    );
    assert.equal(await updated, 'Romeo Montague');
    const removed = new Promise<string>((r) => s.roster.once('removed', (e) => r(e.item.jid)));
    await push(
      s,
      "<query xmlns='jabber:iq:roster' ver='ver13'><item jid='nurse@example.com' subscription='remove'/></query>",
    );
    assert.equal(await removed, 'nurse@example.com');
    assert.equal(s.roster.version, 'ver13');
    assert.deepEqual(await store.get(ROSTER_NS, ROSTER_META_KEY), { ver: 'ver13' });
    assert.deepEqual(
      (await store.entries(ROSTER_ITEMS_NS)).map(([k]) => k),
      ['romeo@example.net'],
    );
    await s.client.disconnect();
  });

  test('a full result against a cache is diffed: removed, updated, added', async () => {
    const store = new MemoryStore();
    const first = await imSession({ features: [FEATURE.ver], store });
    await answerGet(first, `<query xmlns='jabber:iq:roster' ver='v1'>${ROMEO}${NURSE}</query>`);
    await first.client.disconnect();
    const s = await imSession({ features: [FEATURE.ver], store });
    const seen: string[] = [];
    s.roster.on('added', (e) => seen.push(`+${e.item.jid}`));
    s.roster.on('updated', (e) => seen.push(`~${e.item.jid}`));
    s.roster.on('removed', (e) => seen.push(`-${e.item.jid}`));
    await answerGet(
      s,
      "<query xmlns='jabber:iq:roster' ver='v9'><item jid='romeo@example.net' subscription='to'/><item jid='tybalt@example.com'/></query>",
    );
    // The cache was loaded at login (before these listeners); now the diff against it.
    assert.deepEqual(seen, ['-nurse@example.com', '~romeo@example.net', '+tybalt@example.com']);
    assert.equal(s.roster.get('romeo@example.net')?.subscription, 'to');
    assert.deepEqual(
      (await store.entries(ROSTER_ITEMS_NS)).map(([k]) => k),
      ['romeo@example.net', 'tybalt@example.com'],
    );
    await s.client.disconnect();
  });

  test('without versioning: no ver attribute, nothing persisted', async () => {
    const s = await imSession();
    const ver = await answerGet(s, `<query xmlns='jabber:iq:roster'>${ROMEO}</query>`);
    assert.equal(ver, undefined);
    assert.equal(s.roster.size, 1);
    assert.equal(s.roster.version, undefined);
    assert.deepEqual(await s.store.entries(ROSTER_ITEMS_NS), []);
    await s.client.disconnect();
  });

  test('thousands of contacts: 20,000 items loaded, then re-diffed, in linear time', async () => {
    const s = await imSession({ features: [FEATURE.ver], store: new MemoryStore({ durable: false }) });
    const n = 20_000;
    const result = (id: string, tag: string) =>
      xml(
        'iq',
        { xmlns: 'jabber:client', type: 'result', id, to: FULL },
        xml(
          'query',
          { xmlns: NS_ROSTER, ver: tag },
          Array.from({ length: n }, (_, i) =>
            xml(
              'item',
              { jid: `c${i}@example.org`, name: `${tag}${i}`, subscription: 'both' },
              xml('group', {}, `G${i % 50}`),
            ),
          ),
        ),
      );
    const t0 = performance.now();
    const get1 = await s.iq('get');
    let loaded = new Promise((r) => s.roster.once('loaded', r));
    s.t.recv(result(get1.attr('id')!, 'A'));
    await loaded;
    assert.equal(s.roster.size, n);
    assert.equal(s.roster.groups().size, 50);
    let updates = 0;
    s.roster.on('updated', () => updates++);
    void s.roster.fetch();
    await s.t.expectElement('presence'); // the initial presence went out after the first get
    const get2 = await s.iq('get');
    assert.equal(get2.getChild('query', NS_ROSTER)?.attr('ver'), 'A');
    loaded = new Promise((r) => s.roster.once('loaded', r));
    s.t.recv(result(get2.attr('id')!, 'B'));
    await loaded;
    assert.equal(updates, n);
    const elapsed = performance.now() - t0;
    // Quadratic work on 20,000 items (4e8 steps) would take far longer than this.
    assert.ok(elapsed < 5_000, `took ${Math.round(elapsed)} ms`);
    await s.client.disconnect();
  });
});

describe('roster pushes: who may send them (RFC 6121 2.1.6)', () => {
  async function loaded(): Promise<ImSession> {
    const s = await imSession({ features: [FEATURE.ver] });
    await answerGet(s, `<query xmlns='jabber:iq:roster' ver='v1'>${ROMEO}</query>`);
    await s.t.expectElement('presence');
    return s;
  }

  test('from our bare JID: applied and answered', async () => {
    const s = await loaded();
    const reply = await push(
      s,
      `<query xmlns='jabber:iq:roster' ver='v2'>${NURSE}</query>`,
      'juliet@example.com',
    );
    assert.equal(reply.attr('type'), 'result');
    assert.equal(s.roster.get('nurse@example.com')?.name, 'Nurse');
    assert.equal(s.roster.version, 'v2');
    await s.client.disconnect();
  });

  for (const from of [
    'mallory@evil.example/x',
    'romeo@example.net',
    'example.com',
    'juliet@example.com/other',
  ]) {
    test(`from ${from}: no effect and no answer at all`, async () => {
      const s = await loaded();
      const ignored = new Promise<string>((r) => s.roster.once('ignoredPush', (e) => r(e.from)));
      let changed = false;
      s.roster.on('added', () => (changed = true));
      s.roster.on('updated', () => (changed = true));
      s.roster.on('removed', () => (changed = true));
      s.t.recv(
        `<iq type='set' id='forged' from='${from}' to='${FULL}'><query xmlns='jabber:iq:roster' ver='evil'><item jid='mallory@evil.example' subscription='both'/><item jid='romeo@example.net' subscription='remove'/></query></iq>`,
      );
      s.t.recv(
        `<iq type='set' id='forged2' from='${from}' to='${FULL}'><query xmlns='jabber:iq:roster'><item jid='romeo@example.net' subscription='remove'/></query></iq>`,
      );
      assert.equal(await ignored, from);
      // Order proves silence: the next thing the client writes answers this ping.
      s.t.recv(
        `<iq type='get' id='after' from='example.com' to='${FULL}'><ping xmlns='urn:xmpp:ping'/></iq>`,
      );
      const next = await s.t.expectElement('iq');
      assert.equal(next.attr('id'), 'after', `the forged push was answered: ${wire(next)}`);
      assert.equal(changed, false);
      assert.equal(s.roster.size, 1);
      assert.equal(s.roster.get('romeo@example.net')?.subscription, 'both');
      assert.equal(s.roster.version, 'v1');
      await s.client.disconnect();
    });
  }

  test('a push with two items from the server is a bad-request', async () => {
    const s = await loaded();
    const reply = await push(s, `<query xmlns='jabber:iq:roster'>${NURSE}${ROMEO}</query>`);
    assert.equal(reply.attr('type'), 'error');
    assert.ok(reply.getChild('error')?.getChild('bad-request', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
    assert.equal(s.roster.get('nurse@example.com'), undefined);
    await s.client.disconnect();
  });
});

describe('editing and subscriptions (RFC 6121 2.3-2.5, 3)', () => {
  async function loaded(features: string[] = [FEATURE.ver]): Promise<ImSession> {
    const s = await imSession({ features });
    await answerGet(s, `<query xmlns='jabber:iq:roster' ver='v1'>${ROMEO}</query>`);
    await s.t.expectElement('presence');
    return s;
  }

  test('set name and groups: iq set; the model changes only with the push', async () => {
    const s = await loaded();
    const done = s.roster.set('romeo@example.net/phone', {
      name: 'R.',
      groups: ['Friends', 'Verona', 'Verona'],
    });
    const set = await s.iq('set');
    assert.equal(
      wire(set.getChild('query', NS_ROSTER)!),
      "<query xmlns='jabber:iq:roster'><item jid='romeo@example.net' name='R.'><group>Friends</group><group>Verona</group></item></query>",
    );
    s.t.recv(`<iq type='result' id='${set.attr('id')}' to='${FULL}'/>`);
    await done;
    assert.equal(s.roster.get('romeo@example.net')?.name, 'Romeo', 'not yet: no push');
    await push(
      s,
      "<query xmlns='jabber:iq:roster' ver='v2'><item jid='romeo@example.net' name='R.' subscription='both'><group>Friends</group><group>Verona</group></item></query>",
    );
    assert.deepEqual(s.roster.get('romeo@example.net')?.groups, ['Friends', 'Verona']);
    // Omitted fields keep their values: only the name changes here.
    const again = s.roster.set('romeo@example.net', { name: 'Romeo' });
    const set2 = await s.iq('set');
    assert.match(wire(set2), /name='Romeo'><group>Friends<\/group><group>Verona<\/group>/);
    s.t.recv(`<iq type='result' id='${set2.attr('id')}' to='${FULL}'/>`);
    await again;
    await s.client.disconnect();
  });

  test('remove sends subscription="remove"; a server error rejects typed', async () => {
    const s = await loaded();
    const done = s.roster.remove('romeo@example.net');
    const set = await s.iq('set');
    assert.match(wire(set), /<item jid='romeo@example.net' subscription='remove'\/>/);
    s.t.recv(
      `<iq type='error' id='${set.attr('id')}' to='${FULL}'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
    await assert.rejects(done, { code: 'ERR_STANZA', condition: 'item-not-found' });
    assert.equal(s.roster.get('romeo@example.net')?.name, 'Romeo', 'still there: no push removed it');
    await s.client.disconnect();
  });

  test('subscribe (with nick) and unsubscribe go to the bare JID; the model waits for pushes', async () => {
    const s = await loaded();
    await s.roster.subscribe('Benvolio@Example.net/home', { status: 'Hi!', nick: 'Juliet' });
    assert.equal(
      wire(await s.t.expectElement('presence')),
      "<presence type='subscribe' to='benvolio@example.net'><status>Hi!</status><nick xmlns='http://jabber.org/protocol/nick'>Juliet</nick></presence>",
    );
    assert.equal(s.roster.get('benvolio@example.net'), undefined);
    await push(
      s,
      "<query xmlns='jabber:iq:roster'><item jid='benvolio@example.net' subscription='none' ask='subscribe'/></query>",
    );
    assert.equal(s.roster.get('benvolio@example.net')?.pending, true);
    await s.roster.unsubscribe('romeo@example.net');
    assert.equal(
      wire(await s.t.expectElement('presence')),
      "<presence type='unsubscribe' to='romeo@example.net'/>",
    );
    await assert.rejects(s.roster.subscribe('not a jid@@'), { code: 'ERR_BAD_INPUT' });
    await s.client.disconnect();
  });

  test('an incoming request is an event the app answers: approve and subscribe back', async () => {
    const s = await loaded();
    const req = new Promise<import('./roster.ts').SubscriptionRequest>((r) => s.roster.once('request', r));
    s.t.recv(
      `<presence type='subscribe' from='mercutio@example.com' to='juliet@example.com'><status>Let me in</status><nick xmlns='http://jabber.org/protocol/nick'>Merc</nick></presence>`,
    );
    const r = await req;
    assert.deepEqual([r.from, r.status, r.nick], ['mercutio@example.com', 'Let me in', 'Merc']);
    await r.approveAndSubscribe();
    assert.equal(
      wire(await s.t.expectElement('presence')),
      "<presence type='subscribed' to='mercutio@example.com'/>",
    );
    assert.equal(
      wire(await s.t.expectElement('presence')),
      "<presence type='subscribe' to='mercutio@example.com'/>",
    );
    await s.client.disconnect();
  });

  test('approve-and-subscribe-back does not ask again when we already see them; deny sends unsubscribed', async () => {
    const s = await loaded();
    const req = new Promise<import('./roster.ts').SubscriptionRequest>((r) => s.roster.once('request', r));
    s.t.recv(`<presence type='subscribe' from='romeo@example.net'/>`);
    await (await req).approveAndSubscribe();
    assert.equal(
      wire(await s.t.expectElement('presence')),
      "<presence type='subscribed' to='romeo@example.net'/>",
    );
    const req2 = new Promise<import('./roster.ts').SubscriptionRequest>((r) => s.roster.once('request', r));
    s.t.recv(`<presence type='subscribe' from='tybalt@example.com/sword'/>`);
    const r2 = await req2;
    assert.equal(r2.from, 'tybalt@example.com', 'bare JID');
    await r2.deny();
    assert.equal(
      wire(await s.t.expectElement('presence')),
      "<presence type='unsubscribed' to='tybalt@example.com'/>",
    );
    await s.client.disconnect();
  });

  test('subscribed / unsubscribed / unsubscribe events; subscription presence from our own account ignored', async () => {
    const s = await loaded();
    const seen: string[] = [];
    for (const k of ['subscribed', 'unsubscribed', 'unsubscribe'] as const)
      s.roster.on(k, (e) => seen.push(`${k} ${e.from}`));
    let requests = 0;
    s.roster.on('request', () => requests++);
    s.t.recv(`<presence type='subscribe' from='juliet@example.com/other'/>`);
    s.t.recv(`<presence type='subscribe'/>`);
    s.t.recv(`<presence type='subscribed' from='romeo@example.net'/>`);
    s.t.recv(`<presence type='unsubscribed' from='tybalt@example.com'/>`);
    s.t.recv(`<presence type='unsubscribe' from='romeo@example.net/x'/>`);
    assert.deepEqual(seen, [
      'subscribed romeo@example.net',
      'unsubscribed tybalt@example.com',
      'unsubscribe romeo@example.net',
    ]);
    assert.equal(requests, 0);
    await s.client.disconnect();
  });

  test('pre-approval: only where the server offers it (RFC 6121 3.4)', async () => {
    const without = await loaded();
    assert.equal(without.roster.preApprovalSupported, false);
    await assert.rejects(without.roster.preApprove('benvolio@example.net'), { code: 'ERR_UNSUPPORTED' });
    await without.client.disconnect();
    const s = await loaded([FEATURE.ver, FEATURE.preApproval]);
    assert.equal(s.roster.preApprovalSupported, true);
    await s.roster.preApprove('benvolio@example.net');
    assert.equal(
      wire(await s.t.expectElement('presence')),
      "<presence type='subscribed' to='benvolio@example.net'/>",
    );
    await push(
      s,
      "<query xmlns='jabber:iq:roster'><item jid='benvolio@example.net' subscription='none' approved='true'/></query>",
    );
    assert.equal(s.roster.get('benvolio@example.net')?.approved, true);
    await s.client.disconnect();
  });
});
