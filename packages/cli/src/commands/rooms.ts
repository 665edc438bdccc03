/**
 * `confab rooms`, `join`, `say`, `invite`, `create` (issue 7, "Group chat"): XEP-0045 v1.35
 * Multi-User Chat (6.3 rooms of a service, 7.2 join with nick fallback and history, 7.4 messages
 * and their reflection, 7.5 private messages, 7.8.2 mediated invitations, 10.1.2 instant and
 * 10.1.3 reserved rooms with the muc#roomconfig form), XEP-0249 v1.2 direct invitations,
 * XEP-0245 v1.0 `/me` (rendered as "* Nick waves" in plain output).
 *
 * None of these sends presence to the server: a one-shot resource that became available would
 * take the user's messages to the bare JID and the offline ones away from their real client. The
 * presence to the room is directed and does not do that.
 */
import { bare, jid, renderMe } from 'confab';
import { UsageError } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError, describeError, EXIT, exitCodeFor } from '../exit.ts';
import { type Output, remote } from '../output.ts';
import type { ConfigField, JoinedRoom, RoomEventView, RoomView } from '../session-rooms.ts';
import type { create, invite, join, rooms, say } from '../table-rooms.ts';
import { checkJid, withSession } from './common.ts';
import { checkSendable as checkSendableIn, stripFinalNewline } from './send.ts';

const ROOMCONFIG = 'muc#roomconfig_';

/** send.ts's check, its usage error naming this command. */
function checkSendable(what: string, text: string | undefined, command: string): void {
  try {
    checkSendableIn(what, text);
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(err.message, command);
    throw err;
  }
}

/** ROOM must be a bare JID `room@service`. */
export function checkRoom(value: string, command: string): string {
  checkJid(value, command);
  if (!value.includes('@') || value.includes('/'))
    throw new UsageError(`'${value}' is not a room: give room@service`, command);
  return value;
}

/** The nicks to try: those given, else the JID's local part (and it with a '_' when taken). */
export function nicksFor(given: readonly string[], account: string, command: string): string[] {
  for (const n of given) if (n.trim() === '') throw new UsageError('--nick wants a name', command);
  if (given.length > 0) return [...given];
  const b = bare(jid(account));
  const local = b.includes('@') ? b.slice(0, b.indexOf('@')) : 'confab';
  return [local, `${local}_`];
}

// ---------------------------------------------------------------- rendering

/** The `--json` fields of a room event (XMPP names; `delay` as ISO 8601). */
export function roomEventFields(e: RoomEventView): Record<string, unknown> {
  return { ...e, delay: e.delay?.toISOString() };
}

/** The plain line of a room event. */
export function roomEventLine(e: RoomEventView, out: Pick<Output, 'style'>): string {
  const nick = remote(e.nick);
  const star = out.style.dim('*');
  const why = (): string => {
    const by = e.actor ? ` by ${remote(e.actor)}` : '';
    const text = e.text ? ` (${remote(e.text)})` : '';
    return `${by}${text}`;
  };
  const presence = (): string => {
    let s = e.show ?? 'online';
    if (e.status) s += ` "${remote(e.status)}"`;
    return s;
  };
  switch (e.type) {
    case 'joined':
      return `${star} joined ${remote(e.room)} as ${nick}`;
    case 'join': {
      const who = [e.role, e.affiliation && e.affiliation !== 'none' ? e.affiliation : undefined]
        .filter(Boolean)
        .join(', ');
      const real = e.jid ? ` <${remote(e.jid)}>` : '';
      return e.initial
        ? `${star} ${nick}${real} is here (${who}; ${presence()})`
        : `${star} ${nick}${real} joined (${who})`;
    }
    case 'leave': {
      const verb =
        e.reason === 'kicked'
          ? 'was kicked'
          : e.reason === 'banned'
            ? 'was banned'
            : e.reason === 'left' || e.reason === undefined
              ? 'left'
              : `left (${e.reason})`;
      return `${star} ${nick} ${verb}${why()}`;
    }
    case 'presence':
      return `${star} ${nick} is ${presence()}`;
    case 'nick':
      return `${star} ${nick} is now known as ${remote(e.newNick)}`;
    case 'role':
      return `${star} ${nick} is now ${e.role}${why()}`;
    case 'affiliation':
      return `${star} ${e.nick ? nick : remote(e.jid)} is now ${e.affiliation}${why()}`;
    case 'subject': {
      const by = e.nick ? ` (set by ${nick})` : '';
      return e.subject ? `${star} subject: ${remote(e.subject)}${by}` : `${star} no subject${by}`;
    }
    case 'message': {
      const when = e.delay ? `${out.style.dim(`[${e.delay.toISOString()}]`)} ` : '';
      const me = renderMe(e.body, e.nick ?? '');
      if (me !== undefined) return `${when}${star} ${remote(me, true)}`;
      return `${when}${out.style.bold(`<${nick}>`)} ${remote(e.body, true)}`;
    }
    case 'correction': {
      const when = e.delay ? `${out.style.dim(`[${e.delay.toISOString()}]`)} ` : '';
      return `${when}${out.style.bold(`<${nick}>`)} ${out.style.dim('(corrected)')} ${remote(e.body, true)}`;
    }
    case 'retraction':
      return `${star} ${nick} retracted a message`;
    case 'notice':
      return `${star} ${remote(e.room)}: ${remote(e.body, true)}${e.statuses ? ` [${e.statuses.join(' ')}]` : ''}`;
    case 'private':
      return `${out.style.bold(`<${nick}>`)} ${out.style.dim('(private)')} ${remote(e.body, true)}`;
    case 'exit':
      return `${star} you are out of ${remote(e.room)}: ${e.reason}${why()}${e.alternate ? `; go to ${remote(e.alternate)}` : ''}`;
  }
}

function printRoomEvent(ctx: Pick<CommandContext, 'out'>, e: RoomEventView): void {
  if (ctx.out.json) ctx.out.event('room', roomEventFields(e));
  else ctx.out.line(roomEventLine(e, ctx.out));
}

/** The `--json` object and the plain line of a listed room. */
export function roomListLine(r: RoomView): string {
  const kind: string[] = [];
  if (r.password) kind.push('password');
  if (r.membersOnly) kind.push('members-only');
  if (r.moderated) kind.push('moderated');
  if (r.anonymity) kind.push(r.anonymity);
  if (r.persistent === false) kind.push('temporary');
  let line = remote(r.jid);
  if (r.name !== undefined && r.name !== '') line += ` (${remote(r.name)})`;
  if (r.occupants !== undefined) line += `, ${r.occupants} in it`;
  if (kind.length > 0) line += ` [${kind.join(', ')}]`;
  return line;
}

// ---------------------------------------------------------------- rooms

export async function runRooms(ctx: CommandContext<typeof rooms>): Promise<number> {
  const given = ctx.args.SERVICE;
  if (given !== undefined) checkJid(given, 'rooms');
  return withSession(ctx, {}, async (s) => {
    const service = given ?? (await s.rooms.service());
    if (service === undefined)
      throw new CliError(EXIT.failure, `${s.account.domain} offers no conference service`, 'give SERVICE');
    const list = await s.rooms.list(service);
    list.sort((a, b) => a.jid.localeCompare(b.jid));
    for (const r of list) {
      if (ctx.out.json) ctx.out.event('room', { ...r });
      else ctx.out.line(roomListLine(r));
    }
    if (list.length === 0 && !ctx.out.json && ctx.io.stderr.isTTY)
      ctx.out.note(`confab: ${service} lists no rooms`);
    return EXIT.ok;
  });
}

// ---------------------------------------------------------------- join

export async function runJoin(ctx: CommandContext<typeof join>): Promise<number> {
  const room = checkRoom(ctx.args.ROOM, 'join');
  const seconds = ctx.options.for;
  const session = await ctx.login({ presence: false, reconnect: false });
  let code: number = EXIT.ok;
  let joined: JoinedRoom | undefined;
  const teardown: Array<() => void> = [];
  try {
    joined = await session.rooms.join(room, {
      nicks: nicksFor(ctx.options.nick, session.jid, 'join'),
      password: ctx.options['room-password'],
      history: ctx.options.history,
      create: 'instant',
      onEvent: (e) => printRoomEvent(ctx, e),
    });
    if (joined.created && !ctx.out.json) ctx.out.note(`confab: created ${room}`);
    const r = joined;
    code = await new Promise<number>((resolve) => {
      if (seconds !== undefined) {
        const t = setTimeout(() => resolve(EXIT.ok), seconds * 1000);
        teardown.push(() => clearTimeout(t));
      }
      const onAbort = () => resolve(EXIT.ok);
      if (ctx.signal.aborted) onAbort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      teardown.push(() => ctx.signal.removeEventListener('abort', onAbort));
      teardown.push(
        session.onFatal((err) => {
          ctx.out.note(describeError(err));
          resolve(exitCodeFor(err));
        }),
      );
      void r.exited.then((e) => {
        ctx.out.note(`confab: out of ${room}: ${e.reason}${e.text ? ` (${e.text})` : ''}`);
        resolve(EXIT.failure);
      });
    });
    if (code === EXIT.ok) await joined.leave();
  } finally {
    for (const t of teardown) t();
    try {
      await session.disconnect();
    } catch (err) {
      ctx.out.note(`${describeError(err)} (while disconnecting)`);
    }
  }
  return code;
}

// ---------------------------------------------------------------- say

export async function runSay(ctx: CommandContext<typeof say>): Promise<number> {
  const room = checkRoom(ctx.args.ROOM, 'say');
  const words = ctx.args.TEXT;
  const to = ctx.options.to;
  if (to !== undefined && to.trim() === '') throw new UsageError('--to wants a nick', 'say');
  let body: string;
  if ((words.length === 1 && words[0] === '-') || (words.length === 0 && !ctx.io.stdin.isTTY)) {
    body = stripFinalNewline(await ctx.readStdin());
  } else if (words.length === 0) {
    throw new UsageError('no TEXT given (and stdin is a terminal)', 'say');
  } else body = words.join(' ');
  if (body === '') throw new UsageError('the message is empty', 'say');
  checkSendable('text', body, 'say');
  return withSession(ctx, {}, async (s) => {
    const r = await s.rooms.join(room, {
      nicks: nicksFor(ctx.options.nick, s.jid, 'say'),
      password: undefined,
      history: 0,
      create: 'never',
    });
    try {
      const sent = to === undefined ? await r.say(body) : await r.sayPrivate(to, body);
      if (ctx.out.json)
        ctx.out.event('result', {
          command: 'say',
          room,
          to,
          nick: r.nick,
          id: sent.id,
          stanzaId: 'stanzaId' in sent ? sent.stanzaId : undefined,
        });
    } finally {
      await r.leave();
    }
    return EXIT.ok;
  });
}

// ---------------------------------------------------------------- invite

export async function runInvite(ctx: CommandContext<typeof invite>): Promise<number> {
  const room = checkRoom(ctx.args.ROOM, 'invite');
  const who = checkJid(ctx.args.JID, 'invite');
  const reason = ctx.options.reason;
  const password = ctx.options['room-password'];
  return withSession(ctx, {}, async (s) => {
    if (ctx.options.mediated) {
      // XEP-0045 7.8.2: the room puts its password into the invitation it forwards; ours is
      // the one to get in with.
      const r = await s.rooms.join(room, {
        nicks: nicksFor([], s.jid, 'invite'),
        password,
        history: 0,
        create: 'never',
      });
      try {
        await r.invite(who, reason);
      } finally {
        await r.leave();
      }
    } else {
      await s.rooms.inviteDirect(room, who, reason, password);
    }
    if (ctx.out.json)
      ctx.out.event('result', {
        command: 'invite',
        room,
        jid: who,
        reason,
        kind: ctx.options.mediated ? 'mediated' : 'direct',
      });
    return EXIT.ok;
  });
}

// ---------------------------------------------------------------- create

/** `--field name=value` options, in order, by name (a name given twice collects its values). */
export function parseFields(given: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of given) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new UsageError(`--field wants name=value, not '${f}'`, 'create');
    const name = f.slice(0, eq).trim();
    const list = out.get(name) ?? [];
    list.push(f.slice(eq + 1));
    out.set(name, list);
  }
  return out;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/**
 * The values to submit: each given field matched to the form's (exactly, or with the
 * muc#roomconfig_ prefix), typed by the form; persistent unless `temporary` (unless the
 * persistentroom field was given). Throws UsageError naming a field the form lacks.
 */
export function configValues(
  form: readonly ConfigField[],
  given: Map<string, string[]>,
  temporary: boolean,
): Record<string, string | boolean | string[]> {
  const byVar = new Map(form.map((f) => [f.var, f]));
  const out: Record<string, string | boolean | string[]> = {};
  for (const [name, values] of given) {
    const field = byVar.get(name) ?? byVar.get(`${ROOMCONFIG}${name}`);
    if (!field) {
      const known = form.map((f) => f.var.replace(ROOMCONFIG, '')).join(', ');
      throw new UsageError(`the room's form has no field '${name}' (it has: ${known})`, 'create');
    }
    if (field.type.endsWith('-multi')) {
      out[field.var] = values;
      continue;
    }
    if (values.length > 1) throw new UsageError(`--field ${name} takes one value`, 'create');
    const v = values[0] as string;
    if (field.type === 'boolean') {
      const t = v.trim().toLowerCase();
      if (!TRUE.has(t) && !FALSE.has(t))
        throw new UsageError(`--field ${name} is a yes/no field: give 1 or 0, not '${v}'`, 'create');
      out[field.var] = TRUE.has(t);
      continue;
    }
    if (field.type === 'list-single' && field.options.length > 0 && !field.options.includes(v))
      throw new UsageError(`--field ${name} is one of ${field.options.join(', ')}, not '${v}'`, 'create');
    out[field.var] = v;
  }
  const persistent = `${ROOMCONFIG}persistentroom`;
  if (out[persistent] === undefined && byVar.has(persistent)) out[persistent] = !temporary;
  return out;
}

export async function runCreate(ctx: CommandContext<typeof create>): Promise<number> {
  const room = checkRoom(ctx.args.ROOM, 'create');
  const given = parseFields(ctx.options.field);
  for (const values of given.values()) for (const v of values) checkSendable('field value', v, 'create');
  const temporary = ctx.options.temporary;
  return withSession(ctx, {}, async (s) => {
    let submitted: Record<string, string | boolean | string[]> = {};
    const r = await s.rooms.create(room, nicksFor([], s.jid, 'create'), (form) => {
      submitted = configValues(form, given, temporary);
      return submitted;
    });
    await r.leave();
    if (ctx.out.json) ctx.out.event('result', { command: 'create', room, fields: submitted });
    else if (ctx.io.stderr.isTTY) ctx.out.note(`confab: created ${room}${temporary ? ' (temporary)' : ''}`);
    return EXIT.ok;
  });
}
