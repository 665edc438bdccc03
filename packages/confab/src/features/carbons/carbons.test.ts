// Message Carbons (XEP-0280): the codec against the spec's examples, then dialogue tests on a
// memory transport (the test plays the server): discovery, enable on new sessions only,
// disable, unwrap with direction, private messages, and the trust rule: a wrapper is a carbon
// only when it comes from our own bare JID (another account, our own full JID, no `from`:
// ignored, never shown as a message).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { el, wire } from '../../../test/helpers/memory-transport.ts';
import { ACCOUNT, FULL, type Online, online } from '../../../test/helpers/online.ts';
import type { Client } from '../../client.ts';
import type { ConfabError } from '../../errors.ts';
import { Emitter } from '../../events.ts';
import { type BareJid, type FullJid, jid } from '../../jid.ts';
import { type Element, xml } from '../../xml/element.ts';
import { Carbons, type CarbonsHost, type CarbonsOptions } from './carbons.ts';
import { carbonOrigin, markPrivate, NS_CARBONS, readCarbon } from './codec.ts';
import type { ForwardedMeta } from './forwarded.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim();
const DISCO = 'http://jabber.org/protocol/disco#info';

describe('carbons codec (XEP-0280 examples)', () => {
  test('received carbon: direction, inner message, origin accepted for the bare JID only', () => {
    const w = readCarbon(el(fixture('xep0280-received.xml')));
    assert.ok(w?.forwarded);
    assert.equal(w.direction, 'received');
    assert.equal(w.forwarded.message.attr('from'), 'juliet@capulet.example/balcony');
    assert.match(w.forwarded.message.getChildText('body') ?? '', /^What man art thou/);
    assert.equal(carbonOrigin(w, 'romeo@montague.example' as BareJid), undefined);
    assert.equal(carbonOrigin(w, 'juliet@capulet.example' as BareJid), 'not-from-own-bare-jid');
  });

  test('sent carbon: direction sent, the peer is the inner to', () => {
    const w = readCarbon(el(fixture('xep0280-sent.xml')));
    assert.equal(w?.direction, 'sent');
    assert.equal(w?.forwarded?.message.attr('to'), 'juliet@capulet.example/balcony');
    assert.equal(carbonOrigin(w!, 'romeo@montague.example' as BareJid), undefined);
  });

  test('markPrivate writes <private/> and the no-copy hint, byte for byte, once', () => {
    const m = xml(
      'message',
      { to: 'juliet@capulet.example/home', type: 'chat', id: 'p1' },
      xml('body', null, 'Neither, fair saint, if either thee dislike.'),
    );
    markPrivate(m);
    markPrivate(m);
    assert.equal(wire(m), fixture('xep0280-private.xml'));
  });

  test('not carbons: a message with only <private/>, a malformed envelope', () => {
    assert.equal(readCarbon(el(`<message from='a@b'><private xmlns='${NS_CARBONS}'/></message>`)), undefined);
    const bad = readCarbon(
      el(
        `<message from='romeo@montague.example'><sent xmlns='${NS_CARBONS}'><forwarded xmlns='urn:xmpp:forward:0'><iq type='get' id='x'/></forwarded></sent></message>`,
      ),
    );
    assert.equal(bad?.forwarded, undefined);
    assert.equal(carbonOrigin(bad!, 'romeo@montague.example' as BareJid), 'malformed');
  });
});

// ---------------------------------------------------------------- dialogue

interface Session extends Online {
  carbons: Carbons;
  forwarded: Array<{ inner: Element; meta: ForwardedMeta }>;
  ignored: string[];
  messages: number;
  errors: ConfabError[];
}

async function session(options?: CarbonsOptions, intercept = false): Promise<Session> {
  let carbons!: Carbons;
  const forwarded: Session['forwarded'] = [];
  const ignored: string[] = [];
  const errors: ConfabError[] = [];
  let messages = 0;
  const o = await online({}, (client) => {
    carbons = new Carbons({
      client,
      options,
      onForwarded: (inner, meta) => {
        forwarded.push({ inner, meta });
      },
      onError: (e) => errors.push(e),
      // As the composition root wires it: ahead of the app-facing events.
      intercept: intercept ? (stage) => client.addInboundFilter((x) => stage(x) !== true) : undefined,
    });
    carbons.on('ignored', (e) => ignored.push(e.reason));
    client.on('message', () => messages++);
  });
  return {
    ...o,
    carbons,
    forwarded,
    ignored,
    errors,
    get messages() {
      return messages;
    },
  };
}

/**
 * The next iq the client writes that `match`es, skipping what other features send meanwhile
 * (the roster get, the initial presence...).
 */
async function iqWhere(s: Online, match: (iq: Element) => boolean): Promise<Element> {
  for (;;) {
    const x = await s.t.expect('element');
    if (x.el.name === 'iq' && match(x.el)) return x.el;
  }
}
const discoIq = (iq: Element) => iq.attr('type') === 'get' && iq.getChild('query', DISCO) !== undefined;
const carbonsIq = (iq: Element) => iq.attr('type') === 'set' && iq.elements()[0]?.xmlns === NS_CARBONS;

/** Answer the disco#info of the server domain; with or without the carbons feature. */
async function answerDisco(s: Online, features: string[]): Promise<void> {
  const q = await iqWhere(s, discoIq);
  assert.equal(q.attr('to'), 'capulet.lit', 'carbons are a feature of the server domain');
  s.t.recv(
    `<iq type='result' id='${q.attr('id')}' from='capulet.lit' to='${FULL}'><query xmlns='${DISCO}'>${features
      .map((f) => `<feature var='${f}'/>`)
      .join('')}</query></iq>`,
  );
}

function statusIs(c: Carbons, status: string): Promise<void> {
  if (c.status === status) return Promise.resolve();
  return new Promise((resolve) => {
    const off = c.on('status', (st) => {
      if (st === status) {
        off();
        resolve();
      }
    });
  });
}

async function enabledSession(intercept = false): Promise<Session> {
  const s = await session(undefined, intercept);
  await answerDisco(s, [DISCO, NS_CARBONS]);
  const en = await iqWhere(s, carbonsIq);
  assert.equal(wire(en.elements()[0]!), `<enable xmlns='${NS_CARBONS}'/>`);
  assert.equal(en.attr('to'), undefined);
  s.t.recv(`<iq type='result' id='${en.attr('id')}' from='${ACCOUNT}' to='${FULL}'/>`);
  await statusIs(s.carbons, 'enabled');
  return s;
}

const RECEIVED = (from: string | null) =>
  `<message${from === null ? '' : ` from='${from}'`} to='${FULL}' type='chat'><received xmlns='${NS_CARBONS}'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='romeo@montague.lit/orchard' to='${ACCOUNT}/chamber' type='chat' id='m1'><body>forged or not?</body></message></forwarded></received></message>`;

describe('carbons: enabling (XEP-0280 3-5)', () => {
  test('server offers carbons: disco of the domain, then <enable/>, status enabled, no errors', async () => {
    const s = await enabledSession();
    assert.equal(s.carbons.supported, true);
    assert.deepEqual(s.errors, []);
    await s.client.disconnect();
  });

  test('server without carbons: status unsupported, no request, no error (degrades silently)', async () => {
    const s = await session();
    await answerDisco(s, [DISCO]);
    await statusIs(s.carbons, 'unsupported');
    assert.equal(s.carbons.supported, false);
    await s.carbons.enable(); // asking again changes nothing and does not throw
    assert.equal(s.carbons.status, 'unsupported');
    await s.client.disconnect();
    assert.ok(
      !s.t.sent.some((x) => x.kind === 'element' && x.el.getChild('enable', NS_CARBONS)),
      'no enable was sent',
    );
    assert.deepEqual(s.errors, []);
  });

  test('disco answered with an error: unsupported, silently', async () => {
    const s = await session();
    const q = await iqWhere(s, discoIq);
    s.t.recv(
      `<iq type='error' id='${q.attr('id')}' from='capulet.lit'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
    await statusIs(s.carbons, 'unsupported');
    assert.deepEqual(s.errors, []);
    await s.client.disconnect();
  });

  test('enable refused (forbidden): status failed, reported once', async () => {
    const s = await session();
    await answerDisco(s, [NS_CARBONS]);
    const en = await iqWhere(s, carbonsIq);
    s.t.recv(
      `<iq type='error' id='${en.attr('id')}' from='${ACCOUNT}'><error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
    await statusIs(s.carbons, 'failed');
    await new Promise((r) => setImmediate(r));
    assert.equal(s.errors.length, 1);
    assert.equal(s.errors[0]?.condition, 'forbidden');
    await s.client.disconnect();
  });

  test('option enabled: false: supported, but nothing is sent until enable()', async () => {
    const s = await session({ enabled: false });
    await answerDisco(s, [NS_CARBONS]);
    await statusIs(s.carbons, 'disabled'); // a new session has carbons off: nothing sent
    const p = s.carbons.enable();
    const en = await iqWhere(s, carbonsIq);
    assert.ok(en.getChild('enable', NS_CARBONS));
    s.t.recv(`<iq type='result' id='${en.attr('id')}'/>`);
    await p;
    assert.equal(s.carbons.status, 'enabled');
    await s.client.disconnect();
  });

  test('disable(): <disable/>, status disabled', async () => {
    const s = await enabledSession();
    const p = s.carbons.disable();
    const dis = await iqWhere(s, carbonsIq);
    assert.equal(wire(dis.elements()[0]!), `<disable xmlns='${NS_CARBONS}'/>`);
    s.t.recv(`<iq type='result' id='${dis.attr('id')}' from='${ACCOUNT}'/>`);
    await p;
    assert.equal(s.carbons.status, 'disabled');
    await s.client.disconnect();
  });
});

describe('carbons: new sessions vs resumed ones (fake host)', () => {
  class FakeHost {
    readonly events = new Emitter<{ online: { jid: FullJid; resumed: boolean }; stanza: Element }>();
    readonly requests: Element[] = [];
    status: Client['status'] = 'offline';
    jid: FullJid | undefined;
    streamFeatures: Element | undefined;
    on(event: string, l: (p: never) => void): () => void {
      return this.events.on(event as 'online', l as never);
    }
    async iq(req: { payload: Element }): Promise<Element> {
      this.requests.push(req.payload);
      if (req.payload.xmlns === DISCO)
        return el(`<iq type='result'><query xmlns='${DISCO}'><feature var='${NS_CARBONS}'/></query></iq>`);
      return el(`<iq type='result'/>`);
    }
    goOnline(resumed: boolean): void {
      this.status = 'online';
      this.jid = jid(FULL) as FullJid;
      this.events.emit('online', { jid: this.jid, resumed });
    }
  }

  test('enabled after each new bind, not after a stream-management resumption; disable() sticks', async () => {
    const host = new FakeHost();
    const c = new Carbons({ client: host as unknown as CarbonsHost });
    host.goOnline(false);
    await statusIs(c, 'enabled');
    const enables = () => host.requests.filter((r) => r.is('enable', NS_CARBONS)).length;
    assert.equal(enables(), 1);
    host.goOnline(true); // resumed: the server kept the session's carbons state
    await new Promise((r) => setImmediate(r));
    assert.equal(enables(), 1);
    assert.equal(c.status, 'enabled');
    host.goOnline(false); // a new session: carbons are off on the server again
    await statusIs(c, 'enabled');
    assert.equal(enables(), 2);
    await c.disable();
    host.goOnline(false);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(enables(), 2, 'the app turned carbons off: a new session does not turn them on');
    c.destroy();
  });
});

describe('carbons: receiving, and the trust rule (XEP-0280 6, 7, 11)', () => {
  test('received copy from our bare JID: unwrapped, source carbon-received, peer = inner from', async () => {
    const s = await enabledSession();
    const seen = new Promise<{ peer: string | undefined }>((r) => s.carbons.once('carbon', r));
    s.t.recv(RECEIVED(ACCOUNT));
    assert.equal((await seen).peer, 'romeo@montague.lit/orchard');
    assert.equal(s.forwarded.length, 1);
    const f = s.forwarded[0]!;
    assert.equal(f.meta.source, 'carbon-received');
    assert.equal(f.inner.attr('id'), 'm1');
    assert.equal(f.inner.getChildText('body'), 'forged or not?');
    assert.deepEqual(s.ignored, []);
    await s.client.disconnect();
  });

  test('sent copy: source carbon-sent, the peer is the inner to, the forwarded delay is read', async () => {
    const s = await enabledSession();
    s.t.recv(
      `<message from='${ACCOUNT}' to='${FULL}' type='chat'><sent xmlns='${NS_CARBONS}'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/><message xmlns='jabber:client' from='${ACCOUNT}/chamber' to='romeo@montague.lit' type='chat' id='s1'><body>from my other device</body></message></forwarded></sent></message>`,
    );
    assert.equal(s.forwarded.length, 1);
    assert.equal(s.forwarded[0]!.meta.source, 'carbon-sent');
    assert.equal(s.forwarded[0]!.inner.attr('to'), 'romeo@montague.lit');
    assert.equal(s.forwarded[0]!.meta.delay?.stamp.toISOString(), '2010-07-10T23:08:25.000Z');
    await s.client.disconnect();
  });

  test('SECURITY: a "carbon" from another account is ignored (the classic CVE); the genuine one works', async () => {
    const s = await enabledSession();
    // The pipeline lets it through (addressed to us, well-formed): the feature must refuse it.
    assert.equal(s.carbons.process(el(RECEIVED('romeo@montague.lit'))), true, 'consumed, not a message');
    s.t.recv(RECEIVED('romeo@montague.lit/orchard'));
    assert.equal(s.forwarded.length, 0);
    assert.deepEqual(s.ignored, ['not-from-own-bare-jid', 'not-from-own-bare-jid']);
    s.t.recv(RECEIVED(ACCOUNT));
    assert.equal(s.forwarded.length, 1, 'the genuine carbon still works');
    await s.client.disconnect();
  });

  test('SECURITY: a "carbon" from our own FULL JID (another resource) is ignored, so is one without from', async () => {
    const s = await enabledSession();
    s.t.recv(RECEIVED(`${ACCOUNT}/chamber`));
    s.t.recv(RECEIVED(FULL));
    s.t.recv(RECEIVED(null));
    assert.equal(s.forwarded.length, 0);
    assert.deepEqual(s.ignored, ['not-from-own-bare-jid', 'not-from-own-bare-jid', 'not-from-own-bare-jid']);
    await s.client.disconnect();
  });

  test('SECURITY: a wrapper from our bare JID whose sent copy claims another sender is ignored', async () => {
    const s = await enabledSession();
    s.t.recv(
      `<message from='${ACCOUNT}' to='${FULL}' type='chat'><sent xmlns='${NS_CARBONS}'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='romeo@montague.lit/orchard' to='nurse@capulet.lit' type='chat'><body>x</body></message></forwarded></sent></message>`,
    );
    assert.equal(s.forwarded.length, 0);
    assert.deepEqual(s.ignored, ['inner-not-ours']);
    await s.client.disconnect();
  });

  test('a plain message is not a carbon: process() leaves it to the message path', async () => {
    const s = await enabledSession();
    assert.equal(
      s.carbons.process(el(`<message from='romeo@montague.lit/o' type='chat'><body>hi</body></message>`)),
      false,
    );
    await s.client.disconnect();
  });

  test('wired ahead of the message event: no wrapper, genuine or forged, is ever a plain message', async () => {
    const s = await enabledSession(true);
    s.t.recv(RECEIVED(ACCOUNT));
    s.t.recv(RECEIVED('romeo@montague.lit'));
    s.t.recv(RECEIVED(FULL));
    s.t.recv(
      `<message from='romeo@montague.lit/orchard' to='${FULL}' type='chat'><body>plain</body></message>`,
    );
    assert.equal(s.forwarded.length, 1);
    assert.equal(s.ignored.length, 2);
    assert.equal(s.messages, 1, 'only the plain message reached the message event');
    await s.client.disconnect();
  });
});
