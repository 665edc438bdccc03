/**
 * Where the CLI keeps its data: the XDG Base Directory Specification 0.8 data dir,
 * `$XDG_DATA_HOME/confab` (a relative `XDG_DATA_HOME` is invalid per the spec and ignored),
 * else `$HOME/.local/share/confab`. The environment comes in as a value (tests pass a temp dir).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The confab data directory for this environment. */
export function dataDirOf(env: Readonly<Record<string, string | undefined>>): string {
  const base = env.XDG_DATA_HOME?.startsWith('/') ? env.XDG_DATA_HOME : undefined;
  return join(base ?? join(env.HOME || homedir(), '.local', 'share'), 'confab');
}

/** The database file inside a data directory. */
export function databasePath(dataDir: string): string {
  return join(dataDir, 'confab.db');
}
