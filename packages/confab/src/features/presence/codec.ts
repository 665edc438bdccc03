/**
 * Presence wire format, declared once as data (DESIGN principle 2).
 *
 * Specs:
 * - RFC 6121 (March 2011) 4.7 "Presence Syntax": type, show, status, priority; 3 subscriptions
 *   (the subscription types travel in the same stanza); 3.4 pre-approval (stream feature below).
 * - XEP-0203 1.0 "Delayed Delivery" (`urn:xmpp:delay`): read and written.
 * - XEP-0091 1.4 "Legacy Delayed Delivery" (`jabber:x:delay`, obsolete): read only, as the
 *   seed's servers sent it ("the time at which the buddy's status last changed").
 * - XEP-0319 1.0 "Last User Interaction in Presence" (`urn:xmpp:idle:1`): read and written.
 * - XEP-0027 1.4 "Current Jabber OpenPGP Usage" (`jabber:x:signed`, `jabber:x:encrypted`, obsolete):
 *   the payloads are parsed and exposed as text; no cryptography here (a later piece of work).
 * - XEP-0172 1.1 "User Nickname": the `<nick/>` a subscription request may carry (RFC 6121 3.1.1).
 * - XEP-0352 1.0 "Client State Indication" (`urn:xmpp:csi:0`) and XEP-0186 0.13 "Invisible
 *   Command" (`urn:xmpp:invisible:0`): their namespaces and element builders.
 *
 * How the declaration works: `PRESENCE_FIELDS` lists the simple child elements with their
 * kind; `FieldValues<typeof PRESENCE_FIELDS>` derives the TypeScript type from it, and
 * `readFields` / `writeFields` are the one generic reader and writer. So the type, the
 * parser and the builder cannot drift apart (stanza's `httpUpoadRetry` problem). The
 * extensions (delay, idle, signed...) are each a small pair of functions below.
 */
import type { StanzaError } from '../../errors.ts';
import { type Jid, tryJid } from '../../jid.ts';
import { parseStanzaError } from '../../session/stanza-error.ts';
import { type Element, xml } from '../../xml/element.ts';

export const NS_DELAY = 'urn:xmpp:delay';
export const NS_LEGACY_DELAY = 'jabber:x:delay';
export const NS_IDLE = 'urn:xmpp:idle:1';
export const NS_SIGNED = 'jabber:x:signed';
export const NS_ENCRYPTED = 'jabber:x:encrypted';
export const NS_NICK = 'http://jabber.org/protocol/nick';
export const NS_CSI = 'urn:xmpp:csi:0';
export const NS_INVISIBLE = 'urn:xmpp:invisible:0';
/** RFC 6121 3.4.1: the stream feature announcing subscription pre-approval. */
export const NS_PRE_APPROVAL = 'urn:xmpp:features:pre-approval';

// ---------------------------------------------------------------- the declaration

/** RFC 6121 4.7.2.1: the four `<show/>` values; no `<show/>` means plainly available. */
export const SHOWS = ['away', 'chat', 'dnd', 'xa'] as const;
export type Show = (typeof SHOWS)[number];

/** RFC 6121 4.7.1: presence types; `available` stands for the absent attribute. */
export const PRESENCE_TYPES = [
  'available',
  'unavailable',
  'subscribe',
  'subscribed',
  'unsubscribe',
  'unsubscribed',
  'probe',
  'error',
] as const;
export type PresenceType = (typeof PRESENCE_TYPES)[number];
/** The four types that manage subscriptions (RFC 6121 3). */
export type SubscriptionType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';

/** Kinds of simple child elements a declaration can name. */
export type FieldKind =
  | { kind: 'text' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'int'; min: number; max: number };

/** A simple child element: `<name>value</name>` in the stanza's namespace. */
export type FieldSpec = FieldKind & { child: string };

/** The TypeScript value type a field declaration stands for. */
export type FieldValue<S> = S extends { kind: 'enum'; values: readonly (infer U)[] }
  ? U
  : S extends { kind: 'int' }
    ? number
    : string;

/** The derived record type of a field table: every field optional (absent on the wire). */
export type FieldValues<T extends Record<string, FieldSpec>> = {
  -readonly [K in keyof T]: FieldValue<T[K]> | undefined;
};

/** RFC 6121 4.7.2: the children of `<presence/>` (priority range 4.7.2.3: -128..127). */
export const PRESENCE_FIELDS = {
  show: { child: 'show', kind: 'enum', values: SHOWS },
  status: { child: 'status', kind: 'text' },
  priority: { child: 'priority', kind: 'int', min: -128, max: 127 },
} as const satisfies Record<string, FieldSpec>;

export type PresenceFields = FieldValues<typeof PRESENCE_FIELDS>;

/**
 * Read a field table from `el`'s children. Values outside the declaration (an unknown
 * show, a priority of 300, "abc") read as absent: RFC 6121 4.7.2 says what they may be,
 * and a peer sending something else gets the default rather than a broken model.
 * Only the first child of each name is read (RFC 6121 allows several `<status/>` in
 * different `xml:lang`; the first is the default language).
 */
export function readFields<T extends Record<string, FieldSpec>>(spec: T, el: Element): FieldValues<T> {
  const out: Record<string, unknown> = {};
  for (const key in spec) {
    const f = spec[key]!;
    const text = el.getChildText(f.child);
    let v: unknown;
    if (text !== undefined) {
      if (f.kind === 'text') v = text;
      else if (f.kind === 'enum') {
        const t = text.trim();
        v = f.values.includes(t) ? t : undefined;
      } else {
        const t = text.trim();
        const n = /^[+-]?\d{1,4}$/.test(t) ? Number(t) : Number.NaN;
        v = Number.isInteger(n) && n >= f.min && n <= f.max ? n : undefined;
      }
    }
    out[key] = v;
  }
  return out as FieldValues<T>;
}

/**
 * Write a field table as children, in declaration order (RFC 6121 does not fix an order;
 * a fixed one keeps fixtures byte-stable). Throws `RangeError` on a value the declaration
 * forbids: that is a programming error here, since the public API validates first and
 * throws a ConfabError (ERR_BAD_INPUT) the app can match.
 */
export function writeFields<T extends Record<string, FieldSpec>>(
  spec: T,
  values: Partial<FieldValues<T>>,
): Element[] {
  const out: Element[] = [];
  for (const key in spec) {
    const v = values[key];
    if (v === undefined) continue;
    const f = spec[key]!;
    if (f.kind === 'enum' && !f.values.includes(String(v))) throw new RangeError(`${key}: ${String(v)}`);
    if (f.kind === 'int' && (!Number.isInteger(v) || (v as number) < f.min || (v as number) > f.max))
      throw new RangeError(`${key}: ${String(v)}`);
    out.push(xml(f.child, {}, String(v)));
  }
  return out;
}

// ---------------------------------------------------------------- extensions

/** When a stanza was originally sent (XEP-0203, or the legacy XEP-0091 form). */
export interface Delay {
  stamp: Date;
  /** Who delayed it (the server, usually), when said. */
  from: Jid | undefined;
  /** Free text the delaying entity added. */
  reason: string | undefined;
  /** True when read from the legacy `jabber:x:delay` (XEP-0091). */
  legacy: boolean;
}

/**
 * XEP-0082 DateTime (`2002-09-10T23:08:25Z`, fractions and offsets allowed), as XEP-0203
 * uses it. Date.parse accepts more than XEP-0082 allows, so the shape is checked first.
 */
export function parseDateTime(s: string | undefined): Date | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** XEP-0091 stamp `CCYYMMDDThh:mm:ss`, always UTC. */
export function parseLegacyStamp(s: string | undefined): Date | undefined {
  const m = s === undefined ? null : /^(\d{4})(\d\d)(\d\d)T(\d\d):(\d\d):(\d\d)$/.exec(s.trim());
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** XEP-0082 DateTime in UTC without milliseconds (what XEP-0203 and XEP-0319 examples show). */
export function formatDateTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/**
 * Read the delay of a stanza: XEP-0203 wins when both are present (XEP-0203 8: a server
 * may add both during the transition; the new one is the exact one).
 */
export function readDelay(el: Element): Delay | undefined {
  const d = el.getChild('delay', NS_DELAY);
  const stamp = parseDateTime(d?.attr('stamp'));
  if (d && stamp)
    return { stamp, from: tryJid(d.attr('from')), reason: d.text() || undefined, legacy: false };
  const x = el.getChild('x', NS_LEGACY_DELAY);
  const legacy = parseLegacyStamp(x?.attr('stamp'));
  if (x && legacy)
    return { stamp: legacy, from: tryJid(x.attr('from')), reason: x.text() || undefined, legacy: true };
  return undefined;
}

/** Write a XEP-0203 `<delay/>` (never the legacy form). */
export function delayElement(d: {
  stamp: Date;
  from?: string | undefined;
  reason?: string | undefined;
}): Element {
  return xml('delay', { xmlns: NS_DELAY, from: d.from, stamp: formatDateTime(d.stamp) }, d.reason ?? null);
}

/** XEP-0319: `<idle since/>`. */
export function readIdle(el: Element): Date | undefined {
  return parseDateTime(el.getChild('idle', NS_IDLE)?.attr('since'));
}

export function idleElement(since: Date): Element {
  return xml('idle', { xmlns: NS_IDLE, since: formatDateTime(since) });
}

// ---------------------------------------------------------------- the stanza

/** An inbound presence, fully read. */
export interface PresenceStanza extends PresenceFields {
  type: PresenceType;
  /** Sender as sent (undefined: our own account/server, RFC 6120 10.3.3). */
  from: Jid | undefined;
  to: Jid | undefined;
  id: string | undefined;
  delay: Delay | undefined;
  /** XEP-0319: when the user last interacted with the sending client. */
  idleSince: Date | undefined;
  /** XEP-0027 `jabber:x:signed` payload: the ASCII-armoured signature body, unverified. */
  signed: string | undefined;
  /** XEP-0027 `jabber:x:encrypted` payload: the ASCII-armoured message body, not decrypted. */
  encrypted: string | undefined;
  /** XEP-0172 nickname (in subscription requests, RFC 6121 3.1.1). */
  nick: string | undefined;
  /** For `type='error'`: the error (RFC 6120 8.3). */
  error: StanzaError | undefined;
  element: Element;
}

/**
 * Read any `<presence/>`; undefined for a type RFC 6121 4.7.1 does not define (there is
 * nothing safe to do with it, so the caller drops it). An explicit `type='available'`
 * (never valid, but sent by some old clients) reads as available.
 */
export function parsePresenceStanza(el: Element): PresenceStanza | undefined {
  const t = el.attr('type') ?? 'available';
  if (!(PRESENCE_TYPES as readonly string[]).includes(t)) return undefined;
  const fields = readFields(PRESENCE_FIELDS, el);
  return {
    ...fields,
    type: t as PresenceType,
    from: tryJid(el.attr('from')),
    to: tryJid(el.attr('to')),
    id: el.attr('id'),
    delay: readDelay(el),
    idleSince: readIdle(el),
    signed: el.getChild('x', NS_SIGNED)?.text().trim() || undefined,
    encrypted: el.getChild('x', NS_ENCRYPTED)?.text().trim() || undefined,
    nick: el.getChildText('nick', NS_NICK),
    error: t === 'error' ? parseStanzaError(el) : undefined,
    element: el,
  };
}

/** What an outbound presence carries. */
export interface OutgoingPresence extends Partial<PresenceFields> {
  /** Default: available (no attribute). */
  type?: PresenceType | undefined;
  to?: string | undefined;
  id?: string | undefined;
  idleSince?: Date | undefined;
  delay?: { stamp: Date; from?: string | undefined; reason?: string | undefined } | undefined;
  nick?: string | undefined;
  /** More children (caps, vCard update hash...), appended last. */
  extensions?: readonly Element[] | undefined;
}

/** Build a `<presence/>`. */
export function buildPresence(p: OutgoingPresence): Element {
  return xml(
    'presence',
    { type: p.type === 'available' ? undefined : p.type, to: p.to, id: p.id },
    writeFields(PRESENCE_FIELDS, p),
    p.nick !== undefined ? xml('nick', { xmlns: NS_NICK }, p.nick) : null,
    p.idleSince ? idleElement(p.idleSince) : null,
    p.delay ? delayElement(p.delay) : null,
    p.extensions ? [...p.extensions] : null,
  );
}

/** XEP-0352 nonzas. */
export function csiElement(state: 'active' | 'inactive'): Element {
  return xml(state, { xmlns: NS_CSI });
}

/** XEP-0186 3.1 / 3.2 payloads. `probe` (0.11+): let the server probe contacts for us. */
export function invisibleElement(probe: boolean): Element {
  return xml('invisible', { xmlns: NS_INVISIBLE, probe: probe ? 'true' : 'false' });
}
export function visibleElement(): Element {
  return xml('visible', { xmlns: NS_INVISIBLE });
}

// ---------------------------------------------------------------- user activity

/** What a broadcast presence (no `to`) says: type, show, status, priority; undefined for others. */
export function broadcastKey(el: Element): string | undefined {
  if (el.name !== 'presence' || el.attr('to') !== undefined) return undefined;
  const type = el.attr('type');
  if (type !== undefined && type !== 'unavailable') return undefined;
  return [
    type ?? '',
    el.getChildText('show') ?? '',
    el.getChildText('status') ?? '',
    el.getChildText('priority') ?? '',
  ].join('\u0000');
}

/**
 * Whether an outbound stanza is the user's doing, for the idle time of last activity
 * (XEP-0012 4: "the last time the user interacted with the client"):
 * - a message with a body or a subject: what the user wrote. Receipts (XEP-0184), chat
 *   states (XEP-0085), displayed markers (XEP-0333) and message events (XEP-0022) that the
 *   library sends on its own carry neither, so they do not count;
 * - a broadcast presence that says something new (`changed`: show, status, priority or
 *   availability differ from the last one), unless it carries XEP-0319 `<idle/>`: that is
 *   auto-away, the opposite of activity. The same presence again (the initial presence after a
 *   reconnection, a re-send for new caps or a new avatar hash) is the library's.
 * Directed presence (subscription answers, group chat joins) does not count either.
 */
export function isUserAction(el: Element, changed: boolean): boolean {
  if (el.name === 'message') {
    if (el.attr('type') === 'error') return false;
    return el.getChild('body') !== undefined || el.getChild('subject') !== undefined;
  }
  if (el.name === 'presence') {
    return changed && broadcastKey(el) !== undefined && el.getChild('idle', NS_IDLE) === undefined;
  }
  return false;
}
