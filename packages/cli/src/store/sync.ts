/**
 * `confab history --sync`: catch up with the server's archive (XEP-0313 v1.1, `urn:xmpp:mam:2`,
 * paged with XEP-0059 v1.0 RSM) before showing a conversation.
 *
 * First the library's own catch-up of the whole account since its stored position (so every
 * conversation gains what arrived while no confab ran); then the conversation with `peer`
 * (`with` = the peer's JID), forward from where the last sync of it ended (`sync_positions`),
 * from the archive's start the first time. The results go through the library's message
 * handling (trust checks, de-duplication, corrections) into the recorder (recorder.ts), so they
 * land in the history once however often one syncs. The position advances after each page.
 * A stored position the archive no longer has (`item-not-found`: expired) restarts from the start.
 */
import { type Client, StanzaError } from 'confab';
import type { History } from './history.ts';

/** What a sync did. */
export interface SyncResult {
  /** False when the server keeps no archive for the account (nothing was fetched). */
  supported: boolean;
  /** Archive results fetched for the conversation. */
  fetched: number;
  /** Messages of the conversation that were new to the history. */
  added: number;
}

/** Catches up the history of `account` with `peer` from the server's archive. */
export async function syncConversation(
  client: Client,
  history: History,
  account: string,
  peer: string,
  signal?: AbortSignal,
): Promise<SyncResult> {
  const caught = await client.mam.catchUp().catch((err: unknown) => {
    // The account-wide catch-up failing need not stop the conversation's own query.
    if (client.mam.supported === true) return null;
    throw err;
  });
  if (caught === undefined || client.mam.supported !== true)
    return { supported: false, fetched: 0, added: 0 };
  const before = history.count(account, peer);
  let fetched = 0;
  const run = async (after: string | undefined) => {
    for await (const page of client.mam.pages({ with: peer, after, signal })) {
      fetched += page.results.length;
      const newest = page.results.at(-1)?.id ?? page.last;
      if (newest !== undefined) history.setSyncPosition(account, peer, newest);
    }
  };
  const after = history.syncPosition(account, peer);
  try {
    await run(after);
  } catch (err) {
    if (after === undefined || !(err instanceof StanzaError && err.condition === 'item-not-found')) throw err;
    history.clearSyncPosition(account, peer);
    await run(undefined);
  }
  return { supported: true, fetched, added: history.count(account, peer) - before };
}
