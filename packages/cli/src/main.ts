/**
 * Entry point of `confab` (bin/confab.js imports the built dist/main.js and calls `main()`).
 * `run()` is the whole program as a function of argv, streams and environment, returning the exit
 * code: the unit tests call it with fakes; `main()` binds it to the process (signals, EPIPE, exit).
 */
import { readFileSync } from 'node:fs';
import { bindArguments, parseCommandLine, UsageError } from './args.ts';
import { createContext } from './context.ts';
import { describeError, EXIT, exitCodeFor } from './exit.ts';
import { GLOBAL_OPTIONS, type GlobalValues } from './globals.ts';
import { commandHelp, globalHelp } from './help.ts';
import { type Io, Output } from './output.ts';
import type { SessionFactory } from './session.ts';
import type { CommandSpec } from './spec.ts';
import { COMMANDS } from './table.ts';

export interface RunDeps {
  /** Fires when the user interrupts (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** The library adapter; tests pass a fake. */
  sessionFactory?: () => Promise<SessionFactory>;
  commands?: readonly CommandSpec[];
}

/** The version in packages/cli/package.json (src/ and dist/ are both one level below it). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Runs one command line; resolves to the exit code. Never throws. */
export async function run(argv: readonly string[], io: Io, deps: RunDeps = {}): Promise<number> {
  const commands = deps.commands ?? (COMMANDS as readonly CommandSpec[]);
  try {
    const parsed = parseCommandLine(argv, commands, GLOBAL_OPTIONS);
    const global = parsed.global as GlobalValues;
    if (global.version) {
      io.stdout.write(`confab ${version()}\n`);
      return EXIT.ok;
    }
    if (global.help) {
      io.stdout.write(parsed.command ? commandHelp(parsed.command) : globalHelp(commands));
      return EXIT.ok;
    }
    // `chat` is the default command on a terminal (issue 7); elsewhere no command is a usage error.
    const chat = commands.find((c) => c.name === 'chat');
    if (!parsed.command && chat && parsed.positionals.length === 0 && io.stdin.isTTY && io.stdout.isTTY) {
      parsed.command = chat;
    }
    if (!parsed.command) {
      io.stderr.write(globalHelp(commands));
      return EXIT.usage;
    }
    const args = bindArguments(parsed.command, parsed.positionals);
    const out = new Output(io, global.json);
    const ctx = createContext(parsed.command, args, parsed.options, global, {
      io,
      out,
      signal: deps.signal ?? new AbortController().signal,
      sessionFactory: deps.sessionFactory ?? (async () => (await import('./library.ts')).createSession),
    });
    return await parsed.command.handler(ctx);
  } catch (err) {
    io.stderr.write(`${describeError(err)}\n`);
    if (io.env.CONFAB_CLI_TRACE && err instanceof Error && !(err instanceof UsageError)) {
      io.stderr.write(`${err.stack}\n`);
    }
    return exitCodeFor(err);
  }
}

/** Runs `confab` in this process and exits with the command's code. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<never> {
  const interrupt = new AbortController();
  const onSignal = () => {
    // First signal: stop cleanly (disconnect). Second: the user means it.
    if (interrupt.signal.aborted) process.exit(EXIT.failure);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `confab listen | head -1`: the reader went away, which is not an error of ours.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    throw err;
  });
  const code = await run(
    argv,
    { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
    {
      signal: interrupt.signal,
    },
  );
  // Let buffered output drain, then exit: the library may keep timers (keepalive) after disconnect.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
  process.exit(code);
}
