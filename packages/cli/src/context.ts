/**
 * What a command handler gets: its typed arguments and options (derived from its declaration),
 * the global options, the streams, and `login()` which resolves the account and password and
 * connects. Everything outside the process (streams, environment, the library) comes in here, so
 * handlers are testable with fakes.
 */
import { resolveAccount, resolvePassword } from './account.ts';
import type { GlobalValues } from './globals.ts';
import type { Io, Output } from './output.ts';
import { sanitizeForTerminal } from './sanitize.ts';
import type { CliSession, SessionFactory, SessionParams } from './session.ts';
import type { ArgumentsOf, CommandSpec, OptionsOf } from './spec.ts';
import { dataDirOf } from './store/paths.ts';

export interface CommandContext<C = CommandSpec> {
  readonly command: C;
  readonly args: ArgumentsOf<C>;
  readonly options: OptionsOf<C>;
  readonly global: GlobalValues;
  readonly io: Io;
  readonly out: Output;
  /** Fires on SIGINT/SIGTERM: commands stop cleanly (disconnect) and exit. */
  readonly signal: AbortSignal;
  /** Resolves the account and password and connects; rejects with a typed error (see exit.ts). */
  login(options?: {
    presence?: boolean;
    reconnect?: boolean;
    presenceState?: SessionParams['presenceState'];
  }): Promise<CliSession>;
  /** Reads all of stdin as UTF-8. */
  readStdin(): Promise<string>;
}

export interface ContextDeps {
  io: Io;
  out: Output;
  signal: AbortSignal;
  /** Loads the session factory (the library adapter) lazily, so `--help` never loads the library. */
  sessionFactory: () => Promise<SessionFactory>;
}

/**
 * The wire log's sink for `--debug`, or CONFAB_DEBUG=1 as the library reads it (stderr, through
 * the terminal sanitizer); undefined when neither asks for it. Also for commands that connect
 * without logging in (`register`).
 */
export function wireLog(
  global: Pick<GlobalValues, 'debug'>,
  io: Pick<Io, 'env' | 'stderr'>,
): ((line: string) => void) | undefined {
  const wanted = global.debug || /^(1|true|yes|on)$/i.test(io.env.CONFAB_DEBUG?.trim() ?? '');
  return wanted ? (line: string) => io.stderr.write(`${sanitizeForTerminal(line)}\n`) : undefined;
}

export function createContext<C extends CommandSpec>(
  command: C,
  args: Record<string, unknown>,
  options: Record<string, unknown>,
  global: GlobalValues,
  deps: ContextDeps,
): CommandContext<C> {
  const { io, out, signal } = deps;
  return {
    command,
    args: args as ArgumentsOf<C>,
    options: options as OptionsOf<C>,
    global,
    io,
    out,
    signal,
    async login(opts = {}) {
      const account = await resolveAccount(global, io.env);
      const password = await resolvePassword(account, io);
      const factory = await deps.sessionFactory();
      const debug = wireLog(global, io);
      return factory({
        account,
        password,
        presence: opts.presence ?? false,
        presenceState: opts.presenceState,
        reconnect: opts.reconnect ?? false,
        debug,
        signal,
        dataDir: dataDirOf(io.env),
        note: (text) => out.note(text),
      });
    },
    readStdin() {
      return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        io.stdin.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
        io.stdin.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        io.stdin.once('error', reject);
        io.stdin.resume();
      });
    },
  };
}
