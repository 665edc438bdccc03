/**
 * Personal eventing: XEP-0163 "Personal Eventing Protocol" v1.2.2 (on XEP-0060
 * v1.30.0): publish to our own account's nodes, read anyone's, and receive the
 * notifications of the nodes we are interested in (`interest(node)` announces
 * `node+notify` through disco, hence XEP-0115 caps, which is how PEP services
 * decide whom to notify: XEP-0163 4.3.1 "filtered notifications").
 *
 * Trust (the rule security tests check): an event comes from the account whose
 * PEP service sent it, and that is the message's `from`, nothing else (not an
 * item's `publisher`, not an `<addresses/>` replyto). A PEP service is a bare JID:
 * an event from a full JID (another client, even another resource of ours) is
 * dropped. No `from` means our own server on our account's behalf, so it is ours.
 * So a forged event "about our account" sent by someone else is, at worst, that
 * someone's own event; it never changes what we believe about us.
 *
 * Depends on: disco (the +notify features), the client's `iq`, inbound stanzas.
 */
import { Emitter } from '../../events.ts';
import { type BareJid, bare, isBare, tryJid } from '../../jid.ts';
import type { IqRequestOptions } from '../../session/iq.ts';
import type { Element } from '../../xml/element.ts';
import type { Disco, FeatureClient } from '../disco/disco.ts';
import {
  buildItemsRequest,
  buildPublish,
  buildRetract,
  type PublishOptions,
  type PubsubItem,
  parseEvent,
  parseItemsResult,
  parsePublishResult,
} from './codec.ts';

/** An item published (or re-sent as the last item) on someone's node. */
export interface PepItemEvent {
  /** The publishing account (bare JID): the PEP service that sent the event. */
  from: BareJid;
  /** True when it is our own account's node (another resource of ours published). */
  own: boolean;
  node: string;
  id: string | undefined;
  payload: Element | undefined;
  /** The whole message (XEP-0203 delay for a last item re-sent on login, ...). */
  element: Element;
}

export interface PepRetractEvent {
  from: BareJid;
  own: boolean;
  node: string;
  id: string;
}

export interface PepEvents {
  item: PepItemEvent;
  retract: PepRetractEvent;
  /** The node was purged or deleted: forget everything it held. */
  purge: { from: BareJid; own: boolean; node: string };
}

export interface PepOptions {
  client: FeatureClient;
  disco: Disco;
  log?: ((line: string) => void) | undefined;
}

/**
 * @example
 * const pep = new Pep({ client, disco });
 * pep.interest('urn:xmpp:example:mood'); // announce urn:xmpp:example:mood+notify
 * pep.on('item', (e) => { if (e.node === 'urn:xmpp:example:mood') show(e.from, e.payload) });
 * await pep.publish('urn:xmpp:example:mood', xml('mood', { xmlns: 'urn:xmpp:example:mood' }, 'happy'));
 */
export class Pep {
  static readonly feature = 'pep';
  static readonly dependencies = ['disco'] as const;
  readonly #client: FeatureClient;
  readonly #disco: Disco;
  readonly #log: (line: string) => void;
  readonly #events = new Emitter<PepEvents>();
  readonly #teardown: Array<() => void> = [];

  constructor(o: PepOptions) {
    this.#client = o.client;
    this.#disco = o.disco;
    this.#log = o.log ?? (() => {});
    this.#teardown.push(
      this.#client.on('stanza', (el) => {
        if (el.name === 'message') this.#message(el);
      }),
    );
  }

  /** Ask for notifications of `node` from our contacts (adds `node+notify` to our caps). Returns the teardown. */
  interest(node: string): () => void {
    return this.#disco.addFeature(`${node}+notify`);
  }

  /**
   * Publish `payload` as an item of our node (created on first publish, XEP-0163
   * 3). Resolves with the item id (ours, or the one the service assigned).
   */
  async publish(
    node: string,
    payload: Element,
    o: { id?: string | undefined; options?: PublishOptions | undefined } & IqRequestOptions = {},
  ): Promise<string | undefined> {
    const r = await this.#client.iq(
      { type: 'set', payload: buildPublish(node, payload, o.id, o.options) },
      o,
    );
    return parsePublishResult(r) ?? o.id;
  }

  /** Retract an item of our node (XEP-0060 7.2), notifying subscribers. */
  async retract(node: string, id: string, options?: IqRequestOptions): Promise<void> {
    await this.#client.iq({ type: 'set', payload: buildRetract(node, id) }, options);
  }

  /** Read items of `jid`'s node (ours without `jid`): these ids, or the newest `max`. */
  async items(
    jid: string | undefined,
    node: string,
    o: { ids?: readonly string[] | undefined; max?: number | undefined } & IqRequestOptions = {},
  ): Promise<PubsubItem[]> {
    const to = jid === undefined ? undefined : bare(jidOrThrow(jid));
    const r = await this.#client.iq({ type: 'get', to, payload: buildItemsRequest(node, o.ids, o.max) }, o);
    return parseItemsResult(r);
  }

  on<K extends keyof PepEvents>(event: K, listener: (e: PepEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  destroy(): void {
    for (const t of this.#teardown.splice(0)) t();
    this.#events.clear();
  }

  #message(el: Element): void {
    if (el.attr('type') === 'error') return;
    const event = parseEvent(el);
    if (!event) return;
    const self = this.#client.jid ? bare(this.#client.jid) : undefined;
    const fromAttr = el.attr('from');
    const from = fromAttr === undefined ? self : tryJid(fromAttr);
    if (!from || !self) return;
    if (!isBare(from)) {
      this.#log(`pep: dropped an event from ${from}: a PEP service is a bare JID`);
      return;
    }
    const own = from === self;
    if (event.kind === 'items') {
      for (const item of event.items) {
        this.#events.emit('item', {
          from,
          own,
          node: event.node,
          id: item.id,
          payload: item.payload,
          element: el,
        });
      }
      for (const id of event.retracted) this.#events.emit('retract', { from, own, node: event.node, id });
    } else {
      this.#events.emit('purge', { from, own, node: event.node });
    }
  }
}

function jidOrThrow(s: string) {
  const j = tryJid(s);
  if (!j) throw new TypeError(`Invalid JID '${s}'`);
  return j;
}
