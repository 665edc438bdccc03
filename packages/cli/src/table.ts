/**
 * THE command table (DESIGN.md principle 12). Every command of `confab` is one entry here: name,
 * synopsis, description, arguments, options, examples and handler. `--help`, the interactive
 * `/help`, tab completion and the docs are generated from it; the parser reads it. Names are part
 * of the interface (issue 7): keep them. Handlers import their implementation lazily.
 */
import { type CommandSpec, defineCommand } from './spec.ts';

export const send = defineCommand({
  name: 'send',
  summary: 'Send a message and wait until the server has it',
  description:
    'Connects, sends one message to JID, waits until the server has it (the answer to a ping sent ' +
    'after it: a server handles our stanzas in order) and disconnects. Exits 0 only then; 1 when ' +
    'the server refused the message. ' +
    "The text is the remaining words joined by spaces; '-', or no TEXT when stdin is not a " +
    'terminal, reads the text from stdin. With --json it prints one `result` object with the ' +
    'message id.',
  arguments: [
    { name: 'JID', description: 'The recipient (user@domain, or a full JID)', complete: 'jid' },
    {
      name: 'TEXT',
      description: "The message text; '-' reads it from stdin",
      optional: true,
      variadic: true,
      complete: 'none',
    },
  ],
  options: [
    {
      name: 'type',
      type: 'choice',
      choices: ['chat', 'normal', 'headline'],
      default: 'chat',
      description: 'The message type',
    },
    { name: 'subject', type: 'string', value: 'TEXT', description: 'A subject line' },
    { name: 'thread', type: 'string', value: 'ID', description: 'The conversation thread to continue' },
  ],
  examples: [
    { command: "confab send juliet@example.org 'Art thou not Romeo?'", description: 'Send one message' },
    { command: 'uptime | confab send ops@example.org', description: "Send a command's output" },
    {
      command: "confab --jid bot@example.org send --json romeo@example.net -- '-- signed'",
      description: 'Text that starts with dashes, after --; print the message id as JSON',
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/send.ts')).run(ctx);
  },
});

export const listen = defineCommand({
  name: 'listen',
  summary: 'Print incoming messages',
  description:
    'Connects with presence (so messages to the bare JID and offline messages arrive) and prints ' +
    'each incoming message, offline ones with their delay, until interrupted, until --count ' +
    'messages with a body were printed (exit 0), or until --timeout seconds after connecting have ' +
    'passed (exit 0, or 5 when --count was given and not reached).',
  arguments: [],
  options: [
    { name: 'count', type: 'integer', value: 'N', min: 1, description: 'Stop after N messages with a body' },
    { name: 'timeout', type: 'seconds', value: 'SECONDS', description: 'Stop after SECONDS' },
  ],
  examples: [
    { command: 'confab listen', description: 'Print messages until Ctrl-C' },
    {
      command: 'confab listen --json --count 1 --timeout 30',
      description: 'Wait up to 30 s for one message, print it as JSON; exit 5 if none came',
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/listen.ts')).run(ctx);
  },
});

export const help = defineCommand({
  name: 'help',
  summary: 'Show the commands, or one command with its examples',
  description:
    "Shows what 'confab --help' shows, or with a command name what 'confab COMMAND --help' shows: " +
    'its synopsis, options and examples. The same text the interactive /help shows.',
  arguments: [{ name: 'COMMAND', description: 'The command to explain', optional: true, variadic: true }],
  options: [],
  examples: [
    { command: 'confab help', description: 'List the commands and the account and connection options' },
    { command: 'confab help send', description: 'Explain send, with examples' },
  ],
  connects: false,
  async handler(ctx): Promise<number> {
    const { commandHelp, globalHelp } = await import('./help.ts');
    const { UsageError } = await import('./args.ts');
    const name = ctx.args.COMMAND.join(' ');
    if (name === '') {
      ctx.io.stdout.write(globalHelp(COMMANDS));
      return 0;
    }
    const cmd = COMMANDS.find((c) => c.name === name);
    if (!cmd) throw new UsageError(`unknown command '${name}'`, 'help');
    ctx.io.stdout.write(commandHelp(cmd));
    return 0;
  },
});

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CommandSpec[] = [send, listen, help];
