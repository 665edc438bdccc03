/**
 * History and session state for any confab client object in two steps, for every part of the CLI
 * that creates a library client (library.ts `createSession`, the full-screen client's backend):
 *
 *   const storage = openAccountStorage(dataDirOf(env), account, note);
 *   const client = createClient({ ..., store: storage?.store });
 *   const history = storage?.attach(client);   // before connect: records everything from the start
 *   ...
 *   await client.disconnect(); storage?.close();
 *
 * A database that cannot be opened costs the history (a note), never the command.
 */
import type { Client, Store } from 'confab';
import { normalJid } from './history.ts';
import { recordSession } from './recorder.ts';
import { openSessionStorage } from './session.ts';
import { syncConversation } from './sync.ts';
import type { CliHistory } from './types.ts';

export interface AccountStorage {
  /** For createClient's `store`; undefined while another live confab process holds the account. */
  readonly store: Store | undefined;
  /** Starts recording `client`'s messages into the history; returns the history API. Call once. */
  attach(client: Client): CliHistory;
  /** Stops recording, gives the account's lease back, closes the database. Idempotent. */
  close(): void;
}

/** Opens the database under `dataDir` for `account`; undefined (after a note) when it cannot. */
export function openAccountStorage(
  dataDir: string,
  account: string,
  note?: ((text: string) => void) | undefined,
): AccountStorage | undefined {
  let storage: ReturnType<typeof openSessionStorage>;
  try {
    storage = openSessionStorage(dataDir, account);
  } catch (err) {
    note?.(`confab: not keeping history: ${(err as Error).message}`);
    return undefined;
  }
  const acct = normalJid(account);
  const stops: Array<() => void> = [];
  return {
    store: storage.store,
    attach(client) {
      stops.push(
        recordSession(client, {
          history: storage.history,
          account: acct,
          trustStanzaIds: () => client.mam.supported !== false,
          onError: (err) => note?.(`confab: could not record a message in the history: ${String(err)}`),
        }),
      );
      return {
        account: acct,
        store: storage.history,
        sync: (peer, signal) => syncConversation(client, storage.history, acct, peer, signal),
        catchUp: async () => (await client.mam.catchUp())?.count,
      };
    },
    close() {
      for (const stop of stops.splice(0)) stop();
      storage.close();
    },
  };
}
