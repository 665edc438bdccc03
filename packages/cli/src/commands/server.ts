/**
 * Account data the server keeps, and what a server offers (issue 7): `confab block JID...`,
 * `unblock JID...|--all`, `blocklist` (XEP-0191 v1.3), `confab private set|get` (XEP-0049 v1.2),
 * `confab disco [JID] [--items] [--node N]` (XEP-0030 v2.5).
 */
import { UsageError } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError, EXIT } from '../exit.ts';
import { remote } from '../output.ts';
import type { block, blocklist, disco, privateGet, privateSet, unblock } from '../table.ts';
import { checkJid, withSession } from './common.ts';

export async function runBlock(ctx: CommandContext<typeof block>): Promise<number> {
  const jids = ctx.args.JID.map((j) => checkJid(j, 'block'));
  return withSession(ctx, {}, async (s) => {
    await s.account.block(jids);
    if (ctx.out.json) ctx.out.event('result', { command: 'block', jids });
    return EXIT.ok;
  });
}

export async function runUnblock(ctx: CommandContext<typeof unblock>): Promise<number> {
  const jids = ctx.args.JID.map((j) => checkJid(j, 'unblock'));
  const all = ctx.options.all;
  if (all && jids.length > 0) throw new UsageError('give JIDs or --all, not both', 'unblock');
  if (!all && jids.length === 0)
    throw new UsageError('missing JID (or --all to unblock everyone)', 'unblock');
  return withSession(ctx, {}, async (s) => {
    await s.account.unblock(all ? 'all' : jids);
    if (ctx.out.json) ctx.out.event('result', { command: 'unblock', jids: all ? 'all' : jids });
    return EXIT.ok;
  });
}

export async function runBlocklist(ctx: CommandContext<typeof blocklist>): Promise<number> {
  return withSession(ctx, {}, async (s) => {
    const list = (await s.account.blocklist()).sort();
    for (const j of list) {
      if (ctx.out.json) ctx.out.event('blocked', { jid: j });
      else ctx.out.line(remote(j));
    }
    return EXIT.ok;
  });
}

function checkNamespace(ns: string, command: string): string {
  if (ns === '' || /[\s<>'"]/.test(ns)) throw new UsageError(`'${ns}' is not a namespace`, command);
  return ns;
}

export async function runPrivateSet(ctx: CommandContext<typeof privateSet>): Promise<number> {
  const ns = checkNamespace(ctx.args.NAMESPACE, 'private set');
  let text = ctx.args.XML;
  if (text === '-') text = await ctx.readStdin();
  // Checked before connecting: a typo costs no login.
  const { parseRootIn } = await import('../xmltext.ts');
  parseRootIn(ns, text, 'private set');
  return withSession(ctx, {}, async (s) => {
    await s.account.privateSet(ns, text);
    if (ctx.out.json) ctx.out.event('result', { command: 'private set', namespace: ns });
    return EXIT.ok;
  });
}

export async function runPrivateGet(ctx: CommandContext<typeof privateGet>): Promise<number> {
  const ns = checkNamespace(ctx.args.NAMESPACE, 'private get');
  const what = ctx.args.ELEMENT.trim();
  let name = what;
  if (what.startsWith('<')) {
    const { parseRootIn } = await import('../xmltext.ts');
    name = parseRootIn(ns, what, 'private get').name;
  } else if (!/^[A-Za-z_][\w.-]*$/.test(what)) {
    throw new UsageError(`'${what}' is neither an element name nor empty XML like <prefs/>`, 'private get');
  }
  return withSession(ctx, {}, async (s) => {
    const xml = await s.account.privateGet(ns, name);
    if (xml === undefined) throw new CliError(EXIT.failure, `nothing stored under <${name} xmlns='${ns}'/>`);
    if (ctx.out.json) ctx.out.event('result', { command: 'private get', namespace: ns, name, xml });
    else ctx.out.line(remote(xml, true));
    return EXIT.ok;
  });
}

export async function runDisco(ctx: CommandContext<typeof disco>): Promise<number> {
  const to = ctx.args.JID === undefined ? undefined : checkJid(ctx.args.JID, 'disco');
  const node = ctx.options.node;
  return withSession(ctx, {}, async (s) => {
    const target = to ?? s.account.domain;
    if (ctx.options.items) {
      const items = await s.account.discoItems(target, node);
      for (const it of items) {
        if (ctx.out.json) ctx.out.event('item', { jid: it.jid, node: it.node, name: it.name });
        else {
          const extra = [it.node && `node ${remote(it.node)}`, it.name && `"${remote(it.name)}"`].filter(
            Boolean,
          );
          ctx.out.line([remote(it.jid), ...extra].join(' '));
        }
      }
      return EXIT.ok;
    }
    const info = await s.account.discoInfo(target, node);
    if (ctx.out.json) {
      ctx.out.event('result', {
        command: 'disco',
        jid: target,
        node,
        identities: info.identities.map((i) => ({
          category: i.category,
          type: i.type,
          name: i.name,
          lang: i.lang,
        })),
        features: info.features,
        forms: info.forms.length > 0 ? info.forms : undefined,
      });
      return EXIT.ok;
    }
    for (const i of info.identities) {
      ctx.out.line(`identity ${remote(i.category)}/${remote(i.type)}${i.name ? ` "${remote(i.name)}"` : ''}`);
    }
    for (const f of [...info.features].sort()) ctx.out.line(`feature ${remote(f)}`);
    for (const form of info.forms) {
      for (const [k, vs] of Object.entries(form.fields)) {
        if (k !== 'FORM_TYPE')
          ctx.out.line(
            `form ${remote(form.type ?? '')} ${remote(k)}: ${vs.map((v) => remote(v)).join(', ')}`,
          );
      }
    }
    return EXIT.ok;
  });
}
