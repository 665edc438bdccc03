// Carbons (XEP-0280) and the message archive (XEP-0313) against the real test-bed servers,
// Prosody and ejabberd, with two resources of account A and an account B:
// - B -> A/res1 arrives at A/res2 as a received carbon; A/res1 -> B arrives at A/res2 as a
//   sent carbon (the peer is the inner `to`);
// - a MAM query paging over 25 messages returns all of them, in order; their archive ids are
//   the stanza-ids the server stamped on the live copies (what the messages feature dedupes by);
// - catch-up after a reconnection fetches only the messages that came while A was away, and the
//   archive and offline copies of each are the same message (one stanza-id);
// - SECURITY: a "carbon" B sends A and an archive "result" B sends A are ignored;
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
import { Carbons } from '../../src/features/carbons/carbons.ts';
import { NS_CARBONS } from '../../src/features/carbons/codec.ts';
import type { ForwardedMeta } from '../../src/features/carbons/forwarded.ts';
import { NS_MAM, stanzaIdBy } from '../../src/features/mam/codec.ts';
import { Mam, type MamOptions } from '../../src/features/mam/mam.ts';
import { createClient } from '../../src/index.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import type { Store } from '../../src/store/types.ts';
import { type Element, xml } from '../../src/xml/element.ts';

const WAIT = 10_000;

interface Side {
  client: Client;
  carbons: Carbons;
  mam: Mam;
  jid: string;
  /** Plain (live or offline) messages the app would see. */
  live: Element[];
  /** Verified forwarded copies (carbons, archive). */
  forwarded: Array<{ inner: Element; meta: ForwardedMeta }>;
  ignored: string[];
  errors: ConfabError[];
  /** Resolves when `check` holds, re-checked on every inbound stanza and forwarded copy. */
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
  });
  const store = o.store ?? new MemoryStore();
  const live: Element[] = [];
  const forwarded: Side['forwarded'] = [];
  const ignored: string[] = [];
  const errors: ConfabError[] = [];
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of [...waiters]) w();
  };
  const onForwarded = (inner: Element, meta: ForwardedMeta) => {
    forwarded.push({ inner, meta });
    poke();
  };
  // Wired as the composition root should: both ahead of the app-facing events.
  const intercept = (stage: (el: Element) => boolean | undefined) =>
    client.addInboundFilter((el) => stage(el) !== true);
  const carbons = new Carbons({ client, onForwarded, intercept, onError: (e) => errors.push(e) });
  const mam = new Mam({
    client,
    store,
    options: o.mam,
    onForwarded,
    intercept,
    onError: (e) => errors.push(e),
  });
  const onIgnored = (e: { reason: string }) => {
    ignored.push(e.reason);
    poke();
  };
  carbons.on('ignored', onIgnored);
  mam.on('ignored', onIgnored);
  carbons.on('status', poke);
  mam.on('status', poke);
  client.on('error', (e) => errors.push(e));
  client.on('stanza', (el) => {
    if (el.name === 'message') live.push(el);
    poke();
  });
  await client.connect();
  const side: Side = {
    client,
    carbons,
    mam,
    jid: account.jid,
    live,
    forwarded,
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
  return side;
}

const body = (m: Element) => m.getChildText('body');
const chat = (to: string, text: string, extra?: Element) =>
  xml(
    'message',
    { to, type: 'chat', id: `t${Math.random().toString(36).slice(2)}` },
    xml('body', null, text),
    extra,
  );

/** Wait until carbons and MAM have settled for this session. */
async function settled(s: Side): Promise<void> {
  await s.until(
    () =>
      (s.carbons.status === 'enabled' || s.carbons.status === 'unsupported') &&
      s.mam.status !== 'off' &&
      s.mam.status !== 'syncing',
    `${s.jid}: carbons and MAM settled (carbons ${s.carbons.status}, mam ${s.mam.status})`,
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
        assert.equal(a1.carbons.status, 'enabled');
        assert.equal(a2.carbons.status, 'enabled');

        await bb.client.send(chat(`${a.jid}/res1`, 'to res1'));
        const rc = await a2.until(
          () => a2.forwarded.find((f) => body(f.inner) === 'to res1'),
          'the received carbon at res2',
        );
        assert.equal(rc.meta.source, 'carbon-received');
        assert.match(rc.inner.attr('from') ?? '', new RegExp(`^${b.jid}/phone$`));
        await a1.until(() => a1.live.find((m) => body(m) === 'to res1'), 'the original at res1');
        assert.ok(!a2.live.some((m) => body(m) === 'to res1'), 'res2 got no plain copy');

        await a1.client.send(chat(b.jid, 'from res1'));
        const sc = await a2.until(
          () => a2.forwarded.find((f) => body(f.inner) === 'from res1'),
          'the sent carbon at res2',
        );
        assert.equal(sc.meta.source, 'carbon-sent');
        assert.equal(sc.inner.attr('to'), b.jid, 'for a sent copy the peer is the inner to');
        assert.deepEqual([...a1.errors, ...a2.errors, ...bb.errors], []);
      } finally {
        await Promise.all([a1.client.disconnect(), a2.client.disconnect(), bb.client.disconnect()]);
      }
    });

    test('SECURITY: a forged carbon from B and forged archive results from B are ignored', async () => {
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
        // The genuine query: open while B's forgeries fly (B even "knows" a query id).
        const query = a1.mam.queryPage({ max: 5 });
        await bb.client.send(xml('message', { to: `${a.jid}/res1`, type: 'chat' }, forgedCarbon));
        await bb.client.send(xml('message', { to: `${a.jid}/res1`, type: 'chat' }, forgedResult('guessed')));
        await bb.client.send(chat(`${a.jid}/res1`, 'marker'));
        await query;
        await a1.until(() => a1.live.find((m) => body(m) === 'marker'), 'the marker after the forgeries');
        assert.ok(
          !a1.forwarded.some((f) => /forged/.test(body(f.inner) ?? '')),
          'no forged copy was handed on',
        );
        assert.ok(
          !a1.live.some((m) => m.getChild('received', NS_CARBONS) || m.getChild('result', NS_MAM)),
          'no wrapper leaked as a message',
        );
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
        assert.equal(a1.mam.supported, true);
        for (let i = 1; i <= 25; i++) await bb.client.send(chat(`${a.jid}/res1`, `m${i}`));
        await a1.until(
          () => a1.live.filter((m) => /^m\d+$/.test(body(m) ?? '')).length === 25,
          '25 live messages',
        );
        const ids: string[] = [];
        const texts: string[] = [];
        let pages = 0;
        for await (const page of a1.mam.pages({ with: b.jid, max: 10 })) {
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
        const liveIds = a1.live.filter((m) => /^m\d+$/.test(body(m) ?? '')).map((m) => stanzaIdBy(m, a.jid));
        assert.deepEqual(liveIds, ids, 'the stanza-id of each live copy is its archive id');
        // Backward from the newest: newest first.
        const back: string[] = [];
        for await (const r of a1.mam.messages({ with: b.jid, before: '', max: 10, limit: 12 }))
          back.push(body(r.message) ?? '');
        assert.deepEqual(
          back,
          Array.from({ length: 12 }, (_, i) => `m${25 - i}`),
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
        assert.equal(a1.mam.status, 'synced');
        await bb.client.send(chat(a.jid, 'before 1'));
        await bb.client.send(chat(a.jid, 'before 2'));
        await a1.until(
          () => a1.live.filter((m) => /^before/.test(body(m) ?? '')).length === 2,
          'two live messages',
        );
        const lastLive = stanzaIdBy(a1.live.at(-1)!, a.jid);
        assert.ok(lastLive, 'the server stamped a stanza-id by our bare JID');
        assert.equal(await a1.mam.lastSeen(), lastLive, 'the position follows live messages');
        await a1.client.disconnect();

        // While A is away.
        for (const t of ['away 1', 'away 2', 'away 3']) await bb.client.send(chat(a.jid, t));
        // Both servers store offline messages and archive them; give them a moment to land by a round trip.
        await bb.client.iq({ type: 'get', payload: xml('ping', { xmlns: 'urn:xmpp:ping' }) });

        a1 = await login(srv, a, 'res1', { store });
        const caught = await new Promise<{ count: number; since: string | undefined }>((resolve) => {
          if (a1.mam.status === 'synced') resolve({ count: -1, since: undefined });
          a1.mam.once('caughtUp', resolve);
        });
        assert.equal(caught.since, lastLive);
        assert.equal(caught.count, 3, 'only the three new messages');
        const archived = a1.forwarded.filter((f) => f.meta.source === 'archive');
        assert.deepEqual(
          archived.map((f) => body(f.inner)),
          ['away 1', 'away 2', 'away 3'],
        );
        // Offline delivery brings the same three as plain messages with a delay: one stanza-id each.
        const offline = await a1.until(() => {
          const o = a1.live.filter((m) => /^away/.test(body(m) ?? ''));
          return o.length === 3 ? o : undefined;
        }, 'three offline messages');
        assert.ok(
          offline.every((m) => m.getChild('delay', 'urn:xmpp:delay')),
          'offline copies carry a delay',
        );
        const key = (m: Element) => stanzaIdBy(m, a.jid);
        assert.deepEqual(
          offline.map(key),
          archived.map((f) => f.meta.archiveId),
          'offline copies carry the archive id as their stanza-id: the app sees each message once',
        );
        // The app's view (the messages feature's dedupe by stanza-id): three messages.
        const unique = new Set([...archived.map((f) => f.meta.archiveId), ...offline.map(key)]);
        assert.equal(unique.size, 3);
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
    try {
      await a1.until(
        () => a1.carbons.status === 'unsupported' && a1.mam.status === 'unsupported',
        `unsupported statuses (carbons ${a1.carbons.status}, mam ${a1.mam.status})`,
      );
      assert.equal(a1.carbons.supported, false);
      assert.equal(a1.mam.supported, false);
      assert.equal(await a1.mam.catchUp(), undefined);
      assert.deepEqual(a1.errors, []);
    } finally {
      await a1.client.disconnect();
    }
  });
});
