/**
 * The slash commands of `confab chat`, as data (DESIGN.md principle 12): one table drives
 * `/help`, tab completion of command names and of their arguments, and the command list in
 * `confab chat --help`. The handlers live in app.ts, one per name (a unit test checks that
 * every entry has one).
 */

/** What tab completion offers for an argument (`peer`: a JID, or in a room a nick too). */
export type Completion = 'jid' | 'peer' | 'room' | 'nick' | 'show' | 'file' | 'command' | 'window' | 'none';

export interface SlashCommand {
  readonly name: string;
  /** The arguments as shown in /help. */
  readonly args: string;
  readonly summary: string;
  /** Completion of the 1st, 2nd, ... argument. */
  readonly complete: readonly Completion[];
}

export const SLASH_COMMANDS: readonly SlashCommand[] = [
  {
    name: 'msg',
    args: 'JID|NICK [TEXT]',
    summary: 'Open a chat with JID, or in a room a private one with NICK (and send TEXT)',
    complete: ['peer', 'none'],
  },
  {
    name: 'me',
    args: 'ACTION',
    summary: 'Say what you do: shown as "* you ACTION" (XEP-0245)',
    complete: ['none'],
  },
  {
    name: 'correct',
    args: 'TEXT',
    summary: 'Replace your last message in this window (XEP-0308)',
    complete: ['none'],
  },
  {
    name: 'status',
    args: 'online|chat|away|xa|dnd|invisible [TEXT]',
    summary: 'Set your presence and status message',
    complete: ['show', 'none'],
  },
  {
    name: 'add',
    args: 'JID [NAME]',
    summary: 'Add a contact and ask to see their presence',
    complete: ['jid', 'none'],
  },
  {
    name: 'remove',
    args: '[JID]',
    summary: "Remove a contact (this window's by default)",
    complete: ['jid'],
  },
  {
    name: 'approve',
    args: '[JID]',
    summary: 'Let JID see your presence (answers a request)',
    complete: ['jid'],
  },
  { name: 'deny', args: '[JID]', summary: 'Refuse a subscription request', complete: ['jid'] },
  {
    name: 'block',
    args: '[JID]',
    summary: 'Block JID (XEP-0191); no JID: list who is blocked',
    complete: ['jid'],
  },
  { name: 'unblock', args: 'JID', summary: 'Unblock JID', complete: ['jid'] },
  { name: 'vcard', args: '[JID]', summary: "Show JID's vCard (yours without JID)", complete: ['jid'] },
  {
    name: 'join',
    args: 'ROOM[/NICK] [PASSWORD]',
    summary: 'Join a group chat room (XEP-0045)',
    complete: ['room', 'none'],
  },
  {
    name: 'part',
    args: '[ROOM] [REASON]',
    summary: 'Leave a room (this one by default)',
    complete: ['room', 'none'],
  },
  { name: 'nick', args: 'NICK', summary: 'Change your nick in this room', complete: ['nick'] },
  { name: 'invite', args: 'JID [REASON]', summary: 'Invite JID to this room', complete: ['jid', 'none'] },
  { name: 'topic', args: '[TEXT]', summary: "Show or set this room's subject", complete: ['none'] },
  {
    name: 'kick',
    args: 'NICK [REASON]',
    summary: 'Remove an occupant from this room',
    complete: ['nick', 'none'],
  },
  {
    name: 'ban',
    args: 'NICK|JID [REASON]',
    summary: 'Ban a user from this room',
    complete: ['nick', 'none'],
  },
  {
    name: 'upload',
    args: 'FILE',
    summary: 'Upload FILE (XEP-0363) and send its link here',
    complete: ['file'],
  },
  { name: 'offer', args: 'FILE [JID]', summary: 'Offer FILE directly (XEP-0066)', complete: ['file', 'jid'] },
  {
    name: 'accept',
    args: '[ID]',
    summary: 'Accept a file offer (XEP-0066): saved in $XDG_DOWNLOAD_DIR or ~/Downloads',
    complete: ['none'],
  },
  { name: 'decline', args: '[ID]', summary: 'Refuse a file offer', complete: ['none'] },
  {
    name: 'history',
    args: '[N]',
    summary: 'Show the last N messages of this conversation',
    complete: ['none'],
  },
  { name: 'xmlconsole', args: '', summary: 'Open the XML console (the redacted wire log)', complete: [] },
  { name: 'win', args: 'N', summary: 'Go to window N (also Alt-1..9, Ctrl-N, Ctrl-P)', complete: ['window'] },
  { name: 'close', args: '', summary: 'Close this window', complete: [] },
  { name: 'clear', args: '', summary: 'Clear this window', complete: [] },
  { name: 'connect', args: '', summary: 'Connect again after a failed connection', complete: [] },
  { name: 'help', args: '[COMMAND]', summary: 'List the commands, or explain one', complete: ['command'] },
  { name: 'quit', args: '[MESSAGE]', summary: 'Go offline and leave', complete: ['none'] },
];

/** The table entry for `name` (exact, or the only command starting with it). */
export function findCommand(name: string): SlashCommand | undefined {
  const exact = SLASH_COMMANDS.find((c) => c.name === name);
  if (exact) return exact;
  const starts = SLASH_COMMANDS.filter((c) => c.name.startsWith(name));
  return starts.length === 1 ? starts[0] : undefined;
}

/** The keys, for /help and `confab chat --help`. */
export const KEYS: readonly [string, string][] = [
  ['Enter', 'send the line (or run the /command)'],
  ['Alt-Enter, Ctrl-J', 'a new line in the message'],
  ['Tab', 'complete a command, JID or nick (again: the next candidate)'],
  ['Alt-1..9, Alt-0', 'go to window 1..9, 10'],
  ['Ctrl-N, Ctrl-P', 'next / previous window'],
  ['PgUp, PgDn', 'scroll the window'],
  ['Up, Down', 'input history (lines of a multi-line message first)'],
  ['Ctrl-A/E, Ctrl-U/K/W/Y', 'start/end of line, kill to start/end, kill word, yank'],
  ['Ctrl-L', 'redraw the screen'],
];
