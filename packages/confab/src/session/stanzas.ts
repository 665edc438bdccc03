/**
 * The minimal message and presence codecs the session needs for the echo bot and
 * for initial/unavailable presence (RFC 6121 sections 4.7 "Presence Syntax" and
 * 5.2 "Message Syntax"; `<thread/>` 5.2.5). The messaging and presence features
 * (features/messaging, features/presence, a later issue) grow these; this file
 * stays the small common core.
 */
import { type Jid, tryJid } from '../jid.ts';
import { type Element, xml } from '../xml/element.ts';
import { randomId } from './iq.ts';

/** RFC 6121 5.2.2 message types; anything else is treated as `normal`. */
export type MessageType = 'chat' | 'error' | 'groupchat' | 'headline' | 'normal';

/** An inbound message, as the `message` event delivers it. */
export interface Message {
  /** Sender. For a message from our own server or account without `from`, our bare JID. */
  from: Jid;
  to: Jid | undefined;
  id: string | undefined;
  type: MessageType;
  body: string | undefined;
  subject: string | undefined;
  /** Conversation thread (RFC 6121 5.2.5): echo it in a reply to stay in the conversation. */
  thread: string | undefined;
  /** The whole stanza, for extensions. */
  element: Element;
}

/** What `client.messages.send` takes. */
export interface OutgoingMessage {
  to: string;
  body?: string | undefined;
  /** Default `chat`. */
  type?: MessageType | undefined;
  thread?: string | undefined;
  subject?: string | undefined;
  /** Default: a fresh random id. */
  id?: string | undefined;
}

const MESSAGE_TYPES = new Set(['chat', 'error', 'groupchat', 'headline', 'normal']);

/** Read a `<message/>`; `self` stands in for a missing `from`. */
export function parseMessage(el: Element, self: Jid): Message {
  const t = el.attr('type') ?? 'normal';
  return {
    from: tryJid(el.attr('from')) ?? self,
    to: tryJid(el.attr('to')),
    id: el.attr('id'),
    type: (MESSAGE_TYPES.has(t) ? t : 'normal') as MessageType,
    body: el.getChildText('body'),
    subject: el.getChildText('subject'),
    thread: el.getChildText('thread'),
    element: el,
  };
}

/** Build a `<message/>`. */
export function buildMessage(m: OutgoingMessage): Element {
  return xml(
    'message',
    { to: m.to, type: m.type ?? 'chat', id: m.id ?? randomId() },
    m.subject !== undefined ? xml('subject', {}, m.subject) : null,
    m.body !== undefined ? xml('body', {}, m.body) : null,
    m.thread !== undefined ? xml('thread', {}, m.thread) : null,
  );
}

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
