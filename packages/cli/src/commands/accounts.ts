/**
 * Account commands (issue 7, "Accounts"): `register` (XEP-0077 v2.4 in-band registration on a
 * connection of its own, no login), `passwd` (XEP-0077 3.3), `unregister` (XEP-0077 3.2), and
 * `account add|list|remove|default`, which edit the config file (account.ts: never a password,
 * mode 0600 under the XDG config dir).
 *
 * Passwords never come from flags: the new account's from the usual sources (--password-command,
 * CONFAB_PASSWORD, a prompt asked twice), a changed one from --new-password-command,
 * CONFAB_NEW_PASSWORD or a prompt asked twice. Prompts only when stdin is a terminal.
 */
import { createInterface } from 'node:readline/promises';
import { jid as parseJid } from 'confab';
import {
  type AccountConfig,
  accountKey,
  type ConfigFile,
  configPath,
  loadConfig,
  promptPassword,
  type ResolvedAccount,
  resolveAccount,
  resolveNewPassword,
  saveConfig,
} from '../account.ts';
import { UsageError } from '../args.ts';
import { type CommandContext, wireLog } from '../context.ts';
import { CliError, EXIT } from '../exit.ts';
import type { Io } from '../output.ts';
import { remote } from '../output.ts';
import type { CliRegistrationField } from '../session-accounts.ts';
import type {
  accountAdd,
  accountDefault,
  accountList,
  accountRemove,
  passwd,
  register,
  unregister,
} from '../table-accounts.ts';
import { withSession } from './common.ts';

/** `user@domain` with nothing else (no resource), or a usage error. */
function bareAccount(value: string, command: string): string {
  let parsed: string;
  try {
    parsed = parseJid(value);
  } catch (err) {
    throw new UsageError(`'${value}' is not a JID: ${(err as Error).message}`, command);
  }
  const at = parsed.indexOf('@');
  if (at <= 0 || parsed.includes('/')) {
    throw new UsageError(`the account must be user@domain, not '${value}'`, command);
  }
  return parsed;
}

/** Reads one line from a terminal (echoed). */
async function promptLine(prompt: string, io: Io): Promise<string> {
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream, terminal: true });
  try {
    return (await rl.question(prompt)).trim();
  } finally {
    rl.close();
  }
}

type Values = Record<string, string | string[] | boolean>;

/** `--field NAME=VALUE` words by name; a name given twice collects its values. */
export function parseFields(words: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new UsageError(`--field wants NAME=VALUE, not '${w}'`, 'register');
    const name = w.slice(0, eq);
    out.set(name, [...(out.get(name) ?? []), w.slice(eq + 1)]);
  }
  return out;
}

const TRUE = /^(1|true|yes|y|on)$/i;
const FALSE = /^(0|false|no|n|off)$/i;

/** The typed value of `field` from the words given for it. */
function valueFor(field: CliRegistrationField, given: readonly string[]): string | string[] | boolean {
  if (field.type === 'boolean') {
    const w = given[given.length - 1] ?? '';
    if (TRUE.test(w)) return true;
    if (FALSE.test(w)) return false;
    throw new UsageError(`--field ${field.name} wants yes or no, not '${w}'`, 'register');
  }
  if (field.type.endsWith('-multi')) return [...given];
  const v = given[given.length - 1] ?? '';
  if (field.type === 'list-single' && field.options.length > 0 && !field.options.some((o) => o.value === v)) {
    throw new UsageError(
      `--field ${field.name} must be one of ${field.options.map((o) => o.value).join(', ')}, not '${v}'`,
      'register',
    );
  }
  return v;
}

/** How a field is shown in a prompt or an error: `email (Email address)`; remote text sanitized. */
function fieldLabel(f: CliRegistrationField): string {
  const label = remote(f.label);
  return label && label !== f.name ? `${remote(f.name)} (${label})` : remote(f.name);
}

/** Asks for one field on the terminal; '' means none given. */
async function askField(f: CliRegistrationField, io: Io): Promise<string[]> {
  const choices = f.options.length > 0 ? ` [${f.options.map((o) => remote(o.value)).join('/')}]` : '';
  const hint =
    f.type === 'boolean' ? ' [yes/no]' : f.type.endsWith('-multi') ? ' (values separated by commas)' : '';
  const prompt = `${fieldLabel(f)}${choices}${hint}${f.required ? '' : ' (optional)'}: `;
  const answer = f.type === 'text-private' ? await promptPassword(prompt, io) : await promptLine(prompt, io);
  if (answer === '') return [];
  return f.type.endsWith('-multi') ? answer.split(',').map((s) => s.trim()) : [answer];
}

export async function runRegister(ctx: CommandContext<typeof register>): Promise<number> {
  const { io, out } = ctx;
  const target = bareAccount(ctx.args['USER@HOST'], 'register');
  const given = parseFields(ctx.options.field);
  for (const name of ['username', 'password']) {
    if (given.has(name)) {
      throw new UsageError(
        name === 'password'
          ? 'the password never comes from a --field: use --password-command or CONFAB_PASSWORD'
          : 'the username is the USER of USER@HOST, not a --field',
        'register',
      );
    }
  }
  // The same account and connection options as a login, for the account being created.
  const account: ResolvedAccount = await resolveAccount({ ...ctx.global, jid: target }, io.env);
  const password = await resolveNewPassword(
    {
      command: account.passwordCommand,
      commandOption: '--password-command',
      envName: 'CONFAB_PASSWORD',
      jid: target,
    },
    io,
  );
  const { openRegistration } = await import('../library-accounts.ts');
  const r = await openRegistration({
    account,
    password,
    debug: wireLog(ctx.global, ctx.io),
    signal: ctx.signal,
  });
  try {
    const form = r.form;
    const known = new Set(form.fields.map((f) => f.name));
    for (const name of given.keys()) {
      if (!known.has(name)) {
        const has = form.fields.map((f) => remote(f.name)).join(', ') || 'none';
        throw new UsageError(
          `${account.jid.split('@')[1]} asks for no field '${name}' (it asks for: ${has})`,
          'register',
        );
      }
    }
    if (form.redirect) {
      const why = [form.instructions, form.url].filter(Boolean).map((s) => remote(s, true));
      throw new CliError(
        EXIT.failure,
        `the server does not register accounts here${why.length > 0 ? `: ${why.join(' ')}` : ''}`,
      );
    }
    const values: Values = {};
    const missing: CliRegistrationField[] = [];
    const tty = io.stdin.isTTY === true;
    const toAsk = form.fields.filter((f) => !given.has(f.name) && f.type !== 'fixed');
    if (tty && toAsk.length > 0 && form.instructions) out.note(remote(form.instructions, true));
    for (const f of form.fields) {
      let words = given.get(f.name);
      if (words === undefined && tty) {
        words = await askField(f, io);
        if (words.length === 0) words = undefined;
      }
      if (words === undefined) {
        if (f.required && f.values.every((v) => v === '')) missing.push(f);
        continue;
      }
      values[f.name] = valueFor(f, words);
    }
    if (missing.length > 0) {
      throw new UsageError(
        `the server needs ${missing.map(fieldLabel).join(', ')}: give ${missing
          .map((f) => `--field ${remote(f.name)}=...`)
          .join(' ')}`,
        'register',
      );
    }
    try {
      await r.submit(values);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ERR_USERNAME_TAKEN') {
        throw new CliError(EXIT.failure, `the username ${account.jid} is taken: choose another`);
      }
      throw err;
    }
  } finally {
    await r.close().catch(() => {});
  }
  if (out.json) out.event('result', { command: 'register', jid: account.jid });
  else out.note(`confab: registered ${account.jid}`);
  return EXIT.ok;
}

export async function runPasswd(ctx: CommandContext<typeof passwd>): Promise<number> {
  const account = await resolveAccount(ctx.global, ctx.io.env);
  // Asked before connecting, so no connection idles behind a prompt.
  const newPassword = await resolveNewPassword(
    {
      command: ctx.options['new-password-command'],
      commandOption: '--new-password-command',
      envName: 'CONFAB_NEW_PASSWORD',
      jid: account.jid,
    },
    ctx.io,
  );
  return withSession(ctx, {}, async (s) => {
    await s.registration.changePassword(newPassword);
    if (ctx.out.json) ctx.out.event('result', { command: 'passwd', jid: account.jid });
    else ctx.out.note(`confab: changed the password of ${account.jid}`);
    return EXIT.ok;
  });
}

export async function runUnregister(ctx: CommandContext<typeof unregister>): Promise<number> {
  const { io } = ctx;
  const account = await resolveAccount(ctx.global, io.env);
  if (io.stdin.isTTY) {
    // Asked before the password and the connection: saying no costs nothing.
    const answer = await promptLine(
      `Remove ${account.jid} and everything the server keeps for it? This cannot be undone. Type yes: `,
      io,
    );
    if (answer.toLowerCase() !== 'yes') {
      ctx.out.note('confab: not removed');
      return EXIT.failure;
    }
  }
  return withSession(ctx, {}, async (s) => {
    await s.registration.cancel();
    if (ctx.out.json) ctx.out.event('result', { command: 'unregister', jid: account.jid });
    else ctx.out.note(`confab: removed ${account.jid} from its server`);
    return EXIT.ok;
  });
}

/** The connection options of this command line, as a config entry (undefined ones left out). */
function entryFrom(g: CommandContext['global']): AccountConfig {
  const e: AccountConfig = {};
  if (g.host !== undefined) e.host = g.host;
  if (g.port !== undefined) e.port = g.port;
  if (g.resource !== undefined) e.resource = g.resource;
  if (g['password-command'] !== undefined) e.passwordCommand = g['password-command'];
  if (g['direct-tls']) e.directTls = true;
  if (g.websocket !== undefined) e.websocket = g.websocket;
  if (g.ca !== undefined) e.ca = g.ca;
  if (g.pin !== undefined) e.pin = g.pin;
  if (g['legacy-auth']) e.legacyAuth = true;
  if (g['allow-plaintext']) e.allowPlaintext = true;
  return e;
}

export async function runAccountAdd(ctx: CommandContext<typeof accountAdd>): Promise<number> {
  const jid = bareAccount(ctx.args.JID, 'account add');
  const config: ConfigFile = await loadConfig(ctx.global.config, ctx.io.env);
  const key = accountKey(config, jid);
  const accounts = { ...config.accounts };
  const replaced = key in accounts;
  delete accounts[key];
  accounts[jid] = entryFrom(ctx.global);
  const next: ConfigFile = { ...config, accounts, default: config.default ?? jid };
  if (config.default !== undefined && config.default.toLowerCase() === key.toLowerCase()) next.default = jid;
  const file = await saveConfig(ctx.global.config, ctx.io.env, next);
  if (ctx.out.json)
    ctx.out.event('result', { command: 'account add', jid, replaced, default: next.default === jid });
  else
    ctx.out.note(
      `confab: ${replaced ? 'updated' : 'saved'} ${jid} in ${file}${next.default === jid ? ' (default)' : ''}`,
    );
  return EXIT.ok;
}

export async function runAccountList(ctx: CommandContext<typeof accountList>): Promise<number> {
  const config = await loadConfig(ctx.global.config, ctx.io.env);
  const entries = Object.entries(config.accounts ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const isDefault = (j: string) => config.default?.toLowerCase() === j.toLowerCase();
  for (const [jid, e] of entries) {
    if (ctx.out.json) {
      ctx.out.event('account', {
        jid,
        default: isDefault(jid),
        host: e.host,
        port: e.port,
        resource: e.resource,
        passwordCommand: e.passwordCommand,
        directTls: e.directTls,
        websocket: e.websocket,
        ca: e.ca,
        pin: e.pin,
        legacyAuth: e.legacyAuth,
        allowPlaintext: e.allowPlaintext,
      });
      continue;
    }
    const parts = [isDefault(jid) ? `${ctx.out.style.bold(remote(jid))} (default)` : remote(jid)];
    if (e.host !== undefined || e.port !== undefined) parts.push(`${remote(e.host ?? '')}:${e.port ?? ''}`);
    if (e.websocket) parts.push(remote(e.websocket));
    if (e.resource) parts.push(`resource ${remote(e.resource)}`);
    if (e.directTls) parts.push('direct TLS');
    if (e.legacyAuth) parts.push('legacy auth');
    if (e.allowPlaintext) parts.push('plaintext allowed');
    if (e.passwordCommand) parts.push(`password from: ${remote(e.passwordCommand)}`);
    ctx.out.line(parts.join('  '));
  }
  if (entries.length === 0 && !ctx.out.json) {
    ctx.out.note(`confab: no accounts in ${configPath(ctx.global.config, ctx.io.env)}`);
  }
  return EXIT.ok;
}

export async function runAccountRemove(ctx: CommandContext<typeof accountRemove>): Promise<number> {
  const jid = bareAccount(ctx.args.JID, 'account remove');
  const config = await loadConfig(ctx.global.config, ctx.io.env);
  const key = accountKey(config, jid);
  if (!config.accounts || !(key in config.accounts)) {
    throw new CliError(EXIT.failure, `${jid} is not in ${configPath(ctx.global.config, ctx.io.env)}`);
  }
  const accounts = { ...config.accounts };
  delete accounts[key];
  const next: ConfigFile = { ...config, accounts };
  if (config.default?.toLowerCase() === key.toLowerCase()) delete next.default;
  await saveConfig(ctx.global.config, ctx.io.env, next);
  if (ctx.out.json) ctx.out.event('result', { command: 'account remove', jid: key });
  return EXIT.ok;
}

export async function runAccountDefault(ctx: CommandContext<typeof accountDefault>): Promise<number> {
  const config = await loadConfig(ctx.global.config, ctx.io.env);
  const given = ctx.args.JID;
  if (given === undefined) {
    if (config.default === undefined) throw new CliError(EXIT.failure, 'no default account');
    if (ctx.out.json) ctx.out.event('result', { command: 'account default', jid: config.default });
    else ctx.out.line(remote(config.default));
    return EXIT.ok;
  }
  const jid = bareAccount(given, 'account default');
  const key = accountKey(config, jid);
  if (!config.accounts || !(key in config.accounts)) {
    throw new CliError(
      EXIT.failure,
      `${jid} is not in ${configPath(ctx.global.config, ctx.io.env)}: add it first (confab account add ${jid})`,
    );
  }
  await saveConfig(ctx.global.config, ctx.io.env, { ...config, default: key });
  if (ctx.out.json) ctx.out.event('result', { command: 'account default', jid: key });
  return EXIT.ok;
}
