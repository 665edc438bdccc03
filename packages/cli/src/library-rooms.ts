/**
 * Adapter from the library to the CLI's view of group chat (session-rooms.ts): the only CLI file
 * that touches `client.muc` (XEP-0045 v1.35, XEP-0249 v1.2 direct invitations, XEP-0004 forms for
 * the room configuration).
 *
 * "Handled by the room" for messages the room does not reflect (private messages, mediated
 * invitations): after the message, a disco#info request to the room. A room handles one
 * occupant's stanzas in order, so when its answer arrives, an error the room bounced for our
 * message (`<message type='error'>` with our id, reported by the Room as `error`) has arrived
 * before it.
 */
import { type Client, type Room, type RoomEvents, StanzaError, xml } from 'confab';
import { CliError, EXIT } from './exit.ts';
import type {
  CliRooms,
  ConfigField,
  JoinedRoom,
  JoinRequest,
  RoomEventView,
  RoomView,
} from './session-rooms.ts';

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';

export function roomsOf(client: Client, _domain: string): CliRooms {
  const muc = client.muc;

  /** disco#info to the room: answered once the room handled what we sent before. */
  const handled = async (room: string): Promise<void> => {
    try {
      await client.iq({ type: 'get', to: room, payload: xml('query', { xmlns: NS_DISCO_INFO }) });
    } catch (err) {
      if (!(err instanceof StanzaError)) throw err;
    }
  };

  /**
   * Starts `muc.join` and hands the Room to `attach` before any presence goes out: the library
   * makes the Room object within a few microtasks of the call (before its first network round
   * trip), and no stanza can be processed while microtasks run, so the listeners see the whole
   * occupant list. (Workaround until the MUC API takes listeners or emits a 'joining' event.)
   */
  /** Joins with `attach` called before the join goes out, so no room event is missed. */
  const joinAttached = (
    room: string,
    o: Parameters<Client['muc']['join']>[1],
    attach: (r: Room) => void,
  ): Promise<Room> => muc.join(room, { ...o, onRoom: attach });

  const view = (r: Room): JoinedRoom => {
    let exitResolve!: (e: RoomEventView) => void;
    const exited = new Promise<RoomEventView>((resolve) => {
      exitResolve = resolve;
    });
    let leaving = false;
    r.on('exit', (x) => {
      if (leaving && x.reason === 'left') return;
      exitResolve(exitView(r.jid, x));
    });
    return {
      jid: r.jid,
      get nick() {
        return r.nick;
      },
      created: r.created,
      async say(body) {
        const g = await r.send(body);
        return { id: g.message.id ?? '', stanzaId: g.stanzaId };
      },
      async sayPrivate(nick, body) {
        let refused: StanzaError | undefined;
        let id = '';
        const off = r.on('error', (e) => {
          if (e.element.attr('id') === id) refused = e.error;
        });
        try {
          id = await r.sendPrivate(nick, body);
          await handled(r.jid);
        } finally {
          off();
        }
        if (refused) throw refused;
        return { id };
      },
      async invite(jid, reason) {
        let refused: StanzaError | undefined;
        const off = r.on('error', (e) => {
          refused ??= e.error;
        });
        try {
          await r.invite(jid, { reason });
          await handled(r.jid);
        } finally {
          off();
        }
        if (refused) throw refused;
      },
      async leave() {
        leaving = true;
        await r.leave();
      },
      exited,
    };
  };

  return {
    async service() {
      const [first] = await muc.services();
      return first;
    },

    async list(service) {
      const rooms = await muc.rooms(service);
      const out: RoomView[] = [];
      // disco#info of each room, a few at a time.
      for (let i = 0; i < rooms.length; i += 8) {
        const batch = rooms.slice(i, i + 8);
        const infos = await Promise.all(batch.map((r) => muc.info(r.jid).catch(() => undefined)));
        batch.forEach((r, k) => {
          const info = infos[k];
          out.push({
            jid: r.jid,
            // disco#info names the room; ejabberd's disco#items adds the occupant count ("Kitchen (2)").
            name: info?.name ?? r.name,
            description: info?.description,
            occupants: info?.occupants,
            anonymity: info?.anonymity,
            password: info?.passwordProtected,
            persistent: info?.persistent,
            membersOnly: info?.membersOnly,
            moderated: info?.moderated,
            archive: info?.archive,
          });
        });
      }
      return out;
    },

    async exists(room) {
      return (await muc.info(room)) !== undefined;
    },

    async join(room, req: JoinRequest) {
      const emit = req.onEvent;
      const r = await joinAttached(
        room,
        {
          nick: req.nicks,
          password: req.password,
          history: req.history === undefined ? undefined : { maxstanzas: req.history },
          create: req.create,
        },
        (x) => {
          if (emit) subscribe(x, emit);
        },
      );
      return view(r);
    },

    async create(room, nicks, configure) {
      if ((await muc.info(room)) !== undefined)
        throw new CliError(EXIT.failure, `the room ${room} exists already`);
      const r = await muc.join(room, { nick: nicks, create: 'reserved', history: false });
      if (!r.created) {
        await r.leave();
        throw new CliError(EXIT.failure, `the room ${room} exists already`);
      }
      try {
        const form = await r.config();
        const fields: ConfigField[] = form.fields
          .filter((f) => f.var !== undefined && f.var !== 'FORM_TYPE' && f.type !== 'fixed')
          .map((f) => ({
            var: f.var as string,
            type: f.type,
            label: f.label,
            values: f.values,
            options: f.options.map((o) => o.value),
          }));
        await r.configure(configure(fields));
      } catch (err) {
        // No half-made room: a locked room nobody configured is taken back.
        await r.cancelConfig().catch(() => {});
        throw err;
      }
      return view(r);
    },

    async inviteDirect(room, jid, reason, password) {
      await muc.inviteDirect(room, jid, { reason, password });
      // The server has it once it answered a request sent after it (in-order processing).
      try {
        await client.iq({ type: 'get', payload: xml('ping', { xmlns: 'urn:xmpp:ping' }) });
      } catch (err) {
        if (!(err instanceof StanzaError)) throw err;
      }
    },
  };
}

function exitView(room: string, x: RoomEvents['exit']): RoomEventView {
  return {
    type: 'exit',
    room,
    reason: x.reason,
    text: x.text ?? x.error?.text,
    actor: x.actor,
    alternate: x.alternate,
  };
}

/** Every room event as the CLI's view. */
function subscribe(r: Room, emit: (e: RoomEventView) => void): void {
  const room = r.jid;
  const occ = (o: RoomEvents['join']['occupant']) => ({
    nick: o.nick,
    from: o.occupantJid,
    jid: o.jid,
    occupantId: o.occupantId,
    role: o.role,
    affiliation: o.affiliation,
    show: o.show,
    status: o.status,
    own: o.self || undefined,
  });
  r.on('joined', (e) => emit({ type: 'joined', room, nick: e.nick, own: true }));
  r.on('join', (e) => emit({ type: 'join', room, ...occ(e.occupant), initial: e.initial || undefined }));
  r.on('leave', (e) =>
    emit({ type: 'leave', room, ...occ(e.occupant), reason: e.reason, text: e.text, actor: e.actor }),
  );
  r.on('presence', (e) => emit({ type: 'presence', room, ...occ(e.occupant) }));
  r.on('nick', (e) => emit({ type: 'nick', room, ...occ(e.occupant), nick: e.oldNick, newNick: e.newNick }));
  r.on('role', (e) => emit({ type: 'role', room, ...occ(e.occupant), actor: e.actor, text: e.reason }));
  r.on('affiliation', (e) =>
    emit({
      type: 'affiliation',
      room,
      ...(e.occupant ? occ(e.occupant) : {}),
      jid: e.jid,
      affiliation: e.affiliation,
      actor: e.actor,
      text: e.reason,
    }),
  );
  r.on('subject', (e) =>
    emit({ type: 'subject', room, nick: e.nick, subject: e.subject ?? '', initial: e.initial || undefined }),
  );
  r.on('message', (m) =>
    emit({
      type: 'message',
      room,
      nick: m.nick,
      from: m.message.from,
      id: m.message.id,
      body: m.body,
      delay: m.message.delay?.stamp,
      stanzaId: m.stanzaId,
      own: m.own || undefined,
    }),
  );
  // The library emits these only for the occupant's OWN earlier message (features/muc/room.ts).
  r.on('correction', (c) =>
    emit({
      type: 'correction',
      room,
      nick: c.nick,
      from: c.message.from,
      id: c.message.id,
      body: c.body,
      replace: c.replaces,
      delay: c.message.delay?.stamp,
      stanzaId: c.stanzaId,
      own: c.own || undefined,
    }),
  );
  r.on('retraction', (x) =>
    emit({
      type: 'retraction',
      room,
      nick: x.nick,
      from: x.message.from,
      id: x.message.id,
      retract: x.retracts,
      delay: x.message.delay?.stamp,
      own: x.own || undefined,
    }),
  );
  r.on('notice', (n) =>
    emit({
      type: 'notice',
      room,
      from: room,
      body: n.body,
      statuses: n.statuses.length > 0 ? n.statuses : undefined,
    }),
  );
  r.on('private', (p) =>
    emit({ type: 'private', room, nick: p.nick, from: p.message.from, id: p.message.id, body: p.body }),
  );
  r.on('exit', (x) => emit(exitView(room, x)));
}
