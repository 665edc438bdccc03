// The Store contract (packages/confab/src/store/types.ts) as test cases, run against every
// implementation: the in-memory store (src/store/memory.test.ts) and the CLI's SQLite store
// (packages/cli/src/store/store.test.ts). Call inside a `describe`.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Store } from '../../src/store/types.ts';

export function storeContract(fresh: () => Store): void {
  it('keeps key/values per namespace, entries sorted by key', async () => {
    const s = fresh();
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
    const s = fresh();
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
    const s = fresh();
    const v = { a: [1] };
    await s.apply([{ op: 'set', ns: 'n', key: 'k', value: v }]);
    v.a.push(2);
    const read = (await s.get('n', 'k')) as { a: number[] };
    assert.deepEqual(read, { a: [1] });
    read.a.push(3);
    assert.deepEqual(await s.get('n', 'k'), { a: [1] });
  });

  it('a batch with a non-JSON value fails as a whole', async () => {
    const s = fresh();
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
    const s = fresh();
    const a = s.apply([{ op: 'push', list: 'l', key: 'x', value: 1 }]);
    const b = s.apply([{ op: 'remove', list: 'l', key: 'x' }]);
    const c = s.apply([{ op: 'push', list: 'l', key: 'y', value: 2 }]);
    await Promise.all([a, b, c]);
    assert.deepEqual(await s.list('l'), [{ key: 'y', value: 2 }]);
  });
}
