/**
 * In-memory Store (see store/types.ts for the contract and the SQLite mapping).
 *
 * Values are kept as JSON text, exactly as a database would keep them: every read
 * returns a fresh copy, a value that is not JSON (undefined, a function, a cycle,
 * a BigInt) fails at write time rather than on some later read, and tests that
 * pass here behave the same against the CLI's SQLite store.
 *
 * `apply` validates and encodes the whole batch before touching anything, so a
 * failing batch changes nothing (atomic), and it mutates synchronously inside the
 * call, so batches take effect in call order even when nobody awaits them.
 */
import { type EncodedOp, encodeOps } from './encode.ts';
import type { Json, ListItem, Store, StoreOp } from './types.ts';

export interface MemoryStoreOptions {
  /**
   * Whether the library should treat this store as outliving the client (default
   * true: an app that keeps the object and hands it to the next client, and tests
   * that simulate a restart, get the full persistence behaviour). A client created
   * without a store uses `durable: false`, which spares the per-stanza writes.
   */
  durable?: boolean;
}

/** A Store that lives in this process's memory. */
export class MemoryStore implements Store {
  readonly durable: boolean;
  readonly #kv = new Map<string, Map<string, string>>();
  // A Map iterates in insertion order and `set` on an existing key keeps its
  // place: exactly the list semantics (push appends or replaces in place).
  readonly #lists = new Map<string, Map<string, string>>();

  constructor(options: MemoryStoreOptions = {}) {
    this.durable = options.durable ?? true;
  }

  async get(ns: string, key: string): Promise<Json | undefined> {
    const text = this.#kv.get(ns)?.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as Json);
  }

  async entries(ns: string): Promise<Array<[string, Json]>> {
    const m = this.#kv.get(ns);
    if (!m) return [];
    return [...m.keys()].sort().map((k) => [k, JSON.parse(m.get(k)!) as Json]);
  }

  async list(name: string): Promise<ListItem[]> {
    const m = this.#lists.get(name);
    if (!m) return [];
    return [...m].map(([key, text]) => ({ key, value: JSON.parse(text) as Json }));
  }

  apply(ops: readonly StoreOp[]): Promise<void> {
    let encoded: EncodedOp[];
    try {
      encoded = encodeOps(ops);
    } catch (err) {
      return Promise.reject(err);
    }
    for (const o of encoded) {
      switch (o.op) {
        case 'set':
          sub(this.#kv, o.ns).set(o.key, o.text);
          break;
        case 'delete':
          this.#kv.get(o.ns)?.delete(o.key);
          break;
        case 'drop':
          this.#kv.delete(o.ns);
          break;
        case 'push':
          sub(this.#lists, o.list).set(o.key, o.text);
          break;
        case 'remove':
          this.#lists.get(o.list)?.delete(o.key);
          break;
        case 'clear':
          this.#lists.delete(o.list);
          break;
      }
    }
    return Promise.resolve();
  }
}

function sub(m: Map<string, Map<string, string>>, name: string): Map<string, string> {
  let s = m.get(name);
  if (!s) {
    s = new Map();
    m.set(name, s);
  }
  return s;
}
