/** Commands of the command table (table.ts) for this area, in the order help lists them. */

import type { CommandSpec } from './spec.ts';
import { defineCommand } from './spec.ts';

export const history = defineCommand({
  name: 'history',
  summary: 'Show the stored conversation with a contact or room',
  description:
    'Prints the messages exchanged with JID that confab recorded (every command that sends or ' +
    'receives messages records them, carbons and archive results included), oldest first: the ' +
    'newest --limit N (default 50). --search TEXT keeps the messages containing every word of ' +
    'TEXT (full-text search; a word ending in * matches as a prefix; no other syntax). --sync ' +
    "first logs in and catches up from the server's message archive (XEP-0313 MAM), without " +
    'duplicates however often it runs; a server without an archive gets a note and the local ' +
    'history is shown. Plain output: `[time] from: body`, corrected messages marked, retracted ' +
    'ones as [retracted]. With --json one `message` object per message: `from`, `to`, `id`, ' +
    '`type`, `body`, `subject`, `thread`, `delay` and `timestamp` (ISO 8601), `direction` (in or ' +
    'out), `via` (live, carbon, mam, offline), `originId`, `stanzaId`, `corrected`, `retracted`. ' +
    'The history lives in $XDG_DATA_HOME/confab/confab.db (default ~/.local/share/confab).',
  arguments: [{ name: 'JID', description: 'The contact or room (user@domain)', complete: 'jid' }],
  options: [
    { name: 'search', type: 'string', value: 'TEXT', description: 'Only messages containing these words' },
    {
      name: 'limit',
      type: 'integer',
      value: 'N',
      min: 1,
      default: 50,
      description: 'Show the newest N messages',
    },
    { name: 'sync', type: 'boolean', description: "Catch up from the server's archive (MAM) first" },
  ],
  examples: [
    { command: 'confab history juliet@example.org', description: 'The last 50 messages with Juliet' },
    {
      command: "confab history juliet@example.org --search 'balcony tonight'",
      description: "Messages with Juliet containing 'balcony' and 'tonight'",
    },
    {
      command: 'confab history juliet@example.org --sync --limit 200',
      description: 'Fetch what other clients received from the archive, then show the last 200',
    },
    {
      command: 'confab history juliet@example.org --json | jq -r \'.direction + ": " + .body\'',
      description: 'Each message as "in: text" or "out: text"',
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/history.ts')).run(ctx);
  },
});

export const HISTORY_COMMANDS: readonly CommandSpec[] = [history];
