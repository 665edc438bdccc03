/** The history as a CLI session offers it (session.ts `CliSession.history`). */
import type { History } from './history.ts';
import type { SyncResult } from './sync.ts';

export type { Conversation, HistoryQuery, RecordResult, StoredMessage } from './history.ts';
export type { SyncResult } from './sync.ts';

export interface CliHistory {
  /** Our account's bare JID (the `account` of the records). */
  readonly account: string;
  /** The history this session records into: `history(account, peer, {limit, search, before})`, `record`... */
  readonly store: History;
  /** Catches up the conversation with `peer` from the server's archive (MAM); see store/sync.ts. */
  sync(peer: string, signal?: AbortSignal): Promise<SyncResult>;
  /**
   * Catches up the whole account from the archive since the last position (the library's MAM
   * catch-up; sessions do not do it by themselves). Resolves with the number of messages
   * fetched, undefined when the server keeps no archive.
   */
  catchUp(): Promise<number | undefined>;
}
