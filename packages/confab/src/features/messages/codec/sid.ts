/**
 * XEP-0359 0.7 "Unique and Stable Stanza IDs" (`urn:xmpp:sid:0`): `<origin-id/>` (set by
 * the sender: the outbox makes it equal to the message id) and `<stanza-id by/>` (set by
 * the archiving entity: our server for our archive, a MUC room for its messages).
 * XEP-0359 5 "Security Considerations": a stanza-id is only believed when its `by` is an
 * entity we trust to have set it (our own bare JID, or the room / archive we expect),
 * because servers only strip ids claiming to be their own; anyone can add others.
 */
import type { ElementSpec, Infer } from './schema.ts';

export const NS_SID = 'urn:xmpp:sid:0';

export const ORIGIN_ID = {
  name: 'origin-id',
  ns: NS_SID,
  attrs: { id: 'string' },
} as const satisfies ElementSpec;
export const STANZA_ID = {
  name: 'stanza-id',
  ns: NS_SID,
  attrs: { id: 'string', by: 'jid' },
} as const satisfies ElementSpec;

export type StanzaIdElement = Infer<typeof STANZA_ID>;
