// Multi-User Chat (XEP-0045, XEP-0249, XEP-0410, XEP-0421) against the real test-bed servers,
// Prosody and ejabberd (conference.localhost on both), with three accounts through what the
// composition root builds (`client.muc`):
// - service discovery, unique names where offered, room info (a free name is undefined);
// - create instant; create reserved (configuration form: name, password, persistence; submit)
//   and cancel (the room is gone);
// - join with nick fallback on conflict, a password room (wrong password: not-authorized);
// - occupant events (join, leave, presence change), group and private messages (group ones
//   never on the one-to-one path), subject set and read on join;
// - invitations direct and mediated, and a decline;
// - voice (visitor / participant), membership, kick, ban (the banned cannot come back), destroy
//   (occupants get exit with the reason);
// - occupant-id where the room announces it;
// - rejoin after the connection is cut without resumption (a TCP proxy, stream management off),
//   and a self-ping;
// - the minimal Prosody has no conference service: services() is [] and a join fails clearly.
// Run: npm test -- --no-checks packages/confab/test/integration/muc.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type Account,
  caOf,
  ejabberd,
  freshAccount,
  prosody,
  prosodyMinimal,
  type ServerInfo,
} from '../../../../testbed/harness.ts';
import type { Client, ClientOptions } from '../../src/client.ts';
import type { ConfabError } from '../../src/errors.ts';
import type { Message } from '../../src/features/messages/codec.ts';
import type { MucEvents } from '../../src/features/muc/muc.ts';
import type { Room } from '../../src/features/muc/room.ts';
import type { RoomEvents } from '../../src/features/muc/types.ts';
import { createClient } from '../../src/index.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';

const WAIT = 10_000;

interface Side {
  client: Client;
  account: Account;
  /** One-to-one messages the app saw (group ones must never be here). */
  messages: Message[];
}

async function login(server: ServerInfo, account: Account, o: Partial<ClientOptions> = {}): Promise<Side> {
  const client = createClient({
    jid: account.jid,
    password: account.password,
    host: server.host,
    port: server.ports.c2s,
    tls: { ca: caOf(server) },
    reconnect: false,
    ...o,
  });
  client.on('error', () => {});
  const messages: Message[] = [];
  client.on('message', (m) => messages.push(m));
  await client.connect();
  return { client, account, messages };
}

function until<T>(on: (fn: (e: T) => void) => () => void, pred: (e: T) => boolean, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, WAIT);
    const off = on((e) => {
      if (!pred(e)) return;
      clearTimeout(t);
      off();
      resolve(e);
    });
  });
}

function roomEvent<K extends keyof RoomEvents>(
  room: Room,
  k: K,
  pred: (e: RoomEvents[K]) => boolean = () => true,
): Promise<RoomEvents[K]> {
  return until((fn) => room.on(k, fn), pred, `${k} in ${room.jid} as ${room.nick}`);
}

function mucEvent<K extends keyof MucEvents>(
  s: Side,
  k: K,
  pred: (e: MucEvents[K]) => boolean = () => true,
): Promise<MucEvents[K]> {
  return until((fn) => s.client.muc.on(k, fn), pred, `muc ${k} at ${s.account.jid}`);
}

let n = 0;
const fresh = (service: string, label: string) =>
  `${label}-${process.pid}-${Date.now().toString(36)}-${n++}@${service}`;

for (const [label, server] of [
  ['Prosody', prosody],
  ['ejabberd', ejabberd],
] as const) {
  describe(`MUC on ${label}`, () => {
    let srv: ServerInfo;
    let service: string;
    let a: Side;
    let b: Side;
    let c: Side;

    before(async () => {
      srv = server();
      service = srv.muc!;
      const [x, y, z] = await Promise.all([freshAccount(srv), freshAccount(srv), freshAccount(srv)]);
      [a, b, c] = await Promise.all([login(srv, x), login(srv, y), login(srv, z)]);
    });
    after(async () => {
      await Promise.all([a, b, c].map((s) => s?.client.disconnect()));
    });

    test('services, unique name, info of a free room', async () => {
      const services = await a.client.muc.services();
      assert.ok(services.includes(service), `${service} in ${JSON.stringify(services)}`);
      const unique = await a.client.muc.uniqueName(service);
      assert.ok(unique === undefined || unique.length > 0);
      assert.equal(await a.client.muc.info(fresh(service, 'free')), undefined, 'a free name has no info');
      assert.ok(Array.isArray(await a.client.muc.rooms(service)));
    });

    test('instant room: join, conflict fallback, occupants, messages, private, subject, leave', async () => {
      const jid = fresh(service, 'instant');
      const ra = await a.client.muc.join(jid, { nick: 'Alice' });
      assert.equal(ra.created, true);
      assert.equal(ra.state, 'joined');
      assert.equal(ra.self?.affiliation, 'owner');
      const info = await a.client.muc.info(jid);
      assert.ok(info, 'the instant room exists');
      assert.equal(info.occupants === undefined || info.occupants === 1, true);

      const bobJoins = roomEvent(ra, 'join', (e) => e.occupant.nick === 'Bob');
      const rb = await b.client.muc.join(jid, { nick: ['Alice', 'Bob'] });
      assert.equal(rb.nick, 'Bob', 'Alice was taken: the next nick');
      assert.equal(rb.created, false);
      assert.ok(rb.occupants.has('Alice'));
      const j = await bobJoins;
      assert.equal(j.initial, false);

      // Presence change reaches the room.
      const away = roomEvent(
        rb,
        'presence',
        (e) => e.occupant.nick === 'Alice' && e.occupant.show === 'away',
      );
      await a.client.presence.set({ show: 'away', status: 'lunch' });
      assert.equal((await away).occupant.status, 'lunch');
      await a.client.presence.set({});

      // Group message with reflection; never on the one-to-one path.
      const atB = roomEvent(rb, 'message', (m) => m.body === 'Hello room');
      const echo = await ra.send('Hello room');
      assert.equal(echo.own, true);
      assert.equal(echo.reflection, true);
      const m = await atB;
      assert.equal(m.nick, 'Alice');
      assert.equal(m.own, false);
      assert.equal(m.occupant?.nick, 'Alice');
      assert.equal(
        [...a.messages, ...b.messages].some((x) => x.type === 'groupchat'),
        false,
        'group messages are the room\u2019s only',
      );

      // Private message.
      const pm = roomEvent(ra, 'private', (p) => p.body === 'psst');
      await rb.sendPrivate('Alice', 'psst');
      assert.equal((await pm).nick, 'Bob');

      // Subject: set by Alice, seen by Bob, read on join by Carol.
      const subj = roomEvent(rb, 'subject', (s) => s.subject === 'Cauldron');
      await ra.setSubject('Cauldron');
      assert.equal((await subj).nick, 'Alice');
      const rc = await c.client.muc.join(jid, { nick: 'Carol' });
      if (rc.subject === undefined) await roomEvent(rc, 'subject', (s) => s.initial);
      assert.equal(rc.subject, 'Cauldron');
      assert.equal(rc.subjectBy === undefined || rc.subjectBy === 'Alice', true);

      // Leave: the others see it.
      const left = roomEvent(ra, 'leave', (e) => e.occupant.nick === 'Carol');
      await rc.leave('bye');
      assert.equal((await left).reason, 'left');
      assert.equal(c.client.muc.get(jid), undefined);
      await rb.leave();
      await ra.leave();
    });

    test('reserved room: config form, submit (name, password, persistent), password join; cancel', async () => {
      const jid = fresh(service, 'reserved');
      const ra = await a.client.muc.join(jid, { nick: 'Alice', create: 'reserved' });
      assert.equal(ra.created, true);
      assert.equal(ra.locked, true);
      const form = await ra.config();
      assert.equal(form.formType, 'http://jabber.org/protocol/muc#roomconfig');
      assert.ok(form.fields.some((f) => f.var === 'muc#roomconfig_roomname'));
      await ra.configure({
        'muc#roomconfig_roomname': 'Secret garden',
        'muc#roomconfig_persistentroom': true,
        'muc#roomconfig_passwordprotectedroom': true,
        'muc#roomconfig_roomsecret': 'herbs',
      });
      assert.equal(ra.locked, false);
      const info = await a.client.muc.info(jid);
      assert.equal(info?.name, 'Secret garden');
      assert.equal(info?.passwordProtected, true);
      assert.equal(info?.persistent, true);

      await assert.rejects(b.client.muc.join(jid, { nick: 'Bob', password: 'weeds' }), (e: ConfabError) => {
        assert.equal(e.condition, 'not-authorized');
        assert.match(e.message, /password/);
        return true;
      });
      const rb = await b.client.muc.join(jid, { nick: 'Bob', password: 'herbs' });
      assert.equal(rb.state, 'joined');
      await rb.leave();

      // Destroy: occupants get the reason.
      const rc = await c.client.muc.join(jid, { nick: 'Carol', password: 'herbs' });
      const exit = roomEvent(rc, 'exit');
      await ra.destroy({ reason: 'Winter is coming' });
      const e = await exit;
      assert.equal(e.reason, 'destroyed');
      assert.equal(e.text, 'Winter is coming');
      assert.equal(rc.state, 'left');
      // Gone: no info, or (Prosody keeps a tombstone) the `gone` condition with the reason.
      await a.client.muc.info(jid).then(
        (i) => assert.equal(i, undefined, 'destroyed'),
        (err: ConfabError) => assert.equal(err.condition, 'gone'),
      );

      // Cancel the configuration of a new reserved room: it is gone.
      const jid2 = fresh(service, 'cancelled');
      const r2 = await a.client.muc.join(jid2, { nick: 'Alice', create: 'reserved' });
      const gone = roomEvent(r2, 'exit');
      await r2.cancelConfig();
      await gone;
      assert.equal(await a.client.muc.info(jid2), undefined, 'the cancelled room does not exist');
    });

    test('invitations: direct, mediated and decline', async () => {
      const jid = fresh(service, 'invites');
      const ra = await a.client.muc.join(jid, { nick: 'Alice' });
      const direct = mucEvent(c, 'invite', (i) => i.kind === 'direct' && i.room === jid);
      await a.client.muc.inviteDirect(jid, c.account.jid, { reason: 'Come in' });
      const d = await direct;
      assert.equal(d.reason, 'Come in');
      assert.equal(d.from?.startsWith(a.account.jid), true);

      const mediated = mucEvent(c, 'invite', (i) => i.kind === 'mediated' && i.room === jid);
      await ra.invite(c.account.jid, { reason: 'Please' });
      const inv = await mediated;
      // The inviter's real JID, or (Prosody, in a semi-anonymous room) the room standing for it.
      assert.ok(inv.from?.split('/')[0] === a.account.jid || inv.from?.startsWith(jid), inv.from);
      assert.equal(inv.reason, 'Please');
      const declined = mucEvent(a, 'decline', (x) => x.room === jid);
      await c.client.muc.decline(inv, 'Busy');
      const dec = await declined;
      assert.equal(dec.reason, 'Busy');
      assert.equal(dec.from?.split('/')[0], c.account.jid);
      await ra.leave();
    });

    test('moderation: voice, membership, kick, ban', async () => {
      const jid = fresh(service, 'mod');
      const ra = await a.client.muc.join(jid, { nick: 'Alice' });
      const rb = await b.client.muc.join(jid, { nick: 'Bob' });
      const rc = await c.client.muc.join(jid, { nick: 'Carol' });

      const muted = roomEvent(rb, 'role', (e) => e.occupant.self && e.occupant.role === 'visitor');
      await ra.setRole('Bob', 'visitor', 'hush');
      await muted;
      await assert.rejects(rb.send('can I speak?'), (e: ConfabError) => e.code === 'ERR_STANZA');
      const voiced = roomEvent(rb, 'role', (e) => e.occupant.self && e.occupant.role === 'participant');
      await ra.setRole('Bob', 'participant');
      await voiced;
      await rb.send('thanks');

      const member = roomEvent(
        ra,
        'affiliation',
        (e) => e.occupant?.nick === 'Bob' && e.affiliation === 'member',
      );
      await ra.setAffiliation(b.account.jid, 'member');
      await member;
      const members = await ra.affiliations('member');
      assert.ok(members.some((m) => m.jid === b.account.jid));

      const kicked = roomEvent(rb, 'exit');
      const seen = roomEvent(ra, 'leave', (e) => e.occupant.nick === 'Bob');
      await ra.kick('Bob', 'Out!');
      const k = await kicked;
      assert.equal(k.reason, 'kicked');
      assert.equal(k.text, 'Out!');
      assert.equal((await seen).reason, 'kicked');

      const banned = roomEvent(rc, 'exit');
      await ra.ban(c.account.jid, 'Never again');
      const bn = await banned;
      assert.equal(bn.reason, 'banned');
      await assert.rejects(c.client.muc.join(jid, { nick: 'Carol' }), (e: ConfabError) => {
        assert.equal(e.condition, 'forbidden');
        assert.match(e.message, /banned/);
        return true;
      });
      await ra.leave();
    });

    test('occupant-id where the room offers it (XEP-0421)', async (t) => {
      const jid = fresh(service, 'oid');
      const ra = await a.client.muc.join(jid, { nick: 'Alice' });
      const offers = ra.info?.occupantId ?? (await a.client.muc.info(jid))?.occupantId ?? false;
      const rb = await b.client.muc.join(jid, { nick: 'Bob' });
      if (offers) {
        assert.ok(rb.occupants.get('Alice')?.occupantId, 'an occupant id from the room');
      } else {
        t.diagnostic(`${label}'s conference service does not announce urn:xmpp:occupant-id:0`);
        assert.equal(rb.occupants.get('Alice')?.occupantId, undefined);
      }
      await rb.leave();
      await ra.leave();
    });

    test('the connection is cut without resumption: exit, rejoin, self-ping', async () => {
      const jid = fresh(service, 'rejoin');
      const proxy = await TcpProxy.start(srv.host, srv.ports.c2s);
      const d = await login(srv, await freshAccount(srv), {
        port: proxy.port,
        streamManagement: false,
        reconnect: { initialDelay: 20, maxDelay: 200 },
      });
      try {
        const ra = await a.client.muc.join(jid, { nick: 'Alice' });
        const rd = await d.client.muc.join(jid, { nick: 'Dave' });
        assert.equal(await rd.selfPing(), true, 'self-ping: in');
        const exit = roomEvent(rd, 'exit');
        const rejoined = roomEvent(rd, 'joined', (e) => e.rejoined);
        proxy.cutAll();
        const e = await exit;
        assert.equal(e.reason, 'disconnected');
        assert.equal(e.rejoin, true);
        await rejoined;
        assert.equal(rd.state, 'joined');
        assert.equal(rd.nick, 'Dave');
        assert.equal(d.client.muc.get(jid), rd);
        await d.client.muc.checkRooms();
        assert.equal(rd.state, 'joined', 'self-ping after the rejoin: still in');
        // Messages flow again.
        const got = roomEvent(rd, 'message', (m) => m.body === 'welcome back');
        await ra.send('welcome back');
        await got;
        await rd.leave();
        await ra.leave();
      } finally {
        await d.client.disconnect();
        await proxy.close();
      }
    });
  });
}

describe('MUC on the minimal Prosody', () => {
  test('no conference service: services() is [] and a join fails with a clear error', async (t) => {
    const srv = prosodyMinimal();
    const s = await login(srv, await freshAccount(srv));
    try {
      assert.deepEqual(await s.client.muc.services(), []);
      await assert.rejects(
        s.client.muc.join('room@conference.localhost', { nick: 'x', timeout: 5_000 }),
        (e: ConfabError) => {
          t.diagnostic(`${e.code} ${e.condition ?? ''}: ${e.message}`);
          assert.equal(e.code, 'ERR_STANZA');
          assert.match(e.message, /no chat service at conference\.localhost/);
          return true;
        },
      );
      assert.deepEqual(s.client.muc.joined(), []);
    } finally {
      await s.client.disconnect();
    }
  });
});
