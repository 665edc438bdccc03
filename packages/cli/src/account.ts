/**
 * Which account a command logs in as and how it connects: the global options, then the
 * environment (CONFAB_JID, CONFAB_PASSWORD), then the config file's account entry (issue 7,
 * "Account and connection options"; storage under the XDG config dir, XDG Base Directory spec 0.8).
 *
 * The password never comes from a flag (it would sit in shell history and `ps`): from
 * `--password-command CMD` (first line of its stdout, like profanity's eval_password), else
 * CONFAB_PASSWORD, else a prompt that does not echo when stdin is a terminal, else a usage error.
 * The config holds a password command, never a password.
 *
 * `confab account add|remove|default` write the config (`saveConfig`): the directory mode 0700,
 * the file mode 0600, replaced atomically (written beside it, then renamed), other keys kept.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from './args.ts';
import { CliError, EXIT } from './exit.ts';
import type { GlobalValues } from './globals.ts';
import type { Io } from './output.ts';

/** One account entry in the config file (JSON). Never a password. */
export interface AccountConfig {
  host?: string;
  port?: number;
  resource?: string;
  passwordCommand?: string;
  directTls?: boolean;
  websocket?: string;
  ca?: string;
  pin?: string;
  legacyAuth?: boolean;
  allowPlaintext?: boolean;
}

/** The config file: `{ "default": JID, "accounts": { JID: AccountConfig } }`. */
export interface ConfigFile {
  default?: string;
  accounts?: Record<string, AccountConfig>;
}

/** Where the config lives when `--config` is not given. */
export function defaultConfigPath(env: Io['env']): string {
  const base = env.XDG_CONFIG_HOME?.startsWith('/') ? env.XDG_CONFIG_HOME : undefined;
  return join(base ?? join(env.HOME ?? homedir(), '.config'), 'confab', 'config.json');
}

/**
 * Reads the config. A missing default file is an empty config; a missing `--config FILE` or a
 * file that is not valid JSON is a usage error.
 */
export async function loadConfig(path: string | undefined, env: Io['env']): Promise<ConfigFile> {
  const file = path ?? defaultConfigPath(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && path === undefined) return {};
    throw new UsageError(`cannot read the config ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the config ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`the config ${file} must hold a JSON object`);
  }
  return data as ConfigFile;
}

/** The config file in use: `--config FILE`, else the default path. */
export function configPath(path: string | undefined, env: Io['env']): string {
  return path ?? defaultConfigPath(env);
}

/**
 * Writes the config as JSON: the directory created mode 0700 when missing, the file mode 0600
 * (it names accounts and password commands), replaced atomically so a crash never leaves half a
 * file. Returns the path written.
 */
export async function saveConfig(
  path: string | undefined,
  env: Io['env'],
  config: ConfigFile,
): Promise<string> {
  const file = configPath(path, env);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  // writeFile's mode is filtered by the umask; make sure.
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return file;
}

/** The config's key for `jid` (an existing entry matched case-insensitively), else `jid` itself. */
export function accountKey(config: ConfigFile, jid: string): string {
  return Object.keys(config.accounts ?? {}).find((k) => k.toLowerCase() === jid.toLowerCase()) ?? jid;
}

/** Everything needed to log in, resolved from options, environment and config. */
export interface ResolvedAccount {
  jid: string;
  /** The resource to bind. */
  resource: string;
  /** Whether the resource was chosen by the user (flag, JID or config) rather than generated. */
  resourceChosen: boolean;
  host: string | undefined;
  port: number | undefined;
  directTls: boolean;
  websocket: string | undefined;
  ca: string | undefined;
  pin: string | undefined;
  legacyAuth: boolean;
  allowPlaintext: boolean;
  passwordCommand: string | undefined;
}

/** `confab-` and eight random lower-case letters and digits: a fresh resource per one-shot command. */
export function randomResource(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(8);
  let s = 'confab-';
  // 256 % 36 != 0, so the first letters are a little likelier; irrelevant for a resource name.
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

/** Resolves the account from the global options, the environment and the config. */
export async function resolveAccount(global: GlobalValues, env: Io['env']): Promise<ResolvedAccount> {
  const config = await loadConfig(global.config, env);
  const given = global.jid ?? (env.CONFAB_JID || undefined) ?? config.default;
  if (!given) {
    throw new UsageError(
      'no account: give --jid JID, set CONFAB_JID, or set a default account in the config',
    );
  }
  const slash = given.indexOf('/');
  const jid = slash === -1 ? given : given.slice(0, slash);
  const jidResource = slash === -1 ? undefined : given.slice(slash + 1);
  const at = jid.indexOf('@');
  if (at <= 0 || at === jid.length - 1)
    throw new UsageError(`the account must be user@domain, not '${given}'`);
  const entry: AccountConfig =
    config.accounts?.[jid] ??
    Object.entries(config.accounts ?? {}).find(([k]) => k.toLowerCase() === jid.toLowerCase())?.[1] ??
    {};
  const chosen = global.resource ?? (jidResource || undefined) ?? entry.resource;
  return {
    jid,
    resource: chosen ?? randomResource(),
    resourceChosen: chosen !== undefined,
    host: global.host ?? entry.host,
    port: global.port ?? entry.port,
    directTls: global['direct-tls'] || entry.directTls === true,
    websocket: global.websocket ?? entry.websocket,
    ca: global.ca ?? entry.ca,
    pin: global.pin ?? entry.pin,
    legacyAuth: global['legacy-auth'] || entry.legacyAuth === true,
    allowPlaintext: global['allow-plaintext'] || entry.allowPlaintext === true,
    passwordCommand: global['password-command'] ?? entry.passwordCommand,
  };
}

/** Runs a password command in a shell and returns the first line of its output. */
export function runPasswordCommand(cmd: string, io: Io, option = '--password-command'): Promise<string> {
  return new Promise((resolve, reject) => {
    // The command may ask for a passphrase on the terminal (pass, gpg): give it our stdin only when
    // that is a terminal, so it never eats the message text piped to `confab send`.
    const child = spawn('/bin/sh', ['-c', cmd], {
      stdio: [io.stdin.isTTY ? 'inherit' : 'ignore', 'pipe', 'inherit'],
      env: io.env as NodeJS.ProcessEnv,
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (err) => reject(new UsageError(`${option} failed to start: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const why = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        reject(new UsageError(`the password command ${why}`));
        return;
      }
      const first = Buffer.concat(chunks).toString('utf8').split(/\r?\n/, 1)[0] ?? '';
      if (first === '') reject(new UsageError('the password command printed no password'));
      else resolve(first);
    });
  });
}

/** Asks for the password on the terminal without echoing it. */
export function promptPassword(prompt: string, io: Io): Promise<string> {
  const stdin = io.stdin;
  return new Promise((resolve, reject) => {
    io.stderr.write(prompt);
    let value = '';
    stdin.setRawMode?.(true);
    stdin.resume();
    const finish = (err?: Error) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new CliError(EXIT.failure, 'cancelled'));
        if (ch === '\u0004') {
          if (value === '') return finish(new UsageError('no password given'));
          return finish();
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch === '\u0015')
          value = ''; // ^U: kill the line
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The password, from the first source that has one. */
export async function resolvePassword(account: ResolvedAccount, io: Io): Promise<string> {
  if (account.passwordCommand !== undefined) return runPasswordCommand(account.passwordCommand, io);
  const fromEnv = io.env.CONFAB_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (io.stdin.isTTY) {
    const pw = await promptPassword(`Password for ${account.jid}: `, io);
    if (pw === '') throw new UsageError('no password given');
    return pw;
  }
  throw new UsageError(
    'no password: use --password-command CMD or set CONFAB_PASSWORD (stdin is not a terminal, so no prompt)',
  );
}

/** Where a new password comes from (`confab register`, `confab passwd`). */
export interface NewPasswordSources {
  /** The command whose first output line is the password, and the option that gave it. */
  command: string | undefined;
  commandOption: string;
  /** The environment variable to read. */
  envName: string;
  /** For the prompt: whose password it is. */
  jid: string;
}

/**
 * A new password, from the first source that has one: the command, the environment variable,
 * else asked twice without echo on a terminal (the two must match), else a usage error.
 */
export async function resolveNewPassword(s: NewPasswordSources, io: Io): Promise<string> {
  if (s.command !== undefined) return runPasswordCommand(s.command, io, s.commandOption);
  const fromEnv = io.env[s.envName];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (io.stdin.isTTY) {
    const pw = await promptPassword(`New password for ${s.jid}: `, io);
    if (pw === '') throw new UsageError('no password given');
    const again = await promptPassword('The same again: ', io);
    if (again !== pw) throw new UsageError('the two passwords differ');
    return pw;
  }
  throw new UsageError(
    `no new password: use ${s.commandOption} CMD or set ${s.envName} (stdin is not a terminal, so no prompt)`,
  );
}
