// Dialogue tests of XEP-0077 v2.4 (in-band registration), the test playing the server with
// the spec's examples (fixtures/README.md):
// - before login: a fresh stream secured like a login (STARTTLS, TLS required), no SASL, no
//   `from`; legacy fields and the data-form variant submitted exactly; the key echoed; the
//   typed refusals (conflict, not-acceptable, not-allowed, service-unavailable); required
//   fields checked before sending; redirection; a reply from a stranger ignored;
// - logged in: password change without `to` and the next login using the new password,
//   refusals leaving the old one; update; cancel answered, or ended by the server's close
//   (ejabberd), or refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  el,
  MemoryPlatform,
  type MemoryTransport,
  serveLogin,
  wire,
} from '../../../test/helpers/memory-transport.ts';
import { type Client, type ClientOptions, createClientOn } from '../../client.ts';
import { type ConfabError, StanzaError } from '../../errors.ts';
import { fromBase64 } from '../../util/base64.ts';
import type { Element } from '../../xml/element.ts';
import type { FeatureContext } from '../context.ts';
import { NS_DATA, NS_REGISTER, parseRegistrationQuery } from './codec.ts';
import { AccountRegistration, RegistrationError } from './register.ts';

const DOMAIN = 'shakespeare.lit';
const NEW = `bill@${DOMAIN}`;
const FEATURES = `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms><register xmlns='http://jabber.org/features/iq-register'/></stream:features>`;

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim();

/** A spec example as the server's answer to `id` (addressing removed: before login there is none). */
function spec(name: string, id: string): Element {
  const e = el(fixture(name));
  e.attrs.id = id;
  delete e.attrs.to;
  delete e.attrs.from;
  return e;
}

function make(platform: MemoryPlatform, o: Partial<ClientOptions> = {}): Client {
  return createClientOn(platform, {
    features: false,
    jid: NEW,
    password: 'Calliope',
    reconnect: false,
    initialPresence: false,
    keepalive: { whitespaceInterval: 0, pingInterval: 0 },
    timeouts: { disconnect: 50, iq: 2_000, login: 2_000 },
    ...o,
  });
}

const accountOf = (client: Client) => new AccountRegistration({ client } as FeatureContext);

/** Play the server up to the stream features; returns the registration `get`. */
async function serveUntilGet(t: MemoryTransport): Promise<Element> {
  const open = await t.expect('open');
  assert.equal(open.header.to, DOMAIN);
  assert.equal(open.header.from, undefined, 'no from: there is no account yet');
  t.open();
  t.recv(FEATURES);
  const get = await t.expectElement('iq');
  assert.equal(get.attr('type'), 'get');
  assert.equal(get.attr('to'), DOMAIN);
  assert.equal(wire(get.getChild('query', NS_REGISTER)!), `<query xmlns='jabber:iq:register'/>`);
  return get;
}

/** The client closed the stream; the server closes its side. */
async function closed(t: MemoryTransport): Promise<void> {
  await t.expect('close');
  t.end();
}

/** No SASL and no bind ever went out on `t`. */
function noLogin(t: MemoryTransport): void {
  for (const s of t.sent) {
    if (s.kind === 'element') assert.ok(s.el.name !== 'auth' && s.el.name !== 'bind', wire(s.el));
  }
}

describe('register: before login', () => {
  test('legacy fields (examples 2, 4, 5): submitted exactly, then the stream is closed; no login', async () => {
    const platform = new MemoryPlatform();
    const client = make(platform);
    const p = accountOf(client).register({ fields: { email: 'bard@shakespeare.lit' } });
    const t = await platform.nextTransport();
    const get = await serveUntilGet(t);
    t.recv(spec('xep0077-fields.xml', get.attr('id')!));
    const set = await t.expectElement('iq');
    const want = el(fixture('xep0077-submit.xml'));
    want.attrs = { type: 'set', to: DOMAIN, id: set.attr('id')! };
    assert.equal(wire(set), wire(want));
    t.recv(`<iq type='result' id='${set.attr('id')}'/>`);
    await closed(t);
    const form = await p;
    assert.equal(form.kind, 'legacy');
    assert.equal(
      form.instructions,
      'Choose a username and password for use with this service.\nPlease also provide your email address.',
    );
    assert.deepEqual(
      form.fields.map((f) => [f.name, f.required, f.type]),
      [
        ['username', true, 'text-single'],
        ['password', true, 'text-private'],
        ['email', true, 'text-single'],
      ],
    );
    noLogin(t);
    assert.equal(client.status, 'offline');
  });

  test('STARTTLS first on a plain transport; no STARTTLS offered: ERR_TLS_REQUIRED, nothing sent', async () => {
    const platform = new MemoryPlatform({ secure: false });
    const p = accountOf(make(platform)).openRegistration();
    const t = await platform.nextTransport();
    await t.expect('open');
    t.open();
    t.recv(
      `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>`,
    );
    await t.expectElement('starttls');
    t.recv(`<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
    await t.expect('starttls');
    const get = await serveUntilGet(t);
    t.recv(spec('xep0077-fields.xml', get.attr('id')!));
    const r = await p;
    assert.deepEqual(
      r.fields.map((f) => f.name),
      ['email'],
    );
    await r.close();

    const bare = new MemoryPlatform({ secure: false });
    const q = accountOf(make(bare)).openRegistration();
    const t2 = await bare.nextTransport();
    await t2.expect('open');
    t2.open();
    t2.recv(`<stream:features><register xmlns='http://jabber.org/features/iq-register'/></stream:features>`);
    await assert.rejects(q, (e: ConfabError) => e.code === 'ERR_TLS_REQUIRED');
    assert.ok(!t2.sent.some((s) => s.kind === 'element'), 'nothing written on the plain stream');
  });

  test('data form (examples 9, 10): the form is submitted, not the legacy fields', async () => {
    const platform = new MemoryPlatform();
    const p = accountOf(make(platform)).openRegistration();
    const t = await platform.nextTransport();
    const get = await serveUntilGet(t);
    t.recv(spec('xep0077-data-form.xml', get.attr('id')!));
    const r = await p;
    assert.equal(r.form.kind, 'data-form');
    assert.equal(r.form.title, 'Contest Registration');
    assert.deepEqual(
      r.fields.map((f) => [f.name, f.label, f.type, f.required]),
      [
        ['first', 'Given Name', 'text-single', true],
        ['last', 'Family Name', 'text-single', true],
        ['email', 'Email Address', 'text-single', true],
        ['x-gender', 'Gender', 'list-single', false],
      ],
    );
    assert.deepEqual(r.fields[3]!.options, [
      { label: 'Male', value: 'M' },
      { label: 'Female', value: 'F' },
    ]);
    const done = r.submit({ first: 'Juliet', last: 'Capulet', email: 'juliet@capulet.com', 'x-gender': 'F' });
    const set = await t.expectElement('iq');
    const query = set.getChild('query', NS_REGISTER)!;
    assert.deepEqual(
      query.elements().map((e) => `${e.xmlns} ${e.name}`),
      [`${NS_DATA} x`],
      'only the data form (XEP-0077 section 4: MUST NOT submit both)',
    );
    const values = (x: Element) =>
      Object.fromEntries(
        x
          .getChildren('field', NS_DATA)
          .map((f) => [f.attr('var'), f.getChildren('value', NS_DATA).map((v) => v.text())]),
      );
    const want = el(fixture('xep0077-data-form-submit.xml'))
      .getChild('query', NS_REGISTER)!
      .getChild('x', NS_DATA)!;
    const x = query.getChild('x', NS_DATA)!;
    assert.equal(x.attr('type'), 'submit');
    assert.deepEqual(values(x), values(want));
    t.recv(`<iq type='result' id='${set.attr('id')}'/>`);
    await closed(t);
    await done;
  });

  test('a required field without a value is named before anything is sent; submitting again works', async () => {
    const platform = new MemoryPlatform();
    const p = accountOf(make(platform)).openRegistration();
    const t = await platform.nextTransport();
    const get = await serveUntilGet(t);
    t.recv(spec('xep0077-fields.xml', get.attr('id')!));
    const r = await p;
    const sent = t.sent.length;
    await assert.rejects(r.submit({}), (e: RegistrationError) => {
      assert.ok(e instanceof RegistrationError);
      assert.equal(e.code, 'ERR_REGISTRATION_INCOMPLETE');
      assert.deepEqual(e.fields, ['email']);
      assert.match(e.message, /email \(Email address\)/);
      return true;
    });
    assert.equal(t.sent.length, sent, 'nothing written');
    await assert.rejects(r.submit({ password: 'x' }), (e: ConfabError) => e.code === 'ERR_BAD_INPUT');
    const done = r.submit({ email: 'bard@shakespeare.lit' });
    const set = await t.expectElement('iq');
    assert.equal(set.getChild('query', NS_REGISTER)!.getChildText('email'), 'bard@shakespeare.lit');
    t.recv(`<iq type='result' id='${set.attr('id')}'/>`);
    await closed(t);
    await done;
  });

  test('conflict (example 6): ERR_USERNAME_TAKEN with the condition, and the stream closed', async () => {
    const platform = new MemoryPlatform();
    const p = accountOf(make(platform)).register({ fields: { email: 'billg@bigcompany.com' } });
    const t = await platform.nextTransport();
    const get = await serveUntilGet(t);
    t.recv(spec('xep0077-fields.xml', get.attr('id')!));
    const set = await t.expectElement('iq');
    t.recv(spec('xep0077-conflict.xml', set.attr('id')!));
    await closed(t);
    await assert.rejects(p, (e: RegistrationError) => {
      assert.ok(e instanceof RegistrationError);
      assert.equal(e.code, 'ERR_USERNAME_TAKEN');
      assert.equal(e.condition, 'conflict');
      assert.equal(e.type, 'cancel');
      assert.deepEqual(e.fields, ['username']);
      return true;
    });
  });

  test('not-acceptable (example 7): ERR_REGISTRATION_INCOMPLETE naming the fields asked for', async () => {
    const platform = new MemoryPlatform();
    const p = accountOf(make(platform)).register({ fields: { email: 'x@y.z' } });
    const t = await platform.nextTransport();
    const get = await serveUntilGet(t);
    t.recv(spec('xep0077-fields.xml', get.attr('id')!));
    const set = await t.expectElement('iq');
    t.recv(spec('xep0077-not-acceptable.xml', set.attr('id')!));
    await closed(t);
    await assert.rejects(p, (e: RegistrationError) => {
      assert.equal(e.code, 'ERR_REGISTRATION_INCOMPLETE');
      assert.equal(e.condition, 'not-acceptable');
      assert.deepEqual(e.fields, ['username', 'password', 'email']);
      assert.match(e.message, /check username, password, email/);
      return true;
    });
  });

  for (const [what, answer] of [
    ['not-allowed (example 15)', (id: string) => spec('xep0077-not-allowed.xml', id)],
    [
      'service-unavailable (section 3.1: no in-band registration)',
      (id: string) =>
        el(
          `<iq type='error' id='${id}'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
        ),
    ],
  ] as const) {
    test(`registration disabled, ${what}: ERR_REGISTRATION_DISABLED, the stream closed`, async () => {
      const platform = new MemoryPlatform();
      const p = accountOf(make(platform)).openRegistration();
      const t = await platform.nextTransport();
      const get = await serveUntilGet(t);
      t.recv(answer(get.attr('id')!));
      await closed(t);
      await assert.rejects(p, (e: RegistrationError) => {
        assert.equal(e.code, 'ERR_REGISTRATION_DISABLED');
        assert.match(e.message, /does not allow in-band registration/);
        return true;
      });
      noLogin(t);
    });
  }

  test('the key (section 7) is echoed; a reply from another entity is ignored', async () => {
    const platform = new MemoryPlatform();
    const p = accountOf(make(platform)).register();
    const t = await platform.nextTransport();
    const get = await serveUntilGet(t);
    const forged = spec('xep0077-fields.xml', get.attr('id')!);
    forged.attrs.from = 'mallory@evil.lit';
    t.recv(forged);
    t.recv(spec('xep0077-key.xml', get.attr('id')!));
    const set = await t.expectElement('iq');
    assert.equal(
      wire(set.getChild('query', NS_REGISTER)!),
      `<query xmlns='jabber:iq:register'><username>bill</username><password>Calliope</password><key>e7f1b2a0c6d94d3e8f0a1b2c3d4e5f6071829304</key></query>`,
    );
    t.recv(`<iq type='result' id='${set.attr('id')}' from='${DOMAIN}'/>`);
    await closed(t);
    const form = await p;
    assert.equal(form.key, 'e7f1b2a0c6d94d3e8f0a1b2c3d4e5f6071829304');
    assert.ok(!form.fields.some((f) => f.name === 'key'), 'the key is not a field to fill');
  });

  test('redirection (example 25): the URL is in the form; submit refuses with it', async () => {
    const platform = new MemoryPlatform();
    const p = accountOf(make(platform)).openRegistration();
    const t = await platform.nextTransport();
    const get = await serveUntilGet(t);
    t.recv(spec('xep0077-redirect.xml', get.attr('id')!));
    const r = await p;
    assert.equal(r.form.url, 'http://www.shakespeare.lit/contests.php');
    assert.deepEqual(r.fields, []);
    await assert.rejects(r.submit(), (e: ConfabError) => {
      assert.equal(e.code, 'ERR_REGISTRATION_DISABLED');
      assert.match(e.message, /http:\/\/www\.shakespeare\.lit\/contests\.php/);
      return true;
    });
    const c = r.close();
    await closed(t);
    await c;
  });

  test('current registration (example 3) parses as registered with its values', () => {
    const form = parseRegistrationQuery(
      el(fixture('xep0077-registered.xml')).getChild('query', NS_REGISTER)!,
    );
    assert.equal(form.registered, true);
    assert.deepEqual(
      form.fields.map((f) => [f.name, f.values]),
      [
        ['username', ['juliet']],
        ['password', ['R0m30']],
        ['email', ['juliet@capulet.com']],
      ],
    );
  });
});

const ACCOUNT = 'juliet@capulet.lit';

async function loggedIn(o: Partial<ClientOptions> = {}) {
  const platform = new MemoryPlatform();
  const client = make(platform, { jid: ACCOUNT, password: 'R0m30', resource: 'balcony', ...o });
  const errors: ConfabError[] = [];
  client.on('error', (e) => errors.push(e));
  const c = client.connect();
  const t = await platform.nextTransport();
  await serveLogin(t, ACCOUNT, { presence: false });
  await c;
  return { platform, client, t, account: accountOf(client), errors };
}

async function logout(client: Client, t: MemoryTransport): Promise<void> {
  const d = client.disconnect();
  await t.expectElement('presence');
  await t.expect('close');
  t.end();
  await d;
}

/** The password in the next login's SASL PLAIN message. */
async function nextLoginPassword(platform: MemoryPlatform, client: Client): Promise<string> {
  const c = client.connect();
  const t = await platform.nextTransport();
  await t.expect('open');
  t.open();
  t.recv(
    `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
  );
  const auth = await t.expectElement('auth');
  const [, , password] = new TextDecoder().decode(fromBase64(auth.text())).split('\0');
  t.recv(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>`);
  await c.catch(() => {});
  return password!;
}

describe('register: logged in', () => {
  test('changePassword (example 18) without to; the next login uses the new password', async () => {
    const { platform, client, t, account } = await loggedIn();
    const p = account.changePassword('newpass');
    const iq = await t.expectElement('iq');
    const want = el(fixture('xep0077-change-password.xml'));
    assert.equal(
      wire(iq),
      `<iq type='set' id='${iq.attr('id')}'><query xmlns='jabber:iq:register'><username>juliet</username><password>newpass</password></query></iq>`,
    );
    assert.deepEqual(
      want
        .getChild('query', NS_REGISTER)!
        .elements()
        .map((e) => e.name),
      ['username', 'password'],
    );
    t.recv(`<iq type='result' id='${iq.attr('id')}'/>`);
    await p;
    await logout(client, t);
    assert.equal(await nextLoginPassword(platform, client), 'newpass');
  });

  test('changePassword refused (example 21): a StanzaError, and the old password stays', async () => {
    const { platform, client, t, account } = await loggedIn();
    const p = account.changePassword('newpass');
    const iq = await t.expectElement('iq');
    const refusal = el(fixture('xep0077-change-not-authorized.xml'));
    refusal.attrs = { type: 'error', id: iq.attr('id')! };
    t.recv(refusal);
    await assert.rejects(p, (e: StanzaError) => e instanceof StanzaError && e.condition === 'not-authorized');
    await assert.rejects(account.changePassword(''), (e: ConfabError) => e.code === 'ERR_BAD_INPUT');
    await logout(client, t);
    assert.equal(await nextLoginPassword(platform, client), 'R0m30');
  });

  test('update sends the username and the fields; unknown fields are refused locally', async () => {
    const { t, account } = await loggedIn();
    const p = account.update({ email: 'juliet@capulet.com' });
    const iq = await t.expectElement('iq');
    assert.equal(
      wire(iq),
      `<iq type='set' id='${iq.attr('id')}'><query xmlns='jabber:iq:register'><username>juliet</username><email>juliet@capulet.com</email></query></iq>`,
    );
    t.recv(`<iq type='result' id='${iq.attr('id')}'/>`);
    await p;
    await assert.rejects(
      account.update({ shoe: 'x' } as unknown as { email: string }),
      (e: ConfabError) => e.code === 'ERR_BAD_INPUT',
    );
  });

  test('cancel (examples 11, 12): remove without to; offline afterwards, no error, no reconnect', async () => {
    const { platform, client, t, account, errors } = await loggedIn({ reconnect: { initialDelay: 1 } });
    const p = account.cancel();
    const iq = await t.expectElement('iq');
    const want = el(fixture('xep0077-remove.xml'));
    want.attrs = { type: 'set', id: iq.attr('id')! };
    assert.equal(wire(iq), wire(el(wire(want).replace(/>\s+</g, '><'))));
    t.recv(`<iq type='result' id='${iq.attr('id')}'/>`);
    // Then the server ends the stream (XEP-0077 3.2: a not-authorized stream error).
    t.recv(`<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`);
    await p;
    assert.equal(client.status, 'offline');
    assert.deepEqual(errors, []);
    assert.equal(platform.created.length, 1, 'no reconnect');
  });

  test('cancel where the server ends the stream (conflict) before answering (ejabberd): resolves, offline, no error', async () => {
    const { platform, client, t, account, errors } = await loggedIn({ reconnect: { initialDelay: 1 } });
    const p = account.cancel();
    await t.expectElement('iq');
    t.recv(
      `<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>User removed</text></stream:error>`,
    );
    await p;
    assert.equal(client.status, 'offline');
    assert.deepEqual(errors, []);
    assert.equal(platform.created.length, 1, 'no reconnect');
  });

  test('cancel refused (not-allowed): a StanzaError, still online, and a later drop reconnects', async () => {
    const { platform, client, t, account } = await loggedIn({ reconnect: { initialDelay: 1 } });
    const p = account.cancel();
    const iq = await t.expectElement('iq');
    const refusal = el(fixture('xep0077-not-allowed.xml'));
    refusal.attrs = { type: 'error', id: iq.attr('id')! };
    t.recv(refusal);
    await assert.rejects(p, (e: StanzaError) => e instanceof StanzaError && e.condition === 'not-allowed');
    assert.equal(client.status, 'online');
    t.drop();
    await platform.nextTransport();
    await client.disconnect();
  });
});
