/**
 * What `confab chat` remembers per account in the config file: the resource name it asked for
 * once, and a certificate pin the user trusted. Read, changed and written back whole through
 * account.ts (`loadConfig`, `accountKey`, `saveConfig`: mode 0600, temporary file and rename),
 * keeping every other field as it was.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type AccountConfig, accountKey, loadConfig, saveConfig } from '../account.ts';
import type { Io } from '../output.ts';

/** Sets `patch`'s fields on the config entry of `jid` (creating the file or entry when missing). */
export async function updateAccountConfig(
  path: string | undefined,
  env: Io['env'],
  jid: string,
  patch: Partial<AccountConfig>,
): Promise<string> {
  const config = await loadConfig(path, env);
  const key = accountKey(config, jid);
  const accounts = { ...(config.accounts ?? {}) };
  accounts[key] = { ...(accounts[key] ?? {}), ...patch };
  return saveConfig(path, env, { ...config, accounts });
}

/**
 * Where `/accept` puts offered files: `$XDG_DOWNLOAD_DIR` (the xdg-user-dirs name; an absolute
 * path, as for the other XDG variables), else `~/Downloads`.
 */
export function downloadDirOf(env: Io['env']): string {
  const dir = env.XDG_DOWNLOAD_DIR;
  if (dir?.startsWith('/')) return dir;
  return join(env.HOME || homedir(), 'Downloads');
}
