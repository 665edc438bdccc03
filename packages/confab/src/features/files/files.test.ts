// Dialogue tests of client.files (the test plays the server and the peers; HTTP is a fake
// platform): the XEP-0363 service lookup, the size check before any request, the slot request
// and the PUT with only the allowed headers, `share`'s message; XEP-0066 iq offers both ways,
// with the answers the sender learns from, and inbound offers nobody handles.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FULL, online } from '../../../test/helpers/online.ts';
import type { StanzaError } from '../../errors.ts';
import type { Element } from '../../xml/element.ts';
import { NS } from '../disco/codec.ts';
import { Disco } from '../disco/disco.ts';
import { NS_IQ_OOB, NS_UPLOAD } from './codec.ts';
import { Files, type OobOffer } from './files.ts';
import { bytesSource, type FilesPlatform, type HttpPutRequest } from './http.ts';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const DOMAIN = 'capulet.lit';
const UPLOAD = 'upload.capulet.lit';
const PEER = 'romeo@montague.lit/garden';

function fakeHttp(o: { putStatus?: number; getStatus?: number; body?: Uint8Array } = {}) {
  const puts: { req: HttpPutRequest; bytes: number }[] = [];
  const gets: string[] = [];
  const platform: FilesPlatform = {
    name: 'fake',
    async put(req) {
      let bytes = 0;
      for await (const c of req.body) {
        bytes += c.byteLength;
        req.onProgress?.({ transferred: bytes, total: req.body.size });
      }
      puts.push({ req, bytes });
      return { status: o.putStatus ?? 201, statusText: o.putStatus ? 'Forbidden' : 'Created', headers: {} };
    },
    async get(req) {
      gets.push(req.url);
      const body = o.body ?? new Uint8Array(0);
      return {
        status: o.getStatus ?? 200,
        statusText: '',
        headers: { 'content-length': String(body.byteLength) },
        body: (async function* () {
          yield body;
        })(),
        cancel: () => {},
      };
    },
  };
  return { platform, puts, gets };
}

async function setup(http = fakeHttp()) {
  const o = await online();
  const disco = new Disco({ client: o.client });
  const files = new Files({ client: o.client, disco, messaging: o.client.messages });
  files.usePlatform(http.platform);
  return { ...o, disco, files, http };
}

/** Answers the lookup: the domain has no upload feature, its items list the service, which has it. */
async function serveLookup(s: Awaited<ReturnType<typeof setup>>, max?: number) {
  const info = await s.nextIq('get', NS.info);
  assert.equal(info.attr('to'), DOMAIN);
  s.t.recv(
    `<iq type='result' id='${info.attr('id')}' from='${DOMAIN}'><query xmlns='${NS.info}'><identity category='server' type='im'/><feature var='${NS.info}'/></query></iq>`,
  );
  const items = await s.nextIq('get', NS.items);
  s.t.recv(
    `<iq type='result' id='${items.attr('id')}' from='${DOMAIN}'><query xmlns='${NS.items}'><item jid='conference.${DOMAIN}'/><item jid='${UPLOAD}'/><item jid='upload.evil.lit'/></query></iq>`,
  );
  const asked = new Map<string, Element>();
  for (let i = 0; i < 2; i++) {
    const q = await s.nextIq('get', NS.info);
    asked.set(q.attr('to')!, q);
  }
  assert.deepEqual(
    [...asked.keys()].sort(),
    [`conference.${DOMAIN}`, UPLOAD],
    'only our own services are asked',
  );
  const conf = asked.get(`conference.${DOMAIN}`)!;
  s.t.recv(
    `<iq type='result' id='${conf.attr('id')}' from='conference.${DOMAIN}'><query xmlns='${NS.info}'><feature var='http://jabber.org/protocol/muc'/></query></iq>`,
  );
  const up = asked.get(UPLOAD)!;
  const form =
    max === undefined
      ? ''
      : `<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>${NS_UPLOAD}</value></field><field var='max-file-size'><value>${max}</value></field></x>`;
  s.t.recv(
    `<iq type='result' id='${up.attr('id')}' from='${UPLOAD}'><query xmlns='${NS.info}'><identity category='store' type='file'/><feature var='${NS_UPLOAD}'/>${form}</query></iq>`,
  );
}

describe('HTTP upload (XEP-0363)', () => {
  test('service lookup by disco items, cached; max-file-size read', async () => {
    const s = await setup();
    const p = s.files.uploadService();
    await serveLookup(s, 5000);
    assert.deepEqual(await p, { jid: UPLOAD, maxSize: 5000 });
    const before = s.t.sent.length;
    assert.deepEqual(await s.files.uploadService(), { jid: UPLOAD, maxSize: 5000 });
    assert.equal(s.t.sent.length, before, 'cached: nothing asked again');
  });

  test('a file over the maximum is refused before any slot request or PUT (ERR_TOO_LARGE)', async () => {
    const s = await setup();
    const p = s.files.upload(bytesSource(new Uint8Array(5001), { name: 'big.bin' }));
    await serveLookup(s, 5000);
    await assert.rejects(p, (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_TOO_LARGE');
      assert.match(err.message, /5001 bytes.*at most 5000/);
      return true;
    });
    await new Promise((r) => setImmediate(r));
    const iqs = s.t.sent.filter((x) => x.kind === 'element' && x.el.getChild('request', NS_UPLOAD));
    assert.equal(iqs.length, 0);
    assert.equal(s.http.puts.length, 0);
  });

  test('slot request, PUT with only Content-Type, Content-Length and the allowed slot headers, progress', async () => {
    const s = await setup();
    const data = new Uint8Array(200_000).fill(7);
    const seen: number[] = [];
    const p = s.files.upload(bytesSource(data, { name: 'très cool.jpg', type: 'image/jpeg' }), {
      onProgress: (x) => seen.push(x.transferred),
    });
    await serveLookup(s);
    const req = await s.nextIq('get', NS_UPLOAD);
    assert.equal(req.attr('to'), UPLOAD);
    const r = req.getChild('request', NS_UPLOAD)!;
    assert.deepEqual(
      { filename: r.attr('filename'), size: r.attr('size'), type: r.attr('content-type') },
      { filename: 'très cool.jpg', size: '200000', type: 'image/jpeg' },
    );
    s.t.recv(
      `<iq type='result' id='${req.attr('id')}' from='${UPLOAD}'><slot xmlns='${NS_UPLOAD}'><put url='https://up.capulet.lit/p/x.jpg'><header name='Authorization'>Basic QQ==</header><header name='Host'>evil.lit</header><header name='Cookie'>a=b&#10;c</header></put><get url='https://dl.capulet.lit/g/x.jpg'/></slot></iq>`,
    );
    const up = await p;
    assert.equal(up.get, 'https://dl.capulet.lit/g/x.jpg');
    assert.equal(s.http.puts.length, 1);
    const put = s.http.puts[0]!;
    assert.equal(put.req.url, 'https://up.capulet.lit/p/x.jpg');
    assert.deepEqual(put.req.headers, {
      Authorization: 'Basic QQ==',
      Cookie: 'a=bc',
      'Content-Type': 'image/jpeg',
      'Content-Length': '200000',
    });
    assert.equal(put.bytes, 200_000);
    assert.equal(seen.at(-1), 200_000);
    assert.ok(seen.length >= 3 && seen.length < 20, `throttled progress: ${seen.length} events`);
  });

  test('a refused slot and a failed PUT are errors with the reason', async () => {
    const s = await setup(fakeHttp({ putStatus: 403 }));
    const p1 = s.files.upload(bytesSource(new Uint8Array(10), { name: 'a.txt' }));
    await serveLookup(s);
    const q1 = await s.nextIq('get', NS_UPLOAD);
    s.t.recv(
      `<iq type='error' id='${q1.attr('id')}' from='${UPLOAD}'><error type='modify'><not-acceptable xmlns='${STANZAS}'/><file-too-large xmlns='${NS_UPLOAD}'><max-file-size>5</max-file-size></file-too-large></error></iq>`,
    );
    await assert.rejects(p1, { code: 'ERR_TOO_LARGE' });
    const p2 = s.files.upload(bytesSource(new Uint8Array(10), { name: 'a.txt' }));
    const q2 = await s.nextIq('get', NS_UPLOAD);
    s.t.recv(
      `<iq type='error' id='${q2.attr('id')}' from='${UPLOAD}'><error type='cancel'><not-allowed xmlns='${STANZAS}'/></error></iq>`,
    );
    await assert.rejects(p2, { code: 'ERR_STANZA', condition: 'not-allowed' });
    const p3 = s.files.upload(bytesSource(new Uint8Array(10), { name: 'a.txt' }));
    const q3 = await s.nextIq('get', NS_UPLOAD);
    s.t.recv(
      `<iq type='result' id='${q3.attr('id')}' from='${UPLOAD}'><slot xmlns='${NS_UPLOAD}'><put url='https://u/p'/><get url='https://u/g'/></slot></iq>`,
    );
    await assert.rejects(
      p3,
      (err: Error & { code?: string }) => err.code === 'ERR_HTTP' && /403/.test(err.message),
    );
  });

  test('no upload service: ERR_UNSUPPORTED naming the server', async () => {
    const s = await setup();
    const p = s.files.upload(bytesSource(new Uint8Array(1), { name: 'a' }));
    const info = await s.nextIq('get', NS.info);
    s.t.recv(`<iq type='result' id='${info.attr('id')}' from='${DOMAIN}'><query xmlns='${NS.info}'/></iq>`);
    const items = await s.nextIq('get', NS.items);
    s.t.recv(`<iq type='result' id='${items.attr('id')}' from='${DOMAIN}'><query xmlns='${NS.items}'/></iq>`);
    await assert.rejects(
      p,
      (err: Error & { code?: string }) => err.code === 'ERR_UNSUPPORTED' && err.message.includes(DOMAIN),
    );
  });

  test('share: the body is the GET URL alone, with jabber:x:oob carrying it', async () => {
    const s = await setup();
    const p = s.files.share(PEER, bytesSource(new Uint8Array(3), { name: 'a.png', type: 'image/png' }), {
      desc: 'pic',
    });
    await serveLookup(s);
    const q = await s.nextIq('get', NS_UPLOAD);
    s.t.recv(
      `<iq type='result' id='${q.attr('id')}' from='${UPLOAD}'><slot xmlns='${NS_UPLOAD}'><put url='https://u/p/a.png'/><get url='https://u/g/a.png'/></slot></iq>`,
    );
    const msg = await s.t.expectElement('message');
    await p;
    assert.equal(msg.attr('to'), PEER);
    assert.equal(msg.getChildText('body'), 'https://u/g/a.png');
    const x = msg.getChild('x', 'jabber:x:oob')!;
    assert.equal(x.getChildText('url'), 'https://u/g/a.png');
    assert.equal(x.getChildText('desc'), 'pic');
  });
});

describe('out-of-band offers (XEP-0066 iq form)', () => {
  test('outbound: accepted on the empty result; the refusal condition otherwise; full JIDs only', async () => {
    const s = await setup();
    const p = s.files.offer(PEER, { url: 'http://127.0.0.1:1/abc/x.bin', desc: 'x' });
    const iq = await s.nextIq('set', NS_IQ_OOB);
    assert.equal(iq.attr('to'), PEER);
    assert.equal(iq.getChild('query', NS_IQ_OOB)?.getChildText('url'), 'http://127.0.0.1:1/abc/x.bin');
    s.t.recv(`<iq type='result' id='${iq.attr('id')}' from='${PEER}'/>`);
    assert.equal(await p, 'accepted');

    for (const condition of ['not-acceptable', 'item-not-found']) {
      const q = s.files.offer(PEER, { url: 'http://h/x' });
      const iq2 = await s.nextIq('set', NS_IQ_OOB);
      s.t.recv(
        `<iq type='error' id='${iq2.attr('id')}' from='${PEER}'><error type='modify'><${condition} xmlns='${STANZAS}'/></error></iq>`,
      );
      await assert.rejects(q, (err: StanzaError) => err.code === 'ERR_STANZA' && err.condition === condition);
    }
    // A spoofed answer from someone else is not the receiver's.
    const r = s.files.offer(PEER, { url: 'http://h/x', timeout: 300 });
    const iq3 = await s.nextIq('set', NS_IQ_OOB);
    s.t.recv(`<iq type='result' id='${iq3.attr('id')}' from='mallory@evil.lit/x'/>`);
    await assert.rejects(r, { code: 'ERR_TIMEOUT' });
    await assert.rejects(s.files.offer('romeo@montague.lit', { url: 'http://h/x' }), {
      code: 'ERR_BAD_INPUT',
    });
  });

  test('inbound with no listener: not-acceptable at once, and nothing fetched', async () => {
    const s = await setup();
    s.t.recv(
      `<iq type='set' id='o1' from='${PEER}' to='${FULL}'><query xmlns='${NS_IQ_OOB}'><url>http://h/x</url></query></iq>`,
    );
    const e = await s.nextIq('error');
    assert.equal(e.attr('id'), 'o1');
    assert.ok(e.getChild('error')?.getChild('not-acceptable', STANZAS));
    assert.equal(s.http.gets.length, 0);
    assert.equal(s.disco.has(NS_IQ_OOB), false);
  });

  test('inbound: reject answers not-acceptable (or the condition given); accept fetches, then answers result', async () => {
    const body = new TextEncoder().encode('hello');
    const s = await setup(fakeHttp({ body }));
    const offers: OobOffer[] = [];
    const off = s.files.on('offer', (o) => offers.push(o));
    assert.equal(s.disco.has(NS_IQ_OOB), true, 'announced while someone listens');

    s.t.recv(
      `<iq type='set' id='o1' from='${PEER}' to='${FULL}'><query xmlns='${NS_IQ_OOB}' sid='s1'><url>http://h/a/..%2Fx.txt</url><desc>A file</desc></query></iq>`,
    );
    s.t.recv(
      `<iq type='set' id='o2' from='${PEER}' to='${FULL}'><query xmlns='${NS_IQ_OOB}'><url>http://h/y</url></query></iq>`,
    );
    s.t.recv(
      `<iq type='set' id='o3' from='${PEER}' to='${FULL}'><query xmlns='${NS_IQ_OOB}'><url>http://h/z</url></query></iq>`,
    );
    await new Promise((r) => setImmediate(r));
    assert.equal(offers.length, 3);
    assert.deepEqual(
      { from: offers[0]!.from, url: offers[0]!.url, desc: offers[0]!.desc, sid: offers[0]!.sid },
      { from: PEER, url: 'http://h/a/..%2Fx.txt', desc: 'A file', sid: 's1' },
    );
    assert.equal(s.http.gets.length, 0, 'nothing fetched before accept()');

    offers[1]!.reject();
    const e2 = await s.nextIq('error');
    assert.equal(e2.attr('id'), 'o2');
    assert.ok(e2.getChild('error')?.getChild('not-acceptable', STANZAS));

    const got = await offers[0]!.accept();
    assert.equal(new TextDecoder().decode(got.bytes), 'hello');
    assert.equal(got.name, 'x.txt');
    const r1 = await s.nextIq('result');
    assert.equal(r1.attr('id'), 'o1');
    assert.equal(r1.attr('to'), PEER);
    await assert.rejects(offers[0]!.accept(), { code: 'ERR_BAD_INPUT' }, 'answered once');

    offers[2]!.reject('forbidden');
    const e3 = await s.nextIq('error');
    assert.ok(e3.getChild('error')?.getChild('forbidden', STANZAS));

    off();
    assert.equal(s.disco.has(NS_IQ_OOB), false, 'withdrawn with the last listener');
  });

  test('inbound: a fetch that fails answers item-not-found (and accept rejects)', async () => {
    const s = await setup(fakeHttp({ getStatus: 404 }));
    s.files.on('offer', (o) => {
      o.accept().catch(() => {});
    });
    s.t.recv(
      `<iq type='set' id='o9' from='${PEER}' to='${FULL}'><query xmlns='${NS_IQ_OOB}'><url>http://h/missing</url></query></iq>`,
    );
    const e = await s.nextIq('error');
    assert.equal(e.attr('id'), 'o9');
    assert.ok(e.getChild('error')?.getChild('item-not-found', STANZAS));
  });

  test('inbound: a non-http URL accepted fails without a request, answered item-not-found', async () => {
    const s = await setup();
    let rejected: unknown;
    s.files.on('offer', (o) => {
      o.accept().catch((err) => {
        rejected = err;
      });
    });
    s.t.recv(
      `<iq type='set' id='o5' from='${PEER}' to='${FULL}'><query xmlns='${NS_IQ_OOB}'><url>file:///etc/passwd</url></query></iq>`,
    );
    const e = await s.nextIq('error');
    assert.ok(e.getChild('error')?.getChild('item-not-found', STANZAS));
    assert.equal((rejected as { code?: string }).code, 'ERR_BAD_INPUT');
    assert.equal(s.http.gets.length, 0);
  });

  test('inbound: an undecided offer is dropped with the connection (no timer left behind)', async () => {
    const s = await setup();
    let pending: OobOffer | undefined;
    s.files.on('offer', (o) => {
      pending = o;
    });
    s.t.recv(
      `<iq type='set' id='o8' from='${PEER}' to='${FULL}'><query xmlns='${NS_IQ_OOB}'><url>http://h/x</url></query></iq>`,
    );
    assert.equal(pending?.answered, false);
    await s.client.disconnect();
    assert.equal(pending?.answered, true);
    assert.equal(s.http.gets.length, 0);
  });

  test('inbound: no decision in time is answered not-acceptable', async () => {
    const o = await online();
    const disco = new Disco({ client: o.client });
    const files = new Files({ client: o.client, disco, messaging: o.client.messages, decisionTimeout: 50 });
    files.on('offer', () => {});
    o.t.recv(
      `<iq type='set' id='o7' from='${PEER}' to='${FULL}'><query xmlns='${NS_IQ_OOB}'><url>http://h/x</url></query></iq>`,
    );
    const e = await o.nextIq('error');
    assert.ok(e.getChild('error')?.getChild('not-acceptable', STANZAS));
  });
});
