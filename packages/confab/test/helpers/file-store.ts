// A tiny file-backed Store for tests that kill a process (kill -9) and start it again: every
// `apply` rewrites one JSON file synchronously (write to a temp file, then rename, so a kill
// mid-write leaves the previous complete file). Slow and simple on purpose; a real app uses
// SQLite (the CLI) or IndexedDB. It meets the Store contract (store/types.ts): atomic,
// ordered batches, reads that see every resolved write, values as copies.

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Json, ListItem, Store, StoreOp } from '../../src/store/types.ts';

interface FileData {
  kv: Record<string, Record<string, Json>>;
  lists: Record<string, Array<[string, Json]>>;
}

export class FileStore implements Store {
  readonly durable = true;
  readonly #file: string;
  #data: FileData;

  constructor(file: string) {
    this.#file = file;
    this.#data = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as FileData)
      : { kv: {}, lists: {} };
  }

  async get(ns: string, key: string): Promise<Json | undefined> {
    const v = this.#data.kv[ns]?.[key];
    return v === undefined ? undefined : copy(v);
  }

  async entries(ns: string): Promise<Array<[string, Json]>> {
    const m = this.#data.kv[ns] ?? {};
    return Object.keys(m)
      .sort()
      .map((k) => [k, copy(m[k]!)]);
  }

  async list(name: string): Promise<ListItem[]> {
    return (this.#data.lists[name] ?? []).map(([key, value]) => ({ key, value: copy(value) }));
  }

  apply(ops: readonly StoreOp[]): Promise<void> {
    // Work on a copy: a failing batch changes nothing (atomic).
    const d = copy(this.#data as unknown as Json) as unknown as FileData;
    try {
      for (const o of ops) {
        switch (o.op) {
          case 'set': {
            const m = d.kv[o.ns] ?? {};
            m[o.key] = copy(o.value);
            d.kv[o.ns] = m;
            break;
          }
          case 'delete':
            delete d.kv[o.ns]?.[o.key];
            break;
          case 'drop':
            delete d.kv[o.ns];
            break;
          case 'push': {
            const l = d.lists[o.list] ?? [];
            d.lists[o.list] = l;
            const at = l.findIndex(([k]) => k === o.key);
            if (at >= 0) l[at] = [o.key, copy(o.value)];
            else l.push([o.key, copy(o.value)]);
            break;
          }
          case 'remove': {
            const l = d.lists[o.list];
            if (l) d.lists[o.list] = l.filter(([k]) => k !== o.key);
            break;
          }
          case 'clear':
            delete d.lists[o.list];
            break;
        }
      }
      const tmp = `${this.#file}.tmp`;
      writeFileSync(tmp, JSON.stringify(d));
      renameSync(tmp, this.#file);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#data = d;
    return Promise.resolve();
  }
}

function copy<T extends Json>(v: T): T {
  const text = JSON.stringify(v);
  if (typeof text !== 'string') throw new TypeError('store values must be JSON');
  return JSON.parse(text) as T;
}
