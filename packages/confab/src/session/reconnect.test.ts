import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfabError, StreamError } from '../errors.ts';
import { backoffDelay, DEFAULT_RECONNECT, isFinalError } from './reconnect.ts';

test('backoff: exponential, capped, equal jitter in [d/2, d]', () => {
  const o = { ...DEFAULT_RECONNECT, initialDelay: 1000, maxDelay: 8000, factor: 2 };
  assert.equal(
    backoffDelay(1, o, () => 0),
    500,
  );
  assert.equal(
    backoffDelay(1, o, () => 0.999999),
    1000,
  );
  assert.equal(
    backoffDelay(3, o, () => 0),
    2000,
  );
  assert.equal(
    backoffDelay(4, o, () => 1),
    8000,
  );
  assert.equal(
    backoffDelay(10, o, () => 1),
    8000,
    'capped',
  );
  assert.equal(
    backoffDelay(10, o, () => 0),
    4000,
    'jitter applies under the cap too',
  );
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(2, o);
    assert.ok(d >= 1000 && d <= 2000);
  }
});

test('final errors: auth, TLS policy, conflict; transient: socket, timeout, system-shutdown', () => {
  for (const e of [
    new ConfabError('ERR_AUTH', 'x', { condition: 'not-authorized' }),
    new ConfabError('ERR_TLS_CERT', 'x'),
    new ConfabError('ERR_TLS_REQUIRED', 'x'),
    new ConfabError('ERR_PLAINTEXT_REFUSED', 'x'),
    new StreamError('x', { condition: 'conflict' }),
    new StreamError('x', { condition: 'host-unknown' }),
    new StreamError('x', { condition: 'policy-violation' }),
  ]) {
    assert.equal(isFinalError(e), true, `${e.code} ${e.condition ?? ''}`);
  }
  for (const e of [
    undefined,
    new ConfabError('ERR_SOCKET_CLOSED', 'x'),
    new ConfabError('ERR_TIMEOUT', 'x'),
    new ConfabError('ERR_CONNECT', 'x'),
    new StreamError('x', { condition: 'system-shutdown' }),
    new StreamError('x', { condition: 'connection-timeout' }),
  ]) {
    assert.equal(isFinalError(e), false, `${e?.code} ${e?.condition ?? ''}`);
  }
});
