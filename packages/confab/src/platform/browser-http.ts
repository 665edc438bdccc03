/**
 * The browser side of file transfer (features/files/http.ts `FilesPlatform`): the HTTP PUT of an
 * upload through XMLHttpRequest where there is one (it alone reports upload progress), else
 * fetch; GET through fetch with a streamed body. No local files and no server: a page can
 * neither listen on a port nor write where it likes, so `offerFile` and saving to a path are
 * ERR_UNSUPPORTED here (downloads come back as bytes or go to the app's sink). TLS is the
 * browser's; CORS decides which upload hosts a page may reach.
 */
import { ConfabError } from '../errors.ts';
import type { FilesPlatform, HttpGetRequest, HttpPutRequest, HttpResponse } from '../features/files/http.ts';

// Headers a browser sets itself and refuses from scripts.
const FORBIDDEN = new Set(['content-length', 'host', 'connection']);

async function blobOf(r: HttpPutRequest): Promise<Blob> {
  const parts: BlobPart[] = [];
  for await (const chunk of r.body) parts.push(chunk as Uint8Array<ArrayBuffer>);
  return new Blob(parts);
}

function aborted(signal: AbortSignal | undefined): ConfabError {
  return new ConfabError('ERR_ABORTED', 'the transfer was cancelled', { cause: signal?.reason });
}

interface Xhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: Blob): void;
  abort(): void;
  status: number;
  statusText: string;
  getAllResponseHeaders(): string;
  upload: { onprogress: ((e: { loaded: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

function parseHeaders(raw: string): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const line of raw.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

async function put(r: HttpPutRequest): Promise<Omit<HttpResponse, 'body' | 'cancel'>> {
  const body = await blobOf(r);
  const headers = Object.entries(r.headers).filter(([k]) => !FORBIDDEN.has(k.toLowerCase()));
  const XhrCtor = (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;
  if (XhrCtor) {
    return new Promise((resolve, reject) => {
      const xhr = new XhrCtor();
      xhr.open('PUT', r.url);
      for (const [k, v] of headers) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => r.onProgress?.({ transferred: e.loaded, total: body.size });
      xhr.onload = () => {
        r.onProgress?.({ transferred: body.size, total: body.size });
        resolve({
          status: xhr.status,
          statusText: xhr.statusText,
          headers: parseHeaders(xhr.getAllResponseHeaders()),
        });
      };
      xhr.onerror = () => reject(new ConfabError('ERR_HTTP', `PUT ${r.url} failed (network error or CORS)`));
      xhr.onabort = () => reject(aborted(r.signal));
      if (r.signal?.aborted) {
        reject(aborted(r.signal));
        return;
      }
      r.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.send(body);
    });
  }
  let res: Response;
  try {
    res = await fetch(r.url, { method: 'PUT', headers, body, signal: r.signal ?? null });
  } catch (err) {
    if (r.signal?.aborted) throw aborted(r.signal);
    throw new ConfabError('ERR_HTTP', `PUT ${r.url} failed: ${(err as Error).message}`, { cause: err });
  }
  await res.arrayBuffer().catch(() => undefined);
  r.onProgress?.({ transferred: body.size, total: body.size });
  return { status: res.status, statusText: res.statusText, headers: Object.fromEntries(res.headers) };
}

async function get(r: HttpGetRequest): Promise<HttpResponse> {
  const ac = new AbortController();
  const onAbort = () => ac.abort(r.signal?.reason);
  if (r.signal?.aborted) throw aborted(r.signal);
  r.signal?.addEventListener('abort', onAbort, { once: true });
  let res: Response;
  try {
    res = await fetch(r.url, { method: r.method ?? 'GET', signal: ac.signal, redirect: 'follow' });
  } catch (err) {
    r.signal?.removeEventListener('abort', onAbort);
    if (r.signal?.aborted) throw aborted(r.signal);
    throw new ConfabError('ERR_HTTP', `GET ${r.url} failed: ${(err as Error).message}`, { cause: err });
  }
  const reader = res.body?.getReader();
  return {
    status: res.status,
    statusText: res.statusText,
    headers: Object.fromEntries(res.headers),
    body: (async function* () {
      try {
        if (!reader) return;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          yield value;
        }
      } catch (err) {
        if (r.signal?.aborted) throw aborted(r.signal);
        throw new ConfabError('ERR_HTTP', `GET ${r.url} failed: ${(err as Error).message}`, { cause: err });
      } finally {
        r.signal?.removeEventListener('abort', onAbort);
      }
    })(),
    cancel: () => ac.abort(),
  };
}

/** The browser platform for file transfer (the browser entry gives it to every client). */
export const browserFiles: FilesPlatform = { name: 'browser', put, get };
