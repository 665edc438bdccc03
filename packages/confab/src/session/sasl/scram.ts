/**
 * SCRAM client: SCRAM-SHA-1, SCRAM-SHA-256 and their -PLUS (channel binding) variants.
 *
 * Specs:
 * - RFC 5802 (SCRAM, SCRAM-SHA-1, GS2 header, channel binding flags `n` / `y` / `p=`)
 * - RFC 7677 (SCRAM-SHA-256; iteration count at least 4096)
 * - RFC 4013 (SASLprep; approximated, see `saslprep`)
 * - RFC 5929 (tls-unique, tls-server-end-point), RFC 9266 (tls-exporter)
 * - XEP-0438 0.2 (Password storage best practices: caching the derived keys client-side)
 *
 * The key derivation is one `crypto.subtle.deriveBits` PBKDF2 call: the platform runs the 4096+
 * iterations natively. (Running them as awaited HMACs in JavaScript is what makes some clients
 * 100x slower to log in.)
 */
import { ConfabError } from '../../errors.ts';
import type { ChannelBindingType } from '../../transport/types.ts';
import { fromBase64, fromUtf8, toBase64, utf8 } from '../../util/base64.ts';
import { scramServerError } from './errors.ts';
import type { SaslContext, SaslMechanism } from './types.ts';

export type ScramHash = 'SHA-1' | 'SHA-256';

/** The minimum iteration count we accept (RFC 7677 5: "at least 4096"). */
export const SCRAM_MIN_ITERATIONS = 4096;
/**
 * Default maximum: a hostile or broken server could otherwise make us spin for minutes.
 * 10 million PBKDF2-SHA-256 iterations take a few seconds on a laptop.
 */
export const SCRAM_MAX_ITERATIONS = 10_000_000;

const ALL_BINDINGS: readonly ChannelBindingType[] = ['tls-exporter', 'tls-unique', 'tls-server-end-point'];

export interface ScramOptions {
  hash: ScramHash;
  /** Makes this the -PLUS variant, bound to this channel binding type. */
  binding?: ChannelBindingType | undefined;
  /** The client nonce. For tests only (RFC example values); the default is 18 random bytes. */
  nonce?: string | undefined;
  /** Derived-key cache: a reconnect with the same salt and iteration count skips PBKDF2. */
  cache?: ScramKeyCache | undefined;
  /** Refuse iteration counts above this (default SCRAM_MAX_ITERATIONS). */
  maxIterations?: number | undefined;
}

/** The SASL name: `SCRAM-SHA-1`, `SCRAM-SHA-256-PLUS`, ... */
export function scramMechanismName(hash: ScramHash, plus: boolean): string {
  return `SCRAM-${hash}${plus ? '-PLUS' : ''}`;
}

/** RFC 5802 5.1 saslname: `=` becomes `=3D` and `,` becomes `=2C`. */
export function escapeSaslname(s: string): string {
  return s.replace(/[=,]/g, (c) => (c === '=' ? '=3D' : '=2C'));
}

// RFC 4013 2.1 mapping: non-ASCII spaces (RFC 3454 C.1.2) to SPACE, B.1 characters to nothing.
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;
// biome-ignore lint/suspicious/noMisleadingCharacterClass: each code point is matched alone, on purpose
const MAP_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;

/**
 * SASLprep (RFC 4013) as far as it changes a string: map non-ASCII spaces to SPACE, drop the
 * "commonly mapped to nothing" characters, NFKC. The prohibited-output and bidi checks are not
 * done (a password with a control character is sent as typed; the server decides). Printable
 * ASCII, the usual case, is returned unchanged without any Unicode work.
 */
export function saslprep(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return s;
  return s.replace(NON_ASCII_SPACE, ' ').replace(MAP_TO_NOTHING, '').normalize('NFKC');
}

/** The keys SCRAM derives from the password (RFC 5802 3). Enough to log in without the password. */
export interface ScramKeys {
  saltedPassword: Uint8Array<ArrayBuffer>;
  clientKey: Uint8Array<ArrayBuffer>;
  storedKey: Uint8Array<ArrayBuffer>;
  serverKey: Uint8Array<ArrayBuffer>;
}

async function hmac(hash: ScramHash, key: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>) {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, data));
}

/**
 * Derive SaltedPassword, ClientKey, StoredKey and ServerKey. `password` must already be
 * SASLprep'd. PBKDF2 is one platform call (`crypto.subtle.deriveBits`).
 */
export async function deriveScramKeys(
  hash: ScramHash,
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<ScramKeys> {
  const subtle = crypto.subtle;
  const base = await subtle.importKey('raw', utf8(password) as Uint8Array<ArrayBuffer>, 'PBKDF2', false, [
    'deriveBits',
  ]);
  const bits = hash === 'SHA-1' ? 160 : 256;
  const saltedPassword = new Uint8Array(
    await subtle.deriveBits({ name: 'PBKDF2', hash, salt, iterations }, base, bits),
  );
  const [clientKey, serverKey] = await Promise.all([
    hmac(hash, saltedPassword, utf8('Client Key') as Uint8Array<ArrayBuffer>),
    hmac(hash, saltedPassword, utf8('Server Key') as Uint8Array<ArrayBuffer>),
  ]);
  const storedKey = new Uint8Array(await subtle.digest(hash, clientKey));
  return { saltedPassword, clientKey, storedKey, serverKey };
}

/**
 * A small in-memory cache of derived SCRAM keys per (hash, salt, iterations, password), in the
 * spirit of XEP-0438: a reconnect skips the expensive PBKDF2. Its keys contain the password, so
 * keep it beside the credentials (one per client) and never persist it; a persistent store
 * should save `ScramKeys` with the salt and iteration count instead.
 */
export class ScramKeyCache {
  readonly #max: number;
  readonly #map = new Map<string, ScramKeys>();
  constructor(max = 8) {
    this.#max = max;
  }
  #key(hash: ScramHash, password: string, salt: Uint8Array, iterations: number): string {
    return `${hash}\u0000${iterations}\u0000${toBase64(salt)}\u0000${password}`;
  }
  get(hash: ScramHash, password: string, salt: Uint8Array, iterations: number): ScramKeys | undefined {
    return this.#map.get(this.#key(hash, password, salt, iterations));
  }
  set(hash: ScramHash, password: string, salt: Uint8Array, iterations: number, keys: ScramKeys): void {
    if (this.#map.size >= this.#max) this.#map.delete(this.#map.keys().next().value!);
    this.#map.set(this.#key(hash, password, salt, iterations), keys);
  }
  clear(): void {
    this.#map.clear();
  }
}

/** True when the server offered any SCRAM-*-PLUS mechanism. */
export function offersPlus(offered: readonly string[]): boolean {
  return offered.some((m) => m.startsWith('SCRAM-') && m.endsWith('-PLUS'));
}

/**
 * The gs2 channel-binding flag for a SCRAM exchange *without* channel binding (RFC 5802 6):
 * - `n` when the server offered -PLUS (we could not agree on a binding type with it: saying `y`
 *   would make the server abort, since it does support binding), or when we cannot bind at all
 *   (no TLS, or the transport provides no binding data);
 * - `y` when we could bind but the server offered no -PLUS: a server that does support channel
 *   binding then knows someone stripped -PLUS from its list, and fails the login.
 */
export function gs2CbindFlag(ctx: SaslContext): 'n' | 'y' {
  if (offersPlus(ctx.offered)) return 'n';
  if (ctx.tlsProtocol === undefined) return 'n';
  return ALL_BINDINGS.some((t) => ctx.channelBinding(t) !== undefined) ? 'y' : 'n';
}

function protocolError(mech: string, what: string): ConfabError {
  return new ConfabError('ERR_AUTH_PROTOCOL', `${mech}: ${what}`);
}

// RFC 5802 7: printable = %x21-2B / %x2D-7E (no comma).
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;
const ATTR = /^[a-zA-Z]=/;

/** Split a SCRAM message into its attributes, in order; refuses anything not `x=value`. */
function attributes(mech: string, msg: string, what: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of msg.split(',')) {
    if (!ATTR.test(part))
      throw protocolError(mech, `malformed ${what} from the server: ${JSON.stringify(msg)}`);
    out.push([part[0]!, part.slice(2)]);
  }
  return out;
}

function randomNonce(): string {
  const bytes = new Uint8Array(18);
  crypto.getRandomValues(bytes);
  // Base64 of 18 bytes: 24 printable characters, no comma, no padding.
  return toBase64(bytes);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * A SCRAM mechanism for one login attempt.
 *
 * @example
 * const mech = createScram(ctx, { hash: 'SHA-256' });
 * const first = await mech.start();          // client-first-message
 * const final = await mech.challenge(data);  // client-final-message
 * await mech.success(additionalData);        // verifies the server signature
 */
export function createScram(ctx: SaslContext, opts: ScramOptions): SaslMechanism {
  const { hash, binding } = opts;
  const name = scramMechanismName(hash, binding !== undefined);
  const maxIterations = opts.maxIterations ?? SCRAM_MAX_ITERATIONS;
  let state: 'initial' | 'first-sent' | 'final-sent' | 'verified' | 'done' = 'initial';
  let nonce = '';
  let gs2Header = '';
  let clientFirstBare = '';
  let cbindData: Uint8Array | undefined;
  let expectedServerSignature: Uint8Array | undefined;

  function verifyServerFinal(data: Uint8Array): void {
    let msg: string;
    try {
      msg = fromUtf8(data);
    } catch {
      throw protocolError(name, 'the server-final-message is not valid UTF-8');
    }
    const attrs = attributes(name, msg, 'server-final-message');
    const [key, value] = attrs[0]!;
    if (key === 'e') throw scramServerError(name, value);
    if (key !== 'v') throw protocolError(name, `malformed server-final-message: ${JSON.stringify(msg)}`);
    let sig: Uint8Array;
    try {
      sig = fromBase64(value);
    } catch {
      throw protocolError(name, 'the server signature is not valid base64');
    }
    if (!equalBytes(sig, expectedServerSignature!)) {
      throw new ConfabError(
        'ERR_AUTH_SERVER_SIGNATURE',
        `${name}: the server's signature is wrong, so it does not know the password: ` +
          'this is not the real server (or it is broken); login stopped',
      );
    }
    state = 'verified';
  }

  return {
    name,

    async start() {
      if (state !== 'initial') throw protocolError(name, 'start() called twice');
      const { username, authzid } = ctx.credentials;
      nonce = opts.nonce ?? randomNonce();
      if (!PRINTABLE.test(nonce)) throw new ConfabError('ERR_BAD_INPUT', `${name}: invalid client nonce`);
      let flag: string;
      if (binding !== undefined) {
        cbindData = ctx.channelBinding(binding);
        if (cbindData === undefined) {
          throw protocolError(
            name,
            `channel binding data of type ${binding} is not available from the transport`,
          );
        }
        flag = `p=${binding}`;
      } else {
        flag = gs2CbindFlag(ctx);
        if (offersPlus(ctx.offered)) {
          ctx.log?.(
            `${name}: the server offers -PLUS but no channel binding type could be agreed; gs2 flag "n"`,
          );
        } else if (flag === 'y') {
          ctx.log?.(
            `${name}: the server offers no -PLUS although we could bind; gs2 flag "y" (detects stripping)`,
          );
        }
      }
      gs2Header = `${flag},${authzid ? `a=${escapeSaslname(saslprep(authzid))}` : ''},`;
      clientFirstBare = `n=${escapeSaslname(saslprep(username))},r=${nonce}`;
      state = 'first-sent';
      return utf8(gs2Header + clientFirstBare);
    },

    async challenge(data) {
      if (state === 'final-sent') {
        // Some servers send server-final-message as a challenge and an empty <success/>.
        verifyServerFinal(data);
        return new Uint8Array(0);
      }
      if (state !== 'first-sent') throw protocolError(name, 'unexpected challenge from the server');
      let serverFirst: string;
      try {
        serverFirst = fromUtf8(data);
      } catch {
        throw protocolError(name, 'the server-first-message is not valid UTF-8');
      }
      const attrs = attributes(name, serverFirst, 'server-first-message');
      const first = attrs[0]!;
      if (first[0] === 'm') {
        throw protocolError(name, 'the server requires a SCRAM extension (m=) that confab does not support');
      }
      if (first[0] === 'e') throw scramServerError(name, first[1]);
      if (attrs.length < 3 || first[0] !== 'r' || attrs[1]![0] !== 's' || attrs[2]![0] !== 'i') {
        throw protocolError(name, `malformed server-first-message: ${JSON.stringify(serverFirst)}`);
      }
      const serverNonce = first[1];
      if (!PRINTABLE.test(serverNonce)) throw protocolError(name, 'the server nonce has invalid characters');
      if (!serverNonce.startsWith(nonce) || serverNonce.length === nonce.length) {
        throw protocolError(
          name,
          "the server's nonce does not extend ours (a replayed or forged challenge); login stopped",
        );
      }
      let salt: Uint8Array<ArrayBuffer>;
      try {
        salt = fromBase64(attrs[1]![1]) as Uint8Array<ArrayBuffer>;
      } catch {
        throw protocolError(name, 'the salt is not valid base64');
      }
      if (salt.length === 0) throw protocolError(name, 'the salt is empty');
      const iterText = attrs[2]![1];
      if (!/^[1-9][0-9]{0,9}$/.test(iterText))
        throw protocolError(name, `invalid iteration count "${iterText}"`);
      const iterations = Number(iterText);
      if (iterations < SCRAM_MIN_ITERATIONS) {
        throw protocolError(
          name,
          `the server's iteration count ${iterations} is below the minimum of ${SCRAM_MIN_ITERATIONS} ` +
            '(RFC 7677): the password hash is too weak to use; login refused',
        );
      }
      if (iterations > maxIterations) {
        throw protocolError(
          name,
          `the server's iteration count ${iterations} is above the limit of ${maxIterations}`,
        );
      }

      const password = saslprep(ctx.credentials.password);
      let keys = opts.cache?.get(hash, password, salt, iterations);
      if (keys === undefined) {
        keys = await deriveScramKeys(hash, password, salt, iterations);
        opts.cache?.set(hash, password, salt, iterations, keys);
      }

      const header = utf8(gs2Header);
      const cbindInput = new Uint8Array(header.length + (cbindData?.length ?? 0));
      cbindInput.set(header, 0);
      if (cbindData) cbindInput.set(cbindData, header.length);
      const clientFinalNoProof = `c=${toBase64(cbindInput)},r=${serverNonce}`;
      const authMessage = utf8(
        `${clientFirstBare},${serverFirst},${clientFinalNoProof}`,
      ) as Uint8Array<ArrayBuffer>;
      const [clientSignature, serverSignature] = await Promise.all([
        hmac(hash, keys.storedKey, authMessage),
        hmac(hash, keys.serverKey, authMessage),
      ]);
      const proof = new Uint8Array(clientSignature.length);
      for (let i = 0; i < proof.length; i++) proof[i] = keys.clientKey[i]! ^ clientSignature[i]!;
      expectedServerSignature = serverSignature;
      state = 'final-sent';
      return utf8(`${clientFinalNoProof},p=${toBase64(proof)}`);
    },

    async success(data) {
      if (state === 'final-sent') {
        if (data === undefined || data.length === 0) {
          throw new ConfabError(
            'ERR_AUTH_SERVER_SIGNATURE',
            `${name}: the server reported success without proving it knows the password; login stopped`,
          );
        }
        verifyServerFinal(data);
      } else if (state === 'verified') {
        if (data !== undefined && data.length > 0) verifyServerFinal(data);
      } else {
        throw new ConfabError(
          'ERR_AUTH_SERVER_SIGNATURE',
          `${name}: the server reported success before the exchange was complete; login stopped`,
        );
      }
      state = 'done';
    },
  };
}
