/**
 * Delayed delivery: when a message was originally sent.
 * - XEP-0203 2.0 "Delayed Delivery" (`urn:xmpp:delay`): read and written.
 * - XEP-0091 1.4 "Legacy Delayed Delivery" (`jabber:x:delay`, obsolete): read only (the
 *   seed's servers stamped offline messages with it: `stamp='20020910T23:08:25'`, UTC).
 * When both are present XEP-0203 wins (XEP-0091 4: the modern form is authoritative).
 */
import type { Jid } from '../../../jid.ts';
import type { Element } from '../../../xml/element.ts';
import { type ElementSpec, type Infer, readChild, write } from './schema.ts';

export const NS_DELAY = 'urn:xmpp:delay';
export const NS_LEGACY_DELAY = 'jabber:x:delay';

export const DELAY = {
  name: 'delay',
  ns: NS_DELAY,
  attrs: { stamp: 'date', from: 'jid' },
  text: 'string',
} as const satisfies ElementSpec;

export const LEGACY_DELAY = {
  name: 'x',
  ns: NS_LEGACY_DELAY,
  attrs: { stamp: 'legacy-date', from: 'jid' },
  text: 'string',
} as const satisfies ElementSpec;

export type DelayElement = Infer<typeof DELAY>;

/** When and by whom a message was delayed. */
export interface Delay {
  stamp: Date;
  /** Who delayed it (usually our server, for offline storage), when said. */
  from: Jid | undefined;
  reason: string | undefined;
  /** True when only the legacy XEP-0091 form was present. */
  legacy: boolean;
}

/** Read the delay of a stanza (XEP-0203 first, then XEP-0091). */
export function readDelay(el: Element): Delay | undefined {
  const d = readChild(DELAY, el);
  if (d?.stamp) return { stamp: d.stamp, from: d.from, reason: d.text, legacy: false };
  const l = readChild(LEGACY_DELAY, el);
  if (l?.stamp) return { stamp: l.stamp, from: l.from, reason: l.text, legacy: true };
  return undefined;
}

/** Write XEP-0203 only (XEP-0091 is obsolete). */
export function delayElement(stamp: Date, from?: string, reason?: string): Element {
  return write(DELAY, { stamp, from: from as Jid | undefined, text: reason });
}
