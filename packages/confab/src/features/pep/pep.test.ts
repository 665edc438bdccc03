// Dialogue tests of PEP (XEP-0163 v1.2.2 on XEP-0060 v1.30.0), nicknames (XEP-0172 v1.1) and
// avatars (XEP-0084 v1.1.4), with the security rule: an event is believed only from the PEP
// service that sent it (the bare `from`), so a forged event "about us" has no effect.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { FULL, online } from '../../../test/helpers/online.ts';
import { ConfabError } from '../../errors.ts';
import { toBase64 } from '../../util/base64.ts';
import { xml } from '../../xml/element.ts';
import { Disco } from '../disco/disco.ts';
import { Avatars, sha1Hex } from './avatar.ts';
import { NS, parseAvatarMetadata, parseEvent } from './codec.ts';
import { Nicknames } from './nick.ts';
import { Pep } from './pep.ts';

const fixture = (n: string) =>
  readFileSync(new URL(`./fixtures/${n}`, import.meta.url), 'utf8').replace(/^\s+|\s+$/g, '');

async function setup() {
  const o = await online();
  const disco = new Disco({ client: o.client });
  const pep = new Pep({ client: o.client, disco });
  const nicks = new Nicknames({ pep });
  const avatars = new Avatars({ pep });
  return { ...o, disco, pep, nicks, avatars };
}

describe('pep codec', () => {
  test('XEP-0084 4.3 metadata notification and XEP-0172 4.6 nick notification', async () => {
    const { t, avatars, nicks } = await setup();
    const seen = new Promise((r) => avatars.on('avatar', r));
    t.recv(fixture('xep0084-metadata-event.xml'));
    await seen;
    assert.deepEqual(avatars.of('romeo@montague.lit'), {
      id: '111f4b3c50d7b0df729d299bc6f8e9ef9066971f',
      bytes: 12345,
      type: 'image/png',
      width: 64,
      height: 64,
    });
    t.recv(fixture('xep0172-nick-event.xml'));
    assert.equal(nicks.of('romeo@montague.lit'), 'CallMeIshmael', 'the replyto address is not the publisher');
    assert.equal(nicks.of('narrator@moby-dick.lit'), undefined);
  });
  test('retract and purge events; empty metadata means no avatar', () => {
    const ev = parseEvent(
      xml(
        'message',
        null,
        xml('event', { xmlns: NS.event }, xml('items', { node: 'n' }, xml('retract', { id: 'a' }))),
      ),
    );
    assert.deepEqual(ev, { kind: 'items', node: 'n', items: [], retracted: ['a'] });
    assert.deepEqual(parseAvatarMetadata(xml('metadata', { xmlns: NS.avatarMetadata })), []);
  });
});

describe('pep: interest, publish, fetch', () => {
  test('nick and avatar announce +notify; publish sends data then metadata with the SHA-1 id', async () => {
    const { disco, avatars, nicks, nextIq, t } = await setup();
    assert.ok(disco.has(`${NS.nick}+notify`));
    assert.ok(disco.has(`${NS.avatarMetadata}+notify`));
    assert.ok(!disco.has(`${NS.avatarData}+notify`), 'data is fetched on demand, never pushed');

    const pn = nicks.publish('Jules');
    const n = await nextIq('set', NS.pubsub);
    assert.equal(n.attr('to'), undefined, 'our own PEP service');
    const pub = n.getChild('pubsub', NS.pubsub)!.getChild('publish', NS.pubsub)!;
    assert.equal(pub.attr('node'), NS.nick);
    assert.equal(pub.getChild('item', NS.pubsub)?.getChild('nick', NS.nick)?.text(), 'Jules');
    t.recv(`<iq type='result' id='${n.attr('id')}'/>`);
    await pn;

    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const id = await sha1Hex(png);
    const pa = avatars.publish(png, { type: 'image/png', width: 1, height: 1 });
    const d = await nextIq('set', NS.pubsub);
    const dpub = d.getChild('pubsub', NS.pubsub)!.getChild('publish', NS.pubsub)!;
    assert.equal(dpub.attr('node'), NS.avatarData);
    assert.equal(dpub.getChild('item', NS.pubsub)?.attr('id'), id);
    assert.equal(dpub.getChild('item', NS.pubsub)?.getChild('data', NS.avatarData)?.text(), toBase64(png));
    t.recv(`<iq type='result' id='${d.attr('id')}'/>`);
    const m = await nextIq('set', NS.pubsub);
    const info = m
      .getChild('pubsub', NS.pubsub)!
      .getChild('publish', NS.pubsub)!
      .getChild('item', NS.pubsub)!
      .getChild('metadata', NS.avatarMetadata)!
      .getChild('info', NS.avatarMetadata)!;
    assert.equal(info.attr('id'), id);
    assert.equal(info.attr('bytes'), String(png.length));
    t.recv(`<iq type='result' id='${m.attr('id')}'/>`);
    assert.equal(await pa, id);
  });

  test('fetch checks the bytes against the announced id', async () => {
    const { avatars, nextIq, t } = await setup();
    const png = new Uint8Array([1, 2, 3, 4]);
    const id = await sha1Hex(png);
    const good = avatars.fetch('romeo@montague.lit/orchard', id);
    const q = await nextIq('get', NS.pubsub);
    assert.equal(q.attr('to'), 'romeo@montague.lit', 'asked at the bare JID');
    t.recv(
      `<iq type='result' from='romeo@montague.lit' id='${q.attr('id')}'><pubsub xmlns='${NS.pubsub}'><items node='${NS.avatarData}'><item id='${id}'><data xmlns='${NS.avatarData}'>${toBase64(png)}</data></item></items></pubsub></iq>`,
    );
    assert.deepEqual(await good, png);
    const bad = avatars.fetch('romeo@montague.lit', id);
    const q2 = await nextIq('get', NS.pubsub);
    t.recv(
      `<iq type='result' from='romeo@montague.lit' id='${q2.attr('id')}'><pubsub xmlns='${NS.pubsub}'><items node='${NS.avatarData}'><item id='${id}'><data xmlns='${NS.avatarData}'>${toBase64(new Uint8Array([9]))}</data></item></items></pubsub></iq>`,
    );
    await assert.rejects(bad, (e: unknown) => e instanceof ConfabError && e.code === 'ERR_BAD_REPLY');
  });
});

describe('security: a PEP event claiming to be our own account from someone else', () => {
  const nickEvent = (from: string | undefined, nick: string, publisher = 'juliet@capulet.lit') =>
    `<message${from ? ` from='${from}'` : ''} to='${FULL}' type='headline'><event xmlns='${NS.event}'><items node='${NS.nick}'><item id='current' publisher='${publisher}'><nick xmlns='${NS.nick}'>${nick}</nick></item></items></event><addresses xmlns='http://jabber.org/protocol/address'><address type='replyto' jid='juliet@capulet.lit/balcony'/></addresses></message>`;

  test('forged: from another account (publisher and replyto saying us), and from a full JID, even ours', async () => {
    const { t, nicks, pep } = await setup();
    const own: string[] = [];
    const all: string[] = [];
    pep.on('item', (e) => {
      all.push(`${e.from} ${e.own}`);
      if (e.own) own.push(String(e.payload?.text()));
    });
    t.recv(nickEvent('mallory@evil.lit', 'Pwned'));
    t.recv(nickEvent('mallory@evil.lit/laptop', 'Pwned2'));
    t.recv(nickEvent('juliet@capulet.lit/other', 'Pwned3'));
    // The genuine one: from our bare JID (Prosody/ejabberd) and with no from at all.
    t.recv(nickEvent('juliet@capulet.lit', 'Jules'));
    assert.equal(nicks.of('juliet@capulet.lit'), 'Jules');
    t.recv(nickEvent(undefined, 'Julie'));
    assert.equal(nicks.of('juliet@capulet.lit'), 'Julie');
    assert.deepEqual(own, ['Jules', 'Julie'], 'only the genuine events are ours');
    assert.deepEqual(all, ['mallory@evil.lit false', 'juliet@capulet.lit true', 'juliet@capulet.lit true']);
    assert.equal(
      nicks.of('mallory@evil.lit'),
      'Pwned',
      "mallory's event is mallory's own nick, nothing more",
    );
  });

  test('an error message carrying an event is ignored', async () => {
    const { t, nicks } = await setup();
    t.recv(
      `<message from='romeo@montague.lit' type='error'><event xmlns='${NS.event}'><items node='${NS.nick}'><item><nick xmlns='${NS.nick}'>X</nick></item></items></event></message>`,
    );
    assert.equal(nicks.of('romeo@montague.lit'), undefined);
  });
});
