/**
 * "Only from my buddies": the seed's mode that hides messages from strangers,
 * done client-side (servers have no such switch; XEP-0191 blocks named JIDs only).
 * The switch itself lives in private storage (XEP-0049 v1.2) under
 * `<prefs xmlns='urn:confab:prefs'><buddies-only>true</buddies-only></prefs>`, so
 * every client of the account shares it.
 *
 * What is dropped when on: inbound `chat` and `normal` messages (bodies, chat
 * states, receipts...) whose sender is not a buddy. Never dropped: anything from
 * our own account or server (carbons, server notices, PEP of ours), groupchat and
 * headline messages, errors (answers to what we sent), and pubsub events (they
 * come from PEP services we chose to hear). "Buddy" is the roster's call:
 * `isBuddy` is asked with the bare JID (and the full JID, so an app can allow a
 * joined room's private messages).
 */
import { bare, domainOf, type Jid, tryJid } from '../../jid.ts';
import type { IqRequestOptions } from '../../session/iq.ts';
import type { Element } from '../../xml/element.ts';
import type { FeatureClient } from '../disco/disco.ts';
import type { PrivateStorage } from '../private/private.ts';
import { buildPrefs, NS_PREFS, parsePrefs } from './codec.ts';

export interface BuddiesOnlyFilterOptions {
  /** True for a contact in the roster with a subscription (to, from or both). */
  isBuddy(jid: Jid): boolean;
  /** Whether the mode is on now (default: always on). */
  enabled?: (() => boolean) | undefined;
  /** Our own JID now (messages from our account/server always pass). */
  self(): Jid | undefined;
}

const PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';

/**
 * A stanza filter for the inbound pipeline: returns true to keep the stanza,
 * false to drop it. Non-message stanzas are always kept.
 *
 * @example
 * const keep = createBuddiesOnlyFilter({ isBuddy: (j) => roster.hasSubscription(j), self: () => client.jid });
 */
export function createBuddiesOnlyFilter(o: BuddiesOnlyFilterOptions): (stanza: Element) => boolean {
  return (stanza) => {
    if (stanza.name !== 'message') return true;
    if (o.enabled && !o.enabled()) return true;
    const type = stanza.attr('type') ?? 'normal';
    if (type !== 'chat' && type !== 'normal') return true;
    if (stanza.getChild('event', PUBSUB_EVENT)) return true;
    const fromAttr = stanza.attr('from');
    if (fromAttr === undefined) return true;
    const from = tryJid(fromAttr);
    if (!from) return false;
    const self = o.self();
    if (self && (bare(from) === bare(self) || from === domainOf(self))) return true;
    return o.isBuddy(bare(from)) || o.isBuddy(from);
  };
}

/**
 * The buddies-only switch, loaded from and saved to private storage.
 *
 * @example
 * const mode = new BuddiesOnly({ storage, client, isBuddy });
 * await mode.load();
 * await mode.set(true);
 * client pipeline: if (!mode.accept(stanza)) drop it
 */
export class BuddiesOnly {
  static readonly feature = 'buddies-only';
  static readonly dependencies = ['private'] as const;
  readonly #storage: PrivateStorage;
  #enabled = false;
  #rest: Element[] = [];
  /** Keep (true) or drop (false) an inbound stanza under the current setting. */
  readonly accept: (stanza: Element) => boolean;

  constructor(o: {
    storage: PrivateStorage;
    client: Pick<FeatureClient, 'jid'>;
    isBuddy(jid: Jid): boolean;
  }) {
    this.#storage = o.storage;
    this.accept = createBuddiesOnlyFilter({
      isBuddy: o.isBuddy,
      enabled: () => this.#enabled,
      self: () => o.client.jid,
    });
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** Read the setting from private storage (off when never set). */
  async load(options?: IqRequestOptions): Promise<boolean> {
    const { prefs, rest } = parsePrefs(await this.#storage.get('prefs', NS_PREFS, options));
    this.#rest = rest;
    this.#enabled = prefs['buddies-only'] === true;
    return this.#enabled;
  }

  /** Switch the mode and save it (other preferences in the same element are kept). */
  async set(on: boolean, options?: IqRequestOptions): Promise<void> {
    const current = parsePrefs(await this.#storage.get('prefs', NS_PREFS, options));
    this.#rest = current.rest;
    await this.#storage.set(buildPrefs({ ...current.prefs, 'buddies-only': on }, this.#rest), options);
    this.#enabled = on;
  }
}
