import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfabError } from '../../errors.ts';
import { xml } from '../../xml/element.ts';
import { isRetryableAuthFailure, NS_SASL, saslFailureError, scramServerError } from './errors.ts';

const failure = (...children: Parameters<typeof xml>[2][]) => xml('failure', { xmlns: NS_SASL }, ...children);

test('not-authorized reads as wrong username or password', () => {
  const el = failure(xml('not-authorized'));
  const e = saslFailureError(el);
  assert.ok(e instanceof ConfabError);
  assert.equal(e.code, 'ERR_AUTH');
  assert.equal(e.condition, 'not-authorized');
  assert.equal(e.element, el);
  assert.equal(e.message, 'Authentication failed: wrong username or password (not-authorized)');
});

test("the server's text is kept and shown", () => {
  const e = saslFailureError(
    failure(xml('account-disabled'), xml('text', { 'xml:lang': 'en' }, 'Call 212-555-1212 for help')),
  );
  assert.equal(e.condition, 'account-disabled');
  assert.equal(e.text, 'Call 212-555-1212 for help');
  assert.equal(
    e.message,
    'Authentication failed: the account is disabled (account-disabled): the server says "Call 212-555-1212 for help"',
  );
});

test('every RFC 6120 6.5 condition has words', () => {
  for (const c of [
    'aborted',
    'account-disabled',
    'credentials-expired',
    'encryption-required',
    'incorrect-encoding',
    'invalid-authzid',
    'invalid-mechanism',
    'malformed-request',
    'mechanism-too-weak',
    'not-authorized',
    'temporary-auth-failure',
  ]) {
    const e = saslFailureError(failure(xml(c)));
    assert.equal(e.condition, c);
    assert.match(e.message, new RegExp(`^Authentication failed: [a-z].* \\(${c}\\)$`), c);
  }
});

test('unknown and missing conditions', () => {
  assert.equal(saslFailureError(failure(xml('x-custom'))).message, 'Authentication failed (x-custom)');
  const none = saslFailureError(failure());
  assert.equal(none.condition, undefined);
  assert.equal(none.message, 'Authentication failed: the server gave no reason');
  // A text before the condition does not hide it.
  assert.equal(
    saslFailureError(failure(xml('text', {}, 'nope'), xml('not-authorized'))).condition,
    'not-authorized',
  );
});

test('only temporary-auth-failure is retryable', () => {
  assert.equal(isRetryableAuthFailure(saslFailureError(failure(xml('temporary-auth-failure')))), true);
  assert.equal(isRetryableAuthFailure(saslFailureError(failure(xml('not-authorized')))), false);
  assert.equal(isRetryableAuthFailure(new Error('x')), false);
});

test('SCRAM server errors', () => {
  const e = scramServerError('SCRAM-SHA-1', 'channel-bindings-dont-match');
  assert.equal(e.code, 'ERR_AUTH');
  assert.equal(e.condition, 'channel-bindings-dont-match');
  assert.match(e.message, /channel binding mismatch.*\(SCRAM-SHA-1 error channel-bindings-dont-match\)/);
  assert.match(scramServerError('SCRAM-SHA-1', 'x-new').message, /the server reported an error/);
});
