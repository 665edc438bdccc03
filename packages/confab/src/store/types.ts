/**
 * The Store: everything confab keeps between connections and between runs of the
 * program goes through this one small interface. The library ships an in-memory
 * store (store/memory.ts); the CLI maps it onto SQLite, a web app onto IndexedDB.
 *
 * Shape, and why: two primitives instead of one method per kind of data.
 *
 * - A namespaced key/value map with JSON values (`get`, `entries`): stream
 *   management state, account facts, roster cache, MAM positions. New features add
 *   a namespace, never a Store method, so a store written today keeps working.
 * - Ordered lists of keyed JSON items (`list`): the queues whose order is the
 *   point, i.e. the outbox and the stream-management queue of unacknowledged
 *   stanzas. Items are appended, replaced in place, removed by key; order is
 *   insertion order.
 * - All writes go through `apply(ops)`: one atomic batch, applied in call order.
 *   Atomic, so "drop the acked stanzas and move `h`" can never be half done after a
 *   crash; ordered, so two modules writing one after the other (outbox first, then
 *   stream management) land in that order. Both are what a SQLite transaction or
 *   one IndexedDB readwrite transaction give for free.
 *
 * Explicit methods (`saveSmState`, `appendOutbox`, ...) would be typed at the
 * interface, but every store implementation would then grow with every feature.
 * Instead the typed records live here next to their namespace and key names
 * (`SmStateRecord`, `OutboxRecord`, ...), and the modules that own them read and
 * write them through the generic calls.
 *
 * Straight mapping onto SQLite (the CLI):
 *
 *   CREATE TABLE kv   (ns TEXT, key TEXT, value TEXT NOT NULL, PRIMARY KEY (ns, key));
 *   CREATE TABLE list (list TEXT, key TEXT, pos INTEGER NOT NULL, value TEXT NOT NULL,
 *                      PRIMARY KEY (list, key));
 *   CREATE INDEX list_order ON list (list, pos);
 *
 *   get(ns, key)   SELECT value FROM kv WHERE ns = ? AND key = ?
 *   entries(ns)    SELECT key, value FROM kv WHERE ns = ? ORDER BY key
 *   list(name)     SELECT key, value FROM list WHERE list = ? ORDER BY pos
 *   apply(ops)     BEGIN; one statement per op; COMMIT
 *     set          INSERT INTO kv VALUES (?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value
 *     delete       DELETE FROM kv WHERE ns = ? AND key = ?
 *     push         INSERT INTO list VALUES (?, ?, (SELECT COALESCE(MAX(pos), 0) + 1 FROM list WHERE list = ?), ?)
 *                  ON CONFLICT (list, key) DO UPDATE SET value = excluded.value      -- keeps its place
 *     remove       DELETE FROM list WHERE list = ? AND key = ?
 *     clear        DELETE FROM list WHERE list = ?
 *     drop         DELETE FROM kv WHERE ns = ?
 *
 * Values are stored as JSON text (`JSON.stringify`), so what comes back is always a
 * fresh copy; the in-memory store does the same, so tests see real-store behaviour.
 *
 * One Store holds one account's data. A database shared by several accounts wraps
 * it with `scopeStore(store, account)` (store/scope.ts), which prefixes the
 * namespace and list names.
 */
import type { Element } from '../xml/element.ts';

/** A JSON value, as stores keep them. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One write in an atomic `apply` batch. */
export type StoreOp =
  /** Create or replace `key` in namespace `ns`. */
  | { op: 'set'; ns: string; key: string; value: Json }
  /** Delete `key` from namespace `ns` (no-op when absent). */
  | { op: 'delete'; ns: string; key: string }
  /** Delete every key of namespace `ns`. */
  | { op: 'drop'; ns: string }
  /** Append an item to `list`; an item with the same key is replaced in place (keeps its position). */
  | { op: 'push'; list: string; key: string; value: Json }
  /** Remove the item with this key from `list` (no-op when absent). */
  | { op: 'remove'; list: string; key: string }
  /** Remove every item of `list`. */
  | { op: 'clear'; list: string };

/** One item of an ordered list. */
export interface ListItem {
  key: string;
  value: Json;
}

/**
 * Where the library persists. All methods are async so IndexedDB and SQLite (sync
 * or async drivers) fit the same shape.
 *
 * Contract (what the library relies on):
 * - `apply` is atomic: after a crash either all of its ops happened or none.
 * - `apply` calls take effect in the order they were made, even when the caller
 *   does not await one before making the next.
 * - Reads see every `apply` whose promise has resolved.
 * - Values come back as copies: mutating them does not change the store.
 */
export interface Store {
  /**
   * True when the data outlives this process or at least this client object (a
   * database; a MemoryStore the app keeps and hands to the next client). When
   * false, stream management and the outbox skip their per-stanza writes: nobody
   * will ever read them, and serializing every stanza twice costs CPU per message.
   */
  readonly durable: boolean;
  /** The value stored under `key` in namespace `ns`, or undefined. */
  get(ns: string, key: string): Promise<Json | undefined>;
  /** All keys and values of a namespace, ordered by key. */
  entries(ns: string): Promise<Array<[string, Json]>>;
  /** The items of an ordered list, in order. */
  list(name: string): Promise<ListItem[]>;
  /** Apply a batch of writes atomically, in order. */
  apply(ops: readonly StoreOp[]): Promise<void>;
}

/** Turns elements into text for storage and back (the XML serializer and parser; see store/codec.ts). */
export interface ElementCodec {
  serialize(el: Element): string;
  parse(text: string): Element;
}

// ---------------------------------------------------------------------------
// The schema: namespaces, keys and list names the library uses, and the records
// stored under them. A store implementation needs none of this; it is here so the
// whole persisted layout can be read in one place.

/** Stream management (session/sm.ts): namespace `sm`, key `state`; list `sm.unacked`. */
export const SM_NS = 'sm';
export const SM_STATE_KEY = 'state';
export const SM_UNACKED_LIST = 'sm.unacked';

/** The stream-management session, as persisted (XEP-0198). Counters are wire values (mod 2^32). */
export interface SmStateRecord {
  /** SM-ID from `<enabled id>`; needed to resume. */
  id: string | null;
  /** Whether the server agreed to resumption (`<enabled resume>`). */
  resume: boolean;
  /** Server's preferred reconnect location (`<enabled location>`), "host:port" or "[v6]:port". */
  location: string | null;
  /** Server's maximum resumption time in seconds (`<enabled max>`). */
  max: number | null;
  /** Full JID bound on the stream being managed: a resumed stream keeps it (no new bind). */
  jid: string | null;
  /** Stanzas we handled from the server (our `h`). */
  inbound: number;
  /** Stanzas we sent since enabling. */
  outbound: number;
  /** The server's last `h` for our stanzas. */
  acked: number;
  /** When this record was last written (ms since epoch). */
  updatedAt: number;
  /** When the connection carrying the session went away, if it did (ms since epoch). */
  detachedAt: number | null;
}

/** One unacknowledged outbound stanza (list `sm.unacked`, key = `seq` as decimal text). */
export interface SmUnackedRecord {
  /** Its sequence number: the `h` value that acknowledges it (mod 2^32). */
  seq: number;
  /** The stanza, serialized. */
  xml: string;
  /** Outbox id when the outbox owns it (it re-sends it itself after a failed resumption). */
  appId: string | null;
  /** When it was first sent (ms since epoch): the XEP-0203 stamp if it is ever re-sent. */
  sentAt: number;
}

/** The outbox (session/outbox.ts): list `outbox`, key = message id. */
export const OUTBOX_LIST = 'outbox';

/** One queued outbound message. */
export interface OutboxRecord {
  /** Message id = XEP-0359 origin-id. */
  id: string;
  /** The message, serialized. */
  xml: string;
  /** When the app handed it over (ms since epoch): the XEP-0203 stamp when it goes out late. */
  queuedAt: number;
}

/** Facts about the account (store/account.ts): namespace `account`, key `facts`. */
export const ACCOUNT_NS = 'account';
export const ACCOUNT_FACTS_KEY = 'facts';

/** What the library remembers about an account between runs. */
export interface AccountFacts {
  /** The SASL mechanism of the last successful login, to warn on a downgrade. */
  saslMechanism?: string;
  /** When that login happened (ms since epoch). */
  saslMechanismAt?: number;
}

/** Reserved for later features (roster versioning cache, MAM last-seen archive id). */
export const ROSTER_NS = 'roster';
export const MAM_NS = 'mam';
