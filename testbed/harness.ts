// Test-side access to the shared test-bed servers: the runner (scripts/test.ts) starts Prosody
// (full), Prosody (minimal) and ejabberd once per run and writes their ServerInfo to a JSON file
// named by the CONFAB_TESTBED environment variable; test processes read it here. Tests get fresh
// accounts (milliseconds each) so they can run in any order and in parallel. Tests that kill or
// restart a server start their own with startProsody/startEjabberd (testbed/index.ts).
//
// Running one integration file by hand without the runner: `npm test -- path/to/file.test.ts`
// (starts the servers for you), or start them with `npm start` style code and set CONFAB_TESTBED.

import { readFileSync } from 'node:fs';
import { freshAccount as accountOn } from './accounts.ts';
import type { Account, ServerInfo } from './types.ts';

export type { Account, ServerInfo } from './types.ts';

/** Names of the shared servers the runner starts. */
export const SHARED = {
  prosody: 'prosody',
  prosodyMinimal: 'prosody-minimal',
  ejabberd: 'ejabberd',
} as const;

let cached: ServerInfo[] | undefined;

/** The shared servers of this run. Throws a clear error when not run under the test runner. */
export function getServers(): ServerInfo[] {
  if (cached) return cached;
  const file = process.env.CONFAB_TESTBED;
  if (!file) {
    throw new Error(
      'CONFAB_TESTBED is not set: integration tests need the shared test-bed servers; run them with `npm test` or `npm test -- <file>`',
    );
  }
  const data = JSON.parse(readFileSync(file, 'utf8')) as { servers: ServerInfo[] };
  cached = data.servers;
  return cached;
}

/** One shared server by name ('prosody', 'prosody-minimal', 'ejabberd'). */
export function getServer(name: string): ServerInfo {
  const s = getServers().find((x) => x.name === name);
  if (!s)
    throw new Error(
      `no shared test-bed server named ${name} (have: ${getServers()
        .map((x) => x.name)
        .join(', ')})`,
    );
  return s;
}

/** The full-profile Prosody. */
export const prosody = (): ServerInfo => getServer(SHARED.prosody);
/** The minimal-profile Prosody (no SM, carbons, MAM, MUC, upload; SCRAM-SHA-1 and PLAIN only). */
export const prosodyMinimal = (): ServerInfo => getServer(SHARED.prosodyMinimal);
/** ejabberd. */
export const ejabberd = (): ServerInfo => getServer(SHARED.ejabberd);

/** A fresh account on `server` (a ServerInfo or a shared server's name). */
export function freshAccount(server: ServerInfo | string, prefix?: string): Promise<Account> {
  return accountOn(typeof server === 'string' ? getServer(server) : server, prefix);
}

/** The test CA's PEM text for `server` (pass as `ca` to node:tls). */
export function caOf(server: ServerInfo): string {
  return readFileSync(server.caFile, 'utf8');
}
