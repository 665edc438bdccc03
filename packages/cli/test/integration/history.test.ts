// End-to-end tests of the local history (issue 7 "Storage", `confab history`): the real bin
// against the shared Prosody and ejabberd. What `send` and `listen` record shows up in
// `history`; `history --sync` fetches from the server's archive (XEP-0313) what was sent while
// no confab ran, and a second sync (or the offline copies arriving later) adds no duplicates;
// --search finds words. The data dir is the helpers' temp HOME (~/.local/share/confab); the
// minimal Prosody (no archive) gets a note and the local history.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  type Account,
  caOf,
  ejabberd,
  freshAccount,
  prosody,
  prosodyMinimal,
  type ServerInfo,
} from '../../../../testbed/harness.ts';
import { type Client, createClient } from '../../../confab/src/index.ts';
import { openDatabase } from '../../src/store/db.ts';
import { databasePath } from '../../src/store/paths.ts';
import { SqliteStore } from '../../src/store/store.ts';
import { build, confab, HOME, jsonLines, startAs } from './helpers.ts';

before(build);

/** Another client of `a` (not confab): sends while confab is not running, takes no offline messages. */
function otherClient(s: ServerInfo, a: Account): Client {
  return createClient({
    jid: a.jid,
    password: a.password,
    host: s.host,
    port: s.ports.c2s,
    tls: { ca: caOf(s) },
    reconnect: false,
    initialPresence: false,
    presence: { autoAway: false },
  });
}

async function history(s: ServerInfo, a: Account, args: string[]): Promise<Record<string, unknown>[]> {
  const r = await confab(s, a, ['history', ...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return jsonLines(r.stdout);
}

for (const server of [
  { name: 'Prosody', info: prosody },
  { name: 'ejabberd', info: ejabberd },
]) {
  describe(`confab history on ${server.name}`, () => {
    it('records what send sends and listen receives; --search finds words', async () => {
      const s = server.info();
      const [a, b] = await Promise.all([freshAccount(s, 'hista'), freshAccount(s, 'histb')]);

      const sent = await confab(s, a, ['send', b.jid, 'Meet me on the balcony tonight', '--json']);
      assert.equal(sent.code, 0, sent.stderr);
      const id = jsonLines(sent.stdout)[0]?.id;

      // Plain: `[time] from: body`, oldest first.
      const plain = await confab(s, a, ['history', b.jid]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(
        plain.stdout,
        /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] hista[^:]*: Meet me on the balcony tonight\n$/,
      );
      const [mine] = await history(s, a, [b.jid]);
      assert.equal(mine?.event, 'message');
      assert.equal(mine?.id, id);
      assert.equal(mine?.direction, 'out');
      assert.equal(mine?.via, 'live');
      assert.equal(mine?.to, b.jid);
      assert.ok(!Number.isNaN(Date.parse(String(mine?.timestamp))));

      // B's listen gets it from offline storage, then a live one; both land in B's history.
      const listen = startAs(s, b, ['listen', '--count', '2', '--timeout', '30']);
      await listen.waitStdout(/balcony tonight/);
      const live = await confab(s, a, ['send', b.jid, 'Wherefore art thou, Romeo?']);
      assert.equal(live.code, 0, live.stderr);
      const done = await listen.done;
      assert.equal(done.code, 0, done.stderr);
      const got = await history(s, b, [a.jid]);
      assert.deepEqual(
        got.map((m) => [m.direction, m.body, m.via]),
        [
          ['in', 'Meet me on the balcony tonight', 'offline'],
          ['in', 'Wherefore art thou, Romeo?', 'live'],
        ],
      );
      assert.ok(typeof got[0]?.delay === 'string', 'the offline copy keeps its delay');
      assert.equal(got[0]?.timestamp, got[0]?.delay);

      // --search: words in any order, nothing else; hostile text is just text.
      assert.deepEqual(
        (await history(s, b, [a.jid, '--search', 'tonight BALCONY'])).map((m) => m.body),
        ['Meet me on the balcony tonight'],
      );
      assert.deepEqual(
        (await history(s, b, [a.jid, '--search', 'Rom*'])).map((m) => m.body),
        ['Wherefore art thou, Romeo?'],
      );
      assert.deepEqual(await history(s, b, [a.jid, '--search', 'nightingale']), []);
      for (const hostile of ['"', 'AND OR NOT', 'body:balcony', 'NEAR(x', '*']) {
        const r = await confab(s, b, ['history', a.jid, '--search', hostile]);
        assert.equal(r.code, 0, `${hostile}: ${r.stderr}`);
      }
      // --limit N: the newest N.
      assert.deepEqual(
        (await history(s, b, [a.jid, '--limit', '1'])).map((m) => m.body),
        ['Wherefore art thou, Romeo?'],
      );

      // Two confab processes of one account at once: B's listen keeps its session (the send
      // beside it does not take over its stream-management state) and prints the carbon of
      // B's own message; both record it, the history has it once.
      const listen2 = startAs(s, b, ['listen', '--count', '2', '--timeout', '30']);
      const ping = async () => {
        const r = await confab(s, a, ['send', b.jid, 'Are you there?']);
        assert.equal(r.code, 0, r.stderr);
      };
      await ping();
      await listen2.waitStdout(/Are you there\?/);
      const reply = await confab(s, b, ['send', a.jid, 'Here, on the balcony']);
      assert.equal(reply.code, 0, reply.stderr);
      await listen2.waitStdout(/Here, on the balcony/);
      // --count counts messages to us, not our own sent carbons: a second one from A ends it.
      const again = await confab(s, a, ['send', b.jid, 'Good night']);
      assert.equal(again.code, 0, again.stderr);
      const done2 = await listen2.done;
      assert.equal(done2.code, 0, done2.stderr);
      assert.match(done2.stdout, /^histb\S* -> hista\S*: Here, on the balcony$/m);
      assert.equal(done2.stderr, '');
      assert.deepEqual(
        (await history(s, b, [a.jid, '--search', 'balcony'])).map((m) => [m.direction, m.body]),
        [
          ['in', 'Meet me on the balcony tonight'],
          ['out', 'Here, on the balcony'],
        ],
      );

      // The database is private.
      const file = join(HOME, '.local', 'share', 'confab', 'confab.db');
      assert.ok(existsSync(file));
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(join(HOME, '.local', 'share', 'confab')).mode & 0o777, 0o700);
    });

    it('--sync brings what was sent while no confab ran, once however often it runs', async () => {
      const s = server.info();
      const [c, d] = await Promise.all([freshAccount(s, 'histc'), freshAccount(s, 'histd')]);
      // D has used confab before (so its later sync starts from a known state).
      const hello = await confab(s, d, ['send', c.jid, 'Good morrow']);
      assert.equal(hello.code, 0, hello.stderr);

      // While no confab runs: C writes three times; D answers from another client.
      const cc = otherClient(s, c);
      await cc.connect();
      for (const body of ['One', 'Two words', 'Three little words']) {
        const m = await cc.messages.send({ to: d.jid, body });
        await m.confirmed;
      }
      await cc.disconnect();
      const dd = otherClient(s, d);
      await dd.connect();
      await (await dd.messages.send({ to: c.jid, body: 'From my other client' })).confirmed;
      await dd.disconnect();

      assert.deepEqual(
        (await history(s, d, [c.jid])).map((m) => m.body),
        ['Good morrow'],
      );
      const first = await confab(s, d, ['history', c.jid, '--sync', '--json']);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /4 new messages from the archive/);
      const expected = [
        ['out', 'Good morrow'],
        ['in', 'One'],
        ['in', 'Two words'],
        ['in', 'Three little words'],
        ['out', 'From my other client'],
      ];
      assert.deepEqual(
        jsonLines(first.stdout).map((m) => [m.direction, m.body]),
        expected,
      );
      assert.ok(
        jsonLines(first.stdout)
          .slice(1)
          .every((m) => m.via === 'mam' && typeof m.stanzaId === 'string'),
      );

      const second = await confab(s, d, ['history', c.jid, '--sync', '--json']);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, /0 new messages/);
      assert.deepEqual(
        jsonLines(second.stdout).map((m) => [m.direction, m.body]),
        expected,
      );

      // The library's session state lives in the same database: here the archive position.
      const db = openDatabase(databasePath(join(HOME, '.local', 'share', 'confab')));
      try {
        const position = (await new SqliteStore(db, d.jid).get('mam', 'own')) as { id?: unknown } | undefined;
        assert.equal(typeof position?.id, 'string');
      } finally {
        db.close();
      }

      // The offline copies of C's messages arrive now: the same messages, not new ones.
      const listen = await confab(s, d, ['listen', '--count', '3', '--timeout', '30']);
      assert.equal(listen.code, 0, listen.stderr);
      assert.match(listen.stdout, /Three little words/);
      assert.deepEqual(
        (await history(s, d, [c.jid])).map((m) => [m.direction, m.body]),
        expected,
      );
      assert.deepEqual(
        (await history(s, d, [c.jid, '--search', 'words'])).map((m) => m.body),
        ['Two words', 'Three little words'],
      );
    });

    it('records what say says and what join hears in a room, live, once', async () => {
      const s = server.info();
      const [g, h] = await Promise.all([freshAccount(s, 'histg'), freshAccount(s, 'histh')]);
      const room = `live${Date.now()}@${s.muc}`;
      const gg = otherClient(s, g);
      gg.bookmarks.autojoin = false;
      await gg.connect();
      try {
        const r = await gg.muc.join(room, { nick: 'Horatio' });
        // H says something (join, send, wait for the reflection, leave): recorded as ours.
        const said = await confab(s, h, ['say', room, 'Who is there?']);
        assert.equal(said.code, 0, said.stderr);
        // H listens in the room while G answers: recorded as theirs.
        const listening = startAs(s, h, ['join', room, '--for', '20']);
        await listening.waitStdout(/joined/);
        await r.send('Nay, answer me');
        await listening.waitStdout(/Nay, answer me/);
        listening.child.kill('SIGINT');
        await listening.done;
        const got = jsonLines((await confab(s, h, ['history', room, '--json'])).stdout);
        assert.deepEqual(
          got.map((m) => [m.body, m.direction, m.via]),
          [
            ['Who is there?', 'out', 'live'],
            ['Nay, answer me', 'in', 'live'],
          ],
        );
        assert.ok(got.every((m) => m.stanzaIdBy === room || m.stanzaIdBy === undefined));
      } finally {
        await gg.disconnect();
      }
    });

    it("--sync of a room reads the room's own archive (MUC MAM) without joining, once", async () => {
      const s = server.info();
      const [e, f] = await Promise.all([freshAccount(s, 'histe'), freshAccount(s, 'histf')]);
      const room = `archived${Date.now()}@${s.muc}`;
      // E (a library client) creates the room and says two things; it stays in, so the room
      // (not persistent) lives on while F syncs.
      const ee = otherClient(s, e);
      ee.bookmarks.autojoin = false;
      await ee.connect();
      try {
        const r = await ee.muc.join(room, { nick: 'Elsinore' });
        await r.send('To be, or not to be');
        await r.send('that is the question');
        const first = await confab(s, f, ['history', room, '--sync', '--json']);
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stderr, /2 new messages from the archive/);
        const got = jsonLines(first.stdout);
        assert.deepEqual(
          got.map((m) => [m.type, m.from, m.body, m.via, m.direction]),
          [
            ['groupchat', `${room}/Elsinore`, 'To be, or not to be', 'mam', 'in'],
            ['groupchat', `${room}/Elsinore`, 'that is the question', 'mam', 'in'],
          ],
        );
        assert.ok(got.every((m) => typeof m.stanzaId === 'string' && m.stanzaIdBy === room));
        // F never joined: the room has one occupant.
        assert.deepEqual([...r.occupants.keys()], ['Elsinore']);

        const second = await confab(s, f, ['history', room, '--sync', '--json']);
        assert.equal(second.code, 0, second.stderr);
        assert.match(second.stderr, /0 new messages/);
        assert.deepEqual(
          jsonLines(second.stdout).map((m) => m.body),
          ['To be, or not to be', 'that is the question'],
        );
      } finally {
        await ee.disconnect();
      }
    });
  });
}

describe('confab history on Prosody minimal (no archive)', () => {
  it('--sync says the server keeps no archive and shows the local history', async () => {
    const s = prosodyMinimal();
    const [a, b] = await Promise.all([freshAccount(s, 'histm'), freshAccount(s, 'histn')]);
    const sent = await confab(s, a, ['send', b.jid, 'No archive here']);
    assert.equal(sent.code, 0, sent.stderr);
    const r = await confab(s, a, ['history', b.jid, '--sync']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /keeps no message archive/);
    assert.match(r.stdout, /: No archive here\n$/);
  });
});
