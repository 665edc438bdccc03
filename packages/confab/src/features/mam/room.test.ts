// Dialogue test of room history (XEP-0313 6: the room as the archive): the query goes to the
// room's bare JID with nothing handed to the one-to-one pipeline; results are believed only from
// the room itself (an occupant's full JID or a stranger sending a "result" for our query id is
// ignored); the believed ones go to the room's `ingest` with their archive id and delay, oldest
// first; a room without an archive is ERR_UNSUPPORTED.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { online } from '../../../test/helpers/online.ts';
import { ConfabError } from '../../errors.ts';
import type { BareJid } from '../../jid.ts';
import { MemoryStore } from '../../store/memory.ts';
import type { Element } from '../../xml/element.ts';
import type { GroupMessage } from '../muc/types.ts';
import { NS_MAM, NS_RSM } from './codec.ts';
import { Mam } from './mam.ts';

const ROOM = 'coven@chat.shakespeare.lit' as BareJid;

function result(
  from: string,
  queryId: string,
  id: string,
  nick: string,
  body: string,
  stamp: string,
): string {
  return (
    `<message from='${from}' to='juliet@capulet.lit/balcony'><result xmlns='${NS_MAM}' queryid='${queryId}' id='${id}'>` +
    `<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='${stamp}'/>` +
    `<message xmlns='jabber:client' from='${ROOM}/${nick}' type='groupchat'><body>${body}</body></message>` +
    `</forwarded></result></message>`
  );
}

async function setup() {
  const forwarded: Element[] = [];
  let mam!: Mam;
  const o = await online({}, (client) => {
    mam = new Mam({
      client,
      store: new MemoryStore(),
      options: { catchUp: false },
      accountFeatures: async () => [],
      onForwarded: (m) => {
        forwarded.push(m);
      },
    });
  });
  const ingested: Array<{ el: Element; archiveId: string | undefined; stamp: string | undefined }> = [];
  const room = {
    jid: ROOM,
    ingest(el: Element, x: { archiveId?: string; delay?: { stamp: Date } } = {}) {
      ingested.push({ el, archiveId: x.archiveId, stamp: x.delay?.stamp.toISOString() });
      // The second copy of an archive id is a duplicate (the room's de-duplication).
      if (ingested.filter((i) => i.archiveId === x.archiveId).length > 1) return undefined;
      return { body: el.getChildText('body') } as unknown as GroupMessage;
    },
  };
  return { ...o, mam, room, ingested, forwarded };
}

describe('room history (MUC MAM)', () => {
  test('query to the room, newest N backward; only the room is believed; fed to the room oldest first', async () => {
    const { t, nextIq, mam, room, ingested, forwarded } = await setup();
    const p = mam.roomHistory(room, { last: 3 });
    const iq = await nextIq('set', NS_MAM);
    assert.equal(iq.attr('to'), ROOM);
    const query = iq.getChild('query', NS_MAM)!;
    const set = query.getChild('set', NS_RSM)!;
    assert.equal(set.getChildText('max', NS_RSM), '3');
    assert.equal(set.getChildText('before', NS_RSM), '', 'the last page');
    const qid = query.attr('queryid')!;
    t.recv(result(ROOM, qid, 'a1', 'witch', 'Thrice', '2010-07-10T23:08:25Z'));
    // An occupant (a full JID of the room) and a stranger forging results for our query.
    t.recv(result(`${ROOM}/witch`, qid, 'x1', 'witch', 'forged by an occupant', '2010-07-10T23:08:26Z'));
    t.recv(
      result('mallory@evil.example', qid, 'x2', 'witch', 'forged by a stranger', '2010-07-10T23:08:27Z'),
    );
    t.recv(result(ROOM, qid, 'a2', 'witch', 'the brinded cat', '2010-07-10T23:08:28Z'));
    t.recv(result(ROOM, qid, 'a2', 'witch', 'the brinded cat', '2010-07-10T23:08:28Z'));
    t.recv(
      `<iq type='result' from='${ROOM}' id='${iq.attr('id')}'><fin xmlns='${NS_MAM}' complete='true'>` +
        `<set xmlns='${NS_RSM}'><first>a1</first><last>a2</last></set></fin></iq>`,
    );
    const h = await p;
    assert.deepEqual(
      ingested.map((i) => [i.archiveId, i.el.getChildText('body'), i.stamp]),
      [
        ['a1', 'Thrice', '2010-07-10T23:08:25.000Z'],
        ['a2', 'the brinded cat', '2010-07-10T23:08:28.000Z'],
        ['a2', 'the brinded cat', '2010-07-10T23:08:28.000Z'],
      ],
    );
    assert.equal(h.messages.length, 2, 'the duplicate is dropped by the room');
    assert.equal(h.fetched, 3);
    assert.equal(h.first, 'a1');
    assert.equal(h.complete, true);
    assert.deepEqual(forwarded, [], 'room history never reaches the one-to-one pipeline');
  });

  test('forward from a time; a room without an archive is ERR_UNSUPPORTED', async () => {
    const { t, nextIq, mam, room } = await setup();
    const p = mam.roomHistory(room, { since: new Date('2010-07-10T00:00:00Z') });
    const iq = await nextIq('set', NS_MAM);
    const fields = iq
      .getChild('query', NS_MAM)!
      .getChild('x', 'jabber:x:data')!
      .getChildren('field', 'jabber:x:data');
    assert.equal(
      fields.find((f) => f.attr('var') === 'start')?.getChildText('value', 'jabber:x:data'),
      '2010-07-10T00:00:00Z',
    );
    t.recv(
      `<iq type='error' from='${ROOM}' id='${iq.attr('id')}'><error type='cancel'>` +
        `<feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
    await assert.rejects(p, (e: unknown) => e instanceof ConfabError && e.code === 'ERR_UNSUPPORTED');
  });
});
