/**
 * The message model: one inbound `<message/>` read into a typed object, and an outgoing
 * message built from options. Every extension is declared once in codec/*.ts (schema.ts
 * explains the declarations); this file composes them.
 *
 * Specs: RFC 6121 (March 2011) 5.2 "Message Syntax": types (5.2.2; unknown types are
 * `normal`), `<body/>` and `<subject/>` with `xml:lang` alternatives (5.2.3, 5.2.4),
 * `<thread parent/>` (5.2.5); RFC 6120 8.3 errors (a bounce echoes the original's body,
 * 8.3.1), plus the extensions of codec/: XEP-0203 + XEP-0091, XEP-0359, XEP-0033,
 * XEP-0308, XEP-0424 + XEP-0428 + XEP-0334, XEP-0184, XEP-0085, XEP-0333, XEP-0022,
 * XEP-0023, XEP-0066, XEP-0144 + jabber:x:roster, XEP-0249 + jabber:x:conference,
 * XEP-0027; XEP-0071's `<html/>` is carried as an element (features/richtext reads it).
 */
import type { StanzaError } from '../../errors.ts';
import { type BareJid, bare, type Jid, tryJid } from '../../jid.ts';
import { randomId } from '../../session/iq.ts';
import { parseStanzaError } from '../../session/stanza-error.ts';
import { type Element, xml } from '../../xml/element.ts';
import { ADDRESSES, type Address, type AddressInput } from './codec/addressing.ts';
import { type ChatState, chatStateElement, readChatState } from './codec/chatstates.ts';
import { X_CONFERENCE } from './codec/conference.ts';
import { REPLACE } from './codec/correction.ts';
import { type Delay, readDelay } from './codec/delay.ts';
import { LEGACY_EVENTS, type LegacyEvent, X_EVENT } from './codec/events.ts';
import { X_EXPIRE } from './codec/expire.ts';
import { X_ENCRYPTED, X_SIGNED } from './codec/legacy-pgp.ts';
import { MARKABLE, MARKER_TYPES, MARKERS, type MarkerType } from './codec/markers.ts';
import { X_OOB } from './codec/oob.ts';
import { RECEIPT_RECEIVED, RECEIPT_REQUEST } from './codec/receipts.ts';
import {
  APPLY_TO_RETRACT,
  FALLBACK,
  NO_STORE_HINT,
  NS_RETRACT,
  RETRACT,
  RETRACT_FALLBACK_BODY,
  STORE_HINT,
} from './codec/retraction.ts';
import { type RieAction, X_LEGACY_ROSTER, X_ROSTERX } from './codec/rosterx.ts';
import { type ElementSpec, type Infer, read, readChild, readChildren, write } from './codec/schema.ts';
import { ORIGIN_ID, STANZA_ID } from './codec/sid.ts';

export type { Address, AddressInput, AddressType } from './codec/addressing.ts';
export type { ChatState } from './codec/chatstates.ts';
export type { Delay } from './codec/delay.ts';
export type { LegacyEvent } from './codec/events.ts';
export type { MarkerType } from './codec/markers.ts';
export type { RieAction } from './codec/rosterx.ts';

export const NS_XHTML_IM = 'http://jabber.org/protocol/xhtml-im';

// ---------------------------------------------------------------- RFC 6121 core, declared

/** RFC 6121 5.2.2 message types. */
export const MESSAGE_TYPES = ['normal', 'chat', 'groupchat', 'headline', 'error'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

const LANG_TEXT = { name: 'body', attrs: { 'xml:lang': 'string' }, text: 'string' } as const;
export const MESSAGE = {
  name: 'message',
  attrs: { to: 'jid', from: 'jid', type: MESSAGE_TYPES, id: 'string', 'xml:lang': 'string' },
  children: {
    subject: { kind: 'element', spec: { ...LANG_TEXT, name: 'subject' }, many: true },
    body: { kind: 'element', spec: LANG_TEXT, many: true },
    thread: { kind: 'element', spec: { name: 'thread', attrs: { parent: 'string' }, text: 'string' } },
  },
} as const satisfies ElementSpec;
export type MessageCore = Infer<typeof MESSAGE>;

/** A text in one language (`lang` undefined: the stanza's default language). */
export interface LangText {
  lang: string | undefined;
  text: string;
}

// ---------------------------------------------------------------- the inbound model

/** Where a message came from (the one entry, `ingest`, is told). */
export type MessageSource = 'live' | 'carbon-sent' | 'carbon-received' | 'archive' | 'offline';

export interface RosterExchangeItem {
  action: RieAction;
  jid: Jid;
  name: string | undefined;
  groups: string[];
}

/** A group-chat invitation (XEP-0249 direct, or the older jabber:x:conference). */
export interface Invitation {
  room: Jid;
  reason: string | undefined;
  password: string | undefined;
  /** XEP-0249 "continue": the invitation continues a one-to-one chat (with `thread`). */
  continue: boolean;
  thread: string | undefined;
}

/** XEP-0022 as read: a request (events asked for) or a notification about message `id`. */
export interface LegacyEvents {
  /** Events named in the `<x/>`. */
  events: LegacyEvent[];
  /** Present in a notification: the id of the message it is about. */
  id: string | undefined;
  /** A request (no `<id/>`) or a notification (with `<id/>`; no events = composing cancelled). */
  kind: 'request' | 'notification';
}

/** An inbound message, as the `message` event delivers it. */
export interface Message {
  /** Sender. For a message from our own server or account without `from`, our bare JID. */
  from: Jid;
  to: Jid | undefined;
  id: string | undefined;
  type: MessageType;
  /** The stanza's `xml:lang`. */
  lang: string | undefined;
  /** The body in the default language (no `xml:lang`, or the stanza's, else the first). */
  body: string | undefined;
  /** Every body with its language (RFC 6121 5.2.3). */
  bodies: LangText[];
  subject: string | undefined;
  subjects: LangText[];
  /** Conversation thread (RFC 6121 5.2.5): echo it in a reply to stay in the conversation. */
  thread: string | undefined;
  threadParent: string | undefined;
  /** For type `error`: the error; `body` then is the echoed body of what we sent. */
  error: StanzaError | undefined;
  /** XEP-0203 / XEP-0091: when it was originally sent (offline storage, archive). */
  delay: Delay | undefined;
  /** XEP-0359 origin-id (set by the sender). */
  originId: string | undefined;
  /**
   * XEP-0359 stanza-id assigned by `by`, but only when `by` is trusted: our own bare JID
   * (default), the archive the message was fetched from, or the room of a group chat.
   * Ids claimed by anyone else return undefined (anyone can add them).
   */
  stanzaId(by?: string): string | undefined;
  /** XEP-0033 addresses (to, cc, bcc, replyto, ...). */
  addresses: Address[];
  /** XEP-0071 `<html xmlns='http://jabber.org/protocol/xhtml-im'>`, untouched (sanitise with features/richtext). */
  xhtml: Element | undefined;
  /** XEP-0308: this message corrects the message with this id. */
  replace: string | undefined;
  /** XEP-0424: this message retracts the message with this (origin-)id. */
  retract: string | undefined;
  /** XEP-0428: the body is only a fallback for these namespaces (the body is not content). */
  fallbackFor: string[];
  /** XEP-0184. */
  receipt: { request: boolean; received: string | undefined };
  /** XEP-0085. */
  chatState: ChatState | undefined;
  /** XEP-0333. */
  markers: { markable: boolean } & Partial<Record<MarkerType, string>>;
  /** XEP-0022. */
  events: LegacyEvents | undefined;
  /** XEP-0023: lifetime in seconds (and when a store kept it, seconds since the epoch). */
  expire: { seconds: number; stored: number | undefined } | undefined;
  /** When the lifetime ends (from the delay stamp, else `stored`, else arrival). */
  expiresAt: Date | undefined;
  /** XEP-0066 out-of-band URLs. */
  oob: Array<{ url: string; desc: string | undefined }>;
  /** XEP-0144 / jabber:x:roster suggestions (never applied by the library). */
  rosterItems: RosterExchangeItem[];
  /** XEP-0249 / jabber:x:conference. */
  invitation: Invitation | undefined;
  /** XEP-0027 payloads as text (not decrypted, not verified). */
  encrypted: string | undefined;
  signed: string | undefined;
  /** XEP-0334: the sender asked archives not to store it. */
  noStore: boolean;
  /** How it reached us. */
  source: MessageSource;
  /** Sent by our own account (carbon-sent, or our archive's copy of what we sent). */
  outgoing: boolean;
  receivedAt: Date;
  /** The whole stanza, for extensions. */
  element: Element;
}

export interface ParseContext {
  /** Our bare JID: stands in for a missing `from`, and is always a trusted stanza-id `by`. */
  self: BareJid;
  source?: MessageSource | undefined;
  /** More entities whose stanza-ids we trust (the archive queried). */
  trusted?: readonly string[] | undefined;
  /** Stream language, to pick the default body. */
  lang?: string | undefined;
  now?: Date | undefined;
  /** Stanza-ids known from outside the message (a MAM result id), trusted. */
  extraStanzaIds?: ReadonlyArray<{ by: string; id: string }> | undefined;
  /** A delay known from outside the message (a MAM/carbon `<forwarded><delay/>`), used when it has none. */
  delay?: Delay | undefined;
}

function pickLang(list: LangText[], lang: string | undefined): string | undefined {
  if (list.length === 0) return undefined;
  return (
    list.find((x) => x.lang === undefined)?.text ??
    (lang !== undefined ? list.find((x) => x.lang === lang)?.text : undefined) ??
    list[0]!.text
  );
}

/** Read a `<message/>`. */
export function parseMessage(el: Element, ctx: ParseContext): Message {
  const core = read0(el);
  const from = core.from ?? ctx.self;
  const type: MessageType = core.type ?? 'normal';
  const lang = core['xml:lang'] ?? ctx.lang;
  const lt = (x: { 'xml:lang': string | undefined; text: string | undefined }): LangText => ({
    lang: x['xml:lang'] === lang ? undefined : x['xml:lang'],
    text: x.text ?? '',
  });
  const bodies = core.body.map(lt);
  const subjects = core.subject.map(lt);
  const now = ctx.now ?? new Date();
  const delay = readDelay(el) ?? ctx.delay;

  // XEP-0359: trusted `by` are ourselves, what the caller names, and the room of a group chat.
  const trusted = new Set<string>([ctx.self, ...(ctx.trusted ?? [])]);
  if (type === 'groupchat') trusted.add(bare(from));
  const sids: Array<{ by: string | undefined; id: string | undefined }> = readChildren(STANZA_ID, el).filter(
    (s) => s.id !== undefined && s.by !== undefined,
  );
  for (const x of ctx.extraStanzaIds ?? []) {
    const b = tryJid(x.by);
    if (b === undefined) continue;
    trusted.add(b);
    sids.unshift({ by: b, id: x.id });
  }
  const stanzaId = (by: string = ctx.self): string | undefined => {
    const b = tryJid(by);
    if (b === undefined || !trusted.has(b)) return undefined;
    return sids.find((s) => s.by === b)?.id;
  };

  const retract = readChild(RETRACT, el)?.id ?? legacyRetract(el);
  const ev = readChild(X_EVENT, el);
  const exp = readChild(X_EXPIRE, el);
  const expire =
    exp?.seconds !== undefined && exp.seconds >= 0 ? { seconds: exp.seconds, stored: exp.stored } : undefined;
  const start =
    delay?.stamp.getTime() ?? (expire?.stored !== undefined ? expire.stored * 1000 : now.getTime());
  const markers: Message['markers'] = { markable: readChild(MARKABLE, el) !== undefined };
  for (const m of MARKER_TYPES) {
    const v = readChild(MARKERS[m], el)?.id;
    if (v !== undefined) markers[m] = v;
  }
  const rie = [...readChildren(X_ROSTERX, el), ...readChildren(X_LEGACY_ROSTER, el)]
    .flatMap((x) => x.item)
    .filter((i) => i.jid !== undefined)
    .map((i) => ({ action: i.action ?? 'add', jid: i.jid!, name: i.name, groups: i.group }));
  const conf = readChild(X_CONFERENCE, el);
  const receipt = readChild(RECEIPT_RECEIVED, el);
  return {
    from,
    to: core.to,
    id: core.id,
    type,
    lang: core['xml:lang'],
    body: pickLang(bodies, lang),
    bodies,
    subject: pickLang(subjects, lang),
    subjects,
    thread: core.thread?.text,
    threadParent: core.thread?.parent,
    error: type === 'error' ? parseStanzaError(el) : undefined,
    delay,
    originId: readChild(ORIGIN_ID, el)?.id,
    stanzaId,
    addresses: readChild(ADDRESSES, el)?.address ?? [],
    xhtml: el.getChild('html', NS_XHTML_IM),
    replace: readChild(REPLACE, el)?.id,
    retract,
    fallbackFor: readChildren(FALLBACK, el).map((f) => f.for ?? ''),
    receipt: { request: readChild(RECEIPT_REQUEST, el) !== undefined, received: receipt?.id },
    chatState: readChatState(el),
    markers,
    events: ev
      ? {
          events: LEGACY_EVENTS.filter((e) => ev[e]),
          id: ev.id,
          kind: ev.id === undefined ? 'request' : 'notification',
        }
      : undefined,
    expire,
    expiresAt: expire ? new Date(start + expire.seconds * 1000) : undefined,
    oob: readChildren(X_OOB, el)
      .filter((o) => o.url !== undefined)
      .map((o) => ({ url: o.url!.trim(), desc: o.desc })),
    rosterItems: rie,
    invitation: conf?.jid
      ? {
          room: conf.jid,
          reason: conf.reason ?? conf.text?.trim() ?? undefined,
          password: conf.password,
          continue: conf.continue === true,
          thread: conf.thread,
        }
      : undefined,
    encrypted: readChild(X_ENCRYPTED, el)?.text,
    signed: readChild(X_SIGNED, el)?.text,
    noStore: readChild(NO_STORE_HINT, el) !== undefined,
    source: ctx.source ?? 'live',
    outgoing: bare(from) === ctx.self && ctx.source !== 'live' && ctx.source !== 'offline',
    receivedAt: now,
    element: el,
  };
}

/** The core fields. `read` does not check the element itself; children are read in its namespace. */
function read0(el: Element): MessageCore {
  return read(MESSAGE, el);
}

function legacyRetract(el: Element): string | undefined {
  const a = readChild(APPLY_TO_RETRACT, el);
  return a?.retract ? a.id : undefined;
}

// ---------------------------------------------------------------- outgoing

/** A roster item to send (XEP-0144). */
export interface OutgoingRosterItem {
  jid: string;
  name?: string | undefined;
  groups?: readonly string[] | undefined;
  /** Default `add`. */
  action?: RieAction | undefined;
}

/** What `client.messages.send` takes. */
export interface OutgoingMessage {
  to: string;
  body?: string | undefined;
  /** Extra bodies in other languages. */
  bodies?: readonly LangText[] | undefined;
  /** Default `chat`. */
  type?: MessageType | undefined;
  /** A thread id, or `true` for a new unique one (RFC 6121 5.2.5: sender JID + time + randomness). */
  thread?: string | true | undefined;
  threadParent?: string | undefined;
  subject?: string | undefined;
  /** Default: a fresh random id (also the origin-id). */
  id?: string | undefined;
  /** XEP-0071 `<html/>` (e.g. from features/richtext `toXhtml`). */
  xhtml?: Element | undefined;
  /** XEP-0184: ask for a receipt (then `messages.waitForReceipt(id)`). */
  receipt?: boolean | undefined;
  /** XEP-0333: ask for displayed markers. */
  markable?: boolean | undefined;
  /** XEP-0085 state to carry; default: `active` on chat messages to peers that may support it. */
  chatState?: ChatState | false | undefined;
  /** XEP-0022 events to request; default `auto` (all four to peers that use XEP-0022). */
  events?: readonly LegacyEvent[] | 'auto' | false | undefined;
  /** XEP-0023: lifetime in seconds. */
  expire?: number | undefined;
  /** XEP-0066. */
  oob?: ReadonlyArray<{ url: string; desc?: string | undefined }> | undefined;
  /** XEP-0033 addresses carried as they are (use `messages.sendToMany` to fan out). */
  addresses?: readonly AddressInput[] | undefined;
  /** XEP-0144 roster items (contacts) to suggest. */
  rosterItems?: readonly OutgoingRosterItem[] | undefined;
  /** XEP-0249 invitation. */
  invitation?:
    | { room: string; reason?: string; password?: string; continue?: boolean; thread?: string }
    | undefined;
  /** Any further extension elements. */
  extra?: readonly Element[] | undefined;
}

/** A thread id nobody else has: randomness, plus our JID and the time (the seed's recipe). */
export function newThreadId(): string {
  return `${Date.now().toString(36)}-${randomId(12)}`;
}

/**
 * Build a `<message/>` (children in a fixed order: subject, body, thread, then extensions,
 * so fixtures are stable). Policy-driven parts (default chat state, XEP-0022 auto) are
 * decided by messages.ts and passed in as plain values here.
 */
export function buildMessage(m: OutgoingMessage): Element {
  const type = m.type ?? 'chat';
  const thread = m.thread === true ? newThreadId() : m.thread;
  const el = write(MESSAGE, {
    to: m.to as Jid,
    type,
    id: m.id ?? randomId(),
    subject: m.subject !== undefined ? [{ 'xml:lang': undefined, text: m.subject }] : undefined,
    body: [
      ...(m.body !== undefined ? [{ 'xml:lang': undefined, text: m.body }] : []),
      ...(m.bodies ?? []).map((b) => ({ 'xml:lang': b.lang, text: b.text })),
    ],
    thread: thread !== undefined ? { text: thread, parent: m.threadParent } : undefined,
  });
  if (m.xhtml) el.append(m.xhtml);
  if (m.chatState) el.append(chatStateElement(m.chatState));
  if (m.receipt) el.append(write(RECEIPT_REQUEST, {}));
  if (m.markable) el.append(write(MARKABLE, {}));
  if (Array.isArray(m.events) && m.events.length > 0) el.append(eventsRequest(m.events));
  if (m.expire !== undefined) el.append(write(X_EXPIRE, { seconds: m.expire }));
  for (const o of m.oob ?? []) el.append(write(X_OOB, { url: o.url, desc: o.desc }));
  if (m.addresses && m.addresses.length > 0)
    el.append(write(ADDRESSES, { address: m.addresses as Address[] }));
  if (m.rosterItems && m.rosterItems.length > 0) el.append(rosterExchange(m.rosterItems));
  if (m.invitation) {
    const i = m.invitation;
    el.append(
      write(X_CONFERENCE, {
        jid: i.room as Jid,
        password: i.password,
        reason: i.reason,
        continue: i.continue,
        thread: i.thread,
      }),
    );
  }
  for (const x of m.extra ?? []) el.append(x);
  return el;
}

export function eventsRequest(events: readonly LegacyEvent[]): Element {
  const v: Record<string, boolean> = {};
  for (const e of events) v[e] = true;
  return write(X_EVENT, v);
}

/** XEP-0022 notification about message `id` (no events: composing cancelled). */
export function eventNotification(to: string, id: string, event: LegacyEvent | undefined): Element {
  return xml('message', { to, id: randomId() }, write(X_EVENT, { ...(event ? { [event]: true } : {}), id }));
}

export function rosterExchange(items: readonly OutgoingRosterItem[]): Element {
  return write(X_ROSTERX, {
    item: items.map((i) => ({
      action: i.action,
      jid: i.jid as Jid,
      name: i.name,
      group: [...(i.groups ?? [])],
    })),
  });
}

/** XEP-0184 answer. Type mirrors the original (Conversations and Dino do; servers route chat better). */
export function receiptElement(to: string, id: string, type: MessageType | undefined): Element {
  return xml(
    'message',
    { to, type: type === 'chat' ? 'chat' : undefined, id: randomId() },
    write(RECEIPT_RECEIVED, { id }),
  );
}

/** XEP-0333 marker. */
export function markerElement(
  to: string,
  type: MessageType,
  marker: MarkerType,
  id: string,
  thread: string | undefined,
): Element {
  return xml(
    'message',
    { to, type: type === 'groupchat' ? 'groupchat' : 'chat', id: randomId() },
    thread !== undefined ? xml('thread', {}, thread) : null,
    write(MARKERS[marker], { id }),
    write(STORE_HINT, {}),
  );
}

/** A standalone chat state (XEP-0085 5.3: no body; XEP-0334 no-store: it means nothing later). */
export function chatStateMessage(to: string, state: ChatState, type: MessageType, thread?: string): Element {
  return xml(
    'message',
    { to, type, id: randomId() },
    thread !== undefined ? xml('thread', {}, thread) : null,
    chatStateElement(state),
    write(NO_STORE_HINT, {}),
  );
}

/** XEP-0308 correction of message `originalId`. */
export function correctionExtra(originalId: string): Element {
  return write(REPLACE, { id: originalId });
}

/** XEP-0424 retraction of `originId` with the XEP-0428 fallback body and a store hint. */
export function retractionMessage(
  to: string,
  type: MessageType,
  originId: string,
  thread?: string,
): OutgoingMessage {
  return {
    to,
    type,
    body: RETRACT_FALLBACK_BODY,
    thread,
    chatState: false,
    events: false,
    extra: [write(RETRACT, { id: originId }), write(FALLBACK, { for: NS_RETRACT }), write(STORE_HINT, {})],
  };
}
