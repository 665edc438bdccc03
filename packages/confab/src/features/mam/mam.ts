/**
 * Message Archive Management: XEP-0313 v1.1 (`urn:xmpp:mam:2`) with XEP-0059 v1.0
 * paging, XEP-0297 v1.0 results, XEP-0359 v0.7 stanza-ids and XEP-0441 v0.2
 * preferences. Queries our own archive (the account's bare JID) or a room's, page by
 * page, and catches up after a reconnection since the last archive id we saw.
 *
 * Trust (XEP-0313 9.2 "Sender Impersonation"): a `<result/>` is believed only when
 * - its `queryid` names a query we have open (ids are random, 96 bits: nobody can
 *   guess one), and
 * - it comes from the archive that query asked: for our own archive our bare JID or
 *   no `from` (the server speaking for the account), for a room the room's bare JID.
 * A query closes the moment its iq result (`<fin/>`) or error is seen, in the same
 * synchronous step that reads it, so a result arriving after the `<fin/>` (even in
 * the same TCP segment) finds no open query. Everything refused is dropped (never
 * shown as a message) and reported as an `ignored` event.
 *
 * Catch-up (after every NEW session; a resumed stream lost nothing): from the last
 * archive id seen (kept in the Store, namespace `mam`), forward with RSM `after`
 * until the server says `complete`. With no id yet (first run), the `fresh` policy
 * decides: the last N messages (default 50) or everything since a time. An id the
 * archive no longer has (`item-not-found`: expired) falls back to the same policy.
 * The position advances per page, after the page's messages were handed on (and
 * their promises settled), and with each live or carbon-copied message whose
 * `<stanza-id by=our bare JID>` the server stamped (believed only from a server that
 * announces `urn:xmpp:mam:2`, as XEP-0313 3.3 says; such servers strip forged ones).
 * Duplicates between catch-up, offline delivery, live and carbon copies are expected
 * (XEP-0313 7.5 leaves them to the client): the messages feature drops them by
 * stanza-id, which equals the archive id here.
 *
 * Degrades silently: a server without MAM (disco of our bare JID lacks the feature)
 * gives status `unsupported`, no error.
 */
import type { Client } from '../../client.ts';
import { ConfabError, StanzaError } from '../../errors.ts';
import { type Emitter, featureEmitter, rethrowLater } from '../../events.ts';
import { type BareJid, bare, domainOf, equalJid, jid as toJid, tryJid } from '../../jid.ts';
import { randomId } from '../../session/iq.ts';
import type { Stage } from '../../session/pipeline.ts';
import { MAM_NS, type Store } from '../../store/types.ts';
import { type Element, xml } from '../../xml/element.ts';
import { carbonOrigin, readCarbon } from '../carbons/codec.ts';
import type { ForwardedMeta, OnForwarded } from '../carbons/forwarded.ts';
import type { Delay } from '../presence/codec.ts';
import {
  buildPrefs,
  buildQuery,
  type Fin,
  type MamFilter,
  type MamPrefs,
  NS_MAM,
  NS_MAM_EXTENDED,
  readFin,
  readPrefs,
  readResult,
  stanzaIdBy,
} from './codec.ts';
import { type HistoryRoom, type RoomHistory, type RoomHistoryOptions, roomHistory } from './room.ts';

/** The part of the Client MAM uses (public API only). */
export type MamHost = Pick<Client, 'on' | 'iq' | 'jid' | 'status'>;

/** A query: filters, page size, cursor. */
export interface MamQuery extends MamFilter {
  /** Whose archive: a room's bare JID; default our own. */
  archive?: string | undefined;
  /** Page size (RSM `max`). Default the `pageSize` option (100). */
  max?: number | undefined;
  /** RSM cursor: the page after this archive id (paging forward). */
  after?: string | undefined;
  /** RSM cursor: the page before this archive id; `''` is the last page (paging backward). */
  before?: string | undefined;
  /** `pages()` / `messages()`: stop once this many results were fetched. */
  limit?: number | undefined;
  /** Hand the results to `onForwarded` (the messages feature) too. Default true. */
  ingest?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Per page, ms; default the client's iq timeout. */
  timeout?: number | undefined;
}

/** One verified archived message. */
export interface MamResult {
  /** Archive id (UID): the stanza-id the server stamped on the live copy. */
  id: string;
  queryId: string;
  /** Whose archive it came from. */
  archive: BareJid;
  /** The archived message (jabber:client), as the original sender sent it. */
  message: Element;
  /** When the archive got it (XEP-0203 inside the `<forwarded/>`). */
  delay: Delay | undefined;
  wrapper: Element;
}

/** One page: its results in chronological order, and the server's `<fin/>`. */
export interface MamPage extends Fin {
  results: MamResult[];
}

/**
 * - `off`: not online yet, or a new session that has not checked yet;
 * - `unsupported`: the server keeps no archive for us (the minimal test server);
 * - `syncing`: catching up; `synced`: caught up (or catch-up switched off);
 * - `failed`: the catch-up failed (`error` says why; retried on the next session).
 */
export type MamStatus = 'off' | 'unsupported' | 'syncing' | 'synced' | 'failed';

/** Why a result was not believed. */
export type MamRejection = 'unknown-query' | 'wrong-sender' | 'malformed';

export interface CaughtUpEvent {
  /** Messages fetched. */
  count: number;
  /** The archive id we caught up from (undefined on a fresh start). */
  since: string | undefined;
  /** True when there was no usable position (first run, or the id had expired). */
  fresh: boolean;
  /** The newest archive id now known. */
  last: string | undefined;
}

export interface MamEvents {
  status: MamStatus;
  /** Every verified result (of any query, catch-up included). */
  result: MamResult;
  /** An archive result that was dropped (see the banner). */
  ignored: { reason: MamRejection; element: Element };
  caughtUp: CaughtUpEvent;
}

/** What to fetch when there is no last-seen id: the newest N, or everything since a time. */
export type FreshStart = { last: number } | { since: Date | number };

export interface MamOptions {
  /** Catch up on each new session. Default true. */
  catchUp?: boolean | undefined;
  /**
   * First run (no id stored yet): `{ last: N }` fetches the newest N (default 0: none,
   * only the archive's end is noted so later reconnects catch up from there);
   * `{ since: Date }` everything since then; `{ since: ms }` the last `ms` milliseconds.
   */
  fresh?: FreshStart | undefined;
  /** RSM page size. Default 100. */
  pageSize?: number | undefined;
  /** Advance the position with live / carbon messages' stanza-ids. Default true. */
  trackLive?: boolean | undefined;
  /** Stop a catch-up after this many pages (a guard against a server that never says complete). Default 1000. */
  maxPages?: number | undefined;
}

export interface MamDeps {
  client: MamHost;
  store: Store;
  options?: MamOptions | undefined;
  /** Each verified result, unwrapped (the messages feature's `ingest`, source 'archive'). */
  onForwarded?: OnForwarded | undefined;
  /**
   * Run `process` as an inbound stage ahead of the plain message event. Without it MAM
   * listens on `stanza`: it still works, but the client's `message` event also sees the
   * result wrappers.
   */
  intercept?: ((stage: Stage) => () => void) | undefined;
  /** Our bare JID's disco#info features (a disco cache). Default: one request per new session. */
  accountFeatures?: (() => Promise<readonly string[]>) | undefined;
  onError?: ((err: ConfabError) => void) | undefined;
}

/** Store key of the position in our own archive (namespace `mam`). */
export const MAM_OWN_KEY = 'own';
/** What is stored under it. */
export interface MamPositionRecord {
  /** The newest archive id seen. */
  id: string;
  /** When it was recorded (ms since epoch). */
  at: number;
}

interface OpenQuery {
  queryId: string;
  archive: BareJid;
  own: boolean;
  results: MamResult[];
  tasks: Promise<unknown>[];
  ingest: boolean;
  purpose: 'catch-up' | 'query';
  iqId: string | undefined;
}

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
/** First run: no history into the message stream (apps that want some ask: `{ last: 50 }`). */
const DEFAULT_FRESH: FreshStart = { last: 0 };

/**
 * MAM for one client (`client.mam`).
 *
 * @example
 * const mam = new Mam({ client, store, onForwarded: (m, meta) => messages.ingest(m, meta) });
 * for await (const r of mam.messages({ with: 'romeo@montague.lit', before: '', limit: 200 })) {
 *   console.log(r.delay?.stamp, r.message.getChildText('body')); // newest first
 * }
 */
export class Mam {
  static readonly feature = 'mam';
  readonly #client: MamHost;
  readonly #store: Store;
  readonly #events: Emitter<MamEvents>;
  readonly #onForwarded: OnForwarded | undefined;
  readonly #accountFeatures: (() => Promise<readonly string[]>) | undefined;
  readonly #onError: (err: ConfabError) => void;
  readonly #teardown: Array<() => void> = [];
  readonly #autoCatchUp: boolean;
  readonly #fresh: FreshStart;
  readonly #pageSize: number;
  readonly #trackLive: boolean;
  readonly #maxPages: number;
  /** Open queries by queryid, and the same by the iq id carrying them. */
  readonly #open = new Map<string, OpenQuery>();
  readonly #byIq = new Map<string, OpenQuery>();
  #status: MamStatus = 'off';
  #session = 0;
  #features: readonly string[] | undefined;
  #discovering: Promise<readonly string[]> | undefined;
  #catching: Promise<CaughtUpEvent | undefined> | undefined;
  /** Our newest known archive id (mirrors the Store once read). */
  #last: string | undefined;
  #lastLoaded = false;

  constructor(deps: MamDeps) {
    this.#client = deps.client;
    this.#store = deps.store;
    this.#onForwarded = deps.onForwarded;
    this.#accountFeatures = deps.accountFeatures;
    const o = deps.options ?? {};
    this.#autoCatchUp = o.catchUp !== false;
    this.#fresh = o.fresh ?? DEFAULT_FRESH;
    this.#pageSize = o.pageSize ?? 100;
    this.#trackLive = o.trackLive !== false;
    this.#maxPages = o.maxPages ?? 1000;
    this.#onError = deps.onError ?? rethrowLater;
    this.#events = featureEmitter<MamEvents>('mam', this.#onError);
    const stage: Stage = (el) => this.process(el);
    this.#teardown.push(
      deps.intercept ? deps.intercept(stage) : this.#client.on('stanza', (el) => void stage(el)),
      this.#client.on('online', (e) => {
        if (!e.resumed) this.#newSession();
      }),
    );
  }

  get status(): MamStatus {
    return this.#status;
  }

  /** Whether our account has an archive on this session (undefined until known). */
  get supported(): boolean | undefined {
    return this.#features === undefined ? undefined : this.#features.includes(NS_MAM);
  }

  /** Whether the archive offers `before-id` / `after-id` / `ids` (XEP-0313 `#extended`). */
  get extended(): boolean | undefined {
    return this.#features === undefined ? undefined : this.#features.includes(NS_MAM_EXTENDED);
  }

  on<K extends keyof MamEvents>(event: K, listener: (payload: MamEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }
  once<K extends keyof MamEvents>(event: K, listener: (payload: MamEvents[K]) => void): () => void {
    return this.#events.once(event, listener);
  }
  off<K extends keyof MamEvents>(event: K, listener: (payload: MamEvents[K]) => void): void {
    this.#events.off(event, listener);
  }

  // ---------------------------------------------------------------- queries

  /**
   * One page of a query (one iq). Results arrive in chronological order within the
   * page whichever way we page. Rejects with StanzaError (`item-not-found` for an
   * unknown cursor id, `feature-not-implemented` for an unknown filter...).
   */
  queryPage(q: MamQuery = {}): Promise<MamPage> {
    return this.#query(q, 'query');
  }

  /**
   * All pages of a query, following the RSM cursor: forward from `after` (or the
   * start), or backward from `before` (`''`: from the newest) until the server says
   * `complete`, a page is empty, or `limit` results were fetched.
   */
  pages(q: MamQuery = {}): AsyncGenerator<MamPage> {
    return this.#pages(q, 'query');
  }

  /**
   * The results of a query one by one: oldest first when paging forward, newest first
   * when paging backward (`before` given: scrollback).
   *
   * @example
   * for await (const r of client.mam.messages({ with: 'romeo@montague.lit', start: new Date(Date.now() - 86_400_000) })) ...
   */
  async *messages(q: MamQuery = {}): AsyncGenerator<MamResult> {
    const backward = q.before !== undefined;
    let n = 0;
    for await (const page of this.#pages(q, 'query')) {
      const rs = backward ? [...page.results].reverse() : page.results;
      for (const r of rs) {
        if (q.limit !== undefined && n >= q.limit) return;
        n++;
        yield r;
      }
    }
  }

  /**
   * A room's history from the room's archive (XEP-0313 6), fed through the room's
   * de-duplication: see room.ts. Rejects with ERR_UNSUPPORTED where the room keeps none.
   *
   * @example
   * const { messages } = await client.mam.roomHistory(room, { last: 20 });
   */
  roomHistory(room: HistoryRoom, o?: RoomHistoryOptions): Promise<RoomHistory> {
    return roomHistory(this, room, o);
  }

  /** Our archiving preferences (XEP-0441). */
  async getPrefs(): Promise<MamPrefs> {
    const res = await this.#client.iq({ type: 'get', payload: buildPrefs() });
    const p = readPrefs(res.getChild('prefs', NS_MAM));
    if (!p) throw new ConfabError('ERR_BAD_REPLY', 'The archive answered a prefs request without <prefs/>');
    return p;
  }

  /** Set our archiving preferences; resolves with what the server now applies. */
  async setPrefs(prefs: MamPrefs): Promise<MamPrefs> {
    const res = await this.#client.iq({ type: 'set', payload: buildPrefs(prefs) });
    return readPrefs(res.getChild('prefs', NS_MAM)) ?? prefs;
  }

  // ---------------------------------------------------------------- catch-up

  /**
   * Catch up with our archive now (done automatically on each new session). Resolves
   * with what was fetched; undefined when the server has no archive for us. One at a
   * time: a call while one runs gets the same promise.
   */
  catchUp(): Promise<CaughtUpEvent | undefined> {
    this.#catching ??= this.#catchUp().finally(() => {
      this.#catching = undefined;
    });
    return this.#catching;
  }

  /** The newest archive id of our own archive we know of (the catch-up position). */
  async lastSeen(): Promise<string | undefined> {
    if (!this.#lastLoaded) {
      const v = (await this.#store.get(MAM_NS, MAM_OWN_KEY)) as MamPositionRecord | undefined;
      // A position recorded while loading wins over the stored one.
      if (!this.#lastLoaded) {
        this.#last ??= typeof v?.id === 'string' ? v.id : undefined;
        this.#lastLoaded = true;
      }
    }
    return this.#last;
  }

  /**
   * Record that the app has everything up to `id` in our archive (the messages
   * feature may call this after storing a message, instead of `trackLive`).
   */
  markSeen(id: string): Promise<void> {
    return this.#remember(id);
  }

  // ---------------------------------------------------------------- inbound

  /**
   * The inbound stage: returns true for an archive result (believed and handed on, or
   * ignored), so later stages never see it as a message. iq answers of open queries
   * close them here (synchronously); live messages are watched for stanza-ids. Any
   * other stanza returns false.
   */
  process(el: Element): boolean {
    if (el.name === 'iq') {
      this.#iqSeen(el);
      return false;
    }
    if (el.name !== 'message') return false;
    const r = readResult(el);
    if (!r) {
      this.#observe(el);
      return false;
    }
    const open = r.queryId === undefined ? undefined : this.#open.get(r.queryId);
    if (!open) return this.#ignore('unknown-query', el);
    if (!this.#fromArchive(r.from, open)) return this.#ignore('wrong-sender', el);
    if (r.id === undefined || !r.forwarded) return this.#ignore('malformed', el);
    const result: MamResult = {
      id: r.id,
      queryId: open.queryId,
      archive: open.archive,
      message: r.forwarded.message,
      delay: r.forwarded.delay,
      wrapper: el,
    };
    open.results.push(result);
    this.#events.emit('result', result);
    if (open.ingest && this.#onForwarded) {
      const meta: ForwardedMeta = {
        source: 'archive',
        delay: result.delay,
        archiveId: result.id,
        queryId: result.queryId,
        archive: result.archive,
        purpose: open.purpose,
        wrapper: el,
      };
      try {
        const p = this.#onForwarded(result.message, meta);
        if (p) open.tasks.push(p.catch((err: unknown) => this.#handlerError(err)));
      } catch (err) {
        this.#handlerError(err);
      }
    }
    return true;
  }

  /** Stop listening; open queries are left to time out. */
  destroy(): void {
    for (const t of this.#teardown.splice(0)) t();
    this.#events.clear();
  }

  // ---------------------------------------------------------------- internals

  #newSession(): void {
    this.#session++;
    this.#features = undefined;
    this.#discovering = undefined;
    this.#setStatus('off');
    if (!this.#autoCatchUp) {
      // Still learn whether there is an archive, so `status` and live tracking work.
      void this.#discover().then(
        (f) => this.#setStatus(f.includes(NS_MAM) ? 'synced' : 'unsupported'),
        () => {},
      );
      return;
    }
    this.catchUp().catch((err: unknown) => {
      const e = asError(err);
      if (e.code !== 'ERR_NOT_CONNECTED' && e.code !== 'ERR_SOCKET_CLOSED') this.#onError(e);
    });
  }

  async #catchUp(): Promise<CaughtUpEvent | undefined> {
    // Every step is a reply away from the last: once `disconnect()` began (or a new
    // session replaced this one) no further query goes out.
    const session = this.#session;
    const live = (): boolean => session === this.#session && this.#client.status === 'online';
    const features = await this.#discover();
    if (!live()) throw notLive();
    if (!features.includes(NS_MAM)) {
      this.#setStatus('unsupported');
      return undefined;
    }
    this.#setStatus('syncing');
    try {
      const since = await this.lastSeen();
      let count = 0;
      let fresh = since === undefined;
      if (since !== undefined) {
        try {
          count += await this.#forward({ after: since }, live);
        } catch (err) {
          // The archive no longer has that id (expired, or the archive was reset).
          if (!(err instanceof StanzaError && err.condition === 'item-not-found')) throw err;
          fresh = true;
        }
      }
      if (fresh) {
        const f = this.#fresh;
        if ('since' in f) {
          const start = typeof f.since === 'number' ? new Date(Date.now() - f.since) : f.since;
          count += await this.#forward({ start }, live);
        } else if (f.last > 0) {
          const page = await this.#query({ before: '', max: f.last }, 'catch-up', live);
          count += page.results.length;
          const newest = page.results.at(-1)?.id;
          if (newest !== undefined) await this.#remember(newest);
        } else {
          // No history on a first run (the default: a bot must not answer last week's
          // messages), but learn where the archive ends, so the next reconnect catches up
          // from here.
          const page = await this.#query({ before: '', max: 1, ingest: false }, 'catch-up', live);
          const newest = page.results.at(-1)?.id;
          if (newest !== undefined) await this.#remember(newest);
        }
      }
      const done: CaughtUpEvent = { count, since, fresh, last: this.#last };
      this.#setStatus('synced');
      this.#events.emit('caughtUp', done);
      return done;
    } catch (err) {
      this.#setStatus('failed');
      throw err;
    }
  }

  /** Page forward to the end, recording the newest id after each page. */
  async #forward(q: MamQuery, live: () => boolean): Promise<number> {
    let n = 0;
    for await (const page of this.#pages(q, 'catch-up', live)) {
      n += page.results.length;
      const newest = page.results.at(-1)?.id;
      if (newest !== undefined) await this.#remember(newest);
    }
    return n;
  }

  async *#pages(q: MamQuery, purpose: OpenQuery['purpose'], live?: () => boolean): AsyncGenerator<MamPage> {
    const backward = q.before !== undefined;
    let cursor = backward ? q.before : q.after;
    let fetched = 0;
    for (let i = 0; i < this.#maxPages; i++) {
      const max =
        q.limit === undefined ? q.max : Math.min(q.max ?? this.#pageSize, Math.max(0, q.limit - fetched));
      const page = await this.#query(
        { ...q, max, after: backward ? undefined : cursor, before: backward ? cursor : undefined },
        purpose,
        live,
      );
      fetched += page.results.length;
      yield page;
      if (page.complete || page.results.length === 0) return;
      if (q.limit !== undefined && fetched >= q.limit) return;
      const next = backward ? (page.first ?? page.results[0]?.id) : (page.last ?? page.results.at(-1)?.id);
      // A server repeating its cursor would page forever.
      if (next === undefined || next === cursor) return;
      cursor = next;
    }
  }

  /** One page; `live` (catch-up) is asked right before the iq goes out. */
  async #query(q: MamQuery, purpose: OpenQuery['purpose'], live?: () => boolean): Promise<MamPage> {
    if (live && !live()) throw notLive();
    const self = this.#self();
    if (!self) throw new ConfabError('ERR_NOT_CONNECTED', 'Not connected: no archive to query');
    let archive: BareJid = self;
    if (q.archive !== undefined) {
      try {
        archive = bare(toJid(q.archive));
      } catch (cause) {
        throw new ConfabError('ERR_BAD_INPUT', `Invalid archive JID '${q.archive}'`, { cause });
      }
    }
    const own = equalJid(archive, self);
    let queryId = randomId();
    while (this.#open.has(queryId)) queryId = randomId();
    const open: OpenQuery = {
      queryId,
      archive,
      own,
      results: [],
      tasks: [],
      ingest: q.ingest !== false,
      purpose,
      iqId: undefined,
    };
    // Our own archive: no `to` (the account, RFC 6120 10.3.3), which every server answers.
    const iq = xml(
      'iq',
      { type: 'set', to: own ? undefined : archive },
      buildQuery(queryId, q, { max: q.max ?? this.#pageSize, after: q.after, before: q.before }),
    );
    this.#open.set(queryId, open);
    let res: Element;
    try {
      const p = this.#client.iq(iq, { timeout: q.timeout, signal: q.signal });
      // The tracker has stamped its id on our element: watch for the answer by it.
      open.iqId = iq.attr('id');
      if (open.iqId !== undefined) this.#byIq.set(open.iqId, open);
      res = await p;
    } finally {
      this.#close(open);
    }
    if (open.tasks.length > 0) await Promise.allSettled(open.tasks);
    return { ...readFin(res), results: open.results };
  }

  #close(open: OpenQuery): void {
    if (this.#open.get(open.queryId) === open) this.#open.delete(open.queryId);
    if (open.iqId !== undefined && this.#byIq.get(open.iqId) === open) this.#byIq.delete(open.iqId);
  }

  /** The iq answer of an open query (from the right entity) ends it at once. */
  #iqSeen(el: Element): void {
    const type = el.attr('type');
    if (type !== 'result' && type !== 'error') return;
    const id = el.attr('id');
    const open = id === undefined ? undefined : this.#byIq.get(id);
    if (!open) return;
    const from = el.attr('from');
    const self = this.#self();
    // The same responder rule as the iq tracker (session/iq.ts).
    const ok = open.own
      ? from === undefined || (self !== undefined && (equalJid(from, self) || equalJid(from, domainOf(self))))
      : from !== undefined && equalJid(from, open.archive);
    if (ok) this.#close(open);
  }

  /** XEP-0313 9.2: results must come from the archive queried. */
  #fromArchive(from: string | undefined, open: OpenQuery): boolean {
    if (from === undefined) return open.own;
    const j = tryJid(from);
    // A full JID is an occupant or a resource, never the archive itself.
    return j !== undefined && j === open.archive;
  }

  /** Live, offline and carbon copies: remember the archive id our server stamped. */
  #observe(el: Element): void {
    if (!this.#trackLive || this.#status !== 'synced' || !this.supported) return;
    if (el.attr('type') === 'error' || el.attr('type') === 'groupchat') return;
    const self = this.#self();
    if (!self) return;
    let msg = el;
    const carbon = readCarbon(el);
    if (carbon) {
      if (carbonOrigin(carbon, self) !== undefined || !carbon.forwarded) return;
      msg = carbon.forwarded.message;
    }
    const id = stanzaIdBy(msg, self);
    if (id !== undefined) this.#remember(id).catch(() => {});
  }

  async #remember(id: string): Promise<void> {
    this.#last = id;
    this.#lastLoaded = true;
    const value: MamPositionRecord = { id, at: Date.now() };
    try {
      await this.#store.apply([{ op: 'set', ns: MAM_NS, key: MAM_OWN_KEY, value: { ...value } }]);
    } catch (err) {
      this.#onError(
        new ConfabError('ERR_HANDLER', `Store write failed (MAM position): ${String(err)}`, { cause: err }),
      );
    }
  }

  /** Features of our bare JID (once per session). A failed disco reads as "no archive". */
  #discover(): Promise<readonly string[]> {
    if (this.#features) return Promise.resolve(this.#features);
    const session = this.#session;
    this.#discovering ??= (async () => {
      let f: readonly string[] = [];
      try {
        if (this.#accountFeatures) f = await this.#accountFeatures();
        else {
          const self = this.#self();
          if (self) {
            const res = await this.#client.iq({
              type: 'get',
              to: self,
              payload: xml('query', { xmlns: NS_DISCO_INFO }),
            });
            const q = res.getChild('query', NS_DISCO_INFO);
            f = (q?.getChildren('feature', NS_DISCO_INFO) ?? []).map((x) => x.attr('var') ?? '');
          }
        }
      } catch {
        f = [];
      }
      if (session === this.#session) this.#features = f;
      return f;
    })().finally(() => {
      this.#discovering = undefined;
    });
    return this.#discovering;
  }

  #self(): BareJid | undefined {
    const j = this.#client.jid;
    return j ? bare(j) : undefined;
  }

  #ignore(reason: MamRejection, element: Element): true {
    this.#events.emit('ignored', { reason, element });
    return true;
  }

  #setStatus(s: MamStatus): void {
    if (this.#status === s) return;
    this.#status = s;
    this.#events.emit('status', s);
  }

  #handlerError(err: unknown): void {
    this.#onError(
      err instanceof ConfabError
        ? err
        : new ConfabError('ERR_HANDLER', `The mam onForwarded handler threw: ${String(err)}`, { cause: err }),
    );
  }
}

function asError(err: unknown): ConfabError {
  return err instanceof ConfabError
    ? err
    : new ConfabError('ERR_HANDLER', String((err as Error)?.message ?? err), { cause: err });
}

/** A deferred step found its session gone (disconnect() began, or a new session). */
function notLive(): ConfabError {
  return new ConfabError('ERR_NOT_CONNECTED', 'The session ended before the archive catch-up finished');
}
