/**
 * XHTML-IM on the wire: generated from message styling or from markup the app gives, and read from
 * received messages into the safe tree of `sanitize.ts`.
 *
 * Specs: XEP-0071 XHTML-IM v1.5.4: section 5 wrapper (`<html xmlns='http://jabber.org/protocol/xhtml-im'>`
 * holding one or more `<body xmlns='http://www.w3.org/1999/xhtml'>`, distinct xml:lang when several),
 * section 7 recommended profile (what we generate stays inside it, except `<code>` and `<pre>`,
 * which are Text Module elements the profile allows to be generated), section 8 business rules (the
 * XHTML says what the body says; line breaks as `<br/>`; significant whitespace as NO-BREAK SPACE),
 * section 11 security. XEP-0393 Message Styling v1.1.1 as the source markup.
 *
 * Mapping from XEP-0393: strong -> `<strong>`, emphasis -> `<em>`, pre span -> `<code>`, strike ->
 * `<span style='text-decoration: line-through'>` (XEP-0071 has no `<del>`: the Edit Module is not
 * in its integration set), pre block -> `<pre>`, quote -> `<blockquote>`, line breaks between lines
 * -> `<br/>`. The directives themselves are not repeated in the XHTML (the element says it).
 *
 * XHTML-IM is deprecated by the XSF in favour of XEP-0393; we still send it when asked, because old
 * clients (the ones the seed talks about) only understand it, and we read it always, safely.
 */

import { ConfabError } from '../../errors.ts';
import { type Child, type Element, xml } from '../../xml/element.ts';
import { parseXml } from '../../xml/parser.ts';
import { NS_XHTML, type SafeNode, type SanitizeOptions, sanitizeXhtml, styleText } from './sanitize.ts';
import { parseStyling, type StyledBlock, type StyledDocument, type StyledSpan } from './styling.ts';

export { NS_XHTML } from './sanitize.ts';

/** Namespace of the XEP-0071 wrapper element and disco feature. */
export const NS_XHTML_IM = 'http://jabber.org/protocol/xhtml-im';

/** Bodies read from one `<html/>`: more than this are ignored (one per language is the rule). */
const MAX_BODIES = 8;

const NBSP = '\u00a0';

/**
 * XEP-0071 section 8 rule 9: significant whitespace (at the start of a line, or more than one space)
 * as NO-BREAK SPACE, so an XHTML renderer does not collapse it.
 */
function keepSpaces(text: string, lineStart: boolean): string {
  const t = lineStart ? text.replace(/^ +/, (run) => NBSP.repeat(run.length)) : text;
  return t.replace(/ {2,}/g, (run) => NBSP.repeat(run.length - 1) + ' ');
}

function spansToXhtml(spans: readonly StyledSpan[], lineStart: boolean): Child[] {
  const out: Child[] = [];
  spans.forEach((sp, k) => {
    const first = lineStart && k === 0;
    switch (sp.type) {
      case 'plain':
        out.push(keepSpaces(sp.text, first));
        break;
      case 'pre':
        out.push(xml('code', null, keepSpaces(sp.text, false)));
        break;
      case 'strong':
        out.push(xml('strong', null, spansToXhtml(sp.children, false)));
        break;
      case 'emphasis':
        out.push(xml('em', null, spansToXhtml(sp.children, false)));
        break;
      case 'strike':
        out.push(xml('span', { style: 'text-decoration: line-through' }, spansToXhtml(sp.children, false)));
        break;
    }
  });
  return out;
}

function blocksToXhtml(blocks: readonly StyledBlock[]): Child[] {
  const out: Child[] = [];
  let prevInline = false;
  for (const b of blocks) {
    if (b.type === 'line') {
      // Lines are separated by <br/>; a block element (pre, blockquote) breaks the line by itself.
      if (prevInline) out.push(xml('br'));
      out.push(...spansToXhtml(b.spans, true));
      prevInline = true;
    } else if (b.type === 'pre') {
      out.push(xml('pre', null, b.lines.join('\n')));
      prevInline = false;
    } else {
      out.push(xml('blockquote', null, blocksToXhtml(b.children)));
      prevInline = false;
    }
  }
  return out;
}

export interface XhtmlBodyOptions {
  /** xml:lang of the body; required by XEP-0071 when a message has several. */
  lang?: string | undefined;
}

/**
 * An XHTML `<body/>` from XEP-0393 markup (a string is parsed first).
 *
 * @example
 * serialize(stylingToXhtmlBody('*hi* _there_'))
 * // "<body xmlns='http://www.w3.org/1999/xhtml'><strong>hi</strong> <em>there</em></body>"
 */
export function stylingToXhtmlBody(source: string | StyledDocument, options: XhtmlBodyOptions = {}): Element {
  const doc = typeof source === 'string' ? parseStyling(source) : source;
  return xml('body', { xmlns: NS_XHTML, 'xml:lang': options.lang }, blocksToXhtml(doc));
}

/** The XEP-0071 wrapper around one or more XHTML bodies. */
export function xhtmlIm(bodies: Element | readonly Element[]): Element {
  return xml('html', { xmlns: NS_XHTML_IM }, bodies as Element | Element[]);
}

/**
 * `<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>...`
 * from XEP-0393 markup: put it in a message next to the plain `<body/>` holding the same text.
 *
 * @example
 * xml('message', { to, type: 'chat' }, xml('body', {}, text), stylingToXhtmlIm(text))
 */
export function stylingToXhtmlIm(source: string | StyledDocument, options: XhtmlBodyOptions = {}): Element {
  return xhtmlIm(stylingToXhtmlBody(source, options));
}

/** A safe tree as XHTML elements (children for a `<body/>`): the outbound form of `SafeNode[]`. */
export function safeToXhtml(nodes: readonly SafeNode[]): Child[] {
  const out: Child[] = [];
  for (const n of nodes) {
    switch (n.type) {
      case 'text':
        out.push(n.text);
        break;
      case 'br':
        out.push(xml('br'));
        break;
      case 'img':
        out.push(xml('img', { src: n.src, alt: n.alt, width: n.width, height: n.height }));
        break;
      case 'a':
        out.push(xml('a', { href: n.href, style: n.style && styleText(n.style) }, safeToXhtml(n.children)));
        break;
      default:
        out.push(xml(n.type, { style: n.style && styleText(n.style) }, safeToXhtml(n.children)));
    }
  }
  return out;
}

export interface MarkupOptions extends XhtmlBodyOptions, Omit<SanitizeOptions, 'images'> {
  /** Images the app's markup may carry: 'keep' (default here: the sender chose them) or 'alt'. */
  images?: 'alt' | 'keep' | undefined;
}

// The app's markup may be a fragment with several top-level nodes ("hi <b>you</b>"), so it is parsed
// inside a wrapper. The wrapper is XML text by necessity (we are parsing text); its end tag is matched
// by the parser, so markup that closes it early ("</body><x>") is a well-formedness error, not an escape.
const WRAP_NAME = 'confab-markup';

/**
 * XHTML-IM from markup the app gives (the CLI's `--xhtml MARKUP`): a fragment ("hi <b>you</b>"), a
 * `<p/>`, a `<body/>` or a whole `<html/>` wrapper. It is parsed strictly (XML, not HTML) and then
 * sanitized exactly like received XHTML-IM, so nothing outside the safe subset is ever sent; legacy
 * `<b>`/`<i>`/`<font>` come out as `<strong>`/`<em>`/`<span style>`. Throws `ConfabError`
 * `ERR_BAD_INPUT` when it is not well-formed.
 *
 * @example
 * markupToXhtmlIm("Read <a href='https://xmpp.org/'>this</a>, <b>now</b>")
 */
export function markupToXhtmlIm(markup: string, options: MarkupOptions = {}): Element {
  let root: Element;
  try {
    root = parseXml(`<${WRAP_NAME} xmlns='${NS_XHTML}'>${markup}</${WRAP_NAME}>`);
  } catch (err) {
    throw new ConfabError('ERR_BAD_INPUT', `XHTML markup is not well-formed XML: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const sanitize: SanitizeOptions = {
    images: options.images ?? 'keep',
    maxDepth: options.maxDepth,
    maxNodes: options.maxNodes,
    maxText: options.maxText,
  };
  const only = root.children.length === 1 ? root.children[0] : undefined;
  if (only !== undefined && typeof only !== 'string') {
    if (only.is('html', NS_XHTML_IM)) {
      const bodies = parseXhtmlIm(only, sanitize).map((b) =>
        xml('body', { xmlns: NS_XHTML, 'xml:lang': b.lang }, safeToXhtml(b.nodes)),
      );
      return xhtmlIm(bodies);
    }
    if (only.name === 'body' && only.xmlns === NS_XHTML) root = only;
  }
  const lang = options.lang ?? root.attrs['xml:lang'];
  return xhtmlIm(
    xml('body', { xmlns: NS_XHTML, 'xml:lang': lang }, safeToXhtml(sanitizeXhtml(root, sanitize))),
  );
}

/** One sanitized XHTML body of a received message. */
export interface XhtmlImBody {
  /** Its xml:lang, if it had one. */
  readonly lang: string | undefined;
  readonly nodes: readonly SafeNode[];
}

/**
 * Read the XHTML-IM of a received message (or the `<html/>` wrapper itself) into safe trees, one per
 * `<body/>`; [] when there is none. Only `<body/>` children in the XHTML namespace count, at most
 * eight. Images become alt text unless `images: 'keep'`.
 *
 * @example
 * const [body] = parseXhtmlIm(message);
 * if (body) terminal.write(safeToText(body.nodes));
 */
export function parseXhtmlIm(stanza: Element, options: SanitizeOptions = {}): XhtmlImBody[] {
  const html = stanza.is('html', NS_XHTML_IM) ? stanza : stanza.getChild('html', NS_XHTML_IM);
  if (!html) return [];
  const out: XhtmlImBody[] = [];
  for (const body of html.getChildren('body', NS_XHTML)) {
    if (out.length >= MAX_BODIES) break;
    out.push({ lang: body.attrs['xml:lang'], nodes: sanitizeXhtml(body, options) });
  }
  return out;
}

/**
 * The body for a language: exact xml:lang match, then the same primary tag ("de" for "de-DE"), then
 * one without xml:lang, then the first.
 */
export function pickXhtmlBody(bodies: readonly XhtmlImBody[], lang?: string): XhtmlImBody | undefined {
  if (lang !== undefined) {
    const l = lang.toLowerCase();
    const exact = bodies.find((b) => b.lang?.toLowerCase() === l);
    if (exact) return exact;
    const primary = l.split('-')[0];
    const near = bodies.find((b) => b.lang?.toLowerCase().split('-')[0] === primary);
    if (near) return near;
  }
  return bodies.find((b) => b.lang === undefined) ?? bodies[0];
}
