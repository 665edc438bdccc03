/** Commands of the command table (table.ts) for this area, in the order help lists them. */
import { KEYS, SLASH_COMMANDS } from './chat/commands.ts';
import { type CommandSpec, defineCommand } from './spec.ts';

export const chat = defineCommand({
  name: 'chat',
  summary: 'The full-screen client (the default command on a terminal)',
  description:
    'Opens the full-screen client: the roster on the left (groups, presence, status messages, unread ' +
    'counts, subscription requests), one window per conversation and per room, a status bar ' +
    '(connection, your presence, the reconnect countdown) and an input line with slash commands and ' +
    'tab completion. It reconnects by itself, queues what you type while offline, shows typing ' +
    'notifications (XEP-0085), receipts (XEP-0184: ✓ the server has it, ✓✓ the recipient), /me and ' +
    'message styling (XEP-0393), corrections (XEP-0308), a colour per nick (XEP-0392), and goes ' +
    'away after --away-after and xa after --xa-after seconds without a key (XEP-0319), back at the ' +
    'next key. The first time it asks for a name for this device (the resource, e.g. Home) and ' +
    'remembers it for the account; a certificate it cannot verify is shown with its fingerprint ' +
    'and, if you say so, pinned for the account (trust on first use). `confab` without a command ' +
    'runs it when stdin and stdout are a terminal. Environment: CONFAB_AWAY_AFTER and ' +
    'CONFAB_XA_AFTER (seconds) stand in for the options. ' +
    `Slash commands: ${SLASH_COMMANDS.map((c) => `/${c.name}${c.args ? ` ${c.args}` : ''} (${c.summary})`).join('; ')}. ` +
    `Keys: ${KEYS.map(([k, d]) => `${k}: ${d}`).join('; ')}.`,
  arguments: [],
  options: [
    {
      name: 'away-after',
      type: 'seconds',
      value: 'SECONDS',
      description: 'Go away after SECONDS without a key (0: never; default 300)',
    },
    {
      name: 'xa-after',
      type: 'seconds',
      value: 'SECONDS',
      description: 'Go extended-away after SECONDS without a key (default 900)',
    },
  ],
  examples: [
    {
      command: 'confab chat',
      description: 'Open the client for the default account (on a terminal, `confab` alone does the same)',
    },
    { command: 'confab chat --jid juliet@example.org', description: "Juliet's account" },
    { command: 'confab chat --away-after 120 --xa-after 600', description: 'Away after two minutes' },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./chat/run.ts')).run(ctx);
  },
});

export const CHAT_COMMANDS: readonly CommandSpec[] = [chat];
