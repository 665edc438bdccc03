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
 *
 * File offers (XEP-0066 iq form): with `--accept-oob DIR` an offer from a roster contact with a
 * subscription (any direction), or only from `--from JID` (roster or not), is fetched into DIR
 * under a safe name that never overwrites a file, and the sender is answered (result once saved,
 * item-not-found when fetching failed); every other offer is answered not-acceptable. Each offer
 * then prints a `file` event: `from`, `url`, `desc`, `path`, `size`, `status` (received,
 * refused, failed) and `error` when it failed. Without the option the library answers every
 * offer not-acceptable by itself (nobody listens) and nothing is printed.
 */
import { stat } from 'node:fs/promises';
import { bare, equalJid, jid } from 'confab';
import { UsageError } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { describeError, EXIT, exitCodeFor } from '../exit.ts';
import { remote } from '../output.ts';
import { printEvent, printMessage } from '../render.ts';
import type { CliSession, IncomingMessage, ShowName } from '../session.ts';
import type { CliOffer } from '../session-files.ts';
import type { listen } from '../table.ts';
import { checkJid } from './common.ts';

/** Whether a message is worth a line: it says something (bodyless chat states etc. are not). */
export function printable(msg: IncomingMessage): boolean {
  return msg.body !== undefined || msg.subject !== undefined || msg.oob.length > 0 || msg.xhtml !== undefined;
}

/** What `listen` prints for a file offer (`--json`: the `file` event). */
interface FileEvent {
  from: string;
  url: string;
  desc: string | undefined;
  path?: string | undefined;
  size?: number | undefined;
  status: 'received' | 'refused' | 'failed';
  error?: string | undefined;
}

function printFile(ctx: CommandContext<typeof listen>, e: FileEvent): void {
  if (ctx.out.json) {
    ctx.out.event('file', { ...e });
    return;
  }
  const head = `${ctx.out.style.bold(`file from ${remote(e.from)}:`)} <${remote(e.url)}>${e.desc ? ` (${remote(e.desc)})` : ''}`;
  if (e.status === 'received') ctx.out.line(`${head} saved as ${remote(e.path)} (${e.size} bytes)`);
  else if (e.status === 'refused') ctx.out.line(`${head} refused`);
  else ctx.out.line(`${head} failed: ${remote(e.error)}`);
}

/** Decides on, fetches and reports one offer (see the banner for the rule). */
function answerOffer(
  ctx: CommandContext<typeof listen>,
  session: CliSession,
  offer: CliOffer,
  dir: string,
  only: string | undefined,
): void {
  const base = { from: offer.from, url: offer.url, desc: offer.desc };
  const refuse = () => {
    offer.reject('not-acceptable');
    printFile(ctx, { ...base, status: 'refused' });
  };
  void (async () => {
    let allowed: boolean;
    if (only !== undefined) {
      allowed = only.includes('/') ? equalJid(offer.from, only) : equalJid(bare(jid(offer.from)), only);
    } else {
      const entry = await session.roster.get(bare(jid(offer.from))).catch(() => undefined);
      allowed = entry !== undefined && entry.subscription !== 'none';
    }
    if (!allowed) {
      refuse();
      return;
    }
    try {
      const r = await offer.accept(dir);
      printFile(ctx, { ...base, path: r.path, size: r.size, status: 'received' });
    } catch (err) {
      printFile(ctx, { ...base, status: 'failed', error: describeError(err).replace(/^confab: /, '') });
    }
  })();
}

export async function run(ctx: CommandContext<typeof listen>): Promise<number> {
  const { count, timeout, status } = ctx.options;
  const dir = ctx.options['accept-oob'];
  const only = ctx.options.from;
  if (only !== undefined && dir === undefined)
    throw new UsageError('--from goes with --accept-oob', 'listen');
  if (only !== undefined) checkJid(only, 'listen');
  if (dir !== undefined) {
    const s = await stat(dir).catch(() => undefined);
    if (!s?.isDirectory()) throw new UsageError(`--accept-oob ${dir}: not a directory`, 'listen');
  }
  const show = ctx.options.show === 'online' ? undefined : (ctx.options.show as ShowName | undefined);
  const session = await ctx.login({
    presence: true,
    reconnect: true,
    presenceState: show !== undefined || status !== undefined ? { show, status } : undefined,
  });
  // With --accept-oob, at once (before any other round trip): an offer that arrived with nobody
  // listening is refused by the library (not-acceptable), which is also all that happens without
  // the option, and then we neither listen nor announce jabber:iq:oob.
  let stopped = false;
  const offOffers =
    dir === undefined
      ? () => {}
      : session.files.onOffer((offer) => {
          if (stopped) offer.reject('not-acceptable');
          else answerOffer(ctx, session, offer, dir, only);
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
      stopped = true;
      for (const t of teardown) t();
      // The offer listener goes after the stream (withdrawing its disco feature while online
      // would re-announce our caps in a presence just before the unavailable one).
      session.disconnect().then(
        () => {
          offOffers();
          resolve(code);
        },
        (err) => {
          offOffers();
          ctx.out.note(`${describeError(err)} (while disconnecting)`);
          resolve(code);
        },
      );
    };
    teardown.push(
      session.onMessage((msg) => {
        if (finished || !printable(msg)) return;
        printMessage(ctx.out, msg);
        // --count counts messages to us, not what our other clients sent (sent carbons).
        if (msg.body !== undefined && msg.body !== '' && !msg.outgoing) printed++;
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
