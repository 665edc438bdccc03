// Multi-User Chat (XEP-0045 and friends): the codec against the spec's examples, then dialogue
// tests on a memory transport (the test plays the server and the rooms): join with nick
// fallback, self-presence, occupant events, nick changes, our removal (kick, ban, membership,
// shutdown, destroy), forged identity in messages, notices, reflections, late presence after
// leaving, self-ping outcomes, rejoin after a new session, invitations and our presence.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { FULL, type ImSession, type ImSessionOptions, imSession } from '../../../test/helpers/im-session.ts';
import { el, serveLogin, wire } from '../../../test/helpers/memory-transport.ts';
import type { ConfabError } from '../../errors.ts';
import type { BareJid } from '../../jid.ts';
import type { Element } from '../../xml/element.ts';
import { parseInfo } from '../disco/codec.ts';
import { findForm, getField, parseForm } from '../forms/forms.ts';
import { NS_MUC, NS_MUC_OWNER, NS_ROOMINFO, readMucUser, readRoomInfo, renderMe } from './codec.ts';
import { Muc } from './muc.ts';
import type { Room } from './room.ts';
import type { MucInvite, RoomEvents } from './types.ts';

const fixture = (name: string) =>
  el(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim());
const DISCO = 'http://jabber.org/protocol/disco#info';
const ROOM = 'coven@chat.shakespeare.lit';
const USER = 'http://jabber.org/protocol/muc#user';

describe('MUC codec (XEP-0045 examples)', () => {
  test('occupant and self-presence: item, statuses', () => {
    const o = readMucUser(fixture('xep0045-occupant.xml'))!;
    assert.equal(o.item?.role, 'moderator');
    assert.equal(o.item?.affiliation, 'owner');
    assert.equal(o.item?.jid, 'crone1@shakespeare.lit/desktop');
    assert.deepEqual(readMucUser(fixture('xep0045-self.xml'))?.statuses, [100, 110, 170]);
  });
  test('kicked with actor and reason; destroyed with alternate and reason', () => {
    const k = readMucUser(fixture('xep0045-kicked.xml'))!;
    assert.deepEqual(k.statuses, [110, 307]);
    assert.equal(k.item?.actor, 'Fluellen');
    assert.equal(k.item?.reason, 'Avaunt, you cullion!');
    const d = readMucUser(fixture('xep0045-destroyed.xml'))!;
    assert.equal(d.destroy?.jid, 'coven@chat.shakespeare.lit');
    assert.equal(d.destroy?.reason, 'Macbeth doth come.');
  });
  test('mediated invitation', () => {
    const i = readMucUser(fixture('xep0045-invite.xml'))!;
    assert.equal(i.invite?.from, 'crone1@shakespeare.lit/desktop');
    assert.equal(i.password, 'cauldronburn');
  });
  test('room info: identity name, features, muc#roominfo form', () => {
    const q = fixture('xep0045-roominfo.xml').getChild('query', DISCO)!;
    const info = readRoomInfo(ROOM as BareJid, parseInfo(q), q);
    assert.equal(info.name, 'A Dark Cave');
    assert.equal(info.anonymity, 'non-anonymous');
    assert.equal(info.passwordProtected, true);
    assert.equal(info.persistent, false);
    assert.equal(info.public, false);
    assert.equal(info.occupants, 3);
    assert.equal(info.subject, 'Spells');
    assert.equal(info.description, 'The place for all good witches!');
    assert.equal(info.lang, 'en');
    assert.equal(info.form?.formType, NS_ROOMINFO);
  });
  test('room configuration form (XEP-0045 10.1.3)', () => {
    const f = findForm(fixture('xep0045-roomconfig.xml').getChild('query', NS_MUC_OWNER)!)!;
    assert.equal(f.formType, 'http://jabber.org/protocol/muc#roomconfig');
    assert.equal(getField(f, 'muc#roomconfig_roomsecret')?.type, 'text-private');
    assert.deepEqual(getField(f, 'muc#roomconfig_roomadmins')?.values, [
      'wiccarocks@shakespeare.lit',
      'hecate@shakespeare.lit',
    ]);
    assert.ok(parseForm);
  });
  test('/me (XEP-0245)', () => {
    assert.equal(renderMe('/me waves', 'Romeo'), 'Romeo waves');
    assert.equal(renderMe('hello /me', 'Romeo'), undefined);
    assert.equal(renderMe('/meh', 'Romeo'), undefined);
    assert.equal(renderMe(undefined, 'Romeo'), undefined);
  });
});

// ---------------------------------------------------------------- dialogue

interface S extends ImSession {
  muc: Muc;
  mucErrors: ConfabError[];
  messages: number;
}

async function setup(o: ImSessionOptions = {}): Promise<S> {
  const s = await imSession(o);
  const get = await s.iq('get');
  s.t.recv(`<iq type='result' id='${get.attr('id')}' to='${FULL}'><query xmlns='jabber:iq:roster'/></iq>`);
  await s.t.expectElement('presence');
  const mucErrors: ConfabError[] = [];
  const muc = new Muc(
    {
      client: s.client,
      onError: (e) => mucErrors.push(e),
      messaging: s.client.messages,
      presence: s.presence,
    },
    { timeout: 2_000, selfPingInterval: 0 },
  );
  let messages = 0;
  s.client.on('message', () => messages++);
  return Object.assign(s, {
    muc,
    mucErrors,
    get messages() {
      return messages;
    },
  });
}

async function next(s: S): Promise<Element> {
  return (await s.t.expect('element')).el;
}

/** Answer the join's disco#info of the room (features, or item-not-found). */
async function answerInfo(s: S, features: string[] | 'none'): Promise<void> {
  const iq = await next(s);
  assert.equal(iq.name, 'iq');
  assert.ok(iq.getChild('query', DISCO), `expected disco#info, got ${wire(iq)}`);
  const to = iq.attr('to');
  if (features === 'none') {
    s.t.recv(
      `<iq type='error' id='${iq.attr('id')}' from='${to}' to='${FULL}'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
    return;
  }
  s.t.recv(
    `<iq type='result' id='${iq.attr('id')}' from='${to}' to='${FULL}'><query xmlns='${DISCO}'><identity category='conference' type='text' name='Coven'/>${features
      .map((f) => `<feature var='${f}'/>`)
      .join('')}</query></iq>`,
  );
}

function occupant(
  nick: string,
  o: { role?: string; aff?: string; jid?: string; codes?: number[]; extra?: string } = {},
) {
  return `<presence from='${ROOM}/${nick}' to='${FULL}'>${o.extra ?? ''}<x xmlns='${USER}'><item affiliation='${o.aff ?? 'member'}' role='${o.role ?? 'participant'}'${o.jid ? ` jid='${o.jid}'` : ''}/>${(o.codes ?? []).map((c) => `<status code='${c}'/>`).join('')}</x></presence>`;
}

function unavailable(nick: string, codes: number[], inner = '') {
  return `<presence from='${ROOM}/${nick}' to='${FULL}' type='unavailable'><x xmlns='${USER}'>${inner || "<item affiliation='none' role='none'/>"}${codes.map((c) => `<status code='${c}'/>`).join('')}</x></presence>`;
}

/** Join ROOM as `nick` with the others already in; returns the room. */
async function joined(
  s: S,
  nick = 'thirdwitch',
  others: string[] = ['firstwitch'],
  features: string[] = [],
): Promise<Room> {
  const p = s.muc.join(ROOM, { nick });
  await answerInfo(s, features);
  const pres = await next(s);
  assert.equal(pres.attr('to'), `${ROOM}/${nick}`);
  for (const o of others) s.t.recv(occupant(o, { jid: `${o}@shakespeare.lit/x` }));
  s.t.recv(occupant(nick, { codes: [100, 110], jid: FULL }));
  return p;
}

function collect<K extends keyof RoomEvents>(room: Room, k: K): RoomEvents[K][] {
  const out: RoomEvents[K][] = [];
  room.on(k, (e) => out.push(e));
  return out;
}

function once<K extends keyof RoomEvents>(room: Room, k: K): Promise<RoomEvents[K]> {
  return new Promise((resolve) => room.once(k, resolve));
}

describe('joining (XEP-0045 7.2)', () => {
  test('always the muc <x/> with history and password; occupants first, then our 110', async () => {
    const s = await setup();
    const p = s.muc.join(ROOM, {
      nick: 'thirdwitch',
      password: 'cauldronburn',
      history: { maxstanzas: 20, since: new Date('2026-01-01T00:00:00Z') },
    });
    await answerInfo(s, ['http://jabber.org/protocol/muc', 'muc_nonanonymous']);
    const pres = await next(s);
    assert.equal(
      wire(pres.getChild('x', NS_MUC)!),
      `<x xmlns='${NS_MUC}'><history maxstanzas='20' since='2026-01-01T00:00:00Z'/><password>cauldronburn</password></x>`,
    );
    const room = s.muc.get(ROOM)!;
    assert.equal(room.state, 'joining');
    const joins = collect(room, 'join');
    s.t.recv(
      occupant('firstwitch', { role: 'moderator', aff: 'owner', jid: 'crone1@shakespeare.lit/desktop' }),
    );
    s.t.recv(occupant('secondwitch', { jid: 'wiccarocks@shakespeare.lit/laptop' }));
    s.t.recv(occupant('thirdwitch', { codes: [100, 110, 170], jid: FULL }));
    const r = await p;
    assert.equal(r, room);
    assert.equal(r.state, 'joined');
    assert.equal(r.nick, 'thirdwitch');
    assert.equal(r.self?.self, true);
    assert.equal(r.occupants.size, 3);
    assert.equal(r.occupants.get('firstwitch')?.jid, 'crone1@shakespeare.lit/desktop');
    assert.equal(r.occupants.get('firstwitch')?.role, 'moderator');
    assert.equal(r.flags.nonAnonymous, true);
    assert.equal(r.flags.logged, true);
    assert.deepEqual(
      joins.map((j) => [j.occupant.nick, j.initial]),
      [
        ['firstwitch', true],
        ['secondwitch', true],
        ['thirdwitch', true],
      ],
    );
    assert.deepEqual(s.muc.joined(), [r]);
    // Someone arriving later is not initial.
    s.t.recv(occupant('hecate'));
    assert.equal(joins.at(-1)?.occupant.nick, 'hecate');
    assert.equal(joins.at(-1)?.initial, false);
  });

  test('409 conflict: the next nick is tried; none free: ERR_NICK_CONFLICT naming them', async () => {
    const s = await setup();
    const p = s.muc.join(ROOM, { nick: ['witch', 'witch2'] });
    await answerInfo(s, []);
    const first = await next(s);
    assert.equal(first.attr('to'), `${ROOM}/witch`);
    s.t.recv(
      `<presence from='${ROOM}/witch' to='${FULL}' type='error'><x xmlns='${NS_MUC}'/><error by='${ROOM}' type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`,
    );
    const second = await next(s);
    assert.equal(second.attr('to'), `${ROOM}/witch2`);
    assert.ok(second.getChild('x', NS_MUC), 'each attempt carries the MUC <x/>');
    s.t.recv(occupant('witch2', { codes: [110] }));
    const r = await p;
    assert.equal(r.nick, 'witch2');

    const s2 = await setup();
    const p2 = s2.muc.join(ROOM, { nick: ['a', 'b'] });
    await answerInfo(s2, []);
    for (const n of ['a', 'b']) {
      const pr = await next(s2);
      assert.equal(pr.attr('to'), `${ROOM}/${n}`);
      s2.t.recv(
        `<presence from='${ROOM}/${n}' to='${FULL}' type='error'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`,
      );
    }
    await assert.rejects(p2, (e: ConfabError) => {
      assert.equal(e.code, 'ERR_NICK_CONFLICT');
      assert.match(e.message, /'a', 'b'/);
      return true;
    });
    assert.equal(s2.muc.get(ROOM), undefined, 'a failed join leaves nothing behind');
  });

  test('a password room refuses: StanzaError not-authorized with a sentence', async () => {
    const s = await setup();
    const p = s.muc.join(ROOM, { nick: 'x', password: 'wrong' });
    await answerInfo(s, ['muc_passwordprotected']);
    await next(s);
    s.t.recv(
      `<presence from='${ROOM}/x' to='${FULL}' type='error'><error type='auth'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`,
    );
    await assert.rejects(p, (e: ConfabError) => {
      assert.equal(e.code, 'ERR_STANZA');
      assert.equal(e.condition, 'not-authorized');
      assert.match(e.message, /needs a password/);
      return true;
    });
  });

  test("create 'never': a room that does not exist is not created", async () => {
    const s = await setup();
    const p = s.muc.join(ROOM, { nick: 'x', create: 'never' });
    await answerInfo(s, 'none');
    await assert.rejects(p, { code: 'ERR_STANZA', condition: 'item-not-found' });
    assert.equal(
      s.t.sent.filter((x) => x.kind === 'element' && x.el.name === 'presence').length,
      1,
      'only the initial presence',
    );
  });

  test('status 201: an instant room is accepted with an empty submit; a reserved one stays locked', async () => {
    const s = await setup();
    const p = s.muc.join(ROOM, { nick: 'owner' });
    await answerInfo(s, 'none');
    await next(s);
    s.t.recv(occupant('owner', { aff: 'owner', role: 'moderator', codes: [110, 201] }));
    const iq = await next(s);
    assert.equal(
      wire(iq.getChild('query', NS_MUC_OWNER)!),
      `<query xmlns='${NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'/></query>`,
    );
    s.t.recv(`<iq type='result' id='${iq.attr('id')}' from='${ROOM}' to='${FULL}'/>`);
    const r = await p;
    assert.equal(r.created, true);
    assert.equal(r.locked, false);

    const s2 = await setup();
    const p2 = s2.muc.join(ROOM, { nick: 'owner', create: 'reserved' });
    await answerInfo(s2, 'none');
    await next(s2);
    s2.t.recv(occupant('owner', { aff: 'owner', role: 'moderator', codes: [110, 201] }));
    const r2 = await p2;
    assert.equal(r2.locked, true);
    const cfg = r2.config();
    const get = await next(s2);
    const form = readFileSync(new URL('./fixtures/xep0045-roomconfig.xml', import.meta.url), 'utf8')
      .replace("id='config1'", `id='${get.attr('id')}'`)
      .replace("to='crone1@shakespeare.lit/desktop'", `to='${FULL}'`);
    s2.t.recv(form);
    const f = await cfg;
    assert.equal(getField(f, 'muc#roomconfig_maxusers')?.values[0], '20');
    const done = r2.configure({ 'muc#roomconfig_roomname': 'Coven', 'muc#roomconfig_persistentroom': true });
    const set = await next(s2);
    const x = findForm(set.getChild('query', NS_MUC_OWNER)!)!;
    assert.equal(x.type, 'submit');
    assert.equal(x.formType, 'http://jabber.org/protocol/muc#roomconfig');
    assert.deepEqual(getField(x, 'muc#roomconfig_roomname')?.values, ['Coven']);
    assert.deepEqual(getField(x, 'muc#roomconfig_persistentroom')?.values, ['1']);
    assert.deepEqual(
      getField(x, 'muc#roomconfig_roomsecret')?.values,
      ['cauldronburn'],
      'the rest of the form is kept',
    );
    s2.t.recv(`<iq type='result' id='${set.attr('id')}' from='${ROOM}' to='${FULL}'/>`);
    await done;
    assert.equal(r2.locked, false);
  });
});

describe('occupants (XEP-0045 7.3-7.7)', () => {
  test('presence change, role, affiliation, 303 nick change, leave reasons', async () => {
    const s = await setup();
    const room = await joined(s, 'thirdwitch', ['firstwitch', 'secondwitch', 'fourth', 'fifth', 'sixth']);
    const presence = collect(room, 'presence');
    const role = collect(room, 'role');
    const aff = collect(room, 'affiliation');
    const nick = collect(room, 'nick');
    const leave = collect(room, 'leave');
    const join = collect(room, 'join');
    s.t.recv(
      occupant('firstwitch', {
        jid: 'firstwitch@shakespeare.lit/x',
        extra: '<show>away</show><status>brb</status>',
      }),
    );
    assert.equal(presence[0]?.occupant.show, 'away');
    assert.equal(presence[0]?.occupant.status, 'brb');
    assert.equal(presence[0]?.previous.show, undefined);
    s.t.recv(
      occupant('firstwitch', {
        role: 'visitor',
        jid: 'firstwitch@shakespeare.lit/x',
        extra: '<show>away</show><status>brb</status>',
      }),
    );
    assert.equal(role[0]?.previous, 'participant');
    assert.equal(role[0]?.occupant.role, 'visitor');
    s.t.recv(
      occupant('firstwitch', {
        role: 'visitor',
        aff: 'none',
        extra: '<show>away</show><status>brb</status>',
      }),
    );
    assert.equal(aff[0]?.affiliation, 'none');
    assert.equal(aff[0]?.previous, 'member');
    // 303: unavailable with the new nick, then available under it: one `nick`, no leave/join.
    s.t.recv(
      unavailable('secondwitch', [303], "<item affiliation='member' role='participant' nick='oldhag'/>"),
    );
    s.t.recv(occupant('oldhag'));
    assert.deepEqual(
      nick.map((n) => [n.oldNick, n.newNick]),
      [['secondwitch', 'oldhag']],
    );
    assert.equal(room.occupants.has('secondwitch'), false);
    assert.equal(
      room.occupants.get('oldhag')?.jid,
      'secondwitch@shakespeare.lit/x',
      'the real JID carries over',
    );
    assert.equal(join.length, 0);
    s.t.recv(unavailable('fourth', []));
    s.t.recv(
      unavailable(
        'fifth',
        [307],
        "<item affiliation='none' role='none'><actor nick='thirdwitch'/><reason>Out!</reason></item>",
      ),
    );
    s.t.recv(unavailable('sixth', [301]));
    assert.deepEqual(
      leave.map((l) => [l.occupant.nick, l.reason, l.text, l.actor]),
      [
        ['fourth', 'left', undefined, undefined],
        ['fifth', 'kicked', 'Out!', 'thirdwitch'],
        ['sixth', 'banned', undefined, undefined],
      ],
    );
    assert.equal(leave.length, 3);
  });

  test('occupant-id only where the room announces XEP-0421', async () => {
    const s = await setup();
    const room = await joined(s, 'me', [], ['urn:xmpp:occupant-id:0']);
    s.t.recv(occupant('a', { extra: "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='abc'/>" }));
    assert.equal(room.occupants.get('a')?.occupantId, 'abc');
    const s2 = await setup();
    const room2 = await joined(s2, 'me', []);
    s2.t.recv(occupant('a', { extra: "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/>" }));
    assert.equal(
      room2.occupants.get('a')?.occupantId,
      undefined,
      'a room without XEP-0421 passes client-made ids through',
    );
  });

  test('our nick change (7.6): 303 then the new self-presence; conflict rejects', async () => {
    const s = await setup();
    const room = await joined(s);
    const p = room.changeNick('oldhag');
    const pres = await next(s);
    assert.equal(pres.attr('to'), `${ROOM}/oldhag`);
    assert.equal(pres.getChild('x', NS_MUC), undefined, 'a nick change is not a join');
    s.t.recv(
      unavailable('thirdwitch', [110, 303], "<item affiliation='member' role='participant' nick='oldhag'/>"),
    );
    s.t.recv(occupant('oldhag', { codes: [110] }));
    await p;
    assert.equal(room.nick, 'oldhag');
    assert.equal(room.self?.nick, 'oldhag');
    assert.equal(room.state, 'joined');
    const q = room.changeNick('firstwitch');
    await next(s);
    s.t.recv(
      `<presence from='${ROOM}/firstwitch' to='${FULL}' type='error'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`,
    );
    await assert.rejects(q, { condition: 'conflict' });
    assert.equal(room.nick, 'oldhag');
  });
});

describe('our removal (exit)', () => {
  for (const [code, reason] of [
    [307, 'kicked'],
    [301, 'banned'],
    [321, 'removed'],
    [322, 'members-only'],
    [332, 'shutdown'],
  ] as const) {
    test(`status ${code}: exit '${reason}', state left, out of muc.joined()`, async () => {
      const s = await setup();
      const room = await joined(s);
      const exit = once(room, 'exit');
      const left: string[] = [];
      s.muc.on('left', (e) => left.push(e.exit.reason));
      s.t.recv(
        unavailable(
          'thirdwitch',
          [110, code],
          "<item affiliation='none' role='none'><actor nick='firstwitch'/><reason>Because.</reason></item>",
        ),
      );
      const e = await exit;
      assert.equal(e.reason, reason);
      assert.equal(e.text, 'Because.');
      assert.equal(e.actor, 'firstwitch');
      assert.equal(e.rejoin, false);
      assert.equal(room.state, 'left');
      assert.deepEqual(s.muc.joined(), []);
      assert.deepEqual(left, [reason]);
      await assert.rejects(room.send('hi'), { code: 'ERR_NOT_CONNECTED' });
    });
  }

  test('destroyed (10.9): reason and alternate venue', async () => {
    const s = await setup();
    const room = await joined(s);
    const exit = once(room, 'exit');
    const leave = collect(room, 'leave');
    s.t.recv(
      unavailable(
        'firstwitch',
        [],
        "<item affiliation='none' role='none'/><destroy jid='coven@chat.shakespeare.lit'><reason>Macbeth doth come.</reason></destroy>",
      ),
    );
    s.t.recv(
      unavailable(
        'thirdwitch',
        [110],
        "<item affiliation='none' role='none'/><destroy jid='heath@chat.shakespeare.lit'><reason>Macbeth doth come.</reason><password>x</password></destroy>",
      ),
    );
    const e = await exit;
    assert.equal(e.reason, 'destroyed');
    assert.equal(e.text, 'Macbeth doth come.');
    assert.equal(e.alternate, 'heath@chat.shakespeare.lit');
    assert.equal(e.password, 'x');
    assert.equal(leave[0]?.reason, 'destroyed');
  });

  test('destroyed without status 110 (as ejabberd sends it, XEP-0045 Example 201): still our exit', async () => {
    const s = await setup();
    const room = await joined(s);
    const exit = once(room, 'exit');
    s.t.recv(
      unavailable(
        'thirdwitch',
        [],
        "<item affiliation='none' role='none'/><destroy><reason>Gone.</reason></destroy>",
      ),
    );
    const e = await exit;
    assert.equal(e.reason, 'destroyed');
    assert.equal(e.text, 'Gone.');
    assert.equal(e.alternate, undefined);
    assert.equal(room.state, 'left');
  });

  test('leave (7.14): unavailable out, state left at once; the late self-presence brings nothing back', async () => {
    const s = await setup();
    const room = await joined(s);
    const events: string[] = [];
    for (const k of ['join', 'presence', 'message', 'exit', 'state'] as const)
      room.on(k, () => events.push(k));
    const p = room.leave('bye');
    const out = await next(s);
    assert.equal(
      wire(out),
      `<presence to='${ROOM}/thirdwitch' type='unavailable'><status>bye</status></presence>`,
    );
    assert.equal(room.state, 'left');
    assert.equal(s.muc.get(ROOM), undefined);
    // A stray available self-presence and a group message arrive late: nothing happens.
    s.t.recv(occupant('thirdwitch', { codes: [110] }));
    s.t.recv(
      `<message from='${ROOM}/firstwitch' to='${FULL}' type='groupchat' id='m1'><body>late</body></message>`,
    );
    s.t.recv(unavailable('thirdwitch', [110]));
    await p;
    assert.equal(s.muc.get(ROOM), undefined);
    assert.deepEqual(events, ['state', 'exit'], 'only our own leaving');
    assert.equal(s.messages, 0, 'the late group message reached nobody');
  });
});

describe('messages in a room', () => {
  test('group messages credit the occupant from presence; a forged muc#user item is ignored', async () => {
    const s = await setup();
    const room = await joined(s);
    const got = collect(room, 'message');
    s.t.recv(
      `<message from='${ROOM}/firstwitch' to='${FULL}' type='groupchat' id='m1'><body>Thrice the brinded cat hath mew'd.</body><x xmlns='${USER}'><item jid='hecate@shakespeare.lit/throne' role='moderator' affiliation='owner'/></x><stanza-id xmlns='urn:xmpp:sid:0' by='${ROOM}' id='arch-1'/></message>`,
    );
    assert.equal(got.length, 1);
    const m = got[0]!;
    assert.equal(m.nick, 'firstwitch');
    assert.equal(m.body, "Thrice the brinded cat hath mew'd.");
    assert.equal(m.occupant?.jid, 'firstwitch@shakespeare.lit/x', 'identity from presence only');
    assert.equal(room.occupants.get('firstwitch')?.role, 'participant', 'the message changed nothing');
    assert.equal(m.stanzaId, 'arch-1');
    assert.equal(m.own, false);
    assert.equal(s.messages, 0, 'not on the one-to-one path');
    // The same message again (history replay): once.
    s.t.recv(
      `<message from='${ROOM}/firstwitch' to='${FULL}' type='groupchat' id='m1'><body>Thrice the brinded cat hath mew'd.</body><stanza-id xmlns='urn:xmpp:sid:0' by='${ROOM}' id='arch-1'/><delay xmlns='urn:xmpp:delay' stamp='2026-01-01T00:00:00Z'/></message>`,
    );
    assert.equal(got.length, 1);
  });

  test('room notices come from the bare JID and are never an occupant; subject on join', async () => {
    const s = await setup();
    const room = await joined(s);
    const notices = collect(room, 'notice');
    const subjects = collect(room, 'subject');
    const msgs = collect(room, 'message');
    s.t.recv(
      `<message from='${ROOM}' to='${FULL}' type='groupchat' id='n1'><body>This room is now non-anonymous</body><x xmlns='${USER}'><status code='172'/></x></message>`,
    );
    assert.equal(notices.length, 1);
    assert.deepEqual(notices[0]?.statuses, [172]);
    assert.equal(msgs.length, 0);
    s.t.recv(
      `<message from='${ROOM}/firstwitch' to='${FULL}' type='groupchat' id='s1'><subject>Fire Burn and Cauldron Bubble!</subject></message>`,
    );
    assert.deepEqual(subjects[0], {
      subject: 'Fire Burn and Cauldron Bubble!',
      nick: 'firstwitch',
      initial: true,
    });
    assert.equal(room.subject, 'Fire Burn and Cauldron Bubble!');
    s.t.recv(
      `<message from='${ROOM}/firstwitch' to='${FULL}' type='groupchat' id='s2'><subject></subject></message>`,
    );
    assert.equal(subjects[1]?.initial, false);
    assert.equal(room.subject, undefined);
    assert.equal(s.messages, 0);
  });

  test('send resolves on the reflection (origin-id); an error with the same id rejects', async () => {
    const s = await setup();
    const room = await joined(s);
    const p = room.send('Hello');
    const out = await next(s);
    assert.equal(out.attr('type'), 'groupchat');
    assert.equal(out.attr('to'), ROOM);
    const id = out.attr('id')!;
    assert.equal(out.getChild('origin-id', 'urn:xmpp:sid:0')?.attr('id'), id);
    // Reflected with a different stanza id (some rooms rewrite it) but our origin-id.
    s.t.recv(
      `<message from='${ROOM}/thirdwitch' to='${FULL}' type='groupchat' id='other'><body>Hello</body><origin-id xmlns='urn:xmpp:sid:0' id='${id}'/></message>`,
    );
    const echo = await p;
    assert.equal(echo.own, true);
    assert.equal(echo.reflection, true);
    const q = room.send({ body: 'again' });
    const out2 = await next(s);
    s.t.recv(
      `<message from='${ROOM}' to='${FULL}' type='error' id='${out2.attr('id')}'><error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`,
    );
    await assert.rejects(q, { condition: 'forbidden' });
  });

  test('private messages (7.5) and group messages from rooms we are not in', async () => {
    const s = await setup();
    const room = await joined(s);
    const pm = collect(room, 'private');
    s.t.recv(
      `<message from='${ROOM}/firstwitch' to='${FULL}' type='chat' id='p1'><body>psst</body><x xmlns='${USER}'/></message>`,
    );
    assert.equal(pm[0]?.nick, 'firstwitch');
    assert.equal(pm[0]?.body, 'psst');
    assert.equal(s.messages, 0);
    const id = await room.sendPrivate('firstwitch', 'hi');
    const out = await next(s);
    assert.equal(
      wire(out),
      `<message to='${ROOM}/firstwitch' type='chat' id='${id}'><body>hi</body><x xmlns='${USER}'/><origin-id xmlns='urn:xmpp:sid:0' id='${id}'/></message>`,
    );
    s.t.recv(
      `<message from='other@chat.shakespeare.lit/x' to='${FULL}' type='groupchat' id='g'><body>not for us</body></message>`,
    );
    assert.equal(s.messages, 0, 'a group message from a room we are not in is dropped');
  });
});

describe('corrections and retractions in a room (XEP-0308, XEP-0424)', () => {
  const CORRECT = 'urn:xmpp:message-correct:0';
  const RETRACT = 'urn:xmpp:message-retract:1';
  const OID = 'urn:xmpp:occupant-id:0';
  // XEP-0308 Examples 1 and 2, sent to a room: the original, then its correction.
  const bad = (nick: string, extra = '') =>
    `<message from='${ROOM}/${nick}' to='${FULL}' type='groupchat' id='bad1'><body>But soft, what light through yonder airlock breaks?</body>${extra}<stanza-id xmlns='urn:xmpp:sid:0' by='${ROOM}' id='arch-bad1-${nick}'/></message>`;
  const good = (nick: string, extra = '') =>
    `<message from='${ROOM}/${nick}' to='${FULL}' type='groupchat' id='good1'><body>But soft, what light through yonder window breaks?</body><replace id='bad1' xmlns='${CORRECT}'/>${extra}</message>`;
  // XEP-0424 Example 2 in a room: by the room's stanza-id (0.4), or by the id (older clients).
  const retract = (nick: string, id: string, extra = '') =>
    `<message from='${ROOM}/${nick}' to='${FULL}' type='groupchat' id='retract-${id}'><retract id='${id}' xmlns='${RETRACT}'/><fallback xmlns='urn:xmpp:fallback:0' for='${RETRACT}'/><body>/me retracted a previous message, but it's unsupported by your client.</body>${extra}</message>`;

  test('the same occupant (by nick): correction and retraction events, not new messages', async () => {
    const s = await setup();
    const room = await joined(s, 'thirdwitch', ['firstwitch', 'secondwitch']);
    const msgs = collect(room, 'message');
    const corrections = collect(room, 'correction');
    const retractions = collect(room, 'retraction');
    s.t.recv(bad('firstwitch'));
    s.t.recv(good('firstwitch'));
    assert.equal(msgs.length, 1, 'the correction is no new message');
    assert.equal(corrections.length, 1);
    const c = corrections[0]!;
    assert.equal(c.nick, 'firstwitch');
    assert.equal(c.replaces, 'bad1');
    assert.equal(c.body, 'But soft, what light through yonder window breaks?');
    assert.equal(c.original, msgs[0]);
    assert.equal(c.original.body, 'But soft, what light through yonder airlock breaks?');
    assert.equal(c.source, 'live');
    // Retracted by the room's stanza-id, as XEP-0424 0.4 asks in rooms.
    s.t.recv(retract('firstwitch', 'arch-bad1-firstwitch'));
    assert.equal(retractions.length, 1);
    assert.equal(retractions[0]?.retracts, 'arch-bad1-firstwitch');
    assert.equal(retractions[0]?.original, msgs[0]);
    assert.equal(msgs.length, 1, 'the fallback body is not shown');
  });

  test('another occupant naming that id: no correction (a plain message); no retraction (dropped)', async () => {
    const s = await setup();
    const room = await joined(s, 'thirdwitch', ['firstwitch', 'secondwitch']);
    const msgs = collect(room, 'message');
    const corrections = collect(room, 'correction');
    const retractions = collect(room, 'retraction');
    s.t.recv(bad('firstwitch'));
    s.t.recv(good('secondwitch'));
    assert.equal(corrections.length, 0, "secondwitch cannot rewrite firstwitch's words");
    assert.equal(msgs.length, 2);
    assert.equal(msgs[1]?.nick, 'secondwitch');
    assert.equal(msgs[1]?.body, 'But soft, what light through yonder window breaks?');
    s.t.recv(retract('secondwitch', 'bad1'));
    s.t.recv(retract('secondwitch', 'arch-bad1-firstwitch'));
    assert.equal(retractions.length, 0);
    assert.equal(msgs.length, 2, 'a foreign retraction is dropped, fallback body and all');
    // An id never seen (before we joined): also no correction.
    s.t.recv(
      `<message from='${ROOM}/firstwitch' to='${FULL}' type='groupchat' id='c9'><body>fixed</body><replace id='unknown' xmlns='${CORRECT}'/></message>`,
    );
    assert.equal(corrections.length, 0);
    assert.equal(msgs.at(-1)?.body, 'fixed');
    // The real author still can.
    s.t.recv(good('firstwitch'));
    assert.equal(corrections.length, 1);
    assert.equal(corrections[0]?.original.nick, 'firstwitch');
  });

  test('occupant-id (XEP-0421) decides where the room offers it: a new nick may correct, a taken nick may not', async () => {
    const s = await setup();
    const room = await joined(s, 'thirdwitch', [], [OID]);
    const oid = (id: string) => `<occupant-id xmlns='${OID}' id='${id}'/>`;
    s.t.recv(occupant('firstwitch', { extra: oid('witch-1') }));
    const msgs = collect(room, 'message');
    const corrections = collect(room, 'correction');
    s.t.recv(bad('firstwitch', oid('witch-1')));
    // firstwitch leaves; someone else takes the nick: same nick, other occupant-id.
    s.t.recv(unavailable('firstwitch', []));
    s.t.recv(occupant('firstwitch', { extra: oid('impostor') }));
    s.t.recv(good('firstwitch', oid('impostor')));
    assert.equal(corrections.length, 0, 'same nick, other occupant');
    assert.equal(msgs.length, 2);
    // The real one is back as "hag": other nick, same occupant-id.
    s.t.recv(occupant('hag', { extra: oid('witch-1') }));
    s.t.recv(
      `<message from='${ROOM}/hag' to='${FULL}' type='groupchat' id='good2'><body>window</body><replace id='bad1' xmlns='${CORRECT}'/>${oid('witch-1')}</message>`,
    );
    assert.equal(corrections.length, 1);
    assert.equal(corrections[0]?.nick, 'hag');
    assert.equal(corrections[0]?.original.nick, 'firstwitch');
  });

  test('real JIDs (non-anonymous room) decide where known: a nick reused by another account may not correct', async () => {
    const s = await setup();
    const room = await joined(s, 'thirdwitch', ['firstwitch']);
    const corrections = collect(room, 'correction');
    const retractions = collect(room, 'retraction');
    s.t.recv(bad('firstwitch'));
    s.t.recv(unavailable('firstwitch', []));
    s.t.recv(occupant('firstwitch', { jid: 'hecate@shakespeare.lit/throne' }));
    s.t.recv(good('firstwitch'));
    s.t.recv(retract('firstwitch', 'bad1'));
    assert.equal(corrections.length, 0);
    assert.equal(retractions.length, 0);
  });
});

describe('invitations', () => {
  test('mediated (7.8.2) from the room bare JID; not from a full JID; decline; direct (XEP-0249)', async () => {
    const s = await setup();
    const got: MucInvite[] = [];
    s.muc.on('invite', (i) => got.push(i));
    const invite = fixture('xep0045-invite.xml');
    invite.attrs.to = FULL; // the example's invitee is hecate; here it is us
    s.t.recv(invite);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.kind, 'mediated');
    assert.equal(got[0]?.room, ROOM);
    assert.equal(got[0]?.from, 'crone1@shakespeare.lit/desktop');
    assert.equal(got[0]?.password, 'cauldronburn');
    assert.equal(s.messages, 0);
    // The same from a user's full JID is not a room's invitation.
    s.t.recv(
      `<message from='mallory@evil.example/x' to='${FULL}'><x xmlns='${USER}'><invite from='crone1@shakespeare.lit'/></x><body>join</body></message>`,
    );
    assert.equal(got.length, 1);
    await s.muc.decline(got[0]!, 'Sorry');
    assert.equal(
      wire(await next(s)).replace(/ id='[^']+'/, ''),
      `<message to='${ROOM}'><x xmlns='${USER}'><decline to='crone1@shakespeare.lit/desktop'><reason>Sorry</reason></decline></x></message>`,
    );
    s.t.recv(
      `<message from='crone1@shakespeare.lit/desktop' to='${FULL}'><x xmlns='jabber:x:conference' jid='${ROOM}' password='cauldronburn' reason='Hey'/></message>`,
    );
    assert.equal(got[1]?.kind, 'direct');
    assert.equal(got[1]?.from, 'crone1@shakespeare.lit/desktop');
    assert.equal(got[1]?.password, 'cauldronburn');
    await s.muc.inviteDirect(ROOM, 'hecate@shakespeare.lit', { reason: 'Come' });
    assert.equal(
      wire(await next(s)).replace(/ id='[^']+'/, ''),
      `<message to='hecate@shakespeare.lit'><x xmlns='jabber:x:conference' jid='${ROOM}' reason='Come'/></message>`,
    );
  });
});

describe('staying in (own presence, self-ping, rejoin)', () => {
  test('our presence change reaches every joined room', async () => {
    const s = await setup();
    await joined(s);
    await s.presence.set({ show: 'away', status: 'gone fishing' });
    const broadcast = await next(s);
    assert.equal(broadcast.attr('to'), undefined);
    const toRoom = await next(s);
    assert.equal(
      wire(toRoom),
      `<presence to='${ROOM}/thirdwitch'><show>away</show><status>gone fishing</status></presence>`,
    );
  });

  for (const [condition, stillIn] of [
    ['not-acceptable', false],
    ['item-not-found', false],
    ['service-unavailable', true],
    ['feature-not-implemented', true],
  ] as const) {
    test(`self-ping (XEP-0410) answered ${condition}: ${stillIn ? 'still in' : 'exit and rejoin'}`, async () => {
      const s = await setup();
      const room = await joined(s);
      const exits = collect(room, 'exit');
      const check = s.muc.checkRooms();
      const ping = await next(s);
      assert.equal(ping.attr('to'), `${ROOM}/thirdwitch`);
      assert.ok(ping.getChild('ping', 'urn:xmpp:ping'));
      s.t.recv(
        `<iq type='error' id='${ping.attr('id')}' from='${ROOM}/thirdwitch' to='${FULL}'><error type='cancel'><${condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
      );
      await check;
      if (stillIn) {
        assert.equal(room.state, 'joined');
        assert.equal(exits.length, 0);
        return;
      }
      assert.equal(exits[0]?.reason, 'not-joined');
      assert.equal(exits[0]?.rejoin, true);
      assert.equal(room.state, 'joining');
      const again = await next(s);
      assert.equal(again.attr('to'), `${ROOM}/thirdwitch`);
      assert.ok(again.getChild('x', NS_MUC));
      const rejoined = once(room, 'joined');
      s.t.recv(occupant('thirdwitch', { codes: [110] }));
      assert.equal((await rejoined).rejoined, true);
      assert.equal(room.state, 'joined');
      assert.equal(s.muc.get(ROOM), room);
    });
  }

  test('a reconnect without resumption: exit disconnected, then rejoin with the same nick and history since', async () => {
    const s = await setup({ client: { reconnect: { initialDelay: 1, maxDelay: 5 } } });
    const room = await joined(s);
    s.t.recv(
      `<message from='${ROOM}/firstwitch' to='${FULL}' type='groupchat' id='m1'><body>x</body><delay xmlns='urn:xmpp:delay' stamp='2026-03-01T10:00:00Z'/></message>`,
    );
    const exits = collect(room, 'exit');
    s.t.drop();
    const t2 = await s.platform.nextTransport();
    await serveLogin(t2, 'juliet@example.com', { presence: false });
    const get = await t2.expectElement('iq');
    t2.recv(`<iq type='result' id='${get.attr('id')}' to='${FULL}'><query xmlns='jabber:iq:roster'/></iq>`);
    // The rejoin goes out at once; the initial presence after the roster.
    let join: Element | undefined;
    for (let i = 0; i < 3 && !join; i++) {
      const e = await t2.expectElement('presence');
      if (e.attr('to') === `${ROOM}/thirdwitch`) join = e;
    }
    assert.ok(join, 'rejoined');
    assert.equal(exits[0]?.reason, 'disconnected');
    assert.equal(exits[0]?.rejoin, true);
    assert.equal(
      join.getChild('x', NS_MUC)?.getChild('history', NS_MUC)?.attr('since'),
      '2026-03-01T10:00:00Z',
    );
    t2.recv(occupant('thirdwitch', { codes: [110] }));
    await once(room, 'joined');
    assert.equal(room.state, 'joined');
    await s.client.disconnect();
  });
});
