// Dialogue tests of room bookmarks: XEP-0402 v1.2.0 (PEP native bookmarks) with XEP-0048 v1.2 in
// XEP-0049 private storage as the fallback, autojoin through the MUC feature, and the trust rule:
// a bookmarks notification is believed only from our own account's PEP service.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ACCOUNT, online } from '../../../test/helpers/online.ts';
import type { Client } from '../../client.ts';
import { ConfabError } from '../../errors.ts';
import { MemoryStore } from '../../store/memory.ts';
import { type Element, xml } from '../../xml/element.ts';
import type { FeatureContext } from '../context.ts';
import { Disco } from '../disco/disco.ts';
import type { Muc, Room } from '../muc/muc.ts';
import { NS as PUBSUB } from '../pep/codec.ts';
import { Pep } from '../pep/pep.ts';
import { PrivateStorage } from '../private/private.ts';
import { type Bookmark, Bookmarks } from './bookmarks.ts';
import {
  buildStorage,
  NS_BOOKMARKS_LEGACY,
  NS_BOOKMARKS2,
  NS_BOOKMARKS2_COMPAT,
  readConference,
  readStorage,
} from './codec.ts';

const fixture = (n: string) =>
  readFileSync(new URL(`./fixtures/${n}`, import.meta.url), 'utf8').replace(/^\s+|\s+$/g, '');
const withId = (xmlText: string, id: string | undefined) => xmlText.replace("id='retrieve1'", `id='${id}'`);

const NS_INFO = 'http://jabber.org/protocol/disco#info';
const NS_PRIVATE = 'jabber:iq:private';
const PLAY = 'theplay@conference.shakespeare.lit';
const ORCHARD = 'orchard@conference.shakespeare.lit';

interface Joined {
  room: string;
  nick: string | readonly string[];
  password: string | undefined;
}

async function setup(o: { autojoin?: boolean } = {}) {
  const joins: Joined[] = [];
  let bookmarks!: Bookmarks;
  const fakeMuc = {
    join: async (room: string, j: { nick: string | readonly string[]; password?: string }) => {
      joins.push({ room, nick: j.nick, password: j.password });
      return { jid: room } as unknown as Room;
    },
    get: (_room: string) => undefined,
  };
  const on = await online({}, (client: Client) => {
    const disco = new Disco({ client });
    const ctx = {
      client,
      store: new MemoryStore(),
      options: {},
      onError: (e: ConfabError) => {
        throw e;
      },
      isOnline: () => client.status === 'online',
      disco,
      pep: new Pep({ client, disco }),
      private: new PrivateStorage({ client }),
      muc: fakeMuc as unknown as Muc,
    } as unknown as FeatureContext & { muc: Muc };
    bookmarks = new Bookmarks(ctx, { autojoin: o.autojoin ?? true });
  });
  return { ...on, bookmarks, joins };
}

/** Answer the account disco#info with these features (and a PEP identity unless `pep: false`). */
function answerInfo(t: { recv(x: string | Element): void }, iq: Element, features: string[], pep = true) {
  assert.equal(iq.attr('to'), ACCOUNT, 'the account, not the server');
  const ids = [
    "<identity category='account' type='registered'/>",
    pep ? "<identity category='pubsub' type='pep'/>" : '',
  ].join('');
  const vars = features.map((v) => `<feature var='${v}'/>`).join('');
  t.recv(
    `<iq type='result' id='${iq.attr('id')}' from='${ACCOUNT}'><query xmlns='${NS_INFO}'>${ids}${vars}</query></iq>`,
  );
}

const tick = () => new Promise((r) => setImmediate(r));

describe('bookmarks codec', () => {
  test('XEP-0402 Example 3 items: name, nick, autojoin true and 1, extensions kept', () => {
    const iq = withId(fixture('xep0402-items-result.xml'), 'x');
    const items = iq.match(/<item id='([^']+)'/g)?.length;
    assert.equal(items, 2);
    const conference = xml(
      'conference',
      { xmlns: NS_BOOKMARKS2, name: 'N', autojoin: '1' },
      xml('nick', null, 'JC'),
    );
    assert.deepEqual(readConference(PLAY, conference), {
      jid: PLAY,
      name: 'N',
      nick: 'JC',
      password: undefined,
      autojoin: true,
      extensions: undefined,
    });
    assert.equal(readConference('room@service/nick', conference), undefined, 'an item id must be a bare JID');
    assert.equal(readConference(PLAY, xml('conference', { xmlns: 'urn:other' })), undefined);
  });

  test('XEP-0048 storage: read the conference, keep the url bookmark when writing back', () => {
    const iqText = fixture('xep0048-storage-result.xml');
    const storage = parseStorage(iqText);
    const [b] = readStorage(storage);
    assert.deepEqual(b, {
      jid: 'council@conference.underhill.org',
      name: 'Council of Oberon',
      nick: 'Puck',
      password: 'titania',
      autojoin: true,
      extensions: undefined,
    });
    const out = buildStorage([{ ...b!, autojoin: false }], storage);
    assert.equal(out.getChildren('url', NS_BOOKMARKS_LEGACY).length, 1, 'the url bookmark survives');
    assert.equal(out.getChild('conference', NS_BOOKMARKS_LEGACY)?.attr('autojoin'), 'false');
  });
});

function parseStorage(iqText: string): Element {
  // The fixture's storage element, via the same parser the client uses (through a fake server).
  const m = /<storage[\s\S]*<\/storage>/.exec(iqText);
  assert.ok(m);
  const conference = /<conference name='([^']+)'\s+autojoin='true'\s+jid='([^']+)'>/.exec(m[0]);
  assert.ok(conference);
  return xml(
    'storage',
    { xmlns: NS_BOOKMARKS_LEGACY },
    xml(
      'conference',
      { name: conference[1], autojoin: 'true', jid: conference[2] },
      xml('nick', null, 'Puck'),
      xml('password', null, 'titania'),
    ),
    xml('url', { name: 'Complete Works of Shakespeare', url: 'http://the-tech.mit.edu/Shakespeare/' }),
  );
}

describe('bookmarks: XEP-0402 where the server has #compat', () => {
  test('login: reads the PEP node, autojoins both autojoin bookmarks with their nick', async () => {
    const { t, nextIq, bookmarks, joins } = await setup();
    const changes: Bookmark[][] = [];
    bookmarks.on('change', (l) => changes.push(l));
    const info = await nextIq('get', NS_INFO);
    answerInfo(t, info, [NS_BOOKMARKS2_COMPAT]);
    const items = await nextIq('get', PUBSUB.pubsub);
    assert.equal(items.attr('to'), undefined, 'our own PEP service');
    assert.equal(
      items.getChild('pubsub', PUBSUB.pubsub)?.getChild('items', PUBSUB.pubsub)?.attr('node'),
      NS_BOOKMARKS2,
    );
    t.recv(withId(fixture('xep0402-items-result.xml'), items.attr('id')));
    await tick();
    await tick();
    assert.deepEqual(
      joins.map((j) => [j.room, j.nick]),
      [
        [PLAY, 'JC'],
        [ORCHARD, 'JC'],
      ],
    );
    assert.equal(changes.at(-1)?.length, 2);
    const orchard = changes.at(-1)?.find((b) => b.jid === ORCHARD);
    assert.ok(orchard?.extensions, 'extensions kept');
    assert.equal(await bookmarks.storage(), 'pep');
  });

  test('set publishes one item (id = room) with the XEP-0402 publish options; remove retracts', async () => {
    const { t, nextIq, bookmarks, joins } = await setup({ autojoin: false });
    const p = bookmarks.set({ jid: PLAY, name: 'The Play', nick: 'JC', autojoin: true, password: 'pw' });
    answerInfo(t, await nextIq('get', NS_INFO), [NS_BOOKMARKS2_COMPAT]);
    const pub = await nextIq('set', PUBSUB.pubsub);
    const publish = pub.getChild('pubsub', PUBSUB.pubsub)!.getChild('publish', PUBSUB.pubsub)!;
    assert.equal(publish.attr('node'), NS_BOOKMARKS2);
    const item = publish.getChild('item', PUBSUB.pubsub)!;
    assert.equal(item.attr('id'), PLAY);
    const c = item.getChild('conference', NS_BOOKMARKS2)!;
    assert.equal(c.attr('autojoin'), 'true');
    assert.equal(c.attr('name'), 'The Play');
    assert.equal(c.getChildText('nick', NS_BOOKMARKS2), 'JC');
    assert.equal(c.getChildText('password', NS_BOOKMARKS2), 'pw');
    const form = pub.getChild('pubsub', PUBSUB.pubsub)!.getChild('publish-options', PUBSUB.pubsub)!;
    const fields = new Map(
      form
        .elements()[0]!
        .getChildren('field')
        .map((f) => [f.attr('var'), f.getChildText('value')]),
    );
    assert.equal(fields.get('FORM_TYPE'), 'http://jabber.org/protocol/pubsub#publish-options');
    assert.equal(fields.get('pubsub#access_model'), 'whitelist');
    assert.equal(fields.get('pubsub#persist_items'), 'true');
    assert.equal(fields.get('pubsub#max_items'), 'max');
    assert.equal(fields.get('pubsub#send_last_published_item'), 'never');
    t.recv(`<iq type='result' id='${pub.attr('id')}'/>`);
    assert.equal((await p).jid, PLAY);
    assert.deepEqual(joins, [], 'autojoin switched off');

    const r = bookmarks.remove(PLAY);
    const retract = await nextIq('set', PUBSUB.pubsub);
    const rel = retract.getChild('pubsub', PUBSUB.pubsub)!.getChild('retract', PUBSUB.pubsub)!;
    assert.equal(rel.attr('node'), NS_BOOKMARKS2);
    assert.equal(rel.attr('notify'), 'true');
    assert.equal(rel.getChild('item', PUBSUB.pubsub)?.attr('id'), PLAY);
    t.recv(`<iq type='result' id='${retract.attr('id')}'/>`);
    await r;
  });

  test('notifications: believed from our bare JID only; a stranger cannot plant or delete one', async () => {
    const { t, nextIq, bookmarks, joins } = await setup();
    answerInfo(t, await nextIq('get', NS_INFO), [NS_BOOKMARKS2_COMPAT]);
    const items = await nextIq('get', PUBSUB.pubsub);
    t.recv(
      `<iq type='result' id='${items.attr('id')}'><pubsub xmlns='${PUBSUB.pubsub}'><items node='${NS_BOOKMARKS2}'/></pubsub></iq>`,
    );
    await tick();
    const sets: Bookmark[] = [];
    const removes: string[] = [];
    bookmarks.on('set', (b) => sets.push(b));
    bookmarks.on('remove', (e) => removes.push(e.jid));

    // A forged one from someone else, and one from another resource of ours (a PEP service is a bare JID).
    const notification = fixture('xep0402-notification.xml');
    t.recv(notification.replace("from='juliet@capulet.lit'", "from='romeo@montague.lit'"));
    t.recv(notification.replace("from='juliet@capulet.lit'", "from='juliet@capulet.lit/other'"));
    await tick();
    assert.equal(sets.length, 0);
    assert.equal(joins.length, 0, 'no autojoin of a planted bookmark');

    t.recv(notification);
    await tick();
    assert.deepEqual(
      sets.map((b) => [b.jid, b.nick, b.autojoin]),
      [[PLAY, 'JC', true]],
    );
    assert.deepEqual(
      joins.map((j) => j.room),
      [PLAY],
      'an autojoin bookmark from another of our clients is joined',
    );

    const retract = fixture('xep0402-retract.xml');
    t.recv(retract.replace("from='juliet@capulet.lit'", "from='romeo@montague.lit'"));
    await tick();
    assert.deepEqual(removes, [], 'a stranger cannot delete our bookmark');
    t.recv(retract);
    await tick();
    assert.deepEqual(removes, [PLAY]);
  });
});

describe('bookmarks: XEP-0048 fallback', () => {
  test('no #compat: reads private storage, writes it back (url kept) and the PEP item too', async () => {
    const { t, nextIq, bookmarks, joins } = await setup();
    answerInfo(t, await nextIq('get', NS_INFO), []);
    // Probe + read of private storage.
    const probe = await nextIq('get', NS_PRIVATE);
    t.recv(withId(fixture('xep0048-storage-result.xml'), probe.attr('id')));
    const read = await nextIq('get', NS_PRIVATE);
    t.recv(withId(fixture('xep0048-storage-result.xml'), read.attr('id')));
    const pepRead = await nextIq('get', PUBSUB.pubsub);
    t.recv(
      `<iq type='error' id='${pepRead.attr('id')}'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
    await tick();
    await tick();
    assert.deepEqual(
      joins.map((j) => [j.room, j.nick, j.password]),
      [['council@conference.underhill.org', 'Puck', 'titania']],
    );
    assert.equal(await bookmarks.storage(), 'private');

    const p = bookmarks.set({ jid: PLAY, name: 'Play', autojoin: false });
    const get = await nextIq('get', NS_PRIVATE);
    t.recv(withId(fixture('xep0048-storage-result.xml'), get.attr('id')));
    const set = await nextIq('set', NS_PRIVATE);
    const storage = set.getChild('query', NS_PRIVATE)!.getChild('storage', NS_BOOKMARKS_LEGACY)!;
    assert.deepEqual(
      storage.getChildren('conference', NS_BOOKMARKS_LEGACY).map((c) => c.attr('jid')),
      ['council@conference.underhill.org', PLAY],
    );
    assert.equal(
      storage.getChildren('url', NS_BOOKMARKS_LEGACY).length,
      1,
      "another client's url bookmark kept",
    );
    t.recv(`<iq type='result' id='${set.attr('id')}'/>`);
    const pub = await nextIq('set', PUBSUB.pubsub);
    assert.equal(
      pub.getChild('pubsub', PUBSUB.pubsub)?.getChild('publish', PUBSUB.pubsub)?.attr('node'),
      NS_BOOKMARKS2,
    );
    t.recv(`<iq type='result' id='${pub.attr('id')}'/>`);
    await p;
  });

  test('neither PEP nor private storage: ERR_UNSUPPORTED, and autojoin stays quiet', async () => {
    const { t, nextIq, bookmarks, joins } = await setup();
    answerInfo(t, await nextIq('get', NS_INFO), [], false);
    const probe = await nextIq('get', NS_PRIVATE);
    t.recv(
      `<iq type='error' id='${probe.attr('id')}'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
    await tick();
    await assert.rejects(
      bookmarks.list(),
      (e: unknown) => e instanceof ConfabError && e.code === 'ERR_UNSUPPORTED',
    );
    await assert.rejects(
      bookmarks.add({ jid: PLAY, autojoin: true }),
      (e: unknown) => e instanceof ConfabError && e.code === 'ERR_UNSUPPORTED',
    );
    assert.deepEqual(joins, []);
  });

  test('bad input: a full JID is no room', async () => {
    const { bookmarks } = await setup({ autojoin: false });
    await assert.rejects(
      bookmarks.set({ jid: `${PLAY}/nick`, autojoin: false }),
      (e: unknown) => e instanceof ConfabError && e.code === 'ERR_BAD_INPUT',
    );
  });
});

// ---------------------------------------------------------------- the whole client

/**
 * A full client (every feature) logs in and disconnects. The server holds back its answers to
 * the login's requests until it saw the unavailable presence, then answers everything: the
 * bookmarks autojoin read, the MAM catch-up and carbons must not ask anything further after
 * the goodbye (a debug log once showed the pubsub items and the MAM query after it).
 */
async function loginThenLeave(early: boolean): Promise<{ after: string[]; before: string[] }> {
  const { client, t } = await online({ features: undefined, timeouts: { disconnect: 150, iq: 2_000 } });
  // A socket takes a while to flush the goodbye (and with XEP-0198 the client then waits for
  // the server's ack): the answers to the login's requests arrive in that window.
  const send = t.send.bind(t);
  t.send = async (e: Element) => {
    await send(e);
    if (e.name === 'presence' && e.attr('type') === 'unavailable')
      await new Promise((r) => setTimeout(r, 30));
  };
  const held: Element[] = [];
  const before: string[] = [];
  const after: string[] = [];
  let gone = false;
  const answer = (iq: Element) => {
    const to = iq.attr('to');
    const q = iq.elements()[0];
    let payload = '';
    if (q?.name === 'query' && q.xmlns === NS_INFO && (to === undefined || to === ACCOUNT))
      payload = `<query xmlns='${NS_INFO}'><identity category='account' type='registered'/><identity category='pubsub' type='pep'/><feature var='${NS_BOOKMARKS2_COMPAT}'/><feature var='urn:xmpp:mam:2'/></query>`;
    else if (q?.name === 'query' && q.xmlns === NS_INFO)
      payload = `<query xmlns='${NS_INFO}'><feature var='urn:xmpp:carbons:2'/></query>`;
    else if (q?.name === 'pubsub')
      payload = `<pubsub xmlns='${PUBSUB}'><items node='${NS_BOOKMARKS2}'/></pubsub>`;
    else if (q?.name === 'query' && q.xmlns === 'urn:xmpp:mam:2')
      payload = `<fin xmlns='urn:xmpp:mam:2' complete='true'/>`;
    const from = to === undefined ? '' : ` from='${to}'`;
    t.recv(`<iq type='result' id='${iq.attr('id')}'${from}>${payload}</iq>`);
  };
  let sawDisco!: () => void;
  const disco = new Promise<void>((r) => {
    sawDisco = r;
  });
  const serving = (async () => {
    for (;;) {
      const s = await t.next();
      if (s.kind === 'close' || s.kind === 'destroy') return;
      if (s.kind !== 'element') continue;
      const e = s.el;
      (gone ? after : before).push(`${e.name} ${e.attr('type') ?? ''} ${e.elements()[0]?.xmlns ?? ''}`);
      if (e.name === 'presence' && e.attr('type') === 'unavailable') {
        gone = true;
        for (const iq of held.splice(0)) answer(iq);
      } else if (e.name === 'iq' && (e.attr('type') === 'get' || e.attr('type') === 'set')) {
        if (e.elements()[0]?.xmlns === NS_INFO && e.attr('to') === ACCOUNT) sawDisco();
        if (gone) answer(e);
        else held.push(e);
      }
    }
  })();
  // early: at once; else once the login asked for our account's features and the bookmarks'
  // autojoin run (deferred by one macrotask after 'online') has started.
  if (!early) {
    await disco;
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(client.status, 'online');
  }
  await client.disconnect();
  await serving;
  return { before, after };
}

describe('bookmarks, MAM and carbons stop asking once disconnect() began', () => {
  test('disconnect right after connect: no iq after the unavailable presence', async () => {
    const { after } = await loginThenLeave(true);
    assert.deepEqual(
      after.filter((x) => x.startsWith('iq ')),
      [],
    );
  });

  test('disconnect while the login requests are unanswered: none follows the goodbye', async () => {
    const { before, after } = await loginThenLeave(false);
    // The deferred autojoin run had begun (it asked for our features) before we left.
    assert.ok(before.some((x) => x === `iq get ${NS_INFO}`));
    assert.deepEqual(
      after.filter((x) => x.startsWith('iq ')),
      [],
    );
  });
});
