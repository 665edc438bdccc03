/**
 * The CLI's one database: SQLite through `libsql` (better-sqlite3's API, a prebuilt binary with
 * FTS5), at `$XDG_DATA_HOME/confab/confab.db` (store/paths.ts). Holds per account the library's
 * Store data (store.ts: roster cache, outbox, stream-management state, MAM position) and the
 * message history (history.ts) with its FTS5 index.
 *
 * - Private: the directory is created 0700 and the file 0600 before SQLite opens it (SQLite gives
 *   its `-wal` and `-shm` files the database file's mode). Messages are nobody else's business.
 * - WAL journal, `synchronous = NORMAL` (a commit survives a crash of the process; a power cut
 *   may lose the last commits, never corrupt the file), a busy timeout so several confab
 *   processes (a `listen` beside a `send`) share the file.
 * - Versioned migrations in `PRAGMA user_version`: each step runs in one transaction with the
 *   version bump, so a crash mid-migration leaves the previous version. A database written by a
 *   newer confab (a higher version than we know) is refused rather than misread.
 *
 * Only this directory imports `libsql`; the rest of the CLI uses the API of history.ts/store.ts.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'libsql';
import { CliError, EXIT } from '../exit.ts';

/** The driver's database handle (better-sqlite3's API). */
export type Db = InstanceType<typeof Database>;

/** One schema step: `up` runs inside a transaction that also sets `user_version` to `version`. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly up: (db: Db) => void;
}

/** The schema, oldest step first. Append only: never edit a step that has shipped. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'library store (kv, lists), leases, message history with FTS5, archive sync positions',
    up(db) {
      db.exec(`
        -- store.ts: the library's Store, one account per row prefix (store/types.ts has the mapping).
        CREATE TABLE kv (
          account TEXT NOT NULL,
          ns TEXT NOT NULL,
          key TEXT NOT NULL,
          value TEXT NOT NULL,
          PRIMARY KEY (account, ns, key)
        ) WITHOUT ROWID;
        CREATE TABLE list (
          account TEXT NOT NULL,
          list TEXT NOT NULL,
          key TEXT NOT NULL,
          pos INTEGER NOT NULL,
          value TEXT NOT NULL,
          PRIMARY KEY (account, list, key)
        ) WITHOUT ROWID;
        CREATE INDEX list_order ON list (account, list, pos);
        -- Which process owns an account's session state (stream management, outbox) right now.
        CREATE TABLE leases (
          account TEXT PRIMARY KEY,
          pid INTEGER NOT NULL,
          since INTEGER NOT NULL
        );

        -- history.ts: one row per message, whichever way it came (live, carbon, archive, offline).
        CREATE TABLE messages (
          seq INTEGER PRIMARY KEY,
          account TEXT NOT NULL,
          peer TEXT NOT NULL,
          direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
          -- the bare JID of the sender (a room occupant's full JID in a room): scopes origin-ids and edits
          sender TEXT NOT NULL,
          id TEXT,
          origin_id TEXT,
          stanza_id TEXT,
          stanza_id_by TEXT,
          from_jid TEXT,
          to_jid TEXT,
          type TEXT NOT NULL,
          body TEXT,
          subject TEXT,
          thread TEXT,
          -- ms since the epoch: the XEP-0203 delay when there is one, else when we saw it
          ts INTEGER NOT NULL,
          delay INTEGER,
          via TEXT NOT NULL CHECK (via IN ('live', 'carbon', 'mam', 'offline')),
          -- short hash of the body as first recorded: with (from_jid, id), the last-resort duplicate key
          body_hash TEXT NOT NULL,
          corrected INTEGER NOT NULL DEFAULT 0,
          retracted INTEGER NOT NULL DEFAULT 0,
          -- ts of the newest correction/retraction applied (an older one arriving later loses)
          edited_ts INTEGER
        );
        CREATE INDEX messages_conversation ON messages (account, peer, ts, seq);
        CREATE UNIQUE INDEX messages_by_stanza_id ON messages (account, stanza_id_by, stanza_id)
          WHERE stanza_id IS NOT NULL;
        CREATE UNIQUE INDEX messages_by_origin_id ON messages (account, sender, origin_id)
          WHERE origin_id IS NOT NULL;
        CREATE UNIQUE INDEX messages_by_id ON messages (account, from_jid, id, body_hash)
          WHERE id IS NOT NULL;
        -- the target of a correction or retraction: the sender's message with that id
        CREATE INDEX messages_by_sender_id ON messages (account, sender, id);

        -- Corrections (XEP-0308) and retractions (XEP-0424), de-duplicated like messages, kept
        -- until (and after) the message they edit arrives, in whichever order they come.
        CREATE TABLE edits (
          account TEXT NOT NULL,
          dedupe TEXT NOT NULL,
          sender TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('correction', 'retraction')),
          target TEXT NOT NULL,
          edit_id TEXT,
          body TEXT,
          ts INTEGER NOT NULL,
          applied_to INTEGER,
          PRIMARY KEY (account, dedupe)
        ) WITHOUT ROWID;
        CREATE INDEX edits_target ON edits (account, sender, target);
        CREATE INDEX edits_by_edit_id ON edits (account, sender, edit_id);

        -- External-content FTS5 index over body and subject, kept in step by triggers.
        CREATE VIRTUAL TABLE messages_fts USING fts5(
          body, subject, content = 'messages', content_rowid = 'seq',
          tokenize = 'unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
          INSERT INTO messages_fts (rowid, body, subject) VALUES (new.seq, new.body, new.subject);
        END;
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
          INSERT INTO messages_fts (messages_fts, rowid, body, subject)
            VALUES ('delete', old.seq, old.body, old.subject);
        END;
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, subject ON messages BEGIN
          INSERT INTO messages_fts (messages_fts, rowid, body, subject)
            VALUES ('delete', old.seq, old.body, old.subject);
          INSERT INTO messages_fts (rowid, body, subject) VALUES (new.seq, new.body, new.subject);
        END;

        -- history --sync: the newest archive id fetched per conversation (complete up to there).
        CREATE TABLE sync_positions (
          account TEXT NOT NULL,
          peer TEXT NOT NULL,
          archive_id TEXT NOT NULL,
          at INTEGER NOT NULL,
          PRIMARY KEY (account, peer)
        ) WITHOUT ROWID;
      `);
    },
  },
];

/** The newest schema version this build knows. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** `PRAGMA user_version`. (libsql's `pluck()` and `pragma({simple})` do not simplify: read the column.) */
export function userVersion(db: Db): number {
  const row = db.prepare('PRAGMA user_version').get() as { user_version?: unknown } | undefined;
  return Number(row?.user_version ?? 0);
}

/** Brings the schema up to `migrations`' last version; returns the versions applied. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const current = userVersion(db);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new CliError(
      EXIT.failure,
      `the confab database ${db.name} has schema version ${current}, newer than this confab knows (${latest})`,
      'upgrade confab, or move the file away',
    );
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    // IMMEDIATE takes the write lock first; re-read inside it: another confab process opening
    // the same file at the same moment may have just applied this step.
    const done = db
      .transaction(() => {
        if (userVersion(db) >= m.version) return false;
        m.up(db);
        // PRAGMA takes no parameters; the version is our own integer.
        db.exec(`PRAGMA user_version = ${Math.trunc(m.version)}`);
        return true;
      })
      .immediate();
    if (done) applied.push(m.version);
  }
  return applied;
}

export interface OpenOptions {
  /** Schema steps (tests); default MIGRATIONS. */
  migrations?: readonly Migration[] | undefined;
  /** How long a write waits for another process's lock, ms. Default 5000. */
  busyTimeout?: number | undefined;
}

/**
 * Opens (creating it and its directory when missing) and migrates the database at `path`;
 * `':memory:'` gives a private in-memory database (tests). Throws CliError (exit 1) when the
 * file cannot be opened or is from a newer confab.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  const memory = path === ':memory:';
  let db: Db;
  try {
    if (!memory) {
      const dir = dirname(path);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // mkdir leaves an existing directory alone and applies the umask: make ours private.
      chmodSync(dir, 0o700);
      closeSync(openSync(path, 'a', 0o600));
      chmodSync(path, 0o600);
    }
    db = new Database(path, { timeout: options.busyTimeout ?? 5000 });
  } catch (err) {
    throw new CliError(EXIT.failure, `cannot open the confab database ${path}: ${(err as Error).message}`);
  }
  try {
    if (!memory) db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeout ?? 5000)}`);
    migrate(db, options.migrations);
  } catch (err) {
    db.close();
    if (err instanceof CliError) throw err;
    throw new CliError(EXIT.failure, `cannot use the confab database ${path}: ${(err as Error).message}`);
  }
  return db;
}
