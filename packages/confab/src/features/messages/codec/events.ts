/**
 * XEP-0022 1.4 "Message Events" (`jabber:x:event`, obsolete, the seed's "return receipts").
 * A request is `<x><offline/><delivered/>...</x>` on a message with a body and an id; a
 * notification is a bodyless message whose `<x>` holds one event and `<id>` naming the
 * message it is about; `<x><id/></x>` with no event cancels a composing notification
 * (XEP-0022 4.4). Events: offline (the server's business), delivered, displayed, composing.
 */
import type { ElementSpec, Infer } from './schema.ts';

export const NS_EVENT = 'jabber:x:event';
export const LEGACY_EVENTS = ['offline', 'delivered', 'displayed', 'composing'] as const;
export type LegacyEvent = (typeof LEGACY_EVENTS)[number];

export const X_EVENT = {
  name: 'x',
  ns: NS_EVENT,
  children: {
    offline: { kind: 'flag', name: 'offline' },
    delivered: { kind: 'flag', name: 'delivered' },
    displayed: { kind: 'flag', name: 'displayed' },
    composing: { kind: 'flag', name: 'composing' },
    id: { kind: 'text', name: 'id' },
  },
} as const satisfies ElementSpec;

export type XEvent = Infer<typeof X_EVENT>;
