/**
 * Message styling: plain-text markup parsed into a typed block/span tree, rendered by the app.
 *
 * Specs: XEP-0393 Message Styling v1.1.1 (section 6 business rules: blocks and spans; section 7
 * disabling styling with `<unstyled xmlns='urn:xmpp:styling:0'/>`; section 8 implementation notes).
 *
 * The XEP defines no grammar (it says so: no regular expression can match it), so this is a small
 * hand-written parser following the rules word by word:
 * - Blocks first, line by line. A line beginning with "```" opens a preformatted block, ended by a line
 *   that is exactly "```" or by the end of the parent block; a run of lines beginning with ">" is a
 *   quotation whose lines lose the ">" and then their first leading whitespace character, and are
 *   parsed again as blocks (quotes nest); every other line is a plain block of its own, so a span
 *   never crosses a line.
 * - Spans inside plain blocks: an opening directive (`*` strong, `_` emphasis, `~` strike, `` ` `` pre)
 *   stands at the start of the block, after a whitespace character, or right after a *different*
 *   opening directive, and is not followed by whitespace; the closing one is the first later same
 *   character not preceded by whitespace (lazy matching). A pair with nothing between them ("**")
 *   makes neither directive valid. Pre spans hold plain text only; other spans may hold child spans.
 *
 * The tree is lossless: `toMarkup(parseStyling(s)) === s` for every string (a property test checks
 * it), so the directives can be shown, as section 8 recommends, by any renderer.
 *
 * Cost is linear-ish: closing-directive candidates are indexed per line, so a line full of unmatched
 * directives ("*a *a *a ...") costs O(n log n), not O(n^2). Quote nesting is bounded by
 * `maxQuoteDepth` (deeper ">" stay text), so hostile input cannot exhaust the stack.
 */

import { type Element, xml } from '../../xml/element.ts';

/** Namespace of XEP-0393 (disco feature and the `<unstyled/>` hint). */
export const NS_STYLING = 'urn:xmpp:styling:0';

/** A span inside a plain block (a line). */
export type StyledSpan =
  | { readonly type: 'plain'; readonly text: string }
  | { readonly type: 'strong' | 'emphasis' | 'strike'; readonly children: readonly StyledSpan[] }
  | { readonly type: 'pre'; readonly text: string };

/** A block. Blocks in a list are separated by one line break each. */
export type StyledBlock =
  /** One line of text outside a preformatted block (may be empty). */
  | { readonly type: 'line'; readonly spans: readonly StyledSpan[] }
  /**
   * A preformatted block: `info` is what followed "```" on the opening line; `lines` the content;
   * `closed` whether a closing "```" line ended it (otherwise the parent block's end did).
   */
  | {
      readonly type: 'pre';
      readonly info: string;
      readonly lines: readonly string[];
      readonly closed: boolean;
    }
  /**
   * A quotation. `markers[i]` is what was removed from its i-th line (">" plus the trimmed whitespace
   * character, if any), kept so the source can be rebuilt exactly.
   */
  | {
      readonly type: 'quote';
      readonly markers: readonly string[];
      readonly children: readonly StyledBlock[];
    };

/** A parsed message body. */
export type StyledDocument = readonly StyledBlock[];

export interface StylingOptions {
  /** Deepest quotation parsed as such; ">" beyond it are kept as text. Default 16. */
  maxQuoteDepth?: number | undefined;
}

const DEFAULT_MAX_QUOTE_DEPTH = 16;

// Unicode White_Space or general category Z (the XEP's glossary definition).
const WS = /[\p{White_Space}\p{Z}]/u;
const isWs = (c: string | undefined): boolean => c !== undefined && WS.test(c);

type SpanDirective = '*' | '_' | '~' | '`';
const DIRECTIVES: Readonly<Record<string, 'strong' | 'emphasis' | 'strike' | 'pre'>> = {
  '*': 'strong',
  _: 'emphasis',
  '~': 'strike',
  '`': 'pre',
};
const DIRECTIVE_OF = { strong: '*', emphasis: '_', strike: '~', pre: '`' } as const;
const isDirective = (c: string | undefined): c is SpanDirective =>
  c === '*' || c === '_' || c === '~' || c === '`';

/**
 * Parse a message body into blocks and spans (XEP-0393 section 6).
 *
 * @example
 * parseStyling('hi *there*')
 * // [{ type: 'line', spans: [{ type: 'plain', text: 'hi ' },
 * //   { type: 'strong', children: [{ type: 'plain', text: 'there' }] }] }]
 */
export function parseStyling(text: string, options: StylingOptions = {}): StyledBlock[] {
  const maxDepth = options.maxQuoteDepth ?? DEFAULT_MAX_QUOTE_DEPTH;
  return parseBlocks(text.split('\n'), 0, maxDepth);
}

function parseBlocks(lines: readonly string[], depth: number, maxDepth: number): StyledBlock[] {
  const out: StyledBlock[] = [];
  const n = lines.length;
  let i = 0;
  while (i < n) {
    const line = lines[i]!;
    if (line.startsWith('```')) {
      // Preformatted block: ends at a line that is exactly "```" or at the end of the parent block.
      const body: string[] = [];
      let closed = false;
      i++;
      while (i < n) {
        const l = lines[i++]!;
        if (l === '```') {
          closed = true;
          break;
        }
        body.push(l);
      }
      out.push({ type: 'pre', info: line.slice(3), lines: body, closed });
    } else if (line.startsWith('>') && depth < maxDepth) {
      // Quotation: consecutive lines beginning with ">"; each loses it and its first whitespace char.
      const markers: string[] = [];
      const inner: string[] = [];
      while (i < n && lines[i]!.startsWith('>')) {
        const l = lines[i++]!;
        const cut = l.length > 1 && isWs(l[1]) ? 2 : 1;
        markers.push(l.slice(0, cut));
        inner.push(l.slice(cut));
      }
      out.push({ type: 'quote', markers, children: parseBlocks(inner, depth + 1, maxDepth) });
    } else {
      out.push({ type: 'line', spans: parseLine(line) });
      i++;
    }
  }
  return out;
}

/** Spans of one plain block. Exported for callers that style a single line (e.g. a status). */
export function parseLine(line: string): StyledSpan[] {
  if (line === '') return [];
  // Closing-directive candidates per directive: positions j with line[j] = d and line[j-1] not
  // whitespace, ascending. Lazy matching takes the first candidate after the opener.
  const candidates: Record<SpanDirective, number[]> = { '*': [], _: [], '~': [], '`': [] };
  let any = false;
  for (let j = 1; j < line.length; j++) {
    const c = line[j];
    if (isDirective(c) && !isWs(line[j - 1])) {
      candidates[c].push(j);
      any = true;
    }
  }
  if (!any) return [{ type: 'plain', text: line }];
  return parseSpans(line, 0, line.length, candidates);
}

/** First element of the sorted array greater than `after`, or -1. */
function nextAfter(arr: readonly number[], after: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo < arr.length ? arr[lo]! : -1;
}

function parseSpans(
  s: string,
  from: number,
  to: number,
  candidates: Readonly<Record<SpanDirective, number[]>>,
): StyledSpan[] {
  const out: StyledSpan[] = [];
  let plainStart = from;
  let i = from;
  while (i < to) {
    const c = s[i];
    if (isDirective(c) && i + 1 < to && !isWs(s[i + 1])) {
      // Where an opening directive may stand: start of the block, after whitespace, or right after a
      // different opening directive (the parent span's, which is the character before `from`).
      const prev = s[i - 1];
      const canOpen = i === 0 || isWs(prev) || (i === from && isDirective(prev) && prev !== c);
      if (canOpen) {
        const close = nextAfter(candidates[c], i);
        if (close !== -1 && close < to) {
          if (close === i + 1) {
            // Nothing between the two directives: neither is valid; skip both.
            i += 2;
            continue;
          }
          if (plainStart < i) out.push({ type: 'plain', text: s.slice(plainStart, i) });
          const kind = DIRECTIVES[c]!;
          if (kind === 'pre') out.push({ type: 'pre', text: s.slice(i + 1, close) });
          else out.push({ type: kind, children: parseSpans(s, i + 1, close, candidates) });
          i = close + 1;
          plainStart = i;
          continue;
        }
      }
    }
    i++;
  }
  if (plainStart < to) out.push({ type: 'plain', text: s.slice(plainStart, to) });
  return out;
}

// ---- back to text ----

function spansMarkup(spans: readonly StyledSpan[]): string {
  let s = '';
  for (const sp of spans) {
    if (sp.type === 'plain') s += sp.text;
    else if (sp.type === 'pre') s += '`' + sp.text + '`';
    else {
      const d = DIRECTIVE_OF[sp.type];
      s += d + spansMarkup(sp.children) + d;
    }
  }
  return s;
}

function blockLines(b: StyledBlock, out: string[]): void {
  if (b.type === 'line') out.push(spansMarkup(b.spans));
  else if (b.type === 'pre') {
    out.push('```' + b.info, ...b.lines);
    if (b.closed) out.push('```');
  } else {
    const inner: string[] = [];
    for (const c of b.children) blockLines(c, inner);
    for (let k = 0; k < inner.length; k++) out.push((b.markers[k] ?? '> ') + inner[k]);
  }
}

/**
 * The markup again, exactly as parsed: `toMarkup(parseStyling(s)) === s`. Also serializes a tree built
 * by hand (quote lines without a recorded marker get "> ").
 */
export function toMarkup(doc: StyledDocument): string {
  const lines: string[] = [];
  for (const b of doc) blockLines(b, lines);
  return lines.join('\n');
}

/** The text of spans without their directives. */
export function spansText(spans: readonly StyledSpan[]): string {
  let s = '';
  for (const sp of spans) s += sp.type === 'plain' || sp.type === 'pre' ? sp.text : spansText(sp.children);
  return s;
}

/**
 * The plain-text form for places that show no styling (notifications, screen readers, logs): span
 * directives and pre-block fences removed, quotations kept as "> " lines (their meaning is the quote).
 *
 * @example
 * toPlainText(parseStyling('> *hi*\n```js\nx\n```')) // '> hi\nx'
 */
export function toPlainText(doc: StyledDocument): string {
  return renderStyled(doc, { directives: false });
}

// ---- rendering ----

/**
 * How to render a styled document into some output type `T` (ANSI strings, DOM nodes, widgets).
 * Every callback receives its content already rendered.
 */
export interface StyleRenderer<T> {
  /** Unstyled text (also the directives, when they are shown). */
  text(text: string): T;
  /** Several rendered parts in order. */
  concat(parts: readonly T[]): T;
  /** The break between two blocks. */
  lineBreak(): T;
  strong(inner: T): T;
  emphasis(inner: T): T;
  strike(inner: T): T;
  /** An inline preformatted span; `text` is its raw content (plus the backticks when shown). */
  pre(text: string): T;
  /** A preformatted block: `text` is its lines joined by "\n" (plus the fence lines when shown). */
  preBlock(text: string, info: string): T;
  /** A quotation; `inner` is its child blocks, separated by `lineBreak()`. */
  quote(inner: T): T;
}

export interface RenderOptions {
  /**
   * Show the styling directives inside the styled parts ("*bold*" rendered bold, stars included), as
   * XEP-0393 section 8 recommends. Default true.
   */
  directives?: boolean | undefined;
}

/** Render with a full renderer for any output type. */
export function renderStyledWith<T>(
  doc: StyledDocument,
  r: StyleRenderer<T>,
  options: RenderOptions = {},
): T {
  const show = options.directives ?? true;
  const spans = (list: readonly StyledSpan[]): T => {
    const parts: T[] = [];
    for (const sp of list) {
      if (sp.type === 'plain') parts.push(r.text(sp.text));
      else if (sp.type === 'pre') parts.push(r.pre(show ? '`' + sp.text + '`' : sp.text));
      else {
        const inner = spans(sp.children);
        const d = DIRECTIVE_OF[sp.type];
        const content = show ? r.concat([r.text(d), inner, r.text(d)]) : inner;
        parts.push(
          sp.type === 'strong'
            ? r.strong(content)
            : sp.type === 'emphasis'
              ? r.emphasis(content)
              : r.strike(content),
        );
      }
    }
    return r.concat(parts);
  };
  const blocks = (list: readonly StyledBlock[]): T => {
    const parts: T[] = [];
    list.forEach((b, k) => {
      if (k > 0) parts.push(r.lineBreak());
      if (b.type === 'line') parts.push(spans(b.spans));
      else if (b.type === 'pre') {
        const lines = show ? ['```' + b.info, ...b.lines, ...(b.closed ? ['```'] : [])] : b.lines;
        parts.push(r.preBlock(lines.join('\n'), b.info));
      } else parts.push(r.quote(blocks(b.children)));
    });
    return r.concat(parts);
  };
  return blocks(doc);
}

const identity = (s: string): string => s;

/**
 * Render to a string, e.g. with ANSI escapes in a terminal. Callbacks not given leave the text as it
 * is; quotes default to "> " before each line. With the defaults (and directives shown) the result is
 * the markup with quote markers normalized to "> ".
 *
 * @example
 * renderStyled(parseStyling('a *b*'), { strong: (s) => `\x1b[1m${s}\x1b[22m` }) // 'a \x1b[1m*b*\x1b[22m'
 */
export function renderStyled(
  doc: StyledDocument,
  r: Partial<StyleRenderer<string>> & RenderOptions = {},
): string {
  const full: StyleRenderer<string> = {
    text: r.text ?? identity,
    concat: r.concat ?? ((parts) => parts.join('')),
    lineBreak: r.lineBreak ?? (() => '\n'),
    strong: r.strong ?? identity,
    emphasis: r.emphasis ?? identity,
    strike: r.strike ?? identity,
    pre: r.pre ?? identity,
    preBlock: r.preBlock ?? identity,
    quote:
      r.quote ??
      ((inner) =>
        inner
          .split('\n')
          .map((l) => '> ' + l)
          .join('\n')),
  };
  return renderStyledWith(doc, full, { directives: r.directives });
}

/** True when the document has any styling at all (a span other than plain, a pre block or a quote). */
export function hasStyling(doc: StyledDocument): boolean {
  for (const b of doc) {
    if (b.type !== 'line') return true;
    for (const sp of b.spans) if (sp.type !== 'plain') return true;
  }
  return false;
}

// ---- the <unstyled/> hint (section 7) ----

/** `<unstyled xmlns='urn:xmpp:styling:0'/>`: add to a message whose body must not be styled. */
export function unstyledElement(): Element {
  return xml('unstyled', { xmlns: NS_STYLING });
}

/** True when the message carries the XEP-0393 `<unstyled/>` hint: show its body as plain text. */
export function isUnstyled(message: Element): boolean {
  return message.getChild('unstyled', NS_STYLING) !== undefined;
}
