/**
 * What one CLI session keeps in the database: it opens the file, records the history, and (when
 * this process holds the account's lease, store.ts) hands the library a durable Store for its
 * session state. `close()` gives the lease back and closes the file.
 */
import { type Db, openDatabase } from './db.ts';
import { History, normalJid } from './history.ts';
import { databasePath } from './paths.ts';
import { acquireLease, releaseLease, SqliteStore } from './store.ts';

export interface SessionStorage {
  readonly db: Db;
  readonly history: History;
  /** The library's Store for the account; undefined when another live confab process holds it. */
  readonly store: SqliteStore | undefined;
  close(): void;
}

/** Opens the database in `dataDir` for `account`'s session (throws CliError when it cannot). */
export function openSessionStorage(dataDir: string, account: string): SessionStorage {
  const db = openDatabase(databasePath(dataDir));
  const acct = normalJid(account);
  let leased = false;
  try {
    leased = acquireLease(db, acct);
  } catch {
    leased = false;
  }
  let closed = false;
  return {
    db,
    history: new History(db),
    store: leased ? new SqliteStore(db, acct) : undefined,
    close() {
      if (closed) return;
      closed = true;
      try {
        if (leased) releaseLease(db, acct);
      } finally {
        db.close();
      }
    },
  };
}
