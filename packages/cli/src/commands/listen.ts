/**
 * `confab listen [--count N] [--timeout SECONDS]` (issue 3; issue 7). Connects with presence, so
 * the server delivers messages addressed to the bare JID and the offline ones (RFC 6121 8.5.2,
 * XEP-0160), which carry their XEP-0203 delay. Stops after N messages with a body (exit 0), when
 * the time is up (exit 0, or 5 when --count was given and not reached), on Ctrl-C (exit 0), or
 * when the connection fails for good (its exit code). The timer starts once online.
 */
import type { CommandContext } from '../context.ts';
import { describeError, EXIT, exitCodeFor } from '../exit.ts';
import { printMessage } from '../render.ts';
import type { IncomingMessage } from '../session.ts';
import type { listen } from '../table.ts';

/** Whether a message is worth a line: it says something (bodyless chat states etc. are not). */
export function printable(msg: IncomingMessage): boolean {
  return msg.body !== undefined || msg.subject !== undefined || msg.oob.length > 0;
}

export async function run(ctx: CommandContext<typeof listen>): Promise<number> {
  const { count, timeout } = ctx.options;
  const session = await ctx.login({ presence: true, reconnect: true });
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
