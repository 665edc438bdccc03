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
 *
 * A room (disco#info: identity conference/text, or the MUC feature; XEP-0045 v1.35 6.4) keeps
 * its own archive (XEP-0313 6, "Querying a MUC archive"): the query goes to the room's bare JID,
 * without joining. The library believes a result only from that bare JID with our random
 * queryid (mam.ts), and hands it on as a group message of the room (source 'archive', the
 * result id as the room's stanza-id), which the recorder stores under the room (`via: 'mam'`,
 * de-duplicated by the room's stanza-id). The first sync of a room takes its newest
 * ROOM_FIRST_SYNC messages (a public room's archive can be years long), later ones page
 * forward from the position.
 */
import { type Client, StanzaError } from 'confab';
import type { History } from './history.ts';

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MAM = 'urn:xmpp:mam:2';
/** How many of a room's newest messages the first sync takes. */
export const ROOM_FIRST_SYNC = 500;

/** What a sync did. */
export interface SyncResult {
  /** False when the server keeps no archive for the account (nothing was fetched). */
  supported: boolean;
  /** Archive results fetched for the conversation. */
  fetched: number;
  /** Messages of the conversation that were new to the history. */
  added: number;
  /** The JID is a room: the room's own archive was asked (`supported`: the room keeps one). */
  room?: boolean | undefined;
}

/** What disco#info says about `peer`: a room (and whether it archives), or not (errors: not a room). */
export async function roomOf(client: Client, peer: string): Promise<{ archive: boolean } | undefined> {
  let info: Awaited<ReturnType<Client['disco']['info']>>;
  try {
    info = await client.disco.info(peer);
  } catch {
    return undefined;
  }
  const room =
    info.identities.some((i) => i.category === 'conference' && i.type === 'text') ||
    info.features.includes(NS_MUC);
  return room ? { archive: info.features.includes(NS_MAM) } : undefined;
}

/** Catches up the history of `account` in `room` from the room's own archive (see above). */
export async function syncRoom(
  client: Client,
  history: History,
  account: string,
  room: string,
  signal?: AbortSignal,
): Promise<SyncResult> {
  const before = history.count(account, room);
  let fetched = 0;
  const forward = async (after: string) => {
    for await (const page of client.mam.pages({ archive: room, after, signal })) {
      fetched += page.results.length;
      const newest = page.results.at(-1)?.id ?? page.last;
      if (newest !== undefined) history.setSyncPosition(account, room, newest);
    }
  };
  const newest = async () => {
    // Backward from the end: the newest page first; its last result is the archive's newest.
    let top: string | undefined;
    for await (const page of client.mam.pages({
      archive: room,
      before: '',
      limit: ROOM_FIRST_SYNC,
      signal,
    })) {
      fetched += page.results.length;
      top ??= page.results.at(-1)?.id ?? page.last;
    }
    if (top !== undefined) history.setSyncPosition(account, room, top);
  };
  const after = history.syncPosition(account, room);
  if (after === undefined) await newest();
  else {
    try {
      await forward(after);
    } catch (err) {
      if (!(err instanceof StanzaError && err.condition === 'item-not-found')) throw err;
      history.clearSyncPosition(account, room);
      await newest();
    }
  }
  return { supported: true, room: true, fetched, added: history.count(account, room) - before };
}

/** Catches up the history of `account` with `peer` from the server's archive. */
export async function syncConversation(
  client: Client,
  history: History,
  account: string,
  peer: string,
  signal?: AbortSignal,
): Promise<SyncResult> {
  const room = await roomOf(client, peer);
  if (room !== undefined) {
    if (!room.archive) return { supported: false, room: true, fetched: 0, added: 0 };
    return syncRoom(client, history, account, peer, signal);
  }
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
