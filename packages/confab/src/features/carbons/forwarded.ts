/**
 * Stanza forwarding: XEP-0297 "Stanza Forwarding" v1.0 (`urn:xmpp:forward:0`), the
 * envelope carbons (XEP-0280) and archive results (XEP-0313) both use, with the
 * XEP-0203 v2.0 delay inside it (the time the forwarding entity first saw the stanza).
 *
 * Only reading: confab never forwards on its own. The delay reader is the presence
 * codec's (XEP-0203 first, legacy XEP-0091 as a fallback).
 */
import { NS_CLIENT } from '../../session/ns.ts';
import type { Element } from '../../xml/element.ts';
import { type Delay, readDelay } from '../presence/codec.ts';

export const NS_FORWARD = 'urn:xmpp:forward:0';

/** What a `<forwarded/>` holds. */
export interface Forwarded {
  /** The forwarded `<message/>` (in jabber:client), as sent by its original sender. */
  message: Element;
  /** When the forwarding entity received it (XEP-0297 2: the delay is a child of `<forwarded/>`). */
  delay: Delay | undefined;
}

/**
 * Read the `<forwarded xmlns='urn:xmpp:forward:0'>` child of `parent`. Undefined when
 * there is none or it does not hold exactly one jabber:client `<message/>` (a wrapper
 * around presence or iq is not a message copy, whatever it claims).
 */
export function readForwarded(parent: Element): Forwarded | undefined {
  const fwd = parent.getChild('forwarded', NS_FORWARD);
  if (!fwd) return undefined;
  const stanzas = fwd.elements().filter((c) => c.xmlns === NS_CLIENT);
  const message = stanzas[0];
  if (stanzas.length !== 1 || !message || message.name !== 'message') return undefined;
  return { message, delay: readDelay(fwd) };
}

/**
 * Where a copy came from, in the messages feature's `ingest` vocabulary (the live,
 * offline copies come from the plain message path, not from here).
 */
export type ForwardSource = 'carbon-sent' | 'carbon-received' | 'archive';

/** Everything known about a forwarded copy besides the message itself. */
export interface ForwardedMeta {
  source: ForwardSource;
  /** The envelope's delay: for archive results, when the archive stored the message. */
  delay: Delay | undefined;
  /** Archive results: the archive's id of this message (XEP-0313 `<result id>`, = its stanza-id). */
  archiveId?: string | undefined;
  /** Archive results: the `queryid` of the query it answers. */
  queryId?: string | undefined;
  /**
   * Archive results: whose archive (our bare JID, or a room's). Carbons: our bare JID
   * (the wrapper's verified `from`).
   */
  archive?: string | undefined;
  /** Archive results: 'catch-up' (the reconnect sync) or 'query' (an app's history query). */
  purpose?: 'catch-up' | 'query' | undefined;
  /** The wrapper stanza (carbon `<message>` or archive `<message><result>`). */
  wrapper: Element;
}

/**
 * Receives each verified forwarded message, in wire order. The messages feature's
 * `ingest(inner, { source, ... })` fits here. May return a promise: MAM waits for a
 * page's promises before it records that page as seen, so a crash in between
 * re-fetches rather than loses.
 */
export type OnForwarded = (inner: Element, meta: ForwardedMeta) => void | Promise<void>;
