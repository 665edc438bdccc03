/**
 * Serializer: Element -> XML text, plus the stream open/close strings.
 *
 * Specs: XML 1.0 (Fifth Edition) section 2.2 (Char), 2.4 (character data), 3.3.3 (attribute-value
 * normalization); Namespaces in XML 1.0 (Third Edition); RFC 6120 section 4.7 (stream attributes) and
 * section 11 (XML usage).
 *
 * Speed: nearly all text and attribute values need no escaping, so each value is first tested with one
 * regular expression and returned as is; only values that match take the slow path, which escapes and
 * checks for characters XML 1.0 forbids in the same pass. Output is built by string concatenation
 * (V8 ropes), which beats array joins for the small stanzas XMPP sends.
 *
 * Namespaces are written as default `xmlns` declarations only where an element's namespace differs from
 * its parent's (or from the context the caller passes, e.g. `jabber:client` for stanzas in a c2s stream).
 * Prefixes are never generated: `stream:` only appears in the fixed stream header and close tag.
 */
import { XmlError } from '../errors.ts';
import type { Element } from './element.ts';

/** The namespace of the stream header and of stream-level elements (RFC 6120 section 4.8.1). */
export const NS_STREAMS = 'http://etherx.jabber.org/streams';

/** Closes the stream (RFC 6120 section 4.4). */
export const STREAM_CLOSE = '</stream:stream>';

// Anything that needs work in text: the markup characters, CR (written as a reference so a parser's
// end-of-line normalization gives it back), and characters XML 1.0 forbids. Unpaired surrogates are
// found by `isWellFormed()` (native, fast), so astral characters (emoji) stay on the fast path.
const TEXT_SPECIAL = /[&<>\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
// In attribute values also both quotes and TAB/LF, which attribute-value normalization would turn into
// spaces (XML 1.0 section 3.3.3).
const ATTR_SPECIAL = /[&<>"'\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

// String.prototype.isWellFormed is ES2024 (Node 20, all current browsers); typed here for lib es2023.
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

function invalidChar(s: string, i: number): never {
  const c = s.charCodeAt(i);
  throw new XmlError(
    'ERR_XML_INVALID_CHAR',
    'not-well-formed',
    `character U+${c.toString(16).toUpperCase().padStart(4, '0')} at index ${i} is not allowed in XML 1.0`,
  );
}

/** The slow path shared by text and attributes: escape what needs it, throw on forbidden characters. */
function escapeSlow(s: string, attr: boolean): string {
  let out = '';
  let last = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    let rep: string;
    if (c >= 0x3f) {
      if (c < 0xd800) continue;
      if (c <= 0xdbff) {
        // A high surrogate must be followed by a low one; the pair is one legal astral character.
        const d = i + 1 < len ? s.charCodeAt(i + 1) : 0;
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++;
          continue;
        }
        invalidChar(s, i);
      }
      if (c <= 0xdfff || c >= 0xfffe) invalidChar(s, i);
      continue;
    }
    switch (c) {
      case 38:
        rep = '&amp;';
        break;
      case 60:
        rep = '&lt;';
        break;
      case 62:
        rep = '&gt;';
        break;
      case 13:
        rep = '&#13;';
        break;
      case 34:
        if (!attr) continue;
        rep = '&quot;';
        break;
      case 39:
        if (!attr) continue;
        rep = '&apos;';
        break;
      case 9:
        if (!attr) continue;
        rep = '&#9;';
        break;
      case 10:
        if (!attr) continue;
        rep = '&#10;';
        break;
      default:
        if (c < 0x20) invalidChar(s, i);
        continue;
    }
    out += s.slice(last, i) + rep;
    last = i + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

/**
 * Escape character data: `&`, `<`, `>` (and CR as `&#13;` so it survives end-of-line normalization).
 * Throws `XmlError` `ERR_XML_INVALID_CHAR` on characters XML 1.0 forbids (C0 controls other than
 * TAB/LF/CR, U+FFFE, U+FFFF, unpaired surrogates).
 *
 * @example
 * escapeText('a < b & c') // 'a &lt; b &amp; c'
 */
export function escapeText(s: string): string {
  return TEXT_SPECIAL.test(s) || !wellFormed(s) ? escapeSlow(s, false) : s;
}

/**
 * Escape an attribute value for single or double quoting: the five metacharacters, plus TAB/LF/CR as
 * character references (a parser would otherwise normalize them to spaces). Throws like `escapeText`.
 *
 * @example
 * escapeAttr(`it's "x"`) // 'it&apos;s &quot;x&quot;'
 */
export function escapeAttr(s: string): string {
  return ATTR_SPECIAL.test(s) || !wellFormed(s) ? escapeSlow(s, true) : s;
}

// Element and attribute names come from code, not from peers, but one built from user data must not
// be able to inject markup. Names are a small vocabulary, so a checked name is remembered.
const NAME_RE =
  /^[A-Za-z_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD][-.0-9A-Za-z_\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D\u203F\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]*$/;
const ATTR_NAME_RE =
  /^(?:[A-Za-z_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD][-.0-9A-Za-z_\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D\u203F\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]*:)?[A-Za-z_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD][-.0-9A-Za-z_\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D\u203F\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]*$/;
const goodNames = new Set<string>();
const goodAttrNames = new Set<string>();
const NAME_CACHE_MAX = 10_000;

function checkName(name: string, attr: boolean): void {
  const cache = attr ? goodAttrNames : goodNames;
  if (cache.has(name)) return;
  // Element names are local names (no prefix); attribute names may carry one (`xml:lang`). `xmlns`
  // declarations are the serializer's job: an attribute spelled so would be a second, conflicting one.
  const ok = attr
    ? ATTR_NAME_RE.test(name) && name !== 'xmlns' && !name.startsWith('xmlns:')
    : NAME_RE.test(name);
  if (!ok) {
    throw new XmlError(
      'ERR_XML_INVALID_CHAR',
      'not-well-formed',
      `${attr ? 'attribute' : 'element'} name ${JSON.stringify(name)} is not a valid XML name`,
    );
  }
  if (cache.size < NAME_CACHE_MAX) cache.add(name);
}

function write(el: Element, parentNs: string): string {
  const name = el.name;
  checkName(name, false);
  let s = '<' + name;
  const ns = el.xmlns;
  // '' means "inherits": never write `xmlns=''` for it (see element.ts).
  if (ns !== parentNs && ns !== '') s += " xmlns='" + escapeAttr(ns) + "'";
  const attrs = el.attrs;
  for (const k in attrs) {
    const v = attrs[k];
    if (v === undefined) continue;
    checkName(k, true);
    s += ' ' + k + "='" + (ATTR_SPECIAL.test(v) || !wellFormed(v) ? escapeSlow(v, true) : v) + "'";
  }
  const children = el.children;
  const n = children.length;
  if (n === 0) return s + '/>';
  s += '>';
  const inner = ns === '' ? parentNs : ns;
  for (let i = 0; i < n; i++) {
    const c = children[i]!;
    if (typeof c === 'string') s += TEXT_SPECIAL.test(c) || !wellFormed(c) ? escapeSlow(c, false) : c;
    else s += write(c, inner);
  }
  return s + '</' + name + '>';
}

/**
 * Serialize an element. `parentNs` is the namespace in scope where the text will be placed: an element
 * whose namespace equals it gets no `xmlns` (stanzas in a c2s stream: pass `'jabber:client'`).
 * Throws `XmlError` `ERR_XML_INVALID_CHAR` when text, an attribute or a name cannot be written as XML.
 *
 * @example
 * serialize(xml('message', { to: 'a@b', type: 'chat' }, xml('body', {}, 'hi')), 'jabber:client')
 * // "<message to='a@b' type='chat'><body>hi</body></message>"
 */
export function serialize(el: Element, parentNs = ''): string {
  return write(el, parentNs);
}

/**
 * The stream header a client sends (RFC 6120 section 4.7), with the XML declaration in front.
 * Attributes whose value is undefined are left out.
 *
 * @example
 * streamOpen({ to: 'example.org', version: '1.0', 'xml:lang': 'en' })
 */
export function streamOpen(attrs: Record<string, string | undefined>, defaultNs = 'jabber:client'): string {
  let s =
    "<?xml version='1.0'?><stream:stream xmlns='" +
    escapeAttr(defaultNs) +
    "' xmlns:stream='" +
    NS_STREAMS +
    "'";
  for (const k in attrs) {
    const v = attrs[k];
    if (v === undefined) continue;
    checkName(k, true);
    s += ' ' + k + "='" + escapeAttr(v) + "'";
  }
  return s + '>';
}
