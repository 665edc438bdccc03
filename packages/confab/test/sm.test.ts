// Dialogue tests of stream management (XEP-0198 1.6.3) and the outbox as wired into the
// client: the test plays the server on an in-memory transport and asserts exactly what the
// client writes. Paths: enable + batched acks, answering <r/>, resume after a drop, resumption
// refused (bind again, marked re-send, dropped iq reported), queueing while offline, ping
// confirmation without SM, bad h, bounces, clean close, and a restart from a durable Store.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Client, type ClientOptions, createClientOn, type DroppedEvent } from '../src/client.ts';
import { MemoryStore } from '../src/store/memory.ts';
import type { Store } from '../src/store/types.ts';
import { type Element, xml } from '../src/xml/element.ts';
import { FEATURES_PLAIN, MemoryPlatform, type MemoryTransport, wire } from './helpers/memory-transport.ts';

const ACCOUNT = 'juliet@example.com';
const SM = 'urn:xmpp:sm:3';
const FEATURES_SM = `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='${SM}'/></stream:features>`;

function make(platform: MemoryPlatform, o: Partial<ClientOptions> = {}): Client {
  return createClientOn(platform, {
    // A bare core: these tests play the server for the features they build themselves.
    features: false,
    jid: ACCOUNT,
    password: 'r0meo',
    resource: 'balcony',
    reconnect: { initialDelay: 1, maxDelay: 1 },
    keepalive: { whitespaceInterval: 0, pingInterval: 0 },
    timeouts: { disconnect: 200 },
    ...o,
  });
}

/** Play a server up to the features after SASL PLAIN. */
async function serveAuth(t: MemoryTransport, features = FEATURES_SM): Promise<void> {
  await t.expect('open');
  t.open();
  t.recv(FEATURES_PLAIN);
  await t.expectElement('auth');
  t.recv(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
  await t.expect('open');
  t.open();
  t.recv(features);
}

async function serveBind(t: MemoryTransport): Promise<void> {
  const bind = await t.expectElement('iq');
  assert.ok(bind.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind'), `expected bind, got ${wire(bind)}`);
  t.recv(
    `<iq type='result' id='${bind.attr('id')}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>${ACCOUNT}/balcony</jid></bind></iq>`,
  );
}

/** Bind, `<enable resume/>` -> `<enabled/>`, initial presence. */
async function serveEnable(t: MemoryTransport, id = 'sm-1'): Promise<void> {
  await serveBind(t);
  const enable = await t.expectElement('enable');
  assert.equal(enable.xmlns, SM);
  assert.equal(enable.attr('resume'), 'true');
  t.recv(`<enabled xmlns='${SM}' id='${id}' resume='true'/>`);
  await t.expectElement('presence');
}

async function onlineWithSm(o: Partial<ClientOptions> = {}) {
  const platform = new MemoryPlatform();
  const client = make(platform, o);
  const connected = client.connect();
  const t = await platform.nextTransport();
  await serveAuth(t);
  await serveEnable(t);
  await connected;
  return { platform, client, t };
}

function body(e: Element): string | undefined {
  return e.getChildText('body');
}

function waitFor<T>(client: Client, event: 'online' | 'dropped'): Promise<T> {
  return new Promise((resolve) => {
    const off = client.on(event, (e) => {
      off();
      resolve(e as T);
    });
  });
}

describe('stream management: enable and acks', () => {
  test('enabled after bind; acks requested in batches of 10; an <a/> confirms the messages', async () => {
    const { client, t } = await onlineWithSm({ streamManagement: { ackDelay: -1 } });
    const acked: string[] = [];
    client.on('messageAcked', (e) => acked.push(e.id));
    const sent = [];
    for (let i = 0; i < 10; i++)
      sent.push(await client.messages.send({ to: 'romeo@montague.lit', body: `m${i}` }));
    // presence + 9 messages are 10 stanzas: the request follows the 9th message.
    for (let i = 0; i < 9; i++) {
      const m = await t.expectElement('message');
      assert.equal(body(m), `m${i}`);
      assert.equal(m.getChild('origin-id', 'urn:xmpp:sid:0')?.attr('id'), m.attr('id'), 'origin-id = id');
    }
    await t.expectElement('r');
    assert.equal(body(await t.expectElement('message')), 'm9');
    assert.equal(sent[0]!.status, 'sent');
    t.recv(`<a xmlns='${SM}' h='10'/>`);
    await sent[8]!.confirmed;
    assert.deepEqual(
      acked,
      sent.slice(0, 9).map((m) => m.id),
    );
    assert.equal(sent[9]!.status, 'sent');
    t.recv(`<a xmlns='${SM}' h='11'/>`);
    await sent[9]!.confirmed;
    assert.equal(client.messages.pending().length, 0);
  });

  test('a lone message gets its ack request after ackDelay', async () => {
    const { client, t } = await onlineWithSm({ streamManagement: { ackDelay: 5 } });
    const m = await client.messages.send({ to: 'romeo@montague.lit', body: 'alone' });
    await t.expectElement('message');
    await t.expectElement('r');
    t.recv(`<a xmlns='${SM}' h='2'/>`);
    await m.confirmed;
  });

  test("answers the server's <r/> with the count of stanzas received", async () => {
    const { t } = await onlineWithSm();
    t.recv(`<message from='romeo@montague.lit/orchard' type='chat'><body>1</body></message>`);
    t.recv(`<presence from='romeo@montague.lit/orchard'/>`);
    t.recv(`<r xmlns='${SM}'/>`);
    const a = await t.expectElement('a');
    assert.equal(wire(a), `<a xmlns='${SM}' h='2'/>`);
  });

  test('an h acknowledging more than was sent ends the stream with handled-count-too-high', async () => {
    const { client, t } = await onlineWithSm({ reconnect: false });
    const offline = new Promise<void>((r) => client.once('offline', () => r()));
    t.recv(`<a xmlns='${SM}' h='7'/>`);
    const err = await t.expectElement('error');
    assert.ok(err.getChild('undefined-condition', 'urn:ietf:params:xml:ns:xmpp-streams'));
    assert.equal(err.getChild('handled-count-too-high', SM)?.attr('h'), '7');
    await t.expect('close');
    await offline;
  });

  test('a bounce before the ack fails the message: confirmed rejects, messageFailed', async () => {
    const { client, t } = await onlineWithSm({ streamManagement: { ackDelay: -1 } });
    const failed: string[] = [];
    client.on('messageFailed', (e) => failed.push(`${e.id} ${e.error.condition}`));
    const m = await client.messages.send({ to: 'nobody@montague.lit', body: 'x' });
    await t.expectElement('message');
    t.recv(
      `<message type='error' id='${m.id}' from='nobody@montague.lit'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`,
    );
    await assert.rejects(m.confirmed, { code: 'ERR_STANZA', condition: 'item-not-found' });
    assert.deepEqual(failed, [`${m.id} item-not-found`]);
  });

  test('clean disconnect: unavailable presence, <r/>, waits for the ack, our <a/>, then the close', async () => {
    const { client, t } = await onlineWithSm({ streamManagement: { ackDelay: -1 } });
    const m = await client.messages.send({ to: 'romeo@montague.lit', body: 'bye' });
    await t.expectElement('message');
    const done = client.disconnect();
    assert.equal((await t.expectElement('presence')).attr('type'), 'unavailable');
    await t.expectElement('r');
    t.recv(`<message from='romeo@montague.lit/orchard' type='chat'><body>late</body></message>`);
    t.recv(`<a xmlns='${SM}' h='3'/>`);
    assert.equal(wire(await t.expectElement('a')), `<a xmlns='${SM}' h='1'/>`);
    await t.expect('close');
    t.end();
    await done;
    await m.confirmed;
    assert.equal(client.status, 'offline');
  });
});

describe('stream management: reconnect', () => {
  test('a drop is resumed: no bind, no presence; unacked stanzas re-sent as they were; then new ones', async () => {
    const { platform, client, t } = await onlineWithSm({ streamManagement: { ackDelay: -1 } });
    const sent = [];
    for (let i = 0; i < 4; i++)
      sent.push(await client.messages.send({ to: 'romeo@montague.lit', body: `m${i}` }));
    for (let i = 0; i < 4; i++) await t.expectElement('message');
    t.recv(`<message from='romeo@montague.lit/orchard' type='chat'><body>in</body></message>`);
    t.drop();
    // While reconnecting: queued.
    const later = await client.messages.send({ to: 'romeo@montague.lit', body: 'later' });
    assert.equal(later.status, 'queued');
    const resumed = waitFor<{ resumed: boolean }>(client, 'online');
    const t2 = await platform.nextTransport();
    await serveAuth(t2);
    const resume = await t2.expectElement('resume');
    assert.equal(resume.attr('previd'), 'sm-1');
    assert.equal(resume.attr('h'), '1', 'one stanza received on the old stream');
    // The server got presence + m0 + m1.
    t2.recv(`<resumed xmlns='${SM}' previd='sm-1' h='3'/>`);
    const again = [await t2.expectElement('message'), await t2.expectElement('message')];
    assert.deepEqual(again.map(body), ['m2', 'm3']);
    assert.equal(again[0]!.getChild('delay', 'urn:xmpp:delay'), undefined, 'resumed: re-sent as they were');
    await t2.expectElement('r');
    assert.equal(body(await t2.expectElement('message')), 'later');
    assert.equal((await resumed).resumed, true);
    await sent[1]!.confirmed;
    assert.equal(sent[2]!.status, 'sent');
    assert.ok(!t2.sent.some((s) => s.kind === 'element' && (s.el.name === 'presence' || s.el.name === 'iq')));
    t2.recv(`<a xmlns='${SM}' h='6'/>`);
    await later.confirmed;
    await sent[3]!.confirmed;
  });

  test('resumption refused: bind again, unacked messages re-sent once with delay + origin-id, iq reported dropped', async () => {
    const { platform, client, t } = await onlineWithSm({ streamManagement: { ackDelay: -1 } });
    const m0 = await client.messages.send({ to: 'romeo@montague.lit', body: 'm0' });
    const m1 = await client.messages.send({ to: 'romeo@montague.lit', body: 'm1' });
    await client.send(xml('message', { to: 'romeo@montague.lit', id: 'raw-1' }, xml('body', {}, 'raw')));
    const iq = client.iq({
      type: 'get',
      to: 'example.com',
      payload: xml('query', { xmlns: 'jabber:iq:version' }),
    });
    iq.catch(() => {});
    await t.expectElement('message');
    await t.expectElement('message');
    await t.expectElement('message');
    await t.expectElement('iq');
    t.drop();
    await assert.rejects(iq, { code: 'ERR_SOCKET_CLOSED' });
    const dropped = waitFor<DroppedEvent>(client, 'dropped');
    const t2 = await platform.nextTransport();
    await serveAuth(t2);
    await t2.expectElement('resume');
    // The server had presence + m0 when the session died.
    t2.recv(
      `<failed xmlns='${SM}' h='2'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`,
    );
    await m0.confirmed;
    const d = await dropped;
    assert.equal(d.reason, 'resume-failed');
    assert.deepEqual(
      d.stanzas.map((s) => s.name),
      ['iq'],
    );
    await serveEnable(t2, 'sm-2');
    const resent = [await t2.expectElement('message'), await t2.expectElement('message')];
    const byBody = new Map(resent.map((e) => [body(e), e]));
    for (const [b, id] of [
      ['raw', 'raw-1'],
      ['m1', m1.id],
    ] as const) {
      const e = byBody.get(b);
      assert.ok(e, `${b} re-sent`);
      assert.equal(e.attr('id'), id);
      assert.equal(e.getChild('origin-id', 'urn:xmpp:sid:0')?.attr('id'), id);
      assert.ok(e.getChild('delay', 'urn:xmpp:delay')?.attr('stamp'), `${b} has a delay stamp`);
    }
    // presence + 2 re-sent messages on the new session.
    t2.recv(`<a xmlns='${SM}' h='3'/>`);
    await m1.confirmed;
    // Exactly once: nothing else was written.
    assert.equal(t2.sent.filter((s) => s.kind === 'element' && s.el.name === 'message').length, 2);
  });

  test('streamManagement: { resume: false } enables without resumption and binds again after a drop', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform, { streamManagement: { resume: false, ackDelay: -1 } });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await serveAuth(t);
    await serveBind(t);
    const enable = await t.expectElement('enable');
    assert.equal(enable.attr('resume'), undefined);
    t.recv(`<enabled xmlns='${SM}'/>`);
    await t.expectElement('presence');
    await connected;
    const m = await client.messages.send({ to: 'romeo@montague.lit', body: 'm' });
    await t.expectElement('message');
    t.drop();
    const t2 = await platform.nextTransport();
    await serveAuth(t2);
    await serveBind(t2);
    await t2.expectElement('enable');
    t2.recv(`<enabled xmlns='${SM}'/>`);
    await t2.expectElement('presence');
    const again = await t2.expectElement('message');
    assert.equal(again.attr('id'), m.id);
    assert.ok(again.getChild('delay', 'urn:xmpp:delay'));
  });
});

describe('outbox', () => {
  test('messages sent before connect() are queued and flushed in order after presence', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform);
    const queued = [];
    for (let i = 0; i < 3; i++)
      queued.push(await client.messages.send({ to: 'romeo@montague.lit', body: `q${i}` }));
    assert.ok(queued.every((m) => m.status === 'queued'));
    const connected = client.connect();
    const t = await platform.nextTransport();
    await serveAuth(t);
    await serveEnable(t);
    const out = [
      await t.expectElement('message'),
      await t.expectElement('message'),
      await t.expectElement('message'),
    ];
    assert.deepEqual(out.map(body), ['q0', 'q1', 'q2']);
    await connected;
  });

  test('without SM (a server that does not offer it) a ping round trip confirms', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform);
    const connected = client.connect();
    const t = await platform.nextTransport();
    await serveAuth(t, `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`);
    await serveBind(t);
    await t.expectElement('presence');
    await connected;
    const m = await client.messages.send({ to: 'romeo@montague.lit', body: 'hi' });
    await t.expectElement('message');
    const ping = await t.expectElement('iq');
    assert.ok(ping.getChild('ping', 'urn:xmpp:ping'));
    assert.equal(m.status, 'sent');
    t.recv(`<iq type='result' id='${ping.attr('id')}' from='example.com'/>`);
    await m.confirmed;
    assert.equal(m.status, 'acked');
  });

  test('without SM a drop before the pong re-sends the message on the next connection, marked', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform, { streamManagement: false });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await serveAuth(t);
    await serveBind(t);
    await t.expectElement('presence');
    await connected;
    const m = await client.messages.send({ to: 'romeo@montague.lit', body: 'hi' });
    await t.expectElement('message');
    await t.expectElement('iq');
    t.drop();
    const t2 = await platform.nextTransport();
    await serveAuth(t2);
    await serveBind(t2);
    await t2.expectElement('presence');
    const again = await t2.expectElement('message');
    assert.equal(again.attr('id'), m.id);
    assert.ok(again.getChild('delay', 'urn:xmpp:delay'));
    const ping = await t2.expectElement('iq');
    t2.recv(`<iq type='result' id='${ping.attr('id')}'/>`);
    await m.confirmed;
  });
});

describe('durable store: a restart', () => {
  async function crashAfterSending(store: Store) {
    const platform = new MemoryPlatform();
    const client = make(platform, { store, streamManagement: { ackDelay: -1 }, reconnect: false });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await serveAuth(t);
    await serveEnable(t);
    await connected;
    const ids = [];
    for (let i = 0; i < 3; i++)
      ids.push((await client.messages.send({ to: 'romeo@montague.lit', body: `m${i}` })).id);
    const queuedOffline = platform; // same platform object; nothing more happens on it
    for (let i = 0; i < 3; i++) await t.expectElement('message');
    void queuedOffline;
    // The process dies: nothing more runs. (The next client only has the store.)
    return ids;
  }

  test('the next process resumes with the stored SM state and re-sends only what the server lacks', async () => {
    const store = new MemoryStore();
    const ids = await crashAfterSending(store);
    const platform = new MemoryPlatform();
    const client = make(platform, { store, streamManagement: { ackDelay: -1 } });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await serveAuth(t);
    const resume = await t.expectElement('resume');
    assert.equal(resume.attr('previd'), 'sm-1');
    t.recv(`<resumed xmlns='${SM}' previd='sm-1' h='2'/>`);
    const again = [await t.expectElement('message'), await t.expectElement('message')];
    assert.deepEqual(
      again.map((e) => e.attr('id')),
      ids.slice(1),
    );
    await t.expectElement('r');
    await connected;
    assert.equal(client.jid, `${ACCOUNT}/balcony`, 'the resumed stream keeps its JID');
    t.recv(`<a xmlns='${SM}' h='4'/>`);
    const pending = client.messages.pending();
    assert.equal(pending.length, 0);
    assert.equal(t.sent.filter((s) => s.kind === 'element' && s.el.name === 'message').length, 2);
  });

  test('resumption refused after a restart: the stored messages go out once, marked', async () => {
    const store = new MemoryStore();
    const ids = await crashAfterSending(store);
    const platform = new MemoryPlatform();
    const client = make(platform, { store, streamManagement: { ackDelay: -1 } });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await serveAuth(t);
    await t.expectElement('resume');
    t.recv(
      `<failed xmlns='${SM}' h='3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`,
    );
    await serveEnable(t, 'sm-2');
    // h=3: presence, m0 and m1 had reached the server; only m2 goes out again.
    const again = await t.expectElement('message');
    assert.equal(again.attr('id'), ids[2]);
    assert.ok(again.getChild('delay', 'urn:xmpp:delay'));
    await connected;
    const ping = client.iq({
      type: 'get',
      to: 'example.com',
      payload: xml('ping', { xmlns: 'urn:xmpp:ping' }),
    });
    const p = await t.expectElement('iq');
    t.recv(`<iq type='result' id='${p.attr('id')}'/>`);
    await ping;
    assert.equal(t.sent.filter((s) => s.kind === 'element' && s.el.name === 'message').length, 1);
  });

  test('a message queued offline is in the store before send() resolves and goes out after a restart', async () => {
    const store = new MemoryStore();
    const first = make(new MemoryPlatform(), { store });
    const m = await first.messages.send({ to: 'romeo@montague.lit', body: 'kept' });
    // "kill -9": the first client is simply abandoned.
    const platform = new MemoryPlatform();
    const client = make(platform, { store });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await serveAuth(t);
    await serveEnable(t);
    const out = await t.expectElement('message');
    assert.equal(out.attr('id'), m.id);
    assert.equal(body(out), 'kept');
    await connected;
  });
});
