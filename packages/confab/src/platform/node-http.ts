/**
 * The Node side of file transfer (features/files/http.ts `FilesPlatform`): HTTP PUT and GET with
 * node:http / node:https (the account's extra CAs apply, as on the XMPP connection: the test bed
 * has its own CA), local files with node:fs (read as a ByteSource; written only as NEW files,
 * `name (1).ext` when `name.ext` exists, a partial file removed on failure), and the seed's
 * "trivial server" for XEP-0066 iq offers: one file over HTTP on an ephemeral port, at an
 * unguessable single-use path (192 random bits), stopping after one complete download or a
 * timeout. Chosen by the Node entry (index.ts), like the TCP transport.
 *
 * SPKI pins (`tls.pin`) are for the XMPP server's certificate and are not applied to HTTP
 * hosts (an upload service often has another certificate); CAs and the tests-only switch are.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, readFile, stat, unlink } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { basename, join } from 'node:path';
import { ConfabError } from '../errors.ts';
import type {
  ByteSource,
  CreatedFile,
  FilesPlatform,
  HttpGetRequest,
  HttpPutRequest,
  HttpResponse,
  ServedFile,
  ServeOptions,
} from '../features/files/http.ts';
import { fileNameFromUrl, numberedName, safeFileName } from '../features/files/names.ts';
import {
  checkHttpUrl,
  type DownloadOptions,
  type DownloadResult,
  downloadWith,
  progressReporter,
} from '../features/files/transfer.ts';
import { secureContextFor } from '../transport/tcp.ts';
import type { TlsOptions } from '../transport/types.ts';

/** No byte in either direction for this long: the transfer fails (ERR_TIMEOUT). */
const IDLE_MS = 60_000;
const MAX_REDIRECTS = 5;

// A few common types, so a shared photo is shown as one (XEP-0363 slot `content-type`).
const TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.html': 'text/html',
  '.json': 'application/json',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.m4a': 'audio/mp4',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

function typeOf(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? undefined : TYPES[name.slice(dot).toLowerCase()];
}

/**
 * A local file as a ByteSource (size and name from the file system; each iteration reads it
 * afresh).
 *
 * @example
 * const { get } = await client.files.upload(await fileSource('photo.jpg'));
 */
export async function fileSource(path: string, o: { type?: string | undefined } = {}): Promise<ByteSource> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error('not a regular file');
    size = s.size;
  } catch (err) {
    throw new ConfabError('ERR_BAD_INPUT', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const name = basename(path);
  return {
    size,
    name,
    type: o.type ?? typeOf(name),
    async *[Symbol.asyncIterator]() {
      // Buffer is a Uint8Array; 256 KiB reads keep a 20 MB upload at ~80 chunks.
      for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) yield chunk as Buffer;
    },
  };
}

async function extraCas(t: TlsOptions | undefined): Promise<string[]> {
  const list = (v: string | readonly string[] | undefined) =>
    v === undefined ? [] : typeof v === 'string' ? [v] : [...v];
  const files = await Promise.all(
    list(t?.caFile).map((f) =>
      readFile(f, 'utf8').catch((err: Error) => {
        throw new ConfabError('ERR_BAD_INPUT', `cannot read CA file ${f}: ${err.message}`, { cause: err });
      }),
    ),
  );
  return [...list(t?.ca), ...files];
}

async function requestOptions(url: URL, t: TlsOptions | undefined): Promise<https.RequestOptions> {
  if (url.protocol !== 'https:') return {};
  const context = secureContextFor(await extraCas(t), t?.maxVersion);
  return {
    ...(context ? { secureContext: context } : {}),
    rejectUnauthorized: t?.insecureSkipVerify_TESTS_ONLY !== true,
  };
}

function transportError(err: unknown, what: string): ConfabError {
  if (err instanceof ConfabError) return err;
  const e = err as Error & { code?: string };
  const cert = e.code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(e.code);
  return new ConfabError(cert ? 'ERR_TLS_CERT' : 'ERR_HTTP', `${what}: ${e.message}`, { cause: err });
}

/** One request; resolves with the response once its headers are in. */
async function send(
  method: 'GET' | 'HEAD' | 'PUT',
  url: URL,
  headers: Record<string, string>,
  t: TlsOptions | undefined,
  signal: AbortSignal | undefined,
  body?: (req: http.ClientRequest) => Promise<void>,
): Promise<{ res: http.IncomingMessage; req: http.ClientRequest }> {
  const lib = url.protocol === 'https:' ? https : http;
  const opts = await requestOptions(url, t);
  return new Promise((resolve, reject) => {
    const what = `${method} ${url.origin}${url.pathname}`;
    // No shared agent: its pool is not keyed by our secureContext, so a socket verified with
    // one account's CAs could serve a request made with other trust (one transfer, one socket).
    const req = lib.request(url, { method, headers, agent: false, ...opts });
    const fail = (err: unknown) => {
      cleanup();
      reject(transportError(err, what));
    };
    const onAbort = () =>
      req.destroy(new ConfabError('ERR_ABORTED', `${what}: cancelled`, { cause: signal?.reason }));
    const cleanup = () => signal?.removeEventListener('abort', onAbort);
    if (signal?.aborted) {
      onAbort();
    } else signal?.addEventListener('abort', onAbort, { once: true });
    req.setTimeout(IDLE_MS, () =>
      req.destroy(new ConfabError('ERR_TIMEOUT', `${what}: no data for ${IDLE_MS / 1000} s`)),
    );
    req.on('error', fail);
    req.on('response', (res) => {
      // Errors after the headers (a cut body) surface on the body stream; the signal stays armed.
      res.once('close', cleanup);
      resolve({ res, req });
    });
    if (body) body(req).catch((err) => req.destroy(err as Error));
    else req.end();
  });
}

function headersOf(res: http.IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(res.headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

async function put(r: HttpPutRequest): Promise<Omit<HttpResponse, 'body' | 'cancel'>> {
  const url = new URL(r.url);
  const total = r.body.size;
  const { res } = await send('PUT', url, r.headers, r.tls, r.signal, async (req) => {
    let sent = 0;
    for await (const chunk of r.body) {
      if (req.destroyed) return;
      if (!req.write(chunk)) await drainOrClose(req);
      sent += chunk.byteLength;
      r.onProgress?.({ transferred: sent, total });
    }
    req.end();
  });
  // Drain the body (an error page): small, and the socket must be read to be reused.
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    if (size < 64 * 1024) chunks.push(c as Buffer);
    size += (c as Buffer).length;
  }
  return { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: headersOf(res) };
}

async function get(r: HttpGetRequest): Promise<HttpResponse> {
  let url = new URL(r.url);
  for (let hop = 0; ; hop++) {
    const method = r.method ?? 'GET';
    const { res, req } = await send(method, url, { 'Accept-Encoding': 'identity' }, r.tls, r.signal);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location !== undefined && hop < MAX_REDIRECTS) {
      res.resume();
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new ConfabError(
          'ERR_HTTP',
          `${method} ${url.href} redirects to ${next.protocol}, which is not fetched`,
        );
      }
      url = next;
      continue;
    }
    return {
      status,
      statusText: res.statusMessage ?? '',
      headers: headersOf(res),
      body: (async function* () {
        try {
          for await (const c of res) yield c as Buffer;
        } catch (err) {
          throw transportError(err, `GET ${url.origin}${url.pathname}`);
        }
        // A connection cut before Content-Length bytes may end the stream without an error.
        if (!res.complete)
          throw new ConfabError('ERR_HTTP', `GET ${url.origin}${url.pathname}: the connection was cut`);
      })(),
      cancel: () => req.destroy(),
    };
  }
}

async function created(fh: FileHandle, path: string): Promise<CreatedFile> {
  let closed = false;
  return {
    path,
    async write(chunk) {
      let at = 0;
      while (at < chunk.byteLength) {
        const { bytesWritten } = await fh.write(chunk, at, chunk.byteLength - at);
        at += bytesWritten;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await fh.close();
    },
    async abort() {
      if (!closed) {
        closed = true;
        await fh.close().catch(() => {});
      }
      await unlink(path).catch(() => {});
    },
  };
}

/**
 * A new file in `dir` named `safeFileName(name)`, or `name (1).ext`, `name (2).ext`... when
 * taken: opened with O_CREAT|O_EXCL ('wx'), so nothing is ever overwritten and no symlink
 * planted at the name is followed.
 */
export async function createFile(dir: string, name: string): Promise<CreatedFile> {
  const safe = safeFileName(name);
  for (let n = 0; n < 1000; n++) {
    const path = join(dir, numberedName(safe, n));
    try {
      return await created(await open(path, 'wx', 0o644), path);
    } catch (err) {
      if ((err as { code?: string }).code === 'EEXIST') continue;
      throw new ConfabError('ERR_BAD_INPUT', `cannot create ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  throw new ConfabError('ERR_BAD_INPUT', `cannot create ${safe} in ${dir}: 1000 files of that name exist`);
}

/** Exactly `path`, which must not exist yet. */
export async function createExactFile(path: string): Promise<CreatedFile> {
  try {
    return await created(await open(path, 'wx', 0o644), path);
  } catch (err) {
    const exists = (err as { code?: string }).code === 'EEXIST';
    throw new ConfabError(
      'ERR_BAD_INPUT',
      exists ? `${path} exists; it is not overwritten` : `cannot create ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Resolves when `w` wants more data or is gone (the listeners are removed either way). */
function drainOrClose(w: http.ServerResponse | http.ClientRequest): Promise<void> {
  return new Promise<void>((ok) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      ok();
    };
    w.on('drain', done);
    w.on('close', done);
  });
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}

function urlHost(bind: string, host: string | undefined): string {
  let h = host;
  if (h === undefined) {
    if (isWildcard(bind)) {
      const external = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal);
      h = external?.address ?? '127.0.0.1';
    } else h = bind;
  }
  return h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
}

/**
 * Serve one file over HTTP until one complete download, the timeout, the signal, or `close()`.
 * Only GET/HEAD on the exact random path are answered (404 otherwise; 503 while a download runs;
 * 410 after). An interrupted download may be retried until the timeout.
 *
 * @example
 * const served = await serveFile(await fileSource('talk.pdf'), { bind: '127.0.0.1' });
 * await client.files.offer(fullJid, { url: served.url });
 */
export async function serveFile(source: ByteSource, o: ServeOptions = {}): Promise<ServedFile> {
  const bind = o.bind ?? '127.0.0.1';
  const name = safeFileName(o.name ?? source.name, 'file');
  const token = randomBytes(24).toString('base64url'); // 192 bits
  const tokenBytes = Buffer.from(token);
  const size = source.size;
  const type = source.type ?? typeOf(name) ?? 'application/octet-stream';
  const report = progressReporter(o.onProgress, size);
  let transferred = 0;
  let active = false;
  let finished = false;
  let settle!: (v: { completed: boolean; transferred: number }) => void;
  const done = new Promise<{ completed: boolean; transferred: number }>((r) => {
    settle = r;
  });

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const seg = Buffer.from(path.split('/')[1] ?? '');
    const match = seg.length === tokenBytes.length && timingSafeEqual(seg, tokenBytes);
    if (!match) {
      res.writeHead(404, { 'Content-Type': 'text/plain', Connection: 'close' }).end('not found\n');
      return;
    }
    if (finished) {
      res.writeHead(410, { 'Content-Type': 'text/plain', Connection: 'close' }).end('gone\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const headers = {
      'Content-Type': type,
      'Content-Length': String(size),
      'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    };
    if (req.method === 'HEAD') {
      res.writeHead(200, headers).end();
      return;
    }
    if (active) {
      res.writeHead(503, { 'Retry-After': '5', Connection: 'close' }).end();
      return;
    }
    active = true;
    res.writeHead(200, headers);
    let sent = 0;
    res.on('close', () => {
      active = false;
      if (res.writableFinished && sent === size) stop(true);
    });
    void (async () => {
      try {
        report?.({ transferred: 0, total: size });
        for await (const chunk of source) {
          if (res.destroyed) return;
          if (!res.write(chunk)) await drainOrClose(res);
          sent += chunk.byteLength;
          transferred += chunk.byteLength;
          report?.({ transferred: sent, total: size });
        }
        res.end();
      } catch {
        res.destroy();
      }
    })();
  });

  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => stop(false);
  function stop(completed: boolean): void {
    if (finished) return;
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
    server.close();
    if (completed) {
      // Let the finished response's connection close by itself; cut anything left soon after.
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2_000).unref();
    } else server.closeAllConnections();
    settle({ completed, transferred });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new ConfabError('ERR_BAD_INPUT', `cannot serve on ${bind}: ${err.message}`, { cause: err })),
    );
    server.listen({ host: bind, port: o.port ?? 0 }, () => resolve());
  });
  server.on('error', () => stop(false));
  const port = (server.address() as AddressInfo).port;
  timer = setTimeout(() => stop(false), o.timeout ?? 300_000);
  if (o.signal?.aborted) stop(false);
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    url: `http://${urlHost(bind, o.host)}:${port}/${token}/${encodeURIComponent(name)}`,
    done,
    close: () => stop(false),
  };
}

/** The Node platform for file transfer (the Node entry gives it to every client). */
export const nodeFiles: FilesPlatform = {
  name: 'node',
  put,
  get,
  openFile: (path) => fileSource(path),
  createFile,
  createExactFile,
  serveFile,
};

export interface DownloadFileOptions extends DownloadOptions {
  /** A new file in this directory, named after the URL (safe, never overwriting)... */
  dir?: string | undefined;
  /** ...or exactly this file (which must not exist). One of the two. */
  path?: string | undefined;
  /** Extra CAs for https (as for the XMPP connection). */
  tls?: TlsOptions | undefined;
}

/**
 * Download a URL (http/https only) into a new file, with the size checks and progress of
 * `client.files.download`, without a client.
 *
 * @example
 * const { path, size } = await downloadFile('https://up.example.org/x/photo.jpg', { dir: 'Downloads' });
 */
export async function downloadFile(
  url: string,
  o: DownloadFileOptions,
): Promise<DownloadResult & { path: string }> {
  checkHttpUrl(url);
  if ((o.dir === undefined) === (o.path === undefined)) {
    throw new ConfabError('ERR_BAD_INPUT', 'downloadFile: give either dir or path');
  }
  const file =
    o.path !== undefined ? await createExactFile(o.path) : await createFile(o.dir!, fileNameFromUrl(url));
  const r = await downloadWith(nodeFiles, url, { ...o, sink: file });
  return { ...r, path: file.path };
}
