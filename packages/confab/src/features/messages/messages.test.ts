// Dialogue tests (memory transport; the test plays the server and the peers): the inbound
// pipeline (de-duplication, expiry, forged corrections/retractions, receipts policy) and the
// sending API (receipts, chat states, markers, XEP-0022, corrections, retractions, multicast).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  el,
  MemoryPlatform,
  type MemoryTransport,
  serveLogin,
} from '../../../test/helpers/memory-transport.ts';
import { type Client, createClientOn } from '../../client.ts';
import { ConfabError } from '../../errors.ts';
import type { Element } from '../../xml/element.ts';
import type { Message } from './codec.ts';
import type { MessagingEvents, MessagingOptions } from './messages.ts';

const ME = 'juliet@capulet.lit';
const ROMEO = 'romeo@montague.lit/orchard';

interface S {
  client: Client;
  t: MemoryTransport;
  got: Message[];
  /** The next message the client writes (answering roster/disco gets on the way). */
  out(): Promise<Element>;
}

async function session(messages: Partial<MessagingOptions> = {}): Promise<S> {
  const platform = new MemoryPlatform();
  const client = createClientOn(platform, {
    jid: ME,
    password: 'pw',
    resource: 'balcony',
    reconnect: false,
    initialPresence: false,
    streamManagement: false,
    keepalive: { whitespaceInterval: 0, pingInterval: 0 },
    timeouts: { disconnect: 50, iq: 2_000 },
    messages,
  });
  const got: Message[] = [];
  client.on('message', (m) => got.push(m));
  const connected = client.connect();
  const t = await platform.nextTransport();
  await serveLogin(t, ME, { presence: false });
  await connected;
  const out = async (): Promise<Element> => {
    for (;;) {
      const s = await t.next();
      if (s.kind !== 'element') continue;
      const el = s.el;
      if (el.name === 'message') return el;
      if (el.name === 'iq' && el.attr('type') === 'get') {
        const q = el.elements()[0];
        // The roster get at login, the confirmation pings (no SM): empty results.
        if (q?.xmlns === 'jabber:iq:roster' || q?.xmlns === 'urn:xmpp:ping')
          t.recv(`<iq type='result' id='${el.attr('id')}'/>`);
      }
    }
  };
  return { client, t, got, out };
}

function next<K extends keyof MessagingEvents>(c: Client, k: K): Promise<MessagingEvents[K]> {
  return new Promise((r) => c.messages.once(k, r));
}

describe('inbound', () => {
  test('live, carbon and archive copies of one message reach the app once', () => {
    return (async () => {
      const { client, t, got } = await session();
      const ignored: string[] = [];
      client.messages.on('ignored', (e) => ignored.push(e.reason));
      t.recv(
        `<message type='chat' from='${ROMEO}' id='m1'><body>hi</body><origin-id xmlns='urn:xmpp:sid:0' id='m1'/><stanza-id xmlns='urn:xmpp:sid:0' id='S1' by='${ME}'/></message>`,
      );
      // The archive copy (as the MAM helper unwraps it): the archive id is the stanza-id.
      const archived = (await import('../../../test/helpers/memory-transport.ts')).el(
        `<message type='chat' from='${ROMEO}' id='m1'><body>hi</body></message>`,
      );
      assert.equal(
        client.messages.ingest(archived, { source: 'archive', archive: ME, archiveId: 'S1' }),
        undefined,
      );
      // A carbon copy naming it by origin-id only.
      const carbon = (await import('../../../test/helpers/memory-transport.ts')).el(
        `<message type='chat' from='${ROMEO}' id='other'><body>hi</body><origin-id xmlns='urn:xmpp:sid:0' id='m1'/></message>`,
      );
      assert.equal(client.messages.ingest(carbon, { source: 'carbon-received' }), undefined);
      // Same id + sender + body, no origin-id, no stanza-id: the last-resort key.
      t.recv(`<message type='chat' from='${ROMEO}' id='plain'><body>yo</body></message>`);
      t.recv(`<message type='chat' from='romeo@montague.lit/other' id='plain'><body>yo</body></message>`);
      assert.deepEqual(
        got.map((m) => m.body),
        ['hi', 'yo'],
      );
      assert.deepEqual(ignored, ['duplicate', 'duplicate', 'duplicate']);
    })();
  });

  test('a correction applies to the sender’s message; a forged one (another account) is ignored', async () => {
    const { client, t, got } = await session();
    const corrections: string[] = [];
    const ignored: string[] = [];
    client.messages.on('correction', (c) =>
      corrections.push(`${c.id}:${c.body}:${c.original?.body}:${c.verified}`),
    );
    client.messages.on('ignored', (e) => ignored.push(e.reason));
    t.recv(`<message type='chat' from='${ROMEO}' id='o1'><body>helo</body></message>`);
    t.recv(
      `<message type='chat' from='mallory@evil.lit/x' id='f1'><body>I hate you</body><replace xmlns='urn:xmpp:message-correct:0' id='o1'/></message>`,
    );
    t.recv(
      `<message type='chat' from='romeo@montague.lit/phone' id='c1'><body>hello</body><replace xmlns='urn:xmpp:message-correct:0' id='o1'/></message>`,
    );
    assert.deepEqual(
      got.map((m) => m.body),
      ['helo'],
      'a correction is never a second message',
    );
    assert.deepEqual(corrections, ['o1:hello:helo:true']);
    assert.deepEqual(ignored, ['forged-correction']);
    // A retraction from someone else is ignored too; the sender's is applied.
    t.recv(
      `<message type='chat' from='mallory@evil.lit/x' id='r0'><retract xmlns='urn:xmpp:message-retract:1' id='o1'/></message>`,
    );
    const r = next(client, 'retraction');
    t.recv(
      `<message type='chat' from='${ROMEO}' id='r1'><retract xmlns='urn:xmpp:message-retract:1' id='o1'/><body>fallback</body></message>`,
    );
    assert.equal((await r).original?.id, 'o1');
    assert.deepEqual(ignored, ['forged-correction', 'forged-retraction']);
  });

  test('an expired offline message is dropped; a live one emits expired unless marked displayed', async () => {
    const { client, t, got } = await session();
    const past = new Date(Date.now() - 5_000).toISOString();
    const ignored = next(client, 'ignored');
    t.recv(
      `<message type='chat' from='${ROMEO}' id='e1'><body>old</body><x xmlns='jabber:x:expire' seconds='1'/><delay xmlns='urn:xmpp:delay' stamp='${past}' from='capulet.lit'/></message>`,
    );
    assert.equal((await ignored).reason, 'expired');
    t.recv(
      `<message type='chat' from='${ROMEO}' id='e2'><body>short</body><x xmlns='jabber:x:expire' seconds='1'/></message>`,
    );
    t.recv(
      `<message type='chat' from='${ROMEO}' id='e3'><body>read</body><x xmlns='jabber:x:expire' seconds='1'/></message>`,
    );
    const expired: string[] = [];
    client.messages.on('expired', (e) => expired.push(e.message.id ?? ''));
    client.messages.markDisplayed(got.find((m) => m.id === 'e3')!);
    await next(client, 'expired');
    assert.deepEqual(
      got.map((m) => m.id),
      ['e2', 'e3'],
    );
    assert.deepEqual(expired, ['e2']);
  });

  test('source: offline when our server delayed it (XEP-0160), live when the sender did', async () => {
    const { t, got } = await session();
    const stamp = new Date(Date.now() - 60_000).toISOString();
    t.recv(
      `<message type='chat' from='${ROMEO}' id='d1'><body>kept</body><delay xmlns='urn:xmpp:delay' stamp='${stamp}' from='capulet.lit'>Offline Storage</delay></message>`,
    );
    t.recv(
      `<message type='chat' from='${ROMEO}' id='d2'><body>resent</body><delay xmlns='urn:xmpp:delay' stamp='${stamp}' from='${ROMEO}'/></message>`,
    );
    t.recv(`<message type='chat' from='${ROMEO}' id='d3'><body>now</body></message>`);
    assert.deepEqual(
      got.map((m) => [m.id, m.source, m.outgoing]),
      [
        ['d1', 'offline', false],
        ['d2', 'live', false],
        ['d3', 'live', false],
      ],
    );
  });

  test('receipts: answered for those who may see our presence only (XEP-0184 8)', async () => {
    const s = await session({ presenceVisibleTo: (j) => j === 'romeo@montague.lit' });
    s.t.recv(
      `<message type='chat' from='stranger@x.lit/a' id='q1'><body>hi</body><request xmlns='urn:xmpp:receipts'/></message>`,
    );
    s.t.recv(
      `<message type='groupchat' from='room@muc.lit/romeo' id='q2'><body>hi</body><request xmlns='urn:xmpp:receipts'/></message>`,
    );
    s.t.recv(
      `<message type='chat' from='${ROMEO}' id='q3'><body>hi</body><request xmlns='urn:xmpp:receipts'/><x xmlns='jabber:x:event'><delivered/><displayed/><composing/></x></message>`,
    );
    const a = await s.out();
    assert.equal(a.attr('to'), ROMEO);
    assert.equal(a.getChild('received', 'urn:xmpp:receipts')?.attr('id'), 'q3');
    const b = await s.out();
    assert.equal(b.getChild('x', 'jabber:x:event')?.getChildText('id'), 'q3');
    assert.ok(b.getChild('x', 'jabber:x:event')?.getChild('delivered'));
    // Displayed (XEP-0022) on mark-read; composing answered with chat states.
    // (The group-chat line may be dropped by the MUC feature: not in that room. Find Romeo's.)
    s.client.messages.markDisplayed(s.got.find((m) => m.id === 'q3')!);
    const d = await s.out();
    assert.ok(d.getChild('x', 'jabber:x:event')?.getChild('displayed'));
    assert.equal(s.client.messages.chatState(ROMEO, 'composing'), true);
    const c = await s.out();
    assert.ok(c.getChild('x', 'jabber:x:event')?.getChild('composing'));
    // Romeo's message had no XEP-0085 state: no standalone chat state went out, only the legacy event.
    assert.equal(c.getChild('composing', 'http://jabber.org/protocol/chatstates'), undefined);
    // Our reply requests XEP-0022 events from this peer (it uses them) and cancels composing.
    await s.client.messages.reply(s.got.find((m) => m.id === 'q3')!, { body: 'answer' });
    const r = await s.out();
    assert.equal(r.getChildText('body'), 'answer');
    assert.ok(r.getChild('x', 'jabber:x:event')?.getChild('delivered'));
  });

  test('receipt tracking: only from the recipient; waitForReceipt resolves', async () => {
    const s = await session();
    const sent = await s.client.messages.send({ to: ROMEO, body: 'ping', receipt: true });
    const m = await s.out();
    assert.ok(m.getChild('request', 'urn:xmpp:receipts'));
    const w = s.client.messages.waitForReceipt(sent.id, { timeout: 2_000 });
    const ignored = next(s.client, 'ignored');
    s.t.recv(
      `<message from='mallory@evil.lit/x'><received xmlns='urn:xmpp:receipts' id='${sent.id}'/></message>`,
    );
    assert.equal((await ignored).reason, 'unexpected-receipt');
    s.t.recv(`<message from='${ROMEO}'><received xmlns='urn:xmpp:receipts' id='${sent.id}'/></message>`);
    assert.deepEqual(await w, { id: sent.id, from: ROMEO, via: 'xep0184' });
    await assert.rejects(s.client.messages.waitForReceipt('nope', { timeout: 10 }), { code: 'ERR_TIMEOUT' });
  });

  test('a receipt for a message another of our resources sent (its sent carbon) is ours too (XEP-0280)', async () => {
    const s = await session();
    const receipts: string[] = [];
    s.client.messages.on('receipt', (e) => receipts.push(`${e.id} ${e.from}`));
    const ignored = next(s.client, 'ignored');
    // Without the sent carbon, the received carbon of the receipt names a message we never sent.
    s.client.messages.ingest(
      el(
        `<message type='chat' from='${ROMEO}' to='${ME}/phone'><received xmlns='urn:xmpp:receipts' id='p0'/></message>`,
      ),
      { source: 'carbon-received' },
    );
    assert.equal((await ignored).reason, 'unexpected-receipt');
    s.client.messages.ingest(
      el(
        `<message type='chat' from='${ME}/phone' to='${ROMEO}' id='p1'><body>from my phone</body><request xmlns='urn:xmpp:receipts'/></message>`,
      ),
      { source: 'carbon-sent' },
    );
    // A stranger's receipt for it is still ignored; Romeo's counts.
    const forged = next(s.client, 'ignored');
    s.client.messages.ingest(
      el(
        `<message type='chat' from='mallory@evil.lit/x' to='${ME}/phone'><received xmlns='urn:xmpp:receipts' id='p1'/></message>`,
      ),
      { source: 'carbon-received' },
    );
    assert.equal((await forged).reason, 'unexpected-receipt');
    s.client.messages.ingest(
      el(
        `<message type='chat' from='${ROMEO}' to='${ME}/phone'><received xmlns='urn:xmpp:receipts' id='p1'/></message>`,
      ),
      { source: 'carbon-received' },
    );
    assert.deepEqual(receipts, [`p1 ${ROMEO}`]);
    // It is not "our last message": a correction from here still refers to our own.
    await assert.rejects(s.client.messages.correct('p1', 'fixed'), ConfabError);
  });
});

describe('sending', () => {
  test('chat states: active with the first message; standalone only after the peer showed support', async () => {
    const s = await session();
    assert.equal(s.client.messages.chatState(ROMEO, 'composing'), false, 'support unknown: nothing sent');
    await s.client.messages.send({ to: ROMEO, body: 'hi' });
    const first = await s.out();
    assert.ok(first.getChild('active', 'http://jabber.org/protocol/chatstates'));
    s.t.recv(
      `<message type='chat' from='${ROMEO}' id='x'><body>yo</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
    );
    assert.equal(s.client.messages.chatState(ROMEO, 'composing'), true);
    const cs = await s.out();
    assert.ok(cs.getChild('composing', 'http://jabber.org/protocol/chatstates'));
    assert.equal(cs.getChild('body'), undefined);
    assert.equal(s.client.messages.chatState(ROMEO, 'composing'), false, 'not repeated');
    // A reply without a state: stop (XEP-0085 5.1).
    s.t.recv(`<message type='chat' from='${ROMEO}' id='y'><body>plain</body></message>`);
    assert.equal(s.client.messages.chatState(ROMEO, 'paused'), false);
  });

  test('markers: displayed for a markable message, with its thread', async () => {
    const s = await session();
    s.t.recv(
      `<message type='chat' from='${ROMEO}' id='mk'><body>x</body><thread>T</thread><markable xmlns='urn:xmpp:chat-markers:0'/></message>`,
    );
    s.client.messages.markDisplayed(s.got[0]!);
    const d = await s.out();
    assert.equal(d.getChild('displayed', 'urn:xmpp:chat-markers:0')?.attr('id'), 'mk');
    assert.equal(d.getChildText('thread'), 'T');
  });

  test('corrections only of our last message to that peer; retraction with fallback', async () => {
    const s = await session();
    const a = await s.client.messages.send({ to: ROMEO, body: 'one' });
    const b = await s.client.messages.send({ to: ROMEO, body: 'twoo', thread: 'T' });
    await s.out();
    await s.out();
    await assert.rejects(s.client.messages.correct(a.id, 'uno'), { code: 'ERR_BAD_INPUT' });
    await s.client.messages.correct(b.id, 'two');
    const c = await s.out();
    assert.equal(c.getChild('replace', 'urn:xmpp:message-correct:0')?.attr('id'), b.id);
    assert.equal(c.getChildText('body'), 'two');
    assert.equal(c.getChildText('thread'), 'T');
    await s.client.messages.correct(b.id, 'two!'); // a second correction names the original
    assert.equal((await s.out()).getChild('replace', 'urn:xmpp:message-correct:0')?.attr('id'), b.id);
    await s.client.messages.retract(a.id);
    const r = await s.out();
    assert.equal(r.getChild('retract', 'urn:xmpp:message-retract:1')?.attr('id'), a.id);
    assert.equal(r.getChild('fallback', 'urn:xmpp:fallback:0')?.attr('for'), 'urn:xmpp:message-retract:1');
    assert.ok(r.getChild('store', 'urn:xmpp:hints'));
  });

  test('sendToMany: through the multicast service disco finds', async () => {
    const s = await session();
    const p = s.client.messages.sendToMany({ body: 'all' }, [
      { type: 'to', jid: 'a@x.lit' as never },
      { type: 'bcc', jid: 'b@x.lit' as never },
    ]);
    // Answer by what is asked, as a server does: since the composition root wires carbons
    // and MAM, their own disco#info gets (the server, our account) are on the wire too, in
    // an order that is none of this test's business. The domain has no XEP-0033 feature,
    // its items list the multicast service, which has it.
    const NS_INFO = 'http://jabber.org/protocol/disco#info';
    const NS_ITEMS = 'http://jabber.org/protocol/disco#items';
    const asked: string[] = [];
    for (let found = false; !found; ) {
      const s2 = await s.t.next();
      if (s2.kind !== 'element' || s2.el.name !== 'iq' || s2.el.attr('type') !== 'get') continue;
      const id = s2.el.attr('id')!;
      const to = s2.el.attr('to');
      const ns = s2.el.elements()[0]?.xmlns ?? '';
      const from = to === undefined ? '' : ` from='${to}'`;
      asked.push(`${ns.slice(ns.indexOf('#') + 1)} ${to ?? ''}`);
      let inner = '';
      if (ns === NS_ITEMS && to === 'capulet.lit') inner = `<item jid='multicast.capulet.lit'/>`;
      if (ns === NS_INFO && to === 'multicast.capulet.lit') {
        inner = `<feature var='http://jabber.org/protocol/address'/>`;
        found = true;
      }
      s.t.recv(
        ns === NS_INFO || ns === NS_ITEMS
          ? `<iq type='result' id='${id}'${from}><query xmlns='${ns}'>${inner}</query></iq>`
          : `<iq type='result' id='${id}'${from}/>`,
      );
    }
    assert.ok(asked.includes('items capulet.lit'), `the domain's items were asked: ${asked.join(', ')}`);
    const r = await p;
    assert.equal(r.via, 'multicast');
    const m = await s.out();
    assert.equal(m.attr('to'), 'multicast.capulet.lit');
    assert.equal(
      m.getChild('addresses', 'http://jabber.org/protocol/address')?.getChildren('address').length,
      2,
    );
  });
});
