/**
 * XEP-0066 1.5 "Out of Band Data", message form (`jabber:x:oob`): `<url/>` and an optional
 * `<desc/>`; a message may carry several.
 */
import type { ElementSpec, Infer } from './schema.ts';

export const NS_OOB = 'jabber:x:oob';

export const X_OOB = {
  name: 'x',
  ns: NS_OOB,
  children: { url: { kind: 'text', name: 'url' }, desc: { kind: 'text', name: 'desc' } },
} as const satisfies ElementSpec;

export type OobElement = Infer<typeof X_OOB>;
