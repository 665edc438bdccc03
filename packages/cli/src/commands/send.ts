/**
 * `confab send JID TEXT...` (issue 3, "The first commands of the terminal client"; issue 7). Exit 0
 * means the server has the message: the session resolves the send on a stream-management ack
 * (XEP-0198) or, where stream management is off, on the answer to a ping sent after it (XEP-0199;
 * the server handles a client's stanzas in order, RFC 6120 10.1). Sends no presence: a one-shot
 * resource that became available would receive (and so take away from the user's real client)
 * offline messages.
 *
 * `--receipt` (XEP-0184 v1.4): asks for a receipt and waits up to `--wait` seconds for it after
 * the server has the message (exit 5 when none came). `--expire` (XEP-0023), `--url`/`--desc`
 * (XEP-0066 jabber:x:oob), `--xhtml` (XEP-0071), `--cc` (XEP-0033: through the server's
 * multicast service where disco finds one, else one message per recipient).
 */
import { jid } from 'confab';
import { UsageError } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError, describeError, EXIT } from '../exit.ts';
import { xhtmlFromMarkup } from '../library.ts';
import type { send } from '../table.ts';
import { checkJid } from './common.ts';

/** Drops one final line end (what `echo` and heredocs add), keeping any others. */
export function stripFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

// What XML 1.0 cannot carry (section 2.2, Char): most C0 controls, U+FFFE/U+FFFF, lone surrogates.
const NOT_XML =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Refuses text XMPP cannot send, before connecting, naming the character. */
export function checkSendable(what: string, text: string | undefined): void {
  const bad = text === undefined ? null : NOT_XML.exec(text);
  if (bad) {
    const cp = `U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw new UsageError(`the ${what} contains ${cp}, which XMPP (XML 1.0) cannot carry`, 'send');
  }
}

/** Rejects when the user interrupts: whether the server has the message is then unknown. */
function interrupted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () =>
      reject(
        new CliError(EXIT.failure, 'interrupted before the server confirmed the message (it may have it)'),
      );
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

export async function run(ctx: CommandContext<typeof send>): Promise<number> {
  const to = ctx.args.JID;
  const words = ctx.args.TEXT;
  const { type, subject, thread, receipt, expire, xhtml } = ctx.options;
  const wait = ctx.options.wait ?? 30;
  const urls = ctx.options.url ?? [];
  const descs = ctx.options.desc ?? [];
  const cc = ctx.options.cc ?? [];
  try {
    jid(to);
  } catch (err) {
    throw new UsageError((err as Error).message, 'send');
  }
  for (const c of cc) checkJid(c, 'send');
  if (descs.length > urls.length)
    throw new UsageError('each --desc describes a --url: more --desc than --url', 'send');
  if (receipt && cc.length > 0) throw new UsageError('--receipt cannot be combined with --cc', 'send');
  if (expire !== undefined && (expire < 1 || !Number.isInteger(expire))) {
    throw new UsageError('--expire takes a whole number of seconds, at least 1', 'send');
  }
  for (const u of urls) {
    if (!URL.canParse(u)) throw new UsageError(`--url '${u}' is not a URL`, 'send');
    checkSendable('URL', u);
  }
  for (const d of descs) checkSendable('description', d);
  if (xhtml !== undefined) {
    checkSendable('XHTML', xhtml);
    try {
      xhtmlFromMarkup(xhtml);
    } catch (err) {
      throw new UsageError(`--xhtml: ${(err as Error).message}`, 'send');
    }
  }

  let body: string;
  if ((words.length === 1 && words[0] === '-') || (words.length === 0 && !ctx.io.stdin.isTTY)) {
    body = stripFinalNewline(await ctx.readStdin());
  } else if (words.length === 0) {
    throw new UsageError('no TEXT given (and stdin is a terminal)', 'send');
  } else {
    body = words.join(' ');
  }
  if (body === '' && subject === undefined) throw new UsageError('the message is empty', 'send');
  checkSendable('text', body);
  checkSendable('subject', subject);
  checkSendable('thread', thread);

  const session = await ctx.login({ presence: false, reconnect: false });
  let sent: Awaited<ReturnType<typeof session.sendMessage>>;
  try {
    const sending = session
      .sendMessage({
        to,
        body: body === '' ? undefined : body,
        type,
        subject,
        thread,
        ...(receipt ? { receipt: true } : {}),
        ...(expire !== undefined ? { expire } : {}),
        ...(urls.length ? { oob: urls.map((url, i) => ({ url, desc: descs[i] })) } : {}),
        ...(xhtml !== undefined ? { xhtml } : {}),
        ...(cc.length ? { cc } : {}),
      })
      .then(async (r) => {
        if (!receipt) return r;
        try {
          await session.waitReceipt(r.id, wait, ctx.signal);
        } catch (err) {
          if ((err as { code?: unknown }).code === 'ERR_TIMEOUT') {
            throw new CliError(
              EXIT.timeout,
              `the server has the message, but no receipt from ${to} came within ${wait} s`,
            );
          }
          throw err;
        }
        return r;
      });
    const interruption = interrupted(ctx.signal);
    // Whichever loses the race settles later (disconnecting rejects the send; a late Ctrl-C
    // rejects the interruption): handled, so neither becomes an unhandled rejection.
    sending.catch(() => {});
    interruption.catch(() => {});
    sent = await Promise.race([sending, interruption]);
  } finally {
    try {
      await session.disconnect();
    } catch (err) {
      // The server has the message by now (or sending failed and that error wins): a failed
      // close must not make a script send it again.
      ctx.out.note(`${describeError(err)} (while disconnecting)`);
    }
  }
  if (ctx.out.json) {
    ctx.out.event('result', {
      command: 'send',
      to,
      id: sent.id,
      cc: cc.length ? cc : undefined,
      via: sent.via,
      ids: sent.ids,
      receipt: receipt ? true : undefined,
    });
  }
  return EXIT.ok;
}
