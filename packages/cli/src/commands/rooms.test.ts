// Unit tests of the group chat commands (commands/rooms.ts): rendering (sanitized, /me), the JSON
// fields, the configuration fields of `create`, nick defaults, and the handlers `say` and `create`
// driven with a fake session (no network).
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { UsageError } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError } from '../exit.ts';
import { type Io, Output } from '../output.ts';
import type { CliSession } from '../session.ts';
import type { CliRooms, ConfigField, JoinedRoom, JoinRequest, RoomEventView } from '../session-rooms.ts';
import type { create, invite, say } from '../table-rooms.ts';
import {
  checkRoom,
  configValues,
  nicksFor,
  parseFields,
  roomEventFields,
  roomEventLine,
  roomListLine,
  runCreate,
  runInvite,
  runSay,
} from './rooms.ts';

const plain = { style: { bold: (s: string) => s, dim: (s: string) => s, red: (s: string) => s } };
const ROOM = 'kitchen@conference.example.org';

describe('room events: plain lines and JSON', () => {
  it('sanitizes nick, body, subject and status; renders /me; shows history time', () => {
    const base = { room: ROOM, nick: 'Ro\u001b[2Jmeo\u202e' };
    assert.equal(
      roomEventLine({ ...base, type: 'message', body: 'hi\u0007 all\u001b]52;c;x\u0007' }, plain),
      '<Romeo> hi all',
    );
    assert.equal(roomEventLine({ ...base, type: 'message', body: '/me waves' }, plain), '* Romeo waves');
    assert.equal(
      roomEventLine(
        { ...base, type: 'message', body: 'old', delay: new Date('2026-01-02T03:04:05Z') },
        plain,
      ),
      '[2026-01-02T03:04:05.000Z] <Romeo> old',
    );
    assert.equal(
      roomEventLine({ ...base, type: 'subject', subject: 'Din\u001b[31mner', nick: 'Juliet' }, plain),
      '* subject: Dinner (set by Juliet)',
    );
    assert.equal(
      roomEventLine(
        {
          ...base,
          type: 'join',
          role: 'participant',
          affiliation: 'none',
          initial: true,
          show: 'away',
          status: 'out\u0008',
        },
        plain,
      ),
      '* Romeo is here (participant; away "out")',
    );
    assert.equal(
      roomEventLine({ ...base, type: 'leave', reason: 'kicked', actor: 'Juliet', text: 'rude' }, plain),
      '* Romeo was kicked by Juliet (rude)',
    );
    assert.equal(
      roomEventLine({ ...base, type: 'nick', newNick: 'Montague' }, plain),
      '* Romeo is now known as Montague',
    );
    assert.equal(roomEventLine({ ...base, type: 'private', body: 'psst' }, plain), '<Romeo> (private) psst');
    assert.equal(
      roomEventLine({ ...base, type: 'correction', body: 'window\u001b[2J', replace: 'bad1' }, plain),
      '<Romeo> (corrected) window',
    );
    assert.equal(
      roomEventLine({ ...base, type: 'retraction', retract: 'bad1' }, plain),
      '* Romeo retracted a message',
    );
    assert.equal(
      roomEventLine(
        { type: 'exit', room: ROOM, reason: 'destroyed', text: 'bye', alternate: 'new@c.example' },
        plain,
      ),
      `* you are out of ${ROOM}: destroyed (bye); go to new@c.example`,
    );
  });
  it('JSON: XMPP field names, delay as ISO 8601, undefined fields left for the printer to drop', () => {
    const e: RoomEventView = {
      type: 'message',
      room: ROOM,
      nick: 'Romeo',
      from: `${ROOM}/Romeo`,
      body: 'hi',
      delay: new Date('2026-01-02T03:04:05Z'),
      stanzaId: 'sid',
    };
    assert.deepEqual(roomEventFields(e), { ...e, delay: '2026-01-02T03:04:05.000Z' });
  });
  it('lists a room with its kind', () => {
    assert.equal(
      roomListLine({
        jid: ROOM,
        name: 'The \u001b[2JKitchen',
        description: undefined,
        occupants: 3,
        anonymity: 'semi-anonymous',
        password: true,
        persistent: false,
        membersOnly: true,
        moderated: false,
        archive: true,
      }),
      `${ROOM} (The Kitchen), 3 in it [password, members-only, semi-anonymous, temporary]`,
    );
  });
});

describe('arguments', () => {
  it('ROOM is room@service; nicks default to the local part with a fallback', () => {
    assert.equal(checkRoom(ROOM, 'join'), ROOM);
    assert.throws(() => checkRoom('conference.example.org', 'join'), UsageError);
    assert.throws(() => checkRoom(`${ROOM}/nick`, 'join'), UsageError);
    assert.deepEqual(nicksFor([], 'juliet@example.org/res', 'join'), ['juliet', 'juliet_']);
    assert.deepEqual(nicksFor(['J', 'K'], 'juliet@example.org', 'join'), ['J', 'K']);
    assert.throws(() => nicksFor([' '], 'juliet@example.org', 'join'), UsageError);
  });
});

const FORM: ConfigField[] = [
  { var: 'muc#roomconfig_roomname', type: 'text-single', label: 'Name', values: [], options: [] },
  { var: 'muc#roomconfig_persistentroom', type: 'boolean', label: undefined, values: ['0'], options: [] },
  { var: 'muc#roomconfig_membersonly', type: 'boolean', label: undefined, values: ['0'], options: [] },
  { var: 'muc#roomconfig_roomadmins', type: 'jid-multi', label: undefined, values: [], options: [] },
  {
    var: 'muc#roomconfig_whois',
    type: 'list-single',
    label: undefined,
    values: ['moderators'],
    options: ['moderators', 'anyone'],
  },
];

describe('create: configuration fields', () => {
  it('with or without the prefix, typed by the form, persistent unless --temporary', () => {
    const given = parseFields([
      'roomname=The Kitchen=Best',
      'muc#roomconfig_membersonly=yes',
      'roomadmins=a@example.org',
      'roomadmins=b@example.org',
      'whois=anyone',
    ]);
    assert.deepEqual(configValues(FORM, given, false), {
      'muc#roomconfig_roomname': 'The Kitchen=Best',
      'muc#roomconfig_membersonly': true,
      'muc#roomconfig_roomadmins': ['a@example.org', 'b@example.org'],
      'muc#roomconfig_whois': 'anyone',
      'muc#roomconfig_persistentroom': true,
    });
    assert.equal(configValues(FORM, new Map(), true)['muc#roomconfig_persistentroom'], false);
    assert.equal(
      configValues(FORM, parseFields(['persistentroom=0']), false)['muc#roomconfig_persistentroom'],
      false,
      'an explicit field wins over the default',
    );
  });
  it('refuses what the form does not take, naming it', () => {
    assert.throws(() => configValues(FORM, parseFields(['nosuch=1']), false), /no field 'nosuch'/);
    assert.throws(() => configValues(FORM, parseFields(['membersonly=maybe']), false), /yes\/no/);
    assert.throws(
      () => configValues(FORM, parseFields(['whois=everyone']), false),
      /one of moderators, anyone/,
    );
    assert.throws(() => configValues(FORM, parseFields(['roomname=a', 'roomname=b']), false), /one value/);
    assert.throws(() => parseFields(['=x']), UsageError);
    assert.throws(() => parseFields(['novalue']), UsageError);
  });
});

// ---------------------------------------------------------------- handlers with a fake session

function fakeIo(stdinText?: string): { io: Io; stdout: () => string } {
  let out = '';
  const stdin = new PassThrough() as unknown as Io['stdin'];
  (stdin as unknown as { isTTY: boolean }).isTTY = stdinText === undefined;
  if (stdinText !== undefined) (stdin as unknown as PassThrough).end(stdinText);
  return {
    io: {
      stdout: { write: (c: string) => (out += c) },
      stderr: { write: () => true },
      stdin,
      env: {},
    },
    stdout: () => out,
  };
}

function ctxFor<C>(
  command: C,
  args: Record<string, unknown>,
  options: Record<string, unknown>,
  rooms: Partial<CliRooms>,
  stdinText?: string,
) {
  const { io, stdout } = fakeIo(stdinText);
  let disconnected = false;
  const session = {
    jid: 'juliet@example.org/r',
    rooms,
    account: { domain: 'example.org' },
    disconnect: async () => {
      disconnected = true;
    },
  } as unknown as CliSession;
  const ctx = {
    command,
    args,
    options,
    io,
    out: new Output(io, true),
    signal: new AbortController().signal,
    login: async () => session,
    readStdin: async () => stdinText ?? '',
  } as unknown as CommandContext<C>;
  return { ctx, stdout, disconnected: () => disconnected };
}

function fakeRoom(o: Partial<JoinedRoom> & { log: string[] }): JoinedRoom {
  return {
    jid: ROOM,
    nick: 'juliet',
    created: false,
    say: async (b) => {
      o.log.push(`say ${b}`);
      return { id: 'm1', stanzaId: 's1' };
    },
    sayPrivate: async (n, b) => {
      o.log.push(`private ${n} ${b}`);
      return { id: 'p1' };
    },
    invite: async () => {},
    leave: async () => {
      o.log.push('leave');
    },
    exited: new Promise(() => {}),
    ...o,
  };
}

describe('say and create handlers', () => {
  it('say: joins without history, must not create, sends, leaves; JSON result with the ids', async () => {
    const log: string[] = [];
    let req: JoinRequest | undefined;
    const { ctx, stdout, disconnected } = ctxFor(
      {} as typeof say,
      { ROOM, TEXT: ['Dinner', 'is', 'ready'] },
      { nick: [], to: undefined },
      {
        join: async (_room, r) => {
          req = r;
          return fakeRoom({ log });
        },
      },
    );
    assert.equal(await runSay(ctx), 0);
    assert.equal(req?.history, 0);
    assert.equal(req?.create, 'never');
    assert.deepEqual(req?.nicks, ['juliet', 'juliet_']);
    assert.deepEqual(log, ['say Dinner is ready', 'leave']);
    assert.deepEqual(JSON.parse(stdout()), {
      event: 'result',
      command: 'say',
      room: ROOM,
      nick: 'juliet',
      id: 'm1',
      stanzaId: 's1',
    });
    assert.ok(disconnected());
  });
  it('say --to NICK: a private message; text from stdin; a refusal still leaves', async () => {
    const log: string[] = [];
    const { ctx } = ctxFor(
      {} as typeof say,
      { ROOM, TEXT: [] },
      { nick: ['J'], to: 'Romeo' },
      { join: async () => fakeRoom({ log }) },
      'psst\n',
    );
    assert.equal(await runSay(ctx), 0);
    assert.deepEqual(log, ['private Romeo psst', 'leave']);

    const log2: string[] = [];
    const refused = Object.assign(new Error('forbidden'), { code: 'ERR_STANZA', condition: 'forbidden' });
    const { ctx: c2 } = ctxFor(
      {} as typeof say,
      { ROOM, TEXT: ['x'] },
      { nick: [], to: undefined },
      {
        join: async () =>
          fakeRoom({
            log: log2,
            say: async () => {
              throw refused;
            },
          }),
      },
    );
    await assert.rejects(runSay(c2), refused);
    assert.deepEqual(log2, ['leave']);
  });
  it('create: fields go through the form; an existing room is exit 1 from the session', async () => {
    const log: string[] = [];
    let submitted: Record<string, unknown> | undefined;
    const { ctx, stdout } = ctxFor(
      {} as typeof create,
      { ROOM },
      { field: ['roomname=Kitchen'], temporary: false },
      {
        create: async (_room, nicks, configure) => {
          assert.deepEqual(nicks, ['juliet', 'juliet_']);
          submitted = configure(FORM);
          return fakeRoom({ log, created: true });
        },
      },
    );
    assert.equal(await runCreate(ctx), 0);
    assert.deepEqual(submitted, {
      'muc#roomconfig_roomname': 'Kitchen',
      'muc#roomconfig_persistentroom': true,
    });
    assert.deepEqual(log, ['leave']);
    assert.equal(JSON.parse(stdout()).command, 'create');

    const { ctx: c2 } = ctxFor(
      {} as typeof create,
      { ROOM },
      { field: [], temporary: false },
      {
        create: async () => {
          throw new CliError(1, `the room ${ROOM} exists already`);
        },
      },
    );
    await assert.rejects(runCreate(c2), (e: unknown) => e instanceof CliError && e.exitCode === 1);
  });
});

describe('invite handler', () => {
  it('--room-password: a direct invitation carries it; --mediated joins with it', async () => {
    const direct: unknown[][] = [];
    const { ctx, stdout } = ctxFor(
      {} as typeof invite,
      { ROOM, JID: 'romeo@example.net' },
      { reason: 'Dinner', mediated: false, 'room-password': 'nurse' },
      {
        inviteDirect: async (...a: unknown[]) => {
          direct.push(a);
        },
      },
    );
    assert.equal(await runInvite(ctx), 0);
    assert.deepEqual(direct, [[ROOM, 'romeo@example.net', 'Dinner', 'nurse']]);
    const result = JSON.parse(stdout());
    assert.equal(result.kind, 'direct');
    assert.equal(result.password, undefined, 'the password is not echoed');

    const log: string[] = [];
    let req: JoinRequest | undefined;
    const { ctx: c2 } = ctxFor(
      {} as typeof invite,
      { ROOM, JID: 'romeo@example.net' },
      { reason: undefined, mediated: true, 'room-password': 'nurse' },
      {
        join: async (_room, r) => {
          req = r;
          return fakeRoom({
            log,
            invite: async (jid, reason) => {
              log.push(`invite ${jid} ${reason ?? ''}`);
            },
          });
        },
        inviteDirect: async () => {
          throw new Error('not direct');
        },
      },
    );
    assert.equal(await runInvite(c2), 0);
    assert.equal(req?.password, 'nurse');
    assert.equal(req?.create, 'never');
    assert.deepEqual(log, ['invite romeo@example.net ', 'leave']);
  });
});
