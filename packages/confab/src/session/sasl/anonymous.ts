/**
 * SASL ANONYMOUS (RFC 4505), for servers that allow guest logins (XEP-0175).
 *
 * The initial response is the optional "trace" token; we send none (an empty response, which
 * RFC 6120 6.4.2 says to transmit as `=`), so nothing identifying leaves the client.
 */
import { ConfabError } from '../../errors.ts';
import type { SaslMechanism } from './types.ts';

/** An ANONYMOUS mechanism for one login attempt. */
export function createAnonymous(): SaslMechanism {
  return {
    name: 'ANONYMOUS',
    async start() {
      return new Uint8Array(0);
    },
    async challenge() {
      throw new ConfabError(
        'ERR_AUTH_PROTOCOL',
        'ANONYMOUS: the server sent a challenge, which ANONYMOUS does not have',
      );
    },
    async success() {},
  };
}
