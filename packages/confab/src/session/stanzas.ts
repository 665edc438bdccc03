/**
 * The minimal presence codec the session needs for initial/unavailable presence
 * (RFC 6121 4.7 "Presence Syntax"), and the message types re-exported from
 * features/messages (RFC 6121 5.2 "Message Syntax" lives there now).
 */
import { type Jid, tryJid } from '../jid.ts';
import type { Element } from '../xml/element.ts';

// Messages moved to features/messages (codec.ts: the model; messages.ts: behaviour).
// Re-exported here so the session's public types keep their names and paths.
export type { Message, MessageType, OutgoingMessage } from '../features/messages/codec.ts';
export { buildMessage, parseMessage } from '../features/messages/codec.ts';

/** RFC 6121 4.7.2.1 `show`. */
export type PresenceShow = 'away' | 'chat' | 'dnd' | 'xa';
/** RFC 6121 4.7.1 presence types; `available` stands for no type attribute. */
export type PresenceType =
  | 'available'
  | 'unavailable'
  | 'subscribe'
  | 'subscribed'
  | 'unsubscribe'
  | 'unsubscribed'
  | 'probe'
  | 'error';

/** An inbound presence, as the `presence` event delivers it. */
export interface Presence {
  from: Jid;
  type: PresenceType;
  show: PresenceShow | undefined;
  status: string | undefined;
  priority: number;
  element: Element;
}

const SHOWS = new Set(['away', 'chat', 'dnd', 'xa']);

/** Read a `<presence/>`; `self` stands in for a missing `from`. */
export function parsePresence(el: Element, self: Jid): Presence {
  const show = el.getChildText('show')?.trim();
  const prio = Number.parseInt(el.getChildText('priority') ?? '0', 10);
  return {
    from: tryJid(el.attr('from')) ?? self,
    type: (el.attr('type') ?? 'available') as PresenceType,
    show: show !== undefined && SHOWS.has(show) ? (show as PresenceShow) : undefined,
    status: el.getChildText('status'),
    priority: Number.isFinite(prio) && prio >= -128 && prio <= 127 ? prio : 0,
    element: el,
  };
}
