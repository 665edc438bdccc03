/**
 * Multi-User Chat public types: XEP-0045 v1.35 (with XEP-0249 v1.2 direct invitations,
 * XEP-0410 v1.1 self-ping, XEP-0421 v0.2 occupant-id, XEP-0245 v1.0 `/me`).
 *
 * Kept in one file, stable, for the apps and features built on `client.muc` (bookmarks,
 * the CLI's room commands, the full-screen chat). Behaviour is in muc.ts and room.ts, the
 * wire format in codec.ts.
 */
import type { StanzaError } from '../../errors.ts';
import type { BareJid, FullJid, Jid } from '../../jid.ts';
import type { Element } from '../../xml/element.ts';
import type { DataForm, FormValues } from '../forms/forms.ts';
import type { Message, OutgoingMessage } from '../messages/codec.ts';
import type { Show } from '../presence/codec.ts';
import type { Room } from './room.ts';

/** XEP-0045 5.1 roles (per visit). */
export type Role = 'moderator' | 'participant' | 'visitor' | 'none';
/** XEP-0045 5.2 affiliations (long-lived, per real bare JID). */
export type Affiliation = 'owner' | 'admin' | 'member' | 'outcast' | 'none';

/** Where a room object stands. */
export type RoomState = 'joining' | 'joined' | 'left';

/** One occupant of a room, as its latest presence from the room says. */
export interface Occupant {
  /** The nickname (the resource of the occupant JID). */
  nick: string;
  /** `room@service/nick`. */
  occupantJid: FullJid;
  /**
   * The real JID (full or bare) when the room tells it: non-anonymous rooms, or to
   * moderators in semi-anonymous ones. Only ever from the room's presence (never from a
   * message: anyone can put a muc#user item in a message).
   */
  jid: Jid | undefined;
  role: Role;
  affiliation: Affiliation;
  show: Show | undefined;
  status: string | undefined;
  /** XEP-0421 occupant-id, stamped by the room (stable across nick changes). */
  occupantId: string | undefined;
  /** This occupant is us (status 110). */
  self: boolean;
}

/** XEP-0045 7.2.1 history to ask for on join. */
export interface HistoryOptions {
  maxstanzas?: number | undefined;
  maxchars?: number | undefined;
  seconds?: number | undefined;
  since?: Date | undefined;
}

/** Options of `muc.join`. */
export interface JoinOptions {
  /** A nickname, or several in order of preference: on 409 conflict the next is tried. */
  nick: string | readonly string[];
  password?: string | undefined;
  /** How much history the room sends on join; `false` for none. Default: the room's default. */
  history?: HistoryOptions | false | undefined;
  /**
   * When the join creates the room (status 201):
   * - `instant` (default): accept the default configuration (XEP-0045 10.1.2);
   * - `reserved`: leave it locked for the app to `config()` / `configure()` / `cancelConfig()`;
   * - `never`: the room must exist; a new one is cancelled (destroyed) and the join rejects
   *   with StanzaError `item-not-found`.
   */
  create?: 'instant' | 'reserved' | 'never' | undefined;
  /** Milliseconds per nickname attempt until ERR_TIMEOUT. Default 30 000. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Called with the Room before the join goes out, so listeners see the occupant list and the
   * subject as they arrive (the promise resolves only after our own presence, which comes last).
   */
  onRoom?: ((room: Room) => void) | undefined;
}

/** What disco#info says about a room (XEP-0045 6.4, with the muc#roominfo form). */
export interface RoomInfo {
  jid: BareJid;
  /** The identity's name (or muc#roomconfig_roomname). */
  name: string | undefined;
  description: string | undefined;
  subject: string | undefined;
  lang: string | undefined;
  /** muc#roominfo_occupants. */
  occupants: number | undefined;
  /** muc_nonanonymous / muc_semianonymous / muc_fullyanonymous. */
  anonymity: 'non-anonymous' | 'semi-anonymous' | 'fully-anonymous' | undefined;
  passwordProtected: boolean;
  persistent: boolean;
  membersOnly: boolean;
  moderated: boolean;
  public: boolean;
  /** The room offers XEP-0421 occupant ids. */
  occupantId: boolean;
  /** The room keeps an archive (XEP-0313 `urn:xmpp:mam:2`). */
  archive: boolean;
  features: string[];
  /** The muc#roominfo form, when the room sent one. */
  form: DataForm | undefined;
}

/** A room listed by a service (disco#items). */
export interface RoomListing {
  jid: BareJid;
  name: string | undefined;
}

/** Why an occupant left (`leave` event). A nick change is not a leave: see `nick`. */
export type LeaveReason =
  | 'left'
  | 'kicked'
  | 'banned'
  | 'removed'
  | 'members-only'
  | 'shutdown'
  | 'technical'
  | 'destroyed';

/** Why we are out of a room (`exit` event). */
export type ExitReason =
  | LeaveReason
  /** Our stream ended without resumption (the server took us out of every room). */
  | 'disconnected'
  /** A self-ping (XEP-0410) or an error said we are not an occupant any more. */
  | 'not-joined'
  /** The room answered our presence with an error. */
  | 'error';

export interface OccupantEvent {
  occupant: Occupant;
  /** Part of the occupant list sent while we join (not someone arriving now). */
  initial: boolean;
  /** The presence it came in (the model keeps only the fields above: a big room stays small). */
  element: Element;
}

export interface LeaveEvent {
  occupant: Occupant;
  reason: LeaveReason;
  /** The moderator's or owner's text (kick, ban, destroy). */
  text: string | undefined;
  /** Who did it (a nick), when the room says. */
  actor: string | undefined;
}

export interface PresenceChangeEvent {
  occupant: Occupant;
  previous: Occupant;
  /** The presence it came in. */
  element: Element;
}

export interface NickEvent {
  occupant: Occupant;
  oldNick: string;
  newNick: string;
}

export interface RoleEvent {
  occupant: Occupant;
  previous: Role;
  actor: string | undefined;
  reason: string | undefined;
}

export interface AffiliationEvent {
  /** The occupant, when the affected user is in the room. */
  occupant: Occupant | undefined;
  /** The real JID, when known. */
  jid: Jid | undefined;
  affiliation: Affiliation;
  previous: Affiliation | undefined;
  actor: string | undefined;
  reason: string | undefined;
}

export interface SubjectEvent {
  /** The new subject ('' or undefined: cleared). */
  subject: string | undefined;
  /** Who set it (the nick), undefined when the room itself did. */
  nick: string | undefined;
  /** The subject sent as the last step of our join (XEP-0045 7.2.15). */
  initial: boolean;
}

/** A group message (type groupchat from an occupant). */
export interface GroupMessage {
  room: BareJid;
  /** The sender's nick. */
  nick: string;
  /** The sender as the occupant list knows them now (undefined: not in the room, e.g. history). */
  occupant: Occupant | undefined;
  body: string | undefined;
  /** The message, read by the messages codec (delay, stanza-id, origin-id, corrections...). */
  message: Message;
  /** The room's XEP-0359 stanza-id (the archive id), when it stamps one. */
  stanzaId: string | undefined;
  /** Sent by us (from our nick; `reflection` tells whether it was this session's `send`). */
  own: boolean;
  /** The room's copy of a `send()` of this client (matched by origin-id / id). */
  reflection: boolean;
  /** Delayed: history sent on join or fetched from the archive. */
  history: boolean;
  /** Where it came from: the live stream, or the room's archive (`room.ingest`). */
  source: 'live' | 'archive';
}

/**
 * A group message that corrects an earlier one of the SAME occupant (XEP-0308 v1.2 `replace`).
 * "Same" is decided by the room's XEP-0421 occupant-id where the room offers it, else by the
 * occupant's real JID where the room told both, else by nick. A `replace` naming a message of
 * another occupant, or one this room object never saw, is no correction: it comes as a plain
 * `message` (its text is shown as new text, never put in someone else's mouth).
 */
export interface GroupCorrection {
  room: BareJid;
  /** The corrector's nick (now: it may differ from `original.nick` after a nick change). */
  nick: string;
  occupant: Occupant | undefined;
  /** The id the correction names (`<replace id/>`). */
  replaces: string;
  /** The message corrected, as first received. */
  original: GroupMessage;
  /** The new text. */
  body: string | undefined;
  message: Message;
  stanzaId: string | undefined;
  own: boolean;
  source: 'live' | 'archive';
}

/**
 * A group message that retracts an earlier one of the SAME occupant (XEP-0424 v0.4 `retract`,
 * by the room's stanza-id as the spec asks in rooms, or by the message's id / origin-id as
 * older clients send it). Same-occupant rule as for corrections; a retraction naming another
 * occupant's message, or one never seen, is dropped (its body is only the XEP-0428 fallback).
 */
export interface GroupRetraction {
  room: BareJid;
  nick: string;
  occupant: Occupant | undefined;
  /** The id the retraction names. */
  retracts: string;
  /** The message retracted, as first received. */
  original: GroupMessage;
  message: Message;
  own: boolean;
  source: 'live' | 'archive';
}

/** A message from the room itself (its bare JID): never credited to an occupant. */
export interface RoomNotice {
  room: BareJid;
  body: string | undefined;
  /** muc#user status codes (104 configuration changed, 170 logging on, 172 non-anonymous...). */
  statuses: number[];
  message: Message;
}

/** A private message (type chat from `room/nick`). */
export interface PrivateMessage {
  room: BareJid;
  nick: string;
  occupant: Occupant | undefined;
  body: string | undefined;
  message: Message;
}

/** Our own removal from a room. */
export interface RoomExit {
  reason: ExitReason;
  /** The reason text given (kick, ban, destroy...). */
  text: string | undefined;
  actor: string | undefined;
  /** Destroyed: where to go instead (XEP-0045 10.9 alternate venue) and its password. */
  alternate: BareJid | undefined;
  password: string | undefined;
  /** For `error`: what the room said. */
  error: StanzaError | undefined;
  /** The library rejoins by itself (after a reconnect or a failed self-ping). */
  rejoin: boolean;
}

export interface RoomErrorEvent {
  error: StanzaError;
  element: Element;
}

/** Every event a Room emits. */
export interface RoomEvents {
  /** Someone joined (or was in the list sent while we join: `initial`). */
  join: OccupantEvent;
  leave: LeaveEvent;
  /** Show or status of an occupant changed. */
  presence: PresenceChangeEvent;
  nick: NickEvent;
  role: RoleEvent;
  affiliation: AffiliationEvent;
  subject: SubjectEvent;
  message: GroupMessage;
  /** An occupant corrected one of their own earlier messages (XEP-0308). */
  correction: GroupCorrection;
  /** An occupant retracted one of their own earlier messages (XEP-0424). */
  retraction: GroupRetraction;
  notice: RoomNotice;
  private: PrivateMessage;
  /** An error from the room that answers nothing pending. */
  error: RoomErrorEvent;
  /** We are out (kicked, banned, destroyed, disconnected...): state is `left` or, with `rejoin`, `joining`. */
  exit: RoomExit;
  /** We are in (after a join or a rejoin). */
  joined: { room: BareJid; nick: string; rejoined: boolean };
  state: RoomState;
}

/** A received invitation (direct XEP-0249, or mediated through the room: XEP-0045 7.8.2). */
export interface MucInvite {
  room: BareJid;
  /** The inviter: the sender (direct) or the real JID the room names (mediated). */
  from: Jid | undefined;
  reason: string | undefined;
  password: string | undefined;
  kind: 'direct' | 'mediated';
  /** XEP-0249 / XEP-0045 7.8: the invitation continues a one-to-one chat. */
  continue: boolean;
  thread: string | undefined;
  element: Element;
}

/** Someone declined our mediated invitation (XEP-0045 7.8.2). */
export interface MucDecline {
  room: BareJid;
  /** The invitee who declined. */
  from: Jid | undefined;
  reason: string | undefined;
  element: Element;
}

/** Every event `client.muc` emits (the Room type is in room.ts). */
export interface MucEventsOf<R> {
  invite: MucInvite;
  decline: MucDecline;
  /** A room we joined (or rejoined). */
  joined: R;
  /** A room we are out of (left, kicked, disconnected...). */
  left: { room: R; exit: RoomExit };
}

/** What `room.send` takes: a body or message options (`to` and `type` are the room's). */
export type GroupMessageInput = string | Omit<OutgoingMessage, 'to' | 'type'>;

/** An affiliation list entry (XEP-0045 9.5, 10.5...). */
export interface AffiliationItem {
  jid: Jid;
  affiliation: Affiliation;
  nick: string | undefined;
  reason: string | undefined;
}

/** Tunables of the MUC feature. */
export interface MucOptions {
  /**
   * XEP-0410 self-ping of a joined room after this many ms without traffic from it.
   * Default 600 000 (10 min); 0 switches the periodic check off (the check after a
   * stream resumption stays).
   */
  selfPingInterval?: number | undefined;
  /** Milliseconds to wait for a room's answer (reflection, leave, nick change). Default 30 000. */
  timeout?: number | undefined;
  /** Rejoin rooms after a new session (reconnect without resumption). Default true. */
  rejoin?: boolean | undefined;
}

export type { DataForm, FormValues };
