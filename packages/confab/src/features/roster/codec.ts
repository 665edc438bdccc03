/**
 * Roster wire format, declared once as data (DESIGN principle 2).
 *
 * Specs:
 * - RFC 6121 (March 2011) 2.1 "Roster Syntax and Semantics": `<query xmlns='jabber:iq:roster'
 *   ver?>` with `<item jid name? subscription? ask? approved?><group/>*</item>`; 2.1.2.2
 *   subscription values (none, to, from, both; `remove` only in a set), 2.1.2.1 `approved`
 *   (pre-approval, 3.4), 2.1.2.2 `ask='subscribe'` (pending out); 2.1.2.5 groups.
 * - RFC 6121 2.6 "Roster Versioning": the `ver` attribute and the stream feature
 *   `<ver xmlns='urn:xmpp:features:rosterver'/>`.
 *
 * `ITEM_ATTRS` is the declaration: the item's attributes and their kinds. The RosterItem
 * type is derived from it (`AttrValues`), and `readAttrs` / `writeAttrs` are the one
 * generic reader and writer, so type, parser and builder cannot drift apart.
 */
import { bare, type Jid, tryJid } from '../../jid.ts';
import { detach } from '../../util/strings.ts';
import { type Element, xml } from '../../xml/element.ts';

export const NS_ROSTER = 'jabber:iq:roster';
/** RFC 6121 2.6.1: the stream feature announcing roster versioning. */
export const NS_ROSTER_VER = 'urn:xmpp:features:rosterver';

/** RFC 6121 2.1.2.5: the subscription states an item can be in. */
export const SUBSCRIPTIONS = ['none', 'to', 'from', 'both'] as const;
export type Subscription = (typeof SUBSCRIPTIONS)[number];

/** Kinds of attribute a declaration can name. */
export type AttrKind = 'jid' | 'text' | 'bool' | readonly string[];

/** The value type an attribute kind stands for. */
export type AttrValue<K> = K extends 'jid'
  ? Jid
  : K extends 'bool'
    ? boolean
    : K extends readonly (infer U)[]
      ? U
      : string;

export type AttrValues<T extends Record<string, AttrKind>> = {
  -readonly [K in keyof T]: AttrValue<T[K]> | undefined;
};

/** RFC 6121 2.1.2: `<item/>` attributes (`remove` is handled apart: it is a command, not a state). */
export const ITEM_ATTRS = {
  jid: 'jid',
  name: 'text',
  subscription: SUBSCRIPTIONS,
  ask: ['subscribe'],
  approved: 'bool',
} as const satisfies Record<string, AttrKind>;

/** Read attributes by declaration; values outside it read as absent. */
export function readAttrs<T extends Record<string, AttrKind>>(spec: T, el: Element): AttrValues<T> {
  const out: Record<string, unknown> = {};
  for (const key in spec) {
    const kind = spec[key]!;
    const raw = el.attr(key);
    let v: unknown;
    if (raw !== undefined) {
      if (kind === 'jid') v = tryJid(raw);
      else if (kind === 'bool')
        v = raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : undefined;
      else if (kind === 'text') v = raw;
      // The declaration's own constant, not the parsed copy: one string less per item.
      else v = (kind as readonly string[]).find((k) => k === raw);
    }
    out[key] = v;
  }
  return out as AttrValues<T>;
}

/** Write attributes by declaration (booleans as `true`/`false`, absent ones left out). */
export function writeAttrs<T extends Record<string, AttrKind>>(
  spec: T,
  values: Partial<AttrValues<T>>,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const key in spec) {
    const v = values[key];
    out[key] = v === undefined ? undefined : String(v);
  }
  return out;
}

/** One contact in the roster, as the server keeps it. */
export interface RosterItem {
  /** Bare JID of the contact (the key). */
  jid: Jid;
  /** The user's name for the contact. */
  name: string | undefined;
  /** Who sees whose presence: none, to (we see theirs), from (they see ours), both. */
  subscription: Subscription;
  /** We asked to see their presence and they have not answered yet. */
  pending: boolean;
  /** Pre-approved (RFC 6121 3.4): their request will be accepted at once. */
  approved: boolean;
  /** Groups, in the order the server gave them, without duplicates. */
  groups: readonly string[];
}

/** An item as a push or result carries it: a RosterItem, or the removal of one. */
export type ItemChange = { remove: false; item: RosterItem } | { remove: true; jid: Jid };

/** The groups of an item in no group: one shared, frozen empty list (most rosters have many). */
const NO_GROUPS: readonly string[] = Object.freeze([]);

/**
 * Read one `<item/>`. Undefined when it has no valid JID (RFC 6121 2.1.2.2: `jid` is
 * required); a JID with a resource is cut to the bare JID (roster items are accounts).
 *
 * The item is made for a long-lived model: its strings are detached from the parsed text
 * (util/strings.ts) and group names go through `intern` when given (one copy per group).
 */
export function parseItem(el: Element, intern?: (group: string) => string): ItemChange | undefined {
  const a = readAttrs(ITEM_ATTRS, el);
  if (a.jid === undefined) return undefined;
  const j = detach(bare(a.jid));
  if (el.attr('subscription') === 'remove') return { remove: true, jid: j };
  let groups: string[] | undefined;
  for (const c of el.children) {
    if (typeof c === 'string' || c.name !== 'group') continue;
    const name = c.text();
    // RFC 6121 2.1.2.5: empty group names are meaningless; duplicates are one group.
    if (name === '' || groups?.includes(name)) continue;
    const kept = intern ? intern(name) : detach(name);
    // A literal holds one element; `[].push()` would reserve 17 (136 bytes more per item).
    if (groups) groups.push(kept);
    else groups = [kept];
  }
  if (groups && groups.length > 1) groups = groups.slice(); // exact size again after growing
  return {
    remove: false,
    item: {
      jid: j,
      name: a.name === '' ? undefined : detach(a.name),
      subscription: a.subscription ?? 'none',
      pending: a.ask === 'subscribe',
      approved: a.approved === true,
      groups: groups ?? NO_GROUPS,
    },
  };
}

/** Write an item as the server sends it (fixtures, tests, the cache). */
export function itemElement(item: RosterItem): Element {
  return xml(
    'item',
    writeAttrs(ITEM_ATTRS, {
      jid: item.jid,
      name: item.name,
      subscription: item.subscription,
      ask: item.pending ? 'subscribe' : undefined,
      approved: item.approved ? true : undefined,
    }),
    item.groups.map((g) => xml('group', {}, g)),
  );
}

/** The roster as a result carries it. `ver` undefined: the server does no versioning. */
export interface RosterQuery {
  ver: string | undefined;
  items: ItemChange[];
}

/** Read a `<query xmlns='jabber:iq:roster'/>` (result or push); bad items are skipped. */
export function parseQuery(q: Element, intern?: (group: string) => string): RosterQuery {
  const items: ItemChange[] = [];
  for (const c of q.getChildren('item')) {
    const it = parseItem(c, intern);
    if (it) items.push(it);
  }
  return { ver: q.attr('ver'), items };
}

/** RFC 6121 2.1.3 / 2.6.2: the roster get, with the version we have (`''` for none). */
export function rosterGet(ver: string | undefined): Element {
  return xml('query', { xmlns: NS_ROSTER, ver });
}

/** RFC 6121 2.1.5: add or update an item (the server fills in subscription state). */
export function rosterSet(jid: string, name: string | undefined, groups: readonly string[]): Element {
  return xml(
    'query',
    { xmlns: NS_ROSTER },
    xml(
      'item',
      { jid, name },
      groups.map((g) => xml('group', {}, g)),
    ),
  );
}

/** RFC 6121 2.5.2: remove an item (which also cancels subscriptions both ways). */
export function rosterRemove(jid: string): Element {
  return xml('query', { xmlns: NS_ROSTER }, xml('item', { jid, subscription: 'remove' }));
}

/** Items as JSON for the Store (a compact, versionable record). */
export interface RosterItemRecord {
  jid: string;
  name: string | null;
  subscription: Subscription;
  pending: boolean;
  approved: boolean;
  groups: string[];
}

export function toRecord(i: RosterItem): RosterItemRecord {
  return {
    jid: i.jid,
    name: i.name ?? null,
    subscription: i.subscription,
    pending: i.pending,
    approved: i.approved,
    groups: [...i.groups],
  };
}

export function fromRecord(r: unknown, intern: (group: string) => string = detach): RosterItem | undefined {
  if (typeof r !== 'object' || r === null) return undefined;
  const o = r as Partial<RosterItemRecord>;
  const j = tryJid(typeof o.jid === 'string' ? o.jid : undefined);
  if (!j || !(SUBSCRIPTIONS as readonly string[]).includes(o.subscription ?? '')) return undefined;
  return {
    jid: j,
    name: typeof o.name === 'string' ? o.name : undefined,
    subscription: o.subscription!,
    pending: o.pending === true,
    approved: o.approved === true,
    groups: Array.isArray(o.groups)
      ? o.groups.filter((g): g is string => typeof g === 'string').map(intern) // map: exact size
      : NO_GROUPS,
  };
}

/** Same contact state (what a buddy list would redraw for). */
export function sameItem(a: RosterItem, b: RosterItem): boolean {
  if (
    a.jid !== b.jid ||
    a.name !== b.name ||
    a.subscription !== b.subscription ||
    a.pending !== b.pending ||
    a.approved !== b.approved ||
    a.groups.length !== b.groups.length
  )
    return false;
  for (let i = 0; i < a.groups.length; i++) if (a.groups[i] !== b.groups[i]) return false;
  return true;
}
