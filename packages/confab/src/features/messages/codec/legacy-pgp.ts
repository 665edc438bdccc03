/**
 * XEP-0027 1.4 "Current Jabber OpenPGP Usage" (obsolete): `jabber:x:encrypted` (an ASCII-armour
 * body without headers) and `jabber:x:signed`. Only the text is exposed; no cryptography
 * here (a later piece of work, with OpenPGP for XMPP and OMEMO).
 */
import type { ElementSpec } from './schema.ts';

export const NS_ENCRYPTED = 'jabber:x:encrypted';
export const NS_SIGNED = 'jabber:x:signed';

export const X_ENCRYPTED = { name: 'x', ns: NS_ENCRYPTED, text: 'string' } as const satisfies ElementSpec;
export const X_SIGNED = { name: 'x', ns: NS_SIGNED, text: 'string' } as const satisfies ElementSpec;
