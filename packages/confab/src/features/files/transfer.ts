/**
 * Moving bytes with the checks the issue asks for, on any platform (files.ts uses these; the
 * Node entry's `downloadFile` too):
 * - downloads only from http/https URLs; the size is checked against what was announced before
 *   a byte is stored (Content-Length against the offer's expected size and the caller's limit)
 *   and while reading (more bytes than announced or allowed: stop at once; fewer: fail);
 * - uploads send exactly `size` bytes (a source that yields more or fewer fails, rather than
 *   sending a different file than the slot was asked for).
 * Progress is reported at most every 64 KiB and at the end, so a 20 MB transfer makes a few
 * hundred events, not tens of thousands.
 */
import { ConfabError } from '../../errors.ts';
import type { TlsOptions } from '../../transport/types.ts';
import type { ByteSink, ByteSource, FilesPlatform, HttpResponse, Progress } from './http.ts';
import { fileNameFromUrl } from './names.ts';

const PROGRESS_STEP = 64 * 1024;

export interface DownloadOptions {
  /** The size the sender announced: a different Content-Length or body length fails (ERR_SIZE_MISMATCH). */
  expectedSize?: number | undefined;
  /** Refuse more bytes than this (ERR_TOO_LARGE), before reading when Content-Length says so. */
  maxSize?: number | undefined;
  onProgress?: ((p: Progress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface DownloadResult {
  /** The URL's last path segment, made safe (`safeFileName`): what to call the file. */
  name: string;
  /** Bytes received. */
  size: number;
  /** The response's Content-Type, if any. */
  type: string | undefined;
  /** The bytes, when no sink was given. */
  bytes?: Uint8Array | undefined;
}

/** Throws ERR_BAD_INPUT unless `url` is an absolute http: or https: URL. */
export function checkHttpUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw new ConfabError('ERR_BAD_INPUT', `not a URL: ${JSON.stringify(url)}`, { cause });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfabError('ERR_BAD_INPUT', `only http and https URLs are fetched, not ${u.protocol}`);
  }
  return u;
}

/** `onProgress`, called at most every 64 KiB and once at the end (`final`). */
export function throttled(onProgress: ((p: Progress) => void) | undefined, total: number | undefined) {
  let reported = -1;
  return (transferred: number, final = false) => {
    if (!onProgress) return;
    if (final || reported < 0 || transferred - reported >= PROGRESS_STEP) {
      if (transferred === reported) return;
      reported = transferred;
      onProgress({ transferred, total });
    }
  };
}

function contentLength(res: Pick<HttpResponse, 'headers'>): number | undefined {
  const raw = res.headers['content-length']?.trim();
  return raw !== undefined && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
}

/**
 * GET `url` with the size checks, into `sink` (or into memory without one). On any failure the
 * sink is aborted (a partial file removed) and the connection closed.
 */
export async function downloadWith(
  platform: FilesPlatform,
  url: string,
  o: DownloadOptions & { tls?: TlsOptions | undefined; sink?: ByteSink | undefined } = {},
): Promise<DownloadResult> {
  let res: HttpResponse;
  try {
    checkHttpUrl(url);
    if (o.signal?.aborted) throw aborted(o.signal);
    res = await platform.get({ url, tls: o.tls, signal: o.signal });
  } catch (err) {
    // A sink made before the request (a new file) goes when there is nothing to put in it.
    if (o.sink) await Promise.resolve(o.sink.abort(err)).catch(() => {});
    throw err;
  }
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    if (res.status < 200 || res.status > 299) {
      throw new ConfabError('ERR_HTTP', `GET ${url} failed: HTTP ${res.status} ${res.statusText}`.trim());
    }
    const announced = contentLength(res);
    const expected = o.expectedSize;
    if (expected !== undefined && announced !== undefined && announced !== expected) {
      throw new ConfabError(
        'ERR_SIZE_MISMATCH',
        `${url} is ${announced} bytes, but ${expected} bytes were announced`,
      );
    }
    if (o.maxSize !== undefined && (announced ?? expected ?? 0) > o.maxSize) {
      throw new ConfabError(
        'ERR_TOO_LARGE',
        `${url} is ${announced ?? expected} bytes, more than the ${o.maxSize} allowed`,
      );
    }
    const total = announced ?? expected;
    // Never more than was announced (by the sender or by the HTTP server) or allowed.
    const limit = Math.min(announced ?? Infinity, expected ?? Infinity, o.maxSize ?? Infinity);
    const progress = throttled(o.onProgress, total);
    progress(0);
    for await (const chunk of res.body) {
      received += chunk.byteLength;
      if (received > limit) {
        throw limit === o.maxSize && limit !== announced && limit !== expected
          ? new ConfabError('ERR_TOO_LARGE', `${url} sent more than the ${o.maxSize} bytes allowed`)
          : new ConfabError('ERR_SIZE_MISMATCH', `${url} sent more than the ${limit} bytes announced`);
      }
      if (o.sink) await o.sink.write(chunk);
      else chunks.push(chunk);
      progress(received);
    }
    if (o.signal?.aborted) throw aborted(o.signal);
    if (total !== undefined && received !== total) {
      throw new ConfabError('ERR_SIZE_MISMATCH', `${url} ended after ${received} of ${total} bytes`);
    }
    progress(received, true);
    if (o.sink) await o.sink.close();
    return {
      name: fileNameFromUrl(url),
      size: received,
      type: res.headers['content-type'],
      ...(o.sink ? {} : { bytes: concat(chunks, received) }),
    };
  } catch (err) {
    res.cancel();
    if (o.sink) await Promise.resolve(o.sink.abort(err)).catch(() => {});
    if (o.signal?.aborted && !(err instanceof ConfabError)) throw aborted(o.signal);
    throw err instanceof ConfabError
      ? err
      : new ConfabError('ERR_HTTP', `GET ${url} failed: ${(err as Error)?.message ?? err}`, { cause: err });
  }
}

/** `source`, checked to yield exactly its `size` bytes (more or fewer fails: ERR_SIZE_MISMATCH). */
export function countedSource(source: ByteSource): ByteSource {
  const size = source.size;
  return {
    size,
    name: source.name,
    type: source.type,
    async *[Symbol.asyncIterator]() {
      let sent = 0;
      for await (const chunk of source) {
        sent += chunk.byteLength;
        if (sent > size) {
          throw new ConfabError('ERR_SIZE_MISMATCH', `the source yields more than its ${size} bytes`);
        }
        yield chunk;
      }
      if (sent !== size) {
        throw new ConfabError('ERR_SIZE_MISMATCH', `the source ended after ${sent} of its ${size} bytes`);
      }
    },
  };
}

/** A throttled progress callback for a platform that reports every chunk (`final` on the last). */
export function progressReporter(
  onProgress: ((p: Progress) => void) | undefined,
  total: number | undefined,
): ((p: Progress) => void) | undefined {
  if (!onProgress) return undefined;
  const report = throttled(onProgress, total);
  return (p) => report(p.transferred, total !== undefined && p.transferred >= total);
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.byteLength === size) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** The error for a cancelled transfer. */
export function aborted(signal: AbortSignal): ConfabError {
  const reason = signal.reason as unknown;
  if (reason instanceof ConfabError) return reason;
  return new ConfabError('ERR_ABORTED', 'the transfer was cancelled', { cause: reason });
}
