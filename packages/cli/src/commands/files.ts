/**
 * `confab upload`, `confab offer`, `confab download` (issue 6 "File transfer", issue 7 "Files").
 *
 * - upload: XEP-0363 v1.1 HTTP upload to the account's server; the size limit is checked before
 *   anything is sent. With --to the URL goes out as Conversations and Dino expect (body = URL,
 *   plus XEP-0066 jabber:x:oob).
 * - offer: the built-in one-file server plus XEP-0066's iq form; the exit code is the receiver's
 *   answer (0 accepted, 1 refused or not online, 5 no answer within --wait). For a bare JID it
 *   logs in with presence at priority -1 (no messages taken from the user's real client, RFC 6121
 *   8.5.2.1.1) to find the most available resource.
 * - download: no login; http/https only; a safe name in the current directory or -o FILE; never
 *   overwrites.
 * Progress bars go to stderr, only when it is a terminal.
 */
import { stat } from 'node:fs/promises';
import { UsageError } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError, describeError, EXIT } from '../exit.ts';
import { downloadUrl } from '../library-files.ts';
import { remote } from '../output.ts';
import type { FileProgress } from '../session-files.ts';
import type { download, offer, upload } from '../table-files.ts';
import { checkJid, withSession } from './common.ts';

function human(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** One progress line on a terminal's stderr (rewritten in place); nothing when it is not one. */
export function progressBar(
  stderr: { write(s: string): unknown; isTTY?: boolean | undefined },
  label: string,
): { update: (p: FileProgress) => void; end: () => void } {
  if (!stderr.isTTY) return { update: () => {}, end: () => {} };
  let shown = false;
  let last = 0;
  const name = remote(label).slice(0, 30);
  return {
    update(p) {
      const now = Date.now();
      const final = p.total !== undefined && p.transferred >= p.total;
      if (!final && now - last < 100) return;
      last = now;
      shown = true;
      const width = 30;
      if (p.total !== undefined && p.total > 0) {
        const f = Math.min(1, p.transferred / p.total);
        const bar = '#'.repeat(Math.round(f * width)).padEnd(width, '.');
        stderr.write(
          `\r\u001b[2K${name} [${bar}] ${String(Math.floor(f * 100)).padStart(3)}% ${human(p.transferred)} / ${human(p.total)}`,
        );
      } else stderr.write(`\r\u001b[2K${name} ${human(p.transferred)}`);
    },
    end() {
      if (shown) stderr.write('\n');
      shown = false;
    },
  };
}

async function checkFile(path: string, command: string): Promise<void> {
  let s: Awaited<ReturnType<typeof stat>>;
  try {
    s = await stat(path);
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`, command);
  }
  if (!s.isFile()) throw new UsageError(`${path} is not a regular file`, command);
}

export async function runUpload(ctx: CommandContext<typeof upload>): Promise<number> {
  const path = ctx.args.FILE;
  const { to, desc } = ctx.options;
  if (to !== undefined) checkJid(to, 'upload');
  if (desc !== undefined && to === undefined) throw new UsageError('--desc goes with --to', 'upload');
  await checkFile(path, 'upload');
  const r = await withSession(ctx, { presence: false }, async (session) => {
    const bar = progressBar(ctx.io.stderr, path.split('/').pop() ?? path);
    let up: Awaited<ReturnType<typeof session.files.upload>>;
    try {
      up = await session.files.upload(path, { onProgress: bar.update, signal: ctx.signal });
    } finally {
      bar.end();
    }
    const sent = to !== undefined ? await session.files.sendLink(to, up.url, desc) : undefined;
    return { ...up, id: sent?.id };
  });
  if (ctx.out.json) {
    ctx.out.event('result', {
      command: 'upload',
      url: r.url,
      name: r.name,
      size: r.size,
      type: r.type,
      to,
      id: r.id,
    });
  } else {
    ctx.out.line(remote(r.url));
    if (to !== undefined) ctx.out.note(`confab: sent the link to ${to}`);
  }
  return EXIT.ok;
}

export async function runOffer(ctx: CommandContext<typeof offer>): Promise<number> {
  const path = ctx.args.FILE;
  const { to, desc } = ctx.options;
  const bind = ctx.options.bind ?? '127.0.0.1';
  const wait = ctx.options.wait ?? 300;
  if (to === undefined) throw new UsageError('--to JID is required', 'offer');
  checkJid(to, 'offer');
  if (wait <= 0) throw new UsageError('--wait must be more than 0 seconds', 'offer');
  await checkFile(path, 'offer');
  const bareTarget = !to.includes('/');
  const report = (fields: Record<string, unknown>) => {
    if (ctx.out.json) ctx.out.event('result', { command: 'offer', to, ...fields });
  };
  return withSession(
    ctx,
    // A bare JID needs its presence (to pick a resource): at priority -1, so this one-shot
    // resource takes no messages meant for the user's real client.
    bareTarget ? { presence: true, presenceState: { priority: -1 } } : { presence: false },
    async (session) => {
      if (bareTarget) await session.roster.settlePresence();
      const target = session.files.resolveResource(to);
      if (target === undefined) {
        report({ status: 'offline' });
        throw new CliError(
          EXIT.failure,
          `${to} is not online (or you do not see their presence): offer to a full JID, or subscribe first`,
        );
      }
      const bar = progressBar(ctx.io.stderr, path.split('/').pop() ?? path);
      if (ctx.io.stderr.isTTY) ctx.out.note(`confab: offering ${path} to ${target}, waiting up to ${wait} s`);
      try {
        const r = await session.files.offer(path, target, {
          bind,
          wait,
          desc,
          onProgress: bar.update,
          signal: ctx.signal,
        });
        bar.end();
        report({ to: target, url: r.url, status: 'accepted', size: r.size });
        if (!ctx.out.json) ctx.out.line(`${remote(target)} accepted ${remote(path)} (${human(r.size)})`);
        return EXIT.ok;
      } catch (err) {
        bar.end();
        const e = err as { code?: string; condition?: string };
        if (e.code === 'ERR_TIMEOUT') {
          report({ to: target, status: 'timeout' });
          throw new CliError(EXIT.timeout, `no answer from ${target} within ${wait} s`);
        }
        if (e.code === 'ERR_STANZA') {
          report({ to: target, status: 'refused', condition: e.condition });
          const why = e.condition === 'item-not-found' ? 'could not fetch it' : 'refused it';
          throw new CliError(EXIT.failure, `${target} ${why} [${e.condition ?? 'undefined-condition'}]`);
        }
        throw err;
      }
    },
  );
}

export async function runDownload(ctx: CommandContext<typeof download>): Promise<number> {
  const url = ctx.args.URL;
  const output = ctx.options.output;
  if (!URL.canParse(url)) throw new UsageError(`'${url}' is not a URL`, 'download');
  const protocol = new URL(url).protocol;
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new UsageError(`only http and https URLs are downloaded, not ${protocol}`, 'download');
  }
  const bar = progressBar(ctx.io.stderr, output ?? url.split('/').pop() ?? url);
  let r: Awaited<ReturnType<typeof downloadUrl>>;
  try {
    r = await downloadUrl(url, {
      output,
      dir: process.cwd(),
      ca: ctx.global.ca,
      onProgress: bar.update,
      signal: ctx.signal,
    });
  } catch (err) {
    bar.end();
    const e = err as { code?: string };
    // A file that exists is no usage mistake: it is refused (exit 1), never overwritten.
    if (e.code === 'ERR_BAD_INPUT')
      throw new CliError(EXIT.failure, describeError(err).replace(/^confab: /, ''));
    throw err;
  }
  bar.end();
  if (ctx.out.json)
    ctx.out.event('result', { command: 'download', url, path: r.path, size: r.size, type: r.type });
  else ctx.out.line(`${remote(r.path)} (${human(r.size)})`);
  return EXIT.ok;
}
