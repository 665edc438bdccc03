// Dialogue tests of XEP-0115 v1.6.0: our ver and caps node, and the 5.4 processing of theirs:
// one query per unknown hash, verified before it is cached, cached across clients in the Store.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { online } from '../../../test/helpers/online.ts';
import { MemoryStore } from '../../store/memory.ts';
import { xml } from '../../xml/element.ts';
import { NS } from '../disco/codec.ts';
import { Disco } from '../disco/disco.ts';
import { CAPS_NS, Caps, CONFAB_NODE } from './caps.ts';
import { computeVer, NS_CAPS } from './codec.ts';

const EXODUS = 'http://code.google.com/p/exodus';
const VER = 'QgayPKawpkPSDYmwT/WM94uAlu0=';
const ANSWER = `<query xmlns='${NS.info}' node='${EXODUS}#${VER}'><identity category='client' name='Exodus 0.9.1' type='pc'/><feature var='http://jabber.org/protocol/caps'/><feature var='http://jabber.org/protocol/disco#info'/><feature var='http://jabber.org/protocol/disco#items'/><feature var='http://jabber.org/protocol/muc'/></query>`;
const presence = (from: string, ver = VER, hash = 'sha-1') =>
  `<presence from='${from}'><c xmlns='${NS_CAPS}' hash='${hash}' node='${EXODUS}' ver='${ver}'/></presence>`;

async function setup(store = new MemoryStore()) {
  const o = await online();
  const disco = new Disco({ client: o.client });
  const caps = new Caps({ client: o.client, disco, store });
  await caps.ready();
  return { ...o, disco, caps, store };
}

describe('caps: ours', () => {
  test("the default node is the package's homepage (or repository URL) once package.json has one", () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      homepage?: string;
      repository?: string | { url?: string };
    };
    const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
    const home = pkg.homepage ?? repo?.replace(/^git\+/, '').replace(/\.git$/, '');
    if (home === undefined) assert.equal(CONFAB_NODE, 'https://confab.chat', 'the documented placeholder');
    else assert.equal(CONFAB_NODE, home);
    assert.ok(URL.canParse(CONFAB_NODE));
  });

  test('ver is the hash of what disco answers; node#ver is answered; a new feature makes one new ver', async () => {
    const { caps, disco, t, nextIq } = await setup();
    const first = caps.current!;
    assert.equal(first.ver, await computeVer(disco.own));
    assert.ok(disco.has(NS_CAPS));
    const el = caps.element()!;
    assert.equal(el.attr('hash'), 'sha-1');
    t.recv(
      `<iq type='get' from='romeo@montague.lit/orchard' id='c1'><query xmlns='${NS.info}' node='${first.node}#${first.ver}'/></iq>`,
    );
    const r = await nextIq('result');
    const q = r.getChild('query', NS.info)!;
    assert.equal(q.attr('node'), `${first.node}#${first.ver}`);
    assert.ok(q.getChildren('feature', NS.info).some((f) => f.attr('var') === NS_CAPS));

    const changes: string[] = [];
    caps.on('change', (c) => changes.push(c.ver));
    disco.addFeature('urn:xmpp:receipts');
    disco.addFeature('http://jabber.org/protocol/nick+notify');
    const next = await caps.ready();
    assert.notEqual(next.ver, first.ver);
    assert.deepEqual(changes, [next.ver], 'two features in one tick: one change');
    assert.equal(next.ver, await computeVer(disco.own));
  });
});

describe('caps: theirs (5.4)', () => {
  test('one query per unknown hash; others advertising it wait; verified answers are cached and stored', async () => {
    const { caps, client, t, nextIq, store } = await setup();
    const learned: string[] = [];
    caps.on('info', (e) => learned.push(`${e.jid} ${e.verified}`));
    t.recv(presence('romeo@montague.lit/orchard'));
    const q = await nextIq('get', NS.info);
    assert.equal(q.attr('to'), 'romeo@montague.lit/orchard');
    assert.equal(q.getChild('query', NS.info)?.attr('node'), `${EXODUS}#${VER}`);
    t.recv(presence('benvolio@montague.lit/home')); // same ver while the query runs: no second query
    const waiting = caps.lookup('benvolio@montague.lit/home');
    t.recv(`<iq type='result' from='romeo@montague.lit/orchard' id='${q.attr('id')}'>${ANSWER}</iq>`);
    const info = await waiting;
    assert.ok(info?.features.includes('http://jabber.org/protocol/muc'));
    assert.deepEqual(learned, ['romeo@montague.lit/orchard true', 'benvolio@montague.lit/home true']);
    assert.equal(caps.hasFeature('romeo@montague.lit/orchard', 'http://jabber.org/protocol/muc'), true);
    assert.ok(await store.get(CAPS_NS, `sha-1 ${VER}`), 'stored in the Store');

    // A third entity (and a repeated presence) with the known hash: nothing is sent.
    const sentBefore = t.sent.length;
    t.recv(presence('mercutio@verona.lit/x'));
    t.recv(presence('romeo@montague.lit/orchard'));
    assert.equal(caps.hasFeature('mercutio@verona.lit/x', 'http://jabber.org/protocol/muc'), true);
    // Flush: a ping round trip proves the client had its chance to send.
    const ping = client.iq({ type: 'get', payload: xml('ping', { xmlns: 'urn:xmpp:ping' }) });
    const p = await nextIq('get', 'urn:xmpp:ping');
    assert.equal(t.sent.length, sentBefore + 1, 'only the ping was sent');
    t.recv(`<iq type='result' id='${p.attr('id')}'/>`);
    await ping;
  });

  test('an answer that does not hash to the ver is not cached; the next entity advertising it is asked', async () => {
    const { caps, t, nextIq, store } = await setup();
    t.recv(presence('mallory@evil.lit/x'));
    t.recv(presence('romeo@montague.lit/orchard'));
    const q1 = await nextIq('get', NS.info);
    assert.equal(q1.attr('to'), 'mallory@evil.lit/x');
    t.recv(
      `<iq type='result' from='mallory@evil.lit/x' id='${q1.attr('id')}'><query xmlns='${NS.info}'><identity category='client' type='pc'/><feature var='urn:evil'/></query></iq>`,
    );
    const q2 = await nextIq('get', NS.info);
    assert.equal(q2.attr('to'), 'romeo@montague.lit/orchard', 'asked the other entity');
    assert.equal(caps.infoOf('mallory@evil.lit/x'), undefined, 'the poisoned answer is not believed');
    assert.equal(await store.get(CAPS_NS, `sha-1 ${VER}`), undefined);
    t.recv(`<iq type='result' from='romeo@montague.lit/orchard' id='${q2.attr('id')}'>${ANSWER}</iq>`);
    assert.ok(
      (await caps.lookup('romeo@montague.lit/orchard'))?.features.includes('http://jabber.org/protocol/muc'),
    );
  });

  test('a new client with the same Store sends no query for a cached hash', async () => {
    const store = new MemoryStore();
    const a = await setup(store);
    a.t.recv(presence('romeo@montague.lit/orchard'));
    const q = await a.nextIq('get', NS.info);
    a.t.recv(`<iq type='result' from='romeo@montague.lit/orchard' id='${q.attr('id')}'>${ANSWER}</iq>`);
    await a.caps.lookup('romeo@montague.lit/orchard');
    const b = await setup(store);
    const got = new Promise((r) => b.caps.on('info', r));
    b.t.recv(presence('benvolio@montague.lit/home'));
    await got;
    assert.equal(
      b.t.sent.filter((s) => s.kind === 'element' && s.el.name === 'iq').length,
      1,
      'only the bind iq',
    );
  });

  test('an unsupported hash is asked per JID and not cached globally; unavailable forgets', async () => {
    const { caps, t, nextIq } = await setup();
    t.recv(presence('romeo@montague.lit/orchard', 'abc', 'md5'));
    const q = await nextIq('get', NS.info);
    t.recv(`<iq type='result' from='romeo@montague.lit/orchard' id='${q.attr('id')}'>${ANSWER}</iq>`);
    const info = await caps.lookup('romeo@montague.lit/orchard');
    assert.ok(info);
    t.recv(presence('benvolio@montague.lit/home', 'abc', 'md5'));
    const q2 = await nextIq('get', NS.info);
    assert.equal(q2.attr('to'), 'benvolio@montague.lit/home');
    t.recv(`<presence from='romeo@montague.lit/orchard' type='unavailable'/>`);
    assert.equal(caps.infoOf('romeo@montague.lit/orchard'), undefined);
  });
});
