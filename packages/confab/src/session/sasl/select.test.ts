import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfabError } from '../../errors.ts';
import type { ChannelBindingType } from '../../transport/types.ts';
import { fromUtf8 } from '../../util/base64.ts';
import { xml } from '../../xml/element.ts';
import { createAnonymous } from './anonymous.ts';
import { createPlain } from './plain.ts';
import {
  agreeChannelBinding,
  type ChooseMechanismOptions,
  chooseMechanism,
  mechanismStrength,
  parseChannelBindings,
  parseMechanisms,
} from './select.ts';
import type { SaslContext } from './types.ts';

const ALL = ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'];
const tls12 = { secure: true, protocol: 'TLSv1.2' };
const tls13 = { secure: true, protocol: 'TLSv1.3' };
const none = { secure: false };
const can =
  (...types: ChannelBindingType[]) =>
  (t: ChannelBindingType) =>
    types.includes(t);

function choose(over: Partial<ChooseMechanismOptions>) {
  return chooseMechanism({
    offered: ALL,
    tls: tls13,
    serverBindings: undefined,
    channelBindingAvailable: can('tls-exporter', 'tls-server-end-point'),
    ...over,
  });
}

test('selection table', () => {
  const rows: [string, Partial<ChooseMechanismOptions>, string, ChannelBindingType | undefined][] = [
    [
      'TLS 1.3 + XEP-0440 tls-exporter',
      { serverBindings: ['tls-exporter'] },
      'SCRAM-SHA-256-PLUS',
      'tls-exporter',
    ],
    [
      'XEP-0440 prefers tls-exporter over the others',
      { serverBindings: ['tls-server-end-point', 'tls-unique', 'tls-exporter'] },
      'SCRAM-SHA-256-PLUS',
      'tls-exporter',
    ],
    [
      'XEP-0440 tls-server-end-point only',
      { serverBindings: ['tls-server-end-point'] },
      'SCRAM-SHA-256-PLUS',
      'tls-server-end-point',
    ],
    [
      'TLS 1.2 without XEP-0440: tls-unique',
      { tls: tls12, channelBindingAvailable: can('tls-unique', 'tls-server-end-point') },
      'SCRAM-SHA-256-PLUS',
      'tls-unique',
    ],
    [
      'ejabberd 23.01: -PLUS, no XEP-0440, TLS 1.3 -> plain SCRAM',
      {
        offered: [
          'SCRAM-SHA-1',
          'SCRAM-SHA-1-PLUS',
          'SCRAM-SHA-256',
          'SCRAM-SHA-256-PLUS',
          'PLAIN',
          'X-OAUTH2',
        ],
      },
      'SCRAM-SHA-256',
      undefined,
    ],
    [
      'XEP-0440 tls-unique on TLS 1.3 cannot be used',
      { serverBindings: ['tls-unique'], channelBindingAvailable: can('tls-unique', 'tls-exporter') },
      'SCRAM-SHA-256',
      undefined,
    ],
    [
      'advertised type we cannot provide',
      { serverBindings: ['tls-exporter'], channelBindingAvailable: can() },
      'SCRAM-SHA-256',
      undefined,
    ],
    [
      'only SHA-1-PLUS offered',
      { offered: ['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1'], serverBindings: ['tls-exporter'] },
      'SCRAM-SHA-1-PLUS',
      'tls-exporter',
    ],
    [
      'stripped -PLUS: plain SCRAM',
      { offered: ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] },
      'SCRAM-SHA-256',
      undefined,
    ],
    ['SHA-1 only', { offered: ['SCRAM-SHA-1', 'PLAIN'] }, 'SCRAM-SHA-1', undefined],
    ['PLAIN over TLS', { offered: ['PLAIN'] }, 'PLAIN', undefined],
    [
      'PLAIN without TLS when allowed',
      { offered: ['PLAIN'], tls: none, allowPlaintext: true },
      'PLAIN',
      undefined,
    ],
    ['no TLS: SCRAM, -PLUS skipped', { tls: none }, 'SCRAM-SHA-256', undefined],
    ['anonymous requested', { offered: [...ALL, 'ANONYMOUS'], anonymous: true }, 'ANONYMOUS', undefined],
    [
      'ANONYMOUS offered but not requested',
      { offered: ['ANONYMOUS', 'SCRAM-SHA-1'] },
      'SCRAM-SHA-1',
      undefined,
    ],
    ['names are trimmed', { offered: [' SCRAM-SHA-1 \n'] }, 'SCRAM-SHA-1', undefined],
  ];
  for (const [label, over, name, binding] of rows) {
    const c = choose(over);
    assert.equal(c.name, name, label);
    assert.equal(c.bindingType, binding, label);
    assert.deepEqual(c.warnings, [], label);
  }
});

test('the ejabberd case explains in skipped why -PLUS was not used', () => {
  const c = choose({ offered: ['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1'] });
  assert.equal(c.name, 'SCRAM-SHA-1');
  assert.match(
    c.skipped.join('\n'),
    /SCRAM-SHA-1-PLUS skipped: no channel binding type could be agreed .*TLSv1\.3/,
  );
});

test('PLAIN is refused on an unencrypted stream unless allowed, with a message saying how', () => {
  assert.throws(
    () => choose({ offered: ['PLAIN', 'X-OAUTH2', 'DIGEST-MD5'], tls: none }),
    (e: unknown) =>
      e instanceof ConfabError &&
      e.code === 'ERR_AUTH_NO_MECHANISM' &&
      e.message.includes('the server offers PLAIN, X-OAUTH2, DIGEST-MD5') &&
      e.message.includes('PLAIN refused on an unencrypted stream; pass allowPlaintext to allow it') &&
      e.message.includes('X-OAUTH2 not supported') &&
      e.message.includes('DIGEST-MD5 not supported (obsolete'),
  );
});

test('no mechanisms at all, or only unsupported ones', () => {
  assert.throws(() => choose({ offered: [] }), /server offers no mechanisms/);
  assert.throws(() => choose({ offered: ['EXTERNAL'] }), /EXTERNAL not supported/);
});

test('anonymous requested but not offered', () => {
  assert.throws(
    () => choose({ offered: ['SCRAM-SHA-1'], anonymous: true }),
    (e: unknown) =>
      e instanceof ConfabError &&
      e.code === 'ERR_AUTH_NO_MECHANISM' &&
      /anonymous login was requested but the server does not offer ANONYMOUS/.test(e.message),
  );
});

test('downgrade warning when the account used a stronger mechanism last time', () => {
  const stripped = choose({ offered: ['SCRAM-SHA-1', 'PLAIN'], previous: 'SCRAM-SHA-256-PLUS' });
  assert.equal(stripped.name, 'SCRAM-SHA-1');
  assert.equal(stripped.warnings.length, 1);
  assert.match(
    stripped.warnings[0]!,
    /used SCRAM-SHA-256-PLUS last time, now SCRAM-SHA-1 \(the server no longer offers/,
  );
  const noBinding = choose({
    offered: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'],
    previous: 'SCRAM-SHA-256-PLUS',
  });
  assert.match(noBinding.warnings[0]!, /no channel binding type could be agreed/);
  assert.deepEqual(choose({ previous: 'SCRAM-SHA-1' }).warnings, []);
  assert.deepEqual(choose({ previous: 'X-UNKNOWN' }).warnings, []);
  assert.deepEqual(choose({ serverBindings: ['tls-exporter'], previous: 'SCRAM-SHA-256-PLUS' }).warnings, []);
  assert.ok(mechanismStrength('SCRAM-SHA-1-PLUS') > mechanismStrength('SCRAM-SHA-256'));
  assert.ok(mechanismStrength('SCRAM-SHA-1') > mechanismStrength('PLAIN'));
});

test('agreeChannelBinding rules', () => {
  assert.equal(agreeChannelBinding(none, ['tls-exporter'], can('tls-exporter')).type, undefined);
  assert.equal(agreeChannelBinding(tls13, undefined, can('tls-exporter', 'tls-unique')).type, undefined);
  assert.equal(agreeChannelBinding(tls12, undefined, can('tls-unique')).type, 'tls-unique');
  assert.equal(agreeChannelBinding(tls12, undefined, can('tls-exporter')).type, undefined);
  assert.equal(agreeChannelBinding(tls12, ['tls-unique'], can('tls-unique')).type, 'tls-unique');
  assert.equal(
    agreeChannelBinding(tls12, ['tls-exporter', 'tls-unique'], can('tls-exporter', 'tls-unique')).type,
    'tls-exporter',
  );
  assert.equal(agreeChannelBinding(tls13, [], can('tls-exporter')).type, undefined);
  assert.equal(agreeChannelBinding({ secure: true }, undefined, can('tls-unique')).type, undefined);
});

test('the factory makes the chosen mechanism, bound to the agreed type', async () => {
  const c = choose({ serverBindings: ['tls-exporter'] });
  const ctx: SaslContext = {
    credentials: { username: 'u', password: 'p' },
    offered: ALL,
    serverBindings: ['tls-exporter'],
    tlsProtocol: 'TLSv1.3',
    channelBinding: (t) => (t === 'tls-exporter' ? new Uint8Array([1]) : undefined),
  };
  const m = c.create(ctx);
  assert.equal(m.name, 'SCRAM-SHA-256-PLUS');
  assert.match(fromUtf8((await m.start())!), /^p=tls-exporter,,n=u,r=/);
});

test('parse mechanisms and XEP-0440 channel binding types from features', () => {
  const features = xml(
    'features',
    { xmlns: 'http://etherx.jabber.org/streams' },
    xml(
      'mechanisms',
      { xmlns: 'urn:ietf:params:xml:ns:xmpp-sasl' },
      xml('mechanism', {}, 'SCRAM-SHA-1'),
      xml('mechanism', {}, ' SCRAM-SHA-1-PLUS '),
      xml('mechanism', {}, ''),
    ),
    xml(
      'sasl-channel-binding',
      { xmlns: 'urn:xmpp:sasl-cb:0' },
      xml('channel-binding', { type: 'tls-server-end-point' }),
      xml('channel-binding', { type: 'tls-exporter' }),
      xml('channel-binding', { type: 'tls-made-up' }),
    ),
  );
  assert.deepEqual(parseMechanisms(features), ['SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS']);
  assert.deepEqual(parseChannelBindings(features), ['tls-server-end-point', 'tls-exporter']);
  const bare = xml('features', { xmlns: 'http://etherx.jabber.org/streams' });
  assert.equal(parseMechanisms(bare), undefined);
  assert.equal(parseChannelBindings(bare), undefined);
  const empty = xml('features', {}, xml('sasl-channel-binding', { xmlns: 'urn:xmpp:sasl-cb:0' }));
  assert.deepEqual(parseChannelBindings(empty), []);
});

test('PLAIN message format (RFC 4616)', async () => {
  const ctx = (authzid?: string): SaslContext => ({
    credentials: { username: 'tim', password: 'tanstaaftanstaaf', authzid },
    offered: ['PLAIN'],
    serverBindings: undefined,
    tlsProtocol: 'TLSv1.3',
    channelBinding: () => undefined,
  });
  assert.equal(fromUtf8((await createPlain(ctx()).start())!), '\u0000tim\u0000tanstaaftanstaaf');
  assert.equal(fromUtf8((await createPlain(ctx('Ursel')).start())!), 'Ursel\u0000tim\u0000tanstaaftanstaaf');
  await assert.rejects(createPlain(ctx()).challenge(new Uint8Array(0)), /PLAIN: the server sent a challenge/);
  const nul = { ...ctx(), credentials: { username: 'a\u0000b', password: 'x' } };
  await assert.rejects(createPlain(nul).start(), /NUL/);
});

test('ANONYMOUS sends an empty initial response', async () => {
  const m = createAnonymous();
  assert.equal(m.name, 'ANONYMOUS');
  assert.equal((await m.start())?.length, 0);
  await m.success(undefined);
});
