/**
 * The library's `Store` (packages/confab/src/store/types.ts: the contract and the SQLite mapping
 * this follows) on the CLI's database, one account per instance: the roster cache with its
 * version (RFC 6121 2.6 roster versioning), the outbox, the XEP-0198 stream-management session
 * and the XEP-0313 archive position outlive the process, so the next run resumes where it can.
 *
 * `apply` runs its whole batch in one SQLite transaction, synchronously inside the call: atomic,
 * and batches take effect in call order even when nobody awaits them (the contract). Values are
 * JSON text; every read is a fresh copy; a value that is not JSON fails the batch before any write.
 *
 * Leases: stream management and the outbox belong to ONE process per account. Two confab
 * processes of one account (a `listen` running, a `send` beside it) must not both load the same
 * SM session: the second would resume, and so take over, the first one's stream. `acquireLease`
 * grants the account to this process unless a live process holds it; the others run with
 * session state in memory (their history is still recorded).
 */
import { type EncodedOp, encodeOps, type Store } from 'confab';
import type { Db } from './db.ts';
import { normalJid } from './history.ts';

type StoreOp = Parameters<Store['apply']>[0][number];
type Json = Exclude<Awaited<ReturnType<Store['get']>>, undefined>;
type ListItem = Awaited<ReturnType<Store['list']>>[number];

export interface SqliteStoreOptions {
  /** What the library is told (store/types.ts `durable`). Default true. */
  durable?: boolean | undefined;
}

/** The Store of one account in the CLI's database. */
export class SqliteStore implements Store {
  readonly durable: boolean;
  readonly account: string;
  readonly #db: Db;
  readonly #s: ReturnType<typeof statements>;

  /** `account` is the bare JID whose data this store holds (normalised). */
  constructor(db: Db, account: string, options: SqliteStoreOptions = {}) {
    this.#db = db;
    this.account = normalJid(account);
    this.durable = options.durable ?? true;
    this.#s = statements(db);
  }

  async get(ns: string, key: string): Promise<Json | undefined> {
    const row = this.#s.get.get({ account: this.account, ns, key }) as { value: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.value) as Json);
  }

  async entries(ns: string): Promise<Array<[string, Json]>> {
    const rows = this.#s.entries.all({ account: this.account, ns }) as { key: string; value: string }[];
    return rows.map((r) => [r.key, JSON.parse(r.value) as Json]);
  }

  async list(name: string): Promise<ListItem[]> {
    const rows = this.#s.list.all({ account: this.account, list: name }) as { key: string; value: string }[];
    return rows.map((r) => ({ key: r.key, value: JSON.parse(r.value) as Json }));
  }

  apply(ops: readonly StoreOp[]): Promise<void> {
    let encoded: EncodedOp[];
    try {
      encoded = encodeOps(ops);
      if (encoded.length === 0) return Promise.resolve();
      const account = this.account;
      const s = this.#s;
      this.#db
        .transaction(() => {
          for (const o of encoded) {
            switch (o.op) {
              case 'set':
                s.set.run({ account, ns: o.ns, key: o.key, value: o.text });
                break;
              case 'delete':
                s.delete.run({ account, ns: o.ns, key: o.key });
                break;
              case 'drop':
                s.drop.run({ account, ns: o.ns });
                break;
              case 'push':
                s.push.run({ account, list: o.list, key: o.key, value: o.text });
                break;
              case 'remove':
                s.remove.run({ account, list: o.list, key: o.key });
                break;
              case 'clear':
                s.clear.run({ account, list: o.list });
                break;
            }
          }
        })
        .immediate();
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve();
  }
}

function statements(db: Db) {
  return {
    get: db.prepare('SELECT value FROM kv WHERE account = :account AND ns = :ns AND key = :key'),
    entries: db.prepare('SELECT key, value FROM kv WHERE account = :account AND ns = :ns ORDER BY key'),
    list: db.prepare('SELECT key, value FROM list WHERE account = :account AND list = :list ORDER BY pos'),
    set: db.prepare(
      `INSERT INTO kv (account, ns, key, value) VALUES (:account, :ns, :key, :value)
       ON CONFLICT (account, ns, key) DO UPDATE SET value = excluded.value`,
    ),
    delete: db.prepare('DELETE FROM kv WHERE account = :account AND ns = :ns AND key = :key'),
    drop: db.prepare('DELETE FROM kv WHERE account = :account AND ns = :ns'),
    // A new key goes last; an existing one keeps its place (only the value changes).
    push: db.prepare(
      `INSERT INTO list (account, list, key, pos, value) VALUES (:account, :list, :key,
         (SELECT COALESCE(MAX(pos), 0) + 1 FROM list WHERE account = :account AND list = :list), :value)
       ON CONFLICT (account, list, key) DO UPDATE SET value = excluded.value`,
    ),
    remove: db.prepare('DELETE FROM list WHERE account = :account AND list = :list AND key = :key'),
    clear: db.prepare('DELETE FROM list WHERE account = :account AND list = :list'),
  };
}

/** Whether process `pid` exists (EPERM: it does, under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the account's session state for this process: true unless another live process holds
 * it (a lease left by a process that died is taken over).
 */
export function acquireLease(db: Db, account: string, pid: number = process.pid): boolean {
  const a = normalJid(account);
  return db
    .transaction(() => {
      const row = db.prepare('SELECT pid FROM leases WHERE account = :a').get({ a }) as
        | { pid: number }
        | undefined;
      if (row && row.pid !== pid && alive(row.pid)) return false;
      db.prepare(
        `INSERT INTO leases (account, pid, since) VALUES (:a, :pid, :now)
         ON CONFLICT (account) DO UPDATE SET pid = excluded.pid, since = excluded.since`,
      ).run({ a, pid, now: Date.now() });
      return true;
    })
    .immediate();
}

/** Gives the lease back (only ours). */
export function releaseLease(db: Db, account: string, pid: number = process.pid): void {
  db.prepare('DELETE FROM leases WHERE account = :a AND pid = :pid').run({ a: normalJid(account), pid });
}
