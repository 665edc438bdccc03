/**
 * `confab roster`, `roster add|set|remove|send`, `subscribe|unsubscribe|approve|deny` (issue 7).
 * RFC 6121 2 (roster management) and 3 (subscriptions), XEP-0144 v1.1 (roster item exchange).
 *
 * The roster list connects with presence at priority -1, so contacts' presence comes in without
 * this one-shot resource taking messages away from the user's real client: a negative priority
 * receives no messages to the bare JID (RFC 6121 8.5.2.1.1) and no offline messages (servers
 * deliver those only to a non-negative priority). The edits send no presence at all.
 */
import { UsageError } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError, EXIT } from '../exit.ts';
import { remote } from '../output.ts';
import type { ContactStatus, RosterEntry } from '../session.ts';
import type {
  approve,
  deny,
  roster,
  rosterAdd,
  rosterRemove,
  rosterSend,
  rosterSet,
  subscribe,
  unsubscribe,
} from '../table.ts';
import { checkJid, withSession } from './common.ts';

/** Whether we can know the contact's presence: only with a subscription to it. */
function seesPresence(e: RosterEntry): boolean {
  return e.subscription === 'to' || e.subscription === 'both';
}

/** The `--json` object of a roster item (event `roster`). */
export function rosterFields(e: RosterEntry, p: ContactStatus | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {
    jid: e.jid,
    name: e.name,
    groups: e.groups,
    subscription: e.subscription,
    ask: e.ask,
    approved: e.approved ? true : undefined,
  };
  if (seesPresence(e)) {
    out.available = p?.available ?? false;
    if (p?.available) {
      out.show = p.show;
      out.status = p.status;
    }
  }
  return out;
}

/** One plain line: `jid (name) [groups] subscription; presence`. */
export function rosterLine(e: RosterEntry, p: ContactStatus | undefined): string {
  const parts = [remote(e.jid)];
  if (e.name !== undefined) parts.push(`(${remote(e.name)})`);
  if (e.groups.length > 0) parts.push(`[${e.groups.map((g) => remote(g)).join(', ')}]`);
  let sub = e.subscription;
  if (e.ask) sub += ', asked';
  if (e.approved) sub += ', pre-approved';
  parts.push(sub);
  let line = parts.join(' ');
  if (seesPresence(e)) {
    if (p?.available) {
      line += `; ${p.show ?? 'online'}`;
      if (p.status) line += ` "${remote(p.status)}"`;
    } else line += '; offline';
  }
  return line;
}

export async function runList(ctx: CommandContext<typeof roster>): Promise<number> {
  return withSession(ctx, { presence: true, presenceState: { priority: -1 } }, async (s) => {
    const items = await s.roster.list();
    if (items.some(seesPresence)) await s.roster.settlePresence();
    items.sort((a, b) => a.jid.localeCompare(b.jid));
    for (const e of items) {
      const p = s.roster.status(e.jid);
      if (ctx.out.json) ctx.out.event('roster', rosterFields(e, p));
      else ctx.out.line(rosterLine(e, p));
    }
    if (items.length === 0 && !ctx.out.json && ctx.io.stderr.isTTY)
      ctx.out.note('confab: the roster is empty');
    return EXIT.ok;
  });
}

function groupsOf(values: string[]): string[] | undefined {
  for (const g of values) if (g === '') throw new UsageError('--group wants a name, not an empty string');
  return values.length > 0 ? values : undefined;
}

export async function runAdd(ctx: CommandContext<typeof rosterAdd>): Promise<number> {
  const jid = checkJid(ctx.args.JID, 'roster add');
  const groups = groupsOf(ctx.options.group);
  const subscribeToo = !ctx.options['no-subscribe'];
  return withSession(ctx, {}, async (s) => {
    await s.roster.set(jid, { name: ctx.options.name, groups });
    if (subscribeToo) await s.roster.subscription('subscribe', jid, ctx.options.status);
    if (ctx.out.json) {
      ctx.out.event('result', { command: 'roster add', jid, subscribed: subscribeToo });
    }
    return EXIT.ok;
  });
}

export async function runSet(ctx: CommandContext<typeof rosterSet>): Promise<number> {
  const jid = checkJid(ctx.args.JID, 'roster set');
  const groups = groupsOf(ctx.options.group);
  const name = ctx.options.name;
  if (name === undefined && groups === undefined && !ctx.options['no-groups']) {
    throw new UsageError('nothing to change: give --name, --group or --no-groups', 'roster set');
  }
  if (groups !== undefined && ctx.options['no-groups']) {
    throw new UsageError('--group and --no-groups contradict each other', 'roster set');
  }
  return withSession(ctx, {}, async (s) => {
    if (!(await s.roster.get(jid))) {
      throw new CliError(EXIT.failure, `${jid} is not in the roster`, `'confab roster add ${jid}' adds it`);
    }
    await s.roster.set(jid, { name, groups: ctx.options['no-groups'] ? [] : groups });
    if (ctx.out.json) ctx.out.event('result', { command: 'roster set', jid });
    return EXIT.ok;
  });
}

export async function runRemove(ctx: CommandContext<typeof rosterRemove>): Promise<number> {
  const jid = checkJid(ctx.args.JID, 'roster remove');
  return withSession(ctx, {}, async (s) => {
    // Checked here: RFC 6121 2.5.3 wants item-not-found from the server, but ejabberd 23 answers
    // success, and a script should get the same answer from every server.
    if (!(await s.roster.get(jid))) throw new CliError(EXIT.failure, `${jid} is not in the roster`);
    await s.roster.remove(jid);
    if (ctx.out.json) ctx.out.event('result', { command: 'roster remove', jid });
    return EXIT.ok;
  });
}

export async function runSend(ctx: CommandContext<typeof rosterSend>): Promise<number> {
  const to = checkJid(ctx.args.JID, 'roster send');
  const contacts = ctx.args.CONTACT.map((c) => checkJid(c, 'roster send'));
  return withSession(ctx, {}, async (s) => {
    // The names and groups the user gave them, where they are in our roster.
    const items = [];
    for (const c of contacts) {
      const known = await s.roster.get(c);
      items.push({ jid: c, name: known?.name, groups: known?.groups });
    }
    const { id } = await s.roster.sendItems(to, items);
    if (ctx.out.json) ctx.out.event('result', { command: 'roster send', to, id, items: contacts });
    return EXIT.ok;
  });
}

type SubscriptionCommand = typeof subscribe | typeof unsubscribe | typeof approve | typeof deny;

export async function runSubscription(ctx: CommandContext<SubscriptionCommand>): Promise<number> {
  const kind = ctx.command.name as 'subscribe' | 'unsubscribe' | 'approve' | 'deny';
  const jid = checkJid(ctx.args.JID, kind);
  const status = 'status' in ctx.options ? (ctx.options.status as string | undefined) : undefined;
  return withSession(ctx, {}, async (s) => {
    await s.roster.subscription(kind, jid, status);
    if (ctx.out.json) ctx.out.event('result', { command: kind, jid });
    return EXIT.ok;
  });
}
