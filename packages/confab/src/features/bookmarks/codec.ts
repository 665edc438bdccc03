/**
 * Room bookmarks wire format: XEP-0402 "PEP Native Bookmarks" v1.2.0 (`urn:xmpp:bookmarks:1`:
 * one PEP item per room, the item id being the room's JID, section 3) and the older form,
 * XEP-0048 "Bookmarks" v1.2 (`storage:bookmarks`: one `<storage/>` holding every bookmark, kept
 * in XEP-0049 private XML storage, section 3).
 *
 * Both forms carry the same data (XEP-0402 3.1 maps each attribute and child one to one), so one
 * `Bookmark` type serves both. What either form holds that we do not model is kept and written
 * back unchanged: XEP-0402 `<extensions/>` (3.1: "MUST preserve") and, in a XEP-0048 storage,
 * `<url/>` bookmarks and unknown children, so saving a room bookmark never loses another client's
 * data.
 */
import { type BareJid, bare, isBare, tryJid } from '../../jid.ts';
import { type Element, xml } from '../../xml/element.ts';
import type { PublishOptions } from '../pep/codec.ts';

export const NS_BOOKMARKS2 = 'urn:xmpp:bookmarks:1';
/** Advertised on the account when the server keeps XEP-0402 and XEP-0048 in sync (XEP-0402 5.3). */
export const NS_BOOKMARKS2_COMPAT = 'urn:xmpp:bookmarks:1#compat';
export const NS_BOOKMARKS_LEGACY = 'storage:bookmarks';

/** One room bookmark. */
export interface Bookmark {
  /** The room (bare JID). */
  jid: BareJid;
  /** A friendly name for the room. */
  name: string | undefined;
  /** The nickname to join with. */
  nick: string | undefined;
  /** The room's password (stored in clear by the server: XEP-0402 6, XEP-0048 5). */
  password: string | undefined;
  /** Join the room when the client logs in. */
  autojoin: boolean;
  /** XEP-0402 `<extensions/>`: other clients' data, kept as is (undefined: none). */
  extensions: Element | undefined;
}

/** What `add`/`set` take: the room and whatever is to be stored with it. */
export interface BookmarkInput {
  jid: string;
  name?: string | undefined;
  nick?: string | undefined;
  password?: string | undefined;
  autojoin?: boolean | undefined;
  extensions?: Element | undefined;
}

/**
 * XEP-0402 3.2 / 5.2: the node is private (whitelist), keeps every item and never pushes the
 * last item to new subscribers (a client asks for the items when it wants them).
 */
export const PUBLISH_OPTIONS: PublishOptions = {
  'pubsub#persist_items': 'true',
  'pubsub#max_items': 'max',
  'pubsub#send_last_published_item': 'never',
  'pubsub#access_model': 'whitelist',
};

/** XEP-0402 3.1 and XEP-0048 3.2: `autojoin` is an xs:boolean. */
function readBool(v: string | undefined): boolean {
  return v === 'true' || v === '1';
}

function roomJid(v: string | undefined): BareJid | undefined {
  const j = tryJid(v);
  // A room is a bare JID; anything else is not a room bookmark.
  return j !== undefined && isBare(j) ? bare(j) : undefined;
}

function trimmed(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** `<conference xmlns='urn:xmpp:bookmarks:1'/>` for one bookmark (XEP-0402 3.1). */
export function buildConference(b: Omit<Bookmark, 'jid'>): Element {
  return xml(
    'conference',
    { xmlns: NS_BOOKMARKS2, name: b.name, autojoin: b.autojoin ? 'true' : undefined },
    b.nick !== undefined ? xml('nick', null, b.nick) : null,
    b.password !== undefined ? xml('password', null, b.password) : null,
    b.extensions ?? null,
  );
}

/**
 * One XEP-0402 item: its id is the room (3.1). Undefined when the id is not a bare JID or the
 * payload is not a `<conference/>` of this namespace.
 */
export function readConference(id: string | undefined, payload: Element | undefined): Bookmark | undefined {
  const jid = roomJid(id);
  if (jid === undefined || !payload?.is('conference', NS_BOOKMARKS2)) return undefined;
  return {
    jid,
    name: trimmed(payload.attr('name')),
    nick: trimmed(payload.getChildText('nick', NS_BOOKMARKS2)),
    password: payload.getChildText('password', NS_BOOKMARKS2),
    autojoin: readBool(payload.attr('autojoin')),
    extensions: payload.getChild('extensions', NS_BOOKMARKS2),
  };
}

/** The room bookmarks of a XEP-0048 `<storage/>` (invalid entries skipped; the first of a room wins). */
export function readStorage(storage: Element | undefined): Bookmark[] {
  if (!storage?.is('storage', NS_BOOKMARKS_LEGACY)) return [];
  const out = new Map<BareJid, Bookmark>();
  for (const c of storage.getChildren('conference', NS_BOOKMARKS_LEGACY)) {
    const jid = roomJid(c.attr('jid'));
    if (jid === undefined || out.has(jid)) continue;
    out.set(jid, {
      jid,
      name: trimmed(c.attr('name')),
      nick: trimmed(c.getChildText('nick', NS_BOOKMARKS_LEGACY)),
      password: c.getChildText('password', NS_BOOKMARKS_LEGACY),
      autojoin: readBool(c.attr('autojoin')),
      extensions: undefined,
    });
  }
  return [...out.values()];
}

/**
 * A XEP-0048 `<storage/>` holding `bookmarks`, keeping every child of `previous` that is not a
 * room bookmark (`<url/>` bookmarks, other clients' extensions) in place.
 */
export function buildStorage(bookmarks: readonly Bookmark[], previous?: Element): Element {
  const kept = (previous?.elements() ?? []).filter((c) => !c.is('conference', NS_BOOKMARKS_LEGACY));
  return xml(
    'storage',
    { xmlns: NS_BOOKMARKS_LEGACY },
    bookmarks.map((b) =>
      xml(
        'conference',
        { jid: b.jid, name: b.name, autojoin: b.autojoin ? 'true' : 'false' },
        b.nick !== undefined ? xml('nick', null, b.nick) : null,
        b.password !== undefined ? xml('password', null, b.password) : null,
      ),
    ),
    kept,
  );
}
