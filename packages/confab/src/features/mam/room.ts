/**
 * Room history from the room's own archive: XEP-0313 v1.1 "Message Archive Management" section
 * 6 ("Querying a MUC archive": the query goes to the room's bare JID) with XEP-0059 paging, for
 * rooms of XEP-0045 v1.35 that advertise `urn:xmpp:mam:2`.
 *
 * The query itself is the Mam feature's (mam.ts): it opens the query with the room as its
 * archive and believes a `<result/>` only when it comes from the room's bare JID with the
 * query's random queryid (XEP-0313 9.2), closing the query at its `<fin/>`. Results are NOT
 * handed to the one-to-one messages pipeline (`ingest: false`): a room's messages belong to
 * the room. Each is fed to the Room's own `ingest`, which de-duplicates it against the live
 * messages (and the join history) the same way 1:1 history is: by the room's stanza-id (the
 * archive id), else origin-id, else sender + id + body; what the room already showed is not
 * shown again, and each new one is emitted once as a `message` event with `source: 'archive'`.
 */
import { ConfabError, StanzaError } from '../../errors.ts';
import type { Room } from '../muc/room.ts';
import type { GroupMessage } from '../muc/types.ts';
import type { Mam, MamQuery } from './mam.ts';

/** What a room history request takes. */
export interface RoomHistoryOptions {
  /** The newest N messages (paging backward from the end). Default 50 unless `since`/`after` is given. */
  last?: number | undefined;
  /** Everything since this time (paging forward). */
  since?: Date | undefined;
  /** Up to this time. */
  until?: Date | undefined;
  /** Forward from this archive id (e.g. the newest one already shown). */
  after?: string | undefined;
  /** Backward from this archive id (scrollback: the oldest one shown). */
  before?: string | undefined;
  /** At most this many messages fetched (forward queries; `last` bounds backward ones). */
  limit?: number | undefined;
  /** Page size. */
  max?: number | undefined;
  signal?: AbortSignal | undefined;
  timeout?: number | undefined;
}

/** The result: the new messages (duplicates of what the room showed dropped), oldest first. */
export interface RoomHistory {
  messages: GroupMessage[];
  /** Archived results fetched, duplicates included. */
  fetched: number;
  /** Archive ids of the oldest and newest result fetched (cursors for more). */
  first: string | undefined;
  last: string | undefined;
  /** The archive said there is no more in the direction asked. */
  complete: boolean;
}

/** The part of a Room the history needs. */
export type HistoryRoom = Pick<Room, 'jid' | 'ingest'>;

const DEFAULT_LAST = 50;

/**
 * Fetch a room's archived messages and feed them through the room's de-duplication.
 *
 * @example
 * const room = await client.muc.join('kitchen@conference.example.org', { nick: 'Jules' });
 * const h = await client.mam.roomHistory(room, { last: 20 });
 * for (const m of h.messages) console.log(m.nick, m.body);
 */
export async function roomHistory(
  mam: Mam,
  room: HistoryRoom,
  o: RoomHistoryOptions = {},
): Promise<RoomHistory> {
  const forward =
    o.before === undefined && (o.since !== undefined || o.after !== undefined) && o.last === undefined;
  const base: MamQuery = {
    archive: room.jid,
    ingest: false,
    start: o.since,
    end: o.until,
    max: o.max,
    signal: o.signal,
    timeout: o.timeout,
  };
  const q: MamQuery = forward
    ? { ...base, after: o.after, limit: o.limit }
    : { ...base, before: o.before ?? '', limit: o.last ?? o.limit ?? DEFAULT_LAST };
  if (!forward && q.max === undefined) q.max = q.limit;
  const results = [];
  let complete = false;
  try {
    for await (const page of mam.pages(q)) {
      // Backward pages come newest page first; each page is chronological.
      if (forward) results.push(...page.results);
      else results.unshift(...page.results);
      complete = page.complete;
    }
  } catch (err) {
    if (err instanceof StanzaError && NO_ARCHIVE.has(err.condition ?? '')) {
      throw new ConfabError('ERR_UNSUPPORTED', `The room ${room.jid} keeps no archive (XEP-0313)`, {
        cause: err,
        condition: err.condition,
        element: err.element,
      });
    }
    throw err;
  }
  const messages: GroupMessage[] = [];
  for (const r of results) {
    const g = room.ingest(r.message, { archiveId: r.id, delay: r.delay });
    if (g) messages.push(g);
  }
  return {
    messages,
    fetched: results.length,
    first: results[0]?.id,
    last: results.at(-1)?.id,
    complete,
  };
}

/** Conditions that mean "no archive here". */
const NO_ARCHIVE = new Set(['service-unavailable', 'feature-not-implemented']);
