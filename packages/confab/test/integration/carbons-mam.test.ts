// Carbons (XEP-0280) and the message archive (XEP-0313) against the real test-bed servers,
// Prosody and ejabberd, through what the composition root builds (`client.carbons`,
// `client.mam`, both feeding `client.messages`) and what the app sees (`message` events
// with their `source`), with two resources of account A and an account B:
// - B -> A/res1 arrives at A/res2 as a received carbon; A/res1 -> B arrives at A/res2 as a
//   sent carbon (the peer is the inner `to`);
// - a MAM query paging over 25 messages returns all of them, in order; their archive ids are
//   the stanza-ids the server stamped on the live copies (what the messages feature dedupes
//   by), so the archive copies never reach the app a second time;
// - catch-up after a reconnection fetches only the messages that came while A was away, and the
//   archive and offline copies of each are the same message (one stanza-id): the app sees it once;
// - SECURITY: a "carbon" B sends A and an archive "result" B sends A never reach the app;
// - the minimal Prosody has neither: both features report it and say nothing else.
// Run: npm test -- packages/confab/test/integration/carbons-mam.test.ts

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
import type { ConfabError } from '../../src/errors.ts';
import { NS_CARBONS } from '../../src/features/carbons/codec.ts';
import { NS_MAM } from '../../src/features/mam/codec.ts';
import type { CaughtUpEvent, MamOptions, MamResult } from '../../src/features/mam/mam.ts';
import type { Message } from '../../src/features/messages/codec.ts';
import { createClient } from '../../src/index.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import type { Store } from '../../src/store/types.ts';
import { type Element, xml } from '../../src/xml/element.ts';

const WAIT = 10_000;

interface Side {
  client: Client;
  jid: string;
  /** What the app sees: the client's `message` events. */
  messages: Message[];
  /** Copies the messages feature dropped as already delivered. */
  duplicates: Message[];
  /** Raw inbound messages after the feature stages (what a `stanza` listener sees). */
  stanzas: Element[];
  /** Verified archive results (MAM `result` events). */
  results: MamResult[];
  caughtUp: CaughtUpEvent[];
  /** Wrappers carbons or MAM refused, by reason. */
  ignored: string[];
  errors: ConfabError[];
  /** Resolves when `check` holds, re-checked on every event above. */
  until<T>(check: () => T | undefined | false, what: string): Promise<T>;
}

async function login(
  server: ServerInfo,
  account: Account,
  resource: string,
  o: { store?: Store; mam?: MamOptions } = {},
): Promise<Side> {
  const client = createClient({
    jid: account.jid,
    password: account.password,
    resource,
    host: server.host,
    port: server.ports.c2s,
    tls: { ca: caOf(server) },
    reconnect: false,
    store: o.store,
    mam: o.mam,
  });
  const messages: Message[] = [];
  const duplicates: Message[] = [];
  const stanzas: Element[] = [];
  const results: MamResult[] = [];
  const caughtUp: CaughtUpEvent[] = [];
  const ignored: string[] = [];
  const errors: ConfabError[] = [];
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of [...waiters]) w();
  };
  const onIgnored = (e: { reason: string }) => {
    ignored.push(e.reason);
    poke();
  };
  // Every listener before connect(): nothing of the first session is missed.
  client.carbons.on('ignored', onIgnored);
  client.mam.on('ignored', onIgnored);
  client.carbons.on('status', poke);
  client.mam.on('status', poke);
  client.mam.on('result', (r) => {
    results.push(r);
    poke();
  });
  client.mam.on('caughtUp', (e) => {
    caughtUp.push(e);
    poke();
  });
  client.messages.on('ignored', (e) => {
    if (e.reason === 'duplicate') duplicates.push(e.message);
    poke();
  });
  client.on('message', (m) => {
    messages.push(m);
    poke();
  });
  client.on('stanza', (el) => {
    if (el.name === 'message') stanzas.push(el);
    poke();
  });
  client.on('error', (e) => errors.push(e));
  await client.connect();
  return {
    client,
    jid: account.jid,
    messages,
    duplicates,
    stanzas,
    results,
    caughtUp,
    ignored,
    errors,
    until<T>(check: () => T | undefined | false, what: string): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const w = () => {
          const v = check();
          if (v !== undefined && v !== false) {
            clearTimeout(timer);
            waiters.delete(w);
            resolve(v);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`timed out waiting for ${what}`));
        }, WAIT);
        waiters.add(w);
        w();
      });
    },
  };
}

const body = (m: Element) => m.getChildText('body');
const chat = (to: string, text: string, extra?: Element) =>
  xml(
    'message',
    { to, type: 'chat', id: `t${Math.random().toString(36).slice(2)}` },
    xml('body', null, text),
    extra,
  );
/** The app's messages whose body matches. */
const seen = (s: Side, re: RegExp) => s.messages.filter((m) => re.test(m.body ?? ''));

/** Wait until carbons and MAM have settled for this session. */
async function settled(s: Side): Promise<void> {
  const { carbons, mam } = s.client;
  await s.until(
    () =>
      (carbons.status === 'enabled' || carbons.status === 'unsupported') &&
      mam.status !== 'off' &&
      mam.status !== 'syncing',
    `${s.jid}: carbons and MAM settled (carbons ${carbons.status}, mam ${mam.status})`,
  );
}

for (const [name, server] of [
  ['Prosody', prosody],
  ['ejabberd', ejabberd],
] as const) {
  describe(`carbons and MAM on ${name}`, () => {
    test('carbons: B -> A/res1 is a received carbon at A/res2; A/res1 -> B a sent carbon', async () => {
      const srv = server();
      const [a, b] = await Promise.all([freshAccount(srv, 'ca'), freshAccount(srv, 'cb')]);
      const a1 = await login(srv, a, 'res1');
      const a2 = await login(srv, a, 'res2');
      const bb = await login(srv, b, 'phone');
      try {
        await Promise.all([settled(a1), settled(a2)]);
        assert.equal(a1.client.carbons.status, 'enabled');
        assert.equal(a2.client.carbons.status, 'enabled');

        await bb.client.send(chat(`${a.jid}/res1`, 'to res1'));
        const rc = await a2.until(() => seen(a2, /^to res1$/)[0], 'the received carbon at res2');
        assert.equal(rc.source, 'carbon-received');
        assert.equal(rc.outgoing, false);
        assert.equal(rc.from, `${b.jid}/phone`, 'a received carbon is from the peer (the inner from)');
        const orig = await a1.until(() => seen(a1, /^to res1$/)[0], 'the original at res1');
        assert.equal(orig.source, 'live');
        // The marker: B's next message to res2 itself comes after the carbon on the same stream.
        await bb.client.send(chat(`${a.jid}/res2`, 'marker'));
        await a2.until(() => seen(a2, /^marker$/)[0], 'the marker at res2');
        assert.equal(seen(a2, /^to res1$/).length, 1, 'res2 got the message once: no plain copy');
        assert.ok(
          !a2.stanzas.some((m) => m.getChild('received', NS_CARBONS)),
          'the carbon wrapper never reached the app',
        );

        await a1.client.send(chat(b.jid, 'from res1'));
        const sc = await a2.until(() => seen(a2, /^from res1$/)[0], 'the sent carbon at res2');
        assert.equal(sc.source, 'carbon-sent');
        assert.equal(sc.outgoing, true);
        assert.equal(sc.to, b.jid, 'for a sent copy the peer is the inner to');
        await bb.until(() => seen(bb, /^from res1$/)[0], 'the message at B');
        assert.deepEqual([...a1.errors, ...a2.errors, ...bb.errors], []);
      } finally {
        await Promise.all([a1.client.disconnect(), a2.client.disconnect(), bb.client.disconnect()]);
      }
    });

    test('SECURITY: a forged carbon from B and forged archive results from B never reach the app', async () => {
      const srv = server();
      const [a, b] = await Promise.all([freshAccount(srv, 'fa'), freshAccount(srv, 'fb')]);
      const a1 = await login(srv, a, 'res1', { mam: { catchUp: false } });
      const bb = await login(srv, b, 'evil');
      try {
        await settled(a1);
        const forgedCarbon = xml(
          'received',
          { xmlns: NS_CARBONS },
          xml(
            'forwarded',
            { xmlns: 'urn:xmpp:forward:0' },
            xml(
              'message',
              { xmlns: 'jabber:client', from: 'boss@localhost/x', to: a.jid, type: 'chat' },
              xml('body', null, 'forged carbon'),
            ),
          ),
        );
        const forgedResult = (queryid: string) =>
          xml(
            'result',
            { xmlns: NS_MAM, queryid, id: 'forged-id' },
            xml(
              'forwarded',
              { xmlns: 'urn:xmpp:forward:0' },
              xml(
                'message',
                { xmlns: 'jabber:client', from: 'boss@localhost/x', to: a.jid, type: 'chat' },
                xml('body', null, 'forged result'),
              ),
            ),
          );
        // A genuine query is open while B's forgeries fly (B even "knows" a query id).
        const query = a1.client.mam.queryPage({ max: 5 });
        await bb.client.send(xml('message', { to: `${a.jid}/res1`, type: 'chat' }, forgedCarbon));
        await bb.client.send(xml('message', { to: `${a.jid}/res1`, type: 'chat' }, forgedResult('guessed')));
        await bb.client.send(chat(`${a.jid}/res1`, 'marker'));
        const page = await query;
        await a1.until(() => seen(a1, /^marker$/)[0], 'the marker after the forgeries');
        assert.deepEqual(page.results, [], 'a fresh account has an empty archive');
        assert.deepEqual(
          a1.messages.filter((m) => /forged/.test(m.body ?? '')),
          [],
          'no forged copy reached the app',
        );
        assert.deepEqual(
          a1.messages.map((m) => [m.from, m.body, m.source]),
          [[`${b.jid}/evil`, 'marker', 'live']],
          'of what B sent, only the marker reached the app (no wrapper as an empty message)',
        );
        assert.ok(
          !a1.stanzas.some((m) => m.getChild('received', NS_CARBONS) || m.getChild('result', NS_MAM)),
          'no wrapper leaked as a message',
        );
        assert.deepEqual(a1.results, [], 'no forged result was believed');
        assert.deepEqual(a1.ignored.sort(), ['not-from-own-bare-jid', 'unknown-query']);
        assert.deepEqual(a1.errors, []);
      } finally {
        await Promise.all([a1.client.disconnect(), bb.client.disconnect()]);
      }
    });

    test('MAM: 25 messages, paged by 10, all in order; archive ids = live stanza-ids', async () => {
      const srv = server();
      const [a, b] = await Promise.all([freshAccount(srv, 'ma'), freshAccount(srv, 'mb')]);
      const a1 = await login(srv, a, 'res1', { mam: { catchUp: false } });
      const bb = await login(srv, b, 'phone');
      try {
        await settled(a1);
        assert.equal(a1.client.mam.supported, true);
        for (let i = 1; i <= 25; i++) await bb.client.send(chat(`${a.jid}/res1`, `m${i}`));
        await a1.until(() => seen(a1, /^m\d+$/).length === 25, '25 live messages');
        const live = seen(a1, /^m\d+$/);
        assert.ok(
          live.every((m) => m.source === 'live'),
          'live copies are source live',
        );
        const ids: string[] = [];
        const texts: string[] = [];
        let pages = 0;
        for await (const page of a1.client.mam.pages({ with: b.jid, max: 10 })) {
          pages++;
          for (const r of page.results) {
            ids.push(r.id);
            texts.push(body(r.message) ?? '');
          }
        }
        assert.equal(pages, 3);
        assert.deepEqual(
          texts,
          Array.from({ length: 25 }, (_, i) => `m${i + 1}`),
        );
        assert.deepEqual(
          live.map((m) => m.stanzaId()),
          ids,
          'the stanza-id of each live copy is its archive id',
        );
        // Backward from the newest: newest first.
        const back: string[] = [];
        for await (const r of a1.client.mam.messages({ with: b.jid, before: '', max: 10, limit: 12 }))
          back.push(body(r.message) ?? '');
        assert.deepEqual(
          back,
          Array.from({ length: 12 }, (_, i) => `m${25 - i}`),
        );
        // The archive copies went to the messages feature too: each was known by its id.
        assert.equal(seen(a1, /^m\d+$/).length, 25, 'the app saw each message once');
        assert.ok(!a1.messages.some((m) => m.source === 'archive'), 'no archive copy reached the app');
        const dupIds = new Set(a1.duplicates.filter((m) => m.source === 'archive').map((m) => m.stanzaId()));
        assert.deepEqual(
          [...dupIds].sort(),
          [...ids].sort(),
          'every archive copy was dropped as a duplicate',
        );
        assert.deepEqual([...a1.errors, ...bb.errors], []);
      } finally {
        await Promise.all([a1.client.disconnect(), bb.client.disconnect()]);
      }
    });

    test('catch-up after a reconnection fetches only the new ones; archive, offline and live copies are one', async () => {
      const srv = server();
      const [a, b] = await Promise.all([freshAccount(srv, 'ra'), freshAccount(srv, 'rb')]);
      const store = new MemoryStore();
      const bb = await login(srv, b, 'phone');
      let a1 = await login(srv, a, 'res1', { store });
      try {
        await settled(a1);
        assert.equal(a1.client.mam.status, 'synced');
        await bb.client.send(chat(a.jid, 'before 1'));
        await bb.client.send(chat(a.jid, 'before 2'));
        await a1.until(() => seen(a1, /^before/).length === 2, 'two live messages');
        const lastLive = seen(a1, /^before/)
          .at(-1)!
          .stanzaId();
        assert.ok(lastLive, 'the server stamped a stanza-id by our bare JID');
        assert.equal(await a1.client.mam.lastSeen(), lastLive, 'the position follows live messages');
        await a1.client.disconnect();

        // While A is away.
        for (const t of ['away 1', 'away 2', 'away 3']) await bb.client.send(chat(a.jid, t));
        // Both servers store offline messages and archive them; give them a moment to land by a round trip.
        await bb.client.iq({ type: 'get', payload: xml('ping', { xmlns: 'urn:xmpp:ping' }) });

        // A new client on the same store (the app restarted): the position comes from the store.
        a1 = await login(srv, a, 'res1', { store });
        const caught = await a1.until(() => a1.caughtUp[0], 'the catch-up');
        assert.equal(a1.caughtUp.length, 1);
        assert.equal(caught.since, lastLive);
        assert.equal(caught.fresh, false);
        assert.equal(caught.count, 3, 'only the three new messages');
        assert.deepEqual(
          a1.results.map((r) => body(r.message)),
          ['away 1', 'away 2', 'away 3'],
          'the archive served exactly the new ones, in order',
        );
        const archiveIds = a1.results.map((r) => r.id);
        // Offline delivery brings the same three as plain messages with a delay. Each message
        // thus arrives twice (archive, offline), whichever first: the app sees it once, the
        // other copy is a duplicate by the same stanza-id.
        await a1.until(
          () =>
            seen(a1, /^away/).length + a1.duplicates.filter((m) => /^away/.test(m.body ?? '')).length === 6,
          'both copies of the three messages',
        );
        const shown = seen(a1, /^away/);
        const dups = a1.duplicates.filter((m) => /^away/.test(m.body ?? ''));
        assert.deepEqual(
          shown.map((m) => m.stanzaId()).sort(),
          [...archiveIds].sort(),
          'the app saw each of the three once',
        );
        assert.deepEqual(shown.map((m) => m.body).sort(), ['away 1', 'away 2', 'away 3']);
        assert.deepEqual(dups.map((m) => m.stanzaId()).sort(), [...archiveIds].sort());
        const offline = [...shown, ...dups].filter((m) => m.source !== 'archive');
        const archived = [...shown, ...dups].filter((m) => m.source === 'archive');
        assert.equal(archived.length, 3);
        assert.equal(offline.length, 3);
        assert.ok(
          offline.every((m) => m.source === 'offline' && m.delay !== undefined),
          `offline copies are source offline and carry a delay: ${offline.map((m) => m.source).join(', ')}`,
        );
        assert.deepEqual(
          offline.map((m) => m.stanzaId()).sort(),
          [...archiveIds].sort(),
          'offline copies carry the archive id as their stanza-id',
        );
        assert.ok(!seen(a1, /^before/).length, 'nothing from before the position came again');
        assert.deepEqual([...a1.errors, ...bb.errors], []);
      } finally {
        await Promise.all([a1.client.disconnect(), bb.client.disconnect()]);
      }
    });
  });
}

describe('carbons and MAM on the minimal Prosody (neither offered)', () => {
  test('both degrade silently: statuses say unsupported, no errors', async () => {
    const srv = prosodyMinimal();
    const a = await freshAccount(srv, 'na');
    const a1 = await login(srv, a, 'res1');
    const { carbons, mam } = a1.client;
    try {
      await a1.until(
        () => carbons.status === 'unsupported' && mam.status === 'unsupported',
        `unsupported statuses (carbons ${carbons.status}, mam ${mam.status})`,
      );
      assert.equal(carbons.supported, false);
      assert.equal(mam.supported, false);
      assert.equal(await mam.catchUp(), undefined);
      assert.deepEqual(a1.caughtUp, []);
      assert.deepEqual(a1.errors, []);
    } finally {
      await a1.client.disconnect();
    }
  });
});
