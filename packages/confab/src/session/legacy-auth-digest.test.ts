import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { legacyAuthDigest } from './legacy-auth-digest.ts';

test('XEP-0078 example: stream id 3EE948B0, password Calli0pe', async () => {
  assert.equal(await legacyAuthDigest('3EE948B0', 'Calli0pe'), '48fc78be9ec8f86d8ce1c39c320c97c21d62334d');
});

test('non-ASCII passwords are hashed as UTF-8, XML characters unescaped', async () => {
  for (const pw of ['pässwörd', '<&>"\'', '😀']) {
    const want = createHash('sha1').update(`abc${pw}`, 'utf8').digest('hex');
    assert.equal(await legacyAuthDigest('abc', pw), want);
  }
});
