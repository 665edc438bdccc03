/**
 * The CLI's view of a logged-in client: the few things its commands need, in the CLI's words.
 * The adapter over the library (library.ts) is the only file that knows the library's client API,
 * so commands stay small and unit tests drive them with a fake session and no network.
 */
import type { ResolvedAccount } from './account.ts';

/** An incoming message as the CLI prints it; field names are the XMPP names. */
import type { CliRegistration } from './session-accounts.ts';
import type { CliFiles } from './session-files.ts';
import type { CliRooms } from './session-rooms.ts';
import type { CliHistory } from './store/types.ts';

export interface IncomingMessage {
  from: string | undefined;
  to: string | undefined;
  id: string | undefined;
  type: string | undefined;
  body: string | undefined;
  subject: string | undefined;
  thread: string | undefined;
  /** XEP-0203 delayed delivery (offline storage): when it was first sent. */
  delay: Date | undefined;
  /** Who added the delay (usually the server). */
  delayFrom: string | undefined;
  /** XEP-0066 out-of-band data. */
  oob: { url: string; desc: string | undefined }[];
  /** XEP-0071 XHTML-IM: the `<html/>` element serialized, and its text (line breaks kept). */
  xhtml?: { xml: string; text: string } | undefined;
  /** XEP-0023 message expiration: the lifetime in seconds the sender gave. */
  expire?: number | undefined;
  /** XEP-0033 extended addressing: the addresses the message names (to, cc, replyto...). */
  addresses?: { type: string; jid: string | undefined }[] | undefined;
  /** Sent by another client of our account (a sent carbon, XEP-0280): from us, to `to`. */
  outgoing?: boolean | undefined;
}

/**
 * What `listen` prints beside messages. `event` is the `--json` event name; the other fields are
 * the `--json` fields (XMPP names), absent ones undefined.
 */
export type CliEvent =
  | {
      event: 'presence';
      from: string;
      /** available or unavailable. */
      type: 'available' | 'unavailable';
      show: string | undefined;
      status: string | undefined;
      priority: number | undefined;
    }
  | {
      event: 'subscription';
      from: string;
      /** subscribe (a request to see our presence), subscribed, unsubscribe, unsubscribed. */
      type: 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';
      status: string | undefined;
      nick: string | undefined;
    }
  | { event: 'receipt'; from: string; id: string }
  | { event: 'chatstate'; from: string; state: string; thread: string | undefined }
  | {
      event: 'invite';
      /** `direct` (XEP-0249 / jabber:x:conference), or `mediated` through the room (XEP-0045 7.8.2). */
      kind: 'direct' | 'mediated';
      from: string;
      room: string;
      reason: string | undefined;
      password: string | undefined;
      thread: string | undefined;
    }
  | {
      event: 'roster';
      /** added, updated, removed (our roster changed); suggested (XEP-0144, from `from`). */
      change: 'added' | 'updated' | 'removed' | 'suggested';
      /** The suggester (only for `suggested`). */
      from: string | undefined;
      /** XEP-0144 action for `suggested`: add, delete, modify. */
      action: string | undefined;
      jid: string;
      name: string | undefined;
      groups: string[];
      subscription: string | undefined;
      ask: string | undefined;
    };

export interface OutgoingMessage {
  to: string;
  body: string | undefined;
  type: 'chat' | 'normal' | 'headline';
  subject: string | undefined;
  thread: string | undefined;
  /** XEP-0184: ask the recipient for a receipt. */
  receipt?: boolean | undefined;
  /** XEP-0023: the message's lifetime in seconds. */
  expire?: number | undefined;
  /** XEP-0066 out-of-band data. */
  oob?: { url: string; desc: string | undefined }[] | undefined;
  /** XEP-0071 XHTML-IM markup (the content of an XHTML `<body/>`). */
  xhtml?: string | undefined;
  /**
   * XEP-0033 carbon-copy recipients: one message with extended addressing through the server's
   * multicast service where it has one, else one message each (each naming all recipients).
   */
  cc?: string[] | undefined;
}

/** What a command may do with a connected account. */
export interface CliSession {
  /** The bound full JID. */
  readonly jid: string;
  /**
   * Sends a message and resolves once the server has it (today: the answer to a ping sent after
   * it, which works with and without stream management). Rejects with a stanza error if the
   * server bounced it before that, or ERR_TIMEOUT.
   */
  sendMessage(
    msg: OutgoingMessage,
  ): Promise<{ id: string; ids?: string[] | undefined; via?: 'multicast' | 'per-recipient' | undefined }>;
  /**
   * Resolves when the recipient's receipt (XEP-0184) for our message `id` arrives; rejects with
   * ERR_TIMEOUT after `seconds`.
   */
  waitReceipt(id: string, seconds: number, signal?: AbortSignal): Promise<{ from: string }>;
  /**
   * Calls `listener` for every non-message event `listen` prints (presence, subscription,
   * receipt, chat state, invitation, roster); held from login until the first listener.
   */
  onEvent(listener: (e: CliEvent) => void): () => void;
  /** Calls `listener` for every incoming message (offline ones too); returns the teardown. */
  onMessage(listener: (msg: IncomingMessage) => void): () => void;
  /** Calls `listener` when the connection fails for good (no more reconnecting). */
  onFatal(listener: (err: Error) => void): () => void;
  /** Sends unavailable presence, closes the stream, waits (bounded) for the server's close. */
  disconnect(): Promise<void>;
  /**
   * Resolves once the server has handled everything we sent so far (the answer to a ping: a
   * server handles one client's stanzas in order, RFC 6120 10.1).
   */
  roundTrip(): Promise<void>;
  /** The contact list and subscriptions (RFC 6121). */
  readonly roster: CliRoster;
  /** Our presence (RFC 6121 4, XEP-0186). */
  readonly presence: CliPresence;
  /** What the account tells about itself: vCard, nickname, avatar. */
  readonly profile: CliProfile;
  /** Account data the server keeps: blocklist, private storage, the buddies-only switch; disco. */
  readonly account: CliAccountData;
  /** Group chat (XEP-0045). */
  readonly rooms: CliRooms;
  /** Files: upload, offers, downloads. */
  readonly files: CliFiles;
  /** The account's registration (XEP-0077). */
  readonly registration: CliRegistration;
  /**
   * The local message history this session records into (store/), with archive sync; undefined
   * when no database could be opened (SessionParams `dataDir` undefined or unusable).
   */
  readonly history?: CliHistory | undefined;
}

/** A roster item as the CLI prints it; field names are the XMPP names (RFC 6121 2.1.2). */
export interface RosterEntry {
  jid: string;
  name: string | undefined;
  groups: string[];
  subscription: 'none' | 'to' | 'from' | 'both';
  /** `subscribe` while our request waits for an answer. */
  ask: 'subscribe' | undefined;
  /** Pre-approved (RFC 6121 3.4). */
  approved: boolean;
}

/** What we know of a contact's presence (its best resource). */
export interface ContactStatus {
  available: boolean;
  /** chat, away, xa, dnd; undefined for plain available (or unavailable). */
  show: string | undefined;
  status: string | undefined;
  /** How many resources are available. */
  resources: number;
}

export interface CliRoster {
  /** The whole roster, once the server sent it. */
  list(): Promise<RosterEntry[]>;
  /** One item, once the roster is loaded; undefined when the contact is not in it. */
  get(jid: string): Promise<RosterEntry | undefined>;
  /** Adds or changes an item; omitted fields keep their current values. Resolves when the server accepted it. */
  set(jid: string, item: { name?: string | undefined; groups?: string[] | undefined }): Promise<void>;
  remove(jid: string): Promise<void>;
  /** Sends a subscription presence and waits until the server has it. */
  subscription(
    kind: 'subscribe' | 'unsubscribe' | 'approve' | 'deny',
    jid: string,
    status?: string | undefined,
  ): Promise<void>;
  /**
   * Waits until the contacts' presence has come in after our initial presence: one round trip,
   * then until no presence arrived for a moment (capped), since a server answers its probes
   * asynchronously (ejabberd) or before the round trip (Prosody).
   */
  settlePresence(): Promise<void>;
  /** The presence of a contact, as heard since login (needs a session with presence). */
  status(jid: string): ContactStatus | undefined;
  /** Suggests contacts to JID (XEP-0144 roster item exchange); resolves once the server has it. */
  sendItems(
    to: string,
    items: { jid: string; name?: string | undefined; groups?: string[] | undefined }[],
  ): Promise<{ id: string }>;
}

export type ShowName = 'chat' | 'away' | 'xa' | 'dnd';

export interface CliPresence {
  /** Broadcasts available presence with this show, status and priority. */
  set(p: {
    show: ShowName | undefined;
    status: string | undefined;
    priority: number | undefined;
  }): Promise<void>;
  /** Becomes invisible (XEP-0186); rejects with ERR_UNSUPPORTED where the server does not offer it. */
  invisible(): Promise<void>;
}

/** A vCard by its lower-cased vCard names (XEP-0054): `fn`, `nickname`, `email` (a list)... */
export type VCardFields = Record<string, unknown>;

export interface VCardPatch {
  fn: string;
  nickname?: string | undefined;
  email?: string | undefined;
  url?: string | undefined;
  bday?: string | undefined;
  desc?: string | undefined;
  photo?: { type: string; bytes: Uint8Array } | undefined;
}

/** XEP-0084 metadata of an avatar. */
export interface AvatarMeta {
  id: string;
  type: string;
  bytes: number;
  width: number | undefined;
  height: number | undefined;
}

export interface CliProfile {
  /** The vCard of `jid` (ours without), or undefined when there is none. */
  vcard(jid?: string): Promise<VCardFields | undefined>;
  /** Changes the given fields of our vCard, keeping the others ('' removes a field). */
  updateVCard(patch: VCardPatch): Promise<VCardFields>;
  /** Our published nickname (XEP-0172), or undefined. */
  nick(): Promise<string | undefined>;
  publishNick(nick: string): Promise<void>;
  /** Our current avatar's metadata (XEP-0084), or undefined. */
  avatar(): Promise<AvatarMeta | undefined>;
  publishAvatar(bytes: Uint8Array, meta: { type: string; width?: number; height?: number }): Promise<string>;
}

/** A disco#info answer (XEP-0030). */
export interface DiscoInfoView {
  identities: { category: string; type: string; name?: string | undefined; lang?: string | undefined }[];
  features: string[];
  /** XEP-0128 forms: FORM_TYPE and fields by var. */
  forms: { type: string | undefined; fields: Record<string, string[]> }[];
}

export interface CliAccountData {
  blocklist(): Promise<string[]>;
  block(jids: string[]): Promise<void>;
  /** `'all'` unblocks everyone (XEP-0191 3.5). */
  unblock(jids: string[] | 'all'): Promise<void>;
  /** The buddies-only switch (in private storage). */
  buddiesOnly(): Promise<boolean>;
  setBuddiesOnly(on: boolean): Promise<void>;
  /** Stores XML (its root in `namespace`) in private storage (XEP-0049). */
  privateSet(namespace: string, xmlText: string): Promise<void>;
  /** The stored element (serialized) under `<name xmlns=namespace/>`, or undefined. */
  privateGet(namespace: string, name: string): Promise<string | undefined>;
  discoInfo(to: string | undefined, node: string | undefined): Promise<DiscoInfoView>;
  discoItems(
    to: string | undefined,
    node: string | undefined,
  ): Promise<{ jid: string; node: string | undefined; name: string | undefined }[]>;
  /** The domain of our account (disco's default target). */
  readonly domain: string;
}

export interface SessionParams {
  account: ResolvedAccount;
  password: string;
  /** Send initial presence (needed to receive messages to the bare JID and offline messages). */
  presence: boolean;
  /**
   * The initial presence's show, status and priority (a negative priority receives neither
   * messages to the bare JID nor offline messages: RFC 6121 8.5.2.1.1, XEP-0160).
   */
  presenceState?:
    | { show?: ShowName | undefined; status?: string | undefined; priority?: number | undefined }
    | undefined;
  /** Reconnect after a loss (long-running commands); one-shot commands fail instead. */
  reconnect: boolean;
  /** Wire-log sink for `--debug`, already redacted by the library; the CLI sanitizes it. */
  debug: ((line: string) => void) | undefined;
  /** Aborts a connect in progress (Ctrl-C). */
  signal: AbortSignal;
  /**
   * The data directory (store/paths.ts): the history database and, per account, the session
   * state the library keeps (roster cache, outbox, stream management, archive position).
   * Undefined: nothing is kept beyond the process.
   */
  dataDir?: string | undefined;
  /** A message for the person (stderr), e.g. that the history database could not be opened. */
  note?: ((text: string) => void) | undefined;
}

/** Creates and connects a session; rejects with the library's typed error when the first attempt fails. */
export type SessionFactory = (params: SessionParams) => Promise<CliSession>;
