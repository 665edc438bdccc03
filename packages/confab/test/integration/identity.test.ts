// Discovery and identity against the real test-bed servers (Prosody full and ejabberd):
// XEP-0030 disco of the server and its MUC service, our own answers (queried from a second
// account), XEP-0115 caps verified and cached, XEP-0092/0012/0202 from the server and from our
// client, XEP-0054 vCard, XEP-0163 PEP nick (XEP-0172) and avatar (XEP-0084) delivered through
// +notify, XEP-0049 private storage, XEP-0191 blocking with pushes to a second resource, and a
// blocked contact's message not delivered. All through the client's built-in features
// (`client.disco`, `client.caps`...), as an app gets them. Accounts are fresh per test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { caOf, ejabberd, freshAccount, prosody, type ServerInfo } from '../../../../testbed/harness.ts';
import type { Client } from '../../src/client.ts';
import type { BlockingEvents } from '../../src/features/blocking/blocking.ts';
import type { CapsInfoEvent } from '../../src/features/caps/caps.ts';
import { computeVer } from '../../src/features/caps/codec.ts';
import { NS as DISCO } from '../../src/features/disco/codec.ts';
import type { AvatarEvents } from '../../src/features/pep/avatar.ts';
import type { NickEvents } from '../../src/features/pep/nick.ts';
import type { RosterEvents, SubscriptionRequest } from '../../src/features/roster/roster.ts';
import { CONFAB_VERSION } from '../../src/features/software/software.ts';
import { createClient } from '../../src/index.ts';
import { bare, type Jid } from '../../src/jid.ts';
import type { Message } from '../../src/session/stanzas.ts';
import { type Element, xml } from '../../src/xml/element.ts';

interface Account {
  jid: string;
  password: string;
}

/**
 * A logged-in client with the built-in features, as an app gets them: the client fetches the
 * roster (Prosody delivers subscription presences only to "interested" resources, those that
 * fetched it) and then sends the initial presence with our caps.
 */
async function login(server: ServerInfo, account: Account, resource?: string) {
  const client = createClient({
    jid: account.jid,
    password: account.password,
    resource,
    host: server.host,
    port: server.ports.c2s,
    tls: { ca: caOf(server) },
    reconnect: false,
    debug: process.env.IDENTITY_DEBUG
      ? (l) => console.error(`[${account.jid.slice(0, 6)}/${resource ?? ''}] ${l}`)
      : undefined,
  });
  await client.connect();
  await client.roster.ready();
  /** Our presence with our caps again: broadcast, or directed to `to`. */
  const available = async (to?: string) => {
    await client.caps.ready();
    await (to === undefined ? client.presence.resend() : client.presence.sendTo(to));
  };
  return {
    client,
    disco: client.disco,
    caps: client.caps,
    software: client.software,
    pep: client.pep,
    nicks: client.nick,
    avatars: client.avatar,
    vcards: client.vcard,
    storage: client.private,
    blocking: client.blocking,
    buddiesOnly: client.buddiesOnly,
    available,
  };
}

type Session = Awaited<ReturnType<typeof login>>;

/** Resolve with the first payload `on` delivers that `pred` accepts; reject after `ms`. */
function waitFor<T>(
  // biome-ignore lint/suspicious/noExplicitAny: each feature's typed `on`; T comes from `pred`
  on: (listener: (e: any) => void) => () => void,
  pred: (e: T) => boolean,
  what: string,
  ms = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    const off = on((e) => {
      if (!pred(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

const stanzaOf = (c: Client) => (l: (e: Element) => void) => c.on('stanza', l);

/** Resolve once `x`'s roster shows `j` with subscription both (now or by a later push). */
function rosterBoth(x: Session, j: Jid): Promise<unknown> {
  if (x.client.roster.get(j)?.subscription === 'both') return Promise.resolve();
  return waitFor(
    (l) => {
      const offs = (['added', 'updated'] as const).map((e) => x.client.roster.on(e, l));
      return () => {
        for (const off of offs) off();
      };
    },
    (e: RosterEvents['added']) => e.item.jid === j && e.item.subscription === 'both',
    `${j} with both in ${bare(x.client.jid!)}'s roster`,
  );
}

/** Mutual presence subscription through the roster feature: each asks, the other approves. */
async function subscribeBoth(a: Session, b: Session): Promise<void> {
  const aBare = bare(a.client.jid!);
  const bBare = bare(b.client.jid!);
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    const xBare = bare(x.client.jid!);
    const yBare = bare(y.client.jid!);
    const asked = waitFor(
      (l) => y.client.roster.on('request', l),
      (r: SubscriptionRequest) => r.from === xBare,
      'subscribe',
    );
    const approved = waitFor(
      (l) => x.client.roster.on('subscribed', l),
      (e: RosterEvents['subscribed']) => e.from === yBare,
      'subscribed',
    );
    await x.client.roster.subscribe(yBare);
    await (await asked).approve();
    await approved;
  }
  // Both rosters know it (the pushes are in): the roster-driven policies (who may learn our
  // idle time) go by them.
  await Promise.all([rosterBoth(a, bBare), rosterBoth(b, aBare)]);
  // Available again now that both subscriptions exist, so each server links the other's caps
  // (+notify) to the new subscription; wait until each side has seen the other's presence.
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    const seen = waitFor(
      stanzaOf(y.client),
      (s: Element) =>
        s.name === 'presence' && s.attr('type') === undefined && s.attr('from') === x.client.jid,
      'available presence',
    );
    await x.available();
    await seen;
  }
}

/** A round trip to the server: everything the client meant to send before it is on the wire. */
async function flush(s: Session): Promise<void> {
  await s.client
    .iq({
      type: 'get',
      to: s.client.jid!.split('@')[1]!.split('/')[0],
      payload: xml('ping', { xmlns: 'urn:xmpp:ping' }),
    })
    .catch(() => {});
}

for (const server of [prosody, ejabberd]) {
  describe(`identity on ${server === prosody ? 'Prosody' : 'ejabberd'}`, () => {
    const two = async () => {
      const s = server();
      const [a, b] = await Promise.all([freshAccount(s), freshAccount(s)]);
      return Promise.all([login(s, a), login(s, b)]);
    };

    test('disco info and items of the server and of conference.localhost', async () => {
      const s = server();
      const a = await login(s, await freshAccount(s));
      try {
        const info = await a.disco.info();
        assert.ok(info.identities.some((i) => i.category === 'server' && i.type === 'im'));
        for (const f of [DISCO.info, 'urn:xmpp:blocking', 'jabber:iq:version'])
          assert.ok(info.features.includes(f), f);
        const items = await a.disco.items();
        assert.ok(
          items.items.some((i) => i.jid === s.muc),
          `server items list ${s.muc}`,
        );
        const muc = await a.disco.info(s.muc!);
        assert.ok(muc.identities.some((i) => i.category === 'conference'));
        assert.ok(muc.features.includes('http://jabber.org/protocol/muc'));
        await a.disco.items(s.muc!); // rooms (none yet): a result, not an error
      } finally {
        await a.client.disconnect();
      }
    });

    test('our client answers disco#info (plain and caps node) to another account, and the hash checks', async () => {
      const [a, b] = await two();
      try {
        const own = await a.caps.ready();
        const plain = await b.disco.info(a.client.jid!);
        assert.ok(plain.features.includes('http://jabber.org/protocol/caps'));
        assert.ok(plain.features.includes('jabber:iq:version'));
        assert.ok(plain.features.includes('http://jabber.org/protocol/nick+notify'));
        const viaNode = await b.disco.info(a.client.jid!, `${own.node}#${own.ver}`);
        assert.equal(viaNode.node, `${own.node}#${own.ver}`);
        assert.equal(await computeVer(viaNode), own.ver);
        await assert.rejects(b.disco.info(a.client.jid!, 'no-such-node'), { condition: 'item-not-found' });
      } finally {
        await Promise.all([a.client.disconnect(), b.client.disconnect()]);
      }
    });

    test('caps: verified once, cached; the same ver again makes no new query', async () => {
      const [a, b] = await two();
      try {
        const queries: string[] = [];
        b.client.on('stanzaOut', (el) => {
          const q = el.getChild('query', DISCO.info);
          if (el.name === 'iq' && q?.attr('node')) queries.push(q.attr('node')!);
        });
        const learned = waitFor(
          (l) => b.caps.on('info', l),
          (e: CapsInfoEvent) => e.jid === a.client.jid,
          'caps info',
        );
        await a.available(b.client.jid);
        const e = await learned;
        assert.equal(e.verified, true);
        assert.ok(e.info.features.includes('urn:xmpp:time'));
        assert.equal(queries.length, 1);
        const again = waitFor(
          stanzaOf(b.client),
          (s: Element) => s.name === 'presence' && s.attr('from') === a.client.jid,
          'second presence',
        );
        await a.available(b.client.jid);
        await again;
        await flush(b);
        assert.equal(queries.length, 1, 'no second query for a known hash');
        assert.equal(b.caps.hasFeature(a.client.jid!, 'jabber:iq:last'), true);
      } finally {
        await Promise.all([a.client.disconnect(), b.client.disconnect()]);
      }
    });

    test('version, last activity and time: from the server and from our client', async () => {
      const [a, b] = await two();
      try {
        // A full JID's last activity is presence information: the servers answer it only to subscribers.
        await a.available();
        await b.available();
        await subscribeBoth(a, b);
        const v = await a.software.version();
        assert.match(v.name, server === prosody ? /prosody/i : /ejabberd/i);
        assert.ok(v.version.length > 0);
        const up = await a.software.last();
        assert.ok(up.seconds >= 0);
        const t = await a.software.time();
        assert.ok(Math.abs(t.utc.getTime() - Date.now()) < 60_000);

        const cv = await b.software.version(a.client.jid!);
        assert.deepEqual({ ...cv }, { ...CONFAB_VERSION }); // what the built-in feature answers
        const idle = await b.software.last(a.client.jid!);
        assert.ok(idle.seconds >= 0 && idle.seconds < 600);
        const ct = await b.software.time(a.client.jid!);
        assert.equal(ct.offsetMinutes, -new Date().getTimezoneOffset() || 0);
        assert.ok(Math.abs(ct.utc.getTime() - Date.now()) < 60_000);
      } finally {
        await Promise.all([a.client.disconnect(), b.client.disconnect()]);
      }
    });

    test('vCard: set for self, get from another account', async () => {
      const [a, b] = await two();
      try {
        await a.vcards.set({
          fullName: 'Juliet Capulet',
          nickname: 'jules',
          name: { family: 'Capulet', given: 'Juliet' },
          email: [{ userid: 'juliet@example.com', flags: ['INTERNET', 'PREF'] }],
        });
        const mine = await a.vcards.get();
        assert.equal(mine?.fullName, 'Juliet Capulet');
        const seen = await b.vcards.get(bare(a.client.jid!));
        assert.equal(seen?.fullName, 'Juliet Capulet');
        assert.equal(seen?.name?.given, 'Juliet');
        assert.equal(seen?.email?.[0]?.userid, 'juliet@example.com'); // Prosody's vCard4 mapping keeps no PREF flag
      } finally {
        await Promise.all([a.client.disconnect(), b.client.disconnect()]);
      }
    });

    test('PEP: nick and avatar (metadata, then data) published by A reach B through +notify', async () => {
      const [a, b] = await two();
      try {
        await a.available();
        await b.available();
        await subscribeBoth(a, b);
        const aBare = bare(a.client.jid!);
        const nick = waitFor(
          (l) => b.nicks.on('nick', l),
          (e: NickEvents['nick']) => e.jid === aBare && e.nick === 'Jules',
          'nick event',
          15_000,
        );
        await a.nicks.publish('Jules');
        const ne = await nick;
        assert.equal(ne.own, false);
        assert.equal(b.nicks.of(aBare), 'Jules');

        const png = new Uint8Array(200).map((_, i) => (i * 7) & 0xff);
        const avatar = waitFor(
          (l) => b.avatars.on('avatar', l),
          (e: AvatarEvents['avatar']) => e.jid === aBare && e.info !== undefined,
          'avatar metadata event',
          15_000,
        );
        const id = await a.avatars.publish(png, { type: 'image/png', width: 10, height: 20 });
        const ae = await avatar;
        assert.equal(ae.info?.id, id);
        assert.equal(ae.info?.bytes, png.length);
        assert.deepEqual(await b.avatars.fetch(aBare, id), png);
        // Any namespace the app chooses: read A's node directly.
        await a.pep.publish('urn:confab:test:mood', xml('mood', { xmlns: 'urn:confab:test:mood' }, 'calm'), {
          id: 'current',
        });
        const [item] = await b.pep.items(aBare, 'urn:confab:test:mood');
        assert.equal(item?.payload?.text(), 'calm');
      } finally {
        await Promise.all([a.client.disconnect(), b.client.disconnect()]);
      }
    });

    test('private storage round trip, and the buddies-only setting kept there', async () => {
      const s = server();
      const acct = await freshAccount(s);
      const a = await login(s, acct);
      try {
        assert.equal(await a.storage.get('notes', 'urn:confab:test:notes'), undefined);
        await a.storage.set(xml('notes', { xmlns: 'urn:confab:test:notes' }, xml('note', null, 'buy milk')));
        const back = await a.storage.get('notes', 'urn:confab:test:notes');
        assert.equal(back?.getChildText('note', 'urn:confab:test:notes'), 'buy milk');
        assert.equal(await a.buddiesOnly.load(), false);
        await a.buddiesOnly.set(true);
        assert.equal(a.buddiesOnly.enabled, true);
        // Another session of the account reads it back from the server.
        const other = await login(s, acct, 'other');
        try {
          assert.equal(await other.buddiesOnly.load(), true, 'read back from the server');
        } finally {
          await other.client.disconnect();
        }
      } finally {
        await a.client.disconnect();
      }
    });

    test('blocking: block, list, unblock with pushes to a second resource; a blocked contact is not delivered', async () => {
      const s = server();
      const [acct, cAcct, bAcct] = await Promise.all([freshAccount(s), freshAccount(s), freshAccount(s)]);
      const [a1, a2, c, b] = await Promise.all([
        login(s, acct, 'one'),
        login(s, acct, 'two'),
        login(s, cAcct),
        login(s, bAcct),
      ]);
      try {
        await Promise.all([a1.available(), a2.available()]);
        assert.deepEqual(await a1.blocking.list(), []);
        await a2.blocking.list(); // pushes reach only resources that asked (3.3)
        const cBare = bare(c.client.jid!);
        const pushed = waitFor(
          (l) => a2.blocking.on('change', l),
          (e: BlockingEvents['change']) => e.push && e.blocked.includes(cBare),
          'block push',
        );
        await a1.blocking.block(cBare);
        await pushed;
        assert.equal(a2.blocking.isBlocked(c.client.jid!), true);
        assert.deepEqual(await a1.blocking.list(), [cBare]);

        // C writes to A: the server refuses (an error back to C), A sees nothing; B's marker arrives.
        const aBare = bare(a1.client.jid!);
        const fromC: string[] = [];
        a1.client.on('message', (m) => {
          if (bare(m.from) === cBare) fromC.push(m.body ?? '');
        });
        const bounced = waitFor(
          stanzaOf(c.client),
          (st: Element) => st.name === 'message' && st.attr('type') === 'error',
          'error for the blocked message',
        );
        await c.client.messages.send({ to: aBare, body: 'let me in' });
        await bounced;
        const marker = waitFor(
          (l) => a1.client.on('message', l),
          (m: Message) => m.body === 'marker',
          'marker',
        );
        await b.client.messages.send({ to: a1.client.jid!, body: 'marker' });
        await marker;
        assert.deepEqual(fromC, []);

        const unpushed = waitFor(
          (l) => a2.blocking.on('change', l),
          (e: BlockingEvents['change']) =>
            e.push && Array.isArray(e.unblocked) && e.unblocked.includes(cBare),
          'unblock push',
        );
        await a1.blocking.unblock(cBare);
        await unpushed;
        assert.deepEqual(a2.blocking.blocked, []);
        assert.deepEqual(await a1.blocking.list(), []);
      } finally {
        await Promise.all([a1, a2, c, b].map((x) => x.client.disconnect()));
      }
    });
  });
}
