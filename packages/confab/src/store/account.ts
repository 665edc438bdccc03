/**
 * Account facts kept between runs (store/types.ts `AccountFacts`). Today: the
 * SASL mechanism of the last successful login, so that a login with a weaker one
 * (a stripped SCRAM-SHA-256, a PLAIN where SCRAM worked before) can be warned
 * about (RFC 6120 6.4.2 leaves the choice to the client; the downgrade check is
 * ours).
 */
import { ACCOUNT_FACTS_KEY, ACCOUNT_NS, type AccountFacts, type Json, type Store } from './types.ts';

/** The stored facts, or `{}` when nothing was stored yet. */
export async function loadAccountFacts(store: Store): Promise<AccountFacts> {
  const v = await store.get(ACCOUNT_NS, ACCOUNT_FACTS_KEY);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return {};
  const facts: AccountFacts = {};
  if (typeof v.saslMechanism === 'string') facts.saslMechanism = v.saslMechanism;
  if (typeof v.saslMechanismAt === 'number') facts.saslMechanismAt = v.saslMechanismAt;
  return facts;
}

/** Merge `patch` into the stored facts. */
export async function saveAccountFacts(store: Store, patch: AccountFacts): Promise<void> {
  const facts = { ...(await loadAccountFacts(store)), ...patch };
  await store.apply([{ op: 'set', ns: ACCOUNT_NS, key: ACCOUNT_FACTS_KEY, value: facts as Json }]);
}
