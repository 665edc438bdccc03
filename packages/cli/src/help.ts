/**
 * Help, completion and docs, all generated from the command table (DESIGN.md principle 12): a
 * command documented here is a command the parser knows, with the same options and examples.
 */
import { EXIT } from './exit.ts';
import { GLOBAL_OPTIONS } from './globals.ts';
import { type CommandSpec, type OptionSpec, optionLabel, synopsisOf } from './spec.ts';

const WIDTH = 80;

/** Greedy word wrap to `width`, each line prefixed by `indent`. */
export function wrap(text: string, indent: number, width = WIDTH): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && pad.length + line.length + 1 + word.length > width) {
      lines.push(pad + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(pad + line);
  return lines;
}

/** Two columns: labels padded to the widest (capped), descriptions wrapped beside them. */
function table(rows: [string, string][], indent = 2): string[] {
  const col = Math.min(30, Math.max(...rows.map(([l]) => l.length))) + 2;
  const out: string[] = [];
  for (const [label, desc] of rows) {
    const first = ' '.repeat(indent) + label;
    const body = wrap(desc, indent + col);
    if (label.length + 2 > col) {
      out.push(first, ...body);
    } else {
      const [head = '', ...rest] = body;
      out.push(first.padEnd(indent + col) + head.trimStart(), ...rest);
    }
  }
  return out;
}

function optionDescription(o: OptionSpec): string {
  const extra: string[] = [];
  if (o.default !== undefined && o.type !== 'boolean') extra.push(`default: ${o.default}`);
  if (o.repeatable) extra.push('repeatable');
  return extra.length > 0 ? `${o.description} (${extra.join('; ')})` : o.description;
}

const EXIT_LINE =
  `Exit status: ${EXIT.ok} success, ${EXIT.failure} failure (e.g. a stanza error), ${EXIT.usage} usage, ` +
  `${EXIT.connect} cannot connect or TLS refused, ${EXIT.auth} authentication failed, ${EXIT.timeout} timeout.`;

/** `confab --help`. */
export function globalHelp(commands: readonly CommandSpec[], program = 'confab'): string {
  const lines = [
    `${program}: a Jabber/XMPP client for the terminal`,
    '',
    `Usage: ${program} [OPTIONS] COMMAND [ARGUMENTS] [OPTIONS]`,
    '',
    'Commands:',
    ...table(commands.map((c) => [c.name, c.summary])),
    '',
    'Account and connection options (before or after the command name):',
    ...table(GLOBAL_OPTIONS.map((o) => [optionLabel(o), optionDescription(o)])),
    '',
    ...wrap(
      'The password comes from --password-command, else CONFAB_PASSWORD, else a prompt on a terminal; ' +
        'never from an option. -- ends the options. NO_COLOR turns colour off.',
      0,
    ),
    '',
    ...wrap(EXIT_LINE, 0),
    '',
    `Run '${program} COMMAND --help' for a command's options and examples.`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `confab COMMAND --help`. */
export function commandHelp(cmd: CommandSpec, program = 'confab'): string {
  const lines = [
    `Usage: ${program} ${cmd.name} ${synopsisOf(cmd)}`.trimEnd(),
    '',
    ...wrap(cmd.description, 0),
  ];
  if (cmd.arguments.length > 0) {
    lines.push(
      '',
      'Arguments:',
      ...table(cmd.arguments.map((a) => [a.variadic ? `${a.name}...` : a.name, a.description])),
    );
  }
  if (cmd.options.length > 0) {
    lines.push('', 'Options:', ...table(cmd.options.map((o) => [optionLabel(o), optionDescription(o)])));
  }
  lines.push('', 'Examples:');
  for (const ex of cmd.examples) lines.push(`  ${ex.command}`, ...wrap(ex.description, 6));
  if (cmd.connects) {
    lines.push('', `Account and connection options (--jid, --json, ...): see '${program} --help'.`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Tab completion from the table: the candidates for the word being typed, given the words before
 * it. Commands first, then the command's options and the global ones; values are not completed
 * here (the interactive client completes JIDs and nicks from its roster).
 */
export function complete(
  before: readonly string[],
  partial: string,
  commands: readonly CommandSpec[],
): string[] {
  const words = before.filter((w) => !w.startsWith('-'));
  const cmd = commands.find((c) => c.name === words.join(' ')) ?? commands.find((c) => c.name === words[0]);
  if (partial.startsWith('-')) {
    const opts = [...(cmd?.options ?? []), ...GLOBAL_OPTIONS].map((o) => `--${o.name}`);
    return opts.filter((o) => o.startsWith(partial));
  }
  if (cmd) return [];
  const prefix = words.length > 0 ? `${words.join(' ')} ` : '';
  const names = commands.map((c) => c.name).filter((n) => n.startsWith(prefix + partial));
  return [...new Set(names.map((n) => n.slice(prefix.length).split(' ')[0]!))];
}

/** The commands as Markdown, for the README / docs. */
export function commandsMarkdown(commands: readonly CommandSpec[], program = 'confab'): string {
  const out: string[] = [];
  for (const cmd of commands) {
    const usage = `${program} ${cmd.name} ${synopsisOf(cmd)}`.trim();
    out.push(`### \`${usage}\``, '', cmd.description, '');
    for (const o of cmd.options) out.push(`- \`${optionLabel(o)}\`: ${optionDescription(o)}`);
    if (cmd.options.length > 0) out.push('');
    out.push('```sh', ...cmd.examples.map((e) => `${e.command}  # ${e.description}`), '```', '');
  }
  return out.join('\n');
}
