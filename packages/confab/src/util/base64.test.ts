import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfabError } from '../errors.ts';
import { fromBase64, fromUtf8, toBase64, utf8 } from './base64.ts';

test('base64 round trips RFC 4648 test vectors', () => {
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'Zg=='],
    ['fo', 'Zm8='],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='],
    ['fooba', 'Zm9vYmE='],
    ['foobar', 'Zm9vYmFy'],
  ];
  for (const [plain, enc] of vectors) {
    assert.equal(toBase64(utf8(plain)), enc);
    assert.equal(fromUtf8(fromBase64(enc)), plain);
  }
});

test('base64 handles all byte values and large inputs', () => {
  const bytes = new Uint8Array(100_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff;
  assert.deepEqual(fromBase64(toBase64(bytes)), bytes);
});

test('fromBase64 rejects non-canonical input', () => {
  for (const bad of ['Zg', 'Zg=', 'Zm9v\n', 'Z m9v', 'Zm9v!', '====']) {
    assert.throws(
      () => fromBase64(bad),
      (e: unknown) => e instanceof ConfabError && e.code === 'ERR_BAD_INPUT',
    );
  }
});

test('fromUtf8 rejects invalid UTF-8', () => {
  assert.throws(() => fromUtf8(new Uint8Array([0xc3, 0x28])), /Invalid UTF-8/);
});
