import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, saveConfig } from '../account.ts';
import { UsageError } from '../args.ts';
import { parseFields } from './accounts.ts';

describe('register --field', () => {
  it('NAME=VALUE by name; a name given twice keeps both values; the value may hold =', () => {
    assert.deepEqual(
      [...parseFields(['email=a@b.c', 'x-tags=one', 'x-tags=two', 'misc=a=b'])],
      [
        ['email', ['a@b.c']],
        ['x-tags', ['one', 'two']],
        ['misc', ['a=b']],
      ],
    );
    assert.throws(() => parseFields(['email']), UsageError);
    assert.throws(() => parseFields(['=x']), UsageError);
  });
});

describe('config writing', () => {
  it('creates the directory 0700 and the file 0600, keeps other keys, reads back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'confab-cfg-'));
    const env = { XDG_CONFIG_HOME: dir };
    const file = await saveConfig(undefined, env, {
      default: 'a@b.c',
      accounts: { 'a@b.c': { port: 5222 } },
    });
    assert.equal(file, join(dir, 'confab', 'config.json'));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'confab')).mode & 0o777, 0o700);
    const read = await loadConfig(undefined, env);
    assert.deepEqual(read, { default: 'a@b.c', accounts: { 'a@b.c': { port: 5222 } } });
    await saveConfig(undefined, env, { ...read, default: undefined });
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { accounts: { 'a@b.c': { port: 5222 } } });
  });
});
