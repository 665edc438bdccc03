/**
 * Reconnect policy: jittered exponential backoff with a cap, and which failures
 * end the session for good (DESIGN principle 9; RFC 6120 3.3 "Reconnection":
 * clients SHOULD wait a random delay, so that a restarted server is not hit by
 * every client at once).
 *
 * Delay for attempt n (1-based): d = min(maxDelay, initialDelay * factor^(n-1)),
 * then "equal jitter": a random value in [d/2, d]. Half the delay is guaranteed
 * (no hammering), the other half spreads the herd.
 */
import type { ConfabError } from '../errors.ts';
import { FINAL_STREAM_CONDITIONS } from './stream-error.ts';

/** Reconnect settings. */
export interface ReconnectOptions {
  /** Reconnect after a connection that was online drops. Default true. */
  enabled: boolean;
  /** First delay in ms. Default 1000. */
  initialDelay: number;
  /** Upper bound of the delay in ms. Default 60 000. */
  maxDelay: number;
  /** Growth per attempt. Default 2. */
  factor: number;
  /** Give up after this many attempts in a row (default: never). */
  maxAttempts: number;
}

export const DEFAULT_RECONNECT: ReconnectOptions = {
  enabled: true,
  initialDelay: 1000,
  maxDelay: 60_000,
  factor: 2,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/** Backoff delay for a 1-based attempt; `random` in [0, 1) (injectable for tests). */
export function backoffDelay(
  attempt: number,
  o: ReconnectOptions,
  random: () => number = Math.random,
): number {
  const exp = o.initialDelay * o.factor ** Math.max(0, attempt - 1);
  const d = Math.min(o.maxDelay, exp);
  return Math.round(d / 2 + random() * (d / 2));
}

/**
 * True when reconnecting cannot help or would do harm: authentication failed
 * (retrying a wrong password gets accounts locked and IPs banned, e.g. by
 * ejabberd's mod_fail2ban), TLS would be weakened or the certificate is bad, or
 * the server ended the stream with a final condition (`conflict`: another client
 * took our resource, and taking it back would start a fight).
 */
export function isFinalError(err: ConfabError | undefined): boolean {
  if (!err) return false;
  switch (err.code) {
    case 'ERR_AUTH':
    case 'ERR_AUTH_NO_MECHANISM':
    case 'ERR_AUTH_SERVER_SIGNATURE':
    case 'ERR_AUTH_PROTOCOL':
    case 'ERR_TLS_CERT':
    case 'ERR_TLS_PIN':
    case 'ERR_TLS_REQUIRED':
    case 'ERR_PLAINTEXT_REFUSED':
    case 'ERR_BAD_INPUT':
    case 'ERR_UNSUPPORTED':
      return true;
    case 'ERR_STREAM':
      return err.condition !== undefined && FINAL_STREAM_CONDITIONS.has(err.condition);
    case 'ERR_BIND':
      return err.condition === 'conflict' || err.condition === 'not-allowed';
    default:
      return false;
  }
}
