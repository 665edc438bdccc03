// Dialogue tests of XEP-0030 (v2.5.0): asking, and answering about ourselves.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { online } from '../../../test/helpers/online.ts';
import { StanzaError } from '../../errors.ts';
import { NS } from './codec.ts';
import { Disco } from './disco.ts';

describe('disco: asking', () => {
  test('info of the server (XEP-0030 3.1 example shape) and items of a service', async () => {
    const { client, nextIq, t } = await online();
    const disco = new Disco({ client });
    const p = disco.info('capulet.lit');
    const q = await nextIq('get', NS.info);
    assert.equal(q.attr('to'), 'capulet.lit');
    t.recv(
      `<iq type='result' from='capulet.lit' id='${q.attr('id')}'><query xmlns='${NS.info}'><identity category='server' type='im' name='Prosody'/><feature var='${NS.info}'/><feature var='urn:xmpp:blocking'/></query></iq>`,
    );
    const info = await p;
    assert.deepEqual(info.identities, [{ category: 'server', type: 'im', name: 'Prosody' }]);
    assert.deepEqual(info.features, [NS.info, 'urn:xmpp:blocking']);

    const pi = disco.items('conference.capulet.lit');
    const qi = await nextIq('get', NS.items);
    t.recv(
      `<iq type='result' from='conference.capulet.lit' id='${qi.attr('id')}'><query xmlns='${NS.items}'><item jid='room@conference.capulet.lit' name='Room'/><item name='no jid'/></query></iq>`,
    );
    assert.deepEqual((await pi).items, [{ jid: 'room@conference.capulet.lit', name: 'Room' }]);
  });

  test('the same question asked twice at once goes out once; asked again later, again', async () => {
    const { client, nextIq, t } = await online();
    const disco = new Disco({ client });
    const a = disco.info('capulet.lit');
    const b = disco.info('capulet.lit');
    const other = disco.info('capulet.lit', 'some-node');
    const q = await nextIq('get', NS.info);
    const q2 = await nextIq('get', NS.info);
    assert.equal(
      q2.getChild('query', NS.info)?.attr('node'),
      'some-node',
      'another node is another question',
    );
    for (const x of [q, q2])
      t.recv(
        `<iq type='result' from='capulet.lit' id='${x.attr('id')}'><query xmlns='${NS.info}'><feature var='f'/></query></iq>`,
      );
    assert.deepEqual((await a).features, ['f']);
    assert.equal(await a, await b);
    await other;
    const c = disco.info('capulet.lit');
    const q3 = await nextIq('get', NS.info);
    t.recv(`<iq type='result' from='capulet.lit' id='${q3.attr('id')}'><query xmlns='${NS.info}'/></iq>`);
    assert.deepEqual((await c).features, []);
  });

  test('an answer from someone else than the asked entity is ignored (core responder check)', async () => {
    const { client, nextIq, t } = await online();
    const disco = new Disco({ client });
    const p = disco.info('romeo@montague.lit/orchard');
    const q = await nextIq('get', NS.info);
    t.recv(
      `<iq type='result' from='mallory@evil.lit/x' id='${q.attr('id')}'><query xmlns='${NS.info}'><feature var='evil'/></query></iq>`,
    );
    t.recv(
      `<iq type='result' from='romeo@montague.lit/orchard' id='${q.attr('id')}'><query xmlns='${NS.info}'><feature var='good'/></query></iq>`,
    );
    assert.deepEqual((await p).features, ['good']);
  });
});

describe('disco: answering about ourselves', () => {
  test('our identity and features, sorted; features are reference counted; changes are emitted', async () => {
    const { client, nextIq, t } = await online();
    const disco = new Disco({ client, identities: [{ category: 'client', type: 'bot', name: 'Nurse' }] });
    const changes: string[][] = [];
    disco.on('change', (i) => changes.push(i.features));
    const offA = disco.addFeature('urn:xmpp:receipts');
    const offB = disco.addFeature('urn:xmpp:receipts');
    offA();
    assert.equal(disco.has('urn:xmpp:receipts'), true, 'still announced by B');
    t.recv(`<iq type='get' from='romeo@montague.lit/orchard' id='d1'><query xmlns='${NS.info}'/></iq>`);
    const r = await nextIq('result');
    assert.equal(r.attr('to'), 'romeo@montague.lit/orchard');
    assert.equal(r.attr('id'), 'd1');
    const q = r.getChild('query', NS.info)!;
    assert.deepEqual(
      q.getChildren('feature', NS.info).map((f) => f.attr('var')),
      [NS.info, NS.items, 'urn:xmpp:receipts'],
    );
    assert.equal(q.getChild('identity', NS.info)?.attr('type'), 'bot');
    offB();
    assert.equal(disco.has('urn:xmpp:receipts'), false);
    assert.equal(changes.length, 4);
  });

  test('an unknown node is item-not-found; a served node answers with its node', async () => {
    const { client, nextIq, t } = await online();
    const disco = new Disco({ client });
    t.recv(
      `<iq type='get' from='romeo@montague.lit/orchard' id='d2'><query xmlns='${NS.info}' node='nope'/></iq>`,
    );
    const err = await nextIq('error');
    assert.ok(err.getChild('error')?.getChild('item-not-found', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
    disco.serveNode('x#1', { info: () => ({ identities: [], features: ['f'], extensions: [] }) });
    t.recv(
      `<iq type='get' from='romeo@montague.lit/orchard' id='d3'><query xmlns='${NS.info}' node='x#1'/></iq>`,
    );
    const ok = await nextIq('result');
    assert.equal(ok.getChild('query', NS.info)?.attr('node'), 'x#1');
    t.recv(`<iq type='get' from='romeo@montague.lit/orchard' id='d4'><query xmlns='${NS.items}'/></iq>`);
    const items = await nextIq('result');
    assert.equal(items.getChild('query', NS.items)?.elements().length, 0);
  });

  test('two extension forms with one FORM_TYPE are refused', async () => {
    const { client } = await online();
    const disco = new Disco({ client });
    const form = { type: 'result', fields: [{ var: 'FORM_TYPE', type: 'hidden', values: ['urn:x'] }] };
    disco.addExtension(form);
    assert.throws(() => disco.addExtension(form), StanzaError);
  });

  test('destroy stops answering (service-unavailable from the core)', async () => {
    const { client, nextIq, t } = await online();
    new Disco({ client }).destroy();
    t.recv(`<iq type='get' from='romeo@montague.lit/orchard' id='d5'><query xmlns='${NS.info}'/></iq>`);
    const err = await nextIq('error');
    assert.ok(err.getChild('error')?.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
  });
});
