/**
 * XEP-0144 1.1 "Roster Item Exchange" (`http://jabber.org/protocol/rosterx`): items with an
 * action (add, delete, modify; default add), jid, name and groups. The legacy form the seed
 * describes (`jabber:x:roster`, XEP-0144 9 "Backwards compatibility") has the same items
 * without action: read it too (as `add`). The items are only suggestions: XEP-0144 7 says a
 * receiver SHOULD ask the user (or trust only known senders) before changing its roster,
 * so this library parses and emits them and never applies them by itself.
 */
import type { ElementSpec, Infer } from './schema.ts';

export const NS_ROSTERX = 'http://jabber.org/protocol/rosterx';
export const NS_LEGACY_ROSTER = 'jabber:x:roster';
export const RIE_ACTIONS = ['add', 'delete', 'modify'] as const;

/** The item, in whichever namespace its parent has. */
export const RIE_ITEM = {
  name: 'item',
  attrs: { action: RIE_ACTIONS, jid: 'jid', name: 'string' },
  children: { group: { kind: 'text', name: 'group', many: true } },
} as const satisfies ElementSpec;

export const X_ROSTERX = {
  name: 'x',
  ns: NS_ROSTERX,
  children: { item: { kind: 'element', spec: RIE_ITEM, many: true } },
} as const satisfies ElementSpec;

export const X_LEGACY_ROSTER = { ...X_ROSTERX, ns: NS_LEGACY_ROSTER } as const satisfies ElementSpec;

export type RieItemElement = Infer<typeof RIE_ITEM>;
export type RieAction = (typeof RIE_ACTIONS)[number];
