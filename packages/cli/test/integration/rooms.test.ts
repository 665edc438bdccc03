// End-to-end tests of the group chat commands (issue 7, "Group chat"): the real bin against the
// shared Prosody and ejabberd (testbed/harness.ts), each test on fresh accounts and rooms:
// create (with fields, persistent; exists already: exit 1; unknown field: exit 2), rooms (listed
// with the name), join (JSON room events, nonexistent room created as an instant room, history),
// say (reflected; --to privately; nick fallback on conflict; no such room: exit 1), invite (direct,
// and --mediated through the room, received by a library client), and terminal safety of the
// plain output.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  type Account,
  caOf,
  ejabberd,
  freshAccount,
  prosody,
  type ServerInfo,
} from '../../../../testbed/harness.ts';
import type { Client } from '../../../confab/src/client.ts';
import type { MucInvite } from '../../../confab/src/features/muc/types.ts';
import { createClient } from '../../../confab/src/index.ts';
import { build, confab, jsonLines, startAs } from './helpers.ts';

before(build);

async function libraryClient(s: ServerInfo, a: Account): Promise<Client> {
  const c = createClient({
    jid: a.jid,
    password: a.password,
    host: s.host,
    port: s.ports.c2s,
    tls: { ca: caOf(s) },
    reconnect: false,
  });
  c.bookmarks.autojoin = false;
  await c.connect();
  return c;
}

const roomEvents = (stdout: string) => jsonLines(stdout).filter((l) => l.event === 'room');

for (const server of [
  { name: 'Prosody', info: prosody },
  { name: 'ejabberd', info: ejabberd },
]) {
  describe(`confab group chat on ${server.name}`, () => {
    it('create (fields, persistent), exists already exits 1, unknown field exits 2; rooms lists it', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'rca');
      const room = `kitchen${Date.now()}@${s.muc}`;
      const made = await confab(s, a, [
        'create',
        room,
        '--field',
        'roomname=The Kitchen',
        '--field',
        'muc#roomconfig_roomdesc=Where we eat',
        '--field',
        'publicroom=1',
        '--json',
      ]);
      assert.equal(made.code, 0, made.stderr);
      const [result] = jsonLines(made.stdout);
      assert.equal(result?.command, 'create');
      const fields = result?.fields as Record<string, unknown>;
      assert.equal(fields['muc#roomconfig_roomname'], 'The Kitchen');
      assert.equal(fields['muc#roomconfig_persistentroom'], true);

      const again = await confab(s, a, ['create', room]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /exists already/);

      const other = `nofield${Date.now()}@${s.muc}`;
      const bad = await confab(s, a, ['create', other, '--field', 'nosuchfield=1']);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /no field 'nosuchfield'/);

      const listed = await confab(s, a, ['rooms', '--json']);
      assert.equal(listed.code, 0, listed.stderr);
      const mine = jsonLines(listed.stdout).find((l) => l.jid === room);
      assert.ok(mine, `${room} is listed`);
      assert.equal(mine.event, 'room');
      assert.equal(mine.name, 'The Kitchen');
      assert.equal(mine.persistent, true);
      assert.equal(
        jsonLines(listed.stdout).some((l) => l.jid === other),
        false,
        'the refused create left no room',
      );
      const plain = await confab(s, a, ['rooms', s.muc as string]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(plain.stdout, new RegExp(`^${room.replace(/\./g, '\\.')} \\(The Kitchen\\)`, 'm'));
    });

    it('join prints events; say is reflected, --to is private, a taken nick falls back; history; sanitized', async () => {
      const s = server.info();
      const [a, b, d] = await Promise.all([
        freshAccount(s, 'rja'),
        freshAccount(s, 'rjb'),
        freshAccount(s, 'rjd'),
      ]);
      const room = `lounge${Date.now()}@${s.muc}`;
      // A nonexistent room: join creates it (instant room).
      const watcher = startAs(s, b, ['join', room, '--nick', 'Watcher', '--json', '--for', '30']);
      await watcher.waitStdout(/"type":"joined"/);

      const said = await confab(s, a, ['say', room, 'hello', 'all', '--nick', 'Alice', '--json']);
      assert.equal(said.code, 0, said.stderr);
      const [r] = jsonLines(said.stdout);
      assert.equal(r?.command, 'say');
      assert.equal(r?.nick, 'Alice');
      assert.equal(typeof r?.id, 'string');
      await watcher.waitStdout(/"body":"hello all"/);

      const priv = await confab(s, a, ['say', room, '--nick', 'Alice', '--to', 'Watcher', 'psst']);
      assert.equal(priv.code, 0, priv.stderr);
      await watcher.waitStdout(/"type":"private"[^\n]*"body":"psst"/);

      // Watcher's nick is taken: the next one is used.
      const fallback = await confab(s, a, [
        'say',
        room,
        'me too',
        '--nick',
        'Watcher',
        '--nick',
        'Alice2',
        '--json',
      ]);
      assert.equal(fallback.code, 0, fallback.stderr);
      assert.equal(jsonLines(fallback.stdout)[0]?.nick, 'Alice2');

      // Terminal injection in a body: plain output of a later join with history is clean.
      const evil = await confab(s, a, ['say', room, '--nick', 'Alice', 'x\u009b2Jy\u202ez\u200f']);
      assert.equal(evil.code, 0, evil.stderr);
      await watcher.waitStdout(/"body":"x/);
      const history = await confab(s, d, ['join', room, '--history', '10', '--for', '2']);
      assert.equal(history.code, 0, history.stderr);
      assert.match(history.stdout, /<Alice> hello all/);
      assert.match(history.stdout, /<Alice> xyz$/m);
      assert.doesNotMatch(history.stdout, /[\u009b\u202e\u200f]/);
      assert.match(history.stdout, /\* Watcher/);

      // No such room: say does not create one.
      const none = await confab(s, a, ['say', `nosuch${Date.now()}@${s.muc}`, 'hi']);
      assert.equal(none.code, 1);

      watcher.child.kill('SIGINT');
      const done = await watcher.done;
      assert.equal(done.code, 0, done.stderr);
      const events = roomEvents(done.stdout);
      assert.ok(
        events.some((e) => e.type === 'join' && e.nick === 'Alice'),
        'the join of Alice',
      );
      assert.ok(
        events.some((e) => e.type === 'leave' && e.nick === 'Alice'),
        'and her leave',
      );
      const msg = events.find((e) => e.type === 'message' && e.body === 'hello all');
      assert.equal(msg?.nick, 'Alice');
      assert.equal(msg?.from, `${room}/Alice`);
    });

    it('invite: direct without joining, and --mediated through the room', async () => {
      const s = server.info();
      const [a, c] = await Promise.all([freshAccount(s, 'ria'), freshAccount(s, 'ric')]);
      const room = `party${Date.now()}@${s.muc}`;
      const made = await confab(s, a, ['create', room]);
      assert.equal(made.code, 0, made.stderr);
      const invitee = await libraryClient(s, c);
      try {
        const invites: MucInvite[] = [];
        const got = (kind: string) =>
          new Promise<MucInvite>((resolve) => {
            const check = () => {
              const i = invites.find((x) => x.kind === kind);
              if (i) resolve(i);
            };
            invitee.muc.on('invite', (i) => {
              invites.push(i);
              check();
            });
            check();
          });
        const direct = got('direct');
        const d = await confab(s, a, ['invite', room, c.jid, '--reason', 'Come', '--json']);
        assert.equal(d.code, 0, d.stderr);
        assert.equal(jsonLines(d.stdout)[0]?.kind, 'direct');
        const di = await direct;
        assert.equal(di.room, room);
        assert.equal(di.reason, 'Come');

        const mediated = got('mediated');
        const m = await confab(s, a, ['invite', room, c.jid, '--mediated', '--reason', 'Now']);
        assert.equal(m.code, 0, m.stderr);
        const mi = await mediated;
        assert.equal(mi.room, room);
        assert.equal(mi.reason, 'Now');
      } finally {
        await invitee.disconnect();
      }
    });

    it('invite --room-password: the direct invitation carries it, and it lets the invitee in', async () => {
      const s = server.info();
      const [a, c] = await Promise.all([freshAccount(s, 'rpa'), freshAccount(s, 'rpc')]);
      const room = `cellar${Date.now()}@${s.muc}`;
      // Prosody protects a room that has a secret; ejabberd has a switch for it too.
      const secret = ['--field', 'roomsecret=nurse'];
      if (server.name === 'ejabberd') secret.push('--field', 'passwordprotectedroom=1');
      const made = await confab(s, a, ['create', room, ...secret]);
      assert.equal(made.code, 0, made.stderr);
      const invitee = await libraryClient(s, c);
      try {
        const invited = new Promise<MucInvite>((resolve) => invitee.muc.once('invite', resolve));
        const d = await confab(s, a, ['invite', room, c.jid, '--room-password', 'nurse', '--json']);
        assert.equal(d.code, 0, d.stderr);
        assert.equal(jsonLines(d.stdout)[0]?.password, undefined, 'not echoed');
        const i = await invited;
        assert.equal(i.kind, 'direct');
        assert.equal(i.room, room);
        assert.equal(i.password, 'nurse');
        // Without it the room refuses; with the invitation's it lets the invitee in.
        await assert.rejects(invitee.muc.join(room, { nick: 'Romeo', create: 'never' }), {
          condition: 'not-authorized',
        });
        const r = await invitee.muc.join(room, { nick: 'Romeo', password: i.password, create: 'never' });
        assert.equal(r.state, 'joined');
        await r.leave();

        // --mediated: the password gets the inviter in; the invitation comes through the room.
        const mediated = new Promise<MucInvite>((resolve) => invitee.muc.once('invite', resolve));
        const m = await confab(s, a, ['invite', room, c.jid, '--mediated', '--room-password', 'nurse']);
        assert.equal(m.code, 0, m.stderr);
        const mi = await mediated;
        assert.equal(mi.kind, 'mediated');
        assert.equal(mi.room, room);
      } finally {
        await invitee.disconnect();
      }
    });
  });
}
