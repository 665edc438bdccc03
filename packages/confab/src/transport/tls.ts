/**
 * TLS policy helpers shared by the transports, free of Node APIs so the decisions are
 * testable anywhere:
 * - certificate refusal reasons and the error a person (or a CLI offering to pin) can act on;
 * - SPKI pins (the HPKP-style `sha256/<base64>` value, RFC 7469 section 2.4, used here per
 *   account as trust on first use);
 * - the hash for `tls-server-end-point` channel binding (RFC 5929 section 4.1), read from
 *   the certificate's signatureAlgorithm.
 */
import { ConfabError } from '../errors.ts';

/** Why a certificate was refused, in words a person understands. */
export type CertificateRefusal =
  | 'self-signed'
  | 'expired'
  | 'not yet valid'
  | 'hostname mismatch'
  | 'untrusted issuer'
  | 'revoked'
  | 'invalid';

/** OpenSSL / Node `authorizationError` codes mapped to a refusal reason. */
export function refusalReason(code: string): CertificateRefusal {
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return 'self-signed';
    case 'CERT_HAS_EXPIRED':
      return 'expired';
    case 'CERT_NOT_YET_VALID':
      return 'not yet valid';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'HOSTNAME_MISMATCH':
      return 'hostname mismatch';
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'CERT_UNTRUSTED':
      return 'untrusted issuer';
    case 'CERT_REVOKED':
      return 'revoked';
    default:
      return 'invalid';
  }
}

/**
 * A certificate was refused (ERR_TLS_CERT) or did not match the account's pin (ERR_TLS_PIN).
 * Carries what a client needs to offer "trust this certificate": both fingerprints.
 */
export class TlsCertificateError extends ConfabError {
  override name = 'TlsCertificateError';
  /** The refusal reason (for ERR_TLS_PIN: 'invalid'). */
  readonly reason: CertificateRefusal;
  /** The raw code from the TLS stack, e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`. */
  readonly tlsCode: string;
  /** The domain the certificate had to be valid for. */
  readonly domain: string;
  /** SHA-256 of the certificate, colon-separated hex. */
  readonly fingerprint256: string | undefined;
  /** SHA-256 of its SubjectPublicKeyInfo, base64: the value the `pin` option takes. */
  readonly spkiSha256: string | undefined;

  constructor(
    code: 'ERR_TLS_CERT' | 'ERR_TLS_PIN',
    details: {
      tlsCode: string;
      domain: string;
      fingerprint256?: string | undefined;
      spkiSha256?: string | undefined;
      cause?: unknown;
    },
  ) {
    const reason = code === 'ERR_TLS_PIN' ? 'invalid' : refusalReason(details.tlsCode);
    const what =
      code === 'ERR_TLS_PIN'
        ? `the certificate of ${details.domain} does not match the pinned key`
        : `the certificate of ${details.domain} was refused: ${reason} (${details.tlsCode})`;
    const ids =
      details.fingerprint256 === undefined
        ? ''
        : `. Certificate SHA-256 fingerprint ${details.fingerprint256}; SPKI pin sha256/${details.spkiSha256}`;
    const hint =
      code === 'ERR_TLS_PIN'
        ? '. If the server changed its key on purpose, update the pin'
        : '. Trust its CA with the `ca` option, or pin its key (`pin`) once you have checked the fingerprint';
    super(code, `TLS: ${what}${ids}${hint}`, { condition: reason, cause: details.cause });
    this.reason = reason;
    this.tlsCode = details.tlsCode;
    this.domain = details.domain;
    this.fingerprint256 = details.fingerprint256;
    this.spkiSha256 = details.spkiSha256;
  }
}

/**
 * Normalise pins to raw base64 of the 32-byte SHA-256. Accepts base64 (with or without
 * padding), hex (colons/spaces allowed), and an optional `sha256/` prefix. Throws
 * ERR_BAD_INPUT for anything else, so a typo never silently disables the pin.
 */
export function normalizePins(pins: string | readonly string[] | undefined): string[] {
  if (pins === undefined) return [];
  const list = typeof pins === 'string' ? [pins] : pins;
  return list.map((p) => {
    let s = p.trim();
    if (s.toLowerCase().startsWith('sha256/')) s = s.slice(7);
    const hex = s.replace(/[:\s]/g, '');
    let bytes: Uint8Array | undefined;
    if (/^[0-9a-fA-F]{64}$/.test(hex)) {
      bytes = new Uint8Array(32);
      for (let i = 0; i < 32; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    } else if (/^[A-Za-z0-9+/]{43}=?$/.test(s) || /^[A-Za-z0-9_-]{43}=?$/.test(s)) {
      const std = s.replace(/-/g, '+').replace(/_/g, '/').replace(/=?$/, '=');
      const bin = atob(std);
      bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    }
    if (bytes === undefined || bytes.length !== 32) {
      throw new ConfabError(
        'ERR_BAD_INPUT',
        `TLS pin ${JSON.stringify(p)} is not a SHA-256 (base64 or hex) of a SubjectPublicKeyInfo`,
      );
    }
    return toBase64(bytes);
  });
}

export function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!);
  return btoa(bin);
}

/** Colon-separated upper-case hex, the way certificate fingerprints are shown. */
export function toFingerprint(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i++) parts.push(bytes[i]!.toString(16).padStart(2, '0').toUpperCase());
  return parts.join(':');
}

// --- tls-server-end-point: which hash (RFC 5929 section 4.1) ---

// signatureAlgorithm OIDs (DER content bytes, hex) -> hash. MD5 and SHA-1 are upgraded to
// SHA-256 as RFC 5929 demands.
const SIG_HASH: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  '2a864886f70d010104': 'sha256', // md5WithRSAEncryption
  '2a864886f70d010105': 'sha256', // sha1WithRSAEncryption
  '2a864886f70d01010e': 'sha256', // sha224WithRSAEncryption (SHA-224 is not offered by all platforms; RFC 5929 names no upgrade, sha256 is what OpenSSL-based servers use)
  '2a864886f70d01010b': 'sha256', // sha256WithRSAEncryption
  '2a864886f70d01010c': 'sha384', // sha384WithRSAEncryption
  '2a864886f70d01010d': 'sha512', // sha512WithRSAEncryption
  '2a8648ce3d0401': 'sha256', // ecdsa-with-SHA1
  '2a8648ce3d040302': 'sha256', // ecdsa-with-SHA256
  '2a8648ce3d040303': 'sha384', // ecdsa-with-SHA384
  '2a8648ce3d040304': 'sha512', // ecdsa-with-SHA512
  '2a8648ce380403': 'sha256', // dsa-with-sha1
  '608648016503040302': 'sha256', // dsa-with-sha256
};

/** Read one DER TLV at `pos`: [tag, contentStart, contentEnd]. */
function tlv(der: Uint8Array, pos: number): [number, number, number] {
  const tag = der[pos]!;
  let len = der[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > der.length) throw new RangeError('truncated DER');
  return [tag, start, start + len];
}

/**
 * The hash `tls-server-end-point` uses for this certificate (DER), or undefined when RFC 5929
 * leaves it undefined (Ed25519/Ed448, unknown algorithms; RSASSA-PSS uses the hash in its
 * parameters, SHA-256 when it names none).
 */
export function serverEndPointHash(certDer: Uint8Array): 'sha256' | 'sha384' | 'sha512' | undefined {
  try {
    const [, certStart] = tlv(certDer, 0); // Certificate SEQUENCE
    const [, , tbsEnd] = tlv(certDer, certStart); // tbsCertificate
    const [, algStart, algEnd] = tlv(certDer, tbsEnd); // signatureAlgorithm SEQUENCE
    const [oidTag, oidStart, oidEnd] = tlv(certDer, algStart);
    if (oidTag !== 0x06) return undefined;
    const oid = hex(certDer.subarray(oidStart, oidEnd));
    if (oid === '2a864886f70d01010a') return pssHash(certDer, oidEnd, algEnd); // RSASSA-PSS
    return SIG_HASH[oid];
  } catch {
    return undefined;
  }
}

function pssHash(der: Uint8Array, pos: number, end: number): 'sha256' | 'sha384' | 'sha512' | undefined {
  if (pos >= end) return 'sha256';
  const [tag, start, stop] = tlv(der, pos); // RSASSA-PSS-params SEQUENCE
  if (tag !== 0x30 || start === stop) return 'sha256';
  const [fieldTag, fStart] = tlv(der, start);
  if (fieldTag !== 0xa0) return 'sha256'; // hashAlgorithm [0] absent: SHA-1 default -> SHA-256
  const [, hStart] = tlv(der, fStart); // AlgorithmIdentifier
  const [, oStart, oEnd] = tlv(der, hStart);
  const oid = hex(der.subarray(oStart, oEnd));
  if (oid === '608648016503040202') return 'sha384';
  if (oid === '608648016503040203') return 'sha512';
  return 'sha256';
}

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}
