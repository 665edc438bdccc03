// The Store contract, checked on the in-memory store (a SQLite or IndexedDB store should pass the same).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storeContract } from '../../test/helpers/store-contract.ts';
import { loadAccountFacts, saveAccountFacts } from './account.ts';
import { MemoryStore } from './memory.ts';
import { scopeStore } from './scope.ts';

describe('MemoryStore', () => {
  storeContract(() => new MemoryStore());

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
