/**
 * XEP-0023 1.3 "Message Expiration" (`jabber:x:expire`, deprecated): `seconds` of life;
 * `stored` (seconds since the epoch) when a store-and-forward agent kept it. No server we
 * test expires messages for the client (ejabberd's mod_offline does drop expired offline
 * messages; Prosody keeps them), so the client does it: XEP-0023 3.1 "Usage in client space".
 */
import type { ElementSpec } from './schema.ts';

export const NS_EXPIRE = 'jabber:x:expire';

export const X_EXPIRE = {
  name: 'x',
  ns: NS_EXPIRE,
  attrs: { seconds: 'int', stored: 'int' },
} as const satisfies ElementSpec;
