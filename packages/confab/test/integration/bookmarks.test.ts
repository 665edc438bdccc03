// Room bookmarks (XEP-0402, with XEP-0048 in private storage as the fallback) against the real
// test-bed servers, through `client.bookmarks` as the composition root builds it:
// - Prosody 0.12 (mod_bookmarks) and ejabberd 23 both advertise urn:xmpp:bookmarks:1#compat: the
//   bookmarks go to the PEP node, one item per room, and the server mirrors them into the
//   XEP-0048 private-storage form older clients read;
// - add / update / remove from one resource reach another resource of the account as `set` /
//   `remove` events (PEP notifications from our own bare JID), and a fresh login lists them;
// - SECURITY: a bookmarks "notification" another account sends us changes nothing;
// - autojoin: a bookmark with autojoin is joined on the next login (through client.muc);
// - the minimal Prosody (no PEP, no private storage): ERR_UNSUPPORTED, and login is unaffected.
// Run: npm test -- --no-checks packages/confab/test/integration/bookmarks.test.ts

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Account,
  caOf,
  ejabberd,
  freshAccount,
  prosody,
  prosodyMinimal,
  type ServerInfo,
} from '../../../../testbed/harness.ts';
import type { Client } from '../../src/client.ts';
import { ConfabError } from '../../src/errors.ts';
import type { AutojoinEvent, Bookmark } from '../../src/features/bookmarks/bookmarks.ts';
import { NS_BOOKMARKS_LEGACY, NS_BOOKMARKS2 } from '../../src/features/bookmarks/codec.ts';
import { createClient } from '../../src/index.ts';
import { xml } from '../../src/xml/element.ts';

const WAIT = 10_000;

interface Side {
  client: Client;
  sets: Bookmark[];
  removes: string[];
  autojoins: AutojoinEvent[];
  until<T>(check: () => T | undefined | false, what: string): Promise<T>;
}

async function login(
  server: ServerInfo,
  account: Account,
  resource: string,
  autojoin = false,
): Promise<Side> {
  const client = createClient({
    jid: account.jid,
    password: account.password,
    resource,
    host: server.host,
    port: server.ports.c2s,
    tls: { ca: caOf(server) },
    reconnect: false,
  });
  client.bookmarks.autojoin = autojoin;
  const sets: Bookmark[] = [];
  const removes: string[] = [];
  const autojoins: AutojoinEvent[] = [];
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of [...waiters]) w();
  };
  client.bookmarks.on('set', (b) => {
    sets.push(b);
    poke();
  });
  client.bookmarks.on('remove', (e) => {
    removes.push(e.jid);
    poke();
  });
  client.bookmarks.on('autojoin', (e) => {
    autojoins.push(e);
    poke();
  });
  await client.connect();
  return {
    client,
    sets,
    removes,
    autojoins,
    until<T>(check: () => T | undefined | false, what: string): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const run = () => {
          const v = check();
          if (v !== undefined && v !== false) {
            waiters.delete(run);
            clearTimeout(timer);
            resolve(v);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(run);
          reject(new Error(`timed out waiting for ${what}`));
        }, WAIT);
        waiters.add(run);
        run();
      });
    },
  };
}

// Prosody 0.12's mod_bookmarks advertises #compat; ejabberd 23.01 has PEP and private storage but
// no #compat: there the XEP-0048 form is written, and the PEP item beside it. ejabberd sends no
// retraction notifications (its PEP nodes have notify_retract off, and its publish-options accept
// no such field): there the other resource learns of a removal when it lists again.
for (const server of [
  { name: 'Prosody', info: prosody, storage: 'pep', notifiesRetract: true },
  { name: 'ejabberd', info: ejabberd, storage: 'private', notifiesRetract: false },
]) {
  describe(`bookmarks on ${server.name}`, () => {
    test(`${server.storage} storage: add, update, remove reach the other resource; XEP-0048 form; fresh list`, async () => {
      const s = server.info();
      const a = await freshAccount(s, 'bma');
      const one = await login(s, a, 'one');
      const two = await login(s, a, 'two');
      const room = `bmroom${Date.now()}@${s.muc}`;
      try {
        assert.equal(await one.client.bookmarks.storage(), server.storage);
        assert.deepEqual(await one.client.bookmarks.list(), []);
        // The other resource lists too, so its notifications update a known list.
        await two.client.bookmarks.list();

        await one.client.bookmarks.add({ jid: room, name: 'The Room', nick: 'Jules', autojoin: false });
        const seen = await two.until(() => two.sets.find((b) => b.jid === room), 'the set notification');
        assert.equal(seen.name, 'The Room');
        assert.equal(seen.nick, 'Jules');
        assert.equal(seen.autojoin, false);

        await one.client.bookmarks.update(room, { autojoin: true, password: 'secret' });
        const changed = await two.until(
          () => two.sets.find((b) => b.jid === room && b.autojoin),
          'the update notification',
        );
        assert.equal(changed.name, 'The Room', 'update keeps the other fields');
        assert.equal(changed.password, 'secret');

        // The XEP-0048 form has it: the server's mirror (XEP-0402 5.3) or our own write.
        const legacy = await one.client.private.get('storage', NS_BOOKMARKS_LEGACY);
        const conf = legacy
          ?.getChildren('conference', NS_BOOKMARKS_LEGACY)
          .find((c) => c.attr('jid') === room);
        assert.ok(conf, 'the XEP-0048 mirror has the room');

        const three = await login(s, a, 'three');
        try {
          const listed = await three.client.bookmarks.list();
          assert.deepEqual(
            listed.map((b) => [b.jid, b.name, b.nick, b.password, b.autojoin]),
            [[room, 'The Room', 'Jules', 'secret', true]],
          );
        } finally {
          await three.client.disconnect();
        }

        await one.client.bookmarks.remove(room);
        if (server.notifiesRetract)
          await two.until(() => two.removes.includes(room), 'the retract notification');
        assert.deepEqual(await one.client.bookmarks.list(), []);
        assert.deepEqual(await two.client.bookmarks.list(), []);
      } finally {
        await Promise.all([one.client.disconnect(), two.client.disconnect()]);
      }
    });

    test('autojoin: the next login joins the autojoin bookmarks (not the others), with their nick', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'bmaj');
      const stamp = Date.now();
      const wanted = `bmaj${stamp}@${s.muc}`;
      const other = `bmno${stamp}@${s.muc}`;
      const setup = await login(s, a, 'setup');
      try {
        await setup.client.bookmarks.add({ jid: wanted, nick: 'Autojoiner', autojoin: true });
        await setup.client.bookmarks.add({ jid: other, nick: 'Nobody', autojoin: false });
      } finally {
        await setup.client.disconnect();
      }
      const next = await login(s, a, 'next', true);
      try {
        const e = await next.until(
          () => next.autojoins.find((x) => x.bookmark.jid === wanted),
          'the autojoin',
        );
        assert.equal(e.error, undefined, String(e.error));
        assert.equal(e.room?.state, 'joined');
        assert.equal(e.room?.nick, 'Autojoiner');
        assert.equal(next.client.muc.get(wanted)?.state, 'joined');
        assert.equal(next.client.muc.get(other), undefined, 'a bookmark without autojoin is not joined');
        assert.equal(next.autojoins.length, 1);
      } finally {
        await next.client.disconnect();
      }
    });

    test('SECURITY: a bookmarks notification from another account changes nothing', async () => {
      const s = server.info();
      const [a, b] = await Promise.all([freshAccount(s, 'bmsa'), freshAccount(s, 'bmsb')]);
      const victim = await login(s, a, 'v');
      const attacker = await login(s, b, 'x');
      try {
        await victim.client.bookmarks.list();
        const planted = `trap@${s.muc}`;
        attacker.client.send(
          xml(
            'message',
            { to: victim.client.jid, type: 'headline', id: 'forged' },
            xml(
              'event',
              { xmlns: 'http://jabber.org/protocol/pubsub#event' },
              xml(
                'items',
                { node: NS_BOOKMARKS2 },
                xml(
                  'item',
                  { id: planted },
                  xml('conference', { xmlns: NS_BOOKMARKS2, autojoin: 'true' }, xml('nick', null, 'x')),
                ),
              ),
            ),
          ),
        );
        // Then a plain message: when it arrives, the forged one was processed before it (in order).
        const marker = new Promise<void>((resolve) => {
          victim.client.on('message', (m) => {
            if (m.body === 'after') resolve();
          });
        });
        await attacker.client.messages.send({ to: victim.client.jid!, body: 'after', type: 'chat' });
        await marker;
        assert.deepEqual(victim.sets, [], 'no bookmark planted');
        assert.deepEqual(await victim.client.bookmarks.list(), []);
      } finally {
        await Promise.all([victim.client.disconnect(), attacker.client.disconnect()]);
      }
    });
  });
}

describe('bookmarks on the minimal Prosody', () => {
  test('no PEP and no private storage: ERR_UNSUPPORTED, login unaffected', async () => {
    const s = prosodyMinimal();
    const a = await freshAccount(s, 'bmm');
    const one = await login(s, a, 'one', true);
    try {
      assert.equal(await one.client.bookmarks.storage(), 'none');
      await assert.rejects(
        one.client.bookmarks.list(),
        (e: unknown) => e instanceof ConfabError && e.code === 'ERR_UNSUPPORTED',
      );
      await assert.rejects(
        one.client.bookmarks.add({ jid: 'room@conference.localhost', autojoin: true }),
        (e: unknown) => e instanceof ConfabError && e.code === 'ERR_UNSUPPORTED',
      );
      assert.equal(one.client.status, 'online');
      assert.deepEqual(one.autojoins, []);
    } finally {
      await one.client.disconnect();
    }
  });
});
