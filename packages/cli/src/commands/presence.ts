/**
 * `confab presence SHOW [--status TEXT] [--priority N] [--for SECONDS]` (issue 7). RFC 6121 4
 * (show: chat, away, xa, dnd; priority -128..127), XEP-0186 v0.13 for `invisible`.
 *
 * Holds the presence until interrupted (Ctrl-C: exit 0) or for SECONDS. Messages that reach this
 * resource meanwhile (the user asked to be present, so a priority >= 0 gets messages to the bare
 * JID and the offline ones) are printed as `listen` prints them, never dropped unseen.
 *
 * `invisible` is honest: where the server offers XEP-0186 it asks the server to hide us; where
 * it does not (neither Prosody 0.12 nor ejabberd 23 does), the command exits 1 saying so rather
 * than pretending with unavailable presence (which also stops messages reaching this resource).
 */
import { UsageError } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError, describeError, EXIT, exitCodeFor } from '../exit.ts';
import { printMessage } from '../render.ts';
import type { CliSession, ShowName } from '../session.ts';
import type { presence } from '../table.ts';
import { printable } from './listen.ts';

export async function run(ctx: CommandContext<typeof presence>): Promise<number> {
  const show = ctx.args.SHOW;
  const { status, priority } = ctx.options;
  const seconds = ctx.options.for;
  if (priority !== undefined && (priority < -128 || priority > 127)) {
    throw new UsageError(`--priority must be from -128 to 127, not ${priority}`, 'presence');
  }
  const invisible = show === 'invisible';
  if (invisible && (status !== undefined || priority !== undefined)) {
    throw new UsageError('invisible takes no --status or --priority (nobody sees them)', 'presence');
  }
  const showValue: ShowName | undefined = show === 'online' ? undefined : (show as ShowName);
  let session: CliSession;
  if (invisible) {
    // No initial presence: becoming visible first and then hiding would show us for a moment.
    session = await ctx.login({ presence: false, reconnect: false });
    try {
      await session.presence.invisible();
    } catch (err) {
      await session.disconnect().catch(() => {});
      if ((err as { code?: unknown }).code === 'ERR_UNSUPPORTED') {
        const domain = session.account.domain;
        throw new CliError(
          EXIT.failure,
          `${domain} does not offer invisibility (XEP-0186, urn:xmpp:invisible:0), so confab cannot be invisible there`,
          "'confab presence xa' or 'dnd' stay reachable; disconnecting makes you offline",
        );
      }
      throw err;
    }
  } else {
    session = await ctx.login({
      presence: true,
      reconnect: true,
      presenceState: { show: showValue, status, priority },
    });
    // The initial presence is out with the state asked for once the server has handled it.
    await session.roundTrip();
  }
  if (ctx.out.json) {
    ctx.out.event('result', { command: 'presence', show, status, priority, jid: session.jid });
  }
  if (ctx.io.stderr.isTTY) {
    const until = seconds === undefined ? 'Ctrl-C to stop' : `for ${seconds} s`;
    ctx.out.note(`confab: ${show} as ${session.jid} (${until})`);
  }
  return hold(ctx, session, seconds);
}

function hold(ctx: CommandContext<typeof presence>, session: CliSession, seconds: number | undefined) {
  return new Promise<number>((resolve) => {
    let finished = false;
    const teardown: (() => void)[] = [];
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      for (const t of teardown) t();
      session.disconnect().then(
        () => resolve(code),
        (err) => {
          ctx.out.note(`${describeError(err)} (while disconnecting)`);
          resolve(code);
        },
      );
    };
    teardown.push(
      session.onMessage((msg) => {
        if (!finished && printable(msg)) printMessage(ctx.out, msg);
      }),
      session.onFatal((err) => {
        ctx.out.stderr(`${describeError(err)}\n`);
        finish(exitCodeFor(err));
      }),
    );
    if (seconds !== undefined) {
      const timer = setTimeout(() => finish(EXIT.ok), seconds * 1000);
      teardown.push(() => clearTimeout(timer));
    }
    const onAbort = () => finish(EXIT.ok);
    if (ctx.signal.aborted) onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    teardown.push(() => ctx.signal.removeEventListener('abort', onAbort));
  });
}
