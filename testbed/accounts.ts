// Fresh accounts in milliseconds, so tests run in any order and in parallel without sharing state.
// - Prosody (internal_plain storage): write `<data>/<host>/accounts/<user>.dat` directly; Prosody's
//   file storage reads it on each login (no cache), so a running server sees it at once.
// - ejabberd: mod_http_api `register` on the HTTP listener, allowed for 127.0.0.1 only.
// Names are lowercase letters and digits only (no escaping in Prosody's file names, valid nodeprep)
// and carry the process id, so parallel test processes never collide.

import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Account, ServerInfo } from './types.ts';

let counter = 0;

/** A username unique across processes: prefix, pid, counter, random. */
export function uniqueUsername(prefix = 'u'): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9]/g, '') || 'u';
  const rand = randomBytes(3).toString('hex');
  return `${clean}${process.pid.toString(36)}x${(counter++).toString(36)}${rand}`;
}

/** A random password of letters and digits. */
export function randomPassword(): string {
  return randomBytes(12).toString('base64url').replace(/[-_]/g, 'x');
}

/** Prosody's datamanager path encoding (util/datamanager.lua: every %W byte as %xx). */
function prosodyEncode(s: string): string {
  return s.replace(/[^A-Za-z0-9]/g, (c) =>
    [...Buffer.from(c)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
  );
}

function luaString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
}

/** Writes a Prosody internal_plain account file (atomically: write, then rename). */
export async function createProsodyAccount(
  dataDir: string,
  domain: string,
  username: string,
  password: string,
): Promise<void> {
  const dir = join(dataDir, prosodyEncode(domain), 'accounts');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${prosodyEncode(username)}.dat`);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `return {\n\t["password"] = ${luaString(password)};\n};\n`);
  await rename(tmp, file);
}

/**
 * POSTs JSON to ejabberd's mod_http_api on a fresh connection each time (no keep-alive pool: a
 * pooled socket to a server that was killed and restarted on the same port would be reset).
 */
export function ejabberdApi(
  apiUrl: string,
  command: string,
  body: unknown,
): Promise<{ status: number; text: string }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${apiUrl}/${command}`,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`ejabberd API ${command}: timeout`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Registers an account through ejabberd's mod_http_api. */
export async function createEjabberdAccount(
  apiUrl: string,
  domain: string,
  username: string,
  password: string,
): Promise<void> {
  const res = await ejabberdApi(apiUrl, 'register', { user: username, host: domain, password });
  if (res.status !== 200) throw new Error(`ejabberd register ${username}: HTTP ${res.status} ${res.text}`);
}

/** Creates a fresh account on any test-bed server described by `info`. */
export async function freshAccount(info: ServerInfo, prefix?: string): Promise<Account> {
  const username = uniqueUsername(prefix);
  const password = randomPassword();
  if (info.accounts.kind === 'prosody-files') {
    await createProsodyAccount(info.accounts.dataDir, info.domain, username, password);
  } else {
    await createEjabberdAccount(info.accounts.url, info.domain, username, password);
  }
  return { jid: `${username}@${info.domain}`, username, password, domain: info.domain };
}
