/**
 * XEP-0085 2.1 "Chat State Notifications" (`http://jabber.org/protocol/chatstates`): one of
 * five empty elements. Declared as one spec per state, so reading is "the first child that
 * is one of them".
 */
import type { Element } from '../../../xml/element.ts';
import { type ElementSpec, matches, write } from './schema.ts';

export const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
export const CHAT_STATES = ['active', 'composing', 'paused', 'inactive', 'gone'] as const;
export type ChatState = (typeof CHAT_STATES)[number];

export const CHAT_STATE_SPECS: Record<ChatState, ElementSpec> = Object.fromEntries(
  CHAT_STATES.map((s) => [s, { name: s, ns: NS_CHATSTATES }]),
) as Record<ChatState, ElementSpec>;

export function readChatState(el: Element): ChatState | undefined {
  for (const c of el.elements()) {
    if (c.xmlns !== NS_CHATSTATES) continue;
    const s = CHAT_STATES.find((x) => matches(CHAT_STATE_SPECS[x], c));
    if (s) return s;
  }
  return undefined;
}

export function chatStateElement(state: ChatState): Element {
  return write(CHAT_STATE_SPECS[state], {});
}
