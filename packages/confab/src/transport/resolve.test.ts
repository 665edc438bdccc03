import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfabError } from '../errors.ts';
import { discoverWebSocket, isIpLiteral, orderSrv, resolveCandidates, skipsSrv } from './resolve.ts';
import type { SrvRecord, SrvResolver } from './types.ts';

const rec = (name: string, port: number, priority: number, weight: number): SrvRecord => ({
  name,
  port,
  priority,
  weight,
});

function fakeResolver(answers: Record<string, SrvRecord[] | Error>): SrvResolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async resolveSrv(name) {
      asked.push(name);
      const a = answers[name];
      if (a instanceof Error) throw a;
      return a ?? [];
    },
  };
}

const refuse: SrvResolver = {
  resolveSrv(name) {
    throw new Error(`must not look up ${name}`);
  },
};

describe('orderSrv (RFC 2782)', () => {
  test('sorts by ascending priority first', () => {
    const out = orderSrv([rec('c', 1, 30, 0), rec('a', 1, 10, 0), rec('b', 1, 20, 0)]);
    assert.deepEqual(
      out.map((r) => r.name),
      ['a', 'b', 'c'],
    );
  });

  test('inside one priority, selection is proportional to weight', () => {
    // random() = 0 picks the first record of the running sum: the zero-weight one (RFC: placed first).
    const records = [rec('heavy', 1, 5, 90), rec('zero', 1, 5, 0), rec('light', 1, 5, 10)];
    assert.equal(orderSrv(records, () => 0)[0]!.name, 'zero');
    // A random value near 1 lands in the last part of the running sum.
    const high = orderSrv(records, () => 0.999);
    assert.equal(high[0]!.name, 'light');
    // Statistically: heavy comes first about 90% of the time.
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let heavyFirst = 0;
    for (let i = 0; i < 2000; i++) if (orderSrv(records, rnd)[0]!.name === 'heavy') heavyFirst++;
    assert.ok(heavyFirst > 1650 && heavyFirst < 1950, `heavy first ${heavyFirst}/2000`);
  });

  test('every record appears exactly once', () => {
    const records = [rec('a', 1, 1, 5), rec('b', 2, 1, 5), rec('c', 3, 2, 0), rec('d', 4, 1, 0)];
    const out = orderSrv(records, Math.random);
    assert.equal(out.length, 4);
    assert.deepEqual(new Set(out.map((r) => r.name)), new Set(['a', 'b', 'c', 'd']));
    assert.equal(out[3]!.name, 'c');
  });
});

describe('resolveCandidates (RFC 6120 3.2, XEP-0368)', () => {
  test('mixes _xmpp-client and _xmpps-client records by priority; xmpps means direct TLS', async () => {
    const r = fakeResolver({
      '_xmpp-client._tcp.example.org': [rec('starttls.example.org.', 5222, 20, 0)],
      '_xmpps-client._tcp.example.org': [rec('direct.example.org.', 443, 10, 0)],
    });
    const c = await resolveCandidates('example.org', { resolver: r });
    assert.deepEqual(c, [
      { host: 'direct.example.org', port: 443, directTls: true, source: 'srv' },
      { host: 'starttls.example.org', port: 5222, directTls: false, source: 'srv' },
    ]);
    assert.deepEqual(r.asked.sort(), ['_xmpp-client._tcp.example.org', '_xmpps-client._tcp.example.org']);
  });

  test('no records at all: fall back to the domain on 5222', async () => {
    const c = await resolveCandidates('example.org', { resolver: fakeResolver({}) });
    assert.deepEqual(c, [{ host: 'example.org', port: 5222, directTls: false, source: 'fallback' }]);
  });

  test('directTls: only _xmpps-client is asked, fallback on 5223', async () => {
    const r = fakeResolver({});
    const c = await resolveCandidates('example.org', { resolver: r, directTls: true });
    assert.deepEqual(r.asked, ['_xmpps-client._tcp.example.org']);
    assert.deepEqual(c, [{ host: 'example.org', port: 5223, directTls: true, source: 'fallback' }]);
  });

  test('directTls false: only _xmpp-client is asked', async () => {
    const r = fakeResolver({ '_xmpps-client._tcp.example.org': [rec('d.example.org', 5223, 0, 0)] });
    const c = await resolveCandidates('example.org', { resolver: r, directTls: false });
    assert.deepEqual(r.asked, ['_xmpp-client._tcp.example.org']);
    assert.equal(c[0]!.source, 'fallback');
  });

  test('"." for direct TLS: use the STARTTLS records, never the A/AAAA fallback', async () => {
    const r = fakeResolver({
      '_xmpp-client._tcp.example.org': [rec('xmpp.example.org', 5222, 0, 0)],
      '_xmpps-client._tcp.example.org': [rec('.', 0, 0, 0)],
    });
    const c = await resolveCandidates('example.org', { resolver: r });
    assert.deepEqual(c, [{ host: 'xmpp.example.org', port: 5222, directTls: false, source: 'srv' }]);
  });

  test('"." everywhere: ERR_DNS, the service is decidedly not offered', async () => {
    const r = fakeResolver({
      '_xmpp-client._tcp.example.org': [rec('', 0, 0, 0)],
      '_xmpps-client._tcp.example.org': [rec('.', 0, 0, 0)],
    });
    await assert.rejects(resolveCandidates('example.org', { resolver: r }), { code: 'ERR_DNS' });
  });

  test('a failing lookup counts as no records (logged), the other kind still used', async () => {
    const logs: string[] = [];
    const r = fakeResolver({
      '_xmpp-client._tcp.example.org': Object.assign(new Error('boom'), { code: 'ESERVFAIL' }),
      '_xmpps-client._tcp.example.org': [rec('d.example.org', 5223, 0, 0)],
    });
    const c = await resolveCandidates('example.org', { resolver: r, log: (m) => logs.push(m) });
    assert.deepEqual(
      c.map((x) => x.host),
      ['d.example.org'],
    );
    assert.ok(logs.some((l) => l.includes('ESERVFAIL')));
  });

  test('no lookup for localhost, *.localhost and IP literals', async () => {
    for (const d of ['localhost', 'chat.localhost', '127.0.0.1', '::1', '[::1]', 'LOCALHOST.']) {
      assert.ok(skipsSrv(d), d);
      const c = await resolveCandidates(d, { resolver: refuse });
      assert.equal(c.length, 1);
      assert.equal(c[0]!.source, 'fallback');
    }
    assert.ok(!skipsSrv('example.org'));
    assert.ok(!skipsSrv('localhost.example.org'));
  });

  test('a lookup that never answers times out fast and falls back', async () => {
    const hang: SrvResolver = { resolveSrv: () => new Promise(() => {}) };
    const t0 = performance.now();
    const c = await resolveCandidates('example.org', { resolver: hang, timeoutMs: 50 });
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `took ${ms} ms`);
    assert.equal(c[0]!.source, 'fallback');
  });

  test('the timeout aborts the resolver signal', async () => {
    let aborted = false;
    const hang: SrvResolver = {
      resolveSrv: (_n, signal) =>
        new Promise(() => {
          signal?.addEventListener('abort', () => {
            aborted = true;
          });
        }),
    };
    await resolveCandidates('example.org', { resolver: hang, timeoutMs: 20, directTls: false });
    assert.ok(aborted);
  });

  test('an aborted signal rejects with ERR_ABORTED', async () => {
    const ctl = new AbortController();
    const hang: SrvResolver = { resolveSrv: () => new Promise(() => {}) };
    const p = resolveCandidates('example.org', { resolver: hang, signal: ctl.signal });
    ctl.abort();
    await assert.rejects(p, (e: ConfabError) => e.code === 'ERR_ABORTED');
  });

  test('isIpLiteral', () => {
    assert.ok(isIpLiteral('10.0.0.1'));
    assert.ok(!isIpLiteral('300.0.0.1'));
    assert.ok(isIpLiteral('fe80::1'));
    assert.ok(isIpLiteral('[2001:db8::1]'));
    assert.ok(!isIpLiteral('example.org'));
    assert.ok(!isIpLiteral('1.2.3'));
  });
});

describe('discoverWebSocket (XEP-0156)', () => {
  const fakeFetch =
    (pages: Record<string, string>, seen: string[] = []): typeof fetch =>
    async (input) => {
      const url = String(input);
      seen.push(url);
      const body = pages[url];
      return body === undefined ? new Response('', { status: 404 }) : new Response(body, { status: 200 });
    };

  test('host-meta.json links', async () => {
    const seen: string[] = [];
    const f = fakeFetch(
      {
        'https://example.org/.well-known/host-meta.json': JSON.stringify({
          links: [
            { rel: 'urn:xmpp:alt-connections:xbosh', href: 'https://example.org/bosh' },
            { rel: 'urn:xmpp:alt-connections:websocket', href: 'wss://example.org/ws' },
            { rel: 'urn:xmpp:alt-connections:websocket', href: 'ws://example.org/plain' },
          ],
        }),
      },
      seen,
    );
    assert.deepEqual(await discoverWebSocket('example.org', { fetch: f }), ['wss://example.org/ws']);
    assert.deepEqual(await discoverWebSocket('example.org', { fetch: f, allowPlaintext: true }), [
      'wss://example.org/ws',
      'ws://example.org/plain',
    ]);
    assert.ok(seen.every((u) => u.startsWith('https://')));
  });

  test('XRD host-meta when there is no JSON', async () => {
    const xrd =
      "<?xml version='1.0' encoding='utf-8'?>\n<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>" +
      "<Link rel='urn:xmpp:alt-connections:xbosh' href='https://example.org/bosh'/>" +
      "<Link rel='urn:xmpp:alt-connections:websocket' href='wss://example.org/xmpp-websocket'/></XRD>";
    const f = fakeFetch({ 'https://example.org/.well-known/host-meta': xrd });
    assert.deepEqual(await discoverWebSocket('example.org', { fetch: f }), [
      'wss://example.org/xmpp-websocket',
    ]);
  });

  test('nothing announced, or the fetch fails: []', async () => {
    assert.deepEqual(await discoverWebSocket('example.org', { fetch: fakeFetch({}) }), []);
    const broken: typeof fetch = async () => {
      throw new TypeError('network down');
    };
    assert.deepEqual(await discoverWebSocket('example.org', { fetch: broken }), []);
  });

  test('a domain that would change the URL is refused', async () => {
    await assert.rejects(discoverWebSocket('evil.org/x?', { fetch: fakeFetch({}) }), {
      code: 'ERR_BAD_INPUT',
    });
  });
});
