/**
 * The roster: the contact list the server keeps, and subscriptions to presence.
 *
 * Specs:
 * - RFC 6121 (March 2011) 2 "Managing the Roster": get (2.1.3, 2.2), pushes (2.1.6) answered
 *   with an empty result, set (2.3, 2.4) and remove (2.5); 2.6 roster versioning (the `ver`
 *   we cache in the Store; an empty result means "your copy is current, changes follow as
 *   pushes").
 * - RFC 6121 3 "Managing Presence Subscriptions": subscribe, subscribed, unsubscribe,
 *   unsubscribed (3.1-3.3), and 3.4 pre-approval where the server offers
 *   `<sub xmlns='urn:xmpp:features:pre-approval'/>`.
 * - XEP-0172 1.1 "User Nickname": the `<nick/>` sent along with a subscription request.
 *
 * Trust (RFC 6121 2.1.6, security warning): a roster push is believed only when it has no
 * `from` or comes from our own bare JID. Anything else is a forgery (or a misrouted push):
 * it changes nothing and is never answered, not even with an error (RFC 6121 allows this
 * in place of RFC 6120's reply rule, so the forger learns nothing, not even that we are
 * online). The app sees it as an `ignoredPush` event.
 *
 * The model is driven only by the server (the seed's implementation tip): `set`, `remove`
 * and the subscription calls send requests and return; the item changes when the push
 * comes, so a change made by another of the user's clients looks exactly like ours.
 * Items live in a Map by bare JID; a full roster result is diffed against the model in
 * one pass (O(n)), so thousands of contacts cost thousands of operations, not millions.
 */
import type { Client } from '../../client.ts';
import { ConfabError, StanzaError } from '../../errors.ts';
import { type Emitter, featureEmitter, rethrowLater } from '../../events.ts';
import { bare, equalJid, type Jid, jid as toJid } from '../../jid.ts';
import { ROSTER_NS, type Store, type StoreOp } from '../../store/types.ts';
import { Interner } from '../../util/strings.ts';
import type { Element } from '../../xml/element.ts';
import { buildPresence, NS_PRE_APPROVAL, parsePresenceStanza } from '../presence/codec.ts';
import {
  fromRecord,
  type ItemChange,
  NS_ROSTER,
  NS_ROSTER_VER,
  parseQuery,
  type RosterItem,
  rosterGet,
  rosterRemove,
  rosterSet,
  sameItem,
  toRecord,
} from './codec.ts';

/** Store layout: namespace `roster` key `meta` ({ ver }), namespace `roster.items` key = bare JID. */
export const ROSTER_META_KEY = 'meta';
export const ROSTER_ITEMS_NS = `${ROSTER_NS}.items`;

/** The part of the Client this feature uses. */
export type RosterHost = Pick<
  Client,
  'on' | 'send' | 'iq' | 'jid' | 'status' | 'streamFeatures' | 'handleIq'
>;

/** Someone asks to see our presence (RFC 6121 3.1.3). Answer with one of the methods. */
export interface SubscriptionRequest {
  /** Bare JID of the requester. */
  from: Jid;
  /** Their text, if any ("Hi, it's Romeo"). */
  status: string | undefined;
  /** XEP-0172 nickname they sent along. */
  nick: string | undefined;
  /** Let them see our presence (`subscribed`). */
  approve(): Promise<void>;
  /** Refuse (`unsubscribed`). */
  deny(): Promise<void>;
  /** Approve, and ask to see theirs too (unless we already do or asked). */
  approveAndSubscribe(): Promise<void>;
}

export interface RosterLoadedEvent {
  /** Number of items now. */
  size: number;
  /** Roster version after the load (undefined: the server does no versioning). */
  version: string | undefined;
  /** True when the server confirmed our cached copy (empty result) instead of sending it all. */
  fromCache: boolean;
}

export interface RosterEvents {
  added: { item: RosterItem };
  updated: { item: RosterItem; previous: RosterItem };
  removed: { item: RosterItem };
  /** A fetch completed: the model is complete. */
  loaded: RosterLoadedEvent;
  /** A subscription request for the app to answer. */
  request: SubscriptionRequest;
  /** The contact approved our request (or confirmed an existing approval). */
  subscribed: { from: Jid };
  /** The contact refused our request or cancelled our subscription. */
  unsubscribed: { from: Jid };
  /** The contact stopped watching our presence. */
  unsubscribe: { from: Jid };
  /** A roster push from someone other than our account: not applied, not answered. */
  ignoredPush: { from: string; element: Element };
}

export interface RosterOptions {
  /** Fetch the roster whenever a new session comes online. Default true. */
  autoFetch?: boolean | undefined;
  /**
   * Persist the roster and its version in the Store. Default: `store.durable` (a store
   * that dies with the client would be written for nobody; the in-memory model still
   * carries the version across reconnections).
   */
  persist?: boolean | undefined;
}

export interface RosterDeps {
  client: RosterHost;
  store: Store;
  options?: RosterOptions | undefined;
  /** Where a throwing listener or a failed automatic fetch is reported (the client's `error`). */
  onError?: ((err: ConfabError) => void) | undefined;
}

/**
 * The roster feature (`client.roster`).
 *
 * @example
 * client.roster.on('request', (r) => r.approveAndSubscribe());
 * client.roster.on('added', ({ item }) => console.log('new contact', item.jid));
 * await client.roster.subscribe('romeo@example.net', { status: 'Hi, it is Juliet' });
 */
export class Roster {
  readonly #client: RosterHost;
  readonly #store: Store;
  readonly #events: Emitter<RosterEvents>;
  readonly #onError: (err: ConfabError) => void;
  readonly #autoFetch: boolean;
  readonly #persist: boolean;
  readonly #teardown: Array<() => void> = [];

  readonly #items = new Map<Jid, RosterItem>();
  /** One copy per group name across the items (5,000 contacts usually share a few dozen). */
  readonly #groupNames = new Interner();
  readonly #intern = (g: string): string => this.#groupNames.get(g);
  #ver: string | undefined;
  #loaded = false;
  #cacheRead = false;
  /** Items pushed while the cache was being read: the cache must not overwrite them. */
  #touched: Set<Jid> | undefined;
  #fetching: Promise<void> | undefined;
  /** Resolves once the current fetch's get is on the wire (or the fetch gave up). */
  #sent: Promise<void> = Promise.resolve();
  #ready: Promise<void>;
  #resolveReady!: () => void;

  constructor(deps: RosterDeps) {
    this.#client = deps.client;
    this.#store = deps.store;
    this.#autoFetch = deps.options?.autoFetch !== false;
    this.#persist = deps.options?.persist ?? deps.store.durable;
    this.#onError = deps.onError ?? rethrowLater;
    this.#events = featureEmitter<RosterEvents>('roster', this.#onError);
    this.#ready = new Promise((r) => {
      this.#resolveReady = r;
    });
    const c = this.#client;
    this.#teardown.push(
      c.handleIq('set', NS_ROSTER, 'query', (req) => this.#push(req.from, req.payload, req.element)),
      c.on('online', (e) => {
        if (!e.resumed && this.#autoFetch) this.fetch().catch((err: unknown) => this.#onError(asError(err)));
      }),
      c.on('stanza', (el) => {
        if (el.name === 'presence') this.#subscriptionPresence(el);
      }),
    );
  }

  // ------------------------------------------------------------------ events

  on<K extends keyof RosterEvents>(event: K, listener: (payload: RosterEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }
  once<K extends keyof RosterEvents>(event: K, listener: (payload: RosterEvents[K]) => void): () => void {
    return this.#events.once(event, listener);
  }
  off<K extends keyof RosterEvents>(event: K, listener: (payload: RosterEvents[K]) => void): void {
    this.#events.off(event, listener);
  }

  // ------------------------------------------------------------------ the model

  /** One contact, by JID (any resource is ignored). */
  get(j: string): RosterItem | undefined {
    const k = tryBare(j);
    return k === undefined ? undefined : this.#items.get(k);
  }

  /** Every contact, in the order the server first told us about them. */
  items(): IterableIterator<RosterItem> {
    return this.#items.values();
  }

  get size(): number {
    return this.#items.size;
  }

  /** The roster version we hold (RFC 6121 2.6), if the server does versioning. */
  get version(): string | undefined {
    return this.#ver;
  }

  /** True once a fetch has completed (this session or an earlier one of this object). */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Resolves when the first fetch has completed. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Contacts by group ('' holds the ones in no group). O(n) per call. */
  groups(): Map<string, RosterItem[]> {
    const out = new Map<string, RosterItem[]>();
    for (const it of this.#items.values()) {
      const gs = it.groups.length ? it.groups : [''];
      for (const g of gs) {
        const list = out.get(g);
        if (list) list.push(it);
        else out.set(g, [it]);
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ fetching

  /**
   * Get the roster (done automatically after login). With versioning, sends the version
   * we hold (from memory, or the Store on the first fetch); the server answers with the
   * whole roster or with an empty result and pushes for what changed.
   */
  fetch(): Promise<void> {
    if (!this.#fetching) {
      let sent!: () => void;
      this.#sent = new Promise((r) => {
        sent = r;
      });
      const p = this.#fetch(sent).finally(() => {
        sent();
        if (this.#fetching === p) this.#fetching = undefined;
      });
      this.#fetching = p;
    }
    return this.#fetching;
  }

  /**
   * Resolves when the roster get of the fetch in progress has been written (at once when
   * none is). The presence feature waits for it before the initial presence, so the
   * roster is requested first (RFC 6121 2.2) even when reading the cache takes a while.
   */
  requested(): Promise<void> {
    return this.#sent;
  }

  async #fetch(onSent: () => void): Promise<void> {
    const versioning = this.#versioning();
    if (versioning && !this.#loaded && !this.#cacheRead) await this.#readCache();
    const sent = versioning ? (this.#ver ?? '') : undefined;
    const pending = this.#client.iq({ type: 'get', payload: rosterGet(sent) });
    onSent();
    const result = await pending;
    const q = result.getChild('query', NS_ROSTER);
    let fromCache = false;
    if (q) {
      const parsed = parseQuery(q, this.#intern);
      this.#replace(parsed.items, versioning ? parsed.ver : undefined);
    } else if (sent === undefined || sent === '') {
      // No roster and no cache to confirm: the roster is empty.
      this.#replace([], undefined);
    } else {
      fromCache = true; // RFC 6121 2.6.3: our copy is current; pushes follow for changes
    }
    this.#loaded = true;
    // Done: a fetch() from a `loaded` listener starts a new one rather than joining this.
    this.#fetching = undefined;
    this.#events.emit('loaded', { size: this.#items.size, version: this.#ver, fromCache });
    this.#resolveReady();
  }

  #versioning(): boolean {
    return this.#client.streamFeatures?.getChild('ver', NS_ROSTER_VER) !== undefined;
  }

  async #readCache(): Promise<void> {
    this.#cacheRead = true;
    this.#touched = new Set();
    try {
      const meta = (await this.#store.get(ROSTER_NS, ROSTER_META_KEY)) as { ver?: unknown } | undefined;
      if (!meta || typeof meta.ver !== 'string') return;
      const rows = await this.#store.entries(ROSTER_ITEMS_NS);
      for (const [, value] of rows) {
        const it = fromRecord(value, this.#intern);
        if (!it || this.#touched.has(it.jid)) continue;
        this.#apply({ remove: false, item: it });
      }
      this.#ver = meta.ver;
    } catch (err) {
      // A broken cache costs one full fetch, nothing more.
      this.#onError(
        new ConfabError('ERR_HANDLER', `Reading the roster cache failed: ${message(err)}`, { cause: err }),
      );
    } finally {
      this.#touched = undefined;
    }
  }

  /** A full roster: diff against the model, emit the differences, persist. */
  #replace(changes: ItemChange[], ver: string | undefined): void {
    const next = new Map<Jid, RosterItem>();
    for (const c of changes) if (!c.remove) next.set(c.item.jid, c.item);
    for (const [j, old] of this.#items) {
      if (!next.has(j)) {
        this.#items.delete(j);
        this.#events.emit('removed', { item: old });
      }
    }
    for (const it of next.values()) this.#apply({ remove: false, item: it });
    this.#ver = ver;
    if (this.#persist && ver !== undefined) {
      const ops: StoreOp[] = [{ op: 'drop', ns: ROSTER_ITEMS_NS }];
      for (const it of next.values())
        ops.push({ op: 'set', ns: ROSTER_ITEMS_NS, key: it.jid, value: toRecord(it) as never });
      ops.push({ op: 'set', ns: ROSTER_NS, key: ROSTER_META_KEY, value: { ver } });
      this.#write(ops);
    }
  }

  /** One change into the model, with its event. */
  #apply(c: ItemChange): void {
    if (c.remove) {
      const old = this.#items.get(c.jid);
      if (!old) return;
      this.#items.delete(c.jid);
      this.#events.emit('removed', { item: old });
      return;
    }
    const old = this.#items.get(c.item.jid);
    if (old && sameItem(old, c.item)) return;
    this.#items.set(c.item.jid, c.item);
    if (old) this.#events.emit('updated', { item: c.item, previous: old });
    else this.#events.emit('added', { item: c.item });
  }

  #write(ops: StoreOp[]): void {
    this.#store
      .apply(ops)
      .catch((err: unknown) =>
        this.#onError(
          new ConfabError('ERR_HANDLER', `Writing the roster cache failed: ${message(err)}`, { cause: err }),
        ),
      );
  }

  // ------------------------------------------------------------------ pushes (RFC 6121 2.1.6)

  #push(from: string | undefined, query: Element, element: Element): Promise<never> | undefined {
    const self = this.#client.jid;
    if (from !== undefined && !(self && equalJid(from, bare(self)))) {
      this.#events.emit('ignoredPush', { from, element });
      // No reply at all (see the banner). The pipeline answers when the handler's promise
      // settles; this one never does and holds nothing, so it is collected.
      return new Promise<never>(() => {});
    }
    const { ver, items } = parseQuery(query, this.#intern);
    if (items.length !== 1 || query.getChildren('item').length !== 1) {
      throw new StanzaError('A roster push carries exactly one item (RFC 6121 2.1.6)', {
        condition: 'bad-request',
      });
    }
    const change = items[0]!;
    this.#touched?.add(change.remove ? change.jid : change.item.jid);
    this.#apply(change);
    // A push's version counts once the roster is loaded. Before that (a push racing the
    // first fetch), the version we will send must stay the one our cached items match,
    // or changes between the two would be skipped; the server replays them instead.
    if (ver !== undefined && this.#loaded && this.#versioning()) this.#ver = ver;
    if (this.#persist && this.#ver !== undefined && this.#loaded) {
      const key = change.remove ? change.jid : change.item.jid;
      this.#write([
        change.remove
          ? { op: 'delete', ns: ROSTER_ITEMS_NS, key }
          : { op: 'set', ns: ROSTER_ITEMS_NS, key, value: toRecord(change.item) as never },
        { op: 'set', ns: ROSTER_NS, key: ROSTER_META_KEY, value: { ver: this.#ver } },
      ]);
    }
    return undefined;
  }

  // ------------------------------------------------------------------ editing (RFC 6121 2.3-2.5)

  /**
   * Add a contact without subscribing, or change its name and groups. Omitted fields keep
   * their current values. Resolves when the server accepted it; the model changes with
   * the push that follows.
   */
  async set(
    j: string,
    o: { name?: string | undefined; groups?: readonly string[] | undefined } = {},
  ): Promise<void> {
    const b = parseBare(j);
    const cur = this.#items.get(b);
    const name = 'name' in o ? o.name : cur?.name;
    const groups = [...new Set((o.groups ?? cur?.groups ?? []).filter((g) => g !== ''))];
    await this.#client.iq({ type: 'set', payload: rosterSet(b, name === '' ? undefined : name, groups) });
  }

  /** Remove a contact (subscriptions both ways end, RFC 6121 2.5.2). */
  async remove(j: string): Promise<void> {
    await this.#client.iq({ type: 'set', payload: rosterRemove(parseBare(j)) });
  }

  // ------------------------------------------------------------------ subscriptions (RFC 6121 3)

  /** Ask to see a contact's presence (3.1.1); the server adds them to the roster. */
  async subscribe(
    j: string,
    o: { status?: string | undefined; nick?: string | undefined } = {},
  ): Promise<void> {
    await this.#client.send(
      buildPresence({ type: 'subscribe', to: parseBare(j), status: o.status, nick: o.nick }),
    );
  }

  /** Stop seeing a contact's presence (3.3.1). */
  async unsubscribe(j: string): Promise<void> {
    await this.#client.send(buildPresence({ type: 'unsubscribe', to: parseBare(j) }));
  }

  /** Let a contact see our presence: answer a request (3.1.4). */
  async approve(j: string): Promise<void> {
    await this.#client.send(buildPresence({ type: 'subscribed', to: parseBare(j) }));
  }

  /** Refuse a request, or cancel a contact's existing subscription to us (3.2.1). */
  async deny(j: string): Promise<void> {
    await this.#client.send(buildPresence({ type: 'unsubscribed', to: parseBare(j) }));
  }

  /** True when the server supports pre-approving subscriptions (RFC 6121 3.4). */
  get preApprovalSupported(): boolean {
    return this.#client.streamFeatures?.getChild('sub', NS_PRE_APPROVAL) !== undefined;
  }

  /**
   * Approve a contact before they ask (RFC 6121 3.4); their later request is accepted by
   * the server at once and the item shows `approved`. Rejects with ERR_UNSUPPORTED when
   * the server does not offer it (a `subscribed` would then be silently dropped).
   */
  async preApprove(j: string): Promise<void> {
    const b = parseBare(j);
    if (!this.preApprovalSupported)
      throw new ConfabError(
        'ERR_UNSUPPORTED',
        'The server does not offer subscription pre-approval (RFC 6121 3.4)',
      );
    await this.#client.send(buildPresence({ type: 'subscribed', to: b }));
  }

  #subscriptionPresence(el: Element): void {
    const t = el.attr('type');
    if (t !== 'subscribe' && t !== 'subscribed' && t !== 'unsubscribe' && t !== 'unsubscribed') return;
    const p = parsePresenceStanza(el);
    const self = this.#client.jid;
    // The server stamps the contact's bare JID (RFC 6121 3.1.3); no `from` or our own
    // account is nothing a contact could have sent.
    if (!p?.from || (self && equalJid(bare(p.from), bare(self)))) return;
    const from = bare(p.from);
    if (t === 'subscribe') {
      this.#events.emit('request', {
        from,
        status: p.status,
        nick: p.nick,
        approve: () => this.approve(from),
        deny: () => this.deny(from),
        approveAndSubscribe: async () => {
          await this.approve(from);
          const it = this.#items.get(from);
          if (!it || (!it.pending && (it.subscription === 'none' || it.subscription === 'from')))
            await this.subscribe(from);
        },
      });
    } else {
      this.#events.emit(t, { from });
    }
  }

  /** Stop listening (teardown). */
  destroy(): void {
    for (const t of this.#teardown.splice(0)) t();
    this.#events.clear();
  }
}

function tryBare(j: string): Jid | undefined {
  try {
    return bare(toJid(j));
  } catch {
    return undefined;
  }
}

function parseBare(j: string): Jid {
  try {
    return bare(toJid(j));
  } catch (cause) {
    throw new ConfabError('ERR_BAD_INPUT', `Invalid JID '${j}'`, { cause });
  }
}

function message(err: unknown): string {
  return String((err as Error)?.message ?? err);
}

function asError(err: unknown): ConfabError {
  return err instanceof ConfabError ? err : new ConfabError('ERR_HANDLER', message(err), { cause: err });
}
