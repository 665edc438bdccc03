/**
 * Multi-User Chat: XEP-0045 "Multi-User Chat" v1.35, with XEP-0249 "Direct MUC
 * Invitations" v1.2, XEP-0410 "MUC Self-Ping (Schrödinger's Chat)" v1.1, XEP-0421
 * "Anonymous unique occupant identifiers for MUCs" v0.2 and XEP-0245 "The /me Command"
 * v1.0; room configuration through XEP-0004 data forms (features/forms).
 *
 * `client.muc` finds services (XEP-0045 6.1-6.3 over XEP-0030), tells about rooms (6.4,
 * muc#roominfo), asks for unique names (10.1.4 muc#unique), joins rooms (7.2) and keeps
 * the joined ones (room.ts), delivers invitations (7.8.2 mediated, XEP-0249 direct) and
 * declines, and keeps us in our rooms:
 * - our presence changes (show, status, auto-away, caps) reach every joined room (7.7),
 *   taken from the presence feature's broadcasts (a decorator sees each one);
 * - after a new session (a reconnect that did not resume the stream, XEP-0198 5) every room
 *   we were in says `exit` (`disconnected`, `rejoin: true`) and is joined again with the
 *   same nick and password, asking history since the last message seen;
 * - after a resumed stream, and for rooms quiet for `selfPingInterval`, a XEP-0410
 *   self-ping checks that we are still in; a room that says no gets `exit` (`not-joined`)
 *   and a rejoin. So the app never believes it is in a room it silently left.
 *
 * Routing and trust (the inbound stage `process`, ahead of the plain message path like
 * carbons): a stanza belongs to a room by its `from` bare JID, so a room believes only
 * `room@service` and `room@service/nick`. Group messages (type groupchat), private
 * messages from occupants, the room's own notices and errors are the room's and never
 * reach `client.messages` / the client's `message` event as if one-to-one; group messages
 * from a room we are not in are dropped. Mediated invitations and declines are believed
 * only from a bare JID (a room; a user's client can never send from one); direct
 * invitations come from anyone (they are offers: the app decides) and also stay on the
 * messages path (`messages.on('invitation')`), where they are first parsed.
 */
import type { Client } from '../../client.ts';
import { ConfabError, StanzaError } from '../../errors.ts';
import { type Emitter, featureEmitter } from '../../events.ts';
import { type BareJid, bare, domainOf, isBare, type Jid, localOf, tryJid } from '../../jid.ts';
import { randomId } from '../../session/iq.ts';
import { type Element, xml } from '../../xml/element.ts';
import type { FeatureContext } from '../context.ts';
import { NS as DISCO, parseInfo, parseItems } from '../disco/codec.ts';
import {
  declineMessage,
  directInvite,
  NS_MUC,
  NS_MUC_UNIQUE,
  readMucUser,
  readRoomInfo,
  renderMe,
  STATUS,
} from './codec.ts';
import { cloneElement, Room, type RoomHost } from './room.ts';
import type {
  JoinOptions,
  MucEventsOf,
  MucInvite,
  MucOptions,
  RoomExit,
  RoomInfo,
  RoomListing,
} from './types.ts';

export { Room, renderMe };

/** The events of `client.muc`. */
export type MucEvents = MucEventsOf<Room>;

/** What the MUC feature uses (the composition root's FeatureContext has all of it). */
export type MucContext = Pick<FeatureContext, 'onError' | 'messaging' | 'presence'> & {
  client: Pick<Client, 'on' | 'send' | 'iq' | 'jid' | 'status' | 'addInboundFilter'>;
  caps?: { element(): Element | undefined } | undefined;
};

const DEFAULTS = { selfPingInterval: 600_000, timeout: 30_000, rejoin: true };

/** Presence children we copy from our broadcast into presence to rooms (not priority: it means nothing there). */
const COPIED = new Set(['show', 'status']);

/**
 * Multi-User Chat for one client (`client.muc`).
 *
 * @example
 * const [service] = await client.muc.services();
 * const room = await client.muc.join(`kitchen@${service}`, { nick: ['Juliet', 'Juliet_'] });
 * room.on('message', (m) => console.log(m.nick, m.body));
 * client.muc.on('invite', (i) => client.muc.join(i.room, { nick: 'Juliet', password: i.password }));
 */
export class Muc {
  static readonly feature = 'muc';
  readonly #client: MucContext['client'];
  readonly #ctx: MucContext;
  readonly #events: Emitter<MucEvents>;
  readonly #o: Required<MucOptions>;
  readonly #rooms = new Map<BareJid, Room>();
  /** Rooms we left whose confirmation has not come yet (their late presence lands here). */
  readonly #leaving = new Map<BareJid, Room>();
  readonly #teardown: Array<() => void> = [];
  #lastBroadcast: Element | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #host: RoomHost;

  constructor(ctx: MucContext, options: MucOptions = {}) {
    this.#ctx = ctx;
    this.#client = ctx.client;
    this.#o = {
      selfPingInterval: options.selfPingInterval ?? DEFAULTS.selfPingInterval,
      timeout: options.timeout ?? DEFAULTS.timeout,
      rejoin: options.rejoin ?? DEFAULTS.rejoin,
    };
    this.#events = featureEmitter<MucEvents>('muc', ctx.onError);
    this.#host = {
      send: (el) => this.#client.send(el),
      iq: (req, o) => this.#client.iq(req, o),
      self: () => {
        const j = this.#client.jid;
        if (!j) throw new ConfabError('ERR_NOT_CONNECTED', 'Not connected');
        return bare(j);
      },
      presenceChildren: () => this.#presenceChildren(),
      info: (room) => this.info(room),
      timeout: this.#o.timeout,
      onError: ctx.onError,
      removed: (room, exit) => this.#removed(room, exit),
      joined: (room) => this.#events.emit('joined', room),
    };
    this.#teardown.push(
      this.#client.addInboundFilter((el) => !this.process(el)),
      this.#client.on('online', (e) => this.#online(e.resumed)),
      this.#client.on('offline', () => this.#offline()),
      ctx.presence.addDecorator((p) => this.#sawPresence(p)),
      ctx.messaging.on('invitation', (e) => {
        const room = tryJid(e.invitation.room);
        if (room === undefined) return;
        this.#events.emit('invite', {
          room: bare(room),
          from: e.from,
          reason: e.invitation.reason,
          password: e.invitation.password,
          kind: 'direct',
          continue: e.invitation.continue,
          thread: e.invitation.thread,
          element: e.message.element,
        });
      }),
    );
  }

  on<K extends keyof MucEvents>(event: K, fn: (e: MucEvents[K]) => void): () => void {
    return this.#events.on(event, fn);
  }
  once<K extends keyof MucEvents>(event: K, fn: (e: MucEvents[K]) => void): () => void {
    return this.#events.once(event, fn);
  }
  off<K extends keyof MucEvents>(event: K, fn: (e: MucEvents[K]) => void): void {
    this.#events.off(event, fn);
  }

  // ---------------------------------------------------------------- discovery

  /**
   * The conference services of our server (XEP-0045 6.1): its disco#items whose disco#info
   * has a `conference/text` identity or the MUC feature. [] when there are none.
   */
  async services(): Promise<string[]> {
    const own = this.#client.jid;
    if (!own) throw new ConfabError('ERR_NOT_CONNECTED', 'Not connected');
    let items: string[];
    try {
      const r = await this.#client.iq({
        type: 'get',
        to: domainOf(own),
        payload: xml('query', { xmlns: DISCO.items }),
      });
      const q = r.getChild('query', DISCO.items);
      items = q
        ? parseItems(q)
            .items.filter((i) => i.node === undefined)
            .map((i) => i.jid)
        : [];
    } catch (err) {
      if (err instanceof StanzaError) return [];
      throw err;
    }
    const found = await Promise.all(
      items.map(async (jid) => {
        try {
          const r = await this.#client.iq({
            type: 'get',
            to: jid,
            payload: xml('query', { xmlns: DISCO.info }),
          });
          const q = r.getChild('query', DISCO.info);
          if (!q) return undefined;
          const info = parseInfo(q);
          const muc =
            info.identities.some((i) => i.category === 'conference' && i.type === 'text') ||
            info.features.includes(NS_MUC);
          return muc ? jid : undefined;
        } catch {
          return undefined; // an item that does not answer is not a service we can use
        }
      }),
    );
    return found.filter((j): j is string => j !== undefined);
  }

  /** The public rooms of a service (XEP-0045 6.3, disco#items). */
  async rooms(service: string): Promise<RoomListing[]> {
    const r = await this.#client.iq({
      type: 'get',
      to: service,
      payload: xml('query', { xmlns: DISCO.items }),
    });
    const q = r.getChild('query', DISCO.items);
    if (!q) return [];
    const out: RoomListing[] = [];
    for (const i of parseItems(q).items) {
      const j = tryJid(i.jid);
      if (j !== undefined) out.push({ jid: bare(j), name: i.name });
    }
    return out;
  }

  /**
   * What a room is (XEP-0045 6.4). Undefined when it does not exist (`item-not-found`: the
   * name is free to create). Other errors reject (StanzaError); a destroyed room that the
   * service remembers (Prosody's tombstones) rejects with condition `gone` and the reason.
   */
  async info(room: string): Promise<RoomInfo | undefined> {
    const jid = roomJid(room);
    try {
      const r = await this.#client.iq({ type: 'get', to: jid, payload: xml('query', { xmlns: DISCO.info }) });
      const q = r.getChild('query', DISCO.info);
      return readRoomInfo(jid, q ? parseInfo(q) : { identities: [], features: [] }, q);
    } catch (err) {
      if (err instanceof StanzaError && err.condition === 'item-not-found') return undefined;
      throw err;
    }
  }

  /** A room name the service promises nobody uses (XEP-0045 10.1.4 muc#unique); undefined where not offered. */
  async uniqueName(service: string): Promise<string | undefined> {
    try {
      const r = await this.#client.iq({
        type: 'get',
        to: service,
        payload: xml('unique', { xmlns: NS_MUC_UNIQUE }),
      });
      const t = r.getChildText('unique', NS_MUC_UNIQUE)?.trim();
      return t ? t : undefined;
    } catch (err) {
      if (err instanceof StanzaError) return undefined;
      throw err;
    }
  }

  // ---------------------------------------------------------------- rooms

  /**
   * Join a room (XEP-0045 7.2), trying each nick in turn on 409 conflict. Resolves with the
   * Room once our self-presence (status 110) arrives, after the occupant list. Rejects with
   * ConfabError `ERR_NICK_CONFLICT` naming the nicks tried when none is free, a StanzaError
   * with the room's condition and a sentence (not-authorized: password; registration-required:
   * members only; forbidden: banned; service-unavailable: full; item-not-found: no such room
   * with `create: 'never'`, or locked), ERR_TIMEOUT or ERR_ABORTED.
   *
   * @example
   * const room = await client.muc.join('kitchen@conference.example.org', {
   *   nick: ['Juliet', 'Juliet2'], password: 'nurse', history: { maxstanzas: 20 },
   * });
   */
  async join(room: string, o: JoinOptions): Promise<Room> {
    const jid = roomJid(room);
    const nicks = typeof o.nick === 'string' ? [o.nick] : [...o.nick];
    if (nicks.length === 0 || nicks.some((n) => n === '' || tryJid(`${jid}/${n}`) === undefined))
      throw new ConfabError('ERR_BAD_INPUT', `Give at least one valid nickname to join ${jid}`);
    if (this.#client.status !== 'online')
      throw new ConfabError('ERR_NOT_CONNECTED', `Not connected (status: ${this.#client.status})`);
    const have = this.#rooms.get(jid);
    if (have) {
      if (have.state === 'joined') return have;
      await new Promise<void>((resolve, reject) => {
        const off = have.on('state', (s) => {
          if (s === 'joined') {
            off();
            resolve();
          } else if (s === 'left') {
            off();
            reject(new ConfabError('ERR_ABORTED', `joining ${jid} failed`));
          }
        });
      });
      return have;
    }
    // A leave still waiting for its confirmation: let it land first (XEP-0045 7.14).
    await this.#leaving.get(jid)?.leaving;
    const r = new Room(this.#host, jid, { ...o, nick: nicks });
    this.#rooms.set(jid, r);
    o.onRoom?.(r);
    await r.start(o);
    return r;
  }

  /** A room we are joining or in. */
  get(room: string): Room | undefined {
    const j = tryJid(room);
    return j === undefined ? undefined : this.#rooms.get(bare(j));
  }

  /** The rooms we are joining or in. */
  joined(): Room[] {
    return [...this.#rooms.values()];
  }

  /** Invite someone to a room directly (XEP-0249): a message to them, not through the room. */
  async inviteDirect(
    room: string,
    jid: string,
    o: { reason?: string | undefined; password?: string | undefined } = {},
  ): Promise<void> {
    const r = roomJid(room);
    const to = tryJid(jid);
    if (to === undefined) throw new ConfabError('ERR_BAD_INPUT', `Invalid JID '${jid}'`);
    await this.#client.send(
      directInvite(to, r, { ...o, password: o.password ?? this.get(r)?.password, id: randomId() }),
    );
  }

  /** Decline a mediated invitation (XEP-0045 7.8.2): the room tells the inviter. */
  async decline(invite: Pick<MucInvite, 'room' | 'from'>, reason?: string): Promise<void> {
    await this.#client.send(declineMessage(invite.room, invite.from, reason, randomId()));
  }

  /** XEP-0245: "/me waves" from Nick is "Nick waves" (undefined when the body is not a /me). */
  renderMe(body: string | undefined, nick: string): string | undefined {
    return renderMe(body, nick);
  }

  /** Check every joined room now with a self-ping (XEP-0410); rooms we are out of rejoin. */
  async checkRooms(): Promise<void> {
    await Promise.all([...this.#rooms.values()].map((r) => this.#check(r)));
  }

  // ---------------------------------------------------------------- inbound

  /**
   * The inbound stage: true when the stanza is the MUC feature's alone (group and private
   * messages, room notices and errors, mediated invitations), so the plain message path
   * must not see it. Presence is read and left for the client's `presence` event.
   */
  process(el: Element): boolean {
    const from = tryJid(el.attr('from'));
    if (from === undefined) return false;
    const b = bare(from);
    if (el.name === 'presence') {
      const room = this.#rooms.get(b);
      if (room) room.handlePresence(el);
      else {
        const gone = this.#leaving.get(b);
        if (gone && el.attr('type') === 'unavailable' && readMucUser(el)?.statuses.includes(STATUS.self)) {
          gone.leftConfirmed();
          this.#leaving.delete(b);
        }
      }
      return false;
    }
    if (el.name !== 'message') return false;
    const type = el.attr('type') ?? 'normal';
    if (type !== 'error' && isBare(from) && localOf(from) !== undefined) {
      const u = readMucUser(el);
      if (u?.invite) {
        this.#events.emit('invite', {
          room: b,
          from: u.invite.from,
          reason: u.invite.reason,
          password: u.password,
          kind: 'mediated',
          continue: u.invite.continue,
          thread: u.invite.thread,
          element: el,
        });
        return true;
      }
      if (u?.decline) {
        this.#events.emit('decline', {
          room: b,
          from: u.decline.from,
          reason: u.decline.reason,
          element: el,
        });
        return true;
      }
    }
    const room = this.#rooms.get(b);
    if (room) return room.handleMessage(el);
    // XEP-0045: group messages only reach occupants; one from a room we are not in is stale or forged.
    return type === 'groupchat';
  }

  /** Stop (teardown): leaves nothing on the wire. */
  destroy(): void {
    for (const t of this.#teardown.splice(0)) t();
    this.#stopTimer();
    this.#events.clear();
  }

  // ---------------------------------------------------------------- internals

  #removed(room: Room, exit: RoomExit): void {
    if (this.#rooms.get(room.jid) === room) this.#rooms.delete(room.jid);
    if (exit.reason === 'left' && room.leaving) {
      this.#leaving.set(room.jid, room);
      void room.leaving.then(() => {
        if (this.#leaving.get(room.jid) === room) this.#leaving.delete(room.jid);
      });
    }
    // A first join that failed was never "in": its caller hears of it through the rejection.
    if (room.joinedOnce) this.#events.emit('left', { room, exit });
  }

  /** The presence feature built a broadcast: remember it, and tell the joined rooms. */
  #sawPresence(p: Element): void {
    if (p.attr('to') !== undefined || p.attr('type') !== undefined) return;
    this.#lastBroadcast = p;
    // After the other decorators ran (caps is first, but others may come later) and it went out.
    queueMicrotask(() => {
      if (this.#client.status !== 'online' || this.#lastBroadcast !== p) return;
      for (const r of this.#rooms.values()) r.updatePresence(this.#presenceChildren());
    });
  }

  #presenceChildren(): Element[] {
    const b = this.#lastBroadcast;
    if (b) {
      return b
        .elements()
        .filter(
          (c) => c.name !== 'priority' && (COPIED.has(c.name) ? c.xmlns === b.xmlns || c.xmlns === '' : true),
        )
        .map(cloneElement);
    }
    const out: Element[] = [];
    const show = this.#ctx.presence.currentShow;
    if (show) out.push(xml('show', null, show));
    const status = this.#ctx.presence.own.status;
    if (status) out.push(xml('status', null, status));
    const c = this.#ctx.caps?.element();
    if (c) out.push(c);
    return out;
  }

  #online(resumed: boolean): void {
    this.#startTimer();
    if (resumed) {
      // The stream (and our rooms) survived; make sure the rooms agree (XEP-0410).
      void this.checkRooms().catch(() => {});
      return;
    }
    // A new session: the server took us out of every room when the old one ended.
    for (const r of [...this.#rooms.values()]) r.lost('disconnected', this.#o.rejoin);
  }

  #offline(): void {
    this.#stopTimer();
    for (const r of [...this.#rooms.values()]) r.lost('disconnected', false);
  }

  async #check(r: Room): Promise<void> {
    if (r.state !== 'joined' || this.#client.status !== 'online') return;
    const inRoom = await r.selfPing();
    // An answer lost to our own disconnect() says nothing about the room: no rejoin.
    if (this.#client.status !== 'online') return;
    if (inRoom === false && r.state === 'joined' && this.#rooms.get(r.jid) === r)
      r.lost('not-joined', this.#o.rejoin);
  }

  #startTimer(): void {
    const every = this.#o.selfPingInterval;
    if (!every || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      // 'offline' stops the timer, but `disconnect()` first passes through 'disconnecting'.
      if (this.#client.status !== 'online') return;
      const quiet = Date.now() - every;
      for (const r of this.#rooms.values()) if (r.lastActivity <= quiet) void this.#check(r).catch(() => {});
    }, every);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** A room's bare JID from what the app gave (a bare `room@service`; an occupant JID is cut to it). */
function roomJid(room: string): BareJid {
  const j: Jid | undefined = tryJid(room);
  if (j === undefined || localOf(j) === undefined)
    throw new ConfabError('ERR_BAD_INPUT', `'${room}' is not a room address (room@service)`);
  return bare(j);
}
