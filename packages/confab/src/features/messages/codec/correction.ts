/**
 * XEP-0308 1.2 "Last Message Correction" (`urn:xmpp:message-correct:0`): `<replace id/>`
 * names the id of the ORIGINAL message (also for a second correction, XEP-0308 4).
 * Business rule (XEP-0308 5): applied only when it comes from the original's sender
 * (same bare JID one-to-one, same full JID in a room).
 */
import type { ElementSpec } from './schema.ts';

export const NS_CORRECT = 'urn:xmpp:message-correct:0';

export const REPLACE = {
  name: 'replace',
  ns: NS_CORRECT,
  attrs: { id: 'string' },
} as const satisfies ElementSpec;
