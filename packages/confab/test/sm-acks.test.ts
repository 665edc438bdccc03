// XEP-0198 1.6.3 section 4 as wired into the client, on the write path: the answers to the
// server's <r/> are coalesced (one <a/> per read chunk, with the latest h), and at full speed
// ack requests keep coming through the outbox's window instead of one per round trip.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ClientOptions, createClientOn } from '../src/client.ts';
import { FEATURES_PLAIN, MemoryPlatform, type MemoryTransport, wire } from './helpers/memory-transport.ts';

const ACCOUNT = 'juliet@example.com';
const SM = 'urn:xmpp:sm:3';
const FEATURES_SM = `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='${SM}'/></stream:features>`;

async function onlineWithSm(o: Partial<ClientOptions> = {}) {
  const platform = new MemoryPlatform();
  const client = createClientOn(platform, {
    features: false,
    jid: ACCOUNT,
    password: 'r0meo',
    resource: 'balcony',
    reconnect: false,
    keepalive: { whitespaceInterval: 0, pingInterval: 0 },
    timeouts: { disconnect: 200 },
    ...o,
  });
  const connected = client.connect();
  const t: MemoryTransport = await platform.nextTransport();
  await t.expect('open');
  t.open();
  t.recv(FEATURES_PLAIN);
  await t.expectElement('auth');
  t.recv(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
  await t.expect('open');
  t.open();
  t.recv(FEATURES_SM);
  const bind = await t.expectElement('iq');
  t.recv(
    `<iq type='result' id='${bind.attr('id')}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>${ACCOUNT}/balcony</jid></bind></iq>`,
  );
  await t.expectElement('enable');
  t.recv(`<enabled xmlns='${SM}' id='sm-1' resume='true'/>`);
  await t.expectElement('presence');
  await connected;
  return { client, t };
}

const incoming = (i: number): string =>
  `<message from='romeo@montague.lit/orchard' type='chat' id='in${i}'><body>${i}</body></message>`;

describe('stream management: the write path', () => {
  test('requests read in one chunk get one <a/>, with the count after the whole chunk', async () => {
    const { client, t } = await onlineWithSm();
    // One read chunk: the parser hands these over synchronously, Prosody-style (<r/> after each).
    for (let i = 1; i <= 5; i++) {
      t.recv(incoming(i));
      t.recv(`<r xmlns='${SM}'/>`);
    }
    assert.equal(wire(await t.expectElement('a')), `<a xmlns='${SM}' h='5'/>`);
    // The next chunk asks again: answered again.
    t.recv(incoming(6));
    t.recv(`<r xmlns='${SM}'/>`);
    assert.equal(wire(await t.expectElement('a')), `<a xmlns='${SM}' h='6'/>`);
    await new Promise((r) => setImmediate(r));
    assert.equal(
      t.sent.filter((s) => s.kind === 'element' && s.el.name === 'a').length,
      2,
      t.transcript().join('\n'),
    );
    await client.disconnect();
  });

  test('at full speed, requests go out through the window, not one per round trip', async () => {
    // A window of 80: a request per 10 stanzas uncovered even while the first is unanswered.
    const { client, t } = await onlineWithSm({ outboxMax: 80, streamManagement: { ackDelay: -1 } });
    for (let i = 0; i < 40; i++) await client.messages.send({ to: 'romeo@montague.lit', body: `m${i}` });
    await new Promise((r) => setImmediate(r));
    const order = t.sent
      .filter((s) => s.kind === 'element')
      .map((s) => (s.kind === 'element' ? s.el.name : ''));
    // presence + 9 messages, then a request after every 10 more: none answered yet.
    assert.equal(order.filter((n) => n === 'r').length, 4, order.join(' '));
    assert.equal(order.filter((n) => n === 'message').length, 40);
    await client.disconnect();
  });
});
