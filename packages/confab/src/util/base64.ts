/**
 * Base64 (RFC 4648 section 4, with padding) and UTF-8 helpers for byte strings,
 * browser-safe: `btoa`/`atob` and `TextEncoder`/`TextDecoder` exist in every browser
 * and in Node >= 16, so no `Buffer`.
 *
 * Decoding is strict on purpose: SASL payloads (RFC 6120 6.4.2) and SCRAM attributes
 * (RFC 5802 7) must be canonical base64; `atob` alone would accept whitespace and
 * missing padding, hiding a peer's bug or a tampered message.
 */
import { ConfabError } from '../errors.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 encode a string. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** UTF-8 decode bytes; throws ConfabError ERR_BAD_INPUT on invalid UTF-8. */
export function fromUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new ConfabError('ERR_BAD_INPUT', 'Invalid UTF-8 in data', { cause });
  }
}

/** Base64-encode bytes (standard alphabet, padded). */
export function toBase64(bytes: Uint8Array): string {
  let bin = '';
  // Chunked so String.fromCharCode never gets more arguments than the engine allows.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return btoa(bin);
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decode canonical padded base64; throws ConfabError ERR_BAD_INPUT otherwise. */
export function fromBase64(s: string): Uint8Array {
  if (!B64.test(s)) throw new ConfabError('ERR_BAD_INPUT', 'Invalid base64 data');
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
