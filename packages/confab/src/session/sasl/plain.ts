/**
 * SASL PLAIN (RFC 4616): `authzid NUL authcid NUL passwd` in one message.
 *
 * The password travels as is, so `chooseMechanism()` only picks PLAIN on a TLS stream or when
 * the user allowed plaintext explicitly (RFC 6120 13.8.3).
 */
import { ConfabError } from '../../errors.ts';
import { utf8 } from '../../util/base64.ts';
import { saslprep } from './scram.ts';
import type { SaslContext, SaslMechanism } from './types.ts';

/** A PLAIN mechanism for one login attempt. */
export function createPlain(ctx: SaslContext): SaslMechanism {
  return {
    name: 'PLAIN',
    async start() {
      const { username, password, authzid } = ctx.credentials;
      // RFC 4616 2: the fields must not contain NUL (it separates them).
      if (`${authzid ?? ''}${username}${password}`.includes('\u0000')) {
        throw new ConfabError('ERR_BAD_INPUT', 'PLAIN: the username or password contains a NUL character');
      }
      return utf8(`${authzid ?? ''}\u0000${saslprep(username)}\u0000${saslprep(password)}`);
    },
    async challenge() {
      throw new ConfabError(
        'ERR_AUTH_PROTOCOL',
        'PLAIN: the server sent a challenge, which PLAIN does not have',
      );
    },
    async success() {},
  };
}
