/**
 * What the one-shot account commands share: log in, do one thing, disconnect (a failed close is
 * a note, never a changed exit status: the server already did what was asked), and JID checks
 * that turn a malformed address into a usage error before anything connects.
 */
import { jid } from 'confab';
import { UsageError } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { describeError } from '../exit.ts';
import type { CliSession } from '../session.ts';

/** Throws UsageError (exit 2) unless `value` is a JID. */
export function checkJid(value: string, command: string): string {
  try {
    jid(value);
  } catch (err) {
    throw new UsageError(`'${value}' is not a JID: ${(err as Error).message}`, command);
  }
  return value;
}

/** Logs in, runs `fn`, disconnects. */
export async function withSession<T>(
  ctx: Pick<CommandContext, 'login' | 'out'>,
  options: Parameters<CommandContext['login']>[0],
  fn: (session: CliSession) => Promise<T>,
): Promise<T> {
  const session = await ctx.login(options);
  try {
    return await fn(session);
  } finally {
    try {
      await session.disconnect();
    } catch (err) {
      ctx.out.note(`${describeError(err)} (while disconnecting)`);
    }
  }
}
