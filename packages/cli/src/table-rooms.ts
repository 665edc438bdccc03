/**
 * Group chat commands of the command table (table.ts), in the order help lists them: rooms, join,
 * say, invite, create (issue 7, "Group chat"; XEP-0045 Multi-User Chat, XEP-0249 direct
 * invitations). Names and options are part of the interface: keep them.
 */
import { type CommandSpec, defineCommand } from './spec.ts';

const roomArg = { name: 'ROOM', description: 'The room (room@service)', complete: 'room' } as const;
const nickOption = {
  name: 'nick',
  type: 'string',
  value: 'N',
  repeatable: true,
  description: "A nickname; several are tried in order when one is taken (default: your JID's local part)",
} as const;

export const rooms = defineCommand({
  name: 'rooms',
  summary: 'List the rooms of a chat service',
  description:
    "Lists the rooms SERVICE offers (default: your server's conference service, found by service " +
    'discovery), one a line: the room, its name, how many are in it, and its kind (password, ' +
    'members-only, moderated, anonymity, temporary). With --json one `room` object per room: ' +
    '`jid`, `name`, `description`, `occupants`, `anonymity`, `password`, `persistent`, ' +
    '`membersOnly`, `moderated`, `archive`. Exit 1 when the server has no conference service.',
  arguments: [
    {
      name: 'SERVICE',
      description: "The conference service (default: your server's)",
      optional: true,
      complete: 'jid',
    },
  ],
  options: [],
  examples: [
    { command: 'confab rooms', description: "The rooms of your server's conference service" },
    { command: 'confab rooms conference.example.org --json', description: 'One JSON object per room' },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/rooms.ts')).runRooms(ctx);
  },
});

export const join = defineCommand({
  name: 'join',
  summary: 'Join a room and print what happens in it',
  description:
    'Joins ROOM (a room that does not exist is created as an instant room with the default ' +
    'configuration) and prints its events until interrupted or for --for SECONDS, then leaves: ' +
    'who is there and who comes and goes, presence changes, nick changes, the subject, messages ' +
    '(history from the room with its time), room notices and private messages to you. --nick may ' +
    'be given several times: when one is taken the next is tried; none free exits 1 saying so. ' +
    '--history N asks for the last N messages (0: none; default: what the room sends). With ' +
    '--json one `room` object per event: `type` (joined, join, leave, presence, nick, role, ' +
    'affiliation, subject, message, correction, retraction, notice, private, exit), `room`, ' +
    '`nick`, `from`, `jid`, `role`, `affiliation`, `show`, `status`, `body`, `subject`, `id`, ' +
    "`delay`, `stanzaId`, `replace` / `retract` (the id of the occupant's own message corrected " +
    'or retracted), ' +
    '`reason`, ... Being kicked, banned or the room destroyed prints the `exit` and exits 1.',
  arguments: [roomArg],
  options: [
    nickOption,
    { name: 'room-password', type: 'string', value: 'P', description: "The room's password" },
    { name: 'history', type: 'integer', value: 'N', min: 0, description: 'Ask for the last N messages' },
    { name: 'for', type: 'seconds', value: 'SECONDS', description: 'Leave after SECONDS' },
  ],
  examples: [
    { command: 'confab join kitchen@conference.example.org', description: 'Join and watch until Ctrl-C' },
    {
      command: 'confab join kitchen@conference.example.org --nick Juliet --nick Juliet_ --history 20',
      description: 'Juliet (or Juliet_ when taken), with the last 20 messages',
    },
    {
      command: 'confab join kitchen@conference.example.org --json --for 60',
      description: 'One JSON object per room event for a minute',
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/rooms.ts')).runJoin(ctx);
  },
});

export const say = defineCommand({
  name: 'say',
  summary: 'Say something in a room (or to one occupant) and leave',
  description:
    'Joins ROOM (with no history), sends the text to the room, waits until the room reflects it ' +
    'or refuses it (exit 1 with its condition, e.g. forbidden for a visitor in a moderated room), ' +
    'then leaves. --to NICK sends it privately to that occupant instead. The room must exist. ' +
    "'-', or no TEXT when stdin is not a terminal, reads the text from stdin. With --json one " +
    "`result` with the message `id` (and the room's `stanzaId`).",
  arguments: [
    roomArg,
    {
      name: 'TEXT',
      description: "The message text; '-' reads it from stdin",
      optional: true,
      variadic: true,
      complete: 'none',
    },
  ],
  options: [
    nickOption,
    { name: 'to', type: 'string', value: 'NICK', description: 'Send privately to this occupant' },
  ],
  examples: [
    { command: "confab say kitchen@conference.example.org 'Dinner is ready'", description: 'Tell the room' },
    {
      command: "confab say kitchen@conference.example.org --to Romeo 'Psst'",
      description: 'A private message to the occupant Romeo',
    },
    { command: 'make 2>&1 | tail -1 | confab say builds@conference.example.org', description: 'From stdin' },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/rooms.ts')).runSay(ctx);
  },
});

export const invite = defineCommand({
  name: 'invite',
  summary: 'Invite someone to a room',
  description:
    'Sends JID an invitation to ROOM: directly (XEP-0249), without joining; or with --mediated ' +
    'through the room (XEP-0045 7.8.2: joins, invites, leaves; in a members-only room this makes ' +
    'them a member where you may). --room-password P: a direct invitation carries the password ' +
    '(XEP-0249 `password`); with --mediated it is the password to join with, and the room adds it ' +
    'to its invitation. Exits 0 once the server (or the room) has it.',
  arguments: [roomArg, { name: 'JID', description: 'Who to invite', complete: 'jid' }],
  options: [
    { name: 'reason', type: 'string', value: 'R', description: 'A few words sent with the invitation' },
    { name: 'mediated', type: 'boolean', description: 'Invite through the room (joins for it)' },
    {
      name: 'room-password',
      type: 'string',
      value: 'P',
      description: "The room's password, sent with the invitation",
    },
  ],
  examples: [
    {
      command: "confab invite kitchen@conference.example.org romeo@example.net --reason 'Dinner'",
      description: 'Invite Romeo directly',
    },
    {
      command: 'confab invite kitchen@conference.example.org romeo@example.net --mediated',
      description: 'Invite him through the room',
    },
    {
      command: 'confab invite cellar@conference.example.org romeo@example.net --room-password nurse',
      description: 'Invite him to a password-protected room, password included',
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/rooms.ts')).runInvite(ctx);
  },
});

export const create = defineCommand({
  name: 'create',
  summary: 'Create a room with its configuration',
  description:
    'Creates ROOM as a reserved room (XEP-0045 10.1.3): takes its configuration form, sets the ' +
    '--field values and submits it. Fields are named as the form names them (muc#roomconfig_...), ' +
    'with or without the muc#roomconfig_ prefix; a field given several times gets every value ' +
    '(list and -multi fields); booleans take 1/0, true/false, yes/no. The room is persistent ' +
    'unless --temporary (a temporary room goes away when the last occupant leaves, so right ' +
    'after this command). Exit 1 when the room exists already, 2 for a field the form does not ' +
    'have (the room is then not created). With --json one `result` with the `room` and the ' +
    '`fields` submitted.',
  arguments: [roomArg],
  options: [
    {
      name: 'field',
      type: 'string',
      value: 'name=value',
      repeatable: true,
      description: 'Set a configuration field (e.g. roomname=Kitchen, membersonly=1)',
    },
    { name: 'temporary', type: 'boolean', description: 'A temporary room instead of a persistent one' },
  ],
  examples: [
    {
      command:
        "confab create kitchen@conference.example.org --field roomname='The Kitchen' --field membersonly=1",
      description: 'A persistent members-only room with a name',
    },
    {
      command:
        "confab create test@conference.example.org --field 'muc#roomconfig_roomdesc=For tests' --temporary",
      description: 'A temporary room, the field by its full name',
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/rooms.ts')).runCreate(ctx);
  },
});

export const ROOM_COMMANDS: readonly CommandSpec[] = [rooms, join, say, invite, create];
