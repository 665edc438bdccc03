/**
 * The session's seam to the Store (src/store/, a later module): the little the
 * session layer remembers per account across connections and processes. Today:
 * the SASL mechanism used last, to warn when a later login is weaker (a server
 * whose offer shrank, or someone on the path stripping mechanisms). The outbox and
 * stream-management state (session/outbox.ts, session/sm.ts) will live here too.
 *
 * Sync or async, so an in-memory map and a database both fit.
 */
export interface SessionStore {
  get(key: string): string | undefined | Promise<string | undefined>;
  set(key: string, value: string): void | Promise<void>;
}

/** Keys the session uses, one place. */
export const storeKeys = {
  lastMechanism: (bareJid: string) => `session/sasl-mechanism/${bareJid}`,
};

/** The default: remembered for the life of the client object only. */
export function memoryStore(): SessionStore {
  const m = new Map<string, string>();
  return { get: (k) => m.get(k), set: (k, v) => void m.set(k, v) };
}
