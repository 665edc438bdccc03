/**
 * `confab chat`: resolve the account, ask once for a descriptive resource (the seed's advice:
 * "Home", "Laptop", so contacts can tell the user's clients apart) and remember it, get the
 * password, then hand the terminal to the full-screen client until /quit or a signal.
 */
import { createInterface } from 'node:readline';
import { resolveAccount, resolvePassword } from '../account.ts';
import { UsageError } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { colorEnabled } from '../output.ts';
import { dataDirOf } from '../store/paths.ts';
import type { chat } from '../table-chat.ts';
import { ChatApp } from './app.ts';
import { downloadDirOf, updateAccountConfig } from './config.ts';
import { LibraryBackend } from './library-backend.ts';
import { NodeTerminal } from './terminal.ts';

/** Seconds from an option, else an environment variable, else the default. */
function secondsOf(
  option: number | undefined,
  env: string | undefined,
  fallback: number,
  name: string,
): number {
  if (option !== undefined) return option;
  if (env !== undefined && env.trim() !== '') {
    const n = Number(env);
    if (!Number.isFinite(n) || n < 0)
      throw new UsageError(`${name} wants a number of seconds, not '${env}'`, 'chat');
    return n;
  }
  return fallback;
}

function askLine(io: CommandContext['io'], question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({
      input: io.stdin,
      output: io.stderr as NodeJS.WritableStream,
      terminal: true,
    });
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
  });
}

export async function run(ctx: CommandContext<typeof chat>): Promise<number> {
  const { io } = ctx;
  if (!io.stdin.isTTY || !io.stdout.isTTY) {
    throw new UsageError(
      'confab chat needs a terminal on stdin and stdout; scripts use send, listen and the other commands',
      'chat',
    );
  }
  const awayAfter = secondsOf(ctx.options['away-after'], io.env.CONFAB_AWAY_AFTER, 300, '--away-after');
  const xaAfter = secondsOf(ctx.options['xa-after'], io.env.CONFAB_XA_AFTER, 900, '--xa-after');
  const account = await resolveAccount(ctx.global, io.env);
  if (!account.resourceChosen) {
    const answer = await askLine(
      io,
      `A name for this device, so your contacts can tell your clients apart (e.g. Home, Laptop) [confab]: `,
    );
    const name = answer.trim().replace(/[\s/]+/g, '-') || 'confab';
    account.resource = name;
    const file = await updateAccountConfig(ctx.global.config, io.env, account.jid, { resource: name });
    io.stderr.write(`Remembered '${name}' for ${account.jid} in ${file}.\n`);
  }
  const password = await resolvePassword(account, io);

  const terminal = new NodeTerminal(io.stdin, io.stdout as ConstructorParameters<typeof NodeTerminal>[1]);
  let app: ChatApp | undefined;
  const backend = new LibraryBackend({
    account,
    password,
    awayAfter,
    xaAfter,
    idleSeconds: () => app?.idleSeconds() ?? 0,
    dataDir: dataDirOf(io.env),
  });
  let exit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => {
    exit = resolve;
  });
  app = new ChatApp({
    terminal,
    backend,
    colour: colorEnabled(io.stdout, io.env),
    trust: async (pin) => {
      await updateAccountConfig(ctx.global.config, io.env, account.jid, { pin });
      backend.pin(pin);
    },
    onExit: exit,
    downloadDir: downloadDirOf(io.env),
  });
  const onAbort = () => void app?.quit();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  // A crash must leave a usable terminal and its reason readable on the normal screen.
  const onCrash = (err: unknown) => {
    terminal.stop();
    io.stderr.write(`confab chat: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  };
  process.once('uncaughtException', onCrash);
  try {
    await app.start();
    return await exited;
  } finally {
    process.off('uncaughtException', onCrash);
    ctx.signal.removeEventListener('abort', onAbort);
    app.stop();
  }
}
