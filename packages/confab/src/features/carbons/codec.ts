/**
 * Wire format of Message Carbons: XEP-0280 v1.0.1 (`urn:xmpp:carbons:2`), with the
 * XEP-0334 v0.3 `<no-copy/>` hint sent along with `<private/>` (XEP-0280 1.0 7: servers
 * that predate `<private/>` understand the hint), and the wrapper's XEP-0297 envelope.
 *
 * The trust rule lives here as data the behaviour uses (`carbonOrigin`): a wrapper
 * is a carbon only when its `from` is the account's bare JID (XEP-0280 11). The codec
 * only reads; carbons.ts decides.
 */
import { type BareJid, bare, equalJid, isFull, tryJid } from '../../jid.ts';
import { type Element, xml } from '../../xml/element.ts';
import { type Forwarded, readForwarded } from './forwarded.ts';

export const NS_CARBONS = 'urn:xmpp:carbons:2';
/** XEP-0280 1.0: servers applying the eligibility rules of that version announce this too. */
export const NS_CARBONS_RULES = 'urn:xmpp:carbons:rules:0';
export const NS_HINTS = 'urn:xmpp:hints';

/** Which copy: one the account received elsewhere, or one another of its resources sent. */
export type CarbonDirection = 'received' | 'sent';

/** A `<message>` holding `<received/>` or `<sent/>`, read but not yet trusted. */
export interface CarbonWrapper {
  direction: CarbonDirection;
  /** The wrapper's `from` as sent (undefined when absent). */
  from: string | undefined;
  /** The forwarded message and its delay; undefined when the envelope is malformed. */
  forwarded: Forwarded | undefined;
}

/** `<enable/>` (XEP-0280 4). */
export function enableElement(): Element {
  return xml('enable', { xmlns: NS_CARBONS });
}

/** `<disable/>` (XEP-0280 5). */
export function disableElement(): Element {
  return xml('disable', { xmlns: NS_CARBONS });
}

/**
 * Read a carbon wrapper: a jabber:client `<message>` with a `<received/>` or `<sent/>`
 * child in `urn:xmpp:carbons:2`. Undefined for anything else (including a message
 * that merely carries `<private/>`).
 */
export function readCarbon(el: Element): CarbonWrapper | undefined {
  if (el.name !== 'message') return undefined;
  for (const c of el.children) {
    if (typeof c === 'string' || c.xmlns !== NS_CARBONS) continue;
    if (c.name === 'received' || c.name === 'sent') {
      return { direction: c.name, from: el.attr('from'), forwarded: readForwarded(c) };
    }
  }
  return undefined;
}

/** Why a wrapper is not believed. */
export type CarbonRejection =
  /** `from` is not our bare JID: another account, our own full JID, or missing. */
  | 'not-from-own-bare-jid'
  /** No `<forwarded/>` with exactly one message in it. */
  | 'malformed'
  /** A "sent" copy whose inner sender, or a "received" copy whose inner recipient, is another account. */
  | 'inner-not-ours';

/**
 * Decide whether a wrapper is a genuine carbon for the account `self`. XEP-0280 11:
 * "Any forwarded copies received by a Carbons-enabled client MUST be from that user's
 * bare JID; any copies that do not meet this requirement MUST be ignored." A full JID
 * of our own is refused too (it is a resource talking, not the server on behalf of the
 * account: the CVE-2017-5589 family of bugs accepted anything "from us"). A missing
 * `from` is refused as well: servers always stamp carbons, so a wrapper without one is
 * not what XEP-0280 describes.
 *
 * Beyond the XEP: the inner message must belong to the account, i.e. a sent copy's
 * inner `from` (when present) and a received copy's inner `to` (when present) have our
 * bare JID. A server would never produce anything else.
 */
export function carbonOrigin(w: CarbonWrapper, self: BareJid): CarbonRejection | undefined {
  if (w.from === undefined || !sameBare(w.from, self, true)) return 'not-from-own-bare-jid';
  if (!w.forwarded) return 'malformed';
  const inner = w.forwarded.message;
  const party = w.direction === 'sent' ? inner.attr('from') : inner.attr('to');
  if (party !== undefined && !sameBare(party, self, false)) return 'inner-not-ours';
  return undefined;
}

/**
 * Mark an outgoing message as not to be copied to our other resources (XEP-0280 7),
 * with the XEP-0334 `<no-copy/>` hint. Mutates and returns `message`; idempotent.
 */
export function markPrivate(message: Element): Element {
  if (!message.getChild('private', NS_CARBONS)) message.append(xml('private', { xmlns: NS_CARBONS }));
  if (!message.getChild('no-copy', NS_HINTS)) message.append(xml('no-copy', { xmlns: NS_HINTS }));
  return message;
}

/** True when `j` is `self` (exactly: `bareOnly`) or a resource of it. Malformed: false. */
function sameBare(j: string, self: BareJid, bareOnly: boolean): boolean {
  const n = tryJid(j);
  if (n === undefined || (bareOnly && isFull(n))) return false;
  return equalJid(bare(n), self);
}
