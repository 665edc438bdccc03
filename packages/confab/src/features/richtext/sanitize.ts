/**
 * Received XHTML-IM reduced to a safe, typed tree, and that tree rendered as plain text or safe HTML.
 *
 * Specs: XEP-0071 XHTML-IM v1.5.4: section 7 recommended profile (elements, attributes, the ten
 * recommended CSS1 properties) and section 7.8 summary; section 8 rule 10 (render only what the sender
 * structured); section 11 security considerations (inbound content MUST be assumed malicious and
 * sanitized; images: the user MUST be able to stop automatic fetching; phishing; presence leaks).
 * XHTML Modularization 1.1 section 3.5 user agent conformance (unknown element: process its content;
 * unknown attribute: ignore it), as XEP-0071 section 13.2 summarizes. Legacy markup (`<b>`, `<i>`,
 * `<u>`, `<font color>`) is read as its safe equivalent, as old clients still send it.
 *
 * Everything is allow-listed; nothing is deny-listed except to decide "drop with content" over
 * "unwrap, keep text":
 * - Elements kept: a, blockquote, br, cite, code, em, img (only with `images: 'keep'`), li, ol, p,
 *   pre, q, span, strong, ul. Legacy and near-synonyms are mapped (b, i, u, s, strike, del, font, tt,
 *   kbd, samp, var, div, h1-h6, ins). Unknown elements are unwrapped (their text stays). Elements that
 *   carry code, forms, embedded documents or metadata rather than text are dropped with everything
 *   inside (`DROP` below); so is any element outside the XHTML namespace whose name is one of those.
 * - Attributes kept: `href` on a, `src`/`alt`/`width`/`height` on img, `style` through a CSS
 *   allow-list. Everything else (on*, class, id, xmlns tricks, xml:base ...) is ignored.
 * - Links: only http, https, xmpp, mailto. The scheme is checked after trimming what browsers trim and
 *   a value with any control or whitespace character inside is refused, so "java\tscript:",
 *   " javascript:", "JaVaScRiPt:" and entity-encoded forms (decoded by the XML parser before we see
 *   them) all fail. A link that fails is unwrapped: its text stays, unlinked.
 * - Images: dropped by default and replaced by their alt text (no tracking pixels, no presence leak,
 *   XEP-0071 section 11.1 and 11.3). With `images: 'keep'` only http/https sources survive (no data:,
 *   no cid:; XEP-0231 needs a fetch over XMPP that this module cannot do).
 * - CSS: color, background-color, font-style, font-weight, text-decoration, each value matched against
 *   a strict grammar (keywords, #hex, rgb()/rgba() with numbers): no url(), expression(), escapes,
 *   comments or other functions can pass because nothing but those shapes does.
 * - Limits: element depth (deeper content is flattened to text), output node count and total text
 *   (the rest is cut off), attribute lengths. Traversal beyond the depth limit uses an explicit stack,
 *   so a 10,000-deep tree built by hand costs no recursion.
 */

import type { Element } from '../../xml/element.ts';

export const NS_XHTML = 'http://www.w3.org/1999/xhtml';

/** Container elements of the safe subset (all may carry a safe style). */
export type SafeContainerName =
  | 'blockquote'
  | 'cite'
  | 'code'
  | 'em'
  | 'li'
  | 'ol'
  | 'p'
  | 'pre'
  | 'q'
  | 'span'
  | 'strong'
  | 'ul';

/** CSS properties allowed in a safe style. */
export type SafeStyleProperty =
  | 'color'
  | 'background-color'
  | 'font-style'
  | 'font-weight'
  | 'text-decoration';
/** A validated style: property to lower-cased, grammar-checked value. */
export type SafeStyle = Readonly<Partial<Record<SafeStyleProperty, string>>>;

export interface SafeText {
  readonly type: 'text';
  readonly text: string;
}
export interface SafeBreak {
  readonly type: 'br';
}
export interface SafeLink {
  readonly type: 'a';
  /** Checked: scheme http, https, xmpp or mailto; no whitespace or control characters. */
  readonly href: string;
  readonly style?: SafeStyle | undefined;
  readonly children: readonly SafeNode[];
}
export interface SafeImage {
  readonly type: 'img';
  /** Checked: http or https. */
  readonly src: string;
  readonly alt: string;
  readonly width?: number | undefined;
  readonly height?: number | undefined;
}
export interface SafeContainer {
  readonly type: SafeContainerName;
  readonly style?: SafeStyle | undefined;
  readonly children: readonly SafeNode[];
}
/** One node of sanitized XHTML-IM. `type` discriminates; nothing else can appear. */
export type SafeNode = SafeText | SafeBreak | SafeLink | SafeImage | SafeContainer;

export interface SanitizeOptions {
  /**
   * 'alt' (default): images become their alt text, nothing is ever fetched. 'keep': img nodes with
   * http/https sources (the app must still let the user turn fetching off, XEP-0071 section 11.1).
   */
  images?: 'alt' | 'keep' | undefined;
  /** Element nesting kept as structure; deeper content is kept as text only. Default 32. */
  maxDepth?: number | undefined;
  /** Output nodes; the rest of the content is cut off. Default 2,000. */
  maxNodes?: number | undefined;
  /** Characters of text in the output; the rest is cut off. Default 65,536. */
  maxText?: number | undefined;
}

const CONTAINERS: ReadonlySet<string> = new Set<SafeContainerName>([
  'blockquote',
  'cite',
  'code',
  'em',
  'li',
  'ol',
  'p',
  'pre',
  'q',
  'span',
  'strong',
  'ul',
]);

/** Legacy or near-synonym elements read as a safe one, with an implied style. */
const MAPPED: Readonly<Record<string, { name: SafeContainerName; style?: SafeStyle }>> = {
  b: { name: 'strong' },
  i: { name: 'em' },
  u: { name: 'span', style: { 'text-decoration': 'underline' } },
  ins: { name: 'span', style: { 'text-decoration': 'underline' } },
  s: { name: 'span', style: { 'text-decoration': 'line-through' } },
  strike: { name: 'span', style: { 'text-decoration': 'line-through' } },
  del: { name: 'span', style: { 'text-decoration': 'line-through' } },
  font: { name: 'span' },
  tt: { name: 'code' },
  kbd: { name: 'code' },
  samp: { name: 'code' },
  var: { name: 'em' },
  dfn: { name: 'em' },
  div: { name: 'p' },
  h1: { name: 'p' },
  h2: { name: 'p' },
  h3: { name: 'p' },
  h4: { name: 'p' },
  h5: { name: 'p' },
  h6: { name: 'p' },
  address: { name: 'p' },
};

/**
 * Dropped together with their content: code, styles, embedded documents and media, forms, metadata,
 * foreign vocabularies (SVG and MathML can carry script and links of their own).
 */
const DROP: ReadonlySet<string> = new Set([
  'script',
  'style',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'param',
  'form',
  'input',
  'button',
  'textarea',
  'select',
  'option',
  'optgroup',
  'datalist',
  'output',
  'label',
  'fieldset',
  'legend',
  'meta',
  'link',
  'base',
  'head',
  'title',
  'svg',
  'math',
  'noscript',
  'noembed',
  'noframes',
  'template',
  'audio',
  'video',
  'source',
  'track',
  'canvas',
  'map',
  'area',
  'portal',
  'dialog',
  'xml',
  'xmp',
  'plaintext',
  'listing',
  'marquee',
  'blink',
  'bgsound',
  'image',
  'picture',
  'slot',
  'foreignobject',
]);

/** Link schemes allowed in `href` (XEP-0071 lets any URI through; we do not). */
export const LINK_SCHEMES: ReadonlySet<string> = new Set(['http', 'https', 'xmpp', 'mailto']);
const IMAGE_SCHEMES: ReadonlySet<string> = new Set(['http', 'https']);

const MAX_URL = 4096;
const MAX_STYLE = 1024;
const MAX_ALT = 1024;

// Browsers strip leading/trailing C0 controls and spaces from URLs and remove TAB/LF/CR anywhere
// (WHATWG URL parsing), which is how "java\tscript:" becomes javascript:. We trim the ends the same
// way and refuse the value if anything of the kind is left inside: no legitimate URL needs it.
const URL_TRIM = /^[\u0000-\u0020]+|[\u0000-\u0020]+$/g;
const URL_BAD = /[\u0000-\u0020\u007f-\u009f\p{White_Space}\p{Z}\p{Cf}]/u;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * A URL if it is safe to link (or, with `schemes`, to load), else undefined.
 *
 * @example
 * safeUrl('https://example.org/') // 'https://example.org/'
 * safeUrl('java\tscript:alert(1)') // undefined
 */
export function safeUrl(value: string, schemes: ReadonlySet<string> = LINK_SCHEMES): string | undefined {
  if (value.length > MAX_URL) return undefined;
  const v = value.replace(URL_TRIM, '');
  if (v === '' || URL_BAD.test(v)) return undefined;
  const m = SCHEME.exec(v);
  if (!m || !schemes.has(m[1]!.toLowerCase())) return undefined;
  return v;
}

// ---- CSS ----

const COLOR_NAME = /^[a-z]{3,20}$/;
const COLOR_HEX = /^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/;
const NUM = '\\s*[0-9]{1,3}(?:\\.[0-9]{1,3})?%?\\s*';
const COLOR_FN = new RegExp(`^rgba?\\(${NUM},${NUM},${NUM}(?:,${NUM})?\\)$`);
const COLOR_BAD_NAMES = new Set(['expression', 'inherit', 'initial', 'unset', 'revert']);
const isColor = (v: string): boolean =>
  COLOR_HEX.test(v) || COLOR_FN.test(v) || (COLOR_NAME.test(v) && !COLOR_BAD_NAMES.has(v));
const DECORATIONS = new Set(['none', 'underline', 'overline', 'line-through']);

const CSS: Readonly<Record<SafeStyleProperty, (v: string) => boolean>> = {
  color: isColor,
  'background-color': isColor,
  'font-style': (v) => v === 'normal' || v === 'italic' || v === 'oblique',
  'font-weight': (v) => /^(?:normal|bold|bolder|lighter|[1-9]00)$/.test(v),
  'text-decoration': (v) => {
    const parts = v.split(/\s+/);
    return parts.length <= 3 && parts.every((p) => DECORATIONS.has(p));
  },
};

/**
 * A style attribute reduced to the allow-listed properties with valid values; undefined when nothing
 * is left. Anything with a backslash (CSS escapes) or a comment is refused as a whole: escapes are
 * how filters get fooled (`\75rl(` reads as `url(`).
 *
 * @example
 * safeStyle('color: Green; position: fixed; background-color: url(x)') // { color: 'green' }
 */
export function safeStyle(value: string): SafeStyle | undefined {
  if (value.length > MAX_STYLE || value.includes('\\') || value.includes('/*')) return undefined;
  const out: Partial<Record<SafeStyleProperty, string>> = {};
  let any = false;
  for (const decl of value.split(';')) {
    const colon = decl.indexOf(':');
    if (colon < 0) continue;
    const prop = decl.slice(0, colon).trim().toLowerCase();
    const val = decl
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (!Object.hasOwn(CSS, prop)) continue;
    const p = prop as SafeStyleProperty;
    if (CSS[p](val)) {
      out[p] = val;
      any = true;
    }
  }
  return any ? out : undefined;
}

function mergeStyle(a: SafeStyle | undefined, b: SafeStyle | undefined): SafeStyle | undefined {
  if (!a) return b;
  if (!b) return a;
  return { ...a, ...b };
}

// ---- the walk ----

interface Budget {
  nodes: number;
  text: number;
}

/**
 * Sanitize the children of an XHTML `<body/>` (or any element: its children are taken) into safe
 * nodes. Never throws on content; the limits cut it down instead.
 *
 * @example
 * sanitizeXhtml(parseXml("<body xmlns='http://www.w3.org/1999/xhtml'><b onclick='x()'>hi</b></body>"))
 * // [{ type: 'strong', style: undefined, children: [{ type: 'text', text: 'hi' }] }]
 */
export function sanitizeXhtml(body: Element, options: SanitizeOptions = {}): SafeNode[] {
  const ctx: Ctx = {
    images: options.images ?? 'alt',
    maxDepth: options.maxDepth ?? 32,
    budget: { nodes: options.maxNodes ?? 2000, text: options.maxText ?? 65536 },
  };
  const out: SafeNode[] = [];
  walkChildren(body, 0, false, ctx, out);
  return out;
}

interface Ctx {
  images: 'alt' | 'keep';
  maxDepth: number;
  budget: Budget;
}

function pushText(text: string, ctx: Ctx, out: SafeNode[]): void {
  const b = ctx.budget;
  if (text === '' || b.nodes <= 0 || b.text <= 0) return;
  const t = text.length > b.text ? text.slice(0, b.text) : text;
  b.text -= t.length;
  const last = out[out.length - 1];
  if (last !== undefined && last.type === 'text') {
    // Merge adjacent text (unwrapping produces it) without spending a node.
    out[out.length - 1] = { type: 'text', text: last.text + t };
    return;
  }
  b.nodes--;
  out.push({ type: 'text', text: t });
}

function walkChildren(el: Element, depth: number, inLink: boolean, ctx: Ctx, out: SafeNode[]): void {
  for (const c of el.children) {
    if (ctx.budget.nodes <= 0 || ctx.budget.text <= 0) return;
    if (typeof c === 'string') pushText(c, ctx, out);
    else walkElement(c, depth + 1, inLink, ctx, out);
  }
}

/** Text of a subtree without recursion (for content beyond maxDepth), skipping dropped elements. */
function flatText(root: Element, ctx: Ctx, out: SafeNode[]): void {
  const stack: (Element | string)[] = [root];
  while (stack.length > 0 && ctx.budget.text > 0 && ctx.budget.nodes > 0) {
    const c = stack.pop()!;
    if (typeof c === 'string') {
      pushText(c, ctx, out);
      continue;
    }
    if (DROP.has(c.name.toLowerCase())) continue;
    for (let k = c.children.length - 1; k >= 0; k--) stack.push(c.children[k]!);
  }
}

function walkElement(el: Element, depth: number, inLink: boolean, ctx: Ctx, out: SafeNode[]): void {
  // XHTML is case-sensitive and lower case; old HTML habits (<B>, <FONT>) are read all the same.
  const name = el.name.toLowerCase();
  if (DROP.has(name)) return;
  if (depth > ctx.maxDepth) {
    flatText(el, ctx, out);
    return;
  }
  // Only elements in the XHTML namespace (or none: trees built by hand) mean anything; others are
  // unknown elements: their text stays.
  const xhtml = el.xmlns === NS_XHTML || el.xmlns === '';
  if (!xhtml) {
    walkChildren(el, depth, inLink, ctx, out);
    return;
  }
  const budget = ctx.budget;
  if (name === 'br') {
    if (budget.nodes > 0) {
      budget.nodes--;
      out.push({ type: 'br' });
    }
    return;
  }
  if (name === 'img') {
    const alt = (el.attrs.alt ?? '').slice(0, MAX_ALT);
    const src = el.attrs.src === undefined ? undefined : safeUrl(el.attrs.src, IMAGE_SCHEMES);
    if (ctx.images === 'keep' && src !== undefined && budget.nodes > 0) {
      budget.nodes--;
      const width = dimension(el.attrs.width);
      const height = dimension(el.attrs.height);
      out.push({ type: 'img', src, alt, width, height });
    } else pushText(alt, ctx, out);
    return;
  }
  const style = el.attrs.style === undefined ? undefined : safeStyle(el.attrs.style);
  if (name === 'a') {
    const href = el.attrs.href === undefined || inLink ? undefined : safeUrl(el.attrs.href);
    if (href === undefined || budget.nodes <= 0) {
      // Not a link we can show (or a link inside a link): keep its text.
      walkChildren(el, depth, inLink, ctx, out);
      return;
    }
    budget.nodes--;
    const children: SafeNode[] = [];
    walkChildren(el, depth, true, ctx, children);
    out.push({ type: 'a', href, style, children });
    return;
  }
  let target: SafeContainerName | undefined;
  let implied: SafeStyle | undefined;
  if (CONTAINERS.has(name)) target = name as SafeContainerName;
  else {
    const m = MAPPED[name];
    if (m) {
      target = m.name;
      implied = m.style;
      if (name === 'font' && el.attrs.color !== undefined) {
        const color = el.attrs.color.trim().toLowerCase();
        if (isColor(color)) implied = { color };
      }
    }
  }
  if (target === undefined || budget.nodes <= 0) {
    // Unknown element (XHTML Modularization 3.5: process its content), or out of nodes.
    walkChildren(el, depth, inLink, ctx, out);
    return;
  }
  budget.nodes--;
  const children: SafeNode[] = [];
  walkChildren(el, depth, inLink, ctx, children);
  const merged = mergeStyle(implied, style);
  if (target === 'span' && merged === undefined) {
    // A span without style says nothing: put its content in its place (and give the node back).
    budget.nodes++;
    for (const c of children) {
      const last = out[out.length - 1];
      if (c.type === 'text' && last !== undefined && last.type === 'text') {
        out[out.length - 1] = { type: 'text', text: last.text + c.text };
      } else out.push(c);
    }
    return;
  }
  out.push({ type: target, style: merged, children });
}

function dimension(v: string | undefined): number | undefined {
  if (v === undefined || !/^\s*[0-9]{1,4}\s*$/.test(v)) return undefined;
  const n = Number(v);
  return n > 0 && n <= 4096 ? n : undefined;
}

// ---- rendering ----

/** Lower-case keys in a fixed order, so output is stable. */
const STYLE_ORDER: readonly SafeStyleProperty[] = [
  'color',
  'background-color',
  'font-style',
  'font-weight',
  'text-decoration',
];

/** A safe style as CSS text, e.g. `color: green; font-weight: bold`. */
export function styleText(style: SafeStyle): string {
  const parts: string[] = [];
  for (const p of STYLE_ORDER) {
    const v = style[p];
    if (v !== undefined) parts.push(p + ': ' + v);
  }
  return parts.join('; ');
}

export interface PlainTextOptions {
  /**
   * Show a link's address after its text when the two differ (XEP-0071 section 11.2, phishing):
   * "Jabber <http://www.jabber.org/>". Default true.
   */
  showLinks?: boolean | undefined;
}

const BLOCKS: ReadonlySet<string> = new Set(['p', 'blockquote', 'pre', 'ul', 'ol', 'li']);

/**
 * Plain text of a safe tree, laid out the way a browser would: whitespace collapsed outside `<pre>`,
 * blocks on their own lines, quotes as "> " lines, list items as "- " or "1. ".
 *
 * @example
 * safeToText(sanitizeXhtml(body)) // 'Hey, are you licensed to Jabber <http://www.jabber.org/>?'
 */
export function safeToText(nodes: readonly SafeNode[], options: PlainTextOptions = {}): string {
  const showLinks = options.showLinks ?? true;
  const lines = layout(nodes, showLinks);
  return lines.join('\n').replace(/^\n+|\n+$/g, '');
}

/** Lines of a block-level run. Iterative over siblings, recursive only along the (bounded) depth. */
function layout(nodes: readonly SafeNode[], showLinks: boolean): string[] {
  const lines: string[] = [];
  let cur = '';
  let space = false;
  const flush = (): void => {
    if (cur !== '') lines.push(cur.replace(/ +$/, ''));
    cur = '';
    space = false;
  };
  const inline = (list: readonly SafeNode[], pre: boolean): void => {
    for (const n of list) {
      if (n.type === 'text') {
        if (pre) {
          const parts = n.text.split('\n');
          parts.forEach((p, k) => {
            if (k > 0) {
              lines.push(cur);
              cur = '';
            }
            cur += p;
          });
          continue;
        }
        const t = n.text.replace(/[ \t\n\r\f]+/g, ' ');
        for (const ch of t === ' ' ? [' '] : t.split(/( )/)) {
          if (ch === '') continue;
          if (ch === ' ') space = true;
          else {
            if (space && cur !== '') cur += ' ';
            space = false;
            cur += ch;
          }
        }
      } else if (n.type === 'br') {
        lines.push(cur);
        cur = '';
        space = false;
      } else if (n.type === 'img') {
        if (space && cur !== '') cur += ' ';
        space = false;
        cur += n.alt;
      } else if (BLOCKS.has(n.type)) {
        flush();
        const c = n as SafeContainer;
        if (c.type === 'pre') {
          inline(c.children, true);
          flush();
        } else if (c.type === 'blockquote') {
          for (const l of layout(c.children, showLinks)) lines.push(l === '' ? '>' : '> ' + l);
        } else if (c.type === 'ul' || c.type === 'ol') {
          let k = 0;
          for (const item of c.children) {
            if (item.type !== 'li') {
              // Stray content between items: laid out as its own lines.
              for (const l of layout([item], showLinks)) if (l.trim() !== '') lines.push(l);
              continue;
            }
            k++;
            const bullet = c.type === 'ol' ? `${k}. ` : '- ';
            const sub = layout(item.children, showLinks).filter(
              (l, idx, arr) => l !== '' || idx < arr.length - 1,
            );
            sub.forEach((l, idx) => {
              lines.push((idx === 0 ? bullet : ' '.repeat(bullet.length)) + l);
            });
            if (sub.length === 0) lines.push(bullet.trimEnd());
          }
        } else {
          for (const l of layout(c.children, showLinks)) lines.push(l);
        }
      } else if (n.type === 'a') {
        inline(n.children, pre);
        if (showLinks) {
          const text = inlineText(n.children).replace(/\s+/g, ' ').trim();
          const bare = n.href.replace(/^(?:mailto|xmpp):/i, '');
          if (text !== n.href && text !== bare) {
            cur += (cur === '' || cur.endsWith(' ') ? '<' : ' <') + n.href + '>';
            space = false;
          }
        }
      } else {
        inline((n as SafeContainer).children, pre);
      }
    }
  };
  inline(nodes, false);
  flush();
  return lines;
}

function inlineText(nodes: readonly SafeNode[]): string {
  let s = '';
  for (const n of nodes) {
    if (n.type === 'text') s += n.text;
    else if (n.type === 'img') s += n.alt;
    else if (n.type === 'br') s += ' ';
    else s += inlineText(n.children);
  }
  return s;
}

const HTML_ESC: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => HTML_ESC[c]!);

/**
 * A safe tree as an HTML string for `innerHTML` in a web client. Tag names come from the closed
 * allow-list, every text and attribute value is escaped, links get `rel='noopener noreferrer
 * nofollow'` and images `referrerpolicy='no-referrer'`. (Not the XML serializer: HTML parses `<p/>`
 * as an open tag, so empty elements are written as open and close tags here.)
 *
 * @example
 * safeToHtml([{ type: 'strong', children: [{ type: 'text', text: '<hi>' }] }]) // '<strong>&lt;hi&gt;</strong>'
 */
export function safeToHtml(nodes: readonly SafeNode[]): string {
  let s = '';
  for (const n of nodes) {
    switch (n.type) {
      case 'text':
        s += escapeHtml(n.text);
        break;
      case 'br':
        s += '<br>';
        break;
      case 'img':
        s += '<img src="' + escapeHtml(n.src) + '" alt="' + escapeHtml(n.alt) + '"';
        if (n.width !== undefined) s += ' width="' + n.width + '"';
        if (n.height !== undefined) s += ' height="' + n.height + '"';
        s += ' referrerpolicy="no-referrer">';
        break;
      case 'a':
        s += '<a href="' + escapeHtml(n.href) + '" rel="noopener noreferrer nofollow"';
        if (n.style) s += ' style="' + escapeHtml(styleText(n.style)) + '"';
        s += '>' + safeToHtml(n.children) + '</a>';
        break;
      default:
        s += '<' + n.type;
        if (n.style) s += ' style="' + escapeHtml(styleText(n.style)) + '"';
        s += '>' + safeToHtml(n.children) + '</' + n.type + '>';
    }
  }
  return s;
}
