// Size checks and progress of downloads and uploads (features/files/transfer.ts), on a fake
// platform: what was announced is checked before anything is stored, and while reading.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfabError } from '../../errors.ts';
import { type ByteSink, bytesSource, type FilesPlatform, type HttpResponse, type Progress } from './http.ts';
import { countedSource, downloadWith } from './transfer.ts';

interface Served {
  status?: number;
  headers?: Record<string, string>;
  chunks: Uint8Array[];
}

function fakePlatform(served: Served) {
  const state = { bodyRead: 0, cancelled: false, urls: [] as string[] };
  const platform: FilesPlatform = {
    name: 'fake',
    put: () => Promise.reject(new Error('no put')),
    async get(r) {
      state.urls.push(r.url);
      const res: HttpResponse = {
        status: served.status ?? 200,
        statusText: served.status === 404 ? 'Not Found' : 'OK',
        headers: served.headers ?? {},
        body: (async function* () {
          for (const c of served.chunks) {
            state.bodyRead++;
            yield c;
          }
        })(),
        cancel: () => {
          state.cancelled = true;
        },
      };
      return res;
    },
  };
  return { platform, state };
}

function sink() {
  const s = { written: 0, closed: false, aborted: false };
  const k: ByteSink = {
    write: (c) => {
      s.written += c.byteLength;
    },
    close: () => {
      s.closed = true;
    },
    abort: () => {
      s.aborted = true;
    },
  };
  return { k, s };
}

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe('downloadWith', () => {
  test('only http and https URLs (ERR_BAD_INPUT), before any request', async () => {
    const { platform, state } = fakePlatform({ chunks: [] });
    for (const url of ['file:///etc/passwd', 'ftp://x/y', 'javascript:alert(1)', 'data:,x', 'not a url']) {
      await assert.rejects(downloadWith(platform, url), { code: 'ERR_BAD_INPUT' }, url);
    }
    assert.equal(state.urls.length, 0);
  });

  test('into memory, with progress up to the total; the name from the URL, made safe', async () => {
    const { platform } = fakePlatform({
      headers: { 'content-length': String(200_000), 'content-type': 'image/png' },
      chunks: [bytes(100_000), bytes(100_000, 2)],
    });
    const seen: Progress[] = [];
    const r = await downloadWith(platform, 'https://h.example/a/..%2F..%2Fx.png', {
      onProgress: (p) => seen.push(p),
    });
    assert.equal(r.size, 200_000);
    assert.equal(r.name, 'x.png');
    assert.equal(r.type, 'image/png');
    assert.equal(r.bytes?.byteLength, 200_000);
    assert.equal(r.bytes?.[199_999], 2);
    assert.deepEqual(seen[0], { transferred: 0, total: 200_000 });
    assert.deepEqual(seen.at(-1), { transferred: 200_000, total: 200_000 });
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.transferred > seen[i - 1]!.transferred);
  });

  test('Content-Length differing from the announced size: refused before reading the body', async () => {
    const { platform, state } = fakePlatform({ headers: { 'content-length': '500' }, chunks: [bytes(500)] });
    const { k, s } = sink();
    await assert.rejects(downloadWith(platform, 'http://h/x', { expectedSize: 400, sink: k }), {
      code: 'ERR_SIZE_MISMATCH',
    });
    assert.equal(state.bodyRead, 0);
    assert.equal(state.cancelled, true);
    assert.equal(s.written, 0);
    assert.equal(s.aborted, true);
  });

  test('Content-Length above maxSize: ERR_TOO_LARGE before reading', async () => {
    const { platform, state } = fakePlatform({
      headers: { 'content-length': '5000' },
      chunks: [bytes(5000)],
    });
    await assert.rejects(downloadWith(platform, 'http://h/x', { maxSize: 4096 }), { code: 'ERR_TOO_LARGE' });
    assert.equal(state.bodyRead, 0);
  });

  test('no Content-Length: stops as soon as the body passes the announced size or the limit', async () => {
    const many = Array.from({ length: 100 }, () => bytes(1000));
    {
      const { platform, state } = fakePlatform({ chunks: many });
      const { k, s } = sink();
      await assert.rejects(downloadWith(platform, 'http://h/x', { expectedSize: 2500, sink: k }), {
        code: 'ERR_SIZE_MISMATCH',
      });
      assert.equal(state.bodyRead, 3, 'stopped at the chunk that went past 2500');
      assert.equal(s.written, 2000);
      assert.equal(s.aborted, true);
      assert.equal(s.closed, false);
    }
    {
      const { platform, state } = fakePlatform({ chunks: many });
      await assert.rejects(downloadWith(platform, 'http://h/x', { maxSize: 10_000 }), {
        code: 'ERR_TOO_LARGE',
      });
      assert.equal(state.bodyRead, 11);
      assert.equal(state.cancelled, true);
    }
  });

  test('a body longer than its own Content-Length, or shorter: ERR_SIZE_MISMATCH', async () => {
    const longer = fakePlatform({ headers: { 'content-length': '10' }, chunks: [bytes(8), bytes(8)] });
    await assert.rejects(downloadWith(longer.platform, 'http://h/x'), { code: 'ERR_SIZE_MISMATCH' });
    const shorter = fakePlatform({ headers: { 'content-length': '10' }, chunks: [bytes(8)] });
    const { k, s } = sink();
    await assert.rejects(downloadWith(shorter.platform, 'http://h/x', { sink: k }), {
      code: 'ERR_SIZE_MISMATCH',
    });
    assert.equal(s.aborted, true, 'a partial file is dropped');
    const exact = fakePlatform({ chunks: [bytes(8)] });
    await assert.rejects(downloadWith(exact.platform, 'http://h/x', { expectedSize: 9 }), {
      code: 'ERR_SIZE_MISMATCH',
    });
  });

  test('HTTP errors: ERR_HTTP with the status', async () => {
    const { platform } = fakePlatform({ status: 404, chunks: [] });
    await assert.rejects(downloadWith(platform, 'http://h/x'), (err: ConfabError) => {
      assert.equal(err.code, 'ERR_HTTP');
      assert.match(err.message, /404/);
      return true;
    });
  });

  test('into a sink: written, then closed', async () => {
    const { platform } = fakePlatform({ headers: { 'content-length': '16' }, chunks: [bytes(8), bytes(8)] });
    const { k, s } = sink();
    const r = await downloadWith(platform, 'http://h/x', { expectedSize: 16, maxSize: 16, sink: k });
    assert.equal(r.bytes, undefined);
    assert.deepEqual(s, { written: 16, closed: true, aborted: false });
  });
});

describe('countedSource', () => {
  test('exactly size bytes, or ERR_SIZE_MISMATCH', async () => {
    const drain = async (src: AsyncIterable<Uint8Array>) => {
      let n = 0;
      for await (const c of src) n += c.byteLength;
      return n;
    };
    assert.equal(await drain(countedSource(bytesSource(bytes(100_000)))), 100_000);
    const lying = {
      ...bytesSource(bytes(10)),
      size: 20,
      [Symbol.asyncIterator]: bytesSource(bytes(10))[Symbol.asyncIterator],
    };
    await assert.rejects(drain(countedSource(lying)), { code: 'ERR_SIZE_MISMATCH' });
    const more = { size: 5, [Symbol.asyncIterator]: bytesSource(bytes(10))[Symbol.asyncIterator] };
    await assert.rejects(drain(countedSource(more)), { code: 'ERR_SIZE_MISMATCH' });
  });
});
