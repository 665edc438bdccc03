/**
 * Service discovery: XEP-0030 "Service Discovery" v2.5.0, with XEP-0128 extensions.
 *
 * Asks others (`info`, `items`) and answers about ourselves. What we answer is the
 * union of what the features registered: each feature adds its `<feature/>` vars
 * (`addFeature`, reference counted, returns the teardown), identities and XEP-0128
 * forms. Every change emits `change`, which caps (XEP-0115) turns into a new `ver`.
 *
 * Nodes: a query with a node we do not know is `item-not-found` (XEP-0030 3.3);
 * features may serve extra nodes (`serveNode`): caps serves `node#ver` so that the
 * XEP-0115 query for our hash is answered with the same info.
 *
 * Depends on: the client's `iq` (responder checks, timeouts) and `handleIq`.
 */
import type { Client } from '../../client.ts';
import { StanzaError } from '../../errors.ts';
import { Emitter } from '../../events.ts';
import { domainOf } from '../../jid.ts';
import type { IqRequestOptions } from '../../session/iq.ts';
import type { Element } from '../../xml/element.ts';
import {
  buildInfo,
  buildItems,
  type DataForm,
  type DiscoInfo,
  type DiscoItem,
  type DiscoItems,
  formType,
  type Identity,
  NS,
  parseInfo,
  parseItems,
} from './codec.ts';

/** The part of the Client a feature uses (its public API only). */
export type FeatureClient = Pick<
  Client,
  'on' | 'off' | 'once' | 'iq' | 'send' | 'handleIq' | 'jid' | 'status'
>;

/** What a served node answers. */
export interface NodeHandler {
  info?: (() => DiscoInfo) | undefined;
  items?: (() => DiscoItem[]) | undefined;
}

export interface DiscoOptions {
  client: FeatureClient;
  /**
   * Our identity (XEP-0030 3.1; categories from the XMPP registrar). Default
   * `client/pc` named "confab". A bot says `client/bot`, a phone `client/phone`.
   */
  identities?: Identity[] | undefined;
}

export interface DiscoEvents {
  /** What we answer about ourselves changed (a feature, identity or form was added or removed). */
  change: DiscoInfo;
}

/** The default identity: a desktop client (XEP-0030 registry "client/pc"). */
export const DEFAULT_IDENTITY: Identity = { category: 'client', type: 'pc', name: 'confab' };

/**
 * Service discovery for one client.
 *
 * @example
 * const disco = new Disco({ client });
 * const info = await disco.info('example.org');
 * if (info.features.includes('urn:xmpp:mam:2')) ...
 * const off = disco.addFeature('urn:xmpp:receipts'); // we now announce receipts
 */
export class Disco {
  /** Feature name, for the composition root's fixed order. */
  static readonly feature = 'disco';
  readonly #client: FeatureClient;
  readonly #features = new Map<string, number>();
  readonly #identities: Identity[] = [];
  readonly #forms: DataForm[] = [];
  readonly #items: DiscoItem[] = [];
  readonly #nodes = new Map<string, NodeHandler>();
  readonly #events = new Emitter<DiscoEvents>();
  readonly #teardown: Array<() => void> = [];

  constructor(options: DiscoOptions) {
    this.#client = options.client;
    this.#identities.push(...(options.identities ?? [DEFAULT_IDENTITY]));
    this.#features.set(NS.info, 1);
    this.#features.set(NS.items, 1);
    this.#teardown.push(
      this.#client.handleIq('get', NS.info, 'query', (req) => this.#answerInfo(req.payload)),
      this.#client.handleIq('get', NS.items, 'query', (req) => this.#answerItems(req.payload)),
    );
  }

  /**
   * Ask an entity what it is and supports (XEP-0030 3). Without `to`: our server (its domain, not our account).
   * Rejects with StanzaError (e.g. `item-not-found`, `service-unavailable`).
   */
  info(to?: string, node?: string, options?: IqRequestOptions): Promise<DiscoInfo> {
    // One query per entity and node at a time: features starting together (carbons, archive,
    // bookmarks, upload) ask our server and account the same question right after login.
    if (options !== undefined) return this.#info(to, node, options);
    const key = `${to ?? ''}\u0000${node ?? ''}`;
    const running = this.#inflight.get(key);
    if (running) return running;
    const p = this.#info(to, node).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  readonly #inflight = new Map<string, Promise<DiscoInfo>>();

  async #info(
    to: string | undefined,
    node: string | undefined,
    options?: IqRequestOptions,
  ): Promise<DiscoInfo> {
    const res = await this.#client.iq(
      { type: 'get', to: to ?? serverOf(this.#client), payload: buildInfo({ node }) },
      options,
    );
    const q = res.getChild('query', NS.info);
    return q ? parseInfo(q) : { identities: [], features: [], extensions: [] };
  }

  /** Ask an entity for its items (XEP-0030 4). Without `to`: our server (its domain, not our account). */
  async items(to?: string, node?: string, options?: IqRequestOptions): Promise<DiscoItems> {
    const res = await this.#client.iq(
      { type: 'get', to: to ?? serverOf(this.#client), payload: buildItems({ node }) },
      options,
    );
    const q = res.getChild('query', NS.items);
    return q ? parseItems(q) : { items: [] };
  }

  /** Announce features (reference counted: two features may announce the same var). Returns the teardown. */
  addFeature(...vars: string[]): () => void {
    for (const v of vars) this.#features.set(v, (this.#features.get(v) ?? 0) + 1);
    this.#changed();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const v of vars) {
        const n = (this.#features.get(v) ?? 0) - 1;
        if (n <= 0) this.#features.delete(v);
        else this.#features.set(v, n);
      }
      this.#changed();
    };
  }

  /** Add an identity (e.g. a gateway adds `gateway/...`). Returns the teardown. */
  addIdentity(identity: Identity): () => void {
    return this.#addTo(this.#identities, identity);
  }

  /**
   * Add an XEP-0128 form (type `result` with a hidden FORM_TYPE), e.g. XEP-0232
   * software information. One form per FORM_TYPE (XEP-0115 5.4 would call two ill-formed).
   */
  addExtension(form: DataForm): () => void {
    const type = formType(form);
    if (type === undefined || this.#forms.some((f) => formType(f) === type)) {
      throw new StanzaError(`An extension form needs a unique FORM_TYPE (got ${type ?? 'none'})`, {
        condition: 'conflict',
      });
    }
    return this.#addTo(this.#forms, form);
  }

  /** Add an item to our own disco#items (no node). Returns the teardown. */
  addItem(item: DiscoItem): () => void {
    return this.#addTo(this.#items, item, false);
  }

  /** Serve disco queries for `node` (info and/or items). Returns the teardown. */
  serveNode(node: string, handler: NodeHandler): () => void {
    this.#nodes.set(node, handler);
    return () => {
      if (this.#nodes.get(node) === handler) this.#nodes.delete(node);
    };
  }

  /** What we answer about ourselves now (features sorted, i;octet). */
  get own(): DiscoInfo {
    return {
      identities: this.#identities.map((i) => ({ ...i })),
      features: [...this.#features.keys()].sort(octetCompare),
      extensions: this.#forms.map((f) => structuredClone(f)),
    };
  }

  /** True when we announce `feature`. */
  has(feature: string): boolean {
    return this.#features.has(feature);
  }

  /** Listen to `change`; returns the teardown. */
  on<K extends keyof DiscoEvents>(event: K, listener: (e: DiscoEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Stop answering and forget listeners. */
  destroy(): void {
    for (const t of this.#teardown.splice(0)) t();
    this.#events.clear();
  }

  #addTo<T>(list: T[], v: T, notify = true): () => void {
    list.push(v);
    if (notify) this.#changed();
    return () => {
      const i = list.indexOf(v);
      if (i < 0) return;
      list.splice(i, 1);
      if (notify) this.#changed();
    };
  }

  #changed(): void {
    this.#events.emit('change', this.own);
  }

  #answerInfo(q: Element): Element {
    const node = q.attr('node');
    if (node === undefined) return buildInfo(this.own);
    const info = this.#nodes.get(node)?.info?.();
    if (!info) throw new StanzaError(`no disco#info node ${node}`, { condition: 'item-not-found' });
    return buildInfo({ ...info, node });
  }

  #answerItems(q: Element): Element {
    const node = q.attr('node');
    if (node === undefined) return buildItems({ items: this.#items });
    const items = this.#nodes.get(node)?.items?.();
    if (!items) throw new StanzaError(`no disco#items node ${node}`, { condition: 'item-not-found' });
    return buildItems({ node, items });
  }
}

/**
 * Our server's JID. An iq without `to` is answered by the server *for our account*
 * (RFC 6120 10.3.3): disco of the bare JID (PEP, account identity), not of the server.
 */
export function serverOf(client: Pick<FeatureClient, 'jid'>): string | undefined {
  return client.jid ? domainOf(client.jid) : undefined;
}

/** RFC 4790 i;octet: compare UTF-8 bytes (XEP-0115 requires it for sorting). */
export function octetCompare(a: string, b: string): number {
  if (a === b) return 0;
  const ea = UTF8.encode(a);
  const eb = UTF8.encode(b);
  const n = Math.min(ea.length, eb.length);
  for (let i = 0; i < n; i++) if (ea[i] !== eb[i]) return ea[i]! - eb[i]!;
  return ea.length - eb.length;
}
const UTF8 = new TextEncoder();
