// Dialogue tests of presence (RFC 6121 4, XEP-0186, XEP-0352, XEP-0319): the test plays the
// server on a memory transport and asserts exactly what the client writes and what the
// per-contact model and events say.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  FEATURE,
  FULL,
  type ImSession,
  type ImSessionOptions,
  imSession,
} from '../../../test/helpers/im-session.ts';
import { wire } from '../../../test/helpers/memory-transport.ts';
import { xml } from '../../xml/element.ts';
import type { ContactPresence, PresenceErrorEvent } from './presence.ts';

/** Log in, answer the roster get with an empty roster, read the initial presence. */
async function online(o: ImSessionOptions = {}): Promise<{ s: ImSession; initial: string }> {
  const s = await imSession(o);
  const get = await s.iq('get');
  s.t.recv(`<iq type='result' id='${get.attr('id')}' to='${FULL}'><query xmlns='jabber:iq:roster'/></iq>`);
  const initial = wire(await s.t.expectElement('presence'));
  return { s, initial };
}

/** The next element the client writes, as text. */
async function next(s: ImSession): Promise<string> {
  const x = await s.t.expect('element');
  return wire(x.el);
}

/** Answer the disco#info the client sends with these features. */
async function answerDisco(s: ImSession, features: string[]): Promise<void> {
  const q = await s.iq('get');
  assert.equal(q.attr('to'), 'example.com');
  assert.ok(q.getChild('query', 'http://jabber.org/protocol/disco#info'));
  s.t.recv(
    `<iq type='result' id='${q.attr('id')}' from='example.com' to='${FULL}'><query xmlns='http://jabber.org/protocol/disco#info'>${features
      .map((f) => `<feature var='${f}'/>`)
      .join('')}</query></iq>`,
  );
}

describe('our presence (RFC 6121 4.2-4.6)', () => {
  test('initial presence carries the state chosen before login; updates; unavailable; directed', async () => {
    const { s, initial } = await online({ presence: { own: { show: 'chat', status: 'Hi', priority: 5 } } });
    assert.equal(initial, '<presence><show>chat</show><status>Hi</status><priority>5</priority></presence>');
    await s.presence.set({ show: 'dnd', status: 'Busy' });
    assert.equal(
      await next(s),
      '<presence><show>dnd</show><status>Busy</status><priority>5</priority></presence>',
    );
    await s.presence.set({ priority: 0 });
    assert.equal(await next(s), '<presence/>');
    await assert.rejects(s.presence.set({ priority: 200 }), { code: 'ERR_BAD_INPUT' });
    await assert.rejects(s.presence.set({ show: 'busy' as never }), { code: 'ERR_BAD_INPUT' });
    await s.presence.sendTo('room@muc.example.com/Juliet', { show: 'away' });
    assert.equal(await next(s), "<presence to='room@muc.example.com/Juliet'><show>away</show></presence>");
    await s.presence.sendTo('romeo@example.net', { type: 'unavailable' });
    assert.equal(await next(s), "<presence type='unavailable' to='romeo@example.net'/>");
    await assert.rejects(s.presence.sendTo('@@bad'), { code: 'ERR_BAD_INPUT' });
    await s.presence.unavailable('brb');
    assert.equal(await next(s), "<presence type='unavailable'><status>brb</status></presence>");
    assert.equal(s.presence.own.mode, 'unavailable');
    await s.client.disconnect();
  });

  test('initial: false: resend() (e.g. on a caps change) announces nothing', async () => {
    const s = await imSession({ presence: { initial: false } });
    const get = await s.iq('get');
    s.t.recv(`<iq type='result' id='${get.attr('id')}' to='${FULL}'><query xmlns='jabber:iq:roster'/></iq>`);
    await s.presence.resend();
    // The next thing written is the directed presence below, not an available one.
    await s.presence.sendTo('romeo@example.net', { type: 'unavailable' });
    assert.equal(await next(s), "<presence type='unavailable' to='romeo@example.net'/>");
    await s.client.disconnect();
  });

  test('decorators add extensions to every available presence', async () => {
    const { s } = await online();
    const off = s.presence.addDecorator((p) => p.append(`marker`));
    await s.presence.resend();
    assert.equal(await next(s), '<presence>marker</presence>');
    off();
    await s.presence.resend();
    assert.equal(await next(s), '<presence/>');
    await s.client.disconnect();
  });
});

describe('contacts presence: per full JID and per contact', () => {
  test('best resource by priority, then show; all resources listed; events; unavailable', async () => {
    const { s } = await online();
    const views: ContactPresence[] = [];
    const resources: string[] = [];
    s.presence.on('contact', (c) => views.push(c));
    s.presence.on('resource', (r) => resources.push(`${r.jid} ${r.presence ? 'on' : 'off'}`));
    s.t.recv(
      `<presence from='romeo@example.net/orchard' to='${FULL}'><show>away</show><priority>1</priority></presence>`,
    );
    s.t.recv(
      `<presence from='romeo@example.net/phone' to='${FULL}'><priority>1</priority><status>mobile</status></presence>`,
    );
    s.t.recv(
      `<presence from='romeo@example.net/laptop' to='${FULL}'><show>chat</show><priority>-1</priority></presence>`,
    );
    const c = s.presence.contact('romeo@example.net')!;
    assert.equal(c.available, true);
    assert.equal(c.best?.resource, 'phone', 'priority 1 beats -1; available beats away');
    assert.deepEqual(
      c.resources.map((r) => r.resource),
      ['phone', 'orchard', 'laptop'],
    );
    assert.equal(s.presence.resource('romeo@example.net/orchard')?.show, 'away');
    s.t.recv(`<presence from='romeo@example.net/phone' type='unavailable' to='${FULL}'/>`);
    assert.equal(s.presence.contact('romeo@example.net')?.best?.resource, 'orchard');
    // A bare-JID unavailable ends them all.
    s.t.recv(`<presence from='romeo@example.net' type='unavailable' to='${FULL}'/>`);
    assert.equal(s.presence.contact('romeo@example.net'), undefined);
    assert.equal(views.at(-1)?.available, false);
    assert.deepEqual(resources, [
      'romeo@example.net/orchard on',
      'romeo@example.net/phone on',
      'romeo@example.net/laptop on',
      'romeo@example.net/phone off',
      'romeo@example.net/orchard off',
      'romeo@example.net/laptop off',
    ]);
    assert.equal(
      views.length,
      5,
      'one contact event per stanza: the bare unavailable ends two resources at once',
    );
    await s.client.disconnect();
  });

  test('delay (XEP-0203 and legacy), idle, signed payloads are on the resource', async () => {
    const { s } = await online();
    s.t.recv(
      `<presence from='nurse@example.com/kitchen'><x xmlns='jabber:x:delay' stamp='20020910T23:41:07'/><x xmlns='jabber:x:signed'>c2ln</x></presence>`,
    );
    s.t.recv(
      `<presence from='tybalt@example.com/sword'><show>xa</show><delay xmlns='urn:xmpp:delay' stamp='2020-01-01T10:00:00Z'/><idle xmlns='urn:xmpp:idle:1' since='2020-01-01T09:00:00Z'/></presence>`,
    );
    s.t.recv(
      `<presence from='room@muc.example.com/Romeo'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/></x></presence>`,
    );
    assert.equal(s.presence.contact('room@muc.example.com'), undefined, 'room occupants are not contacts');
    const n = s.presence.resource('nurse@example.com/kitchen')!;
    assert.equal(n.delay?.legacy, true);
    assert.equal(n.delay?.stamp.toISOString(), '2002-09-10T23:41:07.000Z');
    assert.equal(n.signed, 'c2ln');
    const t = s.presence.resource('tybalt@example.com/sword')!;
    assert.equal(t.delay?.legacy, false);
    assert.equal(t.idleSince?.toISOString(), '2020-01-01T09:00:00.000Z');
    await s.client.disconnect();
  });

  test('presence errors are surfaced as events, not as contact state', async () => {
    const { s } = await online();
    const err = new Promise<PresenceErrorEvent>((r) => s.presence.once('error', r));
    s.t.recv(
      `<presence from='nobody@nowhere.example' type='error' to='${FULL}'><error type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`,
    );
    const e = await err;
    assert.equal(e.from, 'nobody@nowhere.example');
    assert.equal(e.error.condition, 'remote-server-not-found');
    assert.equal(s.presence.contact('nobody@nowhere.example'), undefined);
    await s.client.disconnect();
  });

  test('going offline empties the model, with an event per contact', async () => {
    const { s } = await online();
    s.t.recv(`<presence from='romeo@example.net/orchard'/>`);
    const gone = new Promise<ContactPresence>((r) => s.presence.once('contact', r));
    await s.client.disconnect();
    assert.equal((await gone).available, false);
    assert.equal([...s.presence.contacts()].length, 0);
  });
});

describe('invisibility (XEP-0186), honestly', () => {
  test('not offered: ERR_UNSUPPORTED, or unavailable presence when the app asks for that fallback', async () => {
    const { s } = await online();
    const p = s.presence.invisible();
    await answerDisco(s, ['jabber:iq:roster']);
    await assert.rejects(p, { code: 'ERR_UNSUPPORTED' });
    const q = s.presence.invisible({ fallback: 'unavailable' }); // asked once per session: cached
    assert.equal(await q, 'unavailable');
    assert.equal(await next(s), "<presence type='unavailable'/>");
    await s.client.disconnect();
  });

  test('offered: iq set invisible (probe), no broadcasts; set() makes us visible first', async () => {
    const { s } = await online();
    const p = s.presence.invisible();
    await answerDisco(s, ['urn:xmpp:invisible:0']);
    const set = await s.iq('set');
    assert.equal(wire(set.elements()[0]!), "<invisible xmlns='urn:xmpp:invisible:0' probe='true'/>");
    s.t.recv(`<iq type='result' id='${set.attr('id')}' to='${FULL}'/>`);
    assert.equal(await p, 'invisible');
    await s.presence.setIdle(10_000); // auto-away must not reveal us
    const back = s.presence.set({ status: 'here' });
    const vis = await s.iq('set');
    assert.equal(wire(vis.elements()[0]!), "<visible xmlns='urn:xmpp:invisible:0'/>");
    s.t.recv(`<iq type='result' id='${vis.attr('id')}' to='${FULL}'/>`);
    await back;
    assert.equal(await next(s), '<presence><status>here</status></presence>');
    await s.client.disconnect();
  });
});

describe('client state indication (XEP-0352)', () => {
  test('offered: <inactive/> and <active/>, each once', async () => {
    const { s } = await online({ features: [FEATURE.csi] });
    assert.equal(s.presence.csiSupported, true);
    assert.equal(s.presence.background(), true);
    assert.equal(s.presence.background(), true);
    assert.equal(s.presence.foreground(), true);
    assert.equal(await next(s), "<inactive xmlns='urn:xmpp:csi:0'/>");
    assert.equal(await next(s), "<active xmlns='urn:xmpp:csi:0'/>");
    await s.client.disconnect();
  });

  test('not offered: nothing is sent and the app is told', async () => {
    const { s } = await online();
    assert.equal(s.presence.background(), false);
    await s.presence.resend(); // the next write is this presence, not a CSI nonza
    assert.equal(await next(s), '<presence/>');
    await s.client.disconnect();
  });
});

describe('auto-away from the app idle time (XEP-0319)', () => {
  test('away, then xa, with idle since; back restores the user own status; nothing when unchanged', async () => {
    let now = Date.UTC(2024, 0, 1, 12, 0, 0);
    const { s } = await online({
      presence: { own: { status: 'Reading' }, autoAway: { away: 60, xa: 600 } },
      presenceDeps: { now: () => now },
    });
    await s.presence.setIdle(30);
    await s.presence.setIdle(61);
    assert.equal(
      await next(s),
      "<presence><show>away</show><status>Reading</status><idle xmlns='urn:xmpp:idle:1' since='2024-01-01T11:58:59Z'/></presence>",
    );
    now += 600_000;
    await s.presence.setIdle(661);
    assert.equal(
      await next(s),
      "<presence><show>xa</show><status>Reading</status><idle xmlns='urn:xmpp:idle:1' since='2024-01-01T11:58:59Z'/></presence>",
      'idle since stays the moment the user left',
    );
    await s.presence.setIdle(700);
    await s.presence.setIdle(2);
    assert.equal(await next(s), '<presence><status>Reading</status></presence>');
    assert.equal(s.presence.currentShow, undefined);
    await s.client.disconnect();
  });

  test("auto-away ends when the user sends a message, not on the library's receipts, chat states, markers", async () => {
    const now = Date.UTC(2024, 0, 1, 12, 0, 0);
    const { s } = await online({
      presence: { own: { status: 'Reading' }, autoAway: { away: 60, xa: 600 } },
      presenceDeps: { now: () => now },
    });
    await s.presence.setIdle(61);
    assert.match(await next(s), /<show>away<\/show>/);
    const to = 'romeo@example.net/orchard';
    for (const auto of [
      xml('message', { to }, xml('received', { xmlns: 'urn:xmpp:receipts', id: 'm1' })),
      xml(
        'message',
        { to, type: 'chat' },
        xml('inactive', { xmlns: 'http://jabber.org/protocol/chatstates' }),
      ),
      xml('message', { to }, xml('displayed', { xmlns: 'urn:xmpp:chat-markers:0', id: 'm1' })),
    ]) {
      await s.client.send(auto);
      assert.equal((await s.t.expectElement('message')).name, 'message');
    }
    assert.equal(s.presence.currentShow, 'away', 'still away after automatic messages');
    const sending = s.client.send(xml('message', { to, type: 'chat' }, xml('body', null, 'back')));
    // Back first, then the message (the presence goes out as the message is written).
    assert.equal(await next(s), '<presence><status>Reading</status></presence>');
    assert.match(await next(s), /<body>back<\/body>/);
    await sending;
    assert.equal(s.presence.currentShow, undefined);
    await s.client.disconnect();
  });

  test('dnd is left alone; the idle source is polled', async () => {
    let idle = 0;
    let tick: (() => void) | undefined;
    const { s } = await online({
      presence: {
        own: { show: 'dnd' },
        autoAway: { away: 60, xa: 600, awayStatus: 'Auto away' },
        idleSource: () => idle,
      },
      presenceDeps: {
        timers: {
          setInterval: (fn) => {
            tick = fn;
            return 1;
          },
          clearInterval: () => {
            tick = undefined;
          },
        },
      },
    });
    idle = 100;
    tick!();
    await s.presence.set({ status: 'now available' });
    assert.equal(
      await next(s),
      '<presence><status>now available</status></presence>',
      'no auto-away while dnd',
    );
    idle = 100;
    tick!();
    assert.equal(
      await next(s),
      "<presence><show>away</show><status>Auto away</status><idle xmlns='urn:xmpp:idle:1' since='" +
        (await sinceOf(s)) +
        "'/></presence>",
    );
    await s.client.disconnect();
    assert.equal(tick, undefined, 'polling stops when offline');
  });
});

/** The `since` of the last presence the client wrote (clock-independent assertions). */
async function sinceOf(s: ImSession): Promise<string> {
  const last = [...s.t.sent].reverse().find((x) => x.kind === 'element' && x.el.name === 'presence');
  assert.ok(last && last.kind === 'element');
  return last.el.getChild('idle', 'urn:xmpp:idle:1')?.attr('since') ?? '';
}
