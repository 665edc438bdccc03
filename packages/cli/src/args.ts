/**
 * The argument parser, driven by the command table. Small and exact rather than a dependency:
 * - global options go before or after the command name (`confab --jid J send ...` and
 *   `confab send ... --jid J`); a command's own options only after its name, so a word before the
 *   command is never mistaken for an option value of a command not yet known;
 * - `--opt=value` and `--opt value`; a value-taking option takes the next word whatever it looks
 *   like (`--subject -x-`), as getopt_long does;
 * - `--` ends the options: every later word is an argument (`confab send a@b -- --not-an-option`);
 * - `-` alone is an argument (stdin, by convention);
 * - repeatable options collect every value in order; a scalar given twice keeps the last (so a
 *   wrapper script's default can be overridden by appending);
 * - anything wrong is a UsageError: one line for the user plus the `--help` to read (exit 2).
 * Commands may have two-word names (`roster add`): the first words select the longest name.
 */
import type { ArgumentSpec, CommandSpec, OptionSpec } from './spec.ts';

/** A mistake on the command line: exit 2, one line, and where to read more. */
export class UsageError extends Error {
  override name = 'UsageError';
  /** The command whose help explains it, when known. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

export type OptionValue = string | number | boolean | (string | number)[] | undefined;

export interface ParsedLine {
  /** The command selected, or undefined when none was given. */
  command: CommandSpec | undefined;
  /** Values of the global options (defaults filled in). */
  global: Record<string, OptionValue>;
  /** Values of the command's options (defaults filled in). */
  options: Record<string, OptionValue>;
  /** The words left for the command's arguments, in order (bind them with `bindArguments`). */
  positionals: string[];
}

function withDefaults(specs: readonly OptionSpec[], values: Record<string, OptionValue>): void {
  for (const spec of specs) {
    if (values[spec.name] !== undefined) continue;
    if (spec.repeatable) values[spec.name] = [];
    else if (spec.default !== undefined) values[spec.name] = spec.default;
    else if (spec.type === 'boolean') values[spec.name] = false;
  }
}

function convert(spec: OptionSpec, raw: string, command: string | undefined): string | number {
  const label = `--${spec.name}`;
  switch (spec.type) {
    case 'integer': {
      if (!/^-?\d+$/.test(raw)) throw new UsageError(`${label} wants a whole number, not '${raw}'`, command);
      const n = Number(raw);
      if (spec.min !== undefined && n < spec.min) {
        throw new UsageError(`${label} must be at least ${spec.min}, not ${raw}`, command);
      }
      return n;
    }
    case 'seconds': {
      if (!/^\d+(\.\d+)?$/.test(raw)) {
        throw new UsageError(`${label} wants a number of seconds, not '${raw}'`, command);
      }
      return Number(raw);
    }
    case 'choice': {
      const choices = spec.choices ?? [];
      if (!choices.includes(raw)) {
        throw new UsageError(`${label} must be one of ${choices.join(', ')}, not '${raw}'`, command);
      }
      return raw;
    }
    default:
      return raw;
  }
}

function commandsUnder(commands: readonly CommandSpec[], prefix: string): CommandSpec[] {
  return commands.filter((c) => c.name.startsWith(`${prefix} `));
}

/**
 * Splits a command line into the command, its options, the global options and the remaining words.
 * Throws UsageError for an unknown command or option, a missing or malformed value.
 */
export function parseCommandLine(
  argv: readonly string[],
  commands: readonly CommandSpec[],
  globals: readonly OptionSpec[],
): ParsedLine {
  const global: Record<string, OptionValue> = {};
  const options: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  let command: CommandSpec | undefined;
  /** The first word(s) of a multi-word command name, while its next word is awaited. */
  let group: string | undefined;
  let optionsEnded = false;

  const lookup = (name: string, short: boolean): { spec: OptionSpec; store: Record<string, OptionValue> } => {
    const match = (o: OptionSpec) => (short ? o.short === name : o.name === name);
    const own = command?.options.find(match);
    if (own) return { spec: own, store: options };
    const g = globals.find(match);
    if (g) return { spec: g, store: global };
    const shown = short ? `-${name}` : `--${name}`;
    if (command) throw new UsageError(`unknown option ${shown} for '${command.name}'`, command.name);
    const owner = commands.find((c) => c.options.some(match));
    if (owner) {
      throw new UsageError(
        `${shown} is an option of '${owner.name}': put it after the command name`,
        owner.name,
      );
    }
    throw new UsageError(`unknown option ${shown}`);
  };

  const word = (w: string): void => {
    if (command) {
      positionals.push(w);
      return;
    }
    const candidate = group === undefined ? w : `${group} ${w}`;
    const exact = commands.find((c) => c.name === candidate);
    if (commandsUnder(commands, candidate).length > 0) {
      group = candidate;
      return;
    }
    if (exact) {
      command = exact;
      group = undefined;
      return;
    }
    if (group !== undefined) {
      // `roster JID`: the group's own command takes the word as an argument, if there is one.
      const own = commands.find((c) => c.name === group);
      if (own) {
        command = own;
        group = undefined;
        positionals.push(w);
        return;
      }
      const subs = commandsUnder(commands, group).map((c) => c.name.slice(group!.length + 1));
      throw new UsageError(`unknown command '${candidate}' (try: ${subs.join(', ')})`);
    }
    throw new UsageError(`unknown command '${w}'`);
  };

  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (optionsEnded || tok === '-' || !tok.startsWith('-')) {
      word(tok);
      continue;
    }
    if (tok === '--') {
      optionsEnded = true;
      continue;
    }
    if (group !== undefined && command === undefined) {
      // An option between `roster` and its subcommand: resolve the group's own command first.
      const own = commands.find((c) => c.name === group);
      if (own) {
        command = own;
        group = undefined;
      }
    }
    let name: string;
    let inline: string | undefined;
    let short = false;
    if (tok.startsWith('--')) {
      const eq = tok.indexOf('=');
      name = eq === -1 ? tok.slice(2) : tok.slice(2, eq);
      inline = eq === -1 ? undefined : tok.slice(eq + 1);
    } else {
      if (tok.length !== 2) throw new UsageError(`unknown option ${tok}`, command?.name);
      name = tok.slice(1);
      short = true;
    }
    const { spec, store } = lookup(name, short);
    const label = `--${spec.name}`;
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`${label} takes no value`, command?.name);
      store[spec.name] = true;
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      if (i + 1 >= argv.length) {
        throw new UsageError(
          `${label} needs a value (${spec.value ?? spec.name.toUpperCase()})`,
          command?.name,
        );
      }
      raw = argv[++i]!;
    }
    const value = convert(spec, raw, command?.name);
    if (spec.repeatable) {
      const list = (store[spec.name] as (string | number)[] | undefined) ?? [];
      list.push(value);
      store[spec.name] = list;
    } else {
      store[spec.name] = value;
    }
  }

  if (command === undefined && group !== undefined) {
    const own = commands.find((c) => c.name === group);
    if (own) command = own;
    else {
      const subs = commandsUnder(commands, group).map((c) => c.name.slice(group!.length + 1));
      throw new UsageError(`'${group}' needs a subcommand: ${subs.join(', ')}`);
    }
  }

  withDefaults(globals, global);
  if (command) withDefaults(command.options, options);
  return { command, global, options, positionals };
}

/**
 * Assigns the remaining words to the command's declared arguments. Throws UsageError when a
 * required one is missing or words are left over.
 */
export function bindArguments(
  command: CommandSpec,
  positionals: readonly string[],
): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  let i = 0;
  for (const arg of command.arguments as readonly ArgumentSpec[]) {
    if (arg.variadic) {
      out[arg.name] = positionals.slice(i);
      if (!arg.optional && i >= positionals.length) {
        throw new UsageError(`missing ${arg.name} for '${command.name}'`, command.name);
      }
      i = positionals.length;
      continue;
    }
    if (i < positionals.length) {
      out[arg.name] = positionals[i++];
    } else if (!arg.optional) {
      throw new UsageError(`missing ${arg.name} for '${command.name}'`, command.name);
    } else {
      out[arg.name] = undefined;
    }
  }
  if (i < positionals.length) {
    throw new UsageError(`unexpected argument '${positionals[i]}' for '${command.name}'`, command.name);
  }
  return out;
}
