/**
 * XEP-0184 1.4 "Message Delivery Receipts" (`urn:xmpp:receipts`): `<request/>` on a message
 * with an id; `<received id/>` in the answer.
 */
import type { ElementSpec } from './schema.ts';

export const NS_RECEIPTS = 'urn:xmpp:receipts';

export const RECEIPT_REQUEST = { name: 'request', ns: NS_RECEIPTS } as const satisfies ElementSpec;
export const RECEIPT_RECEIVED = {
  name: 'received',
  ns: NS_RECEIPTS,
  attrs: { id: 'string' },
} as const satisfies ElementSpec;
