// Dialogue tests of XEP-0092 v1.1 (software version), XEP-0012 v2.0 (last activity) and
// XEP-0202 v2.0 (entity time): asking (exact requests, parsed answers, replies from the
// wrong JID ignored) and answering (exact replies, idle time refused to strangers).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { el, wire } from '../../../test/helpers/memory-transport.ts';
import { FULL, online } from '../../../test/helpers/online.ts';
import { ConfabError, StanzaError } from '../../errors.ts';
import type { Element } from '../../xml/element.ts';
import { xml } from '../../xml/element.ts';
import { Disco } from '../disco/disco.ts';
import { NS } from './codec.ts';
import { CONFAB_VERSION, Software, type SoftwareOptions } from './software.ts';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim();

/** A spec example addressed to us, answering (or asking with) `id`. */
function spec(name: string, id?: string): Element {
  const e = el(fixture(name));
  e.attrs.to = FULL;
  if (id !== undefined) e.attrs.id = id;
  return e;
}

async function setup(o: Partial<SoftwareOptions> = {}) {
  const on = await online();
  const disco = new Disco({ client: on.client });
  const software = new Software({ client: on.client, disco, ...o });
  return { ...on, disco, software };
}

describe('software: asking', () => {
  test('version of our server (default) and of a full JID (XEP-0092 examples 1-2)', async () => {
    const { software, nextIq, t } = await setup();
    const ps = software.version();
    const q = await nextIq('get', NS.version);
    const id = q.attr('id')!;
    assert.equal(
      wire(q),
      `<iq type='get' to='capulet.lit' id='${id}'><query xmlns='jabber:iq:version'/></iq>`,
    );
    // Someone else answering for our server is ignored; the server's own answer counts.
    t.recv(
      `<iq type='result' id='${id}' from='mallory@evil.lit/x'><query xmlns='${NS.version}'><name>Evil</name><version>6.6.6</version></query></iq>`,
    );
    t.recv(
      `<iq type='result' id='${id}' from='capulet.lit'><query xmlns='${NS.version}'><name>Prosody</name><version>0.12.3</version></query></iq>`,
    );
    assert.deepEqual(await ps, { name: 'Prosody', version: '0.12.3' });

    const pj = software.version('juliet@capulet.com/balcony');
    const q2 = await nextIq('get', NS.version);
    assert.equal(q2.attr('to'), 'juliet@capulet.com/balcony');
    assert.equal(wire(q2.elements()[0]!), wire(el(fixture('xep0092-get.xml')).elements()[0]!));
    // The bare JID is not the full JID we asked: ignored.
    t.recv(
      `<iq type='result' id='${q2.attr('id')}' from='juliet@capulet.com'><query xmlns='${NS.version}'><name>Spoof</name><version>1</version></query></iq>`,
    );
    t.recv(spec('xep0092-result.xml', q2.attr('id')));
    assert.deepEqual(await pj, { name: 'Exodus', version: '0.7.0.4', os: 'Windows-XP 5.01.2600' });
  });

  test('version: an answer without <version/> is a bad reply; an error reply rejects', async () => {
    const { software, nextIq, t } = await setup();
    const p1 = software.version('romeo@montague.net/orchard');
    const q1 = await nextIq('get', NS.version);
    t.recv(
      `<iq type='result' id='${q1.attr('id')}' from='romeo@montague.net/orchard'><query xmlns='${NS.version}'><name>X</name></query></iq>`,
    );
    await assert.rejects(p1, (e: unknown) => e instanceof ConfabError && e.code === 'ERR_BAD_REPLY');

    const p2 = software.version('romeo@montague.net/orchard');
    const q2 = await nextIq('get', NS.version);
    t.recv(
      `<iq type='error' id='${q2.attr('id')}' from='romeo@montague.net/orchard'><error type='cancel'><service-unavailable xmlns='${STANZAS}'/></error></iq>`,
    );
    await assert.rejects(
      p2,
      (e: unknown) =>
        e instanceof StanzaError && e.condition === 'service-unavailable' && e.type === 'cancel',
    );
  });

  test('last activity: server uptime, a bare JID with status, forbidden (XEP-0012 3 and 5)', async () => {
    const { software, nextIq, t } = await setup();
    const pu = software.last('capulet.com');
    const u = await nextIq('get', NS.last);
    assert.equal(
      wire(u),
      `<iq type='get' to='capulet.com' id='${u.attr('id')}'><query xmlns='jabber:iq:last'/></iq>`,
    );
    t.recv(
      `<iq type='result' id='${u.attr('id')}' from='romeo@montague.net/orchard'><query xmlns='${NS.last}' seconds='1'/></iq>`,
    );
    t.recv(spec('xep0012-result-server.xml', u.attr('id')));
    assert.deepEqual(await pu, { seconds: 123456, status: undefined });

    const po = software.last('juliet@capulet.com');
    const o = await nextIq('get', NS.last);
    assert.equal(o.attr('to'), 'juliet@capulet.com');
    t.recv(spec('xep0012-result-offline.xml', o.attr('id')));
    assert.deepEqual(await po, { seconds: 903, status: 'Heading Home' });

    const pf = software.last('juliet@capulet.com');
    const f = await nextIq('get', NS.last);
    t.recv(spec('xep0012-forbidden.xml', f.attr('id')));
    await assert.rejects(
      pf,
      (e: unknown) => e instanceof StanzaError && e.condition === 'forbidden' && e.type === 'auth',
    );

    // Default target: our server's domain.
    const pd = software.last();
    const d = await nextIq('get', NS.last);
    assert.equal(d.attr('to'), 'capulet.lit');
    t.recv(`<iq type='result' id='${d.attr('id')}'><query xmlns='${NS.last}' seconds='-5'/></iq>`);
    await assert.rejects(pd, (e: unknown) => e instanceof ConfabError && e.code === 'ERR_BAD_REPLY');
  });

  test('entity time of a full JID (XEP-0202 examples 1-2), Z offset, malformed answers', async () => {
    const { software, nextIq, t } = await setup();
    const pt = software.time('juliet@capulet.com/balcony');
    const q = await nextIq('get', NS.time);
    assert.equal(
      wire(q),
      `<iq type='get' to='juliet@capulet.com/balcony' id='${q.attr('id')}'><time xmlns='urn:xmpp:time'/></iq>`,
    );
    t.recv(
      `<iq type='result' id='${q.attr('id')}' from='juliet@capulet.com/other'><time xmlns='${NS.time}'><tzo>+01:00</tzo><utc>2000-01-01T00:00:00Z</utc></time></iq>`,
    );
    t.recv(spec('xep0202-result.xml', q.attr('id')));
    const r = await pt;
    assert.equal(r.utc.toISOString(), '2006-12-19T17:58:35.000Z');
    assert.equal(r.tzo, '-06:00');
    assert.equal(r.offsetMinutes, -360);

    const pz = software.time();
    const z = await nextIq('get', NS.time);
    assert.equal(z.attr('to'), 'capulet.lit');
    t.recv(
      `<iq type='result' id='${z.attr('id')}' from='capulet.lit'><time xmlns='${NS.time}'><tzo>Z</tzo><utc>2024-02-29T23:59:59.5Z</utc></time></iq>`,
    );
    const rz = await pz;
    assert.deepEqual(
      [rz.tzo, rz.offsetMinutes, rz.utc.getTime()],
      ['Z', 0, Date.UTC(2024, 1, 29, 23, 59, 59, 500)],
    );

    for (const bad of [
      '<tzo>-06:00</tzo>', // no utc
      '<tzo>-6:00</tzo><utc>2006-12-19T17:58:35Z</utc>', // tzo not hh:mm
      '<tzo>-06:00</tzo><utc>2006-12-19T17:58:35</utc>', // utc without a zone
    ]) {
      const pb = software.time();
      const b = await nextIq('get', NS.time);
      t.recv(`<iq type='result' id='${b.attr('id')}'><time xmlns='${NS.time}'>${bad}</time></iq>`);
      await assert.rejects(pb, (e: unknown) => e instanceof ConfabError && e.code === 'ERR_BAD_REPLY', bad);
    }
  });
});

describe('software: answering', () => {
  test('version: name and version only by default; the configured one as in XEP-0092 example 2', async () => {
    const a = await setup();
    a.t.recv(spec('xep0092-get.xml'));
    const r = await a.nextIq('result');
    assert.equal(
      wire(r),
      `<iq type='result' id='version_1' to='romeo@montague.net/orchard'><query xmlns='jabber:iq:version'><name>${CONFAB_VERSION.name}</name><version>${CONFAB_VERSION.version}</version></query></iq>`,
    );
    assert.equal(r.getChild('query', NS.version)?.getChild('os', NS.version), undefined, 'no os by default');

    const b = await setup({ version: { name: 'Exodus', version: '0.7.0.4', os: 'Windows-XP 5.01.2600' } });
    b.t.recv(spec('xep0092-get.xml'));
    const r2 = await b.nextIq('result');
    assert.equal(r2.attr('to'), 'romeo@montague.net/orchard');
    assert.equal(wire(r2.elements()[0]!), wire(el(fixture('xep0092-result.xml')).elements()[0]!));
  });

  test('time: our clock in UTC and our offset (XEP-0202 example 2)', async () => {
    const { t, nextIq } = await setup({
      now: () => new Date('2006-12-19T17:58:35.789Z'), // fractions are dropped
      offsetMinutes: () => -360,
    });
    t.recv(spec('xep0202-get.xml'));
    const r = await nextIq('result');
    assert.equal(r.attr('id'), 'time_1');
    assert.equal(r.attr('to'), 'romeo@montague.net/orchard');
    assert.equal(wire(r.elements()[0]!), wire(el(fixture('xep0202-result.xml')).elements()[0]!));
  });

  test('last activity: idle time to those allowed, forbidden to strangers (XEP-0012 4)', async () => {
    const asked: Array<string | undefined> = [];
    const { t, nextIq } = await setup({
      idle: () => 123,
      mayKnowPresence: (from) => {
        asked.push(from);
        return from?.startsWith('romeo@montague.net/') === true;
      },
    });
    t.recv(spec('xep0012-get-full.xml'));
    const ok = await nextIq('result');
    assert.equal(ok.attr('id'), 'last2');
    assert.equal(ok.attr('to'), 'romeo@montague.net/orchard');
    assert.equal(wire(ok.elements()[0]!), wire(el(fixture('xep0012-result-client.xml')).elements()[0]!));

    t.recv(
      `<iq type='get' id='snoop' from='mallory@evil.lit/x' to='${FULL}'><query xmlns='${NS.last}'/></iq>`,
    );
    const no = await nextIq('error');
    assert.equal(
      wire(no),
      `<iq type='error' id='snoop' to='mallory@evil.lit/x'><error type='auth'><forbidden xmlns='${STANZAS}'/></error></iq>`,
    );
    assert.deepEqual(asked, ['romeo@montague.net/orchard', 'mallory@evil.lit/x']);
  });

  test('default idle time counts from the last message or broadcast presence we sent', async () => {
    let clock = Date.parse('2025-01-01T00:00:00Z');
    const { client, t, nextIq } = await setup({ now: () => new Date(clock) });
    const ask = async (id: string) => {
      t.recv(`<iq type='get' id='${id}' from='romeo@montague.net/orchard'><query xmlns='${NS.last}'/></iq>`);
      const r = await nextIq('result');
      assert.equal(r.attr('id'), id);
      return r.getChild('query', NS.last)?.attr('seconds');
    };
    clock += 90_500;
    assert.equal(await ask('l1'), '90');
    await client.send(xml('message', { to: 'romeo@montague.net', type: 'chat' }, xml('body', null, 'hi')));
    await t.expectElement('message');
    clock += 5_000;
    assert.equal(await ask('l2'), '5');
    // Directed presence is not the user interacting (subscription answers, MUC joins).
    await client.send(xml('presence', { to: 'romeo@montague.net', type: 'subscribed' }));
    await t.expectElement('presence');
    clock += 7_000;
    assert.equal(await ask('l3'), '12');
    await client.send(xml('presence', null, xml('show', null, 'away')));
    await t.expectElement('presence');
    assert.equal(await ask('l4'), '0');
  });

  test("the library's own messages and presences do not reset the idle time; auto-away's <idle since/> sets it", async () => {
    let clock = Date.parse('2025-01-01T00:00:00Z');
    const { client, t, nextIq } = await setup({ now: () => new Date(clock) });
    const ask = async (id: string) => {
      t.recv(`<iq type='get' id='${id}' from='romeo@montague.net/orchard'><query xmlns='${NS.last}'/></iq>`);
      const r = await nextIq('result');
      return r.getChild('query', NS.last)?.attr('seconds');
    };
    const send = async (e: Element) => {
      await client.send(e);
      await t.expectElement(e.name);
    };
    await send(xml('presence', null, xml('status', null, 'here')));
    clock += 60_000;
    // A receipt, a chat state, a displayed marker, an XEP-0022 event: all bodiless, all automatic.
    const to = 'romeo@montague.net/orchard';
    await send(xml('message', { to }, xml('received', { xmlns: 'urn:xmpp:receipts', id: 'm1' })));
    await send(
      xml('message', { to, type: 'chat' }, xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' })),
    );
    await send(xml('message', { to }, xml('displayed', { xmlns: 'urn:xmpp:chat-markers:0', id: 'm1' })));
    await send(
      xml('message', { to }, xml('x', { xmlns: 'jabber:x:event' }, xml('delivered'), xml('id', null, 'm1'))),
    );
    // The same presence again (a reconnection's initial presence, a caps re-send) is not the user.
    await send(
      xml(
        'presence',
        null,
        xml('status', null, 'here'),
        xml('c', { xmlns: 'http://jabber.org/protocol/caps' }),
      ),
    );
    assert.equal(await ask('a1'), '60');
    // Auto-away: the app says the user has been idle since 5 minutes before now.
    clock += 300_000;
    const since = new Date(clock - 300_000).toISOString();
    await send(
      xml(
        'presence',
        null,
        xml('show', null, 'away'),
        xml('status', null, 'here'),
        xml('idle', { xmlns: 'urn:xmpp:idle:1', since }),
      ),
    );
    assert.equal(await ask('a2'), '300', "the app's idle time wins: it sees the user outside this client");
    // The user writes: active again.
    await send(xml('message', { to, type: 'chat' }, xml('body', null, 'back')));
    clock += 2_000;
    assert.equal(await ask('a3'), '2');
  });

  test('idle: false refuses with service-unavailable and does not announce jabber:iq:last', async () => {
    const { t, nextIq } = await setup({ idle: false });
    t.recv(spec('xep0012-get-full.xml'));
    const e = await nextIq('error');
    assert.equal(
      wire(e),
      `<iq type='error' id='last2' to='romeo@montague.net/orchard'><error type='cancel'><service-unavailable xmlns='${STANZAS}'/></error></iq>`,
    );
    t.recv(`<iq type='get' id='d1' from='romeo@montague.net/orchard'><query xmlns='${DISCO_INFO}'/></iq>`);
    const features = (await nextIq('result', DISCO_INFO))
      .getChild('query', DISCO_INFO)!
      .getChildren('feature', DISCO_INFO)
      .map((f) => f.attr('var'));
    assert.ok(features.includes(NS.version) && features.includes(NS.time), features.join(' '));
    assert.equal(features.includes(NS.last), false);
  });

  test('disco announces all three; destroy() withdraws features and handlers', async () => {
    const { software, t, nextIq } = await setup();
    const features = async (id: string) => {
      t.recv(
        `<iq type='get' id='${id}' from='romeo@montague.net/orchard'><query xmlns='${DISCO_INFO}'/></iq>`,
      );
      return (await nextIq('result', DISCO_INFO))
        .getChild('query', DISCO_INFO)!
        .getChildren('feature', DISCO_INFO)
        .map((f) => f.attr('var'));
    };
    const before = await features('d1');
    for (const ns of [NS.version, NS.last, NS.time]) assert.ok(before.includes(ns), ns);
    software.destroy();
    const after = await features('d2');
    for (const ns of [NS.version, NS.last, NS.time]) assert.equal(after.includes(ns), false, ns);
    for (const name of ['xep0092-get.xml', 'xep0012-get-full.xml', 'xep0202-get.xml']) {
      t.recv(spec(name));
      const e = await nextIq('error');
      assert.ok(e.getChild('error')?.getChild('service-unavailable', STANZAS), name);
    }
  });
});
