/**
 * What the full-screen client needs from a logged-in account, in the client's words: one
 * interface, so the window/roster/input logic is tested against a fake (fake-backend in the
 * tests) and only library-backend.ts knows the library's API. Everything in these events is
 * remote and raw: the view sanitizes it (sanitize.ts) before it reaches the terminal.
 */

export type ConnState =
  | 'offline'
  | 'connecting'
  | 'negotiating'
  | 'online'
  | 'reconnecting'
  | 'disconnecting';
export type Show = 'chat' | 'away' | 'xa' | 'dnd';

export interface StatusEvent {
  state: ConnState;
  /** While reconnecting: when the next attempt starts (ms since the epoch) and its number. */
  retryAt?: number | undefined;
  attempt?: number | undefined;
  /** Why the connection was lost or the last attempt failed. */
  error?: string | undefined;
  /** True when an `online` resumed the stream-management session (nothing lost). */
  resumed?: boolean | undefined;
}

export interface InMessage {
  /** Full JID of the sender (a room occupant: room@service/nick). */
  from: string;
  to: string | undefined;
  id: string | undefined;
  type: 'chat' | 'normal' | 'headline' | 'groupchat' | 'error';
  body: string | undefined;
  subject: string | undefined;
  thread: string | undefined;
  /** When it was first sent, for offline or archived messages. */
  delay: Date | undefined;
  oob: { url: string; desc: string | undefined }[];
  /** A carbon copy of a message our other client sent (XEP-0280): shown as ours. */
  outgoing: boolean;
  /** Fetched from the server's archive (XEP-0313) rather than delivered live. */
  archived?: boolean | undefined;
  /** For type error: what went wrong. */
  error: string | undefined;
}

export interface Contact {
  jid: string;
  name: string | undefined;
  groups: readonly string[];
  subscription: 'none' | 'to' | 'from' | 'both';
  /** Our subscription request waits for their answer. */
  pending: boolean;
  available: boolean;
  show: Show | undefined;
  status: string | undefined;
  /** Full JIDs of the available resources, best first. */
  resources: readonly string[];
}

/** What changed about a sent message. */
export type Delivery = 'queued' | 'sent' | 'acked' | 'received' | 'failed';

export interface RoomOccupant {
  nick: string;
  role: string | undefined;
  affiliation: string | undefined;
  show: Show | undefined;
  status: string | undefined;
  jid: string | undefined;
}

export interface BackendEvents {
  status: StatusEvent;
  message: InMessage;
  /** A verified XEP-0308 correction: replace the body of message `id` from `from`. */
  correction: { id: string; from: string; body: string };
  /** Our message `id` was acked by the server, received by the peer (XEP-0184), or bounced. */
  delivery: { id: string; state: Delivery; error?: string | undefined };
  chatState: { from: string; state: 'active' | 'composing' | 'paused' | 'inactive' | 'gone' };
  /** The roster or a contact's presence changed. */
  contacts: undefined;
  /** Someone asks to see our presence. */
  request: { from: string; status: string | undefined; nick: string | undefined };
  /** Answers to subscriptions: they approved, refused, or stopped watching us. */
  subscription: { from: string; type: 'subscribed' | 'unsubscribed' | 'unsubscribe' };
  invitation: { from: string; room: string; reason: string | undefined; password: string | undefined };
  /** One line of the wire log, already redacted by the library. */
  wire: { line: string };
  /** Something failed in the background. */
  problem: { text: string };
  /** A room's state changed (occupants, subject, our nick); `room` is the bare room JID. */
  room: { room: string; event: string; text?: string | undefined; nick?: string | undefined };
  /** A file offered to us (XEP-0066 iq form); answer it with `files.accept` or `files.decline`. */
  offer: FileOffer;
}

/** An inbound XEP-0066 iq offer: nothing is fetched unless the user accepts it. */
export interface FileOffer {
  /** Ours, to answer it by. */
  id: string;
  /** The sender's full JID. */
  from: string;
  url: string;
  /** The URL's last path segment made safe (no separators, leading dots, controls). */
  name: string;
  desc: string | undefined;
}

export interface OwnPresenceView {
  /** The show on the wire now (auto-away included). */
  show: Show | undefined;
  status: string | undefined;
  /** Auto-away made it so. */
  auto: boolean;
  invisible: boolean;
}

/** Group chat, where the library offers it (XEP-0045). */
export interface RoomsBackend {
  join(room: string, nick: string, password?: string | undefined): Promise<void>;
  leave(room: string, status?: string | undefined): Promise<void>;
  send(room: string, body: string): Promise<{ id: string }>;
  sendPrivate(room: string, nick: string, body: string): Promise<{ id: string }>;
  setNick(room: string, nick: string): Promise<void>;
  setSubject(room: string, subject: string): Promise<void>;
  invite(room: string, jid: string, reason?: string | undefined): Promise<void>;
  kick(room: string, nick: string, reason?: string | undefined): Promise<void>;
  ban(room: string, jid: string, reason?: string | undefined): Promise<void>;
  occupants(room: string): RoomOccupant[];
  subject(room: string): string | undefined;
  ownNick(room: string): string | undefined;
  joined(): string[];
}

/** Files, where the library offers them. */
export interface FilesBackend {
  /** Uploads (XEP-0363) and resolves with the URL; `onProgress` as bytes go out. */
  upload(path: string, onProgress: (done: number, total: number | undefined) => void): Promise<string>;
  /**
   * Offers a file to a JID (XEP-0066 iq, served by a one-file server of ours); a bare JID means
   * its best resource. Resolves with whether it was accepted.
   */
  offer(
    path: string,
    to: string,
    onProgress: (done: number, total: number | undefined) => void,
  ): Promise<boolean>;
  /**
   * Its size in bytes, when the sender's server says (an HTTP HEAD; XEP-0066 offers announce
   * none). Only asked for offers from contacts: a stranger learns nothing about us.
   */
  offerSize(id: string): Promise<number | undefined>;
  /** Fetches offer `id` into a new file in `dir` (created if missing, never overwriting) and answers the sender. */
  accept(
    id: string,
    dir: string,
    onProgress: (done: number, total: number | undefined) => void,
  ): Promise<{ path: string; size: number }>;
  /** Refuses offer `id` (`not-acceptable` by default, XEP-0066 3.2). */
  decline(id: string, condition?: string): void;
}

/** History (the CLI's store), where it exists. */
export interface HistoryBackend {
  recent(peer: string, limit: number): Promise<{ from: string; body: string; at: Date; outgoing: boolean }[]>;
}

export interface ChatBackend {
  /** Our bare JID. */
  readonly account: string;
  /** Our full JID once bound. */
  readonly jid: string | undefined;
  readonly status: ConnState;
  on<K extends keyof BackendEvents>(event: K, listener: (e: BackendEvents[K]) => void): () => void;
  connect(): Promise<void>;
  disconnect(): Promise<void>;

  contacts(): Contact[];
  contact(jid: string): Contact | undefined;
  addContact(jid: string, name?: string | undefined): Promise<void>;
  removeContact(jid: string): Promise<void>;
  approve(jid: string): Promise<void>;
  deny(jid: string): Promise<void>;

  own(): OwnPresenceView;
  setPresence(show: Show | 'online' | 'invisible', status: string | undefined): Promise<void>;

  /** Sends a chat message (queued while offline); `deliveries` report what happens next. */
  sendMessage(
    to: string,
    body: string,
    o?: { type?: 'chat' | 'normal'; subject?: string; oob?: string },
  ): Promise<{ id: string; queued: boolean }>;
  /** XEP-0308: corrects our message `id` (the last one to that peer). */
  correct(id: string, body: string): Promise<{ id: string }>;
  /** XEP-0085: our typing state to a peer. */
  chatState(to: string, state: 'active' | 'composing' | 'paused' | 'inactive'): void;

  block(jid: string): Promise<void>;
  unblock(jid: string): Promise<void>;
  blocklist(): Promise<string[]>;
  /** vCard fields by lower-case name (fn, nickname, email...), undefined when there is none. */
  vcard(jid: string | undefined): Promise<Record<string, string> | undefined>;

  /** undefined where the library does not offer them yet. */
  readonly rooms: RoomsBackend | undefined;
  readonly files: FilesBackend | undefined;
  readonly history: HistoryBackend | undefined;
}

/** A minimal typed emitter for backends (a throwing listener never breaks the emitter). */
export class Events<E extends object> {
  readonly #l = new Map<keyof E, Set<(e: never) => void>>();
  /** Where a throwing listener's error goes (default: rethrown on a later tick). */
  onError: ((err: unknown) => void) | undefined;

  on<K extends keyof E>(event: K, listener: (e: E[K]) => void): () => void {
    let s = this.#l.get(event);
    if (!s) {
      s = new Set();
      this.#l.set(event, s);
    }
    s.add(listener as (e: never) => void);
    return () => s.delete(listener as (e: never) => void);
  }

  emit<K extends keyof E>(event: K, payload: E[K]): void {
    for (const l of [...(this.#l.get(event) ?? [])]) {
      try {
        (l as (e: E[K]) => void)(payload);
      } catch (err) {
        const report = this.onError;
        if (report) report(err);
        else
          queueMicrotask(() => {
            throw err;
          });
      }
    }
  }
}
