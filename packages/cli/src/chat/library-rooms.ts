/**
 * Group chat for the full-screen client over `client.muc` (XEP-0045 v1.35 through the library's
 * Muc/Room API): join (the next nick with `_` on a conflict; a new room is accepted as an instant
 * room), leave, send (the room's reflection is what shows), private messages, nick, subject,
 * mediated invitations, kick and ban; the room's events become window lines (joins, leaves with
 * kick/ban reasons, nick changes, subject changes, our exit) and group messages. Rooms the
 * library joins by itself (bookmarks with autojoin) are adopted: same wiring, their own window.
 */
import type { Client, GroupMessage, Room } from 'confab';
import type { BackendEvents, Events, RoomOccupant, RoomsBackend } from './backend.ts';

export class LibraryRooms implements RoomsBackend {
  readonly #client: () => Client;
  readonly #ev: Events<BackendEvents>;
  readonly #wired = new WeakSet<Room>();

  constructor(client: () => Client, events: Events<BackendEvents>) {
    this.#client = client;
    this.#ev = events;
  }

  #room(room: string): Room {
    const r = this.#client().muc.get(room);
    if (!r || r.state === 'left') throw new Error(`not in ${room}`);
    return r;
  }

  #wire(r: Room): void {
    if (this.#wired.has(r)) return;
    this.#wired.add(r);
    const room = r.jid;
    const ev = this.#ev;
    const line = (text: string) => ev.emit('room', { room, event: 'info', text });
    const update = () => ev.emit('room', { room, event: 'update' });
    const group = (m: GroupMessage) =>
      ev.emit('message', {
        from: `${room}/${m.nick}`,
        to: undefined,
        id: m.message.id,
        type: 'groupchat',
        body: m.body,
        subject: undefined,
        thread: m.message.thread,
        delay: m.message.delay?.stamp,
        oob: m.message.oob.map((o) => ({ url: o.url, desc: o.desc })),
        outgoing: m.own,
        archived: m.history,
        error: undefined,
      });
    r.on('message', group);
    r.on('private', (m) =>
      ev.emit('message', {
        from: `${room}/${m.nick}`,
        to: undefined,
        id: m.message.id,
        type: 'chat',
        body: m.body,
        subject: undefined,
        thread: m.message.thread,
        delay: m.message.delay?.stamp,
        oob: [],
        outgoing: false,
        error: undefined,
      }),
    );
    r.on('join', (e) => {
      if (!e.initial) line(`${e.occupant.nick} joined`);
      update();
    });
    r.on('leave', (e) => {
      const why =
        e.reason === 'left'
          ? 'left'
          : e.reason === 'kicked'
            ? 'was kicked'
            : e.reason === 'banned'
              ? 'was banned'
              : `left (${e.reason})`;
      line(`${e.occupant.nick} ${why}${e.actor ? ` by ${e.actor}` : ''}${e.text ? `: ${e.text}` : ''}`);
    });
    r.on('nick', (e) => line(`${e.oldNick} is now known as ${e.newNick}`));
    r.on('subject', (e) => {
      if (e.subject) line(`Subject: ${e.subject}${e.nick ? ` (set by ${e.nick})` : ''}`);
      else if (!e.initial) line('The subject was cleared');
    });
    r.on('presence', update);
    r.on('role', (e) =>
      line(`${e.occupant.nick} is now ${e.occupant.role}${e.actor ? ` (by ${e.actor})` : ''}`),
    );
    r.on('notice', (e) => {
      if (e.body) line(e.body);
    });
    r.on('error', (e) => line(`Error from the room: ${e.error.message}`));
    r.on('joined', (e) => line(e.rejoined ? `Rejoined as ${e.nick}` : `Joined as ${e.nick}`));
    r.on('exit', (e) => {
      const why = `${e.reason}${e.actor ? ` by ${e.actor}` : ''}${e.text ? `: ${e.text}` : ''}`;
      line(`You are out of the room (${why})${e.rejoin ? '; rejoining' : ''}`);
    });
  }

  async join(room: string, nick: string, password?: string): Promise<void> {
    const c = this.#client();
    const joining = c.muc.join(room, {
      nick: [nick, `${nick}_`, `${nick}__`],
      password,
      history: { maxstanzas: 20 },
      create: 'instant',
    });
    // The Room exists a few microtasks into join(), long before the room answers (a disco round
    // trip comes first): listen from then on, so the occupant list, the history and `joined` show.
    for (let i = 0; i < 20 && c.muc.get(room) === undefined; i++) await Promise.resolve();
    const early = c.muc.get(room);
    if (early) this.#wire(early);
    const r = await joining;
    this.#wire(r);
    this.#ev.emit('room', { room: r.jid, event: 'update' });
  }

  /**
   * Shows a room the library joined by itself, not through `join` (a bookmark with autojoin,
   * XEP-0402 / XEP-0048, after login or when one arrives from another of our clients): wires it
   * and opens its window (the `autojoin` room event). Wired while the join is under way, the
   * room's own events show the occupants, history, subject and `Joined as`; wired after it, what
   * the room said about itself meanwhile is caught up from its state.
   */
  adopt(r: Room): void {
    if (this.#wired.has(r) || r.state === 'left') return;
    this.#wire(r);
    const room = r.jid;
    const line = (text: string) => this.#ev.emit('room', { room, event: 'info', text });
    this.#ev.emit('room', { room, event: 'autojoin', nick: r.nick });
    if (r.state === 'joined') {
      line(`Joined as ${r.nick}`);
      if (r.subject) line(`Subject: ${r.subject}${r.subjectBy ? ` (set by ${r.subjectBy})` : ''}`);
    } else line(`Joining as ${r.nick} (a bookmark with autojoin)...`);
  }

  /** `adopt` for every room the library is joining or in. */
  adoptAll(): void {
    let all: Room[];
    try {
      all = this.#client().muc.joined();
    } catch {
      return;
    }
    for (const r of all) this.adopt(r);
  }

  async leave(room: string, status?: string): Promise<void> {
    await this.#room(room).leave(status);
  }

  async send(room: string, body: string): Promise<{ id: string }> {
    const m = await this.#room(room).send(body);
    return { id: m.message.id ?? '' };
  }

  async sendPrivate(room: string, nick: string, body: string): Promise<{ id: string }> {
    return { id: await this.#room(room).sendPrivate(nick, body) };
  }

  setNick(room: string, nick: string): Promise<void> {
    return this.#room(room).changeNick(nick);
  }

  setSubject(room: string, subject: string): Promise<void> {
    return this.#room(room).setSubject(subject);
  }

  invite(room: string, jid: string, reason?: string): Promise<void> {
    // XEP-0249 direct invitation: what current clients understand best (the room needs nothing).
    this.#room(room);
    return this.#client().muc.inviteDirect(room, jid, { reason });
  }

  kick(room: string, nick: string, reason?: string): Promise<void> {
    return this.#room(room).kick(nick, reason);
  }

  ban(room: string, jid: string, reason?: string): Promise<void> {
    return this.#room(room).ban(jid, reason);
  }

  occupants(room: string): RoomOccupant[] {
    let r: Room | undefined;
    try {
      r = this.#client().muc.get(room);
    } catch {
      return [];
    }
    if (!r) return [];
    const rank = { moderator: 0, participant: 1, visitor: 2, none: 3 } as const;
    return [...r.occupants.values()]
      .map((o) => ({
        nick: o.nick,
        role: o.role,
        affiliation: o.affiliation,
        show: o.show,
        status: o.status,
        jid: o.jid,
      }))
      .sort(
        (a, b) =>
          rank[a.role as keyof typeof rank] - rank[b.role as keyof typeof rank] ||
          a.nick.localeCompare(b.nick),
      );
  }

  subject(room: string): string | undefined {
    try {
      return this.#client().muc.get(room)?.subject;
    } catch {
      return undefined;
    }
  }

  ownNick(room: string): string | undefined {
    try {
      const r = this.#client().muc.get(room);
      return r && r.state !== 'left' ? r.nick : undefined;
    } catch {
      return undefined;
    }
  }

  joined(): string[] {
    try {
      return this.#client()
        .muc.joined()
        .filter((r) => r.state !== 'left')
        .map((r) => r.jid);
    } catch {
      return [];
    }
  }
}
