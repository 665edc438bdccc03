import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfabError } from '../errors.ts';
import type { Element } from '../xml/element.ts';
import { xml } from '../xml/element.ts';
import { parseXml } from '../xml/parser.ts';
import { IqTracker, randomId } from './iq.ts';

function tracker(o: { fail?: boolean; timeout?: number } = {}) {
  const sent: Element[] = [];
  const t = new IqTracker({
    send: async (el) => {
      if (o.fail) throw new ConfabError('ERR_SOCKET_CLOSED', 'gone');
      sent.push(el);
    },
    self: () => ({ bare: 'juliet@example.com', domain: 'example.com' }),
    timeout: o.timeout ?? 1000,
  });
  return { t, sent };
}
const ping = (to?: string) => xml('iq', { type: 'get', to }, xml('ping', { xmlns: 'urn:xmpp:ping' }));
const reply = (id: string, from?: string, type = 'result') =>
  parseXml(`<iq xmlns='jabber:client' type='${type}' id='${id}'${from ? ` from='${from}'` : ''}/>`);

test('ids: random, unique, 16 url-safe characters', () => {
  const ids = new Set(Array.from({ length: 2000 }, () => randomId()));
  assert.equal(ids.size, 2000);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{16}$/);
});

test('ids: canonical unpadded base64url of n fresh bytes, across pool refills', () => {
  for (let round = 0; round < 400; round++) {
    for (const n of [1, 2, 3, 6, 12, 13, 32]) {
      const id = randomId(n);
      assert.equal(id.length, Math.ceil((n * 4) / 3));
      const bytes = Buffer.from(id, 'base64url');
      assert.equal(bytes.length, n);
      assert.equal(bytes.toString('base64url'), id);
    }
  }
});

test('responder rules (RFC 6120 8.1.2.1): exact addressee; server/own account interchangeable', async () => {
  const { t, sent } = tracker();
  const toFull = t.request(ping('romeo@montague.lit/orchard'));
  const id = sent[0]!.attr('id')!;
  for (const wrong of [
    undefined,
    'example.com',
    'juliet@example.com',
    'romeo@montague.lit',
    'romeo@montague.lit/other',
    'not a jid@@',
  ]) {
    assert.equal(t.handle(reply(id, wrong)), false, `from ${wrong}`);
  }
  assert.equal(t.size, 1);
  assert.equal(t.handle(reply(id, 'Romeo@Montague.lit/orchard')), true, 'normalised comparison');
  await toFull;

  const toBare = t.request(ping('juliet@example.com'));
  const id2 = sent[1]!.attr('id')!;
  assert.equal(t.handle(reply(id2, 'juliet@example.com/other-resource')), false);
  assert.equal(t.handle(reply(id2, 'example.com')), true);
  await toBare;
});

test('error reply rejects with StanzaError; unknown ids and get/set are not replies', async () => {
  const { t, sent } = tracker();
  const p = t.request(ping());
  const id = sent[0]!.attr('id')!;
  assert.equal(t.handle(reply('other', undefined)), false);
  assert.equal(t.handle(reply(id, undefined, 'get')), false);
  t.handle(
    parseXml(
      `<iq xmlns='jabber:client' type='error' id='${id}'><error type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    ),
  );
  await assert.rejects(p, { name: 'StanzaError', code: 'ERR_STANZA', condition: 'feature-not-implemented' });
  assert.equal(t.size, 0);
});

test('timeout, abort, send failure and rejectAll all clean up', async () => {
  const { t } = tracker({ timeout: 10 });
  await assert.rejects(t.request(ping()), { code: 'ERR_TIMEOUT' });
  assert.equal(t.size, 0);

  const ac = new AbortController();
  const p = t.request(ping(), { signal: ac.signal, timeout: 0 });
  assert.equal(t.size, 1);
  ac.abort();
  await assert.rejects(p, { code: 'ERR_ABORTED' });
  assert.equal(t.size, 0);
  await assert.rejects(t.request(ping(), { signal: AbortSignal.abort() }), { code: 'ERR_ABORTED' });

  const f = tracker({ fail: true });
  await assert.rejects(f.t.request(ping()), { code: 'ERR_SOCKET_CLOSED' });
  assert.equal(f.t.size, 0);

  const { t: t3 } = tracker();
  const a = t3.request(ping());
  const b = t3.request(ping());
  t3.rejectAll(new ConfabError('ERR_NOT_CONNECTED', 'bye'));
  await assert.rejects(a, { code: 'ERR_NOT_CONNECTED' });
  await assert.rejects(b, { code: 'ERR_NOT_CONNECTED' });
  assert.equal(t3.size, 0);
  await assert.rejects(t3.request(xml('iq', { type: 'result' })), { code: 'ERR_BAD_INPUT' });
});
