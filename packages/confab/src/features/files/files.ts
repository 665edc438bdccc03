/**
 * File transfer: XEP-0363 v1.1 "HTTP File Upload" (the default way to share a file) and
 * XEP-0066 v1.5 "Out of Band Data" both ways (the URL in a message, `jabber:x:oob`; the iq
 * form, `jabber:iq:oob`, whose answer tells the sender whether the receiver fetched it), with
 * the seed's "trivial server" (the sender serves one file itself) in Node.
 *
 * Upload (XEP-0363 3-6): the service is found by disco on our own server (its domain, then its
 * items) and cached; its `max-file-size` is checked BEFORE anything is requested or sent
 * (ERR_TOO_LARGE); the slot is asked for with an iq get; the PUT carries only Content-Length,
 * Content-Type and the slot headers XEP-0363 allows (Authorization, Cookie, Expires; newlines
 * stripped); a non-2xx answer fails (ERR_HTTP). `share` then sends the GET URL as the whole body
 * plus `jabber:x:oob` with the same URL: what Conversations and Dino need to show it inline.
 *
 * Offers (XEP-0066 3): `offer` sends the iq set to a full JID and resolves 'accepted' on the
 * empty result, or rejects with the receiver's StanzaError (`not-acceptable`: refused;
 * `item-not-found`: could not fetch). Inbound offers become `offer` events; nothing is fetched
 * unless the app calls `accept()`. With no `offer` listener an offer is answered
 * `not-acceptable` at once; one the app neither accepts nor rejects within `decisionTimeout`
 * is answered `not-acceptable` too. We announce `jabber:iq:oob` in disco only while someone
 * listens.
 *
 * Downloads go through transfer.ts (http/https only, size checks, progress); local files, safe
 * names and the one-file server are the platform's (features/files/http.ts, chosen by the
 * package entry: platform/node-http.ts or platform/browser-http.ts).
 *
 * Depends on: the client's `iq` / `handleIq`, disco (features), messaging (`share`).
 */

import type { SentMessage } from '../../client.ts';
import { ConfabError, StanzaError } from '../../errors.ts';
import { Emitter } from '../../events.ts';
import { domainOf, isFull, type Jid, jid, tryJid } from '../../jid.ts';
import type { TlsOptions } from '../../transport/types.ts';
import type { Element } from '../../xml/element.ts';
import type { FeatureContext } from '../context.ts';
import type { FeatureClient } from '../disco/disco.ts';
import type { MessageType } from '../messages/codec.ts';
import {
  buildOobOffer,
  buildSlotRequest,
  maxFileSize,
  NS_IQ_OOB,
  NS_UPLOAD,
  type OobOfferData,
  parseOobOffer,
  parseSlot,
  uploadErrorDetails,
} from './codec.ts';
import type { ByteSink, ByteSource, FilesPlatform, Progress } from './http.ts';
import { fileNameFromUrl } from './names.ts';
import {
  checkHttpUrl,
  countedSource,
  type DownloadOptions,
  type DownloadResult,
  downloadWith,
  progressReporter,
} from './transfer.ts';

/** An HTTP upload service (XEP-0363) of our server. */
export interface UploadService {
  jid: string;
  /** Its `max-file-size` in bytes, when it announces one. */
  maxSize?: number | undefined;
}

export interface UploadOptions {
  /** The file name for the slot (default: the source's name; one of them is needed). */
  name?: string | undefined;
  /** Bytes (default: the source's size). */
  size?: number | undefined;
  /** Media type (default: the source's, else application/octet-stream). */
  type?: string | undefined;
  onProgress?: ((p: Progress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface UploadResult {
  /** The URL to share. */
  get: string;
  name: string;
  size: number;
  type: string;
  /** The upload service used. */
  service: string;
}

export interface ShareOptions extends UploadOptions {
  /** Put in the `jabber:x:oob` `<desc/>`. */
  desc?: string | undefined;
  /** Message type (default chat). */
  messageType?: MessageType | undefined;
}

export interface OfferOptions {
  url: string;
  desc?: string | undefined;
  sid?: string | undefined;
  /** Milliseconds to wait for the receiver's answer (they fetch before answering). Default 300 000. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

export interface OfferFileOptions {
  /** Address the built-in server listens on (default 127.0.0.1). */
  bind?: string | undefined;
  /** Host name put in the URL (default: the bound address). */
  host?: string | undefined;
  /** Milliseconds to wait for the answer; the server stops then too. Default 300 000. */
  timeout?: number | undefined;
  desc?: string | undefined;
  /** The name in the URL (default: the file's name). */
  name?: string | undefined;
  /** The receiver's download as the server sees it. */
  onProgress?: ((p: Progress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface OfferFileResult {
  status: 'accepted';
  url: string;
  /** Bytes the server sent in all. */
  transferred: number;
  /** Whether the server saw one complete download. */
  completed: boolean;
}

/** Where `download` / `accept` put the bytes: a sink, a new file in `dir`, or exactly `path` (Node). */
export interface SaveOptions extends DownloadOptions {
  sink?: ByteSink | undefined;
  /** A new file in this directory, named after the URL (`safeFileName`), never overwriting. */
  dir?: string | undefined;
  /** Exactly this file; fails (nothing written) when it exists. */
  path?: string | undefined;
}

export interface SavedDownload extends DownloadResult {
  /** The file written, with `dir` or `path`. */
  path?: string | undefined;
}

/** An inbound XEP-0066 iq offer. Nothing is fetched unless `accept()` is called. */
export interface OobOffer extends OobOfferData {
  /** The sender (a full JID). */
  from: Jid;
  /** The iq stanza. */
  element: Element;
  /**
   * Fetch the file (with the size checks of `download`), then answer the sender: the empty
   * result once it is complete, `item-not-found` when fetching failed (and reject with why).
   */
  accept(options?: SaveOptions): Promise<SavedDownload>;
  /** Refuse: `not-acceptable` by default (XEP-0066 3.2), or another condition. */
  reject(condition?: string, text?: string): void;
  /** Whether it was accepted or rejected already. */
  readonly answered: boolean;
}

export interface FilesEvents {
  /** An XEP-0066 iq offer; answer it with `accept()` or `reject()`. */
  offer: OobOffer;
}

export interface FilesDeps {
  client: FeatureClient;
  disco: FeatureContext['disco'];
  messaging: Pick<FeatureContext['messaging'], 'send'>;
  tls?: TlsOptions | undefined;
  /** Milliseconds an offer may wait for the app's decision. Default 300 000. */
  decisionTimeout?: number | undefined;
  /** Report errors that came through no promise. */
  onError?: ((err: ConfabError) => void) | undefined;
}

const DEFAULT_TIMEOUT = 300_000;

/**
 * File transfer for one client (`client.files`).
 *
 * @example
 * import { createClient, fileSource } from 'confab';
 * const { get } = await client.files.share('juliet@example.com', await fileSource('photo.jpg'));
 *
 * client.files.on('offer', (offer) => {
 *   if (trusted(offer.from)) offer.accept({ dir: 'Downloads' }); else offer.reject();
 * });
 */
export class Files {
  static readonly feature = 'files';
  static readonly dependencies = ['disco', 'messaging'] as const;
  readonly #deps: FilesDeps;
  readonly #events: Emitter<FilesEvents>;
  readonly #teardown: Array<() => void> = [];
  #platform: FilesPlatform | undefined;
  #service: Promise<UploadService | undefined> | undefined;
  #discoOff: (() => void) | undefined;
  /** Offers the app has not decided on yet: each entry refuses its offer and clears its timer. */
  readonly #undecided = new Set<() => void>();

  constructor(ctx: FeatureContext | FilesDeps) {
    const c = ctx as Partial<FeatureContext> & Partial<FilesDeps>;
    this.#deps = {
      client: ctx.client,
      disco: ctx.disco,
      messaging: c.messaging!,
      tls: c.tls ?? c.options?.tls,
      decisionTimeout: c.decisionTimeout,
      onError: c.onError,
    };
    this.#events = new Emitter<FilesEvents>((err) =>
      this.#deps.onError?.(
        err instanceof ConfabError
          ? err
          : new ConfabError(
              'ERR_HANDLER',
              `An 'offer' listener threw: ${String((err as Error)?.message ?? err)}`,
              {
                cause: err,
              },
            ),
      ),
    );
    this.#teardown.push(
      ctx.client.handleIq('set', NS_IQ_OOB, 'query', (req) => this.#inbound(req)),
      // An offer still waiting for the app's decision dies with the stream (its answer could not
      // reach the sender), and its timer must not keep a process alive.
      ctx.client.on('offline', () => {
        for (const drop of [...this.#undecided]) drop();
      }),
    );
  }

  /**
   * Use this platform for HTTP and local files. The package entry sets Node's or the browser's;
   * tests and embedders may pass their own.
   */
  usePlatform(platform: FilesPlatform): void {
    this.#platform = platform;
  }

  /** Listen to `offer`; while anyone listens we announce `jabber:iq:oob` (XEP-0066 4). */
  on<K extends keyof FilesEvents>(event: K, listener: (e: FilesEvents[K]) => void): () => void {
    this.#events.on(event, listener);
    if (event === 'offer' && this.#discoOff === undefined)
      this.#discoOff = this.#deps.disco.addFeature(NS_IQ_OOB);
    // `off` also withdraws the disco feature after the last listener.
    return () => this.off(event, listener);
  }

  off<K extends keyof FilesEvents>(event: K, listener: (e: FilesEvents[K]) => void): void {
    this.#events.off(event, listener);
    if (event === 'offer' && this.#events.listenerCount('offer') === 0) {
      this.#discoOff?.();
      this.#discoOff = undefined;
    }
  }

  /**
   * Our server's HTTP upload service (XEP-0363 3): the domain itself if it has the feature, else
   * the first of its disco items that has it. Cached (a failed lookup is not). Undefined: none.
   */
  uploadService(options: { refresh?: boolean } = {}): Promise<UploadService | undefined> {
    if (this.#service && !options.refresh) return this.#service;
    const p = this.#findService();
    this.#service = p;
    p.catch(() => {
      if (this.#service === p) this.#service = undefined;
    });
    return p;
  }

  async #findService(): Promise<UploadService | undefined> {
    const own = this.#deps.client.jid;
    if (own === undefined) throw new ConfabError('ERR_NOT_CONNECTED', 'Not connected: log in first');
    const domain = domainOf(own);
    const disco = this.#deps.disco;
    const probe = async (j: string): Promise<UploadService | undefined> => {
      try {
        const info = await disco.info(j);
        if (!info.features.includes(NS_UPLOAD)) return undefined;
        const maxSize = maxFileSize(info);
        return maxSize === undefined ? { jid: j } : { jid: j, maxSize };
      } catch (err) {
        if (err instanceof StanzaError) return undefined;
        throw err;
      }
    };
    const self = await probe(domain);
    if (self) return self;
    const items = await disco.items(domain);
    const candidates = items.items
      .map((i) => i.jid)
      .filter((j) => j === domain || j.endsWith(`.${domain}`))
      .slice(0, 32);
    const found = await Promise.all(candidates.map(probe));
    return found.find((s) => s !== undefined);
  }

  /**
   * Upload bytes to our server's HTTP upload service (XEP-0363) and resolve with the GET URL.
   * Fails before anything is sent with ERR_TOO_LARGE when the file is larger than the service
   * takes, ERR_UNSUPPORTED when the server has no upload service; ERR_HTTP when the PUT fails.
   *
   * @example
   * const { get } = await client.files.upload(await fileSource('talk.pdf'), { onProgress: (p) => bar(p) });
   */
  async upload(source: ByteSource, o: UploadOptions = {}): Promise<UploadResult> {
    const platform = this.#need();
    const name = o.name ?? source.name;
    const size = o.size ?? source.size;
    const type = o.type ?? source.type ?? 'application/octet-stream';
    if (name === undefined || name === '')
      throw new ConfabError('ERR_BAD_INPUT', 'upload: the file needs a name');
    if (!Number.isSafeInteger(size) || size < 0)
      throw new ConfabError('ERR_BAD_INPUT', `upload: bad size ${String(size)}`);
    if (size !== source.size) {
      throw new ConfabError(
        'ERR_BAD_INPUT',
        `upload: size ${size} differs from the source's ${source.size} bytes`,
      );
    }
    const service = await this.uploadService();
    if (service === undefined) {
      const domain = this.#deps.client.jid ? domainOf(this.#deps.client.jid) : 'the server';
      throw new ConfabError('ERR_UNSUPPORTED', `${domain} offers no HTTP file upload service (XEP-0363)`);
    }
    if (service.maxSize !== undefined && size > service.maxSize)
      throw tooLarge(name, size, service.maxSize, service.jid);
    let slotReply: Element;
    try {
      slotReply = await this.#deps.client.iq(
        {
          type: 'get',
          to: service.jid,
          payload: buildSlotRequest({ filename: name, size, contentType: type }),
        },
        { signal: o.signal },
      );
    } catch (err) {
      if (err instanceof StanzaError) {
        const details = uploadErrorDetails(err);
        if (details.maxFileSize !== undefined) {
          throw tooLarge(name, size, details.maxFileSize, service.jid, err);
        }
        const retry = details.retry ? ` (try again after ${details.retry.toISOString()})` : '';
        throw new StanzaError(`${service.jid} refused an upload slot for ${name}: ${err.condition}${retry}`, {
          condition: err.condition,
          type: err.type,
          text: err.text,
          element: err.element,
          cause: err,
        });
      }
      throw err;
    }
    const slot = parseSlot(slotReply);
    const res = await platform.put({
      url: slot.put,
      headers: { ...slot.headers, 'Content-Type': type, 'Content-Length': String(size) },
      body: countedSource(source),
      onProgress: progressReporter(o.onProgress, size),
      tls: this.#deps.tls,
      signal: o.signal,
    });
    if (res.status < 200 || res.status > 299) {
      throw new ConfabError(
        'ERR_HTTP',
        `the upload of ${name} failed: HTTP ${res.status} ${res.statusText}`.trim(),
      );
    }
    return { get: slot.get, name, size, type, service: service.jid };
  }

  /**
   * Upload, then send the URL to `to`: the body is the URL alone and `jabber:x:oob` carries
   * it too (XEP-0066 1.5 message form), which is what Conversations and Dino show inline.
   */
  async share(
    to: string,
    source: ByteSource,
    o: ShareOptions = {},
  ): Promise<UploadResult & { message: SentMessage }> {
    const up = await this.upload(source, o);
    const message = await this.#deps.messaging.send({
      to,
      type: o.messageType ?? 'chat',
      body: up.get,
      oob: [{ url: up.get, desc: o.desc }],
    });
    return { ...up, message };
  }

  /**
   * Offer a URL to a full JID with the iq form of XEP-0066 and wait for the answer: resolves
   * 'accepted' when the receiver fetched it; rejects with its StanzaError (`condition`
   * `not-acceptable`: refused, `item-not-found`: could not fetch), or ERR_TIMEOUT.
   */
  async offer(to: string, o: OfferOptions): Promise<'accepted'> {
    let target: Jid;
    try {
      target = jid(to);
    } catch (cause) {
      throw new ConfabError('ERR_BAD_INPUT', `offer: '${to}' is not a JID`, { cause });
    }
    if (!isFull(target)) {
      throw new ConfabError(
        'ERR_BAD_INPUT',
        `offer: '${to}' is a bare JID; offers go to one resource (a full JID)`,
      );
    }
    if (!URL.canParse(o.url)) throw new ConfabError('ERR_BAD_INPUT', `offer: '${o.url}' is not a URL`);
    await this.#deps.client.iq(
      { type: 'set', to: target, payload: buildOobOffer({ url: o.url, desc: o.desc, sid: o.sid }) },
      { timeout: o.timeout ?? DEFAULT_TIMEOUT, signal: o.signal },
    );
    return 'accepted';
  }

  /**
   * Serve a local file (a path, Node) or a ByteSource with the built-in one-file server and offer
   * it to a full JID (XEP-0066 iq form). Resolves when the receiver answered that it has it;
   * rejects with its StanzaError when it refused or could not fetch, ERR_TIMEOUT when no answer
   * came. The server stops in every case.
   */
  async offerFile(to: string, file: string | ByteSource, o: OfferFileOptions = {}): Promise<OfferFileResult> {
    const platform = this.#need();
    if (!platform.serveFile) {
      throw new ConfabError(
        'ERR_UNSUPPORTED',
        `offerFile needs an HTTP server, which the ${platform.name} platform has not`,
      );
    }
    const source = typeof file === 'string' ? await this.#open(file) : file;
    const timeout = o.timeout ?? DEFAULT_TIMEOUT;
    const served = await platform.serveFile(source, {
      bind: o.bind,
      host: o.host,
      timeout,
      name: o.name,
      onProgress: o.onProgress,
      signal: o.signal,
    });
    try {
      await this.offer(to, { url: served.url, desc: o.desc, timeout, signal: o.signal });
      // The receiver answers after its download; our side has (nearly always) seen it end already.
      const grace = new Promise<undefined>((r) => setTimeout(r, 5_000, undefined));
      const done = await Promise.race([served.done, grace]);
      return {
        status: 'accepted',
        url: served.url,
        transferred: done?.transferred ?? source.size,
        completed: done?.completed ?? false,
      };
    } finally {
      served.close();
    }
  }

  /**
   * The size the server of `url` announces (a HEAD request: Content-Length of a 2xx answer), or
   * undefined when it announces none or cannot be asked. http/https only, else ERR_BAD_INPUT.
   * An out-of-band offer carries no size; this tells the app before it accepts.
   */
  async announcedSize(
    url: string,
    o: { signal?: AbortSignal | undefined } = {},
  ): Promise<number | undefined> {
    const platform = this.#need();
    checkHttpUrl(url);
    try {
      const res = await platform.get({ url, method: 'HEAD', tls: this.#deps.tls, signal: o.signal });
      res.cancel();
      const n = Number(res.headers['content-length']);
      return res.status >= 200 && res.status < 300 && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Fetch a URL (http/https only, else ERR_BAD_INPUT) with size checks: `expectedSize` (what the
   * sender announced) against Content-Length and the body, `maxSize` before and while reading.
   * Into memory (`bytes`), a sink, a new file in `dir` named after the URL (safe, never
   * overwriting), or exactly `path` (Node).
   */
  async download(url: string, o: SaveOptions = {}): Promise<SavedDownload> {
    const platform = this.#need();
    checkHttpUrl(url);
    let file: Awaited<ReturnType<NonNullable<FilesPlatform['createFile']>>> | undefined;
    if (o.dir !== undefined || o.path !== undefined) {
      if (!platform.createFile || !platform.createExactFile) {
        throw new ConfabError(
          'ERR_UNSUPPORTED',
          `saving to a file is not possible on the ${platform.name} platform`,
        );
      }
      file =
        o.path !== undefined
          ? await platform.createExactFile(o.path)
          : await platform.createFile(o.dir!, fileNameFromUrl(url));
    }
    const r = await downloadWith(platform, url, { ...o, tls: this.#deps.tls, sink: file ?? o.sink });
    return file ? { ...r, path: file.path } : r;
  }

  /** Open a local file as a ByteSource (Node). */
  async #open(path: string): Promise<ByteSource> {
    const platform = this.#need();
    if (!platform.openFile)
      throw new ConfabError('ERR_UNSUPPORTED', `no local files on the ${platform.name} platform`);
    return platform.openFile(path);
  }

  #need(): FilesPlatform {
    if (!this.#platform) {
      throw new ConfabError(
        'ERR_UNSUPPORTED',
        "file transfer needs the platform's HTTP client: create the client with createClient from 'confab'",
      );
    }
    return this.#platform;
  }

  #inbound(req: { from: string | undefined; payload: Element; element: Element }): Promise<void> {
    const offer = parseOobOffer(req.payload);
    if (!offer) throw new StanzaError('an offer needs a URL', { condition: 'bad-request' });
    if (this.#events.listenerCount('offer') === 0) {
      throw new StanzaError('offers are not accepted here', { condition: 'not-acceptable' });
    }
    const from =
      tryJid(req.from) ?? (this.#deps.client.jid ? jid(domainOf(this.#deps.client.jid)) : undefined);
    if (from === undefined) throw new StanzaError('no sender', { condition: 'bad-request' });
    return new Promise<void>((resolve, reject) => {
      let answered = false;
      const answer = (err?: StanzaError) => {
        if (answered) return false;
        answered = true;
        clearTimeout(timer);
        this.#undecided.delete(drop);
        if (err) reject(err);
        else resolve();
        return true;
      };
      const refuse = (condition = 'not-acceptable', text?: string) =>
        answer(new StanzaError(text ?? `offer ${condition}`, { condition, text }));
      const timer = setTimeout(
        () => refuse('not-acceptable', 'no decision in time'),
        this.#deps.decisionTimeout ?? DEFAULT_TIMEOUT,
      );
      const drop = () => refuse('not-acceptable', 'the connection ended');
      this.#undecided.add(drop);
      let deciding = false;
      const event: OobOffer = {
        ...offer,
        from,
        element: req.element,
        get answered() {
          return answered || deciding;
        },
        accept: async (o: SaveOptions = {}) => {
          if (answered || deciding) throw new ConfabError('ERR_BAD_INPUT', 'this offer was answered already');
          deciding = true;
          clearTimeout(timer);
          this.#undecided.delete(drop);
          try {
            const r = await this.download(offer.url, o);
            answer();
            return r;
          } catch (err) {
            // XEP-0066 3.2: could not retrieve it.
            answer(new StanzaError('could not fetch the file', { condition: 'item-not-found' }));
            throw err;
          }
        },
        reject: (condition?: string, text?: string) => {
          if (deciding) return;
          refuse(condition, text);
        },
      };
      this.#events.emit('offer', event);
    });
  }

  destroy(): void {
    for (const t of this.#teardown.splice(0)) t();
    this.#discoOff?.();
    this.#discoOff = undefined;
  }
}

function tooLarge(name: string, size: number, max: number, service: string, cause?: unknown): ConfabError {
  return new ConfabError(
    'ERR_TOO_LARGE',
    `${name} is ${size} bytes; the upload service ${service} takes at most ${max} bytes`,
    cause === undefined ? {} : { cause },
  );
}
