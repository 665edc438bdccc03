/**
 * Message history: every message a confab session sends or receives, in the database of db.ts,
 * with an FTS5 full-text index. The full-screen client and `confab history` read it.
 *
 * One message, one row, however many copies arrive (XEP-0313 v1.1 7.5 leaves de-duplication to
 * the client): a live copy, a carbon (XEP-0280 v1.0), an offline delivery (XEP-0160 v1.0.1) and
 * the archive's copy (XEP-0313) of one message are recognised by any of, in this order,
 * - its XEP-0359 v0.7 stanza-id, keyed by who assigned it (our archive, or a room);
 * - its XEP-0359 origin-id, keyed by the sender (origin-ids are the sender's to choose);
 * - its `from` (full JID) and `id` together with a hash of the body (some clients count ids from
 *   1 in every session: the same id with another text is another message).
 * A duplicate fills in what the first copy lacked (our own message, recorded as we sent it, learns
 * its archive stanza-id from the archive's copy), so later copies match faster, and its delay: the
 * archive's stamp (the server's clock, which stamps every archived message) then orders it among
 * the messages that came from the archive, rather than our clock.
 *
 * Corrections (XEP-0308 v1.2) replace the body of the message they name and set `corrected`;
 * retractions (XEP-0424 v0.4) clear the body and set `retracted`. Both only from the original's
 * sender (XEP-0308 5: same bare JID one-to-one, same occupant in a room; XEP-0424 business rules),
 * kept in `edits` (de-duplicated too) so one that arrives before its original (archive paging,
 * offline delivery) is applied when the original comes; of two edits the newer (by timestamp)
 * wins whatever order they arrive in; a retraction is final.
 *
 * Search (FTS5): the user's words become quoted FTS5 strings (`"word"`, a trailing `*` keeps
 * prefix search), so no input can be an FTS5 syntax error or an operator; all words must match.
 */
import { createHash } from 'node:crypto';
import { bare, jid } from 'confab';
import type { Db } from './db.ts';

/** How a copy reached us. */
export type Via = 'live' | 'carbon' | 'mam' | 'offline';
export type Direction = 'in' | 'out';

/** A message to record (`record`). JIDs are normalised here. */
export interface HistoryInput {
  /** Our account's bare JID. */
  account: string;
  /** The conversation: the other side's bare JID, a room's bare JID, a room occupant's full JID (private message). */
  peer: string;
  direction: Direction;
  /** Who wrote it: default our account (out) or the peer's bare JID (in); a room occupant's full JID in a room. */
  sender?: string | undefined;
  id?: string | undefined;
  originId?: string | undefined;
  /** XEP-0359 stanza-id and who assigned it (trusted by the caller: our archive, or the room). */
  stanzaId?: { id: string; by: string } | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** chat, normal, headline, groupchat. Default chat. */
  type?: string | undefined;
  body?: string | undefined;
  subject?: string | undefined;
  thread?: string | undefined;
  /** XEP-0203 delayed delivery: when it was sent. */
  delay?: Date | undefined;
  /** When we saw it (used when there is no delay). Default now. */
  received?: Date | undefined;
  via: Via;
  /** XEP-0308: this message corrects the message with this id (its body is the new text). */
  replace?: string | undefined;
  /** XEP-0424: this message retracts the message with this id. */
  retract?: string | undefined;
}

/** What `record` did. */
export type RecordResult =
  | { status: 'added'; seq: number }
  | { status: 'duplicate'; seq: number }
  /** A correction/retraction: `appliedTo` the message's seq, or undefined while the original is unknown. */
  | { status: 'edit'; appliedTo: number | undefined }
  | { status: 'duplicate-edit' };

/** A stored message, as `history` returns it. */
export interface StoredMessage {
  /** Insertion order (the row id); with `timestamp`, a stable paging cursor. */
  seq: number;
  account: string;
  peer: string;
  direction: Direction;
  id: string | undefined;
  originId: string | undefined;
  stanzaId: string | undefined;
  stanzaIdBy: string | undefined;
  from: string | undefined;
  to: string | undefined;
  type: string;
  /** The latest text (after corrections); undefined once retracted. */
  body: string | undefined;
  subject: string | undefined;
  thread: string | undefined;
  /** The delay when there was one, else when we saw it. */
  timestamp: Date;
  delay: Date | undefined;
  via: Via;
  corrected: boolean;
  retracted: boolean;
}

export interface HistoryQuery {
  /** The newest N (returned oldest first). Default 50. */
  limit?: number | undefined;
  /** Only messages containing all these words (FTS5; any text is safe). */
  search?: string | undefined;
  /** Only messages older than this time, or than this message (exact paging backwards). */
  before?: Date | Pick<StoredMessage, 'seq' | 'timestamp'> | undefined;
}

/** One conversation of an account (`conversations`). */
export interface Conversation {
  peer: string;
  messages: number;
  last: Date;
}

interface Row {
  seq: number;
  account: string;
  peer: string;
  direction: Direction;
  sender: string;
  id: string | null;
  origin_id: string | null;
  stanza_id: string | null;
  stanza_id_by: string | null;
  from_jid: string | null;
  to_jid: string | null;
  type: string;
  body: string | null;
  subject: string | null;
  thread: string | null;
  ts: number;
  delay: number | null;
  via: Via;
  corrected: number;
  retracted: number;
  edited_ts: number | null;
}

interface EditRow {
  dedupe: string;
  kind: 'correction' | 'retraction';
  body: string | null;
  ts: number;
  edit_id: string | null;
}

/** A JID in its normal form (PRECIS, via the library), or the text as given when it is not one. */
export function normalJid(s: string): string {
  try {
    return jid(s);
  } catch {
    return s;
  }
}

function bareOf(s: string): string {
  try {
    return bare(jid(s));
  } catch {
    return s;
  }
}

function bodyHash(body: string | undefined): string {
  return createHash('sha256')
    .update(body ?? '')
    .digest('base64url')
    .slice(0, 16);
}

const WORD = /[\p{L}\p{N}]/u;

/**
 * The FTS5 query for what the user typed: each whitespace-separated word as an FTS5 string
 * (`"` doubled inside), a trailing `*` kept as a prefix search; words without a letter or digit
 * are dropped (the tokenizer would give them no token). Undefined when no word is left.
 */
export function ftsQuery(text: string): string | undefined {
  const terms: string[] = [];
  for (const word of text.split(/\s+/u)) {
    const prefix = /[^*]\*+$/u.test(word);
    const core = word.replace(/\*+$/u, '').replace(/\u0000/gu, '');
    if (!WORD.test(core)) continue;
    terms.push(`"${core.replaceAll('"', '""')}"${prefix ? '*' : ''}`);
  }
  return terms.length > 0 ? terms.join(' ') : undefined;
}

/** Reads and writes the `messages` table (and `edits`, `sync_positions`) of one database. */
export class History {
  readonly #db: Db;
  readonly #s: Statements;

  constructor(db: Db) {
    this.#db = db;
    this.#s = prepareStatements(db);
  }

  /** Records one message (or applies a correction/retraction); duplicates are recognised, not added. */
  record(input: HistoryInput): RecordResult {
    return this.#db.transaction(() => this.#record(input)).immediate();
  }

  #record(input: HistoryInput): RecordResult {
    const account = bareOf(input.account);
    const peer = normalJid(input.peer);
    const sender = normalJid(
      input.sender ??
        (input.direction === 'out' ? account : input.type === 'groupchat' ? peer : bareOf(peer)),
    );
    const from = input.from === undefined ? null : normalJid(input.from);
    const ts = (input.delay ?? input.received ?? new Date()).getTime();
    const sid = input.stanzaId ? { sid: input.stanzaId.id, by: normalJid(input.stanzaId.by) } : undefined;
    const s = this.#s;

    if (input.replace !== undefined || input.retract !== undefined) {
      // Deterministic per message whichever copy this is: origin-id, else from+id, else stanza-id.
      const dedupe =
        input.originId !== undefined
          ? `o\n${sender}\n${input.originId}`
          : input.id !== undefined && from !== null
            ? `i\n${from}\n${input.id}`
            : sid
              ? `s\n${sid.by}\n${sid.sid}`
              : `t\n${sender}\n${ts}\n${bodyHash(input.body)}`;
      if (s.editExists.get({ account, dedupe })) return { status: 'duplicate-edit' };
      const kind = input.retract !== undefined ? 'retraction' : 'correction';
      const target = (input.retract ?? input.replace)!;
      s.insertEdit.run({
        account,
        dedupe,
        sender,
        kind,
        target,
        editId: input.id ?? null,
        body: kind === 'correction' ? (input.body ?? null) : null,
        ts,
      });
      const found =
        (s.target.get({ account, sender, t: target }) as { seq: number } | undefined)?.seq ??
        (s.chained.get({ account, sender, t: target }) as { applied_to: number } | undefined)?.applied_to;
      if (found === undefined) return { status: 'edit', appliedTo: undefined };
      this.#apply(account, found, { dedupe, kind, body: input.body ?? null, ts, edit_id: input.id ?? null });
      return { status: 'edit', appliedTo: found };
    }

    const bh = bodyHash(input.body);
    const dup =
      (sid
        ? (s.byStanzaId.get({ account, by: sid.by, sid: sid.sid }) as { seq: number } | undefined)
        : undefined) ??
      (input.originId !== undefined
        ? (s.byOriginId.get({ account, sender, oid: input.originId }) as { seq: number } | undefined)
        : undefined) ??
      (input.id !== undefined && from !== null
        ? (s.byId.get({ account, from, id: input.id, bh }) as { seq: number } | undefined)
        : undefined);
    if (dup) {
      s.fillIn.run({
        seq: dup.seq,
        sid: sid?.sid ?? null,
        by: sid?.by ?? null,
        oid: input.originId ?? null,
        delay: input.delay?.getTime() ?? null,
      });
      return { status: 'duplicate', seq: dup.seq };
    }
    const r = s.insert.run({
      account,
      peer,
      direction: input.direction,
      sender,
      id: input.id ?? null,
      oid: input.originId ?? null,
      sid: sid?.sid ?? null,
      by: sid?.by ?? null,
      from,
      to: input.to === undefined ? null : normalJid(input.to),
      type: input.type ?? 'chat',
      body: input.body ?? null,
      subject: input.subject ?? null,
      thread: input.thread ?? null,
      ts,
      delay: input.delay?.getTime() ?? null,
      via: input.via,
      bh,
    });
    const seq = Number(r.lastInsertRowid);
    // Edits that came before their original.
    const ids = { id: input.id ?? null, oid: input.originId ?? null };
    if (ids.id !== null || ids.oid !== null) {
      for (const e of s.pendingEdits.all({ account, sender, ...ids }) as EditRow[])
        this.#apply(account, seq, e);
    }
    return { status: 'added', seq };
  }

  #apply(account: string, seq: number, e: EditRow): void {
    if (e.kind === 'retraction') this.#s.retract.run({ seq, ts: e.ts });
    else this.#s.correct.run({ seq, body: e.body, ts: e.ts });
    this.#s.markApplied.run({ account, dedupe: e.dedupe, seq });
  }

  /**
   * The conversation of `account` with `peer` (every conversation when undefined), the newest
   * `limit` messages matching, oldest first. Retracted messages are included (body undefined,
   * `retracted`) except in a search.
   */
  history(account: string, peer: string | undefined, q: HistoryQuery = {}): StoredMessage[] {
    const limit = Math.max(0, Math.trunc(q.limit ?? 50));
    const where = ['m.account = :account'];
    const params: Record<string, unknown> = { account: bareOf(account), limit };
    if (peer !== undefined) {
      where.push('m.peer = :peer');
      params.peer = normalJid(peer);
    }
    if (q.before instanceof Date) {
      where.push('m.ts < :beforeTs');
      params.beforeTs = q.before.getTime();
    } else if (q.before !== undefined) {
      where.push('(m.ts < :beforeTs OR (m.ts = :beforeTs AND m.seq < :beforeSeq))');
      params.beforeTs = q.before.timestamp.getTime();
      params.beforeSeq = q.before.seq;
    }
    let from = 'messages m';
    if (q.search !== undefined) {
      const match = ftsQuery(q.search);
      if (match === undefined) return [];
      from = 'messages_fts JOIN messages m ON m.seq = messages_fts.rowid';
      where.push('messages_fts MATCH :match');
      params.match = match;
    }
    const rows = this.#db
      .prepare(
        `SELECT m.* FROM ${from} WHERE ${where.join(' AND ')} ORDER BY m.ts DESC, m.seq DESC LIMIT :limit`,
      )
      .all(params) as Row[];
    return rows.reverse().map(toStored);
  }

  /** How many messages of `account` with `peer` are stored. */
  count(account: string, peer: string): number {
    const row = this.#s.count.get({ account: bareOf(account), peer: normalJid(peer) }) as
      | { n: number }
      | undefined;
    return Number(row?.n ?? 0);
  }

  /** The conversations of an account, the most recent first. */
  conversations(account: string): Conversation[] {
    return (
      this.#s.conversations.all({ account: bareOf(account) }) as { peer: string; n: number; last: number }[]
    ).map((r) => ({ peer: r.peer, messages: r.n, last: new Date(r.last) }));
  }

  /**
   * The newest stanza-id our own archive assigned among the stored messages of `account`
   * (with `peer` only, when given): a MAM `after` cursor.
   */
  lastArchiveId(account: string, peer?: string): string | undefined {
    const row = this.#s.lastArchiveId.get({
      account: bareOf(account),
      peer: peer === undefined ? null : normalJid(peer),
    }) as { stanza_id: string } | undefined;
    return row?.stanza_id ?? undefined;
  }

  /** Where `history --sync` with `peer` got to: everything up to this archive id is stored. */
  syncPosition(account: string, peer: string): string | undefined {
    const row = this.#s.getSync.get({ account: bareOf(account), peer: normalJid(peer) }) as
      | { archive_id: string }
      | undefined;
    return row?.archive_id ?? undefined;
  }

  setSyncPosition(account: string, peer: string, archiveId: string): void {
    this.#s.setSync.run({ account: bareOf(account), peer: normalJid(peer), id: archiveId, at: Date.now() });
  }

  /** Forgets where the sync with `peer` got to (the archive no longer has that id). */
  clearSyncPosition(account: string, peer: string): void {
    this.#db
      .prepare('DELETE FROM sync_positions WHERE account = :account AND peer = :peer')
      .run({ account: bareOf(account), peer: normalJid(peer) });
  }
}

type Statements = ReturnType<typeof prepareStatements>;

function prepareStatements(db: Db) {
  return {
    byStanzaId: db.prepare(
      'SELECT seq FROM messages WHERE account = :account AND stanza_id_by = :by AND stanza_id = :sid',
    ),
    byOriginId: db.prepare(
      'SELECT seq FROM messages WHERE account = :account AND sender = :sender AND origin_id = :oid',
    ),
    byId: db.prepare(
      'SELECT seq FROM messages WHERE account = :account AND from_jid = :from AND id = :id AND body_hash = :bh',
    ),
    fillIn: db.prepare(
      `UPDATE OR IGNORE messages SET
         stanza_id = COALESCE(stanza_id, :sid), stanza_id_by = COALESCE(stanza_id_by, :by),
         origin_id = COALESCE(origin_id, :oid),
         ts = CASE WHEN delay IS NULL AND :delay IS NOT NULL THEN :delay ELSE ts END,
         delay = COALESCE(delay, :delay)
       WHERE seq = :seq`,
    ),
    insert: db.prepare(
      `INSERT INTO messages (account, peer, direction, sender, id, origin_id, stanza_id, stanza_id_by,
         from_jid, to_jid, type, body, subject, thread, ts, delay, via, body_hash)
       VALUES (:account, :peer, :direction, :sender, :id, :oid, :sid, :by,
         :from, :to, :type, :body, :subject, :thread, :ts, :delay, :via, :bh)`,
    ),
    editExists: db.prepare('SELECT 1 AS x FROM edits WHERE account = :account AND dedupe = :dedupe'),
    insertEdit: db.prepare(
      `INSERT INTO edits (account, dedupe, sender, kind, target, edit_id, body, ts, applied_to)
       VALUES (:account, :dedupe, :sender, :kind, :target, :editId, :body, :ts, NULL)`,
    ),
    target: db.prepare(
      `SELECT seq FROM messages WHERE account = :account AND sender = :sender AND (id = :t OR origin_id = :t)
       ORDER BY seq LIMIT 1`,
    ),
    chained: db.prepare(
      `SELECT applied_to FROM edits WHERE account = :account AND sender = :sender AND edit_id = :t
         AND applied_to IS NOT NULL LIMIT 1`,
    ),
    pendingEdits: db.prepare(
      `SELECT dedupe, kind, body, ts, edit_id FROM edits
       WHERE account = :account AND sender = :sender AND target IN (:id, :oid) AND applied_to IS NULL
       ORDER BY ts`,
    ),
    markApplied: db.prepare(
      'UPDATE edits SET applied_to = :seq WHERE account = :account AND dedupe = :dedupe',
    ),
    correct: db.prepare(
      `UPDATE messages SET body = :body, corrected = 1, edited_ts = :ts
       WHERE seq = :seq AND retracted = 0 AND (edited_ts IS NULL OR edited_ts <= :ts)`,
    ),
    retract: db.prepare(
      'UPDATE messages SET body = NULL, retracted = 1, edited_ts = MAX(COALESCE(edited_ts, 0), :ts) WHERE seq = :seq',
    ),
    lastArchiveId: db.prepare(
      `SELECT stanza_id FROM messages WHERE account = :account AND stanza_id_by = :account
         AND (:peer IS NULL OR peer = :peer)
       ORDER BY ts DESC, seq DESC LIMIT 1`,
    ),
    getSync: db.prepare('SELECT archive_id FROM sync_positions WHERE account = :account AND peer = :peer'),
    setSync: db.prepare(
      `INSERT INTO sync_positions (account, peer, archive_id, at) VALUES (:account, :peer, :id, :at)
       ON CONFLICT (account, peer) DO UPDATE SET archive_id = excluded.archive_id, at = excluded.at`,
    ),
    count: db.prepare('SELECT COUNT(*) AS n FROM messages WHERE account = :account AND peer = :peer'),
    conversations: db.prepare(
      `SELECT peer, COUNT(*) AS n, MAX(ts) AS last FROM messages WHERE account = :account
       GROUP BY peer ORDER BY last DESC`,
    ),
  };
}

function toStored(r: Row): StoredMessage {
  const opt = (v: string | null) => (v === null ? undefined : v);
  return {
    seq: r.seq,
    account: r.account,
    peer: r.peer,
    direction: r.direction,
    id: opt(r.id),
    originId: opt(r.origin_id),
    stanzaId: opt(r.stanza_id),
    stanzaIdBy: opt(r.stanza_id_by),
    from: opt(r.from_jid),
    to: opt(r.to_jid),
    type: r.type,
    body: opt(r.body),
    subject: opt(r.subject),
    thread: opt(r.thread),
    timestamp: new Date(r.ts),
    delay: r.delay === null ? undefined : new Date(r.delay),
    via: r.via,
    corrected: r.corrected !== 0,
    retracted: r.retracted !== 0,
  };
}
