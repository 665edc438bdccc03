// The demo bot of `npm start` (issue 3 "Also", issue 7 "`npm start`"): one account that answers
// every chat message (RFC 6121 5.2.2 type `chat`, 5.2.5 thread echoed) with an echo and a friendly
// line, plus a few commands (`help`, `ping`, `time`, `whoami`); approves whoever asks to see its
// presence and asks back (RFC 6121 3.1); and hosts the demo room (XEP-0045: creates it persistent
// with a subject, sits in it, answers group messages that mention its nick and private messages).
// Uses only the library's public API.

import type { Client, GroupMessage, Message, Room } from '../../packages/confab/src/index.ts';
import { bare } from '../../packages/confab/src/index.ts';

/** What the bot answers to `body` from `from` (a full or bare JID). Pure, so it is easy to test. */
export function botReply(body: string, from: string, now: Date = new Date()): string {
  const who = from.split('@')[0] || from;
  const command = body.trim().toLowerCase();
  switch (command) {
    case 'help':
    case '/help':
    case '?':
      return [
        "I'm the confab demo bot. Try:",
        '  help    this list',
        '  ping    I answer pong',
        '  time    my clock',
        '  whoami  the address your message came from',
        'Anything else I echo back.',
      ].join('\n');
    case 'ping':
      return 'pong';
    case 'time':
      return `It is ${now.toISOString()} here.`;
    case 'whoami':
      return `You are ${from}.`;
    default:
      return `echo: ${body}\nNice to hear from you, ${who}! (say "help" for what I can do)`;
  }
}

/**
 * What a group message asks the bot, when it mentions `nick` (or "bot"): the text after a
 * leading `nick:` / `nick,` (the usual way to address someone in a room), else the whole
 * message; undefined when the message is not for the bot. Pure, so it is easy to test.
 */
export function addressedTo(body: string, nick: string): string | undefined {
  const esc = nick.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const lead = new RegExp(`^\\s*@?(?:${esc}|bot)\\s*[:,]\\s*`, 'iu');
  const m = body.match(lead);
  if (m) return body.slice(m[0].length).trim() || 'help';
  const anywhere = new RegExp(`(^|[^\\p{L}\\p{N}_])(?:${esc}|bot)($|[^\\p{L}\\p{N}_])`, 'iu');
  return anywhere.test(body) ? body.trim() : undefined;
}

export interface BotOptions {
  /** Called for each message the bot answers (for the demo's log); not called for bodyless ones. */
  onAnswer?: (msg: Message, reply: string) => void;
  /**
   * Approve every subscription request and ask back (default false: the scripted demo has no
   * roster). With it, anyone who adds the bot sees it online and it sees them.
   */
  befriend?: boolean;
  /** Send this text to `jid` (a full JID) once, when that client comes online. */
  greet?: { jid: string; text: string };
}

/**
 * Wires the bot's behaviour onto a (not yet connected) client. The reply goes to the sender's
 * bare JID, not its full JID: the one-shot `confab send` logs out right after sending, and a
 * chat message to the bare JID reaches every online resource of the account (RFC 6121 8.5.2.1.1),
 * so the demo's own client and a `confab listen` both see it.
 */
export function runBot(client: Client, options: BotOptions = {}): void {
  client.on('message', (msg) => {
    // Not our own copies (carbons, archive), not errors, not chat states or other bodyless ones.
    if (msg.outgoing || msg.type === 'error' || msg.type === 'groupchat' || !msg.body) return;
    const reply = botReply(msg.body, msg.from);
    options.onAnswer?.(msg, reply);
    client.messages.send({ to: bare(msg.from), body: reply, thread: msg.thread });
  });
  if (options.befriend) client.roster.on('request', (r) => void r.approveAndSubscribe());
  const greet = options.greet;
  if (greet) {
    let greeted = false;
    client.on('presence', (p) => {
      if (greeted || p.type !== 'available' || p.from !== greet.jid) return;
      greeted = true;
      void client.messages.send({ to: greet.jid, body: greet.text });
    });
  }
}

export interface DemoRoomOptions {
  /** The room's bare JID, e.g. demo@conference.localhost. */
  room: string;
  nick: string;
  name: string;
  subject: string;
  /** Called for each message the bot answers in the room (for the demo's log). */
  onAnswer?: (msg: GroupMessage, reply: string) => void;
}

/**
 * Joins (creating it when new: persistent, named, with the subject) the demo room and answers
 * what is said to the bot there: a group message that mentions its nick gets `nick: answer` in
 * the room, a private message (XEP-0045 7.5) a private answer. Resolves once the bot is in the
 * room; the library rejoins it after a reconnect.
 */
export async function hostRoom(client: Client, o: DemoRoomOptions): Promise<Room> {
  const room = await client.muc.join(o.room, {
    nick: [o.nick, `${o.nick}_`],
    // A new room stays locked until configured (XEP-0045 10.1.3): configured below.
    create: 'reserved',
    history: false,
    onRoom: (r) => {
      r.on('message', (m) => {
        // Not our own, not the replayed history (XEP-0045 7.2.15), not subject changes.
        if (m.own || m.history || m.body === undefined || m.nick === r.nick) return;
        const asked = addressedTo(m.body, r.nick);
        if (asked === undefined) return;
        const reply = `${m.nick}: ${botReply(asked, m.occupant?.jid ?? `${o.room}/${m.nick}`)}`;
        o.onAnswer?.(m, reply);
        r.send(reply).catch(() => {});
      });
      r.on('private', (m) => {
        if (m.body === undefined) return;
        r.sendPrivate(m.nick, botReply(m.body, `${o.room}/${m.nick}`)).catch(() => {});
      });
    },
  });
  if (room.locked) {
    await room.configure({
      'muc#roomconfig_roomname': o.name,
      'muc#roomconfig_roomdesc': 'The confab demo room: the bot answers when you mention it',
      'muc#roomconfig_persistentroom': true,
      'muc#roomconfig_publicroom': true,
    });
  }
  if (room.subject !== o.subject) await room.setSubject(o.subject);
  return room;
}
