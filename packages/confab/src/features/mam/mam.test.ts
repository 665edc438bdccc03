// Message Archive Management (XEP-0313 with XEP-0059 paging): the codec against the spec's
// examples, then dialogue tests on a memory transport where the test plays the server:
// catch-up (fresh start, since the last id, expired id), paging both ways, room archives,
// preferences, live stanza-id tracking, and the trust rules: a result is believed only for
// an OPEN query id and from the archive queried; results after the <fin/>, for unknown query
// ids, or from the wrong sender are ignored.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { el, type MemoryTransport, wire } from '../../../test/helpers/memory-transport.ts';
import { ACCOUNT, FULL, online } from '../../../test/helpers/online.ts';
import type { Client } from '../../client.ts';
import type { ConfabError } from '../../errors.ts';
import { MemoryStore } from '../../store/memory.ts';
import { MAM_NS, type Store } from '../../store/types.ts';
import type { Element } from '../../xml/element.ts';
import type { ForwardedMeta } from '../carbons/forwarded.ts';
import { buildQuery, NS_MAM, NS_RSM, readFin, readResult } from './codec.ts';
import { MAM_OWN_KEY, Mam, type MamOptions } from './mam.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim();
const DISCO = 'http://jabber.org/protocol/disco#info';
const ROOM = 'coven@chat.shakespeare.lit';

describe('mam codec (XEP-0313 examples)', () => {
  test('a result: query id, archive id, forwarded message and its delay', () => {
    const r = readResult(el(fixture('xep0313-result.xml')));
    assert.equal(r?.queryId, 'f27');
    assert.equal(r?.id, '28482-98726-73623');
    assert.equal(r?.from, undefined);
    assert.equal(r?.forwarded?.message.getChildText('body'), 'Hail to thee');
    assert.equal(r?.forwarded?.delay?.stamp.toISOString(), '2010-07-10T23:08:25.000Z');
  });

  test('the <fin/> of the last page: complete, stable, RSM first/last/count', () => {
    const f = readFin(el(fixture('xep0313-fin.xml')));
    assert.deepEqual(f, {
      first: '23452-4534-1',
      firstIndex: 0,
      last: '390-2342-22',
      count: 16,
      complete: true,
      stable: true,
    });
    assert.equal(readFin(el(`<iq type='result'><fin xmlns='${NS_MAM}'/></iq>`)).complete, false);
  });

  test('a page query with a start filter and RSM after, byte for byte', () => {
    const q = buildQuery(
      'f27',
      { start: new Date('2010-08-07T00:00:00Z') },
      { max: 10, after: '09af3-cc343-b409f' },
    );
    assert.equal(wire(q), fixture('xep0313-query.xml'));
    assert.equal(
      wire(buildQuery('q', {}, { max: 5, before: '' })),
      `<query xmlns='${NS_MAM}' queryid='q'><set xmlns='${NS_RSM}'><max>5</max><before/></set></query>`,
    );
  });
});

// ---------------------------------------------------------------- the playing server

/**
 * Plays the server's side: answers every disco#info (our bare JID has `features`, the
 * domain nothing), and queues MAM queries and prefs requests for the test.
 */
class ArchiveServer {
  readonly requests: Element[] = [];
  #wake: (() => void) | undefined;
  constructor(
    readonly t: MemoryTransport,
    readonly features: string[],
  ) {
    void this.#loop();
  }
  async #loop(): Promise<void> {
    for (;;) {
      const x = await this.t.next();
      if (x.kind === 'close' || x.kind === 'destroy') return;
      if (x.kind !== 'element' || x.el.name !== 'iq') continue;
      const iq = x.el;
      if (iq.attr('type') === 'get' && iq.getChild('query', DISCO)) {
        const feats = iq.attr('to') === ACCOUNT ? this.features : [];
        this.t.recv(
          `<iq type='result' id='${iq.attr('id')}' from='${iq.attr('to') ?? 'capulet.lit'}' to='${FULL}'><query xmlns='${DISCO}'>${feats.map((f) => `<feature var='${f}'/>`).join('')}</query></iq>`,
        );
      } else if (iq.elements()[0]?.xmlns === NS_MAM) {
        this.requests.push(iq);
        this.#wake?.();
      }
    }
  }
  /** The next MAM request (query or prefs). */
  async next(): Promise<Element> {
    while (this.requests.length === 0) await new Promise<void>((r) => (this.#wake = r));
    return this.requests.shift()!;
  }
  /** The next query, with its queryid and RSM parts read. */
  async query(): Promise<{ iq: Element; queryId: string; rsm: Record<string, string | undefined> }> {
    const iq = await this.next();
    const q = iq.getChild('query', NS_MAM);
    assert.ok(q, `expected a MAM query, got ${wire(iq)}`);
    const set = q.getChild('set', NS_RSM);
    return {
      iq,
      queryId: q.attr('queryid')!,
      rsm: {
        max: set?.getChildText('max', NS_RSM),
        after: set?.getChildText('after', NS_RSM),
        before: set?.getChildText('before', NS_RSM),
      },
    };
  }
  /** A result message for `queryId` with archive id `id` (from: our bare JID by default; null: none). */
  result(queryId: string, id: string, body: string, from: string | null = ACCOUNT): string {
    return `<message${from === null ? '' : ` from='${from}'`} to='${FULL}' id='r-${id}'><result xmlns='${NS_MAM}' queryid='${queryId}' id='${id}'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-01-01T00:00:00Z'/><message xmlns='jabber:client' from='romeo@montague.lit/orchard' to='${ACCOUNT}' type='chat' id='m-${id}'><body>${body}</body></message></forwarded></result></message>`;
  }
  fin(
    iq: Element,
    first: string | undefined,
    last: string | undefined,
    complete: boolean,
    from?: string,
  ): string {
    const set =
      first === undefined
        ? `<set xmlns='${NS_RSM}'><count>0</count></set>`
        : `<set xmlns='${NS_RSM}'><first index='0'>${first}</first><last>${last}</last></set>`;
    return `<iq type='result' id='${iq.attr('id')}'${from ? ` from='${from}'` : ''} to='${FULL}'><fin xmlns='${NS_MAM}'${complete ? " complete='true'" : ''}>${set}</fin></iq>`;
  }
  /** Answer a query with these archive ids (bodies = ids), then its fin. */
  answer(q: { iq: Element; queryId: string }, ids: string[], complete: boolean): void {
    for (const id of ids) this.t.recv(this.result(q.queryId, id, id));
    this.t.recv(this.fin(q.iq, ids[0], ids.at(-1), complete));
  }
}

interface Session {
  client: Client;
  t: MemoryTransport;
  server: ArchiveServer;
  mam: Mam;
  store: Store;
  ingested: Array<{ inner: Element; meta: ForwardedMeta }>;
  ignored: string[];
  errors: ConfabError[];
  messages: number;
}

async function session(
  o: { options?: MamOptions; store?: Store; features?: string[]; intercept?: boolean } = {},
): Promise<Session> {
  const store = o.store ?? new MemoryStore();
  const ingested: Session['ingested'] = [];
  const ignored: string[] = [];
  const errors: ConfabError[] = [];
  let mam!: Mam;
  let messages = 0;
  const s = await online({}, (client) => {
    mam = new Mam({
      client,
      store,
      options: o.options,
      onForwarded: (inner, meta) => {
        ingested.push({ inner, meta });
      },
      onError: (e) => errors.push(e),
      // As the composition root wires it (default): ahead of the app-facing events.
      intercept:
        o.intercept !== false ? (stage) => client.addInboundFilter((x) => stage(x) !== true) : undefined,
    });
    mam.on('ignored', (e) => ignored.push(e.reason));
    client.on('message', () => messages++);
  });
  const server = new ArchiveServer(s.t, o.features ?? [DISCO, NS_MAM]);
  return {
    client: s.client,
    t: s.t,
    server,
    mam,
    store,
    ingested,
    ignored,
    errors,
    get messages() {
      return messages;
    },
  };
}

function statusIs(m: Mam, status: string): Promise<void> {
  if (m.status === status) return Promise.resolve();
  return new Promise((resolve) => {
    const off = m.on('status', (st) => {
      if (st === status) {
        off();
        resolve();
      }
    });
  });
}

const bodies = (s: Session) => s.ingested.map((x) => x.inner.getChildText('body'));

describe('mam: catch-up (XEP-0313 4.3, XEP-0059)', () => {
  test('fresh start by default: no history handed on, only the archive end noted', async () => {
    const s = await session();
    const caught = new Promise<{ count: number; fresh: boolean; last: string | undefined }>((r) =>
      s.mam.once('caughtUp', r),
    );
    const q = await s.server.query();
    assert.deepEqual(q.rsm, { max: '1', after: undefined, before: '' });
    s.t.recv(s.server.result(q.queryId, 'A9', 'old news', null));
    s.t.recv(s.server.fin(q.iq, 'A9', 'A9', false));
    assert.deepEqual(await caught, { count: 0, since: undefined, fresh: true, last: 'A9' });
    assert.deepEqual(bodies(s), [], 'a bot must not see last week as new messages');
    assert.deepEqual((await s.store.get(MAM_NS, MAM_OWN_KEY)) as { id: string }, {
      id: 'A9',
      at: ((await s.store.get(MAM_NS, MAM_OWN_KEY)) as { at: number }).at,
    });
  });

  test('fresh start { last: 50 }: the newest 50 (empty <before/>), handed on as archive copies, position stored', async () => {
    const s = await session({ options: { fresh: { last: 50 } } });
    const caught = new Promise<{ count: number; fresh: boolean; last: string | undefined }>((r) =>
      s.mam.once('caughtUp', r),
    );
    const q = await s.server.query();
    assert.equal(q.iq.attr('to'), undefined, 'our own archive: no to');
    assert.equal(q.iq.attr('type'), 'set');
    assert.deepEqual(q.rsm, { max: '50', after: undefined, before: '' });
    assert.ok(q.queryId.length >= 16, 'an unpredictable query id');
    s.t.recv(s.server.result(q.queryId, 'A1', 'one', null)); // Prosody: no from
    s.t.recv(s.server.result(q.queryId, 'A2', 'two')); // ejabberd: our bare JID
    s.t.recv(s.server.fin(q.iq, 'A1', 'A2', true));
    assert.deepEqual(await caught, { count: 2, since: undefined, fresh: true, last: 'A2' });
    assert.equal(s.mam.status, 'synced');
    assert.deepEqual(bodies(s), ['one', 'two']);
    const meta = s.ingested[1]!.meta;
    assert.equal(meta.source, 'archive');
    assert.equal(meta.archiveId, 'A2');
    assert.equal(meta.purpose, 'catch-up');
    assert.equal(meta.archive, ACCOUNT);
    assert.equal(meta.delay?.stamp.toISOString(), '2026-01-01T00:00:00.000Z');
    assert.deepEqual((await s.store.get(MAM_NS, MAM_OWN_KEY)) as { id: string }, {
      id: 'A2',
      at: ((await s.store.get(MAM_NS, MAM_OWN_KEY)) as { at: number }).at,
    });
    assert.deepEqual(s.errors, []);
    await s.client.disconnect();
  });

  test('after a restart: forward from the stored id (RSM after), page by page until complete', async () => {
    const store = new MemoryStore();
    await store.apply([{ op: 'set', ns: MAM_NS, key: MAM_OWN_KEY, value: { id: 'A5', at: 1 } }]);
    const s = await session({ store, options: { pageSize: 2 } });
    const caught = new Promise<{ count: number; since: string | undefined }>((r) =>
      s.mam.once('caughtUp', r),
    );
    const q1 = await s.server.query();
    assert.deepEqual(q1.rsm, { max: '2', after: 'A5', before: undefined });
    s.server.answer(q1, ['A6', 'A7'], false);
    const q2 = await s.server.query();
    assert.equal(q2.rsm.after, 'A7');
    assert.notEqual(q2.queryId, q1.queryId, 'a fresh query id per page');
    s.server.answer(q2, ['A8'], true);
    const done = await caught;
    assert.equal(done.count, 3);
    assert.equal(done.since, 'A5');
    assert.deepEqual(bodies(s), ['A6', 'A7', 'A8']);
    assert.equal(((await store.get(MAM_NS, MAM_OWN_KEY)) as { id: string }).id, 'A8');
    await s.client.disconnect();
  });

  test('the stored id expired (item-not-found): falls back to the fresh-start policy', async () => {
    const store = new MemoryStore();
    await store.apply([{ op: 'set', ns: MAM_NS, key: MAM_OWN_KEY, value: { id: 'gone', at: 1 } }]);
    const s = await session({ store, options: { fresh: { last: 3 } } });
    const q1 = await s.server.query();
    assert.equal(q1.rsm.after, 'gone');
    s.t.recv(
      `<iq type='error' id='${q1.iq.attr('id')}'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
    const q2 = await s.server.query();
    assert.deepEqual(q2.rsm, { max: '3', after: undefined, before: '' });
    s.server.answer(q2, ['B1'], true);
    await statusIs(s.mam, 'synced');
    assert.equal(await s.mam.lastSeen(), 'B1');
    assert.deepEqual(s.errors, []);
    await s.client.disconnect();
  });

  test('fresh start "since": a start filter, paging forward', async () => {
    const since = new Date('2026-01-01T00:00:00Z');
    const s = await session({ options: { fresh: { since } } });
    const q = await s.server.query();
    const form = q.iq.getChild('query', NS_MAM)?.getChild('x', 'jabber:x:data');
    const start = form?.getChildren('field', 'jabber:x:data').find((f) => f.attr('var') === 'start');
    assert.equal(start?.getChildText('value', 'jabber:x:data'), '2026-01-01T00:00:00Z');
    assert.equal(q.rsm.before, undefined);
    s.server.answer(q, ['C1'], true);
    await statusIs(s.mam, 'synced');
    await s.client.disconnect();
  });

  test('a server without an archive: status unsupported, no query, no error (degrades silently)', async () => {
    const s = await session({ features: [DISCO] });
    await statusIs(s.mam, 'unsupported');
    assert.equal(s.mam.supported, false);
    assert.equal(await s.mam.catchUp(), undefined);
    await s.client.disconnect();
    assert.equal(s.server.requests.length, 0);
    assert.deepEqual(s.errors, []);
  });
});

describe('mam: the trust rules (XEP-0313 9.2)', () => {
  test('SECURITY: results for an unknown query id are ignored (no query open, or another id)', async () => {
    const s = await session({ options: { catchUp: false } });
    await statusIs(s.mam, 'synced');
    s.t.recv(s.server.result('guessed', 'X1', 'forged with no query open'));
    const page = s.mam.queryPage({ max: 10 });
    const q = await s.server.query();
    s.t.recv(s.server.result(`${q.queryId}x`, 'X2', 'forged, wrong id'));
    s.t.recv(s.server.result(q.queryId, 'G1', 'genuine'));
    s.t.recv(s.server.fin(q.iq, 'G1', 'G1', true));
    const p = await page;
    assert.deepEqual(
      p.results.map((r) => r.id),
      ['G1'],
    );
    assert.deepEqual(bodies(s), ['genuine']);
    assert.deepEqual(s.ignored, ['unknown-query', 'unknown-query']);
    await s.client.disconnect();
  });

  test('SECURITY: results from the wrong sender are ignored (another account, our own full JID)', async () => {
    const s = await session({ options: { catchUp: false } });
    await statusIs(s.mam, 'synced');
    const page = s.mam.queryPage();
    const q = await s.server.query();
    s.t.recv(s.server.result(q.queryId, 'X1', 'from romeo', 'romeo@montague.lit'));
    s.t.recv(s.server.result(q.queryId, 'X2', 'from romeo full', 'romeo@montague.lit/orchard'));
    s.t.recv(s.server.result(q.queryId, 'X3', 'from my other resource', `${ACCOUNT}/chamber`));
    s.t.recv(s.server.result(q.queryId, 'X4', 'from the server domain', 'capulet.lit'));
    s.t.recv(s.server.result(q.queryId, 'G1', 'genuine'));
    s.t.recv(s.server.fin(q.iq, 'G1', 'G1', true));
    assert.deepEqual(
      (await page).results.map((r) => r.id),
      ['G1'],
    );
    assert.deepEqual(s.ignored, ['wrong-sender', 'wrong-sender', 'wrong-sender', 'wrong-sender']);
    await s.client.disconnect();
  });

  test('SECURITY: a result after the <fin/> (same segment, same id) is ignored', async () => {
    const s = await session({ options: { catchUp: false } });
    await statusIs(s.mam, 'synced');
    const page = s.mam.queryPage();
    const q = await s.server.query();
    s.t.recv(s.server.result(q.queryId, 'G1', 'genuine'));
    s.t.recv(s.server.fin(q.iq, 'G1', 'G1', true));
    // Synchronously after the fin, before any promise callback could run.
    s.t.recv(s.server.result(q.queryId, 'X9', 'late forgery'));
    assert.deepEqual(
      (await page).results.map((r) => r.id),
      ['G1'],
    );
    s.t.recv(s.server.result(q.queryId, 'X10', 'later forgery'));
    assert.deepEqual(bodies(s), ['genuine']);
    assert.deepEqual(s.ignored, ['unknown-query', 'unknown-query']);
    await s.client.disconnect();
  });

  test('SECURITY: a room archive answers only from the room bare JID (not us, not an occupant)', async () => {
    const s = await session({ options: { catchUp: false } });
    await statusIs(s.mam, 'synced');
    const page = s.mam.queryPage({ archive: ROOM });
    const q = await s.server.query();
    assert.equal(q.iq.attr('to'), ROOM);
    s.t.recv(s.server.result(q.queryId, 'X1', 'from us', ACCOUNT));
    s.t.recv(s.server.result(q.queryId, 'X2', 'no from', null));
    s.t.recv(s.server.result(q.queryId, 'X3', 'occupant', `${ROOM}/firstwitch`));
    s.t.recv(s.server.result(q.queryId, 'R1', 'room', ROOM));
    s.t.recv(s.server.fin(q.iq, 'R1', 'R1', true, ROOM));
    const p = await page;
    assert.deepEqual(
      p.results.map((r) => [r.id, r.archive]),
      [['R1', ROOM]],
    );
    assert.deepEqual(s.ignored, ['wrong-sender', 'wrong-sender', 'wrong-sender']);
    assert.equal(s.ingested[0]?.meta.archive, ROOM);
    await s.client.disconnect();
  });

  test('wired ahead of the message event: result wrappers (genuine or forged) never become messages', async () => {
    const s = await session({ options: { catchUp: false } });
    await statusIs(s.mam, 'synced');
    const page = s.mam.queryPage();
    const q = await s.server.query();
    s.t.recv(s.server.result(q.queryId, 'G1', 'genuine'));
    s.t.recv(s.server.result('nope', 'X1', 'forged'));
    s.t.recv(s.server.fin(q.iq, 'G1', 'G1', true));
    await page;
    s.t.recv(
      `<message from='romeo@montague.lit/orchard' to='${FULL}' type='chat'><body>live</body></message>`,
    );
    assert.equal(s.messages, 1);
    await s.client.disconnect();
  });
});

describe('mam: queries and paging', () => {
  test('pages() follows RSM forward; messages() backward yields newest first', async () => {
    const s = await session({ options: { catchUp: false } });
    await statusIs(s.mam, 'synced');
    const got: string[] = [];
    const walk = (async () => {
      for await (const p of s.mam.pages({ with: 'romeo@montague.lit', max: 2 }))
        got.push(...p.results.map((r) => r.id));
    })();
    const q1 = await s.server.query();
    const form = q1.iq.getChild('query', NS_MAM)?.getChild('x', 'jabber:x:data');
    assert.match(wire(form!), /<field var='with'><value>romeo@montague.lit<\/value><\/field>/);
    s.server.answer(q1, ['1', '2'], false);
    const q2 = await s.server.query();
    assert.equal(q2.rsm.after, '2');
    s.server.answer(q2, ['3', '4'], false);
    const q3 = await s.server.query();
    s.server.answer(q3, ['5'], true);
    await walk;
    assert.deepEqual(got, ['1', '2', '3', '4', '5']);

    const back: string[] = [];
    const walkBack = (async () => {
      for await (const r of s.mam.messages({ before: '', max: 2, limit: 3 })) back.push(r.id);
    })();
    const b1 = await s.server.query();
    assert.equal(b1.rsm.before, '');
    s.server.answer(b1, ['4', '5'], false);
    const b2 = await s.server.query();
    assert.equal(b2.rsm.before, '4', 'the page before the first of the last page');
    assert.equal(b2.rsm.max, '1', 'only what the limit still needs');
    s.server.answer(b2, ['3'], false);
    await walkBack;
    assert.deepEqual(back, ['5', '4', '3']);
    await s.client.disconnect();
  });

  test('preferences get and set (XEP-0441)', async () => {
    const s = await session({ options: { catchUp: false } });
    await statusIs(s.mam, 'synced');
    const got = s.mam.getPrefs();
    const g = await s.server.next();
    assert.equal(wire(g.elements()[0]!), `<prefs xmlns='${NS_MAM}'/>`);
    s.t.recv(
      `<iq type='result' id='${g.attr('id')}'><prefs xmlns='${NS_MAM}' default='roster'><always><jid>romeo@montague.lit</jid></always><never/></prefs></iq>`,
    );
    assert.deepEqual(await got, { default: 'roster', always: ['romeo@montague.lit'], never: [] });
    const set = s.mam.setPrefs({ default: 'always', always: [], never: ['nurse@capulet.lit'] });
    const st = await s.server.next();
    assert.equal(st.attr('type'), 'set');
    assert.equal(
      wire(st.elements()[0]!),
      `<prefs xmlns='${NS_MAM}' default='always'><always/><never><jid>nurse@capulet.lit</jid></never></prefs>`,
    );
    s.t.recv(`<iq type='result' id='${st.attr('id')}'/>`);
    assert.equal((await set).never[0], 'nurse@capulet.lit');
    await s.client.disconnect();
  });
});

describe('mam: the position follows live messages (XEP-0359 stanza-id by our bare JID)', () => {
  test('live and carbon copies advance it; an id by someone else, or in a forged carbon, does not', async () => {
    const s = await session({ options: { catchUp: false } });
    await statusIs(s.mam, 'synced');
    const sid = (by: string, id: string) => `<stanza-id xmlns='urn:xmpp:sid:0' by='${by}' id='${id}'/>`;
    s.t.recv(
      `<message from='romeo@montague.lit/o' to='${FULL}' type='chat'><body>a</body>${sid(ACCOUNT, 'L1')}</message>`,
    );
    assert.equal(await s.mam.lastSeen(), 'L1');
    s.t.recv(
      `<message from='romeo@montague.lit/o' to='${FULL}' type='chat'><body>b</body>${sid('romeo@montague.lit', 'EVIL')}</message>`,
    );
    assert.equal(await s.mam.lastSeen(), 'L1');
    const carbon = (from: string, id: string) =>
      `<message from='${from}' to='${FULL}' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='romeo@montague.lit/o' to='${ACCOUNT}/chamber' type='chat'><body>c</body>${sid(ACCOUNT, id)}</message></forwarded></received></message>`;
    s.t.recv(carbon('romeo@montague.lit', 'EVIL2'));
    assert.equal(await s.mam.lastSeen(), 'L1');
    s.t.recv(carbon(ACCOUNT, 'L2'));
    assert.equal(await s.mam.lastSeen(), 'L2');
    await new Promise((r) => setImmediate(r));
    assert.equal(((await s.store.get(MAM_NS, MAM_OWN_KEY)) as { id: string }).id, 'L2');
    await s.client.disconnect();
  });
});
