// The Node file-transfer platform (platform/node-http.ts) against local HTTP(S) servers: PUT
// with exactly the headers given and progress; GET over https trusting a private CA (and
// refusing without it); new files never overwrite (`name (1).ext`), a failed download leaves
// no partial file; the one-file server answers only its random path, once, and stops.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCertificates } from '../../../../testbed/certs.ts';
import { bytesSource } from '../features/files/http.ts';
import { createExactFile, createFile, downloadFile, fileSource, nodeFiles, serveFile } from './node-http.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'confab-node-http-'));
});

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

describe('node-http', () => {
  test('PUT sends the body with exactly the given headers and reports progress', async () => {
    let got: { headers: http.IncomingHttpHeaders; bytes: number; method?: string } | undefined;
    const server = http.createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      req.on('end', () => {
        got = { headers: req.headers, bytes, method: req.method };
        res.writeHead(201).end();
      });
    });
    const port = await listen(server);
    try {
      const body = bytesSource(new Uint8Array(300_000).fill(3));
      const seen: number[] = [];
      const r = await nodeFiles.put({
        url: `http://127.0.0.1:${port}/slot/x.bin`,
        headers: {
          'Content-Type': 'application/octet-stream',
          'Content-Length': '300000',
          Authorization: 'Basic QQ==',
        },
        body,
        onProgress: (p) => seen.push(p.transferred),
      });
      assert.equal(r.status, 201);
      assert.equal(got?.method, 'PUT');
      assert.equal(got?.bytes, 300_000);
      assert.equal(got?.headers.authorization, 'Basic QQ==');
      assert.equal(got?.headers['content-length'], '300000');
      assert.equal(got?.headers['transfer-encoding'], undefined);
      assert.equal(seen.at(-1), 300_000);
    } finally {
      server.close();
    }
  });

  test('GET over https trusts the extra CA, and refuses without it (ERR_TLS_CERT)', async () => {
    const certs = await createCertificates(join(dir, 'certs'));
    const server = https.createServer(
      { cert: await readFile(certs.cert), key: await readFile(certs.key) },
      (_req, res) => res.writeHead(200, { 'Content-Length': '2' }).end('ok'),
    );
    const port = await listen(server);
    try {
      const url = `https://localhost:${port}/a/ok.txt`;
      const saved = await downloadFile(url, { dir, tls: { caFile: certs.caCert } });
      assert.equal(await readFile(saved.path, 'utf8'), 'ok');
      await assert.rejects(downloadFile(url, { dir }), { code: 'ERR_TLS_CERT' });
      assert.deepEqual(
        (await readdir(dir)).filter((f) => f.startsWith('ok')),
        ['ok.txt'],
        'no partial file',
      );
    } finally {
      server.close();
    }
  });

  test('new files never overwrite: name (1).ext; exact paths refuse to', async () => {
    const d = await mkdtemp(join(dir, 'n-'));
    await writeFile(join(d, 'x.txt'), 'old');
    const f1 = await createFile(d, '../../x.txt');
    assert.equal(f1.path, join(d, 'x (1).txt'));
    await f1.write(new TextEncoder().encode('new'));
    await f1.close();
    const f2 = await createFile(d, 'x.txt');
    assert.equal(f2.path, join(d, 'x (2).txt'));
    await f2.abort(new Error('x'));
    assert.deepEqual((await readdir(d)).sort(), ['x (1).txt', 'x.txt']);
    assert.equal(await readFile(join(d, 'x.txt'), 'utf8'), 'old');
    await assert.rejects(createExactFile(join(d, 'x.txt')), { code: 'ERR_BAD_INPUT' });
  });

  test('the one-file server: random path only, one complete download, then gone', async () => {
    const data = new Uint8Array(1_000_000).map((_, i) => i % 251);
    const src = join(dir, 'served.bin');
    await writeFile(src, data);
    const progress: number[] = [];
    const served = await serveFile(await fileSource(src), {
      onProgress: (p) => progress.push(p.transferred),
    });
    const u = new URL(served.url);
    assert.equal(u.hostname, '127.0.0.1');
    const token = u.pathname.split('/')[1]!;
    assert.ok(Buffer.from(token, 'base64url').length >= 16, '128+ random bits');
    assert.equal(u.pathname.split('/')[2], 'served.bin');
    const wrong = await fetch(`${u.origin}/${'A'.repeat(token.length)}/served.bin`);
    assert.equal(wrong.status, 404);
    await wrong.arrayBuffer();
    const d = await mkdtemp(join(dir, 's-'));
    const got = await downloadFile(served.url, { dir: d, expectedSize: data.length });
    assert.equal(got.size, data.length);
    const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    assert.equal(hash(await readFile(got.path)), hash(data));
    assert.deepEqual(await served.done, { completed: true, transferred: data.length });
    assert.equal(progress.at(-1), data.length);
    await assert.rejects(fetch(served.url), 'the server is gone after the download');
  });

  test('HEAD gives the headers without the body, and the one-file server stays for the download', async () => {
    const served = await serveFile(bytesSource(new Uint8Array(1234), { name: 'h.bin' }), { timeout: 5_000 });
    const head = await nodeFiles.get({ url: served.url, method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '1234');
    let bytes = 0;
    for await (const c of head.body) bytes += c.byteLength;
    assert.equal(bytes, 0);
    const got = await downloadFile(served.url, { dir: await mkdtemp(join(dir, 'h-')), expectedSize: 1234 });
    assert.equal(got.size, 1234);
    assert.equal((await served.done).completed, true);
  });

  test('the one-file server stops at its timeout without a download', async () => {
    const served = await serveFile(bytesSource(new Uint8Array(10), { name: 'x' }), { timeout: 50 });
    assert.deepEqual(await served.done, { completed: false, transferred: 0 });
    await assert.rejects(fetch(served.url));
  });
});

after(() => {});
