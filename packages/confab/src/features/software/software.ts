/**
 * Software version (XEP-0092 v1.1), last activity (XEP-0012 v2.0) and entity time
 * (XEP-0202 v2.0): ask anyone, and answer about ourselves.
 *
 * Privacy defaults: our version answer carries name and version but no `os` unless
 * the app passes one (XEP-0092 7: it helps attackers); the idle time is answered
 * only to those `mayKnowPresence` allows (XEP-0012 4: last activity is presence
 * information; servers are supposed to filter, but nothing guarantees it), and
 * not at all when the app opts out with `idle: false`.
 *
 * Depends on: disco (features), the client's `iq` and `handleIq`.
 */
import { StanzaError } from '../../errors.ts';
import type { IqRequestOptions } from '../../session/iq.ts';
import { type Disco, type FeatureClient, serverOf } from '../disco/disco.ts';
import { broadcastKey, isUserAction, readIdle } from '../presence/codec.ts';
import {
  buildLast,
  buildTime,
  buildVersion,
  type EntityTime,
  type LastActivity,
  NS,
  parseLast,
  parseTime,
  parseVersion,
  type SoftwareVersion,
} from './codec.ts';
import { LIBRARY_VERSION } from './version.ts';

export interface SoftwareOptions {
  client: FeatureClient;
  disco: Disco;
  /** What we answer to jabber:iq:version. Default `{ name: 'confab', version: <library version> }`. */
  version?: SoftwareVersion | undefined;
  /**
   * Seconds since the user last did something (XEP-0012 4), or `false` to refuse
   * (service-unavailable). Default: seconds since the user's last action we can see
   * (`isUserAction`): a message with a body or subject, a change of broadcast presence, or
   * the idle time the app reported for auto-away (XEP-0319 `<idle since/>` on our presence).
   */
  idle?: (() => number) | false | undefined;
  /** Who may learn our idle time; default everyone the server routes to us. Wire to the roster (subscription from/both). */
  mayKnowPresence?: ((from: string | undefined) => boolean) | undefined;
  /** Our clock (tests). */
  now?: (() => Date) | undefined;
  /** Minutes east of UTC (tests). Default: the platform's time zone. */
  offsetMinutes?: (() => number) | undefined;
}

export const CONFAB_VERSION: SoftwareVersion = { name: 'confab', version: LIBRARY_VERSION };

/**
 * @example
 * const software = new Software({ client, disco });
 * const v = await software.version('example.org'); // { name: 'Prosody', version: '0.12.3' }
 * const up = await software.last('example.org');    // server uptime in seconds
 * const t = await software.time('juliet@example.com/balcony');
 */
export class Software {
  static readonly feature = 'software';
  static readonly dependencies = ['disco'] as const;
  readonly #client: FeatureClient;
  readonly #teardown: Array<() => void> = [];
  #lastActive: number;
  /** What our last broadcast presence said (a repeat of it is the library's, not the user's). */
  #lastBroadcast: string | undefined;

  constructor(o: SoftwareOptions) {
    this.#client = o.client;
    const now = o.now ?? (() => new Date());
    const offset = o.offsetMinutes ?? (() => -now().getTimezoneOffset() || 0); // never -0
    this.#lastActive = now().getTime();
    const info = o.version ?? CONFAB_VERSION;
    const idle =
      o.idle === false
        ? undefined
        : (o.idle ?? (() => Math.max(0, Math.floor((now().getTime() - this.#lastActive) / 1000))));
    const may = o.mayKnowPresence ?? (() => true);
    const c = this.#client;
    this.#teardown.push(
      o.disco.addFeature(NS.version, NS.time, ...(idle ? [NS.last] : [])),
      c.handleIq('get', NS.version, 'query', () => buildVersion(info)),
      c.handleIq('get', NS.time, 'time', () => buildTime({ utc: now(), offsetMinutes: offset() })),
      c.on('stanzaOut', (el) => {
        // "Interacted with the client" (XEP-0012 4), not what the library sends by itself.
        const t = now().getTime();
        if (el.name === 'presence') {
          const since = readIdle(el);
          // Auto-away says when the user was last seen (from the app's idle time, which also
          // sees what happens outside this client): that is the answer, never in the future.
          if (since) this.#lastActive = Math.min(since.getTime(), t);
        }
        const key = broadcastKey(el);
        const changed = key !== undefined && key !== this.#lastBroadcast;
        if (key !== undefined) this.#lastBroadcast = key;
        if (isUserAction(el, changed)) this.#lastActive = t;
      }),
    );
    if (idle) {
      this.#teardown.push(
        c.handleIq('get', NS.last, 'query', (req) => {
          if (!may(req.from))
            throw new StanzaError('not allowed to see our idle time', { condition: 'forbidden' });
          return buildLast({ seconds: idle() });
        }),
      );
    }
  }

  /** XEP-0092: the software an entity runs (default: our server). */
  async version(to?: string, options?: IqRequestOptions): Promise<SoftwareVersion> {
    const r = await this.#client.iq(
      { type: 'get', to: to ?? serverOf(this.#client), payload: buildVersion() },
      options,
    );
    return parseVersion(r.getChild('query', NS.version) ?? r);
  }

  /** XEP-0012: idle time (full JID), time since logout (bare JID) or uptime (server; the default). */
  async last(to?: string, options?: IqRequestOptions): Promise<LastActivity> {
    const r = await this.#client.iq(
      { type: 'get', to: to ?? serverOf(this.#client), payload: buildLast() },
      options,
    );
    return parseLast(r.getChild('query', NS.last) ?? r);
  }

  /** XEP-0202: an entity's clock and time zone (default: our server). */
  async time(to?: string, options?: IqRequestOptions): Promise<EntityTime> {
    const r = await this.#client.iq(
      { type: 'get', to: to ?? serverOf(this.#client), payload: buildTime() },
      options,
    );
    return parseTime(r.getChild('time', NS.time) ?? r);
  }

  destroy(): void {
    for (const t of this.#teardown.splice(0)) t();
  }
}
