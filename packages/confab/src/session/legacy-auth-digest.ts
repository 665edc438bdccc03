/**
 * The digest of legacy authentication, XEP-0078 (Non-SASL Authentication) 2.5 section 3:
 * lowercase hex SHA-1 of (stream id + password), both UTF-8 and unescaped. WebCrypto only.
 *
 * XEP-0078 is deprecated; confab uses it only when the server offers no SASL or when asked.
 * The digest proves knowledge of the password without sending it, but anyone who sees it can
 * brute-force the password offline, and the server must store the password in plain: prefer
 * SASL SCRAM wherever the server has it.
 */
import { utf8 } from '../util/base64.ts';

/**
 * `<digest/>` value for jabber:iq:auth.
 *
 * @example
 * await legacyAuthDigest('3EE948B0', 'Calli0pe') // '48fc78be9ec8f86d8ce1c39c320c97c21d62334d'
 */
export async function legacyAuthDigest(streamId: string, password: string): Promise<string> {
  const hash = new Uint8Array(
    await crypto.subtle.digest('SHA-1', utf8(streamId + password) as Uint8Array<ArrayBuffer>),
  );
  let hex = '';
  for (const b of hash) hex += (b < 16 ? '0' : '') + b.toString(16);
  return hex;
}
