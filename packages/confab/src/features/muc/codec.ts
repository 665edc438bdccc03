/**
 * Multi-User Chat wire format: XEP-0045 "Multi-User Chat" v1.35 (`muc`, `muc#user`,
 * `muc#admin`, `muc#owner`, `muc#unique`, the disco features and the muc#roominfo form),
 * XEP-0249 "Direct MUC Invitations" v1.2 (read by the messages codec), XEP-0421
 * "Anonymous unique occupant identifiers" v0.2, XEP-0410 "MUC Self-Ping" v1.1 (the ping
 * itself is XEP-0199), XEP-0245 "The /me Command" v1.0.
 *
 * Reading is forgiving (unknown roles and affiliations read as `none`, unknown status codes
 * are kept as numbers); writing is fixed order, so fixtures are stable.
 */
import { type BareJid, bare, type Jid, tryJid } from '../../jid.ts';
import { type Element, xml } from '../../xml/element.ts';
import { type DataForm, findForm, getField, parseBoolean } from '../forms/forms.ts';
import type { Affiliation, AffiliationItem, HistoryOptions, Role, RoomInfo } from './types.ts';

export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
export const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
export const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
export const NS_MUC_UNIQUE = 'http://jabber.org/protocol/muc#unique';
export const NS_ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig';
export const NS_ROOMINFO = 'http://jabber.org/protocol/muc#roominfo';
export const NS_OCCUPANT_ID = 'urn:xmpp:occupant-id:0';
export const NS_PING = 'urn:xmpp:ping';
export const NS_CONFERENCE = 'jabber:x:conference';

export const ROLES = ['moderator', 'participant', 'visitor', 'none'] as const;
export const AFFILIATIONS = ['owner', 'admin', 'member', 'outcast', 'none'] as const;

/** XEP-0045 15.6 status codes this library acts on. */
export const STATUS = {
  nonAnonymous: 100,
  affiliationChanged: 101,
  configChanged: 104,
  self: 110,
  loggingOn: 170,
  loggingOff: 171,
  nowNonAnonymous: 172,
  nowSemiAnonymous: 173,
  created: 201,
  nickAssigned: 210,
  banned: 301,
  nickChanged: 303,
  kicked: 307,
  affiliationRemoved: 321,
  membersOnlyRemoved: 322,
  shutdown: 332,
  technical: 333,
} as const;

function asRole(v: string | undefined): Role {
  return (ROLES as readonly string[]).includes(v ?? '') ? (v as Role) : 'none';
}
function asAffiliation(v: string | undefined): Affiliation {
  return (AFFILIATIONS as readonly string[]).includes(v ?? '') ? (v as Affiliation) : 'none';
}

/** A muc#user `<item/>` (XEP-0045 presence and admin lists). */
export interface MucItem {
  role: Role | undefined;
  affiliation: Affiliation | undefined;
  jid: Jid | undefined;
  nick: string | undefined;
  reason: string | undefined;
  actor: string | undefined;
}

/** Everything a `<x xmlns='muc#user'/>` can hold. */
export interface MucUser {
  statuses: number[];
  item: MucItem | undefined;
  destroy: { jid: BareJid | undefined; reason: string | undefined; password: string | undefined } | undefined;
  invite:
    | {
        from: Jid | undefined;
        to: Jid | undefined;
        reason: string | undefined;
        continue: boolean;
        thread: string | undefined;
      }
    | undefined;
  decline: { from: Jid | undefined; to: Jid | undefined; reason: string | undefined } | undefined;
  password: string | undefined;
}

function readItem(i: Element, ns: string): MucItem {
  const role = i.attr('role');
  const aff = i.attr('affiliation');
  const actor = i.getChild('actor', ns);
  return {
    role: role === undefined ? undefined : asRole(role),
    affiliation: aff === undefined ? undefined : asAffiliation(aff),
    jid: tryJid(i.attr('jid')),
    nick: i.attr('nick'),
    reason: i.getChildText('reason', ns),
    actor: actor?.attr('nick') ?? actor?.attr('jid'),
  };
}

/** Read the muc#user `<x/>` of a stanza, or undefined when it has none. */
export function readMucUser(stanza: Element): MucUser | undefined {
  const x = stanza.getChild('x', NS_MUC_USER);
  if (!x) return undefined;
  const statuses = x
    .getChildren('status', NS_MUC_USER)
    .map((s) => Number(s.attr('code')))
    .filter((n) => Number.isInteger(n));
  const item = x.getChild('item', NS_MUC_USER);
  const d = x.getChild('destroy', NS_MUC_USER);
  const inv = x.getChild('invite', NS_MUC_USER);
  const dec = x.getChild('decline', NS_MUC_USER);
  const dj = tryJid(d?.attr('jid'));
  return {
    statuses,
    item: item ? readItem(item, NS_MUC_USER) : undefined,
    destroy: d
      ? {
          jid: dj === undefined ? undefined : bare(dj),
          reason: d.getChildText('reason', NS_MUC_USER),
          password: d.getChildText('password', NS_MUC_USER),
        }
      : undefined,
    invite: inv
      ? {
          from: tryJid(inv.attr('from')),
          to: tryJid(inv.attr('to')),
          reason: inv.getChildText('reason', NS_MUC_USER),
          continue: inv.getChild('continue', NS_MUC_USER) !== undefined,
          thread: inv.getChild('continue', NS_MUC_USER)?.attr('thread'),
        }
      : undefined,
    decline: dec
      ? {
          from: tryJid(dec.attr('from')),
          to: tryJid(dec.attr('to')),
          reason: dec.getChildText('reason', NS_MUC_USER),
        }
      : undefined,
    password: x.getChildText('password', NS_MUC_USER),
  };
}

/** XEP-0421: the `<occupant-id/>` a room stamps (only believed from the room). */
export function readOccupantId(stanza: Element): string | undefined {
  return stanza.getChild('occupant-id', NS_OCCUPANT_ID)?.attr('id');
}

// ---------------------------------------------------------------- building

/** XEP-0045 7.2.2 join: `<x xmlns='muc'>` with the password and history limits. */
export function joinElement(o: {
  password?: string | undefined;
  history?: HistoryOptions | false | undefined;
}): Element {
  const h = o.history === false ? { maxchars: 0 } : o.history;
  return xml(
    'x',
    { xmlns: NS_MUC },
    h
      ? xml('history', {
          maxchars: h.maxchars,
          maxstanzas: h.maxstanzas,
          seconds: h.seconds,
          since: h.since?.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        })
      : null,
    o.password !== undefined ? xml('password', null, o.password) : null,
  );
}

/** A muc#admin item request (kick, ban, roles, affiliations: XEP-0045 8, 9). */
export function adminQuery(item: {
  nick?: string | undefined;
  jid?: string | undefined;
  role?: Role | undefined;
  affiliation?: Affiliation | undefined;
  reason?: string | undefined;
}): Element {
  return xml(
    'query',
    { xmlns: NS_MUC_ADMIN },
    xml(
      'item',
      { affiliation: item.affiliation, jid: item.jid, nick: item.nick, role: item.role },
      item.reason !== undefined ? xml('reason', null, item.reason) : null,
    ),
  );
}

/** A muc#admin list request (XEP-0045 9.5 etc.). */
export function adminListQuery(affiliation: Affiliation): Element {
  return xml('query', { xmlns: NS_MUC_ADMIN }, xml('item', { affiliation }));
}

/** Read a muc#admin list result. */
export function readAdminList(iq: Element): AffiliationItem[] {
  const q = iq.getChild('query', NS_MUC_ADMIN);
  if (!q) return [];
  return q
    .getChildren('item', NS_MUC_ADMIN)
    .map((i) => readItem(i, NS_MUC_ADMIN))
    .filter((i): i is MucItem & { jid: Jid } => i.jid !== undefined)
    .map((i) => ({ jid: i.jid, affiliation: i.affiliation ?? 'none', nick: i.nick, reason: i.reason }));
}

/** A muc#owner query, empty (config request) or holding `child` (submit, cancel, destroy). */
export function ownerQuery(child?: Element): Element {
  return xml('query', { xmlns: NS_MUC_OWNER }, child ?? null);
}

/** XEP-0045 10.9 destroy. */
export function destroyElement(o: {
  reason?: string | undefined;
  alternate?: string | undefined;
  password?: string | undefined;
}): Element {
  return xml(
    'destroy',
    { jid: o.alternate },
    o.password !== undefined ? xml('password', null, o.password) : null,
    o.reason !== undefined ? xml('reason', null, o.reason) : null,
  );
}

/** XEP-0045 7.8.2 mediated invitation (to the room). */
export function inviteMessage(room: string, to: string, reason?: string, id?: string): Element {
  return xml(
    'message',
    { to: room, id },
    xml(
      'x',
      { xmlns: NS_MUC_USER },
      xml('invite', { to }, reason !== undefined ? xml('reason', null, reason) : null),
    ),
  );
}

/** XEP-0045 7.8.2 decline of a mediated invitation (to the room, for the inviter). */
export function declineMessage(room: string, to: string | undefined, reason?: string, id?: string): Element {
  return xml(
    'message',
    { to: room, id },
    xml(
      'x',
      { xmlns: NS_MUC_USER },
      xml('decline', { to }, reason !== undefined ? xml('reason', null, reason) : null),
    ),
  );
}

/** XEP-0249 direct invitation. */
export function directInvite(
  to: string,
  room: string,
  o: { reason?: string | undefined; password?: string | undefined; id?: string | undefined } = {},
): Element {
  return xml(
    'message',
    { to, id: o.id },
    xml('x', { xmlns: NS_CONFERENCE, jid: room, password: o.password, reason: o.reason }),
  );
}

// ---------------------------------------------------------------- room info

/** Read a room's disco#info (features and the muc#roominfo form: XEP-0045 6.4, 15.5.4). */
export function readRoomInfo(
  jid: BareJid,
  info: {
    identities: Array<{ category: string; type: string; name?: string | undefined }>;
    features: string[];
  },
  query: Element | undefined,
): RoomInfo {
  const f = new Set(info.features);
  const form: DataForm | undefined = query ? findForm(query, NS_ROOMINFO) : undefined;
  const v = (name: string) => (form ? getField(form, name)?.values[0] : undefined);
  const n = v('muc#roominfo_occupants');
  const occupants = n !== undefined && /^\d+$/.test(n.trim()) ? Number(n) : undefined;
  const identity = info.identities.find((i) => i.category === 'conference');
  const name = identity?.name || v('muc#roomconfig_roomname') || undefined;
  const desc = v('muc#roominfo_description');
  const subject = v('muc#roominfo_subject');
  return {
    jid,
    name,
    description: desc === '' ? undefined : desc,
    subject: subject === '' ? undefined : subject,
    lang: v('muc#roominfo_lang') || undefined,
    occupants,
    anonymity: f.has('muc_nonanonymous')
      ? 'non-anonymous'
      : f.has('muc_semianonymous')
        ? 'semi-anonymous'
        : f.has('muc_fullyanonymous')
          ? 'fully-anonymous'
          : undefined,
    passwordProtected: f.has('muc_passwordprotected'),
    persistent: f.has('muc_persistent'),
    membersOnly: f.has('muc_membersonly'),
    moderated: f.has('muc_moderated'),
    public:
      f.has('muc_public') || (!f.has('muc_hidden') && parseBoolean(v('muc#roomconfig_publicroom')) === true),
    occupantId: f.has(NS_OCCUPANT_ID),
    archive: f.has('urn:xmpp:mam:2'),
    features: [...info.features],
    form,
  };
}

// ---------------------------------------------------------------- XEP-0245

/**
 * XEP-0245: render a `/me` message as an action ("/me waves" from Nick -> "Nick waves").
 * Undefined when the body is not a /me command (only `/me ` at the very start counts, 4.).
 *
 * @example
 * renderMe('/me waves', 'Romeo') // 'Romeo waves'
 */
export function renderMe(body: string | undefined, nick: string): string | undefined {
  if (body === undefined || !body.startsWith('/me ')) return undefined;
  return `${nick} ${body.slice(4)}`;
}
