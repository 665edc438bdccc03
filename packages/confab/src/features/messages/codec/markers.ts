/**
 * XEP-0333 0.4 "Displayed Markers" (`urn:xmpp:chat-markers:0`): `<markable/>` on a message
 * asks for markers; `<received/>`, `<displayed/>`, `<acknowledged/>` carry the id of the
 * marked message (its `id` one-to-one; the room's stanza-id in a group chat, 0.4 4) and,
 * optionally, its thread. Markers are only sent for markable messages (0.4 5).
 */
import type { ElementSpec, Infer } from './schema.ts';

export const NS_MARKERS = 'urn:xmpp:chat-markers:0';
export const MARKER_TYPES = ['received', 'displayed', 'acknowledged'] as const;
export type MarkerType = (typeof MARKER_TYPES)[number];

export const MARKABLE = { name: 'markable', ns: NS_MARKERS } as const satisfies ElementSpec;
const marker = <N extends MarkerType>(name: N) =>
  ({ name, ns: NS_MARKERS, attrs: { id: 'string', thread: 'string' } }) as const satisfies ElementSpec;
export const MARKERS = {
  received: marker('received'),
  displayed: marker('displayed'),
  acknowledged: marker('acknowledged'),
} as const;

export type MarkerElement = Infer<ReturnType<typeof marker>>;
