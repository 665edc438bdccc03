/**
 * The shape of a command, as data (DESIGN.md principle 12, after profanity's command table:
 * synopsis, description, arguments and examples per command). One declaration per command drives
 * the argument parser, `--help`, the interactive `/help`, tab completion and the generated docs;
 * the handler's option and argument types are derived from the same declaration, so the data and
 * the code cannot drift (principle 2).
 */
import type { CommandContext } from './context.ts';

/** How an option's value is read from the command line. */
export type OptionType = 'boolean' | 'string' | 'integer' | 'seconds' | 'choice';

export interface OptionSpec {
  /** Long name without dashes, kebab-case: `password-command`. */
  readonly name: string;
  /** One-letter alias without the dash (`o` for `-o`), rare on purpose. */
  readonly short?: string;
  readonly type: OptionType;
  /** What the value is called in help: `--count N`. Defaults to the upper-cased name. */
  readonly value?: string;
  /** The allowed values of a `choice` option. */
  readonly choices?: readonly string[];
  /** May be given more than once; the handler gets every value, in order. */
  readonly repeatable?: boolean;
  /** The value when the option is absent (shown in help). */
  readonly default?: string | number | boolean;
  /** Smallest allowed value of an `integer` option. */
  readonly min?: number;
  /** Environment variable read when the option is absent (shown in help). */
  readonly env?: string;
  readonly description: string;
}

export interface ArgumentSpec {
  /** As shown in the synopsis: `JID`, `TEXT`. */
  readonly name: string;
  readonly description: string;
  /** Absent means required. */
  readonly optional?: boolean;
  /** Takes every remaining word (only the last argument). */
  readonly variadic?: boolean;
  /** What tab completion offers for it. */
  readonly complete?: 'jid' | 'room' | 'file' | 'nick' | 'none';
}

export interface Example {
  readonly command: string;
  readonly description: string;
}

export interface CommandSpec<
  O extends readonly OptionSpec[] = readonly OptionSpec[],
  A extends readonly ArgumentSpec[] = readonly ArgumentSpec[],
> {
  /** The name typed after `confab` (and after `/` in the interactive client). */
  readonly name: string;
  /** One line: what it does, for the command list. */
  readonly summary: string;
  /** Usage after the name, e.g. `JID TEXT... [--type TYPE]`; generated from the arguments when absent. */
  readonly synopsis?: string;
  /** A paragraph or two for `confab NAME --help`. */
  readonly description: string;
  readonly arguments: A;
  readonly options: O;
  readonly examples: readonly Example[];
  /** Whether the command logs in (so the account and connection options apply). */
  readonly connects: boolean;
  /**
   * Runs the command; resolves to the exit code. Loads its implementation lazily, so `--help` stays
   * fast and works even when the library is broken. (Method syntax on purpose: a table of commands
   * with different option types is then one array type.)
   */
  handler(ctx: CommandContext<CommandSpec<O, A>>): Promise<number>;
}

// ---- types derived from the declarations ----

type ScalarOf<O extends OptionSpec> = O['type'] extends 'boolean'
  ? boolean
  : O['type'] extends 'integer' | 'seconds'
    ? number
    : O extends { choices: readonly (infer C)[] }
      ? C
      : string;

type ValueOf<O extends OptionSpec> = O['repeatable'] extends true
  ? ScalarOf<O>[]
  : O['type'] extends 'boolean'
    ? boolean
    : O extends { default: string | number }
      ? ScalarOf<O>
      : ScalarOf<O> | undefined;

/** The parsed options of a command, keyed by their long names. */
export type OptionValues<O extends readonly OptionSpec[]> = {
  -readonly [K in O[number] as K['name']]: ValueOf<K>;
};

type ArgValue<A extends ArgumentSpec> = A['variadic'] extends true
  ? string[]
  : A['optional'] extends true
    ? string | undefined
    : string;

/** The parsed positional arguments of a command, keyed by their names. */
export type ArgumentValues<A extends readonly ArgumentSpec[]> = {
  -readonly [K in A[number] as K['name']]: ArgValue<K>;
};

export type OptionsOf<C> = C extends CommandSpec<infer O, readonly ArgumentSpec[]> ? OptionValues<O> : never;
export type ArgumentsOf<C> =
  C extends CommandSpec<readonly OptionSpec[], infer A> ? ArgumentValues<A> : never;

/** Declares a command, keeping its literal types so the handler's options are typed. */
export function defineCommand<const O extends readonly OptionSpec[], const A extends readonly ArgumentSpec[]>(
  spec: CommandSpec<O, A>,
): CommandSpec<O, A> {
  return spec;
}

/** Declares an option list, keeping its literal types. */
export function defineOptions<const O extends readonly OptionSpec[]>(options: O): O {
  return options;
}

/** `--count N`, `--json`, `--type chat|normal|headline` as shown in help and synopses. */
export function optionLabel(opt: OptionSpec): string {
  const long = `--${opt.name}`;
  const withShort = opt.short ? `-${opt.short}, ${long}` : long;
  if (opt.type === 'boolean') return withShort;
  if (opt.type === 'choice' && opt.choices && !opt.value) return `${withShort} ${opt.choices.join('|')}`;
  return `${withShort} ${opt.value ?? opt.name.toUpperCase()}`;
}

/** The usage line after the command name, from the declaration when no synopsis is written. */
export function synopsisOf(cmd: CommandSpec): string {
  if (cmd.synopsis !== undefined) return cmd.synopsis;
  const args = cmd.arguments.map((a) => {
    const word = a.variadic ? `${a.name}...` : a.name;
    return a.optional ? `[${word}]` : word;
  });
  const opts = cmd.options.map((o) => `[${optionLabel(o)}]${o.repeatable ? '...' : ''}`);
  return [...args, ...opts].join(' ');
}
