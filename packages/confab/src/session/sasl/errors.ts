/**
 * SASL failures as typed errors.
 *
 * Specs: RFC 6120 (XMPP Core) 6.5 "SASL Errors" (the `<failure/>` conditions and `<text/>`);
 * RFC 5802 (SCRAM) 7 `server-error-value` (the `e=` attribute of server-final-message).
 *
 * Every auth failure is a ConfabError with code `ERR_AUTH` and the condition, so callers match
 * `err.condition`, never the message. None of them should trigger a reconnect loop; only
 * `temporary-auth-failure` is worth retrying later (see `isRetryableAuthFailure`).
 */
import { ConfabError } from '../../errors.ts';
import type { Element } from '../../xml/element.ts';

export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

// What each RFC 6120 6.5 condition means to the person logging in.
const FAILURE_TEXT: Record<string, string> = {
  aborted: 'the attempt was aborted',
  'account-disabled': 'the account is disabled',
  'credentials-expired': 'the password has expired; change it first',
  'encryption-required': 'the server requires an encrypted connection for this mechanism',
  'incorrect-encoding': 'the server could not decode what we sent',
  'invalid-authzid': 'the authorization identity is not valid',
  'invalid-mechanism': 'the server does not support the mechanism we chose',
  'malformed-request': 'the server found our request malformed',
  'mechanism-too-weak': 'the server considers the mechanism too weak for this account',
  'not-authorized': 'wrong username or password',
  'temporary-auth-failure': 'a temporary problem at the server; try again later',
};

/**
 * Turn a SASL `<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>` into a ConfabError
 * `ERR_AUTH` with `condition` (e.g. `not-authorized`), `text` (the server's words, if any) and
 * `element`. An unknown or missing condition is reported as such (condition `undefined` when
 * the server gave none).
 *
 * @example
 * saslFailureError(el).message // 'Authentication failed: wrong username or password (not-authorized)'
 */
export function saslFailureError(el: Element): ConfabError {
  let condition: string | undefined;
  for (const c of el.elements()) {
    if (c.name !== 'text' && (c.xmlns === NS_SASL || c.xmlns === '')) {
      condition = c.name;
      break;
    }
  }
  const text = el.getChildText('text', NS_SASL) ?? el.getChildText('text');
  const meaning = condition === undefined ? 'the server gave no reason' : FAILURE_TEXT[condition];
  let message =
    meaning === undefined
      ? `Authentication failed (${condition})`
      : `Authentication failed: ${meaning}${condition === undefined ? '' : ` (${condition})`}`;
  if (text) message += `: the server says "${text}"`;
  return new ConfabError('ERR_AUTH', message, { condition, text: text || undefined, element: el });
}

/** Only a temporary failure at the server is worth another attempt (later, not in a loop). */
export function isRetryableAuthFailure(err: unknown): boolean {
  return err instanceof ConfabError && err.code === 'ERR_AUTH' && err.condition === 'temporary-auth-failure';
}

// RFC 5802 7 server-error-value, in words.
const SCRAM_TEXT: Record<string, string> = {
  'invalid-encoding': 'the server could not decode our message',
  'extensions-not-supported': 'the server does not support an extension we used',
  'invalid-proof': 'wrong username or password',
  'channel-bindings-dont-match': 'channel binding mismatch: the TLS connection may be intercepted',
  'server-does-support-channel-binding':
    'the server supports channel binding but did not offer it to us: someone may have removed it (a man in the middle?)',
  'channel-binding-not-supported': 'the server does not support channel binding',
  'unsupported-channel-binding-type': 'the server does not support the channel binding type we chose',
  'unknown-user': 'unknown user',
  'invalid-username-encoding': 'the username is not valid',
  'no-resources': 'the server is out of resources; try again later',
  'other-error': 'the server reported an error',
};

/** A SCRAM `e=` server error as a ConfabError `ERR_AUTH` whose condition is the error value. */
export function scramServerError(mechanism: string, value: string): ConfabError {
  const meaning = SCRAM_TEXT[value] ?? 'the server reported an error';
  return new ConfabError('ERR_AUTH', `Authentication failed: ${meaning} (${mechanism} error ${value})`, {
    condition: value,
  });
}
