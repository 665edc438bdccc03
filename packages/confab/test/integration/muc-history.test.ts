// Room history from the room's archive (MUC MAM: XEP-0313 6 with the room as the archive) against
// the real test-bed servers, through `client.mam.roomHistory` and the Room's de-duplication:
// - B joins asking no join history, then fetches the room's archive: every message A sent, in
//   order, credited to A's nick, `source: 'archive'`;
// - what a room already showed (A's own reflections, B's earlier fetch, a live message) is never
//   shown again: a second fetch gives no new messages, only `fetched` counts;
// - paging: `last` bounds the fetch, `before` the oldest id continues backward;
// - the minimal Prosody has no MUC at all (nothing to test there).
// Run: npm test -- --no-checks packages/confab/test/integration/muc-history.test.ts

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Account,
  caOf,
  ejabberd,
  freshAccount,
  prosody,
  type ServerInfo,
} from '../../../../testbed/harness.ts';
import type { Client } from '../../src/client.ts';
import type { GroupMessage } from '../../src/features/muc/types.ts';
import { createClient } from '../../src/index.ts';

async function login(server: ServerInfo, account: Account): Promise<Client> {
  const client = createClient({
    jid: account.jid,
    password: account.password,
    host: server.host,
    port: server.ports.c2s,
    tls: { ca: caOf(server) },
    reconnect: false,
  });
  client.bookmarks.autojoin = false;
  await client.connect();
  return client;
}

for (const server of [
  { name: 'Prosody', info: prosody },
  { name: 'ejabberd', info: ejabberd },
]) {
  describe(`room history from MUC MAM on ${server.name}`, () => {
    test('archive fetch after joining without history; duplicates of what the room showed are dropped', async () => {
      const s = server.info();
      const [a, b] = await Promise.all([freshAccount(s, 'mha'), freshAccount(s, 'mhb')]);
      const ca = await login(s, a);
      const cb = await login(s, b);
      const roomJid = `hist${Date.now()}@${s.muc}`;
      try {
        const ra = await ca.muc.join(roomJid, { nick: 'Alice' });
        assert.ok(ra.info === undefined || ra.info.archive !== false, 'the room keeps an archive');
        const bodies = ['one', 'two', 'three', 'four', 'five'];
        for (const body of bodies) await ra.send(body);

        const rb = await cb.muc.join(roomJid, { nick: 'Bob', history: false });
        const live: GroupMessage[] = [];
        rb.on('message', (m) => live.push(m));

        const h = await cb.mam.roomHistory(rb, { last: 10 });
        assert.deepEqual(
          h.messages.map((m) => [m.nick, m.body, m.source]),
          bodies.map((x) => ['Alice', x, 'archive']),
        );
        assert.ok(h.messages.every((m) => m.stanzaId !== undefined && m.history));
        assert.equal(h.fetched, 5);
        assert.equal(live.length, 5, 'each archived message emitted once as a room message');

        // Fetched again: nothing new.
        const again = await cb.mam.roomHistory(rb, { last: 10 });
        assert.equal(again.fetched, 5);
        assert.deepEqual(again.messages, []);

        // A saw its own messages reflected live: the archive copies are the same messages.
        const own = await ca.mam.roomHistory(ra, { last: 10 });
        assert.equal(own.fetched, 5);
        assert.deepEqual(own.messages, [], 'the reflections and the archive copies share the stanza-id');

        // A live message, then the archive: it is not shown twice.
        const seen = new Promise<GroupMessage>((resolve) =>
          rb.on('message', (m) => {
            if (m.body === 'six' && m.source === 'live') resolve(m);
          }),
        );
        await ra.send('six');
        await seen;
        const after = await cb.mam.roomHistory(rb, { last: 3 });
        assert.equal(after.fetched, 3);
        assert.deepEqual(after.messages, []);

        // Paging: a fresh client, the newest 2, then backward from the oldest of them.
        const cc = await login(s, await freshAccount(s, 'mhc'));
        try {
          const rc = await cc.muc.join(roomJid, { nick: 'Carol', history: false });
          const newest = await cc.mam.roomHistory(rc, { last: 2 });
          assert.deepEqual(
            newest.messages.map((m) => m.body),
            ['five', 'six'],
          );
          const older = await cc.mam.roomHistory(rc, { last: 2, before: newest.first });
          assert.deepEqual(
            older.messages.map((m) => m.body),
            ['three', 'four'],
          );
        } finally {
          await cc.disconnect();
        }
      } finally {
        await Promise.all([cb.disconnect(), ca.disconnect()]);
      }
    });
  });
}
