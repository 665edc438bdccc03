/**
 * Records everything a session sends or receives into the history (history.ts), from the
 * library's public events only:
 * - `message`: live, offline (XEP-0160), carbons both ways (XEP-0280: a `carbon-sent` copy is our
 *   own message from another of our clients) and archive results (XEP-0313), after the library's
 *   own checks (carbons only from our account, archive results only from the queried archive);
 * - `messages` `correction` / `retraction` events (XEP-0308, XEP-0424): applied to the stored
 *   original by its sender (history.ts checks that the sender is the original's);
 * - `stanzaOut`: every message we put on the wire (whatever sent it: `send`, `say`, the chat
 *   client, a correction), read from the element. A message the outbox re-sends after a reconnect
 *   is the same message (same id and origin-id): recorded once.
 * Messages with neither body nor subject (chat states, receipts, markers) are not history; nor are
 * errors. In a room (type groupchat) the conversation is the room and the sender the occupant; our
 * own room messages are recorded from the room's reflection (with the room's stanza-id), not as
 * sent. A private message through a room (XEP-0045 7.5, marked with a muc#user `<x/>`) is the
 * conversation with that occupant's full JID.
 *
 * Recording never disturbs the session: a failing write is reported through `onError` once.
 */
import type { Client, Element, Message, Room } from 'confab';
import { bare } from 'confab';
import type { History, HistoryInput, Via } from './history.ts';

const NS_SID = 'urn:xmpp:sid:0';
const NS_CORRECT = 'urn:xmpp:message-correct:0';
const NS_RETRACT = 'urn:xmpp:message-retract:1';
const NS_RETRACT_0 = 'urn:xmpp:message-retract:0';
const NS_FASTEN = 'urn:xmpp:fasten:0';
const NS_DELAY = 'urn:xmpp:delay';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';

const VIA: Record<Message['source'], Via> = {
  live: 'live',
  offline: 'offline',
  'carbon-sent': 'carbon',
  'carbon-received': 'carbon',
  archive: 'mam',
};

export interface RecorderOptions {
  /** Where to record. */
  history: History;
  /** Our account's bare JID. */
  account: string;
  /** A write failed (reported, not thrown: the session goes on). */
  onError?: ((err: unknown) => void) | undefined;
  /**
   * Whether to believe stanza-ids by our own bare JID on live copies (the library reads them as
   * trusted; a server with an archive strips forged ones, XEP-0313 3.3). Default: always.
   */
  trustStanzaIds?: (() => boolean) | undefined;
}

/** A message's fields for the history, without peer/direction (the caller decides those). */
type Fields = Omit<HistoryInput, 'account' | 'peer' | 'direction' | 'via'>;

function safeBare(j: string): string {
  try {
    return bare(j as Parameters<typeof bare>[0]);
  } catch {
    return j;
  }
}

/** The client's group chat, unless it was made without features. */
function mucOf(client: Client): Client['muc'] | undefined {
  try {
    return client.muc;
  } catch {
    return undefined;
  }
}

/** Starts recording `client`'s messages; returns the teardown. */
export function recordSession(client: Client, o: RecorderOptions): () => void {
  const account = safeBare(o.account);
  const trust = o.trustStanzaIds ?? (() => true);
  /** origin-ids of our room messages: their reflection is ours (direction out). */
  const ourRoomMessages = new Set<string>();
  let reported = false;
  const write = (input: HistoryInput) => {
    try {
      o.history.record(input);
    } catch (err) {
      if (!reported) {
        reported = true;
        o.onError?.(err);
      }
    }
  };

  /** Conversation, direction and sender of an inbound-event message. */
  const place = (m: Message): Pick<HistoryInput, 'peer' | 'direction' | 'sender'> => {
    const pm = m.type !== 'groupchat' && m.element.getChild('x', NS_MUC_USER) !== undefined;
    if (m.type === 'groupchat') {
      const ours = m.originId !== undefined && ourRoomMessages.has(m.originId);
      return { peer: safeBare(m.from), direction: ours ? 'out' : 'in', sender: m.from };
    }
    if (m.outgoing) {
      const to = m.to ?? account;
      return { peer: pm ? to : safeBare(to), direction: 'out', sender: account };
    }
    return { peer: pm ? m.from : safeBare(m.from), direction: 'in', sender: pm ? m.from : safeBare(m.from) };
  };

  const fieldsOf = (m: Message): Fields => {
    const room = m.type === 'groupchat' ? safeBare(m.from) : undefined;
    const sidBy = room ?? account;
    const sid = room !== undefined || m.source === 'archive' || trust() ? m.stanzaId(sidBy) : undefined;
    return {
      id: m.id,
      originId: m.originId,
      stanzaId: sid === undefined ? undefined : { id: sid, by: sidBy },
      from: m.from,
      to: m.to,
      type: m.type,
      body: m.body,
      subject: m.subject,
      thread: m.thread,
      delay: m.delay?.stamp,
      received: m.receivedAt,
    };
  };

  const offs: Array<() => void> = [];
  offs.push(
    client.on('message', (m) => {
      if (m.type === 'error') return;
      if (m.body === undefined && (m.subject === undefined || m.type === 'groupchat')) return;
      write({ account, ...place(m), ...fieldsOf(m), via: VIA[m.source] });
    }),
  );
  offs.push(
    client.messages.on('correction', (e) => {
      const m = e.message;
      write({ account, ...place(m), ...fieldsOf(m), via: VIA[m.source], replace: e.id, body: e.body });
    }),
  );
  offs.push(
    client.messages.on('retraction', (e) => {
      const m = e.message;
      write({ account, ...place(m), ...fieldsOf(m), via: VIA[m.source], retract: e.id });
    }),
  );
  // Room traffic never reaches client 'message' (the MUC feature takes it): each room we join
  // is recorded from its own events, live and archive copies alike (history de-duplicates by
  // the room's stanza-id), once per room object however often it rejoins.
  const wired = new WeakSet<Room>();
  const wireRoom = (room: Room) => {
    if (wired.has(room)) return;
    wired.add(room);
    offs.push(
      room.on('message', (g) => {
        const m = g.message;
        if (m.body === undefined) return;
        write({ account, ...place(m), ...fieldsOf(m), via: VIA[m.source] });
      }),
      room.on('correction', (c) => {
        const m = c.message;
        write({
          account,
          ...place(m),
          ...fieldsOf(m),
          via: VIA[m.source],
          replace: c.replaces,
          body: c.body,
        });
      }),
      room.on('retraction', (r) => {
        const m = r.message;
        write({ account, ...place(m), ...fieldsOf(m), via: VIA[m.source], retract: r.retracts });
      }),
      room.on('private', (pm) => {
        const m = pm.message;
        if (m.body === undefined) return;
        write({ account, ...place(m), ...fieldsOf(m), via: VIA[m.source] });
      }),
    );
  };
  const muc = mucOf(client);
  if (muc) {
    for (const r of muc.joined()) wireRoom(r);
    offs.push(muc.on('joined', wireRoom));
  }
  offs.push(
    client.on('stanzaOut', (el) => {
      if (el.name !== 'message') return;
      const input = outgoing(el, account, client.jid ?? account);
      if (!input) return;
      if (input.type === 'groupchat') {
        if (input.originId !== undefined) ourRoomMessages.add(input.originId);
        return;
      }
      write(input);
    }),
  );
  return () => {
    for (const off of offs.splice(0)) off();
  };
}

/** A message we send, as history input (undefined when it is not history: no text, an error...). */
export function outgoing(el: Element, account: string, self: string): HistoryInput | undefined {
  const type = el.attr('type') ?? 'normal';
  if (type === 'error') return undefined;
  const to = el.attr('to');
  if (to === undefined) return undefined;
  const body = firstText(el, 'body');
  const subject = firstText(el, 'subject');
  const replace = el.getChild('replace', NS_CORRECT)?.attr('id');
  const retract =
    el.getChild('retract', NS_RETRACT)?.attr('id') ??
    (el.getChild('apply-to', NS_FASTEN)?.getChild('retract', NS_RETRACT_0) !== undefined
      ? el.getChild('apply-to', NS_FASTEN)?.attr('id')
      : undefined);
  if (body === undefined && subject === undefined && retract === undefined) return undefined;
  const stamp = el.getChild('delay', NS_DELAY)?.attr('stamp');
  const delay = stamp === undefined ? undefined : new Date(stamp);
  const pm = type !== 'groupchat' && el.getChild('x', NS_MUC_USER) !== undefined;
  return {
    account,
    peer: pm ? to : safeBare(to),
    direction: 'out',
    sender: account,
    id: el.attr('id'),
    originId: el.getChild('origin-id', NS_SID)?.attr('id'),
    from: el.attr('from') ?? self,
    to,
    type,
    body: retract === undefined ? body : undefined,
    subject,
    thread: firstText(el, 'thread'),
    delay: delay && !Number.isNaN(delay.getTime()) ? delay : undefined,
    received: new Date(),
    via: 'live',
    replace,
    retract,
  };
}

/** The text of the first child `name` without xml:lang, else the first (RFC 6121 5.2.3). */
function firstText(el: Element, name: string): string | undefined {
  const all = el
    .getChildren(name)
    .filter((c) => c.xmlns === '' || c.xmlns === el.xmlns || c.xmlns === 'jabber:client');
  const pick = all.find((c) => c.attr('xml:lang') === undefined) ?? all[0];
  return pick?.text();
}
