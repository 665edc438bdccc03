// XEP-0115 v1.6.0 verification string and hash against the spec's own examples (5.2, 5.3),
// the 5.4 well-formedness rules, and the <c/> codec.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseXml } from '../../xml/parser.ts';
import { NS, parseInfo } from '../disco/codec.ts';
import { buildCaps, computeVer, illFormed, parseCaps, verificationString, verifyVer } from './codec.ts';

function fixtureInfo(name: string) {
  const iq = parseXml(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
  return parseInfo(iq.getChild('query', NS.info)!);
}

describe('XEP-0115 verification string', () => {
  test('5.2 simple example: S and ver QgayPKawpkPSDYmwT/WM94uAlu0=', async () => {
    const info = fixtureInfo('xep0115-simple.xml');
    assert.equal(
      verificationString(info),
      'client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<' +
        'http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<',
    );
    assert.equal(await computeVer(info), 'QgayPKawpkPSDYmwT/WM94uAlu0=');
    assert.equal(await verifyVer(info, 'sha-1', 'QgayPKawpkPSDYmwT/WM94uAlu0='), true);
  });

  test('5.3 complex example (two languages, an XEP-0128 form): ver q07IKJEyjvHSyhy//CH0CxmKi8w=', async () => {
    const info = fixtureInfo('xep0115-complex.xml');
    assert.equal(
      verificationString(info),
      'client/pc/el/\u03a8 0.11<client/pc/en/Psi 0.11<http://jabber.org/protocol/caps<' +
        'http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<' +
        'http://jabber.org/protocol/muc<urn:xmpp:dataforms:softwareinfo<' +
        'ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<software_version<0.11<',
    );
    assert.equal(await computeVer(info), 'q07IKJEyjvHSyhy//CH0CxmKi8w=');
  });

  test('order of the answer does not matter; a changed feature changes ver', async () => {
    const info = fixtureInfo('xep0115-complex.xml');
    const shuffled = {
      ...info,
      identities: [...info.identities].reverse(),
      features: [...info.features].reverse(),
      extensions: info.extensions.map((f) => ({ ...f, fields: [...f.fields].reverse() })),
    };
    assert.equal(await computeVer(shuffled), 'q07IKJEyjvHSyhy//CH0CxmKi8w=');
    const more = { ...info, features: [...info.features, 'urn:xmpp:receipts'] };
    assert.notEqual(await computeVer(more), 'q07IKJEyjvHSyhy//CH0CxmKi8w=');
  });

  test('i;octet sorting: uppercase before lowercase, by UTF-8 bytes', () => {
    const s = verificationString({
      identities: [{ category: 'client', type: 'pc' }],
      features: ['b', 'B', '\u00e9', 'a'],
      extensions: [],
    });
    assert.equal(s, 'client/pc//<B<a<b<\u00e9<');
  });

  test('a form whose FORM_TYPE is not hidden is ignored, not hashed', async () => {
    const info = fixtureInfo('xep0115-simple.xml');
    const withForm = {
      ...info,
      extensions: [
        {
          type: 'result',
          fields: [
            { var: 'FORM_TYPE', values: ['urn:x'] },
            { var: 'a', values: ['1'] },
          ],
        },
      ],
    };
    assert.equal(await computeVer(withForm), 'QgayPKawpkPSDYmwT/WM94uAlu0=');
  });
});

describe('XEP-0115 5.4 ill-formed answers are never verified', () => {
  const base = fixtureInfo('xep0115-simple.xml');
  test('duplicate identity', async () => {
    const bad = { ...base, identities: [...base.identities, ...base.identities] };
    assert.match(illFormed(bad) ?? '', /identity/);
    assert.equal(await verifyVer(bad, 'sha-1', await computeVer(bad)), false);
  });
  test('duplicate feature', async () => {
    const bad = { ...base, features: [...base.features, base.features[0]!] };
    assert.match(illFormed(bad) ?? '', /feature/);
    assert.equal(await verifyVer(bad, 'sha-1', await computeVer(bad)), false);
  });
  test('two forms with one FORM_TYPE, and a FORM_TYPE with two values', () => {
    const form = { type: 'result', fields: [{ var: 'FORM_TYPE', type: 'hidden', values: ['urn:x'] }] };
    assert.match(illFormed({ ...base, extensions: [form, form] }) ?? '', /two forms/);
    const two = {
      type: 'result',
      fields: [{ var: 'FORM_TYPE', type: 'hidden', values: ['urn:x', 'urn:y'] }],
    };
    assert.match(illFormed({ ...base, extensions: [two] }) ?? '', /several/);
  });
  test('a wrong ver does not verify', async () => {
    assert.equal(await verifyVer(base, 'sha-1', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA='), false);
  });
});

describe('<c/> codec', () => {
  test('4 example: parse and build', () => {
    const p = parseXml(
      "<presence xmlns='jabber:client'><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://code.google.com/p/exodus' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>",
    );
    const c = parseCaps(p);
    assert.deepEqual(
      { ...c },
      {
        hash: 'sha-1',
        node: 'http://code.google.com/p/exodus',
        ver: 'QgayPKawpkPSDYmwT/WM94uAlu0=',
        ext: undefined,
      },
    );
    const built = buildCaps(c!);
    assert.equal(built.attr('ver'), 'QgayPKawpkPSDYmwT/WM94uAlu0=');
    assert.equal(built.xmlns, 'http://jabber.org/protocol/caps');
  });
  test('legacy <c/> without hash is marked with an empty hash; one without ver is ignored', () => {
    const legacy = parseXml(
      "<presence xmlns='jabber:client'><c xmlns='http://jabber.org/protocol/caps' node='http://psi-im.org/caps' ver='0.11' ext='cs'/></presence>",
    );
    assert.equal(parseCaps(legacy)?.hash, '');
    const broken = parseXml(
      "<presence xmlns='jabber:client'><c xmlns='http://jabber.org/protocol/caps' node='x'/></presence>",
    );
    assert.equal(parseCaps(broken), undefined);
  });
});
