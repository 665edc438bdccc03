// The Store contract, checked on the in-memory store (a SQLite or IndexedDB store should pass the same).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAccountFacts, saveAccountFacts } from './account.ts';
import { MemoryStore } from './memory.ts';
import { scopeStore } from './scope.ts';
import type { Store } from './types.ts';

describe('MemoryStore', () => {
  it('keeps key/values per namespace, entries sorted by key', async () => {
    const s: Store = new MemoryStore();
    assert.equal(s.durable, true);
    assert.equal(await s.get('ns', 'k'), undefined);
    await s.apply([
      { op: 'set', ns: 'ns', key: 'b', value: { n: 1 } },
      { op: 'set', ns: 'ns', key: 'a', value: [1, 'x', null, true] },
      { op: 'set', ns: 'other', key: 'a', value: 'o' },
    ]);
    assert.deepEqual(await s.get('ns', 'b'), { n: 1 });
    assert.deepEqual(await s.entries('ns'), [
      ['a', [1, 'x', null, true]],
      ['b', { n: 1 }],
    ]);
    await s.apply([{ op: 'delete', ns: 'ns', key: 'a' }]);
    assert.deepEqual(await s.entries('ns'), [['b', { n: 1 }]]);
    await s.apply([{ op: 'drop', ns: 'ns' }]);
    assert.deepEqual(await s.entries('ns'), []);
    assert.equal(await s.get('other', 'a'), 'o');
  });

  it('lists keep insertion order; push on an existing key replaces in place', async () => {
    const s = new MemoryStore();
    await s.apply([
      { op: 'push', list: 'q', key: '1', value: 'one' },
      { op: 'push', list: 'q', key: '2', value: 'two' },
      { op: 'push', list: 'q', key: '3', value: 'three' },
      { op: 'push', list: 'q', key: '1', value: 'ONE' },
      { op: 'remove', list: 'q', key: '2' },
    ]);
    assert.deepEqual(await s.list('q'), [
      { key: '1', value: 'ONE' },
      { key: '3', value: 'three' },
    ]);
    await s.apply([{ op: 'clear', list: 'q' }]);
    assert.deepEqual(await s.list('q'), []);
  });

  it('returns copies: mutating what was written or read changes nothing', async () => {
    const s = new MemoryStore();
    const v = { a: [1] };
    await s.apply([{ op: 'set', ns: 'n', key: 'k', value: v }]);
    v.a.push(2);
    const read = (await s.get('n', 'k')) as { a: number[] };
    assert.deepEqual(read, { a: [1] });
    read.a.push(3);
    assert.deepEqual(await s.get('n', 'k'), { a: [1] });
  });

  it('a batch with a non-JSON value fails as a whole', async () => {
    const s = new MemoryStore();
    await assert.rejects(
      s.apply([
        { op: 'set', ns: 'n', key: 'ok', value: 1 },
        { op: 'set', ns: 'n', key: 'bad', value: undefined as never },
      ]),
      TypeError,
    );
    assert.equal(await s.get('n', 'ok'), undefined);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(s.apply([{ op: 'push', list: 'l', key: 'k', value: cyclic as never }]));
    assert.deepEqual(await s.list('l'), []);
  });

  it('batches take effect in call order without awaiting', async () => {
    const s = new MemoryStore();
    const a = s.apply([{ op: 'push', list: 'l', key: 'x', value: 1 }]);
    const b = s.apply([{ op: 'remove', list: 'l', key: 'x' }]);
    const c = s.apply([{ op: 'push', list: 'l', key: 'y', value: 2 }]);
    await Promise.all([a, b, c]);
    assert.deepEqual(await s.list('l'), [{ key: 'y', value: 2 }]);
  });

  it('can be marked non-durable', () => {
    assert.equal(new MemoryStore({ durable: false }).durable, false);
  });
});

describe('scopeStore', () => {
  it('keeps accounts apart in one store', async () => {
    const base = new MemoryStore();
    const alice = scopeStore(base, 'alice@example.org');
    const bob = scopeStore(base, 'bob@example.org');
    await alice.apply([
      { op: 'set', ns: 'sm', key: 'state', value: 'A' },
      { op: 'push', list: 'outbox', key: '1', value: 'a1' },
    ]);
    await bob.apply([{ op: 'set', ns: 'sm', key: 'state', value: 'B' }]);
    assert.equal(await alice.get('sm', 'state'), 'A');
    assert.equal(await bob.get('sm', 'state'), 'B');
    assert.deepEqual(await bob.list('outbox'), []);
    assert.deepEqual(await alice.list('outbox'), [{ key: '1', value: 'a1' }]);
    assert.equal(await base.get('sm', 'state'), undefined);
    await bob.apply([{ op: 'clear', list: 'outbox' }]);
    assert.equal((await alice.list('outbox')).length, 1);
  });
});

describe('account facts', () => {
  it('remembers the last SASL mechanism, merging updates', async () => {
    const s = new MemoryStore();
    assert.deepEqual(await loadAccountFacts(s), {});
    await saveAccountFacts(s, { saslMechanism: 'SCRAM-SHA-256', saslMechanismAt: 5 });
    await saveAccountFacts(s, { saslMechanismAt: 6 });
    assert.deepEqual(await loadAccountFacts(s), { saslMechanism: 'SCRAM-SHA-256', saslMechanismAt: 6 });
  });

  it('ignores a malformed record', async () => {
    const s = new MemoryStore();
    await s.apply([{ op: 'set', ns: 'account', key: 'facts', value: [1, 2] }]);
    assert.deepEqual(await loadAccountFacts(s), {});
  });
});
