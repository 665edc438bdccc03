/**
 * JIDs: parse, validate, normalise, compare, escape.
 *
 * Specs:
 * - RFC 7622 (XMPP Address Format, 2015): splitting rules (3.1), part lengths (1023 octets),
 *   IP literals, label separators (3.2), examples (3.5).
 * - RFC 8265 (PRECIS UsernameCaseMapped) / RFC 8264 (PRECIS framework): approximated, see below.
 * - XEP-0106 (JID Escaping) 1.1.1: `escapeLocal` / `unescapeLocal`.
 *
 * Normalisation, and why it is not full PRECIS:
 * - localpart: NFKC, then `toLowerCase()`, after removing the characters stringprep maps to
 *   nothing (soft hyphen, zero-width space/joiners, variation selectors...). That is what the
 *   servers we talk to do (Prosody 0.12 and ejabberd 23 still use stringprep Nodeprep,
 *   RFC 6122: NFKC + case fold), so our comparisons agree with theirs, and a JID a server hands
 *   us is never refused. PRECIS would instead only width-map, NFC, and *reject* compatibility
 *   characters and symbols: `henriⅣ@example.com` is invalid under RFC 7622 but accepted here as
 *   `henriiv@example.com`, like Nodeprep does. `toLowerCase` is the PRECIS case mapping
 *   (RFC 8265 3.3.2); it differs from full case folding for a few characters (e.g. `ß` stays,
 *   final sigma `ς` stays distinct from `σ`, as RFC 7622's examples require). No bidi rule,
 *   no unassigned-code-point table (that would need Unicode data we do not ship).
 * - domainpart: lowercased, one trailing dot removed, ideographic full stops mapped to `.`,
 *   NFKC for non-ASCII. IDNA is not applied: an A-label (`xn--...`) is kept as is and is NOT
 *   equal to its U-label form; servers send the form the user configured, so this rarely
 *   matters, and shipping punycode + IDNA tables would cost bundle size.
 * - resourcepart: NFC only (PRECIS OpaqueString), case-sensitive. Stringprep servers apply NFKC
 *   to resources; the server's own form comes back in `from`, so this is harmless.
 *
 * JIDs are branded strings: a `Jid` is always the normalised form, so `===` compares them and
 * they go into Maps and onto the wire unchanged. Parsing is memoised (bounded), because the
 * inbound pipeline normalises the `from` of every stanza.
 */
import { ConfabError } from './errors.ts';
import { detach } from './util/strings.ts';

declare const jidBrand: unique symbol;
/** A normalised JID (bare or full). Make one with `jid()`. */
export type Jid = string & { readonly [jidBrand]: 'bare' | 'full' };
/** A normalised JID without a resource: `local@domain` or `domain`. */
export type BareJid = string & { readonly [jidBrand]: 'bare' };
/** A normalised JID with a resource: `local@domain/resource`. */
export type FullJid = string & { readonly [jidBrand]: 'full' };

/** The normalised parts of a JID. */
export interface ParsedJid {
  readonly local?: string;
  readonly domain: string;
  readonly resource?: string;
}

interface Entry {
  readonly parts: ParsedJid;
  readonly jid: Jid;
}

const MAX_PART = 1023;
// A string longer than this cannot be a JID (3 parts of 1023 octets + separators), even before
// normalisation; refuse it before doing any work.
const MAX_INPUT = 3 * MAX_PART + 2;
// Two-generation cache: lookups hit `young`, then `old` (and are promoted); when `young` is full
// it becomes `old`. Amortised O(1) and bounded (2 * CACHE_MAX entries), with no per-insert
// eviction: deleting the oldest key of a Map one at a time makes V8 skip ever more tombstones.
const CACHE_MAX = 2048;
let young = new Map<string, Entry>();
let old = new Map<string, Entry>();

function remember(key: string, e: Entry): void {
  if (young.size >= CACHE_MAX) {
    old = young;
    young = new Map();
  }
  young.set(key, e);
}

function bad(input: string, why: string): ConfabError {
  const shown = input.length > 80 ? `${input.slice(0, 77)}...` : input;
  // JSON quoting makes control characters and invisible ones visible in the message.
  return new ConfabError('ERR_BAD_INPUT', `Invalid JID ${JSON.stringify(shown)}: ${why}`);
}

/** UTF-8 length without encoding. A lone surrogate counts 3 (it is refused elsewhere). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

// Printable ASCII minus the RFC 7622 / Nodeprep forbidden characters: the common case, checked
// with one regex and no Unicode work.
const ASCII_LOCAL = /^[!#-%(-.0-9;=?A-~]+$/;
const LOCAL_FORBIDDEN = /["&'/:<>@ ]/;
// Stringprep B.1: mapped to nothing by Nodeprep, so `ju\u00ADliet` is `juliet` (no invisible twins).
// biome-ignore lint/suspicious/noMisleadingCharacterClass: each code point is matched alone, on purpose
const MAP_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
// Controls, formatting (bidi overrides...), lone surrogates, private use, separators, noncharacters.
const LOCAL_DISALLOWED = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Z}\uFDD0-\uFDEF\uFFFE\uFFFF]/u;
const RESOURCE_DISALLOWED = /[\p{Cc}\p{Cs}\uFDD0-\uFDEF\uFFFE\uFFFF]/u;
const ASCII_PRINTABLE = /^[ -~]*$/;

function describe(ch: string): string {
  if (ch === ' ') return 'a space';
  const cp = ch.codePointAt(0)!;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return cp < 0x20 || cp === 0x7f || cp > 0x7e ? hex : `"${ch}" (${hex})`;
}

function prepLocal(input: string, raw: string): string {
  let s: string;
  if (ASCII_LOCAL.test(raw)) {
    s = raw.toLowerCase();
  } else {
    const forbidden = LOCAL_FORBIDDEN.exec(raw);
    if (forbidden) {
      throw bad(
        input,
        `the local part (before "@") must not contain ${describe(forbidden[0])}; ` +
          'escape such characters with escapeLocal() (XEP-0106)',
      );
    }
    s = raw.replace(MAP_TO_NOTHING, '').normalize('NFKC').toLowerCase();
    // NFKC can produce forbidden characters (e.g. fullwidth "＠" -> "@"): check the result too.
    const after = LOCAL_FORBIDDEN.exec(s) ?? LOCAL_DISALLOWED.exec(s);
    if (after) throw bad(input, `the local part (before "@") must not contain ${describe(after[0])}`);
    if (s === '') throw bad(input, 'the local part (before "@") is empty');
  }
  if (utf8Length(s) > MAX_PART) throw bad(input, `the local part is longer than ${MAX_PART} bytes`);
  return s;
}

const ASCII_DOMAIN = /^[a-z0-9.\-_]+$/i;
const DOMAIN_FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Z}"&'/:<>@[\]\\?#%]/u;
const IDEOGRAPHIC_STOPS = /[\u3002\uFF0E\uFF61]/g;
const HEX16 = /^[0-9a-f]{1,4}$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** RFC 4291 2.2 text form: 8 groups, one `::` at most, optionally an IPv4 tail. */
function isIpv6(s: string): boolean {
  let groups = s.split(':');
  const last = groups[groups.length - 1]!;
  let want = 8;
  if (last.includes('.')) {
    if (!IPV4.test(last)) return false;
    groups = groups.slice(0, -1);
    want = 6;
  }
  const gap = s.indexOf('::');
  if (gap >= 0) {
    if (s.indexOf('::', gap + 1) >= 0) return false;
    const [l, r] = s.split('::') as [string, string];
    const left = l === '' ? [] : l.split(':');
    let right = r === '' ? [] : r.split(':');
    if (want === 6) right = right.slice(0, -1);
    const all = [...left, ...right];
    return all.length < want && all.every((g) => HEX16.test(g));
  }
  return groups.length === want && groups.every((g) => HEX16.test(g));
}

function prepDomain(input: string, raw: string): string {
  if (raw === '') throw bad(input, 'the domain is empty');
  if (raw.charCodeAt(0) === 0x5b /* [ */) {
    // IP literal (RFC 7622 3.2, RFC 3986 IP-literal): IPv6 in brackets.
    const inner = raw.endsWith(']') ? raw.slice(1, -1).toLowerCase() : '';
    if (!isIpv6(inner)) {
      throw bad(input, 'the domain looks like an IPv6 literal but is not one, e.g. "[2001:db8::1]"');
    }
    return `[${inner}]`;
  }
  let s: string;
  if (ASCII_DOMAIN.test(raw)) {
    s = raw.toLowerCase();
  } else {
    s = raw.normalize('NFKC').replace(IDEOGRAPHIC_STOPS, '.').toLowerCase();
    const f = DOMAIN_FORBIDDEN.exec(s);
    if (f) {
      const hint = f[0] === ':' ? '; give the port separately, not as "domain:port"' : '';
      throw bad(input, `the domain must not contain ${describe(f[0])}${hint}`);
    }
  }
  // RFC 7622 3.2: a trailing dot is removed (it makes the name fully qualified in DNS only).
  if (s.endsWith('.')) s = s.slice(0, -1);
  if (s === '') throw bad(input, 'the domain is empty');
  let start = 0;
  for (;;) {
    const dot = s.indexOf('.', start);
    const end = dot < 0 ? s.length : dot;
    if (end === start) throw bad(input, 'the domain has an empty label ("..", or a leading dot)');
    if (end - start > 63 && ASCII_PRINTABLE.test(s.slice(start, end))) {
      throw bad(input, 'a label of the domain is longer than 63 characters');
    }
    if (dot < 0) break;
    start = dot + 1;
  }
  if (utf8Length(s) > MAX_PART) throw bad(input, `the domain is longer than ${MAX_PART} bytes`);
  return s;
}

function prepResource(input: string, raw: string): string {
  if (raw === '') throw bad(input, 'the resource (after "/") is empty');
  let s = raw;
  if (!ASCII_PRINTABLE.test(raw)) {
    const f = RESOURCE_DISALLOWED.exec(raw);
    if (f) throw bad(input, `the resource must not contain ${describe(f[0])}`);
    s = raw.normalize('NFC');
  }
  if (utf8Length(s) > MAX_PART) throw bad(input, `the resource is longer than ${MAX_PART} bytes`);
  return s;
}

function build(input: string): Entry {
  if (input.length > MAX_INPUT) throw bad(input, 'it is too long');
  if (input === '') throw new ConfabError('ERR_BAD_INPUT', 'Invalid JID: it is empty');
  // RFC 7622 3.1: the resource is everything after the first "/"; the localpart is everything
  // before the first "@" of what remains. So "a@b/c@d/e" is local a, domain b, resource "c@d/e".
  const slash = input.indexOf('/');
  const head = slash < 0 ? input : input.slice(0, slash);
  const at = head.indexOf('@');
  let local: string | undefined;
  if (at >= 0) {
    if (at === 0) throw bad(input, 'the local part (before "@") is empty');
    local = prepLocal(input, head.slice(0, at));
  }
  const domain = prepDomain(input, head.slice(at + 1));
  let resource: string | undefined;
  if (slash >= 0) resource = prepResource(input, input.slice(slash + 1));
  // Plain literals (not conditional spreads): this runs for every new address seen.
  let parts: ParsedJid;
  if (local !== undefined) parts = resource !== undefined ? { local, domain, resource } : { local, domain };
  else parts = resource !== undefined ? { domain, resource } : { domain };
  Object.freeze(parts);
  let out = local === undefined ? domain : `${local}@${domain}`;
  if (resource !== undefined) out += `/${resource}`;
  return { parts, jid: out as Jid };
}

/**
 * Lower-case ASCII JIDs are already in normal form (every PRECIS and IDNA step leaves them as
 * they are), so most addresses skip the cache: 5,000 roster JIDs then cost no cache entries.
 * Local part without the characters RFC 7622 3.3.1 forbids, LDH domain labels without a
 * trailing dot, a printable-ASCII resource; the length bound keeps every part within 1023 bytes.
 */
const PLAIN =
  /^(?:[a-z0-9._+-]{1,64}@)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?:\/[\x21-\x7e]{1,256})?$/;
const isPlain = (s: string): boolean => s.length < 300 && PLAIN.test(s);

function lookup(input: string): Entry {
  let e = young.get(input);
  if (e !== undefined) return e;
  e = old.get(input);
  // Keys and values are flat copies: a parser slice kept in the cache would keep its whole read
  // chunk (a WebSocket frame, a roster result) alive as long as the entry (util/strings.ts).
  const key = detach(input);
  if (e === undefined) {
    e = build(key);
    // The normalised form maps to itself: re-normalising a Jid is a hit.
    if (e.jid !== key) remember(e.jid, e);
  }
  remember(key, e);
  return e;
}

/**
 * Parse and normalise a JID into its parts. Throws ConfabError `ERR_BAD_INPUT` with a message
 * saying what is wrong. The result is frozen; absent parts are absent (not `undefined` keys).
 *
 * @example
 * parseJid('Juliet@Example.COM/Balcony') // { local: 'juliet', domain: 'example.com', resource: 'Balcony' }
 */
export function parseJid(s: string): ParsedJid {
  return lookup(s).parts;
}

/**
 * Parse and normalise a JID to its string form.
 *
 * @example
 * jid('Juliet@Example.COM.') === 'juliet@example.com'
 */
export function jid(s: string): Jid {
  if (isPlain(s)) return s as Jid;
  return lookup(s).jid;
}

/** Like `jid()`, but returns undefined for an invalid JID instead of throwing (inbound `from`). */
export function tryJid(s: string | undefined): Jid | undefined {
  if (s === undefined) return undefined;
  if (isPlain(s)) return s as Jid;
  try {
    return lookup(s).jid;
  } catch {
    return undefined;
  }
}

/** Build a JID from parts, each validated and normalised as by `parseJid`. */
export function formatJid(parts: {
  local?: string | undefined;
  domain: string;
  resource?: string | undefined;
}): Jid {
  const shown = `${parts.local === undefined ? '' : `${parts.local}@`}${parts.domain}${parts.resource === undefined ? '' : `/${parts.resource}`}`;
  const local = parts.local === undefined ? undefined : prepLocal(shown, parts.local);
  const domain = prepDomain(shown, parts.domain);
  let out = local === undefined ? domain : `${local}@${domain}`;
  if (parts.resource !== undefined) out += `/${prepResource(shown, parts.resource)}`;
  return out as Jid;
}

// The helpers below work on normalised Jids with plain string operations: a normalised
// localpart and domain contain neither "@" nor "/", so the first "/" starts the resource and
// the first "@" before it ends the localpart.

/** The bare JID (without resource). */
export function bare(j: Jid): BareJid {
  const slash = j.indexOf('/');
  return (slash < 0 ? j : j.slice(0, slash)) as BareJid;
}

/** The domain part. */
export function domainOf(j: Jid): string {
  const b = bare(j);
  const at = b.indexOf('@');
  return at < 0 ? b : b.slice(at + 1);
}

/** The local part, or undefined for a domain-only JID. */
export function localOf(j: Jid): string | undefined {
  const b = bare(j);
  const at = b.indexOf('@');
  return at < 0 ? undefined : b.slice(0, at);
}

/** The resource, or undefined for a bare JID. */
export function resourceOf(j: Jid): string | undefined {
  const slash = j.indexOf('/');
  return slash < 0 ? undefined : j.slice(slash + 1);
}

/** True when the JID has a resource. */
export function isFull(j: Jid): j is FullJid {
  return j.indexOf('/') >= 0;
}

/** True when the JID has no resource. */
export function isBare(j: Jid): j is BareJid {
  return j.indexOf('/') < 0;
}

/**
 * Compare two JIDs after normalisation (`Juliet@Example.com` equals `juliet@example.com`).
 * Invalid JIDs are equal only to the identical string.
 */
export function equalJid(a: string, b: string): boolean {
  if (a === b) return true;
  const x = tryJid(a);
  return x !== undefined && x === tryJid(b);
}

/** The full JID `bare/resource`; any resource `j` has is replaced. The resource is NFC-normalised. */
export function withResource(j: Jid, resource: string): FullJid {
  const b = bare(j);
  return `${b}/${prepResource(`${b}/${resource}`, resource)}` as FullJid;
}

// XEP-0106 escaping. The nine characters Nodeprep forbids, plus "\" when it starts a sequence
// that would otherwise unescape (business rule 7).
const ESCAPES: Record<string, string> = {
  ' ': '\\20',
  '"': '\\22',
  '&': '\\26',
  "'": '\\27',
  '/': '\\2f',
  ':': '\\3a',
  '<': '\\3c',
  '>': '\\3e',
  '@': '\\40',
  '\\': '\\5c',
};
const UNESCAPES: Record<string, string> = {};
for (const k in ESCAPES) UNESCAPES[ESCAPES[k]!.slice(1)] = k;
const ESCAPE_RE = /[ "&'/:<>@]|\\(?=20|22|26|27|2f|3a|3c|3e|40|5c)/g;
const UNESCAPE_RE = /\\(20|22|26|27|2f|3a|3c|3e|40|5c)/g;

/**
 * XEP-0106: escape a user-typed local part so it is a valid localpart: `d'artagnan` ->
 * `d\27artagnan`. A backslash is escaped only where it starts an escape sequence (`\5c27`), as
 * business rule 7 says (the XEP's examples 9-11 escape every backslash; the rule and the LDAP
 * example do not, and unescaping gives the same result either way). Leading or trailing spaces
 * are refused (the XEP forbids `\20` there).
 *
 * @example
 * escapeLocal('user@host') // 'user\\40host'
 */
export function escapeLocal(s: string): string {
  if (s.startsWith(' ') || s.endsWith(' ')) {
    throw new ConfabError('ERR_BAD_INPUT', `A JID local part cannot start or end with a space: "${s}"`);
  }
  return s.replace(ESCAPE_RE, (c) => ESCAPES[c]!);
}

/** XEP-0106: turn an escaped local part back into what a person typed (for display only). */
export function unescapeLocal(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  return s.replace(UNESCAPE_RE, (_, hex: string) => UNESCAPES[hex]!);
}
