// Dialogue tests of XEP-0049 v1.2 (private XML storage) against the spec's examples: the exact
// set and get (examples 1-2), the stored element read back, nothing stored (the key returned
// empty), an error answer rejecting, a reply from anyone but our server or account ignored, and
// the reserved namespaces refused before anything is sent.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { el, wire } from '../../../test/helpers/memory-transport.ts';
import { ACCOUNT, FULL, online } from '../../../test/helpers/online.ts';
import { ConfabError, StanzaError } from '../../errors.ts';
import type { Element } from '../../xml/element.ts';
import { xml } from '../../xml/element.ts';
import { NS_PRIVATE } from './codec.ts';
import { PrivateStorage } from './private.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim();

/** A spec stanza, addressed to us from our account, answering `id`. */
function spec(name: string, id: string): Element {
  const e = el(fixture(name));
  e.attrs.id = id;
  e.attrs.to = FULL;
  e.attrs.from = ACCOUNT;
  return e;
}

/** A stanza without the whitespace the spec prints between elements, as text. */
const compact = (name: string) => wire(el(fixture(name).replace(/>\s+</g, '><')));

async function setup() {
  const on = await online();
  return { ...on, storage: new PrivateStorage({ client: on.client }) };
}

describe('private storage (XEP-0049)', () => {
  test('set: the exact request of example 1, resolved by the result', async () => {
    const { storage, nextIq, t } = await setup();
    const p = storage.set(xml('exodus', { xmlns: 'exodus:prefs' }, xml('defaultnick', null, 'Hamlet')));
    const iq = await nextIq('set', NS_PRIVATE);
    const expected = el(compact('xep0049-store-request.xml'));
    expected.attrs.id = iq.attr('id')!;
    assert.equal(wire(iq), wire(expected));
    t.recv(spec('xep0049-store-response.xml', iq.attr('id')!));
    await p;
  });

  test('get: the exact request of example 2; the stored element comes back', async () => {
    const { storage, nextIq, t } = await setup();
    const p = storage.get('exodus', 'exodus:prefs');
    const iq = await nextIq('get', NS_PRIVATE);
    const expected = el(compact('xep0049-retrieve-request.xml'));
    expected.attrs.id = iq.attr('id')!;
    assert.equal(wire(iq), wire(expected));
    // Someone else's "result" is not believed (the core's responder rule); ours is.
    const forged = spec('xep0049-retrieve-response.xml', iq.attr('id')!);
    forged.attrs.from = 'mallory@evil.lit/x';
    t.recv(forged);
    t.recv(spec('xep0049-retrieve-response.xml', iq.attr('id')!));
    const got = await p;
    assert.equal(got?.getChildText('defaultnick', 'exodus:prefs'), 'Hamlet');
  });

  test('nothing stored: the key comes back empty and reads as undefined; remove stores it empty', async () => {
    const { storage, nextIq, t } = await setup();
    const p = storage.get('prefs', 'urn:example:prefs');
    const iq = await nextIq('get', NS_PRIVATE);
    t.recv(
      `<iq type='result' id='${iq.attr('id')}'><query xmlns='${NS_PRIVATE}'><prefs xmlns='urn:example:prefs'/></query></iq>`,
    );
    assert.equal(await p, undefined);
    const r = storage.remove('prefs', 'urn:example:prefs');
    const set = await nextIq('set', NS_PRIVATE);
    assert.equal(
      wire(set),
      `<iq type='set' id='${set.attr('id')}'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query></iq>`,
    );
    t.recv(`<iq type='result' id='${set.attr('id')}'/>`);
    await r;
  });

  test("an error answer (example 3's forbidden) rejects with the StanzaError", async () => {
    const { storage, nextIq, t } = await setup();
    const p = storage.set(xml('exodus', { xmlns: 'exodus:prefs' }, xml('defaultnick', null, 'Macbeth')));
    const iq = await nextIq('set', NS_PRIVATE);
    t.recv(spec('xep0049-other-user-response.xml', iq.attr('id')!));
    await assert.rejects(p, (e: unknown) => e instanceof StanzaError && e.condition === 'forbidden');
  });

  test('reserved namespaces and an element without one are refused before sending', async () => {
    const { storage, t } = await setup();
    const before = t.sent.length;
    for (const ns of ['jabber:iq:roster', 'http://jabber.org/protocol/muc', 'vcard-temp']) {
      await assert.rejects(
        storage.set(xml('x', { xmlns: ns })),
        (e: unknown) => e instanceof ConfabError && e.code === 'ERR_BAD_INPUT',
        ns,
      );
      await assert.rejects(storage.get('x', ns), ConfabError, ns);
    }
    await assert.rejects(storage.set(xml('x')), ConfabError);
    assert.equal(t.sent.length, before, 'nothing went out');
  });
});
