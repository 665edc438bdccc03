/**
 * One Store per account, even when the data lives in one database: `scopeStore`
 * prefixes every namespace and list name with the account, so the library's
 * fixed names (`sm`, `outbox`, ...) never collide between accounts.
 */
import type { Json, ListItem, Store, StoreOp } from './types.ts';

/**
 * A view of `store` where every namespace and list name is prefixed with `scope`
 * and a NUL separator (which no JID or library name contains).
 *
 * @example
 * const alice = scopeStore(sqliteStore, 'alice@example.org');
 */
export function scopeStore(store: Store, scope: string): Store {
  const p = `${scope}\u0000`;
  return {
    durable: store.durable,
    get: (ns: string, key: string): Promise<Json | undefined> => store.get(p + ns, key),
    entries: (ns: string): Promise<Array<[string, Json]>> => store.entries(p + ns),
    list: (name: string): Promise<ListItem[]> => store.list(p + name),
    apply: (ops: readonly StoreOp[]): Promise<void> =>
      store.apply(ops.map((o) => ('ns' in o ? { ...o, ns: p + o.ns } : { ...o, list: p + o.list }))),
  };
}
