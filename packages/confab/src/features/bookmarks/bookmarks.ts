/**
 * Room bookmarks: XEP-0402 "PEP Native Bookmarks" v1.2.0 (`urn:xmpp:bookmarks:1`), with
 * XEP-0048 "Bookmarks" v1.2 in XEP-0049 private XML storage as the fallback, and autojoin
 * through Multi-User Chat (XEP-0045).
 *
 * Where bookmarks live (decided once per session from our account's disco#info):
 * - the account advertises `urn:xmpp:bookmarks:1#compat` (XEP-0402 5.3): the server keeps the
 *   PEP node and the private-storage form in sync, so we read and write the PEP node only
 *   (each bookmark its own item: no read-modify-write race between two clients);
 * - otherwise we read both forms (a bookmark in either one counts; the PEP item wins when both
 *   have the room) and write the XEP-0048 form, which every client reads; where the account also
 *   has PEP, the XEP-0402 item is written too (best effort), so modern clients see the change;
 * - neither private storage nor PEP (the minimal test server): ERR_UNSUPPORTED.
 *
 * Trust (XEP-0402 6, XEP-0163 4.3): a notification changes what we believe only when it comes
 * from our own account's PEP service, i.e. the PEP feature reports it as `own` (the message's
 * `from` is our bare JID, or absent). A notification from anyone else about the bookmarks node
 * is that person's own business and is ignored: a stranger cannot plant a bookmark (an
 * autojoin one would make us join their room) or delete ours.
 *
 * Autojoin: after each new session (not a resumed one: nothing was lost) the bookmarks with
 * `autojoin` are joined through `muc.join`, with the bookmark's nick (default: our JID's local
 * part) and password; rooms the MUC feature is already in (or rejoining) are left alone. A
 * bookmark that arrives from another of our clients with `autojoin` is joined as well. Each
 * outcome is an `autojoin` event, failures included (banned, members-only, wrong password),
 * never an exception.
 */
import { ConfabError, StanzaError } from '../../errors.ts';
import { type Emitter, featureEmitter } from '../../events.ts';
import { type BareJid, bare, localOf, jid as toJid } from '../../jid.ts';
import type { Element } from '../../xml/element.ts';
import type { FeatureContext } from '../context.ts';
import type { Muc, Room } from '../muc/muc.ts';
import type { PepItemEvent } from '../pep/pep.ts';
import {
  type Bookmark,
  type BookmarkInput,
  buildConference,
  buildStorage,
  NS_BOOKMARKS_LEGACY,
  NS_BOOKMARKS2,
  NS_BOOKMARKS2_COMPAT,
  PUBLISH_OPTIONS,
  readConference,
  readStorage,
} from './codec.ts';

export type { Bookmark, BookmarkInput } from './codec.ts';

/** Where this session keeps the bookmarks (see the banner). */
export type BookmarkStorage = 'pep' | 'private' | 'none';

/** The outcome of one autojoin. */
export interface AutojoinEvent {
  bookmark: Bookmark;
  /** The room when the join succeeded. */
  room: Room | undefined;
  /** Why the join failed. */
  error: Error | undefined;
}

export interface BookmarksEvents {
  /** A bookmark was added or changed (by this client or, through PEP, another of ours). */
  set: Bookmark;
  /** A bookmark was removed. */
  remove: { jid: BareJid };
  /** The list as now known (after every set/remove, and after a fresh `list()`). */
  change: Bookmark[];
  autojoin: AutojoinEvent;
}

/** Tunables. */
export interface BookmarksOptions {
  /** Join the autojoin bookmarks after login (and when one arrives). Default true. */
  autojoin?: boolean | undefined;
}

/**
 * `client.bookmarks`.
 *
 * @example
 * await client.bookmarks.add({ jid: 'kitchen@conference.example.org', name: 'Kitchen', autojoin: true });
 * for (const b of await client.bookmarks.list()) console.log(b.jid, b.name, b.autojoin);
 * client.bookmarks.on('set', (b) => console.log('bookmarked elsewhere:', b.jid));
 */
export class Bookmarks {
  static readonly feature = 'bookmarks';
  static readonly dependencies = ['pep', 'private', 'disco', 'muc'] as const;
  readonly #ctx: FeatureContext & { muc: Muc };
  readonly #events: Emitter<BookmarksEvents>;
  readonly #teardown: Array<() => void> = [];
  /** Autojoin switch: see `autojoin`. */
  #autojoin: boolean;
  #session = 0;
  #storage: Promise<{ kind: BookmarkStorage; pep: boolean }> | undefined;
  /** What we know, once listed in this session. */
  #cache: Map<BareJid, Bookmark> | undefined;
  /** The XEP-0048 storage element last read (its other children are written back). */
  #legacy: Element | undefined;
  /** Writes one at a time: the XEP-0048 form is read-modify-write. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: FeatureContext & { muc: Muc }, options: BookmarksOptions = {}) {
    this.#ctx = ctx;
    this.#autojoin = options.autojoin ?? true;
    this.#events = featureEmitter<BookmarksEvents>('bookmarks', ctx.onError);
    this.#teardown.push(
      ctx.pep.interest(NS_BOOKMARKS2),
      ctx.pep.on('item', (e) => this.#item(e)),
      ctx.pep.on('retract', (e) => {
        if (!e.own || e.node !== NS_BOOKMARKS2) return;
        const j = asRoom(e.id);
        if (j !== undefined) this.#forget(j);
      }),
      ctx.pep.on('purge', (e) => {
        if (!e.own || e.node !== NS_BOOKMARKS2) return;
        for (const j of [...(this.#cache?.keys() ?? [])]) this.#forget(j);
      }),
      ctx.client.on('online', (e) => {
        if (e.resumed) return;
        this.#session++;
        this.#storage = undefined;
        this.#cache = undefined;
        this.#legacy = undefined;
        // On the next macrotask, not in the 'online' dispatch: the app's code right after
        // `await connect()` runs first, so it can attach `autojoin` listeners or switch
        // autojoin off for this session.
        const session = this.#session;
        setTimeout(() => {
          if (this.#autojoin && session === this.#session && this.#ctx.isOnline())
            void this.#autojoinAll(session);
        }, 0);
      }),
    );
  }

  /**
   * Whether bookmarks with `autojoin` are joined after login. Switch it off before `connect()`
   * (or right after it resolves) for a client that only looks, e.g. a one-shot command; default on.
   */
  get autojoin(): boolean {
    return this.#autojoin;
  }
  set autojoin(on: boolean) {
    this.#autojoin = on;
  }

  on<K extends keyof BookmarksEvents>(event: K, listener: (e: BookmarksEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }
  once<K extends keyof BookmarksEvents>(event: K, listener: (e: BookmarksEvents[K]) => void): () => void {
    return this.#events.once(event, listener);
  }
  off<K extends keyof BookmarksEvents>(event: K, listener: (e: BookmarksEvents[K]) => void): void {
    this.#events.off(event, listener);
  }

  /** Where this session keeps bookmarks (asks the server once per session). */
  async storage(): Promise<BookmarkStorage> {
    return (await this.#where()).kind;
  }

  /**
   * Every room bookmark, fetched from the server (and remembered: later notifications keep it
   * current). Rejects with ERR_UNSUPPORTED where the account has no storage for them.
   */
  list(): Promise<Bookmark[]> {
    return this.#list(() => true);
  }

  /**
   * `list`, checking `live` after each reply before the next request goes out: the
   * autojoin run must not keep asking once `disconnect()` began or the session changed.
   */
  async #list(live: () => boolean): Promise<Bookmark[]> {
    const check = (): void => {
      if (!live()) throw new ConfabError('ERR_NOT_CONNECTED', 'The session ended while reading bookmarks');
    };
    const where = await this.#where();
    check();
    if (where.kind === 'none') throw unsupported();
    const found = new Map<BareJid, Bookmark>();
    if (where.kind === 'private') {
      const el = await this.#ctx.private.get('storage', NS_BOOKMARKS_LEGACY);
      check();
      this.#legacy = el;
      for (const b of readStorage(el)) found.set(b.jid, b);
    }
    if (where.kind === 'pep' || where.pep) {
      const items = await this.#pepItems(where.kind !== 'pep');
      check();
      for (const b of items) found.set(b.jid, b);
    }
    this.#cache = found;
    const all = [...found.values()];
    this.#events.emit('change', all);
    return all;
  }

  /** The bookmark of `room`, if there is one. */
  async get(room: string): Promise<Bookmark | undefined> {
    const j = roomOrThrow(room);
    const cache = this.#cache ?? new Map((await this.list()).map((b) => [b.jid, b]));
    return cache.get(j);
  }

  /**
   * Add or replace the bookmark of `b.jid` (the fields given are the whole bookmark; use
   * `update` to change some). Resolves once the server stored it.
   */
  async set(b: BookmarkInput): Promise<Bookmark> {
    const bookmark: Bookmark = {
      jid: roomOrThrow(b.jid),
      name: b.name === '' ? undefined : b.name,
      nick: b.nick === '' ? undefined : b.nick,
      password: b.password,
      autojoin: b.autojoin === true,
      extensions: b.extensions,
    };
    return this.#serial(async () => {
      const where = await this.#where();
      if (where.kind === 'none') throw unsupported();
      if (where.kind === 'pep') {
        await this.#publish(bookmark);
      } else {
        const next = await this.#legacyList();
        next.set(bookmark.jid, bookmark);
        await this.#ctx.private.set(buildStorage([...next.values()], this.#legacy));
        if (where.pep) await this.#publish(bookmark).catch(() => {});
      }
      this.#remember(bookmark);
      this.#joinIfWanted(bookmark);
      return bookmark;
    });
  }

  /** `set` under the name the app is looking for. */
  async add(b: BookmarkInput): Promise<Bookmark> {
    return this.set(b);
  }

  /** Change some fields of an existing bookmark (or create it with these). */
  async update(room: string, patch: Omit<BookmarkInput, 'jid'>): Promise<Bookmark> {
    const old = await this.get(room);
    return this.set({ ...old, ...definedOnly(patch), jid: room });
  }

  /** Remove the bookmark of `room` (no error when there is none). */
  async remove(room: string): Promise<void> {
    const j = roomOrThrow(room);
    return this.#serial(async () => {
      const where = await this.#where();
      if (where.kind === 'none') throw unsupported();
      if (where.kind === 'pep') {
        await this.#retract(j);
      } else {
        const next = await this.#legacyList();
        if (next.delete(j)) await this.#ctx.private.set(buildStorage([...next.values()], this.#legacy));
        if (where.pep) await this.#retract(j).catch(() => {});
      }
      this.#forget(j);
    });
  }

  destroy(): void {
    for (const t of this.#teardown.splice(0)) t();
    this.#events.clear();
  }

  // ---------------------------------------------------------------- internals

  #where(): Promise<{ kind: BookmarkStorage; pep: boolean }> {
    this.#storage ??= this.#discover().catch((err: unknown) => {
      this.#storage = undefined;
      throw err;
    });
    return this.#storage;
  }

  async #discover(): Promise<{ kind: BookmarkStorage; pep: boolean }> {
    const self = this.#self();
    const info = await this.#ctx.disco.info(self);
    // Discovery runs at login (autojoin): once `disconnect()` began, ask nothing more.
    if (!this.#ctx.isOnline()) throw new ConfabError('ERR_NOT_CONNECTED', 'Not connected');
    const pep = info.identities.some((i) => i.category === 'pubsub' && i.type === 'pep');
    if (info.features.includes(NS_BOOKMARKS2_COMPAT)) return { kind: 'pep', pep: true };
    // Private storage is not always advertised on the account (XEP-0049 predates disco): try it.
    try {
      await this.#ctx.private.get('storage', NS_BOOKMARKS_LEGACY);
      return { kind: 'private', pep };
    } catch (err) {
      if (!(err instanceof StanzaError) || !NOT_THERE.has(err.condition ?? '')) throw err;
    }
    return { kind: pep ? 'pep' : 'none', pep };
  }

  async #pepItems(tolerant: boolean): Promise<Bookmark[]> {
    try {
      const items = await this.#ctx.pep.items(undefined, NS_BOOKMARKS2);
      return items.map((i) => readConference(i.id, i.payload)).filter((b) => b !== undefined);
    } catch (err) {
      // No node yet (nothing bookmarked) reads as none; so does a broken PEP beside private storage.
      if (err instanceof StanzaError && (err.condition === 'item-not-found' || tolerant)) return [];
      throw err;
    }
  }

  async #legacyList(): Promise<Map<BareJid, Bookmark>> {
    const el = await this.#ctx.private.get('storage', NS_BOOKMARKS_LEGACY);
    this.#legacy = el;
    return new Map(readStorage(el).map((b) => [b.jid, b]));
  }

  async #publish(b: Bookmark): Promise<void> {
    const payload = buildConference(b);
    const options = { ...PUBLISH_OPTIONS };
    for (;;) {
      try {
        await this.#ctx.pep.publish(NS_BOOKMARKS2, payload, { id: b.jid, options });
        return;
      } catch (err) {
        // ejabberd 23.01 refuses publish-options fields it does not know, one at a time
        // (`pubsub#max_items`, `pubsub#send_last_published_item`: resource-constraint, "Unknown
        // field 'X'"): retry without that one. Never without the whitelist access model: that
        // would show the bookmarks, passwords included, to our contacts.
        const field =
          err instanceof StanzaError ? /Unknown field '([^']+)'/.exec(err.text ?? '')?.[1] : undefined;
        if (field === undefined || field === 'pubsub#access_model' || !(field in options)) throw err;
        delete options[field];
      }
    }
  }

  async #retract(j: BareJid): Promise<void> {
    try {
      await this.#ctx.pep.retract(NS_BOOKMARKS2, j);
    } catch (err) {
      // Already gone (or never there): the bookmark is removed either way.
      if (!(err instanceof StanzaError && err.condition === 'item-not-found')) throw err;
    }
  }

  #item(e: PepItemEvent): void {
    if (!e.own || e.node !== NS_BOOKMARKS2) return;
    const b = readConference(e.id, e.payload);
    if (!b) return;
    this.#remember(b);
    this.#joinIfWanted(b);
  }

  #remember(b: Bookmark): void {
    const cache = this.#cache;
    const old = cache?.get(b.jid);
    if (old && sameBookmark(old, b)) return;
    cache?.set(b.jid, b);
    this.#events.emit('set', b);
    if (cache) this.#events.emit('change', [...cache.values()]);
  }

  #forget(j: BareJid): void {
    const cache = this.#cache;
    if (cache && !cache.has(j)) return;
    cache?.delete(j);
    this.#events.emit('remove', { jid: j });
    if (cache) this.#events.emit('change', [...cache.values()]);
  }

  async #autojoinAll(session: number): Promise<void> {
    let all: Bookmark[];
    try {
      all = await this.#list(() => session === this.#session && this.#ctx.isOnline());
    } catch (err) {
      // No storage on this server is no error; anything else is reported.
      if (err instanceof ConfabError && err.code === 'ERR_UNSUPPORTED') return;
      if (
        err instanceof ConfabError &&
        (err.code === 'ERR_NOT_CONNECTED' || err.code === 'ERR_SOCKET_CLOSED')
      )
        return;
      this.#ctx.onError(asConfab(err, 'Reading the bookmarks for autojoin failed'));
      return;
    }
    if (session !== this.#session || !this.#ctx.isOnline()) return;
    for (const b of all) if (b.autojoin) this.#join(b);
  }

  #joinIfWanted(b: Bookmark): void {
    if (this.#autojoin && b.autojoin && this.#ctx.isOnline()) this.#join(b);
  }

  #join(b: Bookmark): void {
    const muc = this.#ctx.muc;
    // Already in it, or joining (the MUC feature rejoins its rooms after a reconnect by itself).
    const existing = muc.get(b.jid);
    if (existing && existing.state !== 'left') return;
    const own = this.#ctx.client.jid;
    const nick = b.nick ?? (own ? localOf(own) : undefined) ?? 'confab';
    muc.join(b.jid, { nick, password: b.password }).then(
      (room) => this.#events.emit('autojoin', { bookmark: b, room, error: undefined }),
      (error: unknown) =>
        this.#events.emit('autojoin', {
          bookmark: b,
          room: undefined,
          error: error instanceof Error ? error : new Error(String(error)),
        }),
    );
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  #self(): BareJid {
    const j = this.#ctx.client.jid;
    if (!j) throw new ConfabError('ERR_NOT_CONNECTED', 'Not connected: bookmarks live on the account');
    return bare(j);
  }
}

/** Conditions that mean "this server keeps no such storage". */
const NOT_THERE = new Set(['service-unavailable', 'feature-not-implemented', 'not-allowed']);

function unsupported(): ConfabError {
  return new ConfabError(
    'ERR_UNSUPPORTED',
    'This server keeps no bookmarks: it has neither PEP (XEP-0163) nor private storage (XEP-0049)',
  );
}

function asRoom(id: string | undefined): BareJid | undefined {
  try {
    return id === undefined ? undefined : bare(toJid(id));
  } catch {
    return undefined;
  }
}

function roomOrThrow(room: string): BareJid {
  let j: ReturnType<typeof toJid>;
  try {
    j = toJid(room);
  } catch (cause) {
    throw new ConfabError('ERR_BAD_INPUT', `Invalid room JID '${room}'`, { cause });
  }
  if (bare(j) !== j) throw new ConfabError('ERR_BAD_INPUT', `A room is a bare JID, not '${room}'`);
  return bare(j);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function sameBookmark(a: Bookmark, b: Bookmark): boolean {
  return (
    a.name === b.name &&
    a.nick === b.nick &&
    a.password === b.password &&
    a.autojoin === b.autojoin &&
    (a.extensions === undefined) === (b.extensions === undefined)
  );
}

function asConfab(err: unknown, what: string): ConfabError {
  return err instanceof ConfabError
    ? err
    : new ConfabError('ERR_HANDLER', `${what}: ${String((err as Error)?.message ?? err)}`, { cause: err });
}
