/**
 * XEP-0424 0.4 "Message Retraction" (`urn:xmpp:message-retract:1`: `<retract id/>` naming
 * the origin-id of the message) with the XEP-0428 0.2 "Fallback Indication" body for
 * clients that do not know it, and the XEP-0334 `<store/>` hint so archives keep it.
 * Read also: 0.3's `<apply-to xmlns='urn:xmpp:fasten:0' id><retract xmlns='urn:xmpp:message-retract:0'/>`
 * (XEP-0422 fastening), still sent by older clients.
 */
import type { ElementSpec } from './schema.ts';

export const NS_RETRACT = 'urn:xmpp:message-retract:1';
export const NS_RETRACT_0 = 'urn:xmpp:message-retract:0';
export const NS_FASTEN = 'urn:xmpp:fasten:0';
export const NS_FALLBACK = 'urn:xmpp:fallback:0';
export const NS_HINTS = 'urn:xmpp:hints';

export const RETRACT = {
  name: 'retract',
  ns: NS_RETRACT,
  attrs: { id: 'string' },
} as const satisfies ElementSpec;
export const APPLY_TO_RETRACT = {
  name: 'apply-to',
  ns: NS_FASTEN,
  attrs: { id: 'string' },
  children: { retract: { kind: 'element', spec: { name: 'retract', ns: NS_RETRACT_0 } } },
} as const satisfies ElementSpec;
export const FALLBACK = {
  name: 'fallback',
  ns: NS_FALLBACK,
  attrs: { for: 'string' },
} as const satisfies ElementSpec;
/** XEP-0334 1.0 hints: `store` (archive this bodyless message), `no-store`, `no-copy`, `no-permanent-store`. */
export const STORE_HINT = { name: 'store', ns: NS_HINTS } as const satisfies ElementSpec;
export const NO_STORE_HINT = { name: 'no-store', ns: NS_HINTS } as const satisfies ElementSpec;

/** XEP-0424 example text for the fallback body. */
export const RETRACT_FALLBACK_BODY =
  "This person attempted to retract a previous message, but it's unsupported by your client.";
