/**
 * Streaming XML parser for the XMPP subset of XML.
 *
 * Specs: RFC 6120 section 11 (XML usage: restrictions, namespaces, UTF-8 only) and section 4.9.3
 * (stream error conditions); RFC 7395 section 3.3 (WebSocket framing: one element per message);
 * XML 1.0 (Fifth Edition) sections 2.2 (Char), 2.3 (names), 2.11 (end-of-line handling), 3.1 (tags),
 * 3.3.3 (attribute-value normalization), 4.1 (references); Namespaces in XML 1.0 (Third Edition).
 *
 * Written for this job instead of wrapping a general parser, because the subset makes both strictness
 * and speed cheap: there are no DTDs, so no entity expansion and no attribute defaults; comments, PIs
 * and CDATA are refused on sight (`<!` and `<?` are errors at once, so nothing after them is buffered);
 * and the hot paths are `indexOf` scans over decoded text with a cursor, slicing substrings.
 *
 * How input flows: bytes are decoded by one streaming `TextDecoder` (fatal), so characters split across
 * reads come out whole (the @xmpp/client defect). Each chunk of bytes is checked for characters XML
 * forbids before it is decoded, a word at a time (text handed in as strings: with a regex), line ends
 * are normalized, then the decoded text is scanned from a cursor. A token (tag) that
 * is cut by the end of a chunk is kept as pieces together with a tiny scan state (inside which quote,
 * how many attributes so far), so a later chunk is only scanned from where the last one stopped and the
 * pieces are joined once, when the token is complete: cost stays linear however the input is chunked.
 * Text inside a stanza is kept the same way and decoded (entities) once, at the next tag.
 *
 * Memory is bounded by the limits: a stanza (and anything held before one starts) may not exceed
 * `maxStanzaBytes`, text runs `maxTextBytes`, nesting `maxDepth`, attributes per element
 * `maxAttributes`. Sizes are counted in UTF-16 code units of decoded text, which is never more than
 * the UTF-8 byte count (equal for ASCII). Whitespace between stanzas (keepalives) is checked and dropped.
 */

import type { ErrorCode } from '../errors.ts';
import { XmlError } from '../errors.ts';
import { type Attrs, Element } from './element.ts';
import { NS_STREAMS } from './serializer.ts';

/** Limits that bound what one peer can make the parser hold. Sizes in decoded UTF-16 code units. */
export interface ParserLimits {
  /** One top-level element (stanza), or any token held before one starts; default 256 KiB. */
  maxStanzaBytes: number;
  /** Element nesting inside a stanza (the stanza itself is depth 1); default 64. */
  maxDepth: number;
  /** Attributes (namespace declarations included) per element; default 100. */
  maxAttributes: number;
  /** One run of text without markup inside a stanza; default = maxStanzaBytes. */
  maxTextBytes: number;
  /** Element or attribute name, prefix included; default 256. */
  maxNameLength: number;
}

/**
 * Safe defaults: generous for real traffic. A 5,000 item roster is ~400 KiB: allow it for the one
 * result that needs it with the `stanzaLimit` option rather than raising maxStanzaBytes for everything.
 */
export const DEFAULT_LIMITS: Readonly<ParserLimits> = Object.freeze({
  maxStanzaBytes: 256 * 1024,
  maxDepth: 64,
  maxAttributes: 100,
  maxTextBytes: 256 * 1024,
  maxNameLength: 256,
});

/** What the parser reports. Handlers should not throw (an exception propagates out of `write`). */
export interface StreamParserHandlers {
  /** `<stream:stream ...>`: name 'stream', xmlns NS_STREAMS, attrs id/from/to/version/xml:lang. */
  streamStart(header: Element): void;
  /** Each complete top-level element (depth 1 in 'stream' framing, depth 0 in 'fragments'). */
  element(el: Element): void;
  /** `</stream:stream>`. */
  streamEnd(): void;
  /** The input was refused; the parser then ignores input until `reset()`. */
  error(err: XmlError): void;
}

export interface StreamParserOptions {
  limits?: Partial<ParserLimits> | undefined;
  /** 'stream' (TCP, RFC 6120): a stream header, then stanzas. 'fragments' (WebSocket, RFC 7395): elements at depth 0. */
  framing?: 'stream' | 'fragments' | undefined;
  /**
   * Per-stanza size limit. Called once per top-level element, when its start tag is complete (the
   * start tag itself is held to `maxStanzaBytes`), with its resolved name, namespace and attributes
   * (do not modify them). A number returned is that stanza's limit instead of `maxStanzaBytes`
   * (e.g. a larger one for the result of a pending roster request); `undefined` keeps the default.
   * When `maxTextBytes` was not set, the stanza's text runs get the same limit. Memory stays bounded by
   * what the hook returns. It should not throw: an exception stops the parser (as after an error,
   * until `reset()`) and propagates out of `write()`.
   *
   * @example
   * stanzaLimit: (o) => (o.name === 'iq' && pendingRoster.has(o.attrs.id ?? '') ? 8 * 1024 * 1024 : undefined)
   */
  stanzaLimit?: ((open: StanzaOpen) => number | undefined) | undefined;
}

/** What `stanzaLimit` is told about a top-level element whose start tag is complete. */
export interface StanzaOpen {
  name: string;
  xmlns: string;
  attrs: Attrs;
}

const NS_XML = 'http://www.w3.org/XML/1998/namespace';
const NS_XMLNS = 'http://www.w3.org/2000/xmlns/';

/** prefix -> namespace URI; scopes inherit through the prototype chain (root has a null prototype). */
type NsMap = Record<string, string | undefined>;
const ROOT_MAP: NsMap = Object.assign(Object.create(null) as NsMap, { xml: NS_XML });

// Scanner states.
const S_TEXT = 0; // character data (or whitespace between stanzas)
const S_LT = 1; // just after '<', the next character decides
const S_OPEN = 2; // inside a start tag cut by a chunk end
const S_CLOSE = 3; // inside an end tag cut by a chunk end
const S_DECL = 4; // inside the XML declaration cut by a chunk end

// What a token produced (StreamParser.outKind).
const OUT_START = 1;
const OUT_ELEMENT = 2;
const OUT_START_END = 3;
const OUT_END = 4;

// ASCII name character classes: 1 = may start a name, 2 = may continue one. ':' is handled apart.
const NAME_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_]/.test(ch)) NAME_CLASS[c] = 3;
  else if (/[-.0-9]/.test(ch)) NAME_CLASS[c] = 2;
}
/** XML 1.0 NameStartChar beyond ASCII (surrogates: astral start chars; input has them paired). */
function nameStartWide(c: number): boolean {
  return (
    (c >= 0xc0 && c <= 0xd6) ||
    (c >= 0xd8 && c <= 0xf6) ||
    (c >= 0xf8 && c <= 0x2ff) ||
    (c >= 0x370 && c <= 0x37d) ||
    (c >= 0x37f && c <= 0x1fff) ||
    c === 0x200c ||
    c === 0x200d ||
    (c >= 0x2070 && c <= 0x218f) ||
    (c >= 0x2c00 && c <= 0x2fef) ||
    (c >= 0x3001 && c <= 0xdfff) ||
    (c >= 0xf900 && c <= 0xfdcf) ||
    (c >= 0xfdf0 && c <= 0xfffd)
  );
}
function nameCharWide(c: number): boolean {
  return c === 0xb7 || (c >= 0x300 && c <= 0x36f) || c === 0x203f || c === 0x2040 || nameStartWide(c);
}

// Characters XML 1.0 forbids (section 2.2). Decoded UTF-8 never holds lone surrogates; text handed in
// as a string may, so it is checked with the Unicode-aware variant (which matches unpaired ones only).
const INVALID_STRING = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\uD800-\uDFFF]/u;
// Bytes input is checked before it is decoded, a word (4 bytes) at a time: in valid UTF-8 a byte below
// 0x20 is always that control character itself, and U+FFFE/U+FFFF are EF BF BE / EF BF BF, so the
// check needs no decoded text and runs at memory speed (a regex over the decoded chunk costs about
// as much as decoding it). The same pass notes whether the chunk holds TAB/LF (attribute-value
// normalization) or CR (end-of-line handling), so chunks without them skip those searches.
const B_BAD = 1;
const B_TABLF = 2;
const B_CR = 4;
const B_EF = 8;
const BYTE_CLASS = new Uint8Array(256);
for (let b = 0; b < 32; b++) BYTE_CLASS[b] = B_BAD;
BYTE_CLASS[9] = BYTE_CLASS[10] = B_TABLF;
BYTE_CLASS[13] = B_CR;
BYTE_CLASS[0xef] = B_EF;
const STREAM = { stream: true };
const NUMERIC_REF = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/;
const ENTITY_NAME = /^[A-Za-z_:][-.0-9A-Za-z_:\u00B7-\uFFFF]*$/;
const XML_DECL =
  /^<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(["'])1\.[0-9]+\1(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(["'])([A-Za-z][-A-Za-z0-9._]*)\2)?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(["'])(?:yes|no)\4)?[ \t\n]*\?>$/;
const MAX_DECL = 256;

// Names are a small vocabulary (message, body, to, type, id ...). Returning the same string object for
// a name seen before saves an allocation and, more, the hashing V8 does each time a fresh string is
// used as a property key (attrs): a cached name is internalized after its first use.
const NAME_CACHE: (string | undefined)[] = new Array(1024).fill(undefined);
function cachedName(s: string, start: number, end: number): string {
  const n = end - start;
  const h = (s.charCodeAt(start) * 31 + s.charCodeAt(end - 1) * 7 + n) & 1023;
  const c = NAME_CACHE[h];
  if (c !== undefined && c.length === n) {
    let k = 0;
    while (k < n && c.charCodeAt(k) === s.charCodeAt(start + k)) k++;
    if (k === n) return c;
  }
  const name = s.slice(start, end);
  if (n <= 32) NAME_CACHE[h] = name;
  return name;
}

function fail(code: ErrorCode, condition: string, message: string, offset?: number): never {
  throw new XmlError(code, condition, message, { offset });
}
function notWellFormed(message: string, offset?: number): never {
  fail('ERR_XML_NOT_WELL_FORMED', 'not-well-formed', message, offset);
}
function restricted(message: string, offset?: number): never {
  fail('ERR_XML_RESTRICTED', 'restricted-xml', message, offset);
}
function limit(message: string, offset?: number): never {
  fail('ERR_XML_LIMIT', 'policy-violation', message, offset);
}

/** Legal XML 1.0 Char, for character references. */
function isXmlChar(c: number): boolean {
  return (
    c === 0x9 ||
    c === 0xa ||
    c === 0xd ||
    (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) ||
    (c >= 0x10000 && c <= 0x10ffff)
  );
}

/** Replace the five predefined entities and character references; refuse anything else. */
function decodeEntities(s: string, offset: number): string {
  let out = '';
  let last = 0;
  let i = s.indexOf('&');
  while (i >= 0) {
    const semi = s.indexOf(';', i + 1);
    if (semi < 0) notWellFormed("'&' that does not start a reference", offset);
    const ref = s.slice(i + 1, semi);
    let ch: string;
    switch (ref) {
      case 'amp':
        ch = '&';
        break;
      case 'lt':
        ch = '<';
        break;
      case 'gt':
        ch = '>';
        break;
      case 'quot':
        ch = '"';
        break;
      case 'apos':
        ch = "'";
        break;
      default: {
        const m = NUMERIC_REF.exec(ref);
        if (m) {
          const code = m[1] !== undefined ? Number.parseInt(m[1], 16) : Number.parseInt(m[2]!, 10);
          if (!isXmlChar(code))
            notWellFormed(`character reference &${ref}; is not a legal XML character`, offset);
          ch = String.fromCodePoint(code);
        } else if (ENTITY_NAME.test(ref)) {
          restricted(`entity &${ref}; is not allowed (only the five predefined ones)`, offset);
        } else {
          notWellFormed("'&' that does not start a reference", offset);
        }
      }
    }
    out += s.slice(last, i) + ch;
    last = semi + 1;
    i = s.indexOf('&', last);
  }
  return out + s.slice(last);
}

function isWhitespace(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/**
 * The stream parser. Feed it with `write()`; it calls the handlers synchronously.
 *
 * @example
 * const parser = new StreamParser({
 *   streamStart: (h) => console.log('stream', h.attrs.id),
 *   element: (el) => console.log(el.name),
 *   streamEnd: () => console.log('closed'),
 *   error: (e) => console.log(e.condition),
 * });
 * socket.on('data', (b) => parser.write(b));
 */
export class StreamParser {
  private readonly h: StreamParserHandlers;
  private readonly lim: ParserLimits;
  private readonly fragments: boolean;

  private decoder: TextDecoder | null = null;
  private failed = false;
  /** Bumped by reset(), so a handler that resets stops the loop that called it. */
  private gen = 0;

  /** Absolute offset (code units of normalized input) of the start of the chunk being scanned. */
  private base = 0;
  /** Input not yet scanned because a handler threw while it was being processed. */
  private rest = '';
  private pendingCR = false;
  /** Class bits (B_TABLF, B_CR) of the chunk being fed; both set when unknown. */
  private flags = B_TABLF | B_CR;
  /** Bytes of a possible U+FFFE/U+FFFF at the end of the last chunk: 1 = EF, 2 = EF BF. */
  private efPend = 0;
  private badCp = 0;
  private pendingHigh = '';

  private state = S_TEXT;
  /** Pieces of the token or text run cut by chunk ends, and their total length. */
  private pend: string[] = [];
  private pendLen = 0;
  /** Slow start-tag scan: the open quote (0 = none) and attributes seen so far. */
  private quote = 0;
  private scanAttrs = 0;
  /** Absolute offset of the '<' of the token being read. */
  private ltAbs = 0;

  private started = false;
  private ended = false;
  private headerQName = '';
  private rootNs = '';
  private rootMap: NsMap = ROOT_MAP;

  // Open elements of the current stanza (parallel arrays: fewer allocations than frame objects).
  private els: Element[] = [];
  private qnames: string[] = [];
  private nss: string[] = [];
  private maps: NsMap[] = [];
  private stanzaStart = 0;
  /** Limits of the current stanza (`stanzaLimit` may raise them); the defaults between stanzas. */
  private stanzaMax: number;
  private textMax: number;
  private readonly hook: ((open: StanzaOpen) => number | undefined) | undefined;
  private readonly textDefaulted: boolean;

  /** What the token just parsed produced, emitted by `emit()` once the scanner state is consistent. */
  private out: Element | null = null;
  private outKind = 0;
  /** Where to resume if a handler throws: the chunk being scanned and the index after the token. */
  private cur = '';
  private resume = 0;
  private handlerThrew = false;
  /**
   * Cursors into the chunk being scanned: the next '<', '&', LF, TAB at or after where they were last
   * asked for (-1: none in the rest of the chunk, -2: not yet looked for). Each search starts where
   * the previous one ended, so together they cost one pass over the chunk.
   */
  private cLt = -2;
  private cAmp = -2;
  private cNl = -2;
  private cTab = -2;
  /** Scratch: attribute names of the tag being parsed, for the duplicate check. */
  private readonly names: string[] = [];

  constructor(handlers: StreamParserHandlers, options: StreamParserOptions = {}) {
    this.h = handlers;
    const l = { ...DEFAULT_LIMITS, ...options.limits };
    this.textDefaulted = options.limits?.maxTextBytes === undefined;
    if (this.textDefaulted) l.maxTextBytes = l.maxStanzaBytes;
    this.lim = l;
    this.stanzaMax = l.maxStanzaBytes;
    this.textMax = l.maxTextBytes;
    this.hook = options.stanzaLimit;
    this.fragments = options.framing === 'fragments';
  }

  /**
   * How much input the parser holds right now (code units): the current stanza so far, or a token cut
   * by a chunk end. Bounded by `maxStanzaBytes`, or by what `stanzaLimit` returned for the current
   * stanza (plus at most 3 bytes inside the UTF-8 decoder).
   */
  get bufferedBytes(): number {
    if (this.failed) return 0;
    const held = this.els.length > 0 ? this.base - this.stanzaStart : this.pendLen;
    return held + this.rest.length + this.pendingHigh.length;
  }

  /** Feed input: bytes (decoded as a UTF-8 stream) or already-decoded text. */
  write(chunk: Uint8Array | string): void {
    if (this.failed) return;
    let s: string;
    try {
      if (typeof chunk === 'string') {
        s = this.pendingHigh + chunk;
        this.pendingHigh = '';
        const last = s.charCodeAt(s.length - 1);
        // A surrogate pair cut between two strings: keep the first half for the next write.
        if (last >= 0xd800 && last <= 0xdbff) {
          this.pendingHigh = s.slice(-1);
          s = s.slice(0, -1);
        }
        this.flags = B_TABLF | B_CR;
        if (INVALID_STRING.test(s)) s = this.beforeInvalid(s, INVALID_STRING);
      } else {
        this.decoder ??= new TextDecoder('utf-8', { fatal: true });
        const bad = this.scanBytes(chunk);
        if (bad >= 0) {
          // Parse (and emit) what comes before the forbidden character, then fail.
          const gen = this.gen;
          const head = this.decode(chunk.subarray(0, bad));
          this.flags = B_TABLF | B_CR;
          this.feed(head);
          if (gen !== this.gen) return;
          this.invalidChar(this.badCp);
        }
        s = this.decode(chunk);
      }
      this.feed(s);
    } catch (e) {
      if (this.handlerThrew) {
        // Not the input's fault: keep the unscanned rest of the chunk for the next write.
        this.handlerThrew = false;
        this.rest = this.cur.slice(this.resume);
        this.base += this.resume;
        this.cur = '';
        throw e;
      }
      this.onError(e);
    }
  }

  /** The input ended: reports an error if it stopped inside a stanza, a token or a character. */
  end(): void {
    if (this.failed) return;
    try {
      if (this.decoder) {
        try {
          this.decoder.decode();
        } catch {
          fail('ERR_XML_ENCODING', 'not-well-formed', 'input ends inside a UTF-8 sequence', this.base);
        }
      }
      if (this.pendingHigh !== '') notWellFormed('input ends inside a surrogate pair', this.base);
      if (this.els.length > 0 || this.state !== S_TEXT || this.pendLen > 0) {
        notWellFormed('input ends inside an element', this.base);
      }
    } catch (e) {
      this.onError(e);
    }
  }

  /** Fresh state: everything buffered is dropped (after STARTTLS `<proceed/>`, after SASL success). */
  reset(): void {
    this.gen++;
    this.decoder = null;
    this.failed = false;
    this.base = 0;
    this.rest = '';
    this.pendingCR = false;
    this.pendingHigh = '';
    this.flags = B_TABLF | B_CR;
    this.efPend = 0;
    this.state = S_TEXT;
    this.pend = [];
    this.pendLen = 0;
    this.quote = 0;
    this.scanAttrs = 0;
    this.ltAbs = 0;
    this.started = false;
    this.ended = false;
    this.headerQName = '';
    this.rootNs = '';
    this.rootMap = ROOT_MAP;
    this.els = [];
    this.qnames = [];
    this.nss = [];
    this.maps = [];
    this.stanzaStart = 0;
    this.stanzaMax = this.lim.maxStanzaBytes;
    this.textMax = this.lim.maxTextBytes;
    this.out = null;
    this.outKind = 0;
    this.cur = '';
    this.resume = 0;
  }

  /** Call the handler for what the last token produced. False if the handler reset the parser. */
  private emit(s: string, resume: number): boolean {
    const kind = this.outKind;
    const el = this.out;
    this.outKind = 0;
    this.out = null;
    this.cur = s;
    this.resume = resume;
    const gen = this.gen;
    try {
      if (kind === OUT_ELEMENT) this.h.element(el!);
      else if (kind === OUT_END) this.h.streamEnd();
      else {
        this.h.streamStart(el!);
        if (kind === OUT_START_END && gen === this.gen) this.h.streamEnd();
      }
    } catch (e) {
      this.handlerThrew = true;
      throw e;
    }
    return gen === this.gen;
  }

  private onError(e: unknown): void {
    if (!(e instanceof XmlError)) throw e;
    // Drop everything: the parser holds nothing after an error.
    this.reset();
    this.failed = true;
    this.h.error(e);
  }

  /**
   * A forbidden character at some index of the chunk: what comes before it is still parsed (and its
   * stanzas emitted, in order), then the error. Returns '' when a handler reset the parser meanwhile.
   */
  /** Decode bytes with the streaming decoder (fatal: invalid UTF-8 is an error). */
  private decode(b: Uint8Array): string {
    try {
      return this.decoder!.decode(b, STREAM);
    } catch {
      fail('ERR_XML_ENCODING', 'not-well-formed', 'input is not valid UTF-8', this.base);
    }
  }

  private invalidChar(c: number): never {
    fail(
      'ERR_XML_INVALID_CHAR',
      'not-well-formed',
      `character U+${c.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`,
      this.base,
    );
  }

  /**
   * Check one byte: its class bits (0 for most), or -1 when it starts a forbidden character (then
   * `badCp` says which). An EF in the last two bytes may start U+FFFE/U+FFFF in the next chunk.
   */
  private byteAt(c: Uint8Array, q: number, n: number): number {
    const k = BYTE_CLASS[c[q]!]!;
    if (k === 0) return 0;
    if (k === B_BAD) {
      this.badCp = c[q]!;
      return -1;
    }
    if (k !== B_EF) return k;
    if (q + 2 < n) {
      if (c[q + 1] === 0xbf && (c[q + 2]! & 0xfe) === 0xbe) {
        this.badCp = 0xfffe | (c[q + 2]! & 1);
        return -1;
      }
    } else if (q + 1 === n) this.efPend = 1;
    else if (c[q + 1] === 0xbf) this.efPend = 2;
    return 0;
  }

  /**
   * One pass over a chunk of bytes before decoding: sets `flags` (TAB/LF, CR seen) and returns the
   * index of the first byte of a character XML forbids (0 if it began in an earlier chunk), or -1.
   * Four bytes at a time: a word with no byte below 0x20 and none equal to 0xEF needs no look.
   */
  private scanBytes(c: Uint8Array): number {
    const n = c.length;
    let f = 0;
    let i = 0;
    let st = this.efPend;
    this.efPend = 0;
    // The end of an EF BF xx sequence that began in the previous chunk (continuation bytes: class 0).
    while (st !== 0 && i < n) {
      const b = c[i]!;
      if (st === 1) {
        if (b !== 0xbf) break;
        st = 2;
        i++;
      } else {
        if ((b & 0xfe) === 0xbe) {
          this.badCp = 0xfffe | (b & 1);
          return 0;
        }
        break;
      }
    }
    if (i === n && st !== 0) {
      this.efPend = st;
      this.flags = 0;
      return -1;
    }
    const off = c.byteOffset;
    if (n - i >= 16) {
      for (; ((off + i) & 3) !== 0; i++) {
        const k = this.byteAt(c, i, n);
        if (k < 0) return i;
        f |= k;
      }
      const nw = (n - i) >> 2;
      const w = new Int32Array(c.buffer, off + i, nw);
      for (let j = 0; j < nw; j++) {
        const x = w[j]!;
        const y = x ^ 0xefefefef;
        // Some byte < 0x20, or some byte == 0xEF (the classic "has less than" / "has zero" tricks).
        if (((((x - 0x20202020) & ~x) | ((y - 0x01010101) & ~y)) & 0x80808080) !== 0) {
          const b = i + (j << 2);
          for (let q = b; q < b + 4; q++) {
            const k = this.byteAt(c, q, n);
            if (k < 0) return q;
            f |= k;
          }
        }
      }
      i += nw << 2;
    }
    for (; i < n; i++) {
      const k = this.byteAt(c, i, n);
      if (k < 0) return i;
      f |= k;
    }
    this.flags = f;
    return -1;
  }

  private beforeInvalid(s: string, re: RegExp): string {
    const i = s.search(re);
    const gen = this.gen;
    this.feed(s.slice(0, i));
    if (gen !== this.gen) return '';
    const c = s.codePointAt(i) ?? 0;
    fail(
      'ERR_XML_INVALID_CHAR',
      'not-well-formed',
      `character U+${c.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`,
      this.base,
    );
  }

  private feed(input: string): void {
    let s = input;
    // End-of-line handling (XML 1.0 section 2.11): CRLF and lone CR become LF, also across chunks.
    if (this.pendingCR && s.charCodeAt(0) === 10) s = s.slice(1);
    this.pendingCR = false;
    if ((this.flags & B_CR) !== 0 && s.indexOf('\r') >= 0) {
      this.pendingCR = s.charCodeAt(s.length - 1) === 13;
      s = s.replace(/\r\n?/g, '\n');
    }
    if (this.rest !== '') {
      s = this.rest + s;
      this.rest = '';
      this.flags = B_TABLF | B_CR;
    }
    this.run(s);
  }

  /** The scanner. `i` is the cursor in `s`; state that outlives the chunk lives in fields. */
  private run(s: string): void {
    const len = s.length;
    const lim = this.lim;
    let i = 0;
    this.resetCursors();
    while (i < len) {
      switch (this.state) {
        case S_TEXT: {
          let j = this.cLt;
          if (j !== -1 && j < i) j = this.cLt = s.indexOf('<', i);
          const end = j < 0 ? len : j;
          if (this.els.length === 0) {
            // Between stanzas only whitespace; dropped, never held.
            if (!isWhitespace(s, i, end)) {
              notWellFormed(
                this.ended ? 'content after the stream end' : 'text outside of a stanza',
                this.base + i,
              );
            }
          } else if (j < 0) {
            this.pend.push(s.slice(i));
            this.pendLen += len - i;
            if (this.pendLen > this.textMax) limit('text run exceeds maxTextBytes', this.base + i);
          } else if (this.pendLen > 0 || j > i) {
            let t: string;
            if (this.pendLen > 0) {
              this.pend.push(s.slice(i, j));
              this.pendLen += j - i;
              t = this.pend.join('');
              this.pend = [];
              this.pendLen = 0;
              if (t.indexOf('&') >= 0) t = decodeEntities(t, this.base + i);
            } else {
              t = s.slice(i, j);
              let a = this.cAmp;
              if (a !== -1 && a < i) a = this.cAmp = s.indexOf('&', i);
              if (a !== -1 && a < j) t = decodeEntities(t, this.base + i);
            }
            if (t.length > this.textMax) limit('text run exceeds maxTextBytes', this.base + i);
            this.els[this.els.length - 1]!.children.push(t);
          }
          if (j < 0) {
            i = len;
            break;
          }
          this.ltAbs = this.base + j;
          this.state = S_LT;
          i = j + 1;
          break;
        }
        case S_LT: {
          const c = s.charCodeAt(i);
          if (c === 47) {
            // '/': end tag
            const k = s.indexOf('>', i + 1);
            if (k < 0) {
              this.pend.push(s.slice(i + 1));
              this.pendLen = len - i - 1;
              this.state = S_CLOSE;
              i = len;
              break;
            }
            this.state = S_TEXT;
            this.closeTag(s.slice(i + 1, k));
            i = k + 1;
            if (this.outKind !== 0 && !this.emit(s, i)) return;
          } else if (c === 33) {
            // '!': comment, CDATA section or DOCTYPE. None are allowed in XMPP (RFC 6120 section 11.1).
            const what = s.startsWith('--', i + 1)
              ? 'comments are'
              : s.startsWith('[', i + 1)
                ? 'CDATA sections are'
                : 'DTDs and markup declarations are';
            restricted(`${what} not allowed in XMPP`, this.ltAbs);
          } else if (c === 63) {
            // '?': only the XML declaration, and only at the very start.
            if (this.ltAbs !== 0) restricted('processing instructions are not allowed in XMPP', this.ltAbs);
            this.state = S_DECL;
            this.pend = [];
            this.pendLen = 0;
            const k = s.indexOf('>', i);
            if (k < 0) {
              this.pend.push(s.slice(i));
              this.pendLen = len - i;
              if (this.pendLen > MAX_DECL) restricted('processing instructions are not allowed in XMPP', 0);
              i = len;
              break;
            }
            this.declaration('<' + s.slice(i, k + 1));
            i = k + 1;
          } else {
            this.state = S_TEXT;
            const r = this.openTag(s, i, len);
            if (r < 0) {
              // The tag goes on in a later chunk: keep it and remember the scan state.
              this.state = S_OPEN;
              this.quote = 0;
              this.scanAttrs = 0;
              this.pend = [];
              this.pendLen = 0;
              if (this.scanOpen(s, i, len) >= 0) notWellFormed('malformed start tag', this.ltAbs);
              i = len;
            } else {
              i = r;
              if (this.outKind !== 0 && !this.emit(s, i)) return;
            }
          }
          break;
        }
        case S_OPEN: {
          const k = this.scanOpen(s, i, len);
          if (k < 0) {
            i = len;
            break;
          }
          // Complete: join once and parse with the fast path.
          const tag = this.pend.join('') + s.slice(0, k + 1);
          this.pend = [];
          this.pendLen = 0;
          this.state = S_TEXT;
          this.cLt = this.cAmp = this.cNl = this.cTab = -2;
          const r = this.openTag(tag, 0, tag.length);
          this.resetCursors();
          if (r !== tag.length) notWellFormed('malformed start tag', this.ltAbs);
          i = k + 1;
          if (this.outKind !== 0 && !this.emit(s, i)) return;
          break;
        }
        case S_CLOSE: {
          const k = s.indexOf('>', i);
          if (k < 0) {
            this.pend.push(s);
            this.pendLen += len;
            if (this.pendLen > lim.maxNameLength + 64) notWellFormed('malformed end tag', this.ltAbs);
            i = len;
            break;
          }
          const name = this.pend.join('') + s.slice(0, k);
          this.pend = [];
          this.pendLen = 0;
          this.state = S_TEXT;
          this.closeTag(name);
          i = k + 1;
          if (this.outKind !== 0 && !this.emit(s, i)) return;
          break;
        }
        case S_DECL: {
          const k = s.indexOf('>', i);
          if (k < 0) {
            this.pend.push(s);
            this.pendLen += len;
            if (this.pendLen > MAX_DECL) restricted('processing instructions are not allowed in XMPP', 0);
            i = len;
            break;
          }
          const d = '<' + this.pend.join('') + s.slice(0, k + 1);
          this.pend = [];
          this.pendLen = 0;
          this.declaration(d);
          i = k + 1;
          break;
        }
      }
    }
    this.base += len;
    // Bound what is held across chunks: the stanza so far, or a token before one starts.
    const held =
      this.els.length > 0 ? this.base - this.stanzaStart : this.state === S_TEXT ? 0 : this.pendLen;
    if (held > (this.els.length > 0 ? this.stanzaMax : lim.maxStanzaBytes)) {
      limit('stanza exceeds maxStanzaBytes', this.base);
    }
  }

  /** Cursors for a new chunk: TAB and LF are only searched for if the chunk has any. */
  private resetCursors(): void {
    this.cLt = this.cAmp = -2;
    this.cNl = this.cTab = (this.flags & B_TABLF) !== 0 ? -2 : -1;
  }

  private declaration(d: string): void {
    this.state = S_TEXT;
    if (!/^<\?xml[ \t\n]/.test(d)) restricted('processing instructions are not allowed in XMPP', 0);
    const m = XML_DECL.exec(d);
    if (!m) notWellFormed('malformed XML declaration', 0);
    const enc = m[3];
    if (enc !== undefined && enc.toLowerCase() !== 'utf-8') {
      fail(
        'ERR_XML_ENCODING',
        'unsupported-encoding',
        `encoding ${enc} is not supported: XMPP is UTF-8 only`,
        0,
      );
    }
  }

  /**
   * Slow scan of a start tag across chunks: find the '>' outside quotes from `i`, counting attributes
   * and refusing '<'. Appends what it consumed to the pieces. Returns the index of '>' or -1.
   */
  private scanOpen(s: string, from: number, len: number): number {
    let i = from;
    let q = this.quote;
    let n = this.scanAttrs;
    let found = -1;
    // The first '<' from here: wherever the scan reaches it, inside quotes or not, it is an error.
    const lt = s.indexOf('<', from);
    while (i < len) {
      if (q !== 0) {
        const k = s.indexOf(q === 39 ? "'" : '"', i);
        if (lt >= 0 && (k < 0 || lt < k)) notWellFormed("'<' in an attribute value", this.base + lt);
        if (k < 0) {
          i = len;
          break;
        }
        i = k + 1;
        q = 0;
        if (++n > this.lim.maxAttributes) limit('too many attributes', this.ltAbs);
      } else {
        const c = s.charCodeAt(i);
        if (c === 62) {
          found = i;
          break;
        }
        if (c === 39 || c === 34) q = c;
        else if (c === 60) notWellFormed("'<' inside a tag", this.base + i);
        i++;
      }
    }
    this.quote = q;
    this.scanAttrs = n;
    if (found < 0) {
      this.pend.push(from === 0 ? s : s.slice(from));
      this.pendLen += len - from;
      if (this.pendLen > (this.els.length > 0 ? this.stanzaMax : this.lim.maxStanzaBytes)) {
        limit('tag exceeds maxStanzaBytes', this.ltAbs);
      }
    }
    return found;
  }

  /**
   * Parse a start tag whose name starts at `i` (just after '<'). Returns the index after '>', or -1
   * if `s` ends before the tag does (then nothing has been changed). Opens or emits the element.
   */
  private openTag(s: string, start: number, len: number): number {
    const lim = this.lim;
    // Element name (with the position of its colon, if any).
    let i = start;
    let c = s.charCodeAt(i);
    if (c < 128 ? (NAME_CLASS[c]! & 1) === 0 : !nameStartWide(c)) {
      notWellFormed('invalid name start character', this.base + i);
    }
    let colon = -1;
    for (;;) {
      if (++i >= len) return -1;
      c = s.charCodeAt(i);
      if (c < 128) {
        if (NAME_CLASS[c] === 0) {
          if (c !== 58) break;
          if (colon >= 0) notWellFormed('a name with two colons', this.base + i);
          colon = i;
        }
      } else if (!nameCharWide(c)) break;
    }
    if (i - start > lim.maxNameLength) limit('name exceeds maxNameLength', this.ltAbs);
    const qname = cachedName(s, start, i);
    const attrs: Attrs = {};
    let nAttrs = 0;
    const names = this.names;
    let nNames = 0;
    let defNs: string | undefined;
    let map: NsMap | null = null;
    let attrPrefixed = false;
    let selfClose = false;
    for (;;) {
      let ws = false;
      while (c === 32 || c === 10 || c === 9) {
        ws = true;
        if (++i >= len) return -1;
        c = s.charCodeAt(i);
      }
      if (c === 62) {
        i++;
        break;
      }
      if (c === 47) {
        if (i + 1 >= len) return -1;
        if (s.charCodeAt(i + 1) !== 62) notWellFormed("'/' not followed by '>' in a tag", this.base + i);
        selfClose = true;
        i += 2;
        break;
      }
      if (!ws) notWellFormed('attributes must be separated by whitespace', this.base + i);
      // Attribute name
      const a0 = i;
      if (c < 128 ? (NAME_CLASS[c]! & 1) === 0 : !nameStartWide(c)) {
        notWellFormed('invalid name start character', this.base + i);
      }
      let acolon = -1;
      for (;;) {
        if (++i >= len) return -1;
        c = s.charCodeAt(i);
        if (c < 128) {
          if (NAME_CLASS[c] === 0) {
            if (c !== 58) break;
            if (acolon >= 0) notWellFormed('a name with two colons', this.base + i);
            acolon = i;
          }
        } else if (!nameCharWide(c)) break;
      }
      if (i - a0 > lim.maxNameLength) limit('name exceeds maxNameLength', this.ltAbs);
      const aname = cachedName(s, a0, i);
      while (c === 32 || c === 10 || c === 9) {
        if (++i >= len) return -1;
        c = s.charCodeAt(i);
      }
      if (c !== 61) notWellFormed(`attribute ${aname} without '='`, this.base + i);
      do {
        if (++i >= len) return -1;
        c = s.charCodeAt(i);
      } while (c === 32 || c === 10 || c === 9);
      if (c !== 39 && c !== 34) notWellFormed('attribute value must be quoted', this.base + i);
      const v0 = i + 1;
      const k = s.indexOf(c === 39 ? "'" : '"', v0);
      if (k < 0) return -1;
      let value = s.slice(v0, k);
      i = k + 1;
      if (++nAttrs > lim.maxAttributes) limit('too many attributes', this.ltAbs);
      if (v0 < k) {
        // Attribute-value normalization (XML 1.0 section 3.3.3): literal TAB/LF become spaces;
        // references to them are kept, so this comes before decoding. The cursors find the next
        // '\n', '\t', '&' in the chunk once, for all values and text up to there.
        let p = this.cNl;
        if (p !== -1 && p < v0) p = this.cNl = s.indexOf('\n', v0);
        let t = this.cTab;
        if (t !== -1 && t < v0) t = this.cTab = s.indexOf('\t', v0);
        if ((p !== -1 && p < k) || (t !== -1 && t < k)) value = value.replace(/[\t\n]/g, ' ');
        let a = this.cAmp;
        if (a !== -1 && a < v0) a = this.cAmp = s.indexOf('&', v0);
        if (a !== -1 && a < k) value = decodeEntities(value, this.base + v0);
      }
      if (i >= len) return -1;
      c = s.charCodeAt(i);
      if (
        aname.charCodeAt(0) === 120 &&
        (aname.length === 5 || acolon === a0 + 5) &&
        aname.startsWith('xmlns')
      ) {
        if (acolon < 0) {
          if (defNs !== undefined) notWellFormed('duplicate attribute xmlns', this.ltAbs);
          defNs = value;
        } else {
          const p = aname.slice(6);
          if (p === '') notWellFormed(`malformed namespace declaration ${aname}`, this.ltAbs);
          if (value === '') notWellFormed(`namespace prefix ${p} cannot be undeclared`, this.ltAbs);
          if (p === 'xmlns' || value === NS_XMLNS || (p === 'xml') !== (value === NS_XML)) {
            fail('ERR_XML_NAMESPACE', 'invalid-namespace', `illegal binding of prefix ${p}`, this.ltAbs);
          }
          if (map === null) map = Object.create(this.currentMap()) as NsMap;
          else if (Object.hasOwn(map, p)) notWellFormed(`duplicate attribute ${aname}`, this.ltAbs);
          map[p] = value;
        }
        continue;
      }
      // Duplicates: compare with the names so far (few, and mostly the same cached string objects).
      for (let d = 0; d < nNames; d++) {
        if (names[d] === aname) notWellFormed(`duplicate attribute ${aname}`, this.ltAbs);
      }
      names[nNames++] = aname;
      if (acolon >= 0) {
        if (acolon === a0 || acolon === i - 1) notWellFormed(`malformed name ${aname}`, this.ltAbs);
        attrPrefixed = true;
      }
      if (aname === '__proto__') {
        Object.defineProperty(attrs, aname, { value, enumerable: true, writable: true, configurable: true });
      } else {
        attrs[aname] = value;
      }
    }
    // No '<' anywhere in the tag (attribute values are the only place one could hide).
    let l = this.cLt;
    if (l !== -1 && l < start) l = this.cLt = s.indexOf('<', start);
    if (l !== -1 && l < i) notWellFormed("'<' in an attribute value", this.base + l);

    // The tag is complete: resolve namespaces and place the element.
    const depth = this.els.length;
    const scopeMap = map ?? this.currentMap();
    const inheritedNs = depth > 0 ? this.nss[depth - 1]! : this.rootNs;
    const dflt = defNs ?? inheritedNs;
    let local = qname;
    let ns = dflt;
    if (colon >= 0) {
      const prefix = qname.slice(0, colon - start);
      local = qname.slice(colon - start + 1);
      if (local === '' || prefix === '' || local.indexOf(':') >= 0)
        notWellFormed(`malformed name ${qname}`, this.ltAbs);
      const u = scopeMap[prefix];
      if (u === undefined) {
        fail('ERR_XML_NAMESPACE', 'invalid-namespace', `undeclared namespace prefix ${prefix}`, this.ltAbs);
      }
      ns = u;
    }
    if (attrPrefixed) {
      for (const k in attrs) {
        const ci = k.indexOf(':');
        if (ci < 0) continue;
        const p = k.slice(0, ci);
        if (p === '' || ci === k.length - 1 || k.indexOf(':', ci + 1) >= 0)
          notWellFormed(`malformed name ${k}`, this.ltAbs);
        if (scopeMap[p] === undefined) {
          fail('ERR_XML_NAMESPACE', 'invalid-namespace', `undeclared namespace prefix ${p}`, this.ltAbs);
        }
      }
    }
    const el = new Element(local, ns, attrs, []);

    if (!this.fragments && !this.started) {
      if (local !== 'stream' || ns !== NS_STREAMS) {
        fail(
          local === 'stream' ? 'ERR_XML_NAMESPACE' : 'ERR_XML_NOT_WELL_FORMED',
          local === 'stream' ? 'invalid-namespace' : 'not-well-formed',
          `expected the stream header, got ${qname}`,
          this.ltAbs,
        );
      }
      this.started = true;
      this.headerQName = qname;
      this.rootNs = dflt;
      this.rootMap = scopeMap;
      this.out = el;
      this.outKind = selfClose ? OUT_START_END : OUT_START;
      if (selfClose) this.ended = true;
      return i;
    }
    if (depth === 0) {
      if (this.ended) notWellFormed('content after the stream end', this.ltAbs);
      if (!this.fragments && local === 'stream' && ns === NS_STREAMS) {
        notWellFormed('a second stream header', this.ltAbs);
      }
      this.stanzaStart = this.ltAbs;
      if (this.hook !== undefined) {
        this.callHook(el);
        if (selfClose) {
          this.stanzaMax = lim.maxStanzaBytes;
          this.textMax = lim.maxTextBytes;
        }
      }
      if (selfClose) {
        this.out = el;
        this.outKind = OUT_ELEMENT;
        return i;
      }
    } else {
      if (depth >= lim.maxDepth) limit('elements nested deeper than maxDepth', this.ltAbs);
      if (this.base + i - this.stanzaStart > this.stanzaMax) {
        limit('stanza exceeds maxStanzaBytes', this.ltAbs);
      }
      this.els[depth - 1]!.children.push(el);
      if (selfClose) return i;
    }
    this.els.push(el);
    this.qnames.push(qname);
    this.nss.push(dflt);
    this.maps.push(scopeMap);
    return i;
  }

  /** Ask `stanzaLimit` for the limit of the stanza that starts with `el`. */
  private callHook(el: Element): void {
    let r: number | undefined;
    try {
      r = this.hook!({ name: el.name, xmlns: el.xmlns, attrs: el.attrs });
    } catch (e) {
      this.reset();
      this.failed = true;
      throw e;
    }
    if (typeof r === 'number' && r >= 0) {
      this.stanzaMax = r;
      if (this.textDefaulted) this.textMax = r;
    }
  }

  private currentMap(): NsMap {
    const d = this.els.length;
    return d > 0 ? this.maps[d - 1]! : this.rootMap;
  }

  private closeTag(raw: string): void {
    let e = raw.length;
    let c = raw.charCodeAt(e - 1);
    while (c === 32 || c === 10 || c === 9) c = raw.charCodeAt(--e - 1);
    const name = e === raw.length ? raw : raw.slice(0, e);
    const depth = this.els.length;
    if (depth === 0) {
      if (!this.fragments && this.started && !this.ended && name === this.headerQName) {
        this.ended = true;
        this.outKind = OUT_END;
        return;
      }
      notWellFormed(`unexpected end tag ${name}`, this.ltAbs);
    }
    if (name !== this.qnames[depth - 1]) {
      notWellFormed(`end tag ${name} does not match start tag ${this.qnames[depth - 1]}`, this.ltAbs);
    }
    const el = this.els.pop()!;
    this.qnames.pop();
    this.nss.pop();
    this.maps.pop();
    if (depth === 1) {
      if (this.base - this.stanzaStart > this.stanzaMax) limit('stanza exceeds maxStanzaBytes', this.ltAbs);
      this.stanzaMax = this.lim.maxStanzaBytes;
      this.textMax = this.lim.maxTextBytes;
      this.out = el;
      this.outKind = OUT_ELEMENT;
    }
  }
}

/**
 * Parse one element from text, with the same strictness and limits as the stream parser (test
 * fixtures, WebSocket frames). Throws `XmlError`.
 *
 * @example
 * parseXml("<message xmlns='jabber:client' to='a@b'><body>hi</body></message>").getChildText('body')
 */
export function parseXml(
  text: string,
  options: {
    limits?: Partial<ParserLimits> | undefined;
    stanzaLimit?: ((open: StanzaOpen) => number | undefined) | undefined;
  } = {},
): Element {
  let result: Element | undefined;
  let error: XmlError | undefined;
  const p = new StreamParser(
    {
      streamStart() {},
      streamEnd() {},
      element(el) {
        if (result !== undefined)
          error ??= new XmlError('ERR_XML_NOT_WELL_FORMED', 'not-well-formed', 'more than one element');
        result = el;
      },
      error(e) {
        error ??= e;
      },
    },
    { limits: options.limits, stanzaLimit: options.stanzaLimit, framing: 'fragments' },
  );
  p.write(text);
  p.end();
  if (error) throw error;
  if (!result) throw new XmlError('ERR_XML_NOT_WELL_FORMED', 'not-well-formed', 'no element');
  return result;
}
