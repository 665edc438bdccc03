/**
 * `confab history JID [--search TEXT] [--limit N] [--sync]` (issue 7, "Storage"): the local
 * history (store/history.ts) of the conversation with JID. Without --sync it needs no password
 * and no network: only the account's JID, to know whose history to read. --sync logs in first
 * and catches up from the archive (store/sync.ts, XEP-0313): for a room (disco#info says so), from
 * the room's own archive, without joining it.
 */
import { existsSync } from 'node:fs';
import { resolveAccount } from '../account.ts';
import type { CommandContext } from '../context.ts';
import { EXIT } from '../exit.ts';
import type { Output } from '../output.ts';
import { remote } from '../output.ts';
import { openDatabase } from '../store/db.ts';
import { History, normalJid, type StoredMessage } from '../store/history.ts';
import { databasePath, dataDirOf } from '../store/paths.ts';
import type { history } from '../table-history.ts';
import { checkJid, withSession } from './common.ts';

/** The `--json` object of a stored message (without `event`). */
export function storedFields(m: StoredMessage): Record<string, unknown> {
  return {
    from: m.from,
    to: m.to,
    id: m.id,
    type: m.type,
    subject: m.subject,
    thread: m.thread,
    body: m.body,
    delay: m.delay?.toISOString(),
    timestamp: m.timestamp.toISOString(),
    direction: m.direction,
    via: m.via,
    originId: m.originId,
    stanzaId: m.stanzaId,
    stanzaIdBy: m.stanzaIdBy,
    corrected: m.corrected,
    retracted: m.retracted,
  };
}

/** Who a line names: the bare JID one-to-one, the occupant (room/nick) in a room. */
function who(m: StoredMessage): string {
  const from = m.from ?? (m.direction === 'out' ? m.account : m.peer);
  if (m.type === 'groupchat') return from;
  const slash = from.indexOf('/');
  return slash === -1 ? from : from.slice(0, slash);
}

/** The plain line(s) of a stored message, terminal-safe: `[time] from: body`. */
export function storedLine(m: StoredMessage, out: Output): string {
  const { style } = out;
  const parts = [style.dim(`[${m.timestamp.toISOString()}]`), style.bold(`${remote(who(m))}:`)];
  if (m.subject !== undefined) parts.push(`[${remote(m.subject)}]`);
  if (m.retracted) parts.push(style.dim('[retracted]'));
  else if (m.body !== undefined) parts.push(remote(m.body, true).replace(/\n/g, '\n  '));
  if (m.corrected && !m.retracted) parts.push(style.dim('(corrected)'));
  return parts.join(' ');
}

export async function run(ctx: CommandContext<typeof history>): Promise<number> {
  const peer = normalJid(checkJid(ctx.args.JID, 'history'));
  const { search, sync } = ctx.options;
  const limit = ctx.options.limit ?? 50;
  if (sync) {
    await withSession(ctx, {}, async (session) => {
      if (!session.history) {
        ctx.out.note('confab: no local history database: nothing to sync into');
        return;
      }
      const r = await session.history.sync(peer, ctx.signal);
      if (!r.supported && r.room)
        ctx.out.note(
          `confab: the room ${peer} keeps no message archive (XEP-0313): showing the local history only`,
        );
      else if (!r.supported)
        ctx.out.note(
          `confab: the server keeps no message archive (XEP-0313) for ${session.jid}: showing the local history only`,
        );
      else ctx.out.note(`confab: ${r.added} new message${r.added === 1 ? '' : 's'} from the archive`);
    });
  }
  const account = (await resolveAccount(ctx.global, ctx.io.env)).jid;
  const file = databasePath(dataDirOf(ctx.io.env));
  // Nothing recorded yet: nothing to show (and no reason to create the file).
  if (!existsSync(file)) return EXIT.ok;
  const db = openDatabase(file);
  try {
    const messages = new History(db).history(account, peer, { limit, search });
    for (const m of messages) {
      if (ctx.out.json) ctx.out.event('message', storedFields(m));
      else ctx.out.line(storedLine(m, ctx.out));
    }
  } finally {
    db.close();
  }
  return EXIT.ok;
}
