/**
 * The CLI's view of group chat (XEP-0045): rooms, join, say, invite, create. The adapter over the
 * library is library-rooms.ts; commands/rooms.ts uses only this, so its unit tests drive it with a
 * fake and no network.
 */

/** One room a service lists, with what its disco#info says (fields undefined when it did not answer). */
export interface RoomView {
  /** The room's bare JID. */
  jid: string;
  name: string | undefined;
  description: string | undefined;
  /** muc#roominfo_occupants. */
  occupants: number | undefined;
  /** non-anonymous, semi-anonymous, fully-anonymous. */
  anonymity: string | undefined;
  /** Needs a password (muc_passwordprotected). */
  password: boolean | undefined;
  /** muc_persistent (else temporary). */
  persistent: boolean | undefined;
  membersOnly: boolean | undefined;
  moderated: boolean | undefined;
  /** Keeps an archive (MUC MAM). */
  archive: boolean | undefined;
}

/**
 * What `join` prints, one per room event. `type` is the event; the other fields are XMPP names
 * (`from` is the occupant JID room/nick, `jid` the real JID where the room tells it).
 */
export interface RoomEventView {
  type:
    | 'joined'
    | 'join'
    | 'leave'
    | 'presence'
    | 'nick'
    | 'role'
    | 'affiliation'
    | 'subject'
    | 'message'
    | 'correction'
    | 'retraction'
    | 'notice'
    | 'private'
    | 'exit';
  room: string;
  /** The occupant (or the sender) concerned. */
  nick?: string | undefined;
  from?: string | undefined;
  /** Real JID (non-anonymous rooms, moderators). */
  jid?: string | undefined;
  /** XEP-0421 occupant id. */
  occupantId?: string | undefined;
  role?: string | undefined;
  affiliation?: string | undefined;
  show?: string | undefined;
  status?: string | undefined;
  /** Message and subject texts. */
  body?: string | undefined;
  subject?: string | undefined;
  id?: string | undefined;
  /** XEP-0203 delay: history from the room. */
  delay?: Date | undefined;
  /** XEP-0359 stanza-id the room stamped. */
  stanzaId?: string | undefined;
  /** correction (XEP-0308): the id of the occupant's own message it corrects; `body` is the new text. */
  replace?: string | undefined;
  /** retraction (XEP-0424): the id of the occupant's own message it retracts. */
  retract?: string | undefined;
  /** nick: the new nick. */
  newNick?: string | undefined;
  /** leave / exit: why (left, kicked, banned, destroyed, ...), and the text and actor. */
  reason?: string | undefined;
  text?: string | undefined;
  actor?: string | undefined;
  /** Sent by us. */
  own?: boolean | undefined;
  /** Part of the list sent while we joined. */
  initial?: boolean | undefined;
  /** notice: muc#user status codes. */
  statuses?: number[] | undefined;
  /** exit after a destroy: the alternate venue. */
  alternate?: string | undefined;
}

export interface JoinRequest {
  /** Nicks in order of preference (409 conflict: the next). */
  nicks: string[];
  password: string | undefined;
  /** Messages of history to ask for; undefined: the room's default. */
  history: number | undefined;
  /** A room that does not exist: create it as an instant room, or fail (item-not-found). */
  create: 'instant' | 'never';
  /** Called for every room event from the first occupant on (the occupant list included). */
  onEvent?: ((e: RoomEventView) => void) | undefined;
}

/** A room we are in. */
export interface JoinedRoom {
  readonly jid: string;
  /** Our nick (the one that was free). */
  readonly nick: string;
  /** The join made the room. */
  readonly created: boolean;
  /** Resolves on the room's reflection (with the id and the room's stanza-id), rejects on its error. */
  say(body: string): Promise<{ id: string; stanzaId: string | undefined }>;
  /** A private message to an occupant; resolves once the room handled it, rejects on its error. */
  sayPrivate(nick: string, body: string): Promise<{ id: string }>;
  /** Mediated invitation through the room; resolves once the room handled it. */
  invite(jid: string, reason: string | undefined): Promise<void>;
  /** Resolves once we are out (or it timed out). */
  leave(): Promise<void>;
  /** Resolves with our exit when the room puts us out (kicked, banned, destroyed, disconnected). */
  readonly exited: Promise<RoomEventView>;
}

/** The room's configuration form, as the CLI needs it. */
export interface ConfigField {
  var: string;
  type: string;
  label: string | undefined;
  values: string[];
  options: string[];
}

export interface CliRooms {
  /** The own server's conference service, or undefined when it has none. */
  service(): Promise<string | undefined>;
  /** The rooms a service lists, each with its disco#info. */
  list(service: string): Promise<RoomView[]>;
  /** Whether the room exists (disco#info answered; item-not-found: free). */
  exists(room: string): Promise<boolean>;
  join(room: string, request: JoinRequest): Promise<JoinedRoom>;
  /**
   * Create a reserved room (XEP-0045 10.1.3): join, take the configuration form, submit it with
   * `values` laid over (names as `fields` gives them; `values` may use only those), and stay in.
   * Rejects with CliError exit 1 when the room exists already.
   */
  create(
    room: string,
    nicks: string[],
    configure: (fields: ConfigField[]) => Record<string, string | boolean | string[]>,
  ): Promise<JoinedRoom>;
  /** A direct invitation (XEP-0249, with the room's `password` when given); resolves once the server has it. */
  inviteDirect(
    room: string,
    jid: string,
    reason: string | undefined,
    password?: string | undefined,
  ): Promise<void>;
}
