import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfabError } from './errors.ts';
import { Emitter, featureEmitter } from './events.ts';

test('typed emitter: order, teardown, once, listener errors contained', () => {
  const errors: unknown[] = [];
  const e = new Emitter<{ n: number; s: string }>((err) => errors.push(err));
  const seen: string[] = [];
  const off = e.on('n', (n) => seen.push(`a${n}`));
  e.once('n', (n) => seen.push(`once${n}`));
  e.on('n', () => {
    throw new Error('boom');
  });
  e.on('n', (n) => seen.push(`b${n}`));
  e.emit('n', 1);
  off();
  e.emit('n', 2);
  assert.deepEqual(seen, ['a1', 'once1', 'b1', 'b2']);
  assert.equal(errors.length, 2, 'each throw reported, later listeners still ran');
  assert.equal(e.listenerCount('n'), 2);
  e.emit('s', 'nobody listens');
  e.clear();
  assert.equal(e.listenerCount('n'), 0);
});

test('a listener removed during emit is not called by a later emit, added ones wait for the next', () => {
  const e = new Emitter<{ x: undefined }>();
  const calls: string[] = [];
  let offB = () => {};
  e.on('x', () => {
    calls.push('a');
    offB();
    e.on('x', () => calls.push('late'));
  });
  offB = e.on('x', () => calls.push('b'));
  e.emit('x', undefined);
  assert.deepEqual(calls, ['a', 'b'], 'snapshot: b still runs in this emit, late does not');
  calls.length = 0;
  e.emit('x', undefined);
  assert.deepEqual(calls.slice(0, 1), ['a']);
  assert.ok(!calls.includes('b'));
  assert.ok(calls.includes('late'));
});

test('featureEmitter: a throwing listener becomes ERR_HANDLER naming the feature and event; ConfabErrors pass as they are', () => {
  const errors: ConfabError[] = [];
  const e = featureEmitter<{ added: number }>('roster', (err) => errors.push(err));
  const own = new ConfabError('ERR_BAD_INPUT', 'mine');
  e.on('added', () => {
    throw new Error('boom');
  });
  e.on('added', () => {
    throw own;
  });
  const seen: number[] = [];
  e.on('added', (n) => seen.push(n));
  e.emit('added', 7);
  assert.deepEqual(seen, [7], 'later listeners still run');
  assert.equal(errors.length, 2);
  assert.equal(errors[0]!.code, 'ERR_HANDLER');
  assert.equal(errors[0]!.message, "A roster 'added' listener threw: boom");
  assert.equal((errors[0]!.cause as Error).message, 'boom');
  assert.equal(errors[1], own);
});
