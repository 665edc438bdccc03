/**
 * One Multi-User Chat room as the app sees it: XEP-0045 v1.35 occupant model and events
 * (7.1-7.9: join, occupant list, self-presence 110, nick changes 303, presence changes,
 * leaving; 8: moderation; 9: affiliations; 10: owner use cases), XEP-0421 v0.2 occupant
 * ids, XEP-0410 v1.1 self-ping.
 *
 * The room believes only what comes from the room's own JIDs: the Muc feature routes a
 * stanza here by its `from` bare JID, so a stanza reaching a Room is from `room@service`
 * or `room@service/nick`. Identity (real JID, role, affiliation, occupant-id) comes only
 * from the room's presence; a muc#user `<item/>` in a message is never read (any occupant
 * could put one there). Occupant ids are believed only when the room announces XEP-0421
 * (a room that does not strip client-sent ids would pass forgeries through).
 *
 * After `leave()` the room is out of the Muc's routing table at once, so the late
 * self-presence XEP-0045 7.14 warns about (and anything else the room still sends) cannot
 * bring it back.
 */

import { ConfabError, StanzaError } from '../../errors.ts';
import { type Emitter, featureEmitter } from '../../events.ts';
import { type BareJid, bare, type FullJid, type Jid, resourceOf, tryJid, withResource } from '../../jid.ts';
import { randomId } from '../../session/iq.ts';
import { parseStanzaError } from '../../session/stanza-error.ts';
import { detach } from '../../util/strings.ts';
import { type Element, xml } from '../../xml/element.ts';
import { buildSubmit, cancelForm, type DataForm, type FormValues, findForm } from '../forms/forms.ts';
import { NS_SID } from '../messages/codec/sid.ts';
import { buildMessage, type Message, parseMessage } from '../messages/codec.ts';
import { readFields } from '../presence/codec.ts';
import {
  adminListQuery,
  adminQuery,
  destroyElement,
  inviteMessage,
  joinElement,
  type MucUser,
  NS_MUC_OWNER,
  NS_MUC_USER,
  NS_PING,
  NS_ROOMCONFIG,
  ownerQuery,
  readAdminList,
  readMucUser,
  readOccupantId,
  STATUS,
} from './codec.ts';
import type {
  Affiliation,
  AffiliationItem,
  ExitReason,
  GroupCorrection,
  GroupMessage,
  GroupMessageInput,
  GroupRetraction,
  HistoryOptions,
  JoinOptions,
  LeaveReason,
  Occupant,
  Role,
  RoomEvents,
  RoomExit,
  RoomInfo,
  RoomState,
} from './types.ts';

/** What a Room needs from the Muc feature (and, through it, the client). */
export interface RoomHost {
  send(el: Element): Promise<void>;
  iq(req: { type: 'get' | 'set'; to: string; payload: Element }, o?: { timeout?: number }): Promise<Element>;
  /** Our bare JID (parseMessage's `self`). */
  self(): BareJid;
  /** Our current presence (show, status, caps, idle) for presence to rooms. */
  presenceChildren(): Element[];
  /** Disco#info of the room (undefined: item-not-found). */
  info(room: BareJid): Promise<RoomInfo | undefined>;
  timeout: number;
  onError(err: ConfabError): void;
  /** The room is out for good (left, kicked, failed rejoin...): drop it from the routing table. */
  removed(room: Room, exit: RoomExit): void;
  /** The room is in (join or rejoin). */
  joined(room: Room): void;
}

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: Error): void;
}

/** A small insertion-ordered set that forgets its oldest keys (message de-duplication). */
class Seen {
  readonly #s = new Set<string>();
  constructor(readonly max: number) {}
  has(k: string): boolean {
    return this.#s.has(k);
  }
  add(k: string): void {
    this.#s.delete(k);
    this.#s.add(k);
    if (this.#s.size > this.max) this.#s.delete(this.#s.values().next().value as string);
  }
}

/** Who wrote a group message, as far as the room lets us tell (corrections must match it). */
interface Author {
  nick: string;
  /** XEP-0421, only where the room offers it (it then overwrites any client-sent one). */
  occupantId: string | undefined;
  /** Bare real JID, from the room's presence only. */
  jid: BareJid | undefined;
}

/** The same occupant: occupant-id where both have one, else real JID where both are known, else nick. */
function sameAuthor(a: Author, b: Author): boolean {
  if (a.occupantId !== undefined && b.occupantId !== undefined) return a.occupantId === b.occupantId;
  if (a.jid !== undefined && b.jid !== undefined) return a.jid === b.jid;
  return a.nick === b.nick;
}

/**
 * Recent group messages by every id another message may name them by (id, origin-id, the
 * room's stanza-id). Ids are the sender's choice: several authors may share one, so a key
 * holds a list and a lookup asks for the author too. Forgets its oldest keys.
 */
class Authored {
  readonly #m = new Map<string, Array<{ g: GroupMessage; author: Author }>>();
  constructor(readonly max: number) {}
  add(ids: Array<string | undefined>, g: GroupMessage, author: Author): void {
    for (const id of new Set(ids)) {
      if (id === undefined) continue;
      const list = this.#m.get(id) ?? [];
      this.#m.delete(id);
      list.push({ g, author });
      this.#m.set(id, list.slice(-4));
      if (this.#m.size > this.max) this.#m.delete(this.#m.keys().next().value as string);
    }
  }
  /** The message `id` names, if `author` wrote it (undefined: unknown, or someone else's). */
  find(id: string, author: Author): GroupMessage | undefined {
    return this.#m.get(id)?.find((e) => sameAuthor(e.author, author))?.g;
  }
}

const SHOW_FIELDS = {
  show: { child: 'show', kind: 'enum', values: ['away', 'chat', 'dnd', 'xa'] },
  status: { child: 'status', kind: 'text' },
} as const;

/** A sentence a person understands for a join refused with `condition` (XEP-0045 7.2.5-7.2.11). */
export function joinErrorSentence(condition: string, room: string, nick: string): string {
  switch (condition) {
    case 'not-authorized':
      return `The room ${room} needs a password, and the one given was missing or wrong`;
    case 'registration-required':
      return `The room ${room} is members-only and you are not a member`;
    case 'forbidden':
      return `You are banned from the room ${room}`;
    case 'service-unavailable':
      return `The room ${room} is full (or the service does not take new occupants now)`;
    case 'item-not-found':
      return `The room ${room} does not exist (or is still locked: its owner has not configured it yet)`;
    case 'not-allowed':
      return `The room ${room} does not exist and this service does not let you create it`;
    case 'not-acceptable':
      return `The nickname '${nick}' is not acceptable in ${room} (it may be reserved for someone else)`;
    case 'jid-malformed':
      return `The nickname '${nick}' is not valid in ${room}`;
    case 'conflict':
      return `The nickname '${nick}' is already in use in ${room}`;
    case 'gone':
      return `The room ${room} was destroyed and cannot be joined`;
    case 'remote-server-not-found':
    case 'remote-server-timeout':
      return `There is no chat service reachable at ${room.slice(room.indexOf('@') + 1)}`;
    default:
      return `Joining ${room} failed: ${condition}`;
  }
}

function withSentence(e: StanzaError, sentence: string): StanzaError {
  return new StanzaError(sentence, {
    condition: e.condition,
    type: e.type,
    text: e.text,
    element: e.element,
    cause: e,
  });
}

function leaveReason(u: MucUser | undefined): LeaveReason {
  const s = u?.statuses ?? [];
  if (u?.destroy) return 'destroyed';
  if (s.includes(STATUS.banned)) return 'banned';
  if (s.includes(STATUS.kicked)) return 'kicked';
  if (s.includes(STATUS.affiliationRemoved)) return 'removed';
  if (s.includes(STATUS.membersOnlyRemoved)) return 'members-only';
  if (s.includes(STATUS.shutdown)) return 'shutdown';
  if (s.includes(STATUS.technical)) return 'technical';
  return 'left';
}

/** Copy an element tree (presence templates are put into several stanzas). */
export function cloneElement(e: Element): Element {
  return xml(
    e.name,
    { ...e.attrs, xmlns: e.xmlns || undefined },
    e.children.map((c) => (typeof c === 'string' ? c : cloneElement(c))),
  );
}

/**
 * A room we are joining, in, or out of (`client.muc.join` gives it). An emitter: see
 * RoomEvents. The occupant list is `occupants` (by nick); we are `self`.
 *
 * @example
 * const room = await client.muc.join('kitchen@conference.example.org', { nick: ['Juliet', 'Juliet2'] });
 * room.on('message', (m) => console.log(`<${m.nick}> ${m.body}`));
 * await room.send('Hello, all');
 */
export class Room {
  /** The room's bare JID. */
  readonly jid: BareJid;
  /** Occupants by nick (us included, with `self: true`). */
  readonly occupants = new Map<string, Occupant>();
  /** The join made the room (status 201). */
  created = false;
  /** A new room still waiting for its configuration (create: 'reserved'). */
  locked = false;
  /** What disco#info said when we joined (undefined: not asked or not answered). */
  info: RoomInfo | undefined;
  /** Room flags from status codes: 100/172 non-anonymous, 170 logged. */
  readonly flags = { nonAnonymous: false, logged: false };
  /** The subject, and the nick that set it (undefined: the room, or not known). */
  subject: string | undefined;
  subjectBy: string | undefined;
  /** When we last heard from the room (self-ping skips busy rooms). */
  lastActivity = Date.now();
  /** Newest message time seen (delay stamp or arrival): history on rejoin starts here. */
  lastMessageAt: Date | undefined;

  readonly #host: RoomHost;
  readonly #events: Emitter<RoomEvents>;
  #state: RoomState = 'joining';
  #nick: string;
  #nicks: string[];
  #password: string | undefined;
  #history: HistoryOptions | false | undefined;
  #subjectSeen = false;
  #join: (Waiter<MucUser | undefined> & { nick: string }) | undefined;
  #nickChange: (Waiter<void> & { nick: string }) | undefined;
  #leave: Waiter<void> | undefined;
  #subjectWait: (Waiter<void> & { id: string }) | undefined;
  readonly #sends = new Map<string, Waiter<GroupMessage>>();
  readonly #seen = new Seen(2000);
  readonly #authored = new Authored(2000);
  #config: DataForm | undefined;
  #session = 0;
  #everJoined = false;
  /** @internal set by leave(): settles when the room confirms (or the timeout passes). */
  leaving: Promise<void> | undefined;

  /** @internal made by Muc.join */
  constructor(host: RoomHost, jid: BareJid, o: JoinOptions) {
    this.#host = host;
    this.jid = jid;
    this.#nicks = typeof o.nick === 'string' ? [o.nick] : [...o.nick];
    this.#nick = this.#nicks[0] ?? '';
    this.#password = o.password;
    this.#history = o.history;
    this.#events = featureEmitter<RoomEvents>(`room ${jid}`, host.onError);
  }

  // ---------------------------------------------------------------- state

  /** joining, joined or left. */
  get state(): RoomState {
    return this.#state;
  }
  /** Our nick in the room (the one asked for until the room confirms). */
  get nick(): string {
    return this.#nick;
  }
  /** Our occupant JID `room/nick`. */
  get occupantJid(): FullJid {
    return withResource(this.jid, this.#nick);
  }
  /** Our own occupant entry, once joined. */
  get self(): Occupant | undefined {
    const o = this.occupants.get(this.#nick);
    return o?.self ? o : undefined;
  }
  /** We have been in this room at least once (a rejoin is under way when state is joining). */
  get joinedOnce(): boolean {
    return this.#everJoined;
  }
  /** The password we joined with (rejoins use it). */
  get password(): string | undefined {
    return this.#password;
  }

  on<K extends keyof RoomEvents>(event: K, fn: (e: RoomEvents[K]) => void): () => void {
    return this.#events.on(event, fn);
  }
  once<K extends keyof RoomEvents>(event: K, fn: (e: RoomEvents[K]) => void): () => void {
    return this.#events.once(event, fn);
  }
  off<K extends keyof RoomEvents>(event: K, fn: (e: RoomEvents[K]) => void): void {
    this.#events.off(event, fn);
  }

  // ---------------------------------------------------------------- joining

  /**
   * @internal Join (or rejoin): ask for each nick in turn until one is free; resolves on
   * our self-presence (status 110), which servers send after the other occupants.
   */
  async start(o: JoinOptions & { rejoin?: boolean }): Promise<void> {
    const session = ++this.#session;
    this.#setState('joining');
    try {
      await this.#run(o, session);
    } catch (err) {
      // Superseded (left, lost, rejoined meanwhile): the newer attempt owns the state.
      if (session === this.#session) {
        const e =
          err instanceof ConfabError ? err : new ConfabError('ERR_HANDLER', String(err), { cause: err });
        this.#out({ reason: 'error', error: e instanceof StanzaError ? e : undefined, text: e.message });
      }
      throw err;
    }
  }

  async #run(o: JoinOptions & { rejoin?: boolean }, session: number): Promise<void> {
    let infoFailed: string | undefined;
    if (!o.rejoin) {
      const info = await this.#host.info(this.jid).catch((err: unknown) => {
        const e = err instanceof StanzaError ? err : undefined;
        infoFailed = e?.condition;
        if (e?.condition === 'remote-server-not-found' || e?.condition === 'remote-server-timeout')
          throw withSentence(e, joinErrorSentence(e.condition, this.jid, this.#nick));
        return null; // no answer is no information: the join will tell
      });
      if (info === undefined && o.create === 'never')
        throw new StanzaError(joinErrorSentence('item-not-found', this.jid, this.#nick), {
          condition: 'item-not-found',
          type: 'cancel',
        });
      if (info) this.info = info;
    }
    const nicks = o.rejoin ? [this.#nick, ...this.#nicks.filter((n) => n !== this.#nick)] : this.#nicks;
    const tried: string[] = [];
    let self: MucUser | undefined;
    for (const nick of nicks) {
      tried.push(nick);
      try {
        self = await this.#attempt(nick, o);
        break;
      } catch (err) {
        if (err instanceof StanzaError && err.condition === 'conflict') continue;
        if (!(err instanceof StanzaError)) throw err;
        // Disco and the join refused alike: nothing there speaks MUC (a server without the
        // component answers not-allowed or service-unavailable for the whole domain).
        if (infoFailed !== undefined && infoFailed === err.condition && infoFailed !== 'item-not-found')
          throw withSentence(
            err,
            `There is no chat service at ${this.jid.slice(this.jid.indexOf('@') + 1)} (it answered ${infoFailed})`,
          );
        throw withSentence(err, joinErrorSentence(err.condition ?? '', this.jid, nick));
      }
    }
    if (session !== this.#session) throw new ConfabError('ERR_ABORTED', `joining ${this.jid} was superseded`);
    if (this.#state !== 'joined') {
      throw new ConfabError(
        'ERR_NICK_CONFLICT',
        `Every nickname tried is already in use in ${this.jid}: ${tried.map((n) => `'${n}'`).join(', ')}`,
        { condition: 'conflict' },
      );
    }
    const statuses = self?.statuses ?? [];
    if (statuses.includes(STATUS.created)) {
      this.created = true;
      const create = o.create ?? 'instant';
      if (create === 'instant') {
        // XEP-0045 10.1.2: an empty submit accepts the default configuration.
        await this.#host.iq({ type: 'set', to: this.jid, payload: ownerQuery(buildSubmit({})) });
      } else if (create === 'reserved') {
        this.locked = true;
      } else {
        // We made a room that should have existed: take it back (10.1.3 cancel destroys it).
        await this.#host.iq({ type: 'set', to: this.jid, payload: ownerQuery(cancelForm()) }).catch(() => {});
        throw new StanzaError(joinErrorSentence('item-not-found', this.jid, this.#nick), {
          condition: 'item-not-found',
          type: 'cancel',
        });
      }
    }
    this.#everJoined = true;
    this.#events.emit('joined', { room: this.jid, nick: this.#nick, rejoined: o.rejoin === true });
    this.#host.joined(this);
  }

  #attempt(nick: string, o: JoinOptions): Promise<MucUser | undefined> {
    this.#nick = nick;
    const to = withResource(this.jid, nick);
    const history =
      this.#history === false || o.history === false
        ? false
        : this.lastMessageAt && (o as { rejoin?: boolean }).rejoin === true
          ? // Since the newest message we saw: the gap, not the whole history again.
            { since: new Date(this.lastMessageAt.getTime() + 1) }
          : (o.history ?? this.#history);
    return new Promise((resolve, reject) => {
      const timeout = o.timeout ?? this.#host.timeout;
      const cleanup = () => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        if (this.#join === w) this.#join = undefined;
      };
      const w = {
        nick,
        resolve: (v: MucUser | undefined) => {
          cleanup();
          resolve(v);
        },
        reject: (e: Error) => {
          cleanup();
          reject(e);
        },
      };
      const onAbort = () => w.reject(new ConfabError('ERR_ABORTED', `joining ${this.jid} was cancelled`));
      const timer = setTimeout(
        () => w.reject(new ConfabError('ERR_TIMEOUT', `${this.jid} did not answer our join as '${nick}'`)),
        timeout,
      );
      if (o.signal?.aborted) {
        onAbort();
        return;
      }
      o.signal?.addEventListener('abort', onAbort, { once: true });
      this.#join = w;
      const p = xml(
        'presence',
        { to },
        this.#host.presenceChildren(),
        joinElement({ password: this.#password, history }),
      );
      this.#host.send(p).catch((e: unknown) => w.reject(e as Error));
    });
  }

  /** @internal after a new session or a failed self-ping: join again, same nick and password. */
  rejoin(): void {
    this.occupants.clear();
    this.#subjectSeen = false;
    // A failure ends the room (`exit` with reason 'error', in start).
    this.start({ nick: this.#nicks, rejoin: true }).catch(() => {});
  }

  /** @internal we are out without having said so (new session, failed self-ping): tell, then rejoin. */
  lost(reason: 'disconnected' | 'not-joined', rejoin: boolean): void {
    // A first join still under way when the session ended: it fails (the caller hears why).
    if (!this.#everJoined) rejoin = false;
    this.#failPending(new ConfabError('ERR_NOT_CONNECTED', `no longer in ${this.jid}`));
    const exit: RoomExit = {
      reason,
      text: undefined,
      actor: undefined,
      alternate: undefined,
      password: undefined,
      error: undefined,
      rejoin,
    };
    if (!rejoin) {
      this.#out(exit);
      return;
    }
    this.#setState('joining');
    this.#events.emit('exit', exit);
    this.rejoin();
  }

  // ---------------------------------------------------------------- inbound

  /** @internal a presence from this room's JIDs. */
  handlePresence(el: Element): void {
    if (this.#state === 'left') return;
    this.lastActivity = Date.now();
    const from = tryJid(el.attr('from'));
    const nick = from === undefined ? undefined : resourceOf(from);
    const type = el.attr('type');
    if (type === 'error') {
      const err = parseStanzaError(el);
      if (this.#join) this.#join.reject(err);
      else if (this.#nickChange && (nick === undefined || nick === this.#nickChange.nick))
        this.#nickChange.reject(err);
      else this.#events.emit('error', { error: err, element: el });
      return;
    }
    if (nick === undefined || (type !== undefined && type !== 'unavailable')) return;
    const u = readMucUser(el);
    const statuses = u?.statuses ?? [];
    const existing = this.occupants.get(nick);
    // Status 110 marks us. Some removals of us come without it (ejabberd's destroy notice,
    // like XEP-0045 Example 201): a removal naming our own nick is ours too.
    const isSelf =
      statuses.includes(STATUS.self) ||
      (type === 'unavailable' &&
        nick === this.#nick &&
        this.#state === 'joined' &&
        (u?.destroy !== undefined || leaveReason(u) !== 'left'));
    if (type === 'unavailable') {
      if (statuses.includes(STATUS.nickChanged) && u?.item?.nick) {
        this.#renamed(nick, u.item.nick, existing, isSelf);
        return;
      }
      if (isSelf) {
        // A late answer to a leave of a previous visit while we join again: not about this one.
        if (this.#join) return;
        this.#selfGone(el, u);
        return;
      }
      if (!existing) return;
      this.occupants.delete(nick);
      const item = u?.item;
      this.#events.emit('leave', {
        occupant: existing,
        reason: leaveReason(u),
        text: u?.destroy?.reason ?? item?.reason,
        actor: item?.actor,
      });
      return;
    }
    // Available: a new occupant, or a change.
    const f = readFields(SHOW_FIELDS, el);
    const item = u?.item;
    // Strings copied off the parser's text, so the model of a big room does not keep every
    // presence's read chunk alive (util/strings.ts).
    const occ: Occupant = {
      nick: existing?.nick ?? detach(nick),
      occupantJid: existing?.occupantJid ?? detach(from as FullJid),
      jid: detach(item?.jid) ?? existing?.jid,
      role: item?.role ?? existing?.role ?? 'none',
      affiliation: item?.affiliation ?? existing?.affiliation ?? 'none',
      show: f.show,
      status: detach(f.status),
      occupantId: this.info?.occupantId ? detach(readOccupantId(el)) : undefined,
      self: isSelf || (existing?.self ?? false),
    };
    // Keyed by the copied nick too: a Map keeps the first key it was given, and `nick` is a
    // slice of this presence's text.
    this.occupants.set(occ.nick, occ);
    if (statuses.includes(STATUS.nonAnonymous) || statuses.includes(STATUS.nowNonAnonymous))
      this.flags.nonAnonymous = true;
    if (statuses.includes(STATUS.loggingOn)) this.flags.logged = true;
    if (isSelf) {
      this.#nick = nick;
      if (this.#join) {
        this.#setState('joined');
        const w = this.#join;
        if (!existing) this.#events.emit('join', { occupant: occ, initial: true, element: el });
        w.resolve(u);
        return;
      }
      if (this.#nickChange && this.#nickChange.nick === nick) this.#nickChange.resolve();
    }
    if (!existing) {
      this.#events.emit('join', { occupant: occ, initial: this.#state === 'joining', element: el });
      return;
    }
    if (existing.show !== occ.show || existing.status !== occ.status)
      this.#events.emit('presence', { occupant: occ, previous: existing, element: el });
    if (existing.role !== occ.role)
      this.#events.emit('role', {
        occupant: occ,
        previous: existing.role,
        actor: item?.actor,
        reason: item?.reason,
      });
    if (existing.affiliation !== occ.affiliation)
      this.#events.emit('affiliation', {
        occupant: occ,
        jid: occ.jid,
        affiliation: occ.affiliation,
        previous: existing.affiliation,
        actor: item?.actor,
        reason: item?.reason,
      });
  }

  #renamed(oldNick: string, newNick: string, existing: Occupant | undefined, isSelf: boolean): void {
    if (!existing) return;
    this.occupants.delete(oldNick);
    const nick = detach(newNick);
    const occ: Occupant = { ...existing, nick, occupantJid: withResource(this.jid, nick) };
    this.occupants.set(nick, occ);
    if (isSelf) this.#nick = newNick;
    this.#events.emit('nick', { occupant: occ, oldNick, newNick });
  }

  #selfGone(el: Element, u: MucUser | undefined): void {
    const leaving = this.#leave;
    const reason: ExitReason = leaveReason(u);
    this.#out({
      reason,
      text: u?.destroy?.reason ?? u?.item?.reason ?? el.getChildText('status') ?? undefined,
      actor: u?.item?.actor,
      alternate: u?.destroy?.jid,
      password: u?.destroy?.password,
    });
    leaving?.resolve();
  }

  /** @internal a message from this room's JIDs; true when it is the room's (not for the 1:1 path). */
  handleMessage(el: Element): boolean {
    const from = tryJid(el.attr('from'));
    if (from === undefined) return false;
    const nick = resourceOf(from);
    const type = el.attr('type') ?? 'normal';
    if (this.#state === 'left') return type === 'groupchat';
    this.lastActivity = Date.now();
    if (type === 'error') {
      const err = parseStanzaError(el);
      const id = el.attr('id');
      const w = id === undefined ? undefined : this.#sends.get(id);
      if (w) {
        this.#sends.delete(id!);
        w.reject(err);
      } else if (this.#subjectWait && this.#subjectWait.id === id) {
        this.#subjectWait.reject(err);
      } else {
        this.#events.emit('error', { error: err, element: el });
      }
      return true;
    }
    const m = parseMessage(el, { self: this.#host.self(), source: 'live' });
    if (type === 'groupchat') {
      if (nick === undefined) {
        if (m.subject !== undefined && m.body === undefined) this.#setSubject(m, undefined);
        else this.#notice(m, el);
        return true;
      }
      // XEP-0045 8.1: a subject with no body is a subject change.
      if (el.getChild('subject') && m.body === undefined) {
        this.#setSubject(m, nick);
        return true;
      }
      this.#group(m, nick, 'live');
      return true;
    }
    if (nick === undefined) {
      // Room notices of type normal (status 101 and the like); invitations are the Muc's.
      this.#notice(m, el);
      return true;
    }
    if (type === 'chat' || el.getChild('x', NS_MUC_USER)) {
      this.#events.emit('private', {
        room: this.jid,
        nick,
        occupant: this.occupants.get(nick),
        body: m.body,
        message: m,
      });
      return true;
    }
    return false;
  }

  /**
   * Feed a copy of a group message from elsewhere (the room's archive, XEP-0313 with the
   * room as archive): de-duplicated against the live ones by the room's stanza-id and
   * origin-id, then emitted as `message` with `source: 'archive'`. The caller has checked
   * that the copy comes from this room's archive. Returns what was emitted as `message`, or
   * undefined for a duplicate, or for a correction / retraction (emitted as `correction` /
   * `retraction` with `source: 'archive'` when it names the same occupant's message).
   */
  ingest(
    el: Element,
    o: { archiveId?: string | undefined; delay?: Message['delay'] } = {},
  ): GroupMessage | undefined {
    const from = tryJid(el.attr('from'));
    const nick = from === undefined ? undefined : resourceOf(from);
    if (nick === undefined) return undefined;
    const m = parseMessage(el, {
      self: this.#host.self(),
      source: 'archive',
      trusted: [this.jid],
      extraStanzaIds: o.archiveId ? [{ by: this.jid, id: o.archiveId }] : undefined,
      delay: o.delay,
    });
    return this.#group(m, nick, 'archive');
  }

  #group(m: Message, nick: string, source: 'live' | 'archive'): GroupMessage | undefined {
    const stanzaId = m.stanzaId(this.jid);
    const keys: string[] = [];
    if (stanzaId !== undefined) keys.push(`s\n${stanzaId}`);
    if (m.originId !== undefined) keys.push(`o\n${nick}\n${m.originId}`);
    else if (m.id !== undefined) keys.push(`i\n${nick}\n${m.id}\n${m.body ?? ''}`);
    if (keys.some((k) => this.#seen.has(k))) return undefined;
    for (const k of keys) this.#seen.add(k);
    const at = m.delay?.stamp ?? m.receivedAt;
    if (!this.lastMessageAt || at > this.lastMessageAt) this.lastMessageAt = at;
    const own = this.self !== undefined && nick === this.#nick;
    let reflection = false;
    if (source === 'live') {
      for (const id of [m.originId, m.id]) {
        if (id === undefined) continue;
        const w = this.#sends.get(id);
        if (w && nick === this.#nick) {
          this.#sends.delete(id);
          reflection = true;
          queueMicrotask(() => w.resolve(g));
          break;
        }
      }
    }
    const occupant = this.occupants.get(nick);
    const g: GroupMessage = {
      room: this.jid,
      nick,
      occupant,
      body: m.body,
      message: m,
      stanzaId,
      own: own || reflection,
      reflection,
      history: m.delay !== undefined,
      source,
    };
    const author: Author = {
      nick,
      occupantId: this.info?.occupantId ? readOccupantId(m.element) : undefined,
      jid: occupant?.jid === undefined ? undefined : bare(occupant.jid),
    };
    // XEP-0424: a retraction of one of this occupant's messages; of anyone else's (or of one
    // never seen) it is dropped: its body is only the fallback text.
    if (m.retract !== undefined) {
      const original = this.#authored.find(m.retract, author);
      if (original) {
        const r: GroupRetraction = {
          room: this.jid,
          nick,
          occupant,
          retracts: m.retract,
          original,
          message: m,
          own: g.own,
          source,
        };
        this.#events.emit('retraction', r);
      }
      return undefined;
    }
    // XEP-0308: a correction of this occupant's own message. Naming someone else's (or an
    // unknown) message makes it no correction: it is shown as what it is, a new message.
    if (m.replace !== undefined) {
      const original = this.#authored.find(m.replace, author);
      if (original) {
        const c: GroupCorrection = {
          room: this.jid,
          nick,
          occupant,
          replaces: m.replace,
          original,
          body: m.body,
          message: m,
          stanzaId,
          own: g.own,
          source,
        };
        this.#events.emit('correction', c);
        return undefined;
      }
    } else {
      this.#authored.add([m.id, m.originId, stanzaId], g, author);
    }
    this.#events.emit('message', g);
    return g;
  }

  #setSubject(m: Message, nick: string | undefined): void {
    const initial = !this.#subjectSeen;
    this.#subjectSeen = true;
    this.subject = m.subject === '' ? undefined : m.subject;
    this.subjectBy = nick;
    this.#events.emit('subject', { subject: this.subject, nick, initial });
    const w = this.#subjectWait;
    if (w && nick === this.#nick) w.resolve();
  }

  #notice(m: Message, el: Element): void {
    const statuses = readMucUser(el)?.statuses ?? [];
    if (statuses.includes(STATUS.nowNonAnonymous)) this.flags.nonAnonymous = true;
    if (statuses.includes(STATUS.nowSemiAnonymous)) this.flags.nonAnonymous = false;
    if (statuses.includes(STATUS.loggingOn)) this.flags.logged = true;
    if (statuses.includes(STATUS.loggingOff)) this.flags.logged = false;
    this.#events.emit('notice', { room: this.jid, body: m.body, statuses, message: m });
  }

  // ---------------------------------------------------------------- sending

  #requireJoined(what: string): void {
    if (this.#state !== 'joined')
      throw new ConfabError('ERR_NOT_CONNECTED', `Cannot ${what}: not in ${this.jid} (state ${this.#state})`);
  }

  #wait<T>(map: Map<string, Waiter<T>>, id: string, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        map.delete(id);
        reject(new ConfabError('ERR_TIMEOUT', `${this.jid} did not ${what}`));
      }, this.#host.timeout);
      map.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /**
   * Send a group message. Resolves with the room's reflection of it (XEP-0045 7.4: the room
   * sends every message back to its sender), rejects with the room's StanzaError (e.g.
   * `forbidden` for a visitor in a moderated room) or ERR_TIMEOUT.
   *
   * @example
   * const echo = await room.send('Hi all');
   * echo.stanzaId // the room archive's id, when it keeps one
   */
  async send(input: GroupMessageInput): Promise<GroupMessage> {
    this.#requireJoined('send');
    const o = typeof input === 'string' ? { body: input } : input;
    const id = o.id ?? randomId();
    const el = buildMessage({
      ...o,
      to: this.jid,
      type: 'groupchat',
      id,
      chatState: o.chatState ?? undefined,
    });
    if (!el.getChild('origin-id', NS_SID)) el.append(xml('origin-id', { xmlns: NS_SID, id }));
    const p = this.#wait(this.#sends, id, 'reflect our message');
    try {
      await this.#host.send(el);
    } catch (err) {
      this.#sends.get(id)?.reject(err as Error);
      this.#sends.delete(id);
    }
    return p;
  }

  /** A private message to one occupant (XEP-0045 7.5: type chat to room/nick, with the muc#user `<x/>`). */
  async sendPrivate(nick: string, body: string): Promise<string> {
    this.#requireJoined('send a private message');
    const id = randomId();
    await this.#host.send(
      xml(
        'message',
        { to: withResource(this.jid, nick), type: 'chat', id },
        xml('body', null, body),
        xml('x', { xmlns: NS_MUC_USER }),
        xml('origin-id', { xmlns: NS_SID, id }),
      ),
    );
    return id;
  }

  /** Change the subject (XEP-0045 8.1); resolves when the room announces it, rejects when refused. */
  async setSubject(subject: string): Promise<void> {
    this.#requireJoined('set the subject');
    const id = randomId();
    const p = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => done(new ConfabError('ERR_TIMEOUT', `${this.jid} did not confirm the subject`)),
        this.#host.timeout,
      );
      const done = (e?: Error) => {
        clearTimeout(timer);
        if (this.#subjectWait?.id === id) this.#subjectWait = undefined;
        if (e) reject(e);
        else resolve();
      };
      this.#subjectWait = { id, resolve: () => done(), reject: done };
    });
    await this.#host.send(
      xml('message', { to: this.jid, type: 'groupchat', id }, xml('subject', null, subject)),
    );
    return p;
  }

  /** Mediated invitation (XEP-0045 7.8.2): the room forwards it (and may add us as a member). */
  async invite(jid: string, o: { reason?: string | undefined } = {}): Promise<void> {
    this.#requireJoined('invite');
    await this.#host.send(inviteMessage(this.jid, jid, o.reason, randomId()));
  }

  /**
   * Change our nick (XEP-0045 7.6). Resolves when the room confirms; rejects with the
   * room's StanzaError (`conflict`: taken; `not-acceptable`: reserved) or ERR_TIMEOUT.
   */
  changeNick(nick: string): Promise<void> {
    this.#requireJoined('change nick');
    if (nick === this.#nick) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => w.reject(new ConfabError('ERR_TIMEOUT', `${this.jid} did not confirm the nick ${nick}`)),
        this.#host.timeout,
      );
      const w = {
        nick,
        resolve: () => {
          clearTimeout(timer);
          if (this.#nickChange === w) this.#nickChange = undefined;
          if (!this.#nicks.includes(nick)) this.#nicks.unshift(nick);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          if (this.#nickChange === w) this.#nickChange = undefined;
          reject(
            e instanceof StanzaError
              ? withSentence(e, joinErrorSentence(e.condition ?? '', this.jid, nick))
              : e,
          );
        },
      };
      this.#nickChange = w;
    });
    this.#host
      .send(xml('presence', { to: withResource(this.jid, nick) }, this.#host.presenceChildren()))
      .catch((e: unknown) => this.#nickChange?.reject(e as Error));
    return p;
  }

  /** @internal our presence changed: tell the room (XEP-0045 7.7). */
  updatePresence(children: Element[]): void {
    if (this.#state !== 'joined') return;
    this.#host.send(xml('presence', { to: this.occupantJid }, children)).catch(() => {});
  }

  /**
   * Leave (XEP-0045 7.14): unavailable presence, optionally with a status. The room is out
   * of routing at once (its late presence cannot bring it back); resolves when the room
   * confirms, or after the timeout.
   */
  async leave(status?: string): Promise<void> {
    if (this.#state === 'left') return;
    const to = this.occupantJid;
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.#host.timeout);
      this.#leave = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
    const leaving = this.#leave!;
    this.leaving = done;
    this.#out({ reason: 'left' });
    try {
      await this.#host.send(
        xml(
          'presence',
          { to, type: 'unavailable' },
          status !== undefined ? xml('status', null, status) : null,
        ),
      );
    } catch {
      leaving.resolve(); // not connected: we are out anyway
    }
    return done;
  }

  /** @internal the late self-presence of a leave, routed by the Muc while it waits. */
  leftConfirmed(): void {
    this.#leave?.resolve();
    this.#leave = undefined;
  }

  // ---------------------------------------------------------------- moderation (XEP-0045 8, 9)

  #admin(payload: Element): Promise<Element> {
    return this.#host.iq({ type: 'set', to: this.jid, payload });
  }

  /** Kick an occupant (role none, 8.2). */
  async kick(nick: string, reason?: string): Promise<void> {
    await this.#admin(adminQuery({ nick, role: 'none', reason }));
  }
  /** Ban a user by real JID (affiliation outcast, 9.1). */
  async ban(jid: string, reason?: string): Promise<void> {
    await this.#admin(adminQuery({ jid, affiliation: 'outcast', reason }));
  }
  /** Set an occupant's role: voice is `participant`, no voice `visitor`, `moderator`, `none` kicks. */
  async setRole(nick: string, role: Role, reason?: string): Promise<void> {
    await this.#admin(adminQuery({ nick, role, reason }));
  }
  /** Set a user's affiliation: membership is `member`, `none` removes it, `outcast` bans. */
  async setAffiliation(jid: string, affiliation: Affiliation, reason?: string): Promise<void> {
    await this.#admin(adminQuery({ jid, affiliation, reason }));
  }
  /** The users with this affiliation (9.5 members, 9.8 moderators' ban list, 10.5 owners...). */
  async affiliations(affiliation: Affiliation): Promise<AffiliationItem[]> {
    const r = await this.#host.iq({ type: 'get', to: this.jid, payload: adminListQuery(affiliation) });
    return readAdminList(r);
  }

  // ---------------------------------------------------------------- owner (XEP-0045 10)

  /** The room configuration form (10.2). */
  async config(): Promise<DataForm> {
    const r = await this.#host.iq({ type: 'get', to: this.jid, payload: ownerQuery() });
    const form = r.getChild('query', NS_MUC_OWNER) ? findForm(r.getChild('query', NS_MUC_OWNER)!) : undefined;
    if (!form) throw new ConfabError('ERR_BAD_REPLY', `${this.jid} sent no configuration form`);
    this.#config = form;
    return form;
  }

  /**
   * Submit configuration values (the room's muc#roomconfig form, fetched if not yet, with
   * these values laid over; booleans as booleans). Unlocks a reserved room.
   *
   * @example
   * await room.configure({ 'muc#roomconfig_roomname': 'Kitchen', 'muc#roomconfig_persistentroom': true });
   */
  async configure(values: FormValues): Promise<void> {
    const base = this.#config ?? (await this.config());
    await this.#host.iq({
      type: 'set',
      to: this.jid,
      payload: ownerQuery(buildSubmit(values, { base, formType: base.formType ?? NS_ROOMCONFIG })),
    });
    this.#config = undefined;
    this.locked = false;
  }

  /**
   * Cancel the configuration. For a new reserved room (`locked`) this means "no room after
   * all": XEP-0045 10.1.3 says the service should then destroy it, but Prosody 0.12 keeps it
   * (still locked) and ejabberd 23 opens it with the defaults, so confab destroys it itself
   * when it is still there; we get `exit` with reason `destroyed`. For a configured room it
   * only ends the configuration dialogue.
   */
  async cancelConfig(): Promise<void> {
    await this.#host.iq({ type: 'set', to: this.jid, payload: ownerQuery(cancelForm()) });
    this.#config = undefined;
    if (!this.locked || this.#state === 'left') return;
    const still = await this.#host.info(this.jid).then(
      (i) => i !== undefined,
      (err: unknown) => !(err instanceof StanzaError && err.condition === 'gone'),
    );
    if (still && this.state !== 'left') await this.destroy({ reason: 'configuration cancelled' });
    this.locked = false;
    this.#out({ reason: 'destroyed', text: 'configuration cancelled' });
  }

  /** Destroy the room (10.9); every occupant gets the reason and the alternate venue. */
  async destroy(o: { reason?: string; alternate?: string; password?: string } = {}): Promise<void> {
    await this.#host.iq({ type: 'set', to: this.jid, payload: ownerQuery(destroyElement(o)) });
  }

  /**
   * XEP-0410 self-ping: are we still an occupant? true: yes; false: the room says no;
   * undefined: no answer that tells (timeout, the room's server unreachable).
   */
  async selfPing(timeout = this.#host.timeout): Promise<boolean | undefined> {
    if (this.#state !== 'joined') return false;
    try {
      await this.#host.iq(
        { type: 'get', to: this.occupantJid, payload: xml('ping', { xmlns: NS_PING }) },
        { timeout },
      );
      return true;
    } catch (err) {
      if (!(err instanceof StanzaError)) return undefined;
      switch (err.condition) {
        // XEP-0410 4: the room answered for our occupant: still in.
        case 'service-unavailable':
        case 'feature-not-implemented':
          return true;
        case 'remote-server-not-found':
        case 'remote-server-timeout':
          return undefined;
        default:
          // not-acceptable (not an occupant), item-not-found (no such occupant), not-allowed...
          return false;
      }
    }
  }

  // ---------------------------------------------------------------- internals

  #setState(s: RoomState): void {
    if (this.#state === s) return;
    this.#state = s;
    this.#events.emit('state', s);
  }

  #failPending(e: Error): void {
    for (const w of this.#sends.values()) w.reject(e);
    this.#sends.clear();
    this.#subjectWait?.reject(e);
    this.#nickChange?.reject(e);
    this.#join?.reject(e);
  }

  /** We are out for good: state left, pending work fails, the Muc forgets us, `exit`. */
  #out(e: Partial<RoomExit> & { reason: ExitReason }): void {
    if (this.#state === 'left') return;
    this.#session++;
    const exit: RoomExit = {
      reason: e.reason,
      text: e.text,
      actor: e.actor,
      alternate: e.alternate,
      password: e.password,
      error: e.error,
      rejoin: false,
    };
    this.#setState('left');
    this.#failPending(new ConfabError('ERR_NOT_CONNECTED', `no longer in ${this.jid} (${e.reason})`));
    this.#host.removed(this, exit);
    this.#events.emit('exit', exit);
  }
}

/** The real JID an occupant event names, for apps that key users by account. */
export function realJid(o: Occupant | undefined): Jid | undefined {
  return o?.jid;
}
