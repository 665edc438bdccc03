/**
 * The file-transfer seam (DESIGN principle 8): what the core needs from the platform to move
 * bytes over HTTP (XEP-0363 PUT, XEP-0066 GET) and, in Node only, to read and create local
 * files and to serve one file itself (the "trivial server" of XEP-0066's iq form). The core
 * (files.ts, transfer.ts) sees only this interface; platform/node-http.ts implements it with
 * node:http/https and node:fs, platform/browser-http.ts with fetch / XMLHttpRequest. The
 * package entries pick one, as they pick the transport (index.ts, browser.ts).
 *
 * Bytes are an abstract `ByteSource` (an async iterable of chunks plus its size), so the core
 * never needs fs streams or Blobs.
 */
import type { TlsOptions } from '../../transport/types.ts';

/** Bytes to send: iterated once per transfer (each iteration starts from the beginning). */
export interface ByteSource extends AsyncIterable<Uint8Array> {
  /** Exact length in bytes (HTTP Content-Length, the XEP-0363 slot's `size`). */
  readonly size: number;
  /** A name for it (a local file's base name), when it has one. */
  readonly name?: string | undefined;
  /** Its media type, when known. */
  readonly type?: string | undefined;
}

/** How far a transfer is. */
export interface Progress {
  /** Bytes moved so far. */
  transferred: number;
  /** Bytes in all, when known. */
  total: number | undefined;
}

export interface HttpPutRequest {
  url: string;
  /** Every header to send (the core has filtered and completed them). */
  headers: Record<string, string>;
  body: ByteSource;
  tls?: TlsOptions | undefined;
  onProgress?: ((p: Progress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface HttpGetRequest {
  url: string;
  /** HEAD asks for the headers only (the body is then empty). Default GET. */
  method?: 'GET' | 'HEAD' | undefined;
  tls?: TlsOptions | undefined;
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  /** Header values by lower-case name. */
  headers: Record<string, string | undefined>;
  /** The body (GET); read it once, or `cancel()`. */
  body: AsyncIterable<Uint8Array>;
  /** Stop receiving (closes the connection). */
  cancel(): void;
}

/** Where downloaded bytes go. */
export interface ByteSink {
  write(chunk: Uint8Array): void | Promise<void>;
  /** All bytes were written. */
  close(): void | Promise<void>;
  /** The transfer failed: drop what was written (a partial file is removed). */
  abort(reason: unknown): void | Promise<void>;
}

/** A new local file that never replaced an existing one. */
export interface CreatedFile extends ByteSink {
  /** Its path (the name may be `name (1).ext` when `name.ext` existed). */
  readonly path: string;
}

/** Options of the built-in one-file server. */
export interface ServeOptions {
  /** Address to listen on. Default `127.0.0.1` (only this machine); `0.0.0.0` / `::` for the network. */
  bind?: string | undefined;
  /** Port; default 0 (an ephemeral one). */
  port?: number | undefined;
  /** Host put in the URL; default the bound address (for a wildcard bind: the first external IPv4). */
  host?: string | undefined;
  /** Milliseconds until it stops without a complete download. Default 300 000. */
  timeout?: number | undefined;
  /** The file's name in the URL (the receiver saves it under it). Default the source's name. */
  name?: string | undefined;
  onProgress?: ((p: Progress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** A file being served until one complete download, the timeout, or `close()`. */
export interface ServedFile {
  /** `http://host:port/<128+ random bits>/<name>`: single use. */
  readonly url: string;
  /** Settles when the server has stopped: whether one download completed, and bytes sent in all. */
  readonly done: Promise<{ completed: boolean; transferred: number }>;
  /** Stop now (a download in progress is cut). */
  close(): void;
}

/** What a platform offers for file transfer. Optional members are Node-only. */
export interface FilesPlatform {
  readonly name: string;
  /** An HTTP PUT; resolves with the response (its body drained) once the server answered. */
  put(request: HttpPutRequest): Promise<Omit<HttpResponse, 'body' | 'cancel'>>;
  /** An HTTP GET; resolves once the response headers are in (redirects to http/https followed). */
  get(request: HttpGetRequest): Promise<HttpResponse>;
  /** A local file as a ByteSource (Node). */
  openFile?(path: string): Promise<ByteSource>;
  /** Create `dir/name`, or `dir/name (1).ext`... (never overwriting) for writing (Node). */
  createFile?(dir: string, name: string): Promise<CreatedFile>;
  /** Create exactly `path`; fails when it exists (Node). */
  createExactFile?(path: string): Promise<CreatedFile>;
  /** Serve one file over HTTP (Node). */
  serveFile?(source: ByteSource, options: ServeOptions): Promise<ServedFile>;
}

/**
 * A ByteSource over bytes in memory.
 *
 * @example
 * await client.files.upload(bytesSource(new TextEncoder().encode('hi'), { name: 'hi.txt', type: 'text/plain' }));
 */
export function bytesSource(
  bytes: Uint8Array,
  o: { name?: string | undefined; type?: string | undefined } = {},
): ByteSource {
  const CHUNK = 64 * 1024;
  return {
    size: bytes.byteLength,
    name: o.name,
    type: o.type,
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < bytes.byteLength; i += CHUNK) yield bytes.subarray(i, i + CHUNK);
    },
  };
}
