// The CLI's database (store/): schema migrations, history recording with de-duplication and
// corrections, FTS5 search with hostile input, the library's Store contract on SQLite, leases,
// and the recorder's reading of sent and received messages.
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type Client, type Message, xml } from 'confab';
import { storeContract } from '../../../confab/test/helpers/store-contract.ts';
import { CliError } from '../exit.ts';
import {
  type Db,
  MIGRATIONS,
  type Migration,
  migrate,
  openDatabase,
  SCHEMA_VERSION,
  userVersion,
} from './db.ts';
import { ftsQuery, History, type HistoryInput } from './history.ts';
import { databasePath, dataDirOf } from './paths.ts';
import { outgoing, recordSession } from './recorder.ts';
import { acquireLease, releaseLease, SqliteStore } from './store.ts';
import { ROOM_FIRST_SYNC, syncConversation } from './sync.ts';

const ME = 'juliet@capulet.lit';
const ROMEO = 'romeo@montague.lit';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'confab-store-'));
}

function memory(): Db {
  return openDatabase(':memory:');
}

/** A message from Romeo, as a live copy would give it. */
function fromRomeo(extra: Partial<HistoryInput> = {}): HistoryInput {
  return {
    account: ME,
    peer: ROMEO,
    direction: 'in',
    id: 'm1',
    originId: 'o1',
    stanzaId: { id: 'archive-1', by: ME },
    from: `${ROMEO}/orchard`,
    to: `${ME}/balcony`,
    type: 'chat',
    body: 'But soft, what light through yonder window breaks?',
    received: new Date('2026-12-01T20:00:00Z'),
    via: 'live',
    ...extra,
  };
}

describe('paths', () => {
  it('uses an absolute XDG_DATA_HOME, else ~/.local/share', () => {
    assert.equal(dataDirOf({ XDG_DATA_HOME: '/x/data', HOME: '/home/j' }), '/x/data/confab');
    assert.equal(dataDirOf({ XDG_DATA_HOME: 'relative', HOME: '/home/j' }), '/home/j/.local/share/confab');
    assert.equal(dataDirOf({ HOME: '/home/j' }), '/home/j/.local/share/confab');
    assert.equal(databasePath('/x/data/confab'), '/x/data/confab/confab.db');
  });
});

describe('database and migrations', () => {
  it('creates a private directory and file, in WAL mode, at the current schema version', () => {
    const dir = join(tmp(), 'deep', 'confab');
    const file = databasePath(dir);
    const db = openDatabase(file);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const mode = db.prepare('PRAGMA journal_mode').get() as { journal_mode: string };
    assert.equal(mode.journal_mode, 'wal');
    assert.equal(userVersion(db), SCHEMA_VERSION);
    db.close();
    // Reopening migrates nothing and keeps the data.
    const again = openDatabase(file);
    assert.deepEqual(migrate(again), []);
    again.close();
  });

  it('applies only the steps newer than user_version, each with its version', () => {
    const db = openDatabase(':memory:', { migrations: [] });
    const steps: Migration[] = [
      { version: 1, description: 'a', up: (d) => d.exec('CREATE TABLE a (x)') },
      { version: 2, description: 'b', up: (d) => d.exec('CREATE TABLE b (x)') },
    ];
    assert.deepEqual(migrate(db, steps.slice(0, 1)), [1]);
    assert.equal(userVersion(db), 1);
    assert.deepEqual(migrate(db, steps), [2]);
    assert.equal(userVersion(db), 2);
    assert.deepEqual(migrate(db, steps), []);
  });

  it('a failing step changes nothing (its transaction rolls back)', () => {
    const db = openDatabase(':memory:', { migrations: [] });
    const bad: Migration[] = [
      {
        version: 1,
        description: 'half',
        up: (d) => {
          d.exec('CREATE TABLE half (x)');
          throw new Error('boom');
        },
      },
    ];
    assert.throws(() => migrate(db, bad), /boom/);
    assert.equal(userVersion(db), 0);
    assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").all().length, 0);
  });

  it('refuses a database from a newer confab', () => {
    const file = databasePath(tmp());
    const db = openDatabase(file);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(
      () => openDatabase(file),
      (err: unknown) => err instanceof CliError && /newer/.test(err.message),
    );
  });

  it('a file that is not a database is a clear error', () => {
    const file = join(tmp(), 'confab.db');
    writeFileSync(file, 'this is not sqlite, it is a letter to Romeo '.repeat(200));
    assert.throws(
      () => openDatabase(file),
      (err: unknown) => err instanceof CliError && /confab database/.test(err.message),
    );
  });

  it('has FTS5 and the schema the history needs', () => {
    const db = memory();
    const names = (
      db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    for (const t of ['kv', 'list', 'leases', 'messages', 'edits', 'messages_fts', 'sync_positions'])
      assert.ok(names.includes(t), t);
    assert.equal(MIGRATIONS.at(-1)!.version, SCHEMA_VERSION);
  });
});

describe('history: record and de-duplicate', () => {
  it('one message via live, carbon and the archive is stored once', () => {
    const h = new History(memory());
    assert.equal(h.record(fromRomeo()).status, 'added');
    // Carbon copy to another resource: no stanza-id here, same origin-id.
    assert.equal(
      h.record(fromRomeo({ stanzaId: undefined, via: 'carbon', to: `${ME}/other` })).status,
      'duplicate',
    );
    // The archive's copy: same stanza-id, with its delay.
    const r = h.record(fromRomeo({ via: 'mam', delay: new Date('2026-12-01T19:59:59Z') }));
    assert.equal(r.status, 'duplicate');
    // Offline delivery of a copy whose sender set no origin-id: (from, id, body) still matches.
    assert.equal(
      h.record(fromRomeo({ originId: undefined, stanzaId: undefined, via: 'offline' })).status,
      'duplicate',
    );
    const all = h.history(ME, ROMEO);
    assert.equal(all.length, 1);
    assert.equal(all[0]!.via, 'live');
    assert.equal(h.count(ME, ROMEO), 1);
  });

  it('our own message (as sent, no stanza-id) and its archive copy are one; the copy fills in the stanza-id', () => {
    const h = new History(memory());
    const sent: HistoryInput = {
      account: ME,
      peer: ROMEO,
      direction: 'out',
      id: 'x1',
      originId: 'x1',
      from: `${ME}/balcony`,
      to: ROMEO,
      body: 'Wherefore art thou',
      via: 'live',
    };
    assert.equal(h.record(sent).status, 'added');
    assert.equal(h.lastArchiveId(ME), undefined);
    assert.equal(h.record({ ...sent, stanzaId: { id: 'a-77', by: ME }, via: 'mam' }).status, 'duplicate');
    assert.equal(h.lastArchiveId(ME), 'a-77');
    assert.equal(h.lastArchiveId(ME, ROMEO), 'a-77');
    assert.equal(h.lastArchiveId(ME, 'nobody@example.org'), undefined);
    // Now even a copy with only the stanza-id is known.
    assert.equal(
      h.record({ ...sent, originId: undefined, id: undefined, stanzaId: { id: 'a-77', by: ME } }).status,
      'duplicate',
    );
    const [m] = h.history(ME, ROMEO);
    assert.equal(m!.direction, 'out');
    assert.equal(m!.stanzaId, 'a-77');
    assert.equal(m!.delay, undefined);
    // The archive's stamp (the server's clock) replaces our clock's time.
    const stamp = new Date('2026-12-01T08:00:00Z');
    h.record({ ...sent, stanzaId: { id: 'a-77', by: ME }, via: 'mam', delay: stamp });
    assert.equal(h.history(ME, ROMEO)[0]!.timestamp.toISOString(), stamp.toISOString());
  });

  it('the same id with another text is another message; another account is another history', () => {
    const h = new History(memory());
    const plain = { originId: undefined, stanzaId: undefined };
    h.record(fromRomeo({ ...plain, id: '1', body: 'one' }));
    assert.equal(h.record(fromRomeo({ ...plain, id: '1', body: 'two' })).status, 'added');
    assert.equal(h.record(fromRomeo({ account: 'nurse@capulet.lit' })).status, 'added');
    assert.equal(h.history(ME, ROMEO).length, 2);
    assert.equal(h.history('nurse@capulet.lit', ROMEO).length, 1);
  });

  it('normalises JIDs (case of domain and local part)', () => {
    const h = new History(memory());
    h.record(fromRomeo({ account: 'Juliet@Capulet.LIT', peer: 'Romeo@Montague.Lit' }));
    assert.equal(h.history(ME, ROMEO).length, 1);
    assert.deepEqual(
      h.conversations(ME).map((c) => [c.peer, c.messages]),
      [[ROMEO, 1]],
    );
  });

  it('returns the newest N oldest first, and pages back with a cursor', () => {
    const h = new History(memory());
    for (let i = 0; i < 10; i++) {
      h.record(
        fromRomeo({
          id: `m${i}`,
          originId: `o${i}`,
          stanzaId: { id: `s${i}`, by: ME },
          body: `line ${i}`,
          // two share a timestamp: the cursor must still split them exactly
          received: new Date(Date.UTC(2026, 11, 1, 20, 0, i === 5 ? 4 : i)),
        }),
      );
    }
    const last3 = h.history(ME, ROMEO, { limit: 3 });
    assert.deepEqual(
      last3.map((m) => m.body),
      ['line 7', 'line 8', 'line 9'],
    );
    const older = h.history(ME, ROMEO, { limit: 3, before: last3[0] });
    assert.deepEqual(
      older.map((m) => m.body),
      ['line 4', 'line 5', 'line 6'],
    );
    const older2 = h.history(ME, ROMEO, { limit: 3, before: older[0] });
    assert.deepEqual(
      older2.map((m) => m.body),
      ['line 1', 'line 2', 'line 3'],
    );
    assert.equal(
      h.history(ME, ROMEO, { limit: 50, before: new Date(Date.UTC(2026, 11, 1, 20, 0, 2)) }).length,
      2,
    );
  });

  it('uses the delay as the timestamp when there is one', () => {
    const h = new History(memory());
    const delay = new Date('2026-11-30T08:00:00Z');
    h.record(fromRomeo({ delay, via: 'offline' }));
    const [m] = h.history(ME, ROMEO);
    assert.equal(m!.timestamp.toISOString(), delay.toISOString());
    assert.equal(m!.delay?.toISOString(), delay.toISOString());
  });
});

describe('history: corrections and retractions', () => {
  const correction = (body: string, n: number, extra: Partial<HistoryInput> = {}): HistoryInput =>
    fromRomeo({
      id: `c${n}`,
      originId: `co${n}`,
      stanzaId: { id: `cs${n}`, by: ME },
      body,
      replace: 'm1',
      received: new Date(Date.UTC(2026, 11, 1, 20, n)),
      ...extra,
    });

  it('replaces the body, keeps a flag, and the index follows', () => {
    const h = new History(memory());
    h.record(fromRomeo());
    const r = h.record(correction('But soft, what candle through yonder window breaks?', 1));
    assert.equal(r.status, 'edit');
    const [m] = h.history(ME, ROMEO);
    assert.equal(m!.body, 'But soft, what candle through yonder window breaks?');
    assert.equal(m!.corrected, true);
    assert.equal(h.history(ME, ROMEO, { search: 'light' }).length, 0);
    assert.equal(h.history(ME, ROMEO, { search: 'candle' }).length, 1);
    // The same correction again (archive copy): nothing changes.
    assert.equal(
      h.record(correction('But soft, what candle through yonder window breaks?', 1, { via: 'mam' })).status,
      'duplicate-edit',
    );
    assert.equal(h.history(ME, ROMEO).length, 1);
  });

  it('only the original sender may correct or retract', () => {
    const h = new History(memory());
    h.record(fromRomeo());
    const tybalt = { from: 'tybalt@capulet.lit/sword', sender: 'tybalt@capulet.lit' };
    const r = h.record(correction('I love Tybalt', 1, tybalt));
    assert.deepEqual(r, { status: 'edit', appliedTo: undefined });
    h.record(
      fromRomeo({
        ...tybalt,
        id: 'r1',
        originId: 'ro1',
        stanzaId: undefined,
        replace: undefined,
        retract: 'm1',
      }),
    );
    const [m] = h.history(ME, ROMEO);
    assert.equal(m!.body, 'But soft, what light through yonder window breaks?');
    assert.equal(m!.corrected, false);
    assert.equal(m!.retracted, false);
  });

  it('a correction that arrives before its original is applied when the original comes', () => {
    const h = new History(memory());
    assert.deepEqual(h.record(correction('fixed', 1)), { status: 'edit', appliedTo: undefined });
    h.record(fromRomeo({ via: 'mam' }));
    const [m] = h.history(ME, ROMEO);
    assert.equal(m!.body, 'fixed');
    assert.equal(m!.corrected, true);
  });

  it('the newest correction wins whatever order they arrive in', () => {
    const h = new History(memory());
    h.record(fromRomeo());
    h.record(correction('second', 2));
    h.record(correction('first', 1));
    assert.equal(h.history(ME, ROMEO)[0]!.body, 'second');
    // A correction that names the previous correction's id (some clients do) reaches the original.
    h.record(correction('third', 3, { replace: 'c2' }));
    assert.equal(h.history(ME, ROMEO)[0]!.body, 'third');
  });

  it('a retraction clears the body for good and leaves the index', () => {
    const h = new History(memory());
    h.record(fromRomeo());
    h.record(
      fromRomeo({
        id: 'r1',
        originId: 'ro1',
        stanzaId: { id: 'rs1', by: ME },
        body: 'fallback',
        retract: 'o1',
      }),
    );
    h.record(correction('too late', 9));
    const [m] = h.history(ME, ROMEO);
    assert.equal(m!.retracted, true);
    assert.equal(m!.body, undefined);
    assert.equal(h.history(ME, ROMEO, { search: 'light' }).length, 0);
    assert.equal(h.history(ME, ROMEO, { search: 'late' }).length, 0);
  });
});

describe('history: search', () => {
  const seed = () => {
    const h = new History(memory());
    const texts = [
      'Parting is such sweet sorrow',
      'O Romeo, Romeo, wherefore art thou Romeo?',
      'A plague o\' both your houses! "quoted" AND NOT OR NEAR',
      "Café crème at the Montague's",
      'rose* by any other name',
    ];
    texts.forEach((body, i) => {
      h.record(fromRomeo({ id: `t${i}`, originId: `to${i}`, stanzaId: { id: `ts${i}`, by: ME }, body }));
    });
    h.record(
      fromRomeo({
        peer: 'mercutio@montague.lit',
        from: 'mercutio@montague.lit/x',
        sender: undefined,
        id: 'z',
        originId: 'zo',
        stanzaId: undefined,
        body: 'sweet Mercutio',
      }),
    );
    return h;
  };

  it('finds words, all of them, in this conversation only', () => {
    const h = seed();
    assert.deepEqual(
      h.history(ME, ROMEO, { search: 'sweet' }).map((m) => m.body),
      ['Parting is such sweet sorrow'],
    );
    assert.equal(h.history(ME, ROMEO, { search: 'sweet sorrow' }).length, 1);
    assert.equal(h.history(ME, ROMEO, { search: 'sweet plague' }).length, 0);
    assert.equal(h.history(ME, undefined, { search: 'sweet' }).length, 2);
    assert.equal(h.history(ME, ROMEO, { search: 'WHEREFORE' }).length, 1);
    assert.equal(h.history(ME, ROMEO, { search: 'cafe creme' }).length, 1, 'diacritics are folded');
    assert.equal(h.history(ME, ROMEO, { search: 'Mont*' }).length, 1, 'a trailing * is a prefix');
    assert.equal(h.history(ME, ROMEO, { search: 'Mont' }).length, 0);
  });

  it('no input is FTS5 syntax: operators and quotes are words, nothing throws', () => {
    const h = seed();
    assert.equal(h.history(ME, ROMEO, { search: 'AND' }).length, 1);
    assert.equal(h.history(ME, ROMEO, { search: 'NOT' }).length, 1);
    assert.equal(h.history(ME, ROMEO, { search: '"quoted"' }).length, 1);
    const hostile = [
      '"',
      '""',
      "'",
      '*',
      '**',
      'rose*',
      '-sweet',
      '^Parting',
      'body:sweet',
      'subject:x',
      'NEAR(sweet sorrow, 2)',
      'sweet OR',
      '(',
      ')',
      '{body}: x',
      'a"b',
      '\u0000',
      'sweet\u0000sorrow',
      '\\',
      '%_',
      "'; DROP TABLE messages; --",
      '😀',
      'x'.repeat(10_000),
      ' ',
      '',
    ];
    for (const q of hostile) {
      assert.doesNotThrow(
        () => h.history(ME, ROMEO, { search: q }),
        `search ${JSON.stringify(q.slice(0, 20))}`,
      );
    }
    assert.equal(h.history(ME, ROMEO, { search: '-sweet' }).length, 1, "'-' is not NOT");
    // Not a column filter: the phrase "body sweet", which no message has.
    assert.equal(h.history(ME, ROMEO, { search: 'body:sweet' }).length, 0);
    assert.equal(h.history(ME, ROMEO, { search: 'sweet:sorrow' }).length, 1, 'a phrase of adjacent words');
    assert.equal(h.history(ME, ROMEO, { search: '' }).length, 0);
    assert.equal(h.history(ME, ROMEO).length, 5, 'the table survived');
  });

  it('builds quoted queries', () => {
    assert.equal(ftsQuery('a "b" c*'), '"a" """b""" "c"*');
    assert.equal(ftsQuery('  -- ** '), undefined);
    assert.equal(ftsQuery('NEAR(x'), '"NEAR(x"');
  });
});

describe('history: sync positions', () => {
  it('are kept per conversation and can be cleared', () => {
    const h = new History(memory());
    assert.equal(h.syncPosition(ME, ROMEO), undefined);
    h.setSyncPosition(ME, ROMEO, 'a1');
    h.setSyncPosition(ME, ROMEO, 'a2');
    h.setSyncPosition(ME, 'nurse@capulet.lit', 'b1');
    assert.equal(h.syncPosition(ME, ROMEO), 'a2');
    h.clearSyncPosition(ME, ROMEO);
    assert.equal(h.syncPosition(ME, ROMEO), undefined);
    assert.equal(h.syncPosition(ME, 'nurse@capulet.lit'), 'b1');
  });
});

describe("history --sync of a room (the room's own archive)", () => {
  const ROOM = 'coven@chat.shakespeare.lit';
  /** A client whose disco says ROOM is a room (with `mam`), and whose archive pages are scripted. */
  function fakeClient(o: { mam: boolean; pages: (q: Record<string, unknown>) => Array<{ ids: string[] }> }) {
    const queries: Record<string, unknown>[] = [];
    const client = {
      disco: {
        info: async (to: string) => {
          if (to !== ROOM) throw Object.assign(new Error('no'), { code: 'ERR_STANZA' });
          return {
            identities: [{ category: 'conference', type: 'text' }],
            features: ['http://jabber.org/protocol/muc', ...(o.mam ? ['urn:xmpp:mam:2'] : [])],
          };
        },
      },
      mam: {
        supported: true,
        catchUp: async () => ({ count: 0 }),
        async *pages(q: Record<string, unknown>) {
          queries.push(q);
          for (const p of o.pages(q))
            yield { results: p.ids.map((id) => ({ id })), last: p.ids.at(-1), complete: false };
        },
      },
    } as unknown as Client;
    return { client, queries };
  }

  it('asks the room (archive = room): the newest messages first, then forward from the position', async () => {
    const h = new History(memory());
    const { client, queries } = fakeClient({
      mam: true,
      pages: (q) => (q.before === '' ? [{ ids: ['r3', 'r4'] }, { ids: ['r1', 'r2'] }] : [{ ids: ['r5'] }]),
    });
    const first = await syncConversation(client, h, ME, ROOM);
    assert.deepEqual(queries[0], { archive: ROOM, before: '', limit: ROOM_FIRST_SYNC, signal: undefined });
    assert.equal(first.room, true);
    assert.equal(first.fetched, 4);
    assert.equal(h.syncPosition(ME, ROOM), 'r4', 'the newest of the newest page');
    await syncConversation(client, h, ME, ROOM);
    assert.deepEqual(queries[1], { archive: ROOM, after: 'r4', signal: undefined });
    assert.equal(h.syncPosition(ME, ROOM), 'r5');
  });

  it('a room without an archive: nothing asked, supported false; a contact keeps the 1:1 path', async () => {
    const h = new History(memory());
    const { client, queries } = fakeClient({ mam: false, pages: () => [] });
    const r = await syncConversation(client, h, ME, ROOM);
    assert.deepEqual(r, { supported: false, room: true, fetched: 0, added: 0 });
    assert.equal(queries.length, 0);
    await syncConversation(client, h, ME, ROMEO);
    assert.equal(queries.length, 1);
    assert.equal(queries[0]?.with, ROMEO, 'our own archive, with the contact');
    assert.equal(queries[0]?.archive, undefined);
  });
});

// The Store contract (the cases shared with the in-memory store), on SQLite.
describe('SqliteStore (the Store contract)', () => {
  const fresh = () => new SqliteStore(memory(), ME);

  storeContract(fresh);

  it('can be marked non-durable', () => {
    assert.equal(new SqliteStore(memory(), ME, { durable: false }).durable, false);
  });

  it('keeps accounts apart in one database', async () => {
    const db = memory();
    const alice = new SqliteStore(db, 'alice@example.org');
    const bob = new SqliteStore(db, 'bob@example.org');
    await alice.apply([
      { op: 'set', ns: 'sm', key: 'state', value: 'A' },
      { op: 'push', list: 'outbox', key: '1', value: 'a1' },
    ]);
    await bob.apply([{ op: 'set', ns: 'sm', key: 'state', value: 'B' }]);
    assert.equal(await alice.get('sm', 'state'), 'A');
    assert.equal(await bob.get('sm', 'state'), 'B');
    assert.deepEqual(await bob.list('outbox'), []);
    await bob.apply([{ op: 'clear', list: 'outbox' }]);
    assert.equal((await alice.list('outbox')).length, 1);
  });

  it('outlives the process: a reopened file has everything, in order', async () => {
    const file = databasePath(tmp());
    const s1 = new SqliteStore(openDatabase(file), ME);
    await s1.apply([
      { op: 'set', ns: 'roster', key: 'meta', value: { ver: 'v7' } },
      { op: 'push', list: 'outbox', key: 'b', value: { id: 'b' } },
      { op: 'push', list: 'outbox', key: 'a', value: { id: 'a' } },
    ]);
    const s2 = new SqliteStore(openDatabase(file), ME);
    assert.deepEqual(await s2.get('roster', 'meta'), { ver: 'v7' });
    assert.deepEqual(
      (await s2.list('outbox')).map((i) => i.key),
      ['b', 'a'],
    );
    // A push after the reopen goes last, even though its key sorts first.
    await s2.apply([{ op: 'push', list: 'outbox', key: '0', value: 0 }]);
    assert.deepEqual(
      (await s2.list('outbox')).map((i) => i.key),
      ['b', 'a', '0'],
    );
  });
});

describe('leases', () => {
  it('one live process holds an account; a dead holder is taken over', () => {
    const db = memory();
    assert.equal(acquireLease(db, ME, process.pid), true);
    assert.equal(acquireLease(db, ME, process.pid), true, 'again by the same process');
    // Another live process (our parent) cannot take it.
    assert.equal(acquireLease(db, ME, process.ppid), false);
    assert.equal(acquireLease(db, ROMEO, process.ppid), true, 'another account is free');
    releaseLease(db, ME, process.pid);
    assert.equal(acquireLease(db, ME, process.ppid), true);
    // A pid that does not exist holds nothing.
    const db2 = memory();
    assert.equal(acquireLease(db2, ME, 2 ** 22 + 12345), true);
    assert.equal(acquireLease(db2, ME, process.pid), true);
  });
});

// ---------------------------------------------------------------- the recorder

type Handler = (payload: unknown) => void;

/** The part of Client the recorder uses, driven by hand. */
function fakeClient(): { client: Client; emit(event: string, payload: unknown): void } {
  const handlers = new Map<string, Handler[]>();
  const on = (event: string, h: Handler) => {
    handlers.set(event, [...(handlers.get(event) ?? []), h]);
    return () => {};
  };
  const client = { jid: `${ME}/balcony`, on, messages: { on } } as unknown as Client;
  const emit = (event: string, payload: unknown) => {
    for (const h of handlers.get(event) ?? []) h(payload);
  };
  return { client, emit };
}

function message(fields: Partial<Message> & { sids?: Record<string, string> }): Message {
  const el = xml('message', {});
  return {
    to: `${ME}/balcony`,
    id: 'i1',
    type: 'chat',
    body: 'hi',
    subject: undefined,
    thread: undefined,
    delay: undefined,
    originId: 'oi1',
    source: 'live',
    outgoing: false,
    receivedAt: new Date('2026-12-01T10:00:00Z'),
    element: el,
    stanzaId: (by?: string) => fields.sids?.[by ?? ME],
    ...fields,
  } as Message;
}

describe('recorder', () => {
  it('records received, carbon-sent and archive copies once each, and what we send', () => {
    const h = new History(memory());
    const { client, emit } = fakeClient();
    recordSession(client, { history: h, account: ME });
    emit('message', message({ from: `${ROMEO}/orchard` as never, sids: { [ME]: 's1' } }));
    emit('message', message({ from: `${ROMEO}/orchard` as never, sids: { [ME]: 's1' }, source: 'archive' }));
    // Our message from another of our clients (carbon-sent).
    emit(
      'message',
      message({
        from: `${ME}/phone` as never,
        to: ROMEO as never,
        id: 'p1',
        originId: 'p1',
        body: 'from my phone',
        source: 'carbon-sent',
        outgoing: true,
      }),
    );
    // A chat state: not history.
    emit(
      'message',
      message({ from: `${ROMEO}/orchard` as never, id: 'cs', originId: 'cs', body: undefined }),
    );
    // What we send, as the wire sees it.
    emit(
      'stanzaOut',
      xml(
        'message',
        { to: ROMEO, type: 'chat', id: 'me1' },
        xml('body', {}, 'from here'),
        xml('origin-id', { xmlns: 'urn:xmpp:sid:0', id: 'me1' }),
      ),
    );
    emit(
      'stanzaOut',
      xml(
        'message',
        { to: ROMEO, type: 'chat', id: 'st' },
        xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' }),
      ),
    );
    // A correction event from the library.
    emit('correction', {
      id: 'i1',
      body: 'hello',
      message: message({
        from: `${ROMEO}/orchard` as never,
        id: 'c1',
        originId: 'c1',
        body: 'hello',
        replace: 'i1',
      }),
    });
    const msgs = h.history(ME, ROMEO);
    assert.deepEqual(
      msgs.map((m) => [m.direction, m.body, m.via, m.corrected]),
      [
        ['in', 'hello', 'live', true],
        ['out', 'from my phone', 'carbon', false],
        ['out', 'from here', 'live', false],
      ],
    );
    assert.equal(msgs[2]!.from, `${ME}/balcony`);
  });

  it('rooms: the conversation is the room, our reflection is ours', () => {
    const h = new History(memory());
    const { client, emit } = fakeClient();
    recordSession(client, { history: h, account: ME });
    const room = 'verona@chat.capulet.lit';
    emit(
      'stanzaOut',
      xml(
        'message',
        { to: room, type: 'groupchat', id: 'g1' },
        xml('body', {}, 'hello room'),
        xml('origin-id', { xmlns: 'urn:xmpp:sid:0', id: 'g1' }),
      ),
    );
    assert.equal(h.history(ME, room).length, 0, 'not as sent: the reflection comes');
    emit(
      'message',
      message({
        from: `${room}/juliet` as never,
        type: 'groupchat',
        id: 'g1',
        originId: 'g1',
        body: 'hello room',
        sids: { [room]: 'r1' },
      }),
    );
    emit(
      'message',
      message({
        from: `${room}/nurse` as never,
        type: 'groupchat',
        id: 'g2',
        originId: 'g2',
        body: 'anon',
        sids: { [room]: 'r2' },
      }),
    );
    const msgs = h.history(ME, room);
    assert.deepEqual(
      msgs.map((m) => [m.direction, m.from, m.stanzaIdBy]),
      [
        ['out', `${room}/juliet`, room],
        ['in', `${room}/nurse`, room],
      ],
    );
  });

  it('reads outgoing corrections and retractions', () => {
    const corr = outgoing(
      xml(
        'message',
        { to: ROMEO, type: 'chat', id: 'c' },
        xml('body', {}, 'fixed'),
        xml('replace', { xmlns: 'urn:xmpp:message-correct:0', id: 'orig' }),
      ),
      ME,
      `${ME}/x`,
    );
    assert.equal(corr?.replace, 'orig');
    assert.equal(corr?.body, 'fixed');
    const retr = outgoing(
      xml(
        'message',
        { to: ROMEO, type: 'chat', id: 'r' },
        xml('body', {}, 'fallback'),
        xml('retract', { xmlns: 'urn:xmpp:message-retract:1', id: 'orig' }),
      ),
      ME,
      `${ME}/x`,
    );
    assert.equal(retr?.retract, 'orig');
    assert.equal(retr?.body, undefined);
    assert.equal(
      outgoing(xml('message', { to: ROMEO, type: 'error' }, xml('body', {}, 'x')), ME, ME),
      undefined,
    );
  });
});
