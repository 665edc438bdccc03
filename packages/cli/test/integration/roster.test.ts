// End-to-end tests of the roster, subscription and presence commands (issue 7): the real bin
// against the shared Prosody and ejabberd (testbed/harness.ts), each test on fresh accounts.
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
import { createClient } from '../../../confab/src/index.ts';
import { build, confab, jsonLines, startAs } from './helpers.ts';

before(build);

/** The `roster` objects of `confab roster --json`, by JID. */
async function rosterOf(s: ServerInfo, a: Account): Promise<Map<string, Record<string, unknown>>> {
  const r = await confab(s, a, ['roster', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  for (const l of lines) assert.equal(l.event, 'roster');
  return new Map(lines.map((l) => [l.jid as string, l]));
}

for (const server of [
  { name: 'Prosody', info: prosody },
  { name: 'ejabberd', info: ejabberd },
]) {
  describe(`confab roster and subscriptions on ${server.name}`, () => {
    it('roster add (name, groups, subscribe), approve, presence seen in roster, set, unsubscribe, remove', async () => {
      const s = server.info();
      const [a, b] = await Promise.all([freshAccount(s, 'rosa'), freshAccount(s, 'rosb')]);

      // An empty roster prints nothing and exits 0.
      const empty = await confab(s, a, ['roster']);
      assert.equal(empty.code, 0, empty.stderr);
      assert.equal(empty.stdout, '');

      const add = await confab(s, a, [
        'roster',
        'add',
        b.jid,
        '--name',
        'Bee',
        '--group',
        'G1',
        '--group',
        'G2',
        '--json',
      ]);
      assert.equal(add.code, 0, add.stderr);
      assert.deepEqual(jsonLines(add.stdout), [
        { event: 'result', command: 'roster add', jid: b.jid, subscribed: true },
      ]);

      let item = (await rosterOf(s, a)).get(b.jid);
      assert.ok(item, 'B is in A roster');
      assert.equal(item.name, 'Bee');
      assert.deepEqual([...(item.groups as string[])].sort(), ['G1', 'G2']);
      assert.equal(item.subscription, 'none');
      assert.equal(item.ask, 'subscribe');
      assert.equal(item.available, undefined, 'no presence field without a subscription to it');

      // B approves: A now sees B's presence (offline so far).
      const ok = await confab(s, b, ['approve', a.jid]);
      assert.equal(ok.code, 0, ok.stderr);
      item = (await rosterOf(s, a)).get(b.jid);
      assert.equal(item?.subscription, 'to');
      assert.equal(item?.ask, undefined);
      assert.equal(item?.available, false);

      // B holds "away" while A lists the roster: A sees it, in JSON and in the plain line.
      const held = startAs(s, b, ['presence', 'away', '--status', 'At lunch', '--json']);
      await held.waitStdout(/"command":"presence"/);
      item = (await rosterOf(s, a)).get(b.jid);
      assert.equal(item?.available, true);
      assert.equal(item?.show, 'away');
      assert.equal(item?.status, 'At lunch');
      const plain = await confab(s, a, ['roster']);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(
        plain.stdout,
        new RegExp(`^${b.jid} \\(Bee\\) \\[G[12], G[12]\\] to; away "At lunch"$`, 'm'),
      );
      held.child.kill('SIGINT');
      const heldDone = await held.done;
      assert.equal(heldDone.code, 0, heldDone.stderr);

      // set: the groups given replace the old ones; the name stays.
      const set = await confab(s, a, ['roster', 'set', b.jid, '--group', 'G3']);
      assert.equal(set.code, 0, set.stderr);
      item = (await rosterOf(s, a)).get(b.jid);
      assert.deepEqual(item?.groups, ['G3']);
      assert.equal(item?.name, 'Bee');

      const unsub = await confab(s, a, ['unsubscribe', b.jid]);
      assert.equal(unsub.code, 0, unsub.stderr);
      item = (await rosterOf(s, a)).get(b.jid);
      assert.equal(item?.subscription, 'none');

      const rm = await confab(s, a, ['roster', 'remove', b.jid, '--json']);
      assert.equal(rm.code, 0, rm.stderr);
      assert.equal((await rosterOf(s, a)).has(b.jid), false);
      // Removing what is not there: exit 1 on every server (ejabberd would answer success).
      const again = await confab(s, a, ['roster', 'remove', b.jid]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /is not in the roster/);
    });

    it('roster set of a contact not in the roster exits 1; usage errors exit 2 before connecting', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'rosc');
      const r = await confab(s, a, ['roster', 'set', `nobody@${s.domain}`, '--name', 'X']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /is not in the roster/);
      const bad = await confab(s, a, ['roster', 'add', 'a@@b']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /is not a JID/);
      const nothing = await confab(s, a, ['roster', 'set', `b@${s.domain}`]);
      assert.equal(nothing.code, 2);
      assert.match(nothing.stderr, /nothing to change/);
      const show = await confab(s, a, ['presence', 'sleepy']);
      assert.equal(show.code, 2);
    });

    it('roster add --no-subscribe sends no request; subscribe and deny exit 0 once the server has them', async () => {
      const s = server.info();
      const [a, b] = await Promise.all([freshAccount(s, 'rosd'), freshAccount(s, 'rose')]);
      const add = await confab(s, a, ['roster', 'add', b.jid, '--no-subscribe']);
      assert.equal(add.code, 0, add.stderr);
      let item = (await rosterOf(s, a)).get(b.jid);
      assert.equal(item?.subscription, 'none');
      assert.equal(item?.ask, undefined);
      const sub = await confab(s, a, ['subscribe', b.jid, '--status', 'hello']);
      assert.equal(sub.code, 0, sub.stderr);
      item = (await rosterOf(s, a)).get(b.jid);
      assert.equal(item?.ask, 'subscribe');
      // B refuses: A's request is gone.
      const deny = await confab(s, b, ['deny', a.jid]);
      assert.equal(deny.code, 0, deny.stderr);
      item = (await rosterOf(s, a)).get(b.jid);
      assert.equal(item?.ask, undefined);
      assert.equal(item?.subscription, 'none');
    });

    it('roster send suggests contacts with their roster names and groups (XEP-0144)', async () => {
      const s = server.info();
      const [a, b, c] = await Promise.all([
        freshAccount(s, 'rosf'),
        freshAccount(s, 'rosg'),
        freshAccount(s, 'rosh'),
      ]);
      const add = await confab(s, a, [
        'roster',
        'add',
        c.jid,
        '--name',
        'Sea',
        '--group',
        'Friends',
        '--no-subscribe',
      ]);
      assert.equal(add.code, 0, add.stderr);
      // B listens with the library itself, so what arrives is checked field by field.
      const rx = createClient({
        jid: b.jid,
        password: b.password,
        host: s.host,
        port: s.ports.c2s,
        tls: { ca: caOf(s) },
        reconnect: false,
      });
      const got = new Promise<{
        from: string;
        items: { jid: string; name?: string; groups?: readonly string[]; action?: string }[];
      }>((resolve) => rx.messages.on('rosterExchange', (e) => resolve(e as never)));
      await rx.connect();
      try {
        await rx.presence.set({}); // available, so messages to the bare JID reach it
        const r = await confab(s, a, ['roster', 'send', b.jid, c.jid, `other@${s.domain}`, '--json']);
        assert.equal(r.code, 0, r.stderr);
        const [res] = jsonLines(r.stdout);
        assert.equal(res?.command, 'roster send');
        assert.equal(typeof res?.id, 'string');
        const e = await got;
        assert.equal(e.from.split('/')[0], a.jid);
        const byJid = new Map(e.items.map((i) => [i.jid, i]));
        assert.equal(byJid.get(c.jid)?.name, 'Sea');
        assert.deepEqual(byJid.get(c.jid)?.groups, ['Friends']);
        assert.ok(byJid.has(`other@${s.domain}`));
      } finally {
        await rx.disconnect();
      }
    });

    it('presence holds for --for SECONDS and exits 0; invisible exits 1 saying the server lacks XEP-0186', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'rosi');
      const t0 = Date.now();
      const r = await confab(s, a, ['presence', 'dnd', '--priority', '-1', '--for', '1']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(Date.now() - t0 >= 1000);
      const inv = await confab(s, a, ['presence', 'invisible']);
      assert.equal(inv.code, 1);
      assert.match(inv.stderr, /does not offer invisibility \(XEP-0186/);
      assert.equal(inv.stderr.trim().split('\n').length, 1);
    });
  });
}
