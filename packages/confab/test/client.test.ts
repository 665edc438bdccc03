// Dialogue tests of the client on an in-memory transport: the test plays the server
// (RFC 6120 negotiation, XEP-0078 legacy auth, stream errors, iq semantics) and asserts
// exactly what the client writes. No network, no sleeps.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Client, type ClientOptions, createClientOn, type Status } from '../src/client.ts';
import { ConfabError, StanzaError } from '../src/errors.ts';
import { loadAccountFacts, saveAccountFacts } from '../src/store/account.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { fromBase64, fromUtf8 } from '../src/util/base64.ts';
import { xml } from '../src/xml/element.ts';
import {
  el,
  FEATURES_BIND,
  FEATURES_PLAIN,
  MemoryPlatform,
  serveLogin,
  wire,
} from './helpers/memory-transport.ts';

const ACCOUNT = 'juliet@example.com';

function make(platform: MemoryPlatform, o: Partial<ClientOptions> = {}): Client {
  return createClientOn(platform, {
    // A bare core: these tests play the server for the features they build themselves.
    features: false,
    jid: ACCOUNT,
    password: 'r0meo',
    reconnect: false,
    keepalive: { whitespaceInterval: 0, pingInterval: 0 },
    timeouts: { disconnect: 100 },
    ...o,
  });
}

async function online(o: Partial<ClientOptions> = {}, serve: Parameters<typeof serveLogin>[2] = {}) {
  const platform = new MemoryPlatform();
  const client = make(platform, o);
  const connected = client.connect();
  const t = await platform.nextTransport();
  const resource = await serveLogin(t, ACCOUNT, serve);
  await connected;
  return { platform, client, t, resource };
}

/** Resolve when `fn` says yes on a status change. */
function statusReached(client: Client, s: Status): Promise<void> {
  if (client.status === s) return Promise.resolve();
  return new Promise((resolve) => {
    const off = client.on('status', (now) => {
      if (now === s) {
        off();
        resolve();
      }
    });
  });
}

describe('login', () => {
  test('STARTTLS, SASL PLAIN, bind with the chosen resource, initial presence; status and events in order', async () => {
    const platform = new MemoryPlatform({ secure: false });
    const client = make(platform, { resource: 'Balcony' });
    const statuses: Status[] = [];
    client.on('status', (s) => statuses.push(s));
    const onlineEvents: string[] = [];
    client.on('online', (e) => onlineEvents.push(e.jid));
    const connected = client.connect();
    assert.equal(client.status, 'connecting');
    const t = await platform.nextTransport();
    assert.equal(t.options.domain, 'example.com');
    const first = await t.expect('open');
    assert.equal(first.header.to, 'example.com');
    assert.equal(first.header.from, undefined, 'no from before TLS (RFC 6120 4.7.1)');
    t.open();
    t.recv(
      `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>${FEATURES_PLAIN.slice(17, -18)}</stream:features>`,
    );
    await t.expectElement('starttls');
    t.recv(`<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
    await t.expect('starttls');
    const second = await t.expect('open');
    assert.equal(second.header.from, 'juliet@example.com', 'from once encrypted');
    t.open();
    t.recv(FEATURES_PLAIN);
    const auth = await t.expectElement('auth');
    assert.equal(auth.attr('mechanism'), 'PLAIN');
    assert.equal(fromUtf8(fromBase64(auth.text())), '\u0000juliet\u0000r0meo');
    t.recv(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
    await t.expect('open');
    t.open();
    t.recv(FEATURES_BIND);
    const bind = await t.expectElement('iq');
    assert.equal(bind.attr('type'), 'set');
    assert.equal(
      bind.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind')?.getChildText('resource'),
      'Balcony',
    );
    assert.equal(client.status, 'negotiating');
    t.recv(
      `<iq type='result' id='${bind.attr('id')}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@example.com/Balcony</jid></bind></iq>`,
    );
    const presence = await t.expectElement('presence');
    assert.equal(wire(presence), '<presence/>');
    await connected;
    assert.equal(client.status, 'online');
    assert.equal(client.jid, 'juliet@example.com/Balcony');
    assert.deepEqual(statuses, ['connecting', 'negotiating', 'online']);
    assert.deepEqual(onlineEvents, ['juliet@example.com/Balcony']);
  });

  test('a server-assigned resource is accepted and reported', async () => {
    const { client, resource } = await online({}, { bound: 'juliet@example.com/4db3-random' });
    assert.equal(resource, undefined, 'no resource asked for');
    assert.equal(client.jid, 'juliet@example.com/4db3-random');
  });

  test('a resource in the JID is used when no resource option is given', async () => {
    const { resource } = await online({ jid: 'juliet@example.com/PowerBook' });
    assert.equal(resource, 'PowerBook');
  });

  test('session establishment when advertised and not optional; skipped when optional', async () => {
    for (const optional of [false, true]) {
      const platform = new MemoryPlatform();
      const client = make(platform);
      const connected = client.connect();
      const t = await platform.nextTransport();
      await t.expect('open');
      t.open();
      t.recv(FEATURES_PLAIN);
      await t.expectElement('auth');
      t.recv(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
      await t.expect('open');
      t.open();
      t.recv(
        `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'>${optional ? '<optional/>' : ''}</session></stream:features>`,
      );
      const bind = await t.expectElement('iq');
      t.recv(
        `<iq type='result' id='${bind.attr('id')}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@example.com/x</jid></bind></iq>`,
      );
      if (!optional) {
        const session = await t.expectElement('iq');
        assert.ok(session.getChild('session', 'urn:ietf:params:xml:ns:xmpp-session'));
        t.recv(`<iq type='result' id='${session.attr('id')}'/>`);
      }
      await t.expectElement('presence');
      await connected;
    }
  });

  test('initialPresence: false sends no presence', async () => {
    const { client, t } = await online({ initialPresence: false }, { presence: false });
    assert.equal(client.status, 'online');
    assert.ok(!t.sent.some((s) => s.kind === 'element' && s.el.name === 'presence'));
  });

  test('no STARTTLS offered: ERR_TLS_REQUIRED before any auth step, no reconnect', async () => {
    const platform = new MemoryPlatform({ secure: false });
    const client = make(platform, { reconnect: true });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await t.expect('open');
    t.open();
    t.recv(FEATURES_PLAIN);
    await assert.rejects(connected, (e: ConfabError) => {
      assert.equal(e.code, 'ERR_TLS_REQUIRED');
      assert.match(e.message, /allowPlaintext/);
      return true;
    });
    assert.ok(!t.sent.some((s) => s.kind === 'element' && s.el.name === 'auth'), 'no auth sent');
    assert.equal(client.status, 'offline');
    assert.equal(platform.created.length, 1);
  });

  test('STARTTLS <failure/>: ERR_TLS_REQUIRED, no auth', async () => {
    const platform = new MemoryPlatform({ secure: false });
    const client = make(platform, { allowPlaintext: true });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await t.expect('open');
    t.open();
    t.recv(`<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>`);
    await t.expectElement('starttls');
    t.recv(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
    await assert.rejects(connected, { code: 'ERR_TLS_REQUIRED' });
    assert.ok(!t.sent.some((s) => s.kind === 'element' && s.el.name === 'auth'));
  });

  test('allowPlaintext permits a stream without TLS (and PLAIN on it)', async () => {
    const platform = new MemoryPlatform({ secure: false });
    const client = make(platform, { allowPlaintext: true });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await serveLogin(t, ACCOUNT);
    await connected;
    assert.equal(client.status, 'online');
  });

  test('ws:// is refused without allowPlaintext, with a message saying how to allow it', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform, { websocket: 'ws://example.com/xmpp-websocket' });
    await assert.rejects(client.connect(), (e: ConfabError) => {
      assert.equal(e.code, 'ERR_PLAINTEXT_REFUSED');
      assert.match(e.message, /allowPlaintext/);
      return true;
    });
    assert.equal(platform.created.length, 0, 'nothing was opened');
  });

  test('SASL failure: ERR_AUTH with condition and text, final, no reconnect', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform, { reconnect: true });
    let reconnecting = 0;
    client.on('reconnecting', () => reconnecting++);
    const connected = client.connect();
    const t = await platform.nextTransport();
    await t.expect('open');
    t.open();
    t.recv(FEATURES_PLAIN);
    await t.expectElement('auth');
    t.recv(
      `<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>Invalid username or password</text></failure>`,
    );
    await assert.rejects(connected, (e: ConfabError) => {
      assert.equal(e.code, 'ERR_AUTH');
      assert.equal(e.condition, 'not-authorized');
      assert.equal(e.text, 'Invalid username or password');
      return true;
    });
    assert.equal(client.status, 'offline');
    assert.equal(reconnecting, 0);
    assert.equal(platform.created.length, 1);
  });

  test('a password callback is asked at login', async () => {
    let asked = 0;
    const { client } = await online({
      password: async () => {
        asked++;
        return 'r0meo';
      },
    });
    assert.equal(asked, 1);
    assert.equal(client.status, 'online');
  });

  test('the first attempt failing rejects (transport error), no reconnect even when enabled', async () => {
    const platform = new MemoryPlatform({ connectError: new ConfabError('ERR_CONNECT', 'ECONNREFUSED') });
    const client = make(platform, { reconnect: true });
    await assert.rejects(client.connect(), { code: 'ERR_CONNECT' });
    assert.equal(client.status, 'offline');
    assert.equal(platform.created.length, 1);
  });

  test('a stream error during login rejects with a typed StreamError', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform);
    const connected = client.connect();
    const t = await platform.nextTransport();
    await t.expect('open');
    t.open();
    t.recv(
      `<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>no such domain</text></stream:error>`,
    );
    await assert.rejects(connected, (e: ConfabError) => {
      assert.equal(e.code, 'ERR_STREAM');
      assert.equal(e.condition, 'host-unknown');
      assert.equal(e.text, 'no such domain');
      return true;
    });
    assert.ok(t.destroyed);
  });

  test('bind error: ERR_BIND with the condition', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform);
    const connected = client.connect();
    const t = await platform.nextTransport();
    await t.expect('open');
    t.open();
    t.recv(FEATURES_PLAIN);
    await t.expectElement('auth');
    t.recv(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
    await t.expect('open');
    t.open();
    t.recv(FEATURES_BIND);
    const bind = await t.expectElement('iq');
    t.recv(
      `<iq type='error' id='${bind.attr('id')}'><error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
    await assert.rejects(connected, { code: 'ERR_BIND', condition: 'not-allowed' });
  });

  test('login timeout: ERR_TIMEOUT when the server never answers', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform, { timeouts: { login: 50 } });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await t.expect('open');
    await assert.rejects(connected, { code: 'ERR_TIMEOUT' });
    assert.ok(t.destroyed);
  });

  test('remembers the mechanism and warns on a downgrade at the next login', async () => {
    const store = new MemoryStore();
    await saveAccountFacts(store, { saslMechanism: 'SCRAM-SHA-256' });
    const warnings: string[] = [];
    const platform = new MemoryPlatform();
    const client = make(platform, { store });
    client.on('warning', (w) => warnings.push(`${w.code}: ${w.message}`));
    const connected = client.connect();
    await serveLogin(await platform.nextTransport(), ACCOUNT);
    await connected;
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^sasl-downgrade: .*SCRAM-SHA-256.*PLAIN/);
    assert.equal((await loadAccountFacts(store)).saslMechanism, 'PLAIN');
  });
});

describe('legacy authentication (XEP-0078)', () => {
  async function legacyDialogue(o: Partial<ClientOptions>, fields: string, secure = true) {
    const platform = new MemoryPlatform({ secure });
    const client = make(platform, { resource: 'Home', ...o });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await t.expect('open');
    // A pre-XMPP-1.0 server, like the seed's: no version, no features.
    t.options.handlers.streamStart({ from: 'example.com', id: '3EE948B0' });
    return { client, connected, t, fields };
  }

  test('pre-1.0 server: fields query, then the SHA-1 digest of stream id + password; no restart', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform, { resource: 'Home', password: 'Calli0pe', jid: 'bill@shakespeare.lit' });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await t.expect('open');
    t.options.handlers.streamStart({ from: 'shakespeare.lit', id: '3EE948B0' });
    const get = await t.expectElement('iq');
    assert.equal(get.attr('type'), 'get');
    assert.equal(get.attr('to'), 'shakespeare.lit');
    assert.equal(get.getChild('query', 'jabber:iq:auth')?.getChildText('username'), 'bill');
    t.recv(
      `<iq type='result' id='${get.attr('id')}'><query xmlns='jabber:iq:auth'><username/><password/><digest/><resource/></query></iq>`,
    );
    const set = await t.expectElement('iq');
    const q = set.getChild('query', 'jabber:iq:auth')!;
    assert.equal(set.attr('type'), 'set');
    // XEP-0078 example 4's digest for stream id 3EE948B0 and password Calli0pe.
    assert.equal(q.getChildText('digest'), '48fc78be9ec8f86d8ce1c39c320c97c21d62334d');
    assert.equal(q.getChild('password'), undefined, 'digest preferred over the password');
    assert.equal(q.getChildText('resource'), 'Home');
    t.recv(`<iq type='result' id='${set.attr('id')}'/>`);
    await t.expectElement('presence');
    await connected;
    assert.equal(client.jid, 'bill@shakespeare.lit/Home');
    assert.equal(t.sent.filter((s) => s.kind === 'open').length, 1, 'no stream restart');
  });

  test('legacyAuth: true uses jabber:iq:auth although SASL is offered; plaintext password on TLS', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform, { legacyAuth: true, resource: 'Home' });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await t.expect('open');
    t.open();
    t.recv(
      `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms><auth xmlns='http://jabber.org/features/iq-auth'/></stream:features>`,
    );
    const get = await t.expectElement('iq');
    t.recv(
      `<iq type='result' id='${get.attr('id')}'><query xmlns='jabber:iq:auth'><username/><password/><resource/></query></iq>`,
    );
    const set = await t.expectElement('iq');
    assert.equal(set.getChild('query', 'jabber:iq:auth')?.getChildText('password'), 'r0meo');
    t.recv(`<iq type='result' id='${set.attr('id')}'/>`);
    await connected;
    assert.equal(client.jid, 'juliet@example.com/Home');
  });

  test('plaintext legacy password refused on an unencrypted stream unless allowed', async () => {
    const { connected, t } = await legacyDialogue({ allowPlaintext: true, legacyAuth: true }, '', false);
    // allowPlaintext lets the unencrypted stream through; now see the password rule:
    const get = await t.expectElement('iq');
    t.recv(
      `<iq type='result' id='${get.attr('id')}'><query xmlns='jabber:iq:auth'><username/><password/><resource/></query></iq>`,
    );
    const set = await t.expectElement('iq');
    assert.equal(set.getChild('query', 'jabber:iq:auth')?.getChildText('password'), 'r0meo');
    t.recv(`<iq type='result' id='${set.attr('id')}'/>`);
    await connected;

    const platform = new MemoryPlatform({ secure: false });
    const client = make(platform, { legacyAuth: true });
    const c2 = client.connect();
    const t2 = await platform.nextTransport();
    await t2.expect('open');
    t2.options.handlers.streamStart({ from: 'example.com', id: 'abc' });
    await assert.rejects(c2, { code: 'ERR_TLS_REQUIRED' });
    assert.ok(!t2.sent.some((s) => s.kind === 'element'), 'no credentials, not even the username query');
  });

  test('legacy error 401: ERR_AUTH not-authorized', async () => {
    const { connected, t } = await legacyDialogue({}, '');
    const get = await t.expectElement('iq');
    t.recv(
      `<iq type='result' id='${get.attr('id')}'><query xmlns='jabber:iq:auth'><username/><digest/><resource/></query></iq>`,
    );
    const set = await t.expectElement('iq');
    t.recv(
      `<iq type='error' id='${set.attr('id')}'><error code='401' type='auth'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
    await assert.rejects(connected, { code: 'ERR_AUTH', condition: 'not-authorized' });
  });
});

describe('iq requests', () => {
  test('resolves with the result from the addressee; a spoofed reply from anyone else is ignored', async () => {
    const { client, t } = await online();
    const p = client.iq({
      type: 'get',
      to: 'romeo@montague.lit/orchard',
      payload: xml('query', { xmlns: 'jabber:iq:version' }),
    });
    const req = await t.expectElement('iq');
    const id = req.attr('id')!;
    assert.match(id, /^[A-Za-z0-9_-]{16}$/);
    let settled = false;
    p.then(() => {
      settled = true;
    });
    t.recv(
      `<iq type='result' id='${id}' from='mallory@evil.example/x'><query xmlns='jabber:iq:version'><name>fake</name></query></iq>`,
    );
    t.recv(`<iq type='result' id='${id}'><query xmlns='jabber:iq:version'><name>fake</name></query></iq>`);
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'spoofed replies do not settle the request');
    t.recv(
      `<iq type='result' id='${id}' from='romeo@montague.lit/orchard'><query xmlns='jabber:iq:version'><name>real</name></query></iq>`,
    );
    const result = await p;
    assert.equal(result.getChild('query')?.getChildText('name'), 'real');
  });

  test('requests to the server accept a reply from the domain, our bare JID or no from', async () => {
    const { client, t } = await online();
    for (const from of [undefined, 'example.com', 'juliet@example.com', 'JULIET@Example.com']) {
      const p = client.iq({ type: 'get', payload: xml('ping', { xmlns: 'urn:xmpp:ping' }) });
      const req = await t.expectElement('iq');
      t.recv(`<iq type='result' id='${req.attr('id')}'${from ? ` from='${from}'` : ''}/>`);
      await p;
    }
  });

  test('error reply rejects with StanzaError (type, condition, text, element)', async () => {
    const { client, t } = await online();
    const p = client.iq(xml('iq', { type: 'get', to: 'example.com' }, xml('query', { xmlns: 'urn:x' })));
    const req = await t.expectElement('iq');
    t.recv(
      `<iq type='error' id='${req.attr('id')}' from='example.com'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>gone</text></error></iq>`,
    );
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof StanzaError);
      assert.equal(e.code, 'ERR_STANZA');
      assert.equal(e.type, 'cancel');
      assert.equal(e.condition, 'item-not-found');
      assert.equal(e.text, 'gone');
      assert.equal(e.element?.attr('type'), 'error');
      return true;
    });
  });

  test('pending requests reject when the connection is lost; not online rejects at once', async () => {
    const { client, t } = await online();
    const p = client.iq({ type: 'get', payload: xml('ping', { xmlns: 'urn:xmpp:ping' }) });
    await t.expectElement('iq');
    t.drop();
    await assert.rejects(p, { code: 'ERR_SOCKET_CLOSED' });
    await statusReached(client, 'offline');
    await assert.rejects(client.iq({ type: 'get', payload: xml('ping', { xmlns: 'urn:xmpp:ping' }) }), {
      code: 'ERR_NOT_CONNECTED',
    });
  });

  test('disconnect rejects pending requests with ERR_NOT_CONNECTED', async () => {
    const { client, t } = await online();
    const p = client.iq({ type: 'get', payload: xml('ping', { xmlns: 'urn:xmpp:ping' }) });
    await t.expectElement('iq');
    const d = client.disconnect();
    await t.expectElement('presence');
    await t.expect('close');
    t.end();
    await d;
    await assert.rejects(p, { code: 'ERR_NOT_CONNECTED' });
  });
});

describe('inbound pipeline', () => {
  test('an unhandled iq get gets service-unavailable; a throwing handler internal-server-error; the stream survives', async () => {
    const { client, t } = await online();
    const errors: ConfabError[] = [];
    client.on('error', (e) => errors.push(e));
    t.recv(
      `<iq type='get' id='v1' from='romeo@montague.lit/orchard'><query xmlns='jabber:iq:version'/></iq>`,
    );
    const r1 = await t.expectElement('iq');
    assert.equal(
      wire(r1),
      "<iq type='error' id='v1' to='romeo@montague.lit/orchard'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
    );
    const off = client.handleIq('get', 'jabber:iq:version', 'query', () => {
      throw new Error('bug');
    });
    t.recv(
      `<iq type='get' id='v2' from='romeo@montague.lit/orchard'><query xmlns='jabber:iq:version'/></iq>`,
    );
    const r2 = await t.expectElement('iq');
    assert.equal(r2.getChild('error')?.elements()[0]?.name, 'internal-server-error');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'ERR_HANDLER');
    off();
    client.handleIq('get', 'jabber:iq:version', 'query', async () =>
      xml('query', { xmlns: 'jabber:iq:version' }, xml('name', {}, 'confab')),
    );
    t.recv(
      `<iq type='get' id='v3' from='romeo@montague.lit/orchard'><query xmlns='jabber:iq:version'/></iq>`,
    );
    const r3 = await t.expectElement('iq');
    assert.equal(
      wire(r3),
      "<iq type='result' id='v3' to='romeo@montague.lit/orchard'><query xmlns='jabber:iq:version'><name>confab</name></query></iq>",
    );
    assert.equal(client.status, 'online');
  });

  test("answers the server's XEP-0199 ping", async () => {
    const { t } = await online();
    t.recv(`<iq type='get' id='p1' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(wire(await t.expectElement('iq')), "<iq type='result' id='p1' to='example.com'/>");
  });

  test('a stanza addressed to someone else is dropped before any event', async () => {
    const { client, t } = await online();
    const seen: string[] = [];
    client.on('stanza', (s) => seen.push(s.attr('id') ?? ''));
    t.recv(`<message id='m1' to='nurse@example.com' from='romeo@montague.lit'><body>x</body></message>`);
    t.recv(`<message id='m2' to='juliet@example.com/srv' from='romeo@montague.lit'><body>x</body></message>`);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ['m2']);
  });

  test('the echo bot: message event and messages.send keep the thread', async () => {
    const { client, t } = await online();
    client.on('message', (msg) => {
      if (msg.body)
        void client.messages.send({ to: msg.from, body: `echo: ${msg.body}`, thread: msg.thread });
    });
    t.recv(
      `<message type='chat' from='romeo@montague.lit/orchard' to='juliet@example.com/srv'><body>hi</body><thread>t1</thread></message>`,
    );
    const reply = await t.expectElement('message');
    assert.equal(reply.attr('to'), 'romeo@montague.lit/orchard');
    assert.equal(reply.attr('type'), 'chat');
    assert.equal(reply.getChildText('body'), 'echo: hi');
    assert.equal(reply.getChildText('thread'), 't1');
    assert.ok(reply.attr('id'));
  });

  test('messages.send while offline queues (the outbox); client.send still rejects with ERR_NOT_CONNECTED', async () => {
    const client = make(new MemoryPlatform());
    const m = await client.messages.send({ to: 'romeo@montague.lit', body: 'x' });
    assert.equal(m.status, 'queued');
    assert.deepEqual(
      client.messages.pending().map((p) => p.id),
      [m.id],
    );
    await assert.rejects(client.send(xml('message', { to: 'romeo@montague.lit' })), {
      code: 'ERR_NOT_CONNECTED',
    });
  });

  test('a throwing event listener is reported as error and the stream survives', async () => {
    const { client, t } = await online();
    const errors: ConfabError[] = [];
    client.on('error', (e) => errors.push(e));
    client.on('message', () => {
      throw new Error('listener bug');
    });
    t.recv(`<message from='romeo@montague.lit'><body>1</body></message>`);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'ERR_HANDLER');
    assert.equal(client.status, 'online');
  });
});

describe('stream life', () => {
  test('disconnect: unavailable presence, </stream:stream>, waits for the server close, then closes the socket', async () => {
    const { client, t } = await online();
    const offline = new Promise<unknown>((r) => client.once('offline', r));
    const d = client.disconnect();
    assert.equal(client.status, 'disconnecting');
    const p = await t.expectElement('presence');
    assert.equal(p.attr('type'), 'unavailable');
    await t.expect('close');
    assert.equal(t.destroyed, false, 'waits for the server');
    t.end();
    await d;
    assert.ok(t.destroyed);
    assert.equal(client.status, 'offline');
    assert.deepEqual(await offline, { error: undefined });
  });

  test('disconnect: the wait for the server close is bounded', async () => {
    const { client, t } = await online({ timeouts: { disconnect: 30 } });
    await client.disconnect();
    assert.ok(t.destroyed);
    assert.equal(client.status, 'offline');
  });

  test('bad XML from the server: our stream error first (not-well-formed), then close', async () => {
    const { client, t } = await online();
    const offline = new Promise<{ error: ConfabError | undefined }>((r) => client.once('offline', r));
    const { XmlError } = await import('../src/errors.ts');
    t.options.handlers.parseError!(new XmlError('ERR_XML_NOT_WELL_FORMED', 'not-well-formed', 'junk at 3'));
    const se = await t.expectElement('error');
    assert.equal(se.xmlns, 'http://etherx.jabber.org/streams');
    assert.equal(se.elements()[0]?.name, 'not-well-formed');
    assert.equal(se.elements()[0]?.xmlns, 'urn:ietf:params:xml:ns:xmpp-streams');
    await t.expect('close');
    await t.expect('destroy');
    const { error } = await offline;
    assert.equal(error?.code, 'ERR_XML_NOT_WELL_FORMED');
  });

  test('conflict stream error: offline with the error, no reconnect', async () => {
    const { platform, client, t } = await online({ reconnect: { initialDelay: 1 } });
    const offline = new Promise<{ error: ConfabError | undefined }>((r) => client.once('offline', r));
    t.recv(`<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`);
    const { error } = await offline;
    assert.equal(error?.code, 'ERR_STREAM');
    assert.equal(error?.condition, 'conflict');
    assert.equal(platform.created.length, 1);
  });

  test('reconnects after a drop with backoff events, and is online again', async () => {
    const { platform, client, t } = await online({ reconnect: { initialDelay: 5, maxDelay: 20 } });
    const events: { attempt: number; delay: number }[] = [];
    client.on('reconnecting', (e) => events.push({ attempt: e.attempt, delay: e.delay }));
    const back = new Promise<void>((r) => client.once('online', () => r()));
    t.drop();
    await statusReached(client, 'reconnecting');
    // The first retry fails at the socket, the second succeeds.
    platform.configs = [{ connectError: new ConfabError('ERR_CONNECT', 'refused') }, {}];
    await platform.nextTransport(); // attempt 1: refused
    const t3 = await platform.nextTransport();
    await serveLogin(t3, ACCOUNT);
    await back;
    assert.equal(client.status, 'online');
    assert.deepEqual(
      events.map((e) => e.attempt),
      [1, 2],
    );
    assert.ok(events[0]!.delay >= 2 && events[0]!.delay <= 5, `jittered first delay ${events[0]!.delay}`);
    assert.ok(events[1]!.delay >= 5 && events[1]!.delay <= 10);
    await client.disconnect();
  });

  test('disconnect while waiting to reconnect stops it', async () => {
    const { platform, client, t } = await online({ reconnect: { initialDelay: 10_000 } });
    const reconnecting = new Promise((r) => client.once('reconnecting', r));
    t.drop();
    await reconnecting;
    await client.disconnect();
    assert.equal(client.status, 'offline');
    assert.equal(platform.created.length, 1);
  });

  test('disconnect while logging in: connect() rejects with ERR_ABORTED, the socket is closed', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform);
    const connected = client.connect();
    const t = await platform.nextTransport();
    await t.expect('open');
    await client.disconnect();
    await assert.rejects(connected, { code: 'ERR_ABORTED' });
    assert.ok(t.destroyed);
    assert.equal(client.status, 'offline');
  });

  test('see-other-host to a host the certificate covers is followed', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform);
    const connected = client.connect();
    const t = await platform.nextTransport();
    await t.expect('open');
    t.open();
    t.recv(
      `<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>xmpp2.example.com:5269</see-other-host></stream:error>`,
    );
    const t2 = await platform.nextTransport();
    assert.equal(t2.options.kind, 'tcp');
    assert.equal((t2.options as { host?: string }).host, 'xmpp2.example.com');
    assert.equal((t2.options as { port?: number }).port, 5269);
    assert.equal(t2.options.domain, 'example.com', 'TLS still verifies the JID domain');
    await serveLogin(t2, ACCOUNT);
    await connected;
  });

  test('see-other-host to a host the certificate does not cover is refused (final)', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform, { reconnect: true });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await t.expect('open');
    t.open();
    t.recv(
      `<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>evil.example.net</see-other-host></stream:error>`,
    );
    await assert.rejects(connected, { code: 'ERR_STREAM', condition: 'see-other-host' });
    assert.equal(platform.created.length, 1);
  });

  test('see-other-host before TLS is refused (unauthenticated)', async () => {
    const platform = new MemoryPlatform({ secure: false });
    const client = make(platform, { allowPlaintext: true });
    const connected = client.connect();
    const t = await platform.nextTransport();
    await t.expect('open');
    t.open();
    t.recv(
      `<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>example.com</see-other-host></stream:error>`,
    );
    await assert.rejects(connected, { condition: 'see-other-host' });
    assert.equal(platform.created.length, 1);
  });

  test('keepalive: an unanswered ping declares the link dead and the client reconnects', async () => {
    const { platform, client, t } = await online({
      keepalive: { whitespaceInterval: 0, pingInterval: 20, pingTimeout: 20 },
      reconnect: { initialDelay: 1, maxDelay: 1 },
    });
    const reconnecting = new Promise<{ error: ConfabError | undefined }>((r) =>
      client.once('reconnecting', r),
    );
    const ping = await t.expectElement('iq');
    assert.ok(ping.getChild('ping', 'urn:xmpp:ping'));
    assert.equal(ping.attr('to'), 'example.com');
    const { error } = await reconnecting;
    assert.equal(error?.code, 'ERR_TIMEOUT');
    assert.ok(t.destroyed);
    await serveLogin(await platform.nextTransport(), ACCOUNT);
    await statusReached(client, 'online');
    await client.disconnect();
  });

  test('keepalive: an answered ping keeps the connection', async () => {
    const { client, t } = await online({
      keepalive: { whitespaceInterval: 0, pingInterval: 10, pingTimeout: 50 },
    });
    for (let i = 0; i < 3; i++) {
      const ping = await t.expectElement('iq');
      t.recv(`<iq type='result' id='${ping.attr('id')}' from='example.com'/>`);
    }
    assert.equal(client.status, 'online');
    await client.disconnect();
  });

  test('whitespace keepalive on an idle stream', async () => {
    const { client, t } = await online({ keepalive: { whitespaceInterval: 10, pingInterval: 0 } });
    await t.expect('keepalive');
    await client.disconnect();
  });
});

describe('debug log', () => {
  test('logs every element with SASL payloads and legacy passwords redacted', async () => {
    const lines: string[] = [];
    const { client } = await online({ debug: (l) => lines.push(l) });
    const log = lines.join('\n');
    assert.match(
      log,
      /confab -> <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>\[redacted\]<\/auth>/,
    );
    assert.ok(!log.includes(Buffer.from('\u0000juliet\u0000r0meo').toString('base64')), 'no SASL payload');
    assert.ok(!log.includes('r0meo'));
    assert.match(log, /confab <- <stream:stream/);
    assert.match(log, /confab -> <presence\/>/);
    await client.disconnect();
    assert.match(lines.join('\n'), /confab -> <presence type='unavailable'\/>/);

    const lines2: string[] = [];
    const platform = new MemoryPlatform();
    const c2 = make(platform, { legacyAuth: true, debug: (l) => lines2.push(l) });
    const p = c2.connect();
    const t2 = await platform.nextTransport();
    await t2.expect('open');
    t2.open();
    t2.recv(`<stream:features><auth xmlns='http://jabber.org/features/iq-auth'/></stream:features>`);
    const get = await t2.expectElement('iq');
    t2.recv(
      `<iq type='result' id='${get.attr('id')}'><query xmlns='jabber:iq:auth'><username/><password/><resource/></query></iq>`,
    );
    const set = await t2.expectElement('iq');
    t2.recv(`<iq type='result' id='${set.attr('id')}'/>`);
    await p;
    const log2 = lines2.join('\n');
    assert.ok(!log2.includes('r0meo'), log2);
    assert.match(log2, /<password>\[redacted\]<\/password>/);
  });
});

test('element and server helpers parse namespaces as the client sees them', () => {
  const f = el(FEATURES_PLAIN);
  assert.equal(f.xmlns, 'http://etherx.jabber.org/streams');
  assert.equal(el('<message/>').xmlns, 'jabber:client');
});
