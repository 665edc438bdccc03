// End-to-end tests of the account commands (issue 7, "Accounts"): the real bin against the shared
// Prosody (full and minimal) and ejabberd. register (XEP-0077 before login: password from
// CONFAB_PASSWORD or --password-command, fields from --field, a missing required field exits 2
// naming it, a taken username exits 1), passwd (CONFAB_NEW_PASSWORD, --new-password-command; the old
// password fails afterwards), unregister (no terminal: proceeds; login fails afterwards), and
// account add|list|default|remove on a config under a temporary XDG_CONFIG_HOME (mode 0600, no
// password in it, used by a later command).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  ejabberd,
  freshAccount,
  prosody,
  prosodyMinimal,
  type ServerInfo,
} from '../../../../testbed/harness.ts';
import { build, jsonLines, start, via } from './helpers.ts';

before(build);

/** `confab ARGS` against `s` with exactly this environment (no account unless given). */
function run(s: ServerInfo, args: string[], env: Record<string, string> = {}) {
  return start([...args, ...via(s)], env).done;
}

const fresh = (s: ServerInfo, prefix: string) => `${prefix}${randomBytes(5).toString('hex')}@${s.domain}`;

/** Whether `jid` can log in with `password` (a one-shot command that connects). */
async function loginCode(s: ServerInfo, jid: string, password: string): Promise<number | null> {
  const r = await run(s, ['roster'], { CONFAB_JID: jid, CONFAB_PASSWORD: password });
  return r.code;
}

for (const server of [
  { name: 'Prosody', info: prosody, fields: [] as string[] },
  { name: 'ejabberd', info: ejabberd, fields: [] as string[] },
  // The minimal Prosody's form asks for a required email too (testbed/prosody.ts).
  { name: 'minimal Prosody', info: prosodyMinimal, fields: ['--field', 'email=cli@example.net'] },
]) {
  describe(`confab register, passwd, unregister on ${server.name}`, () => {
    it('register (CONFAB_PASSWORD), log in, taken again, passwd twice, unregister, login fails', async () => {
      const s = server.info();
      const jid = fresh(s, 'clireg');
      const reg = await run(s, ['register', jid, ...server.fields, '--json'], {
        CONFAB_PASSWORD: 'one-Secret-1',
      });
      assert.equal(reg.code, 0, reg.stderr);
      assert.deepEqual(jsonLines(reg.stdout), [{ event: 'result', command: 'register', jid }]);
      assert.equal(await loginCode(s, jid, 'one-Secret-1'), 0);

      const again = await run(s, ['register', jid, ...server.fields], { CONFAB_PASSWORD: 'other-Secret-0' });
      assert.equal(again.code, 1, again.stderr);
      assert.match(again.stderr, /taken/);
      assert.equal(await loginCode(s, jid, 'one-Secret-1'), 0, 'the account is untouched');

      const pw = await run(s, ['passwd', '--json'], {
        CONFAB_JID: jid,
        CONFAB_PASSWORD: 'one-Secret-1',
        CONFAB_NEW_PASSWORD: 'two-Secret-2',
      });
      assert.equal(pw.code, 0, pw.stderr);
      assert.deepEqual(jsonLines(pw.stdout), [{ event: 'result', command: 'passwd', jid }]);
      assert.equal(await loginCode(s, jid, 'one-Secret-1'), 4, 'the old password fails');
      assert.equal(await loginCode(s, jid, 'two-Secret-2'), 0);

      const pw2 = await run(s, ['passwd', '--new-password-command', 'echo three-Secret-3; echo ignored'], {
        CONFAB_JID: jid,
        CONFAB_PASSWORD: 'two-Secret-2',
      });
      assert.equal(pw2.code, 0, pw2.stderr);
      assert.equal(await loginCode(s, jid, 'three-Secret-3'), 0);

      // stdin is not a terminal: no question, it proceeds.
      const un = await run(s, ['unregister', '--json'], {
        CONFAB_JID: jid,
        CONFAB_PASSWORD: 'three-Secret-3',
      });
      assert.equal(un.code, 0, un.stderr);
      assert.deepEqual(jsonLines(un.stdout), [{ event: 'result', command: 'unregister', jid }]);
      assert.equal(await loginCode(s, jid, 'three-Secret-3'), 4, 'the account is gone');
    });

    it('register takes the password from --password-command; an existing account exits 1', async () => {
      const s = server.info();
      const jid = fresh(s, 'clipwc');
      const reg = await run(s, [
        'register',
        jid,
        ...server.fields,
        '--password-command',
        'printf "cmd-Secret-5\\n"',
      ]);
      assert.equal(reg.code, 0, reg.stderr);
      assert.match(reg.stderr, new RegExp(`registered ${jid}`));
      assert.equal(await loginCode(s, jid, 'cmd-Secret-5'), 0);
      const existing = await freshAccount(s, 'clitaken');
      const taken = await run(s, ['register', existing.jid, ...server.fields], {
        CONFAB_PASSWORD: 'x-Secret-6',
      });
      assert.equal(taken.code, 1);
      assert.match(taken.stderr, new RegExp(`${existing.jid} is taken`));
    });
  });
}

describe('confab register: usage', () => {
  it('a required field missing with no terminal exits 2 naming it; an unknown --field exits 2', async () => {
    const s = prosodyMinimal();
    const jid = fresh(s, 'clifield');
    const r = await run(s, ['register', jid], { CONFAB_PASSWORD: 'f-Secret-7' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /email/);
    assert.match(r.stderr, /--field email=/);
    const unknown = await run(s, ['register', jid, '--field', 'email=a@b.c', '--field', 'shoe=42'], {
      CONFAB_PASSWORD: 'f-Secret-7',
    });
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /shoe/);
    const pwField = await run(s, ['register', jid, '--field', 'password=x'], {
      CONFAB_PASSWORD: 'f-Secret-7',
    });
    assert.equal(pwField.code, 2);
    assert.match(pwField.stderr, /never comes from a --field/);
    const noPw = await run(s, ['register', jid, '--field', 'email=a@b.c']);
    assert.equal(noPw.code, 2);
    assert.match(noPw.stderr, /CONFAB_PASSWORD/);
    // Nothing of that created the account.
    assert.equal(await loginCode(s, jid, 'f-Secret-7'), 4);
  });

  it('passwd without a new password and no terminal exits 2 naming the sources', async () => {
    const s = prosody();
    const a = await freshAccount(s, 'clinopw');
    const r = await run(s, ['passwd'], { CONFAB_JID: a.jid, CONFAB_PASSWORD: a.password });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--new-password-command CMD or set CONFAB_NEW_PASSWORD/);
    assert.equal(await loginCode(s, a.jid, a.password), 0);
  });
});

describe('confab account add|list|default|remove', () => {
  it('saves accounts mode 0600 without passwords, lists them, uses the default, removes them', async () => {
    const s = prosody();
    const a = await freshAccount(s, 'cliacct');
    const b = await freshAccount(s, 'cliacct');
    const xdg = mkdtempSync(join(tmpdir(), 'confab-xdg-'));
    const env = { XDG_CONFIG_HOME: xdg };
    const file = join(xdg, 'confab', 'config.json');

    const addA = await start(
      [
        'account',
        'add',
        a.jid,
        ...via(s),
        '--resource',
        'desk',
        '--password-command',
        `echo ${a.password}`,
        '--json',
      ],
      env,
    ).done;
    assert.equal(addA.code, 0, addA.stderr);
    assert.deepEqual(jsonLines(addA.stdout), [
      { event: 'result', command: 'account add', jid: a.jid, replaced: false, default: true },
    ]);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(xdg, 'confab')).mode & 0o777, 0o700);
    const addB = await start(['account', 'add', b.jid, ...via(s)], env).done;
    assert.equal(addB.code, 0, addB.stderr);

    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(b.password), 'no password in the config');
    const saved = JSON.parse(text) as { default: string; accounts: Record<string, Record<string, unknown>> };
    assert.equal(saved.default, a.jid);
    assert.deepEqual(saved.accounts[a.jid], {
      host: s.host,
      port: s.ports.c2s,
      resource: 'desk',
      passwordCommand: `echo ${a.password}`,
      ca: s.caFile,
    });

    const list = await start(['account', 'list', '--json'], env).done;
    assert.equal(list.code, 0, list.stderr);
    const rows = jsonLines(list.stdout);
    assert.deepEqual(
      rows.map((r) => [r.jid, r.default]).sort(),
      [
        [a.jid, true],
        [b.jid, false],
      ].sort(),
    );
    const plain = await start(['account', 'list'], env).done;
    assert.match(plain.stdout, new RegExp(`${a.jid} \\(default\\).*resource desk`));

    // The default account, its host, CA and password command come from the config.
    const roster = await start(['roster', '--json'], env).done;
    assert.equal(roster.code, 0, roster.stderr);

    const setDefault = await start(['account', 'default', b.jid], env).done;
    assert.equal(setDefault.code, 0, setDefault.stderr);
    const show = await start(['account', 'default'], env).done;
    assert.equal(show.stdout.trim(), b.jid);
    const missing = await start(['account', 'default', 'nobody@localhost'], env).done;
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not in/);

    const rm = await start(['account', 'remove', b.jid], env).done;
    assert.equal(rm.code, 0, rm.stderr);
    const after = JSON.parse(readFileSync(file, 'utf8')) as {
      default?: string;
      accounts: Record<string, unknown>;
    };
    assert.equal(after.default, undefined, 'the removed default is no default');
    assert.deepEqual(Object.keys(after.accounts), [a.jid]);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = await start(['account', 'remove', b.jid], env).done;
    assert.equal(again.code, 1);
  });
});
