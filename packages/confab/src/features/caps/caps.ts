/**
 * Entity capabilities: XEP-0115 "Entity Capabilities" v1.6.0.
 *
 * Ours: the `ver` of what disco answers about us, recomputed whenever a feature
 * changes it (coalesced: ten features added in one tick make one new `ver`). The
 * presence feature puts `element()` into every available presence it sends and
 * re-sends presence on `change` (6.1: "SHOULD send a new presence broadcast"). The
 * disco node `node#ver` is answered with the info that hashes to that ver; the last
 * few vers are kept, so a peer asking about a ver we just left gets the matching
 * answer rather than one that fails its check.
 *
 * Theirs (5.4 processing method): a presence with `<c/>` tells us a hash. Known
 * hash: nothing is sent. Unknown hash: one disco#info query per hash, whoever else
 * advertises it meanwhile waits for that answer; the answer is cached (memory +
 * Store, namespace `caps`) only when it is well-formed and hashes to the ver. A
 * failed check is not cached and the next entity advertising that ver is asked
 * (5.4 step 3.9). Unsupported hashes and the legacy format are queried per JID and
 * never cached globally (step 2). Concurrent queries are bounded, so a flood of
 * made-up vers cannot make us flood the network.
 *
 * Depends on: disco (our answer, the query), the client's presence stream, a Store.
 */
import { Emitter } from '../../events.ts';
import { type Jid, tryJid } from '../../jid.ts';
import type { Json, Store } from '../../store/types.ts';
import type { Element } from '../../xml/element.ts';
import type { DiscoInfo } from '../disco/codec.ts';
import type { Disco, FeatureClient } from '../disco/disco.ts';
import {
  buildCaps,
  type CapsAdvert,
  computeVer,
  type HashName,
  isSupportedHash,
  NS_CAPS,
  parseCaps,
  verifyVer,
} from './codec.ts';

/** Store namespace of the global caps cache: key `${hash} ${ver}`, value the DiscoInfo. */
export const CAPS_NS = 'caps';

/**
 * Our default caps node (XEP-0115 1.6 section 4: "a URI that uniquely identifies a software
 * application, typically a URL at the website of the project or company").
 *
 * Why this value: the project has no public home yet (packages/confab/package.json has no
 * `homepage` or `repository`, and the repository has no remote), so there is no real URL to
 * point at. The node is an identifier, not something peers fetch: caps caches are keyed by
 * the verification hash, and the node only names the software in disco#info queries
 * (`node#ver`). So the value must be stable more than reachable; it stays as it is until the
 * package gets a `homepage` (or `repository`), and then becomes that URL: caps.test.ts fails
 * as soon as package.json has one and this constant says something else. Apps set their own
 * with `node`.
 */
export const CONFAB_NODE = 'https://confab.chat';

export interface CapsOptions {
  client: FeatureClient;
  disco: Disco;
  store: Store;
  /** Our caps node. Default CONFAB_NODE. */
  node?: string | undefined;
  /** Our hash. Default sha-1 (what every deployed client verifies). */
  hash?: HashName | undefined;
  /** Most unknown hashes queried at once. Default 8. */
  maxPending?: number | undefined;
  /** Debug log. */
  log?: ((line: string) => void) | undefined;
}

/** What we learned about an entity. */
export interface CapsInfoEvent {
  jid: Jid;
  caps: CapsAdvert;
  info: DiscoInfo;
  /** True when the answer hashed to the advertised ver (globally cached); false for unsupported/legacy hashes. */
  verified: boolean;
}

export interface CapsEvents {
  /** Our `<c/>` changed: re-send presence with `element()`. */
  change: CapsAdvert;
  /** We learned (or recalled from the cache) what an entity supports. */
  info: CapsInfoEvent;
}

interface Pending {
  caps: CapsAdvert;
  /** Entities advertising this ver: the first is being asked, the others wait (and are asked if it fails). */
  candidates: Jid[];
  attempts: number;
}

const KEEP_OLD_VERS = 3;
const MAX_ATTEMPTS = 3;

/**
 * XEP-0115 for one client.
 *
 * @example
 * const caps = new Caps({ client, disco, store });
 * const presence = xml('presence', null, caps.element());
 * caps.on('info', ({ jid, info }) => console.log(jid, info.features));
 */
export class Caps {
  static readonly feature = 'caps';
  static readonly dependencies = ['disco'] as const;
  readonly #client: FeatureClient;
  readonly #disco: Disco;
  readonly #store: Store;
  readonly #node: string;
  readonly #hash: HashName;
  readonly #maxPending: number;
  readonly #log: (line: string) => void;
  readonly #events = new Emitter<CapsEvents>();
  readonly #teardown: Array<() => void> = [];

  #own: CapsAdvert | undefined;
  /** Our info by ver (the current and a few previous), served on `node#ver`. */
  readonly #served = new Map<string, { info: DiscoInfo; off: () => void }>();
  #computing: Promise<CapsAdvert> | undefined;
  #dirty = false;

  /** Global cache: `${hash} ${ver}` -> info (only verified answers). */
  readonly #cache = new Map<string, DiscoInfo>();
  /** What each entity advertises now. */
  readonly #byJid = new Map<Jid, { caps: CapsAdvert; info?: DiscoInfo | undefined }>();
  readonly #pending = new Map<string, Pending>();
  /** Per-JID queries (unsupported hash, legacy): `${jid} ${ver}`. */
  readonly #pendingJid = new Set<string>();
  readonly #waiters = new Map<Jid, Array<(info: DiscoInfo | undefined) => void>>();

  constructor(options: CapsOptions) {
    this.#client = options.client;
    this.#disco = options.disco;
    this.#store = options.store;
    this.#node = options.node ?? CONFAB_NODE;
    this.#hash = options.hash ?? 'sha-1';
    this.#maxPending = options.maxPending ?? 8;
    this.#log = options.log ?? (() => {});
    this.#teardown.push(
      this.#disco.addFeature(NS_CAPS),
      this.#disco.on('change', () => this.#recompute()),
      this.#client.on('stanza', (el) => {
        if (el.name === 'presence') this.#presence(el);
      }),
      this.#client.on('online', (e) => {
        if (!e.resumed) this.#byJid.clear(); // presences come again after a fresh login
      }),
    );
    this.#recompute();
  }

  /** Our current `<c/>` values (undefined until the first hash is computed, a microtask after construction). */
  get current(): CapsAdvert | undefined {
    return this.#own;
  }

  /** Our `<c/>` once the current features are hashed. */
  async ready(): Promise<CapsAdvert> {
    while (this.#computing) await this.#computing;
    return this.#own!;
  }

  /** The `<c/>` element for an outgoing available presence (undefined before the first hash). */
  element(): Element | undefined {
    return this.#own ? buildCaps(this.#own) : undefined;
  }

  /** What an entity (full JID) supports, if its caps are known. */
  infoOf(jid: string): DiscoInfo | undefined {
    const j = tryJid(jid);
    return j ? this.#byJid.get(j)?.info : undefined;
  }

  /** True/false when the entity's caps are known, undefined when they are not (yet). */
  hasFeature(jid: string, feature: string): boolean | undefined {
    return this.infoOf(jid)?.features.includes(feature);
  }

  /**
   * The entity's info: at once when known, after the pending query when one is
   * running, undefined when the entity advertised no caps.
   */
  lookup(jid: string): Promise<DiscoInfo | undefined> {
    const j = tryJid(jid);
    if (!j) return Promise.resolve(undefined);
    const entry = this.#byJid.get(j);
    if (!entry) return Promise.resolve(undefined);
    if (entry.info) return Promise.resolve(entry.info);
    return new Promise((resolve) => {
      const list = this.#waiters.get(j) ?? [];
      list.push(resolve);
      this.#waiters.set(j, list);
    });
  }

  on<K extends keyof CapsEvents>(event: K, listener: (e: CapsEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  destroy(): void {
    for (const t of this.#teardown.splice(0)) t();
    for (const s of this.#served.values()) s.off();
    this.#served.clear();
    this.#events.clear();
  }

  // ------------------------------------------------------------------ ours

  #recompute(): void {
    this.#dirty = true;
    if (this.#computing) return;
    this.#computing = (async () => {
      let caps = this.#own;
      while (this.#dirty) {
        this.#dirty = false;
        await Promise.resolve(); // coalesce the changes made in the same tick
        const info = this.#disco.own;
        const ver = await computeVer(info, this.#hash);
        caps = { hash: this.#hash, node: this.#node, ver };
        if (!this.#served.has(ver)) {
          const off = this.#disco.serveNode(`${this.#node}#${ver}`, { info: () => info });
          this.#served.set(ver, { info, off });
          while (this.#served.size > KEEP_OLD_VERS) {
            const [oldest, s] = this.#served.entries().next().value!;
            s.off();
            this.#served.delete(oldest);
          }
        }
      }
      this.#computing = undefined;
      const changed = this.#own?.ver !== caps!.ver;
      this.#own = caps!;
      if (changed) this.#events.emit('change', caps!);
      return caps!;
    })();
  }

  // ------------------------------------------------------------------ theirs

  #presence(el: Element): void {
    const from = tryJid(el.attr('from'));
    if (!from || from === this.#client.jid) return; // our own reflected presence: we know ourselves
    const type = el.attr('type');
    if (type === 'unavailable') {
      this.#byJid.delete(from);
      this.#settleWaiters(from, undefined);
      return;
    }
    if (type !== undefined) return;
    const caps = parseCaps(el);
    if (!caps) return;
    const prev = this.#byJid.get(from);
    if (prev && prev.caps.ver === caps.ver && prev.caps.hash === caps.hash && prev.info) return;
    this.#byJid.set(from, { caps });
    if (!isSupportedHash(caps.hash)) {
      void this.#queryForJid(from, caps);
      return;
    }
    void this.#resolveHash(from, caps);
  }

  async #resolveHash(jid: Jid, caps: CapsAdvert): Promise<void> {
    const key = `${caps.hash} ${caps.ver}`;
    let info = this.#cache.get(key);
    if (!info) {
      const pending = this.#pending.get(key);
      if (pending) {
        pending.candidates.push(jid);
        return;
      }
      // Reserve the slot before the async Store read so a second presence joins this one.
      if (this.#pending.size >= this.#maxPending) {
        this.#log(`caps: too many unknown hashes pending, not asking ${jid} about ${caps.ver}`);
        return;
      }
      const p: Pending = { caps, candidates: [jid], attempts: 0 };
      this.#pending.set(key, p);
      const stored = await this.#store.get(CAPS_NS, key).catch(() => undefined);
      if (stored && typeof stored === 'object' && !Array.isArray(stored)) {
        info = stored as unknown as DiscoInfo;
        this.#cache.set(key, info);
        this.#pending.delete(key);
        for (const c of p.candidates) this.#learn(c, info, true, caps.ver);
        return;
      }
      // The Store read is async: disconnect() may have begun meanwhile. Ask nothing then.
      if (this.#client.status !== 'online') {
        this.#pending.delete(key);
        for (const c of p.candidates) this.#settleWaiters(c, undefined);
        return;
      }
      await this.#queryPending(key, p);
      return;
    }
    this.#learn(jid, info, true, caps.ver);
  }

  async #queryPending(key: string, p: Pending): Promise<void> {
    while (p.candidates.length > 0 && p.attempts < MAX_ATTEMPTS && this.#client.status === 'online') {
      const jid = p.candidates[0]!;
      p.attempts++;
      let info: DiscoInfo | undefined;
      try {
        info = await this.#disco.info(jid, `${p.caps.node}#${p.caps.ver}`);
      } catch (err) {
        this.#log(`caps: ${jid} did not answer disco#info: ${String(err)}`);
      }
      if (info && (await verifyVer(info, p.caps.hash as HashName, p.caps.ver))) {
        const clean: DiscoInfo = {
          identities: info.identities,
          features: info.features,
          extensions: info.extensions,
        };
        this.#cache.set(key, clean);
        this.#pending.delete(key);
        void this.#store
          .apply([{ op: 'set', ns: CAPS_NS, key, value: clean as unknown as Json }])
          .catch(() => {});
        for (const c of p.candidates) this.#learn(c, clean, true, p.caps.ver);
        return;
      }
      // Not verified: never cached; this entity's own claim is not believed either.
      if (info) this.#log(`caps: answer of ${jid} does not hash to ${p.caps.ver}: not cached`);
      p.candidates.shift();
      this.#settleWaiters(jid, undefined);
    }
    this.#pending.delete(key);
    for (const c of p.candidates) this.#settleWaiters(c, undefined);
  }

  async #queryForJid(jid: Jid, caps: CapsAdvert): Promise<void> {
    const key = `${jid} ${caps.ver}`;
    if (this.#pendingJid.has(key) || this.#pendingJid.size >= this.#maxPending) return;
    this.#pendingJid.add(key);
    try {
      const info = await this.#disco.info(jid, `${caps.node}#${caps.ver}`);
      this.#learn(jid, info, false, caps.ver);
    } catch (err) {
      this.#log(`caps: ${jid} did not answer disco#info: ${String(err)}`);
      this.#settleWaiters(jid, undefined);
    } finally {
      this.#pendingJid.delete(key);
    }
  }

  #learn(jid: Jid, info: DiscoInfo, verified: boolean, ver?: string): void {
    const entry = this.#byJid.get(jid);
    // Gone offline meanwhile, or now advertising another ver: this answer is not about it.
    if (!entry || (ver !== undefined && entry.caps.ver !== ver)) return;
    entry.info = info;
    this.#events.emit('info', { jid, caps: entry.caps, info, verified });
    this.#settleWaiters(jid, info);
  }

  #settleWaiters(jid: Jid, info: DiscoInfo | undefined): void {
    const list = this.#waiters.get(jid);
    if (!list) return;
    this.#waiters.delete(jid);
    for (const w of list) w(info);
  }
}
