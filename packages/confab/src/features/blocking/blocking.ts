/**
 * Blocking: XEP-0191 "Blocking Command" v1.3. Block, unblock (some or all), list,
 * and a local model of the blocklist kept current by the server's pushes (3.3,
 * 3.4, 3.5: pushes go only to resources that fetched the list, so `list()` is
 * what turns pushes on; call it after login, as 3.2 recommends).
 *
 * Trust: a push is accepted only from our own account (no `from`, or our bare
 * JID). Anyone else's "push" gets `service-unavailable`, exactly what an iq we do
 * not handle gets, and changes nothing.
 */
import { ConfabError, StanzaError } from '../../errors.ts';
import { Emitter } from '../../events.ts';
import { bare, equalJid, type Jid, tryJid } from '../../jid.ts';
import type { IqRequestOptions } from '../../session/iq.ts';
import type { IqRequest } from '../../session/pipeline.ts';
import type { FeatureClient } from '../disco/disco.ts';
import { buildBlocking, NS_BLOCKING, parseBlockingItems } from './codec.ts';

export interface BlockingEvents {
  /** The blocklist changed (our request or a push from another resource). `unblocked: 'all'` for unblock-all. */
  change: { blocked: Jid[]; unblocked: Jid[] | 'all'; list: Jid[]; push: boolean };
}

/**
 * @example
 * const blocking = new Blocking({ client });
 * await blocking.list();                  // also subscribes this resource to pushes
 * await blocking.block('spam@example.org');
 * blocking.isBlocked('spam@example.org'); // true
 */
export class Blocking {
  static readonly feature = 'blocking';
  readonly #client: FeatureClient;
  readonly #list = new Set<Jid>();
  readonly #events = new Emitter<BlockingEvents>();
  readonly #teardown: Array<() => void> = [];
  #loaded = false;

  constructor(o: { client: FeatureClient }) {
    this.#client = o.client;
    const push = (kind: 'block' | 'unblock') => (req: IqRequest) => {
      const self = this.#client.jid;
      if (req.from !== undefined && !(self && equalJid(req.from, bare(self)))) {
        throw new StanzaError(`blocking push from ${req.from}, not our account`, {
          condition: 'service-unavailable',
        });
      }
      const jids = parseBlockingItems(req.payload);
      if (kind === 'block') this.#apply(jids, [], true);
      else this.#apply([], jids.length === 0 ? 'all' : jids, true);
    };
    this.#teardown.push(
      this.#client.handleIq('set', NS_BLOCKING, 'block', push('block')),
      this.#client.handleIq('set', NS_BLOCKING, 'unblock', push('unblock')),
    );
  }

  /** Fetch the blocklist from the server (and receive pushes from now on). */
  async list(options?: IqRequestOptions): Promise<Jid[]> {
    const r = await this.#client.iq({ type: 'get', payload: buildBlocking('blocklist') }, options);
    const el = r.getChild('blocklist', NS_BLOCKING);
    this.#list.clear();
    for (const j of el ? parseBlockingItems(el) : []) this.#list.add(j);
    this.#loaded = true;
    return [...this.#list];
  }

  /** Block one or more JIDs (bare, full or domain). */
  async block(jids: string | readonly string[], options?: IqRequestOptions): Promise<void> {
    const list = normalise(jids);
    if (list.length === 0) return;
    await this.#client.iq({ type: 'set', payload: buildBlocking('block', list) }, options);
    this.#apply(list, [], false);
  }

  /** Unblock some JIDs; with none, unblock everyone (3.5). */
  async unblock(jids?: string | readonly string[], options?: IqRequestOptions): Promise<void> {
    const list = jids === undefined ? [] : normalise(jids);
    if (jids !== undefined && list.length === 0) return;
    await this.#client.iq({ type: 'set', payload: buildBlocking('unblock', list) }, options);
    this.#apply([], list.length === 0 ? 'all' : list, false);
  }

  /** The blocklist as we know it (after `list()` and the pushes since). */
  get blocked(): Jid[] {
    return [...this.#list];
  }

  /** Whether `list()` ran (pushes only reach us after it). */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** True when the JID, its bare JID or its domain is blocked (the server's matching, 3.3). */
  isBlocked(jid: string): boolean {
    const j = tryJid(jid);
    if (!j) return false;
    const b = bare(j);
    const domain = b.includes('@') ? b.slice(b.indexOf('@') + 1) : b;
    return this.#list.has(j) || this.#list.has(b) || this.#list.has(domain as Jid);
  }

  on<K extends keyof BlockingEvents>(event: K, listener: (e: BlockingEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  destroy(): void {
    for (const t of this.#teardown.splice(0)) t();
    this.#events.clear();
  }

  #apply(blocked: Jid[], unblocked: Jid[] | 'all', push: boolean): void {
    if (unblocked === 'all') this.#list.clear();
    else for (const j of unblocked) this.#list.delete(j);
    for (const j of blocked) this.#list.add(j);
    this.#events.emit('change', { blocked, unblocked, list: [...this.#list], push });
  }
}

function normalise(jids: string | readonly string[]): Jid[] {
  const list = typeof jids === 'string' ? [jids] : jids;
  return list.map((s) => {
    const j = tryJid(s);
    if (!j) throw new ConfabError('ERR_BAD_INPUT', `Invalid JID '${s}'`);
    return j;
  });
}
