/**
 * `confab listen [--count N] [--timeout SECONDS]` (issue 3; issue 7). Connects with presence, so
 * the server delivers messages addressed to the bare JID and the offline ones (RFC 6121 8.5.2,
 * XEP-0160), which carry their XEP-0203 delay. Stops after N messages with a body (exit 0), when
 * the time is up (exit 0, or 5 when --count was given and not reached), on Ctrl-C (exit 0), or
 * when the connection fails for good (its exit code). The timer starts once online.
 *
 * Beside messages it prints the events of a live session (session.ts `CliEvent`): presence
 * (RFC 6121 4), subscription requests and answers (RFC 6121 3), receipts (XEP-0184), chat states
 * (XEP-0085), invitations (XEP-0249 / XEP-0045 7.8.2), roster pushes and XEP-0144 suggestions.
 * It loads the buddies-only switch (private storage) so `confab filter buddies` applies here.
 */
import type { CommandContext } from '../context.ts';
import { describeError, EXIT, exitCodeFor } from '../exit.ts';
import { printEvent, printMessage } from '../render.ts';
import type { IncomingMessage, ShowName } from '../session.ts';
import type { listen } from '../table.ts';

/** Whether a message is worth a line: it says something (bodyless chat states etc. are not). */
export function printable(msg: IncomingMessage): boolean {
  return msg.body !== undefined || msg.subject !== undefined || msg.oob.length > 0 || msg.xhtml !== undefined;
}

export async function run(ctx: CommandContext<typeof listen>): Promise<number> {
  const { count, timeout, status } = ctx.options;
  const show = ctx.options.show === 'online' ? undefined : (ctx.options.show as ShowName | undefined);
  const session = await ctx.login({
    presence: true,
    reconnect: true,
    presenceState: show !== undefined || status !== undefined ? { show, status } : undefined,
  });
  try {
    // Loading the switch installs the filter (`confab filter buddies`).
    await session.account.buddiesOnly();
  } catch (err) {
    ctx.out.note(`confab: could not read the buddies-only setting, showing everyone: ${describeError(err)}`);
  }
  if (ctx.io.stderr.isTTY) ctx.out.note(`confab: listening as ${session.jid} (Ctrl-C to stop)`);
  return new Promise<number>((resolve) => {
    let printed = 0;
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
        if (finished || !printable(msg)) return;
        printMessage(ctx.out, msg);
        if (msg.body !== undefined && msg.body !== '') printed++;
        if (count !== undefined && printed >= count) finish(EXIT.ok);
      }),
    );
    teardown.push(
      session.onEvent((e) => {
        if (!finished) printEvent(ctx.out, e);
      }),
    );
    teardown.push(
      session.onFatal((err) => {
        ctx.out.stderr(`${describeError(err)}\n`);
        finish(exitCodeFor(err));
      }),
    );
    if (timeout !== undefined) {
      const timer = setTimeout(() => finish(count === undefined ? EXIT.ok : EXIT.timeout), timeout * 1000);
      teardown.push(() => clearTimeout(timer));
    }
    const onAbort = () => finish(EXIT.ok);
    if (ctx.signal.aborted) onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    teardown.push(() => ctx.signal.removeEventListener('abort', onAbort));
  });
}
