/**
 * The one mapping from the CLI's resolved account (account.ts) to the library's connection
 * options: used by the one-shot session (library.ts), `confab register` (library-accounts.ts) and
 * the full-screen client (chat/library-backend.ts), which add their own session options.
 */
import type { ClientOptions } from 'confab';
import type { ResolvedAccount } from './account.ts';

/**
 * The createClient options that say how to reach and trust the server for `account`: host,
 * port, direct TLS, WebSocket, extra CA, pin, plaintext, legacy auth, resource. The one mapping
 * from the CLI's resolved account to the library (each caller adds the session's own).
 */
export function connectionOptions(account: ResolvedAccount): ClientOptions {
  return {
    jid: account.jid,
    password: undefined,
    resource: account.resource,
    host: account.host,
    port: account.port,
    directTls: account.directTls,
    websocket: account.websocket,
    tls: { caFile: account.ca, pin: account.pin },
    allowPlaintext: account.allowPlaintext,
    legacyAuth: account.legacyAuth,
  };
}
