// File transfer against the real test-bed servers (issue 6, "File transfer"):
// - HTTP upload (XEP-0363) of a 20 MB file and its download, equal SHA-256, progress both ways,
//   on Prosody (mod_http_file_share) and ejabberd (mod_http_upload);
// - a file larger than the service's max-file-size refused before any slot request or PUT
//   (a sparse file: nothing big is written);
// - `share`: the message a Conversations/Dino user gets (body = URL, jabber:x:oob);
// - XEP-0066 iq offers between two accounts: a 10 MB file served by the built-in server, fetched
//   by the other account and acknowledged (equal SHA-256); one refused (the sender learns
//   not-acceptable); a remote name like `../../x` saved safely inside the directory;
// - the minimal Prosody has no upload service: a clear error.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  caOf,
  ejabberd,
  freshAccount,
  prosody,
  prosodyMinimal,
  type ServerInfo,
} from '../../../../testbed/harness.ts';
import type { Client } from '../../src/client.ts';
import type { StanzaError } from '../../src/errors.ts';
import type { OobOffer } from '../../src/features/files/files.ts';
import type { Progress } from '../../src/features/files/http.ts';
import { createClient, fileSource } from '../../src/index.ts';

const MB = 1024 * 1024;
let dir: string;
let file20: string;
let file10: string;
let sparse: string;

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'confab-files-'));
  file20 = join(dir, 'twenty.bin');
  file10 = join(dir, 'ten.bin');
  await writeFile(file20, randomBytes(20 * MB));
  await writeFile(file10, randomBytes(10 * MB));
  // 100 MiB that takes no disk space: larger than the test bed's 64 MiB limit.
  sparse = join(dir, 'huge.iso');
  const fh = await open(sparse, 'w');
  await fh.truncate(100 * MB);
  await fh.close();
});

async function login(server: ServerInfo, prefix: string): Promise<Client> {
  const account = await freshAccount(server, prefix);
  const client = createClient({
    jid: account.jid,
    password: account.password,
    host: server.host,
    port: server.ports.c2s,
    tls: { ca: caOf(server) },
    reconnect: false,
    presence: { autoAway: false },
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

function monotonic(seen: Progress[], total: number): void {
  assert.ok(seen.length >= 3, `progress events: ${seen.length}`);
  assert.deepEqual(seen.at(-1), { transferred: total, total });
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.transferred >= seen[i - 1]!.transferred);
}

for (const [name, server] of [
  ['Prosody', prosody],
  ['ejabberd', ejabberd],
] as const) {
  describe(`file transfer on ${name}`, () => {
    test('upload and download 20 MB: equal SHA-256, progress both ways', async () => {
      const s = server();
      const a = await login(s, 'upa');
      try {
        const svc = await a.files.uploadService();
        assert.equal(svc?.jid, s.upload);
        assert.equal(svc?.maxSize, 64 * MB);
        const up: Progress[] = [];
        const r = await a.files.upload(await fileSource(file20), { onProgress: (p) => up.push(p) });
        monotonic(up, 20 * MB);
        assert.match(r.get, /^https?:\/\//);
        assert.equal(r.name, 'twenty.bin');
        const down: Progress[] = [];
        const out = await mkdtemp(join(dir, 'dl-'));
        const d = await a.files.download(r.get, {
          dir: out,
          expectedSize: 20 * MB,
          onProgress: (p) => down.push(p),
        });
        monotonic(down, 20 * MB);
        assert.equal(d.size, 20 * MB);
        assert.equal(d.path, join(out, 'twenty.bin'));
        assert.equal(await sha256(d.path!), await sha256(file20));
        // A second download of the same URL does not overwrite the first.
        const again = await a.files.download(r.get, { dir: out, expectedSize: 20 * MB });
        assert.equal(again.path, join(out, 'twenty (1).bin'));
        // Announced size checks against the real server: a wrong expectation fails, and no file stays.
        await assert.rejects(a.files.download(r.get, { dir: out, expectedSize: 20 * MB - 1 }), {
          code: 'ERR_SIZE_MISMATCH',
        });
        await assert.rejects(a.files.download(r.get, { dir: out, maxSize: MB }), { code: 'ERR_TOO_LARGE' });
        assert.deepEqual((await readdir(out)).sort(), ['twenty (1).bin', 'twenty.bin']);
      } finally {
        await a.disconnect();
      }
    });

    test('a file larger than the service allows is refused before any request or PUT', async () => {
      const s = server();
      const a = await login(s, 'upbig');
      try {
        const requests: string[] = [];
        a.on('stanzaOut', (el) => {
          if (el.getChild('request', 'urn:xmpp:http:upload:0')) requests.push(el.attr('id') ?? '');
        });
        const src = await fileSource(sparse);
        assert.equal(src.size, 100 * MB);
        const progress: Progress[] = [];
        await assert.rejects(
          a.files.upload(src, { onProgress: (p) => progress.push(p) }),
          (err: Error & { code?: string }) => {
            assert.equal(err.code, 'ERR_TOO_LARGE');
            assert.match(err.message, /huge\.iso is 104857600 bytes.*at most 67108864/);
            return true;
          },
        );
        assert.deepEqual(requests, [], 'no slot was requested');
        assert.deepEqual(progress, [], 'nothing was sent');
        assert.equal((await stat(sparse)).blocks * 512 < MB, true, 'the sparse file stayed sparse');
      } finally {
        await a.disconnect();
      }
    });

    test('share: the receiver gets a message whose body is the URL, with jabber:x:oob', async () => {
      const s = server();
      const a = await login(s, 'sha');
      const b = await login(s, 'shb');
      try {
        const got = new Promise<{
          body?: string | undefined;
          oob: { url: string; desc?: string | undefined }[];
        }>((resolve) => b.on('message', (m) => resolve(m)));
        const shared = await a.files.share(b.jid!, await fileSource(file10), { desc: 'ten megabytes' });
        await shared.message.confirmed;
        const m = await got;
        assert.equal(m.body, shared.get);
        assert.deepEqual(
          m.oob.map((o) => ({ url: o.url, desc: o.desc })),
          [{ url: shared.get, desc: 'ten megabytes' }],
        );
        // The receiver decides to fetch it (nothing is fetched automatically).
        const out = await mkdtemp(join(dir, 'sh-'));
        const d = await b.files.download(m.oob[0]!.url, { dir: out, expectedSize: 10 * MB });
        assert.equal(await sha256(d.path!), await sha256(file10));
      } finally {
        await Promise.all([a.disconnect(), b.disconnect()]);
      }
    });

    test('jabber:iq:oob: 10 MB from the built-in server, fetched and acknowledged; one refused', async () => {
      const s = server();
      const a = await login(s, 'ooba');
      const b = await login(s, 'oobb');
      try {
        const out = await mkdtemp(join(dir, 'oob-'));
        const offers: OobOffer[] = [];
        const saved: Promise<{ path?: string | undefined; size: number }>[] = [];
        b.files.on('offer', (o) => {
          offers.push(o);
          if (o.desc === 'please refuse') o.reject();
          else saved.push(o.accept({ dir: out, expectedSize: 10 * MB }));
        });
        const served: Progress[] = [];
        const r = await a.files.offerFile(b.jid!, file10, {
          desc: 'ten megabytes',
          bind: '127.0.0.1',
          timeout: 60_000,
          onProgress: (p) => served.push(p),
        });
        assert.equal(r.status, 'accepted');
        assert.equal(r.completed, true);
        assert.equal(r.transferred, 10 * MB);
        monotonic(served, 10 * MB);
        assert.equal(offers[0]!.from, a.jid);
        assert.match(offers[0]!.url, /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{32}\/ten\.bin$/);
        const d = await saved[0]!;
        assert.equal(d.path, join(out, 'ten.bin'));
        assert.equal(await sha256(d.path!), await sha256(file10));
        // The URL was single use: the server is gone.
        await assert.rejects(fetch(offers[0]!.url));

        await assert.rejects(
          a.files.offerFile(b.jid!, file10, { desc: 'please refuse', timeout: 30_000 }),
          (err: StanzaError) => err.code === 'ERR_STANZA' && err.condition === 'not-acceptable',
        );
        assert.equal(offers.length, 2);
        await assert.rejects(fetch(offers[1]!.url), 'the refused offer stopped its server too');
      } finally {
        await Promise.all([a.disconnect(), b.disconnect()]);
      }
    });

    test('jabber:iq:oob: a remote name like ../../x is saved safely; a receiver with no handler refuses', async () => {
      const s = server();
      const a = await login(s, 'trava');
      const b = await login(s, 'travb');
      const evil = http.createServer((_req, res) =>
        res.writeHead(200, { 'Content-Length': '5' }).end('pwned'),
      );
      await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
      const port = (evil.address() as AddressInfo).port;
      try {
        const base = await mkdtemp(join(dir, 'trav-'));
        const out = join(base, 'a', 'b');
        await mkdir(out, { recursive: true });
        const url = `http://127.0.0.1:${port}/t/..%2F..%2Fx`;
        // No listener at b yet: refused without fetching.
        await assert.rejects(a.files.offer(b.jid!, { url }), { condition: 'not-acceptable' });
        const saved = new Promise<{ path?: string | undefined }>((resolve, reject) =>
          b.files.on('offer', (o) => o.accept({ dir: out }).then(resolve, reject)),
        );
        assert.equal(await a.files.offer(b.jid!, { url }), 'accepted');
        const d = await saved;
        assert.equal(d.path, join(out, 'x'));
        assert.deepEqual(await readdir(out), ['x']);
        assert.deepEqual((await readdir(base)).sort(), ['a'], 'nothing written above the directory');
        assert.deepEqual(await readdir(join(base, 'a')), ['b']);
      } finally {
        evil.close();
        await Promise.all([a.disconnect(), b.disconnect()]);
      }
    });
  });
}

describe('file transfer on the minimal Prosody', () => {
  test('no upload service: uploadService() is undefined, upload fails clearly before sending', async () => {
    const s = prosodyMinimal();
    const a = await login(s, 'upmin');
    try {
      assert.equal(await a.files.uploadService(), undefined);
      await assert.rejects(a.files.upload(await fileSource(file10)), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_UNSUPPORTED');
        assert.match(err.message, /localhost offers no HTTP file upload service \(XEP-0363\)/);
        return true;
      });
    } finally {
      await a.disconnect();
    }
  });
});

after(() => {});
