/**
 * Blocking wire format: XEP-0191 "Blocking Command" v1.3 (section 3: `blocklist`,
 * `block`, `unblock` with `<item jid/>`; an empty `unblock` unblocks everyone; the
 * `<blocked xmlns='urn:xmpp:blocking:errors'/>` error condition), and the buddies-only
 * preference we keep in private storage (XEP-0049) under our own namespace.
 */
import { type Jid, tryJid } from '../../jid.ts';
import { type Element, xml } from '../../xml/element.ts';

export const NS_BLOCKING = 'urn:xmpp:blocking';
export const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';

/** The three payloads (XEP-0191 3.2-3.5). */
export const BLOCKING_ELEMENTS = ['blocklist', 'block', 'unblock'] as const;
export type BlockingElement = (typeof BLOCKING_ELEMENTS)[number];

export function buildBlocking(name: BlockingElement, jids: readonly string[] = []): Element {
  return xml(
    name,
    { xmlns: NS_BLOCKING },
    jids.map((jid) => xml('item', { jid })),
  );
}

/** The JIDs of a blocklist/block/unblock payload (normalised; malformed ones skipped). */
export function parseBlockingItems(el: Element): Jid[] {
  const out: Jid[] = [];
  for (const i of el.getChildren('item', NS_BLOCKING)) {
    const j = tryJid(i.attr('jid'));
    if (j) out.push(j);
  }
  return out;
}

/** True when an error stanza says "you blocked this JID" (3.3). */
export function isBlockedError(stanza: Element): boolean {
  return stanza.getChild('error')?.getChild('blocked', NS_BLOCKING_ERRORS) !== undefined;
}

// ------------------------------------------------------------------ our preferences

/** Our private-storage namespace for client preferences. */
export const NS_PREFS = 'urn:confab:prefs';
/** Preference elements inside `<prefs xmlns='urn:confab:prefs'>`: name -> kind. */
export const PREFS_FIELDS = { 'buddies-only': 'boolean' } as const;
export type Prefs = { -readonly [K in keyof typeof PREFS_FIELDS]?: boolean };

/** Read `<prefs/>`; children we do not know are kept in `rest` so a write preserves them. */
export function parsePrefs(el: Element | undefined): { prefs: Prefs; rest: Element[] } {
  const prefs: Prefs = {};
  const rest: Element[] = [];
  for (const c of el?.elements() ?? []) {
    if (c.xmlns === NS_PREFS && Object.hasOwn(PREFS_FIELDS, c.name)) {
      prefs[c.name as keyof Prefs] = c.text().trim() === 'true';
    } else rest.push(c);
  }
  return { prefs, rest };
}

export function buildPrefs(prefs: Prefs, rest: readonly Element[] = []): Element {
  return xml(
    'prefs',
    { xmlns: NS_PREFS },
    (Object.keys(PREFS_FIELDS) as (keyof Prefs)[]).map((k) =>
      prefs[k] === undefined ? null : xml(k, null, String(prefs[k])),
    ),
    rest,
  );
}
