/**
 * How many terminal cells a piece of text takes (the job of POSIX wcwidth(3), which Node lacks):
 * text is split into grapheme clusters (Unicode UAX #29, via Intl.Segmenter), and a cluster is
 * 0 cells (only combining marks / format characters), 2 cells (East Asian Wide or Fullwidth,
 * UAX #11, or an emoji shown as a picture: Emoji_Presentation, or any pictograph with VS16),
 * else 1. Terminals differ at the edges (ambiguous-width characters are 1 here, as in most
 * Western locales); what matters is that the renderer and the cursor agree with each other.
 */

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The grapheme clusters of `text`, in order. */
export function graphemes(text: string): string[] {
  // ASCII fast path: every character is its own cluster (CR LF aside, which never reaches here).
  if (/^[\x20-\x7e]*$/.test(text)) return text.split('');
  const out: string[] = [];
  for (const s of segmenter.segment(text)) out.push(s.segment);
  return out;
}

// East Asian Wide (W) and Fullwidth (F) ranges (UAX #11, Unicode 15), merged where adjacent.
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x23f0, 0x23f0],
  [0x23f3, 0x23f3],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2648, 0x2653],
  [0x267f, 0x267f],
  [0x2693, 0x2693],
  [0x26a1, 0x26a1],
  [0x26aa, 0x26ab],
  [0x26bd, 0x26be],
  [0x26c4, 0x26c5],
  [0x26ce, 0x26ce],
  [0x26d4, 0x26d4],
  [0x26ea, 0x26ea],
  [0x26f2, 0x26f3],
  [0x26f5, 0x26f5],
  [0x26fa, 0x26fa],
  [0x26fd, 0x26fd],
  [0x2705, 0x2705],
  [0x270a, 0x270b],
  [0x2728, 0x2728],
  [0x274c, 0x274c],
  [0x274e, 0x274e],
  [0x2753, 0x2755],
  [0x2757, 0x2757],
  [0x2795, 0x2797],
  [0x27b0, 0x27b0],
  [0x27bf, 0x27bf],
  [0x2b1b, 0x2b1c],
  [0x2b50, 0x2b50],
  [0x2b55, 0x2b55],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x16fe0, 0x16fe4],
  [0x17000, 0x18cff],
  [0x1b000, 0x1b2ff],
  [0x1f004, 0x1f004],
  [0x1f0cf, 0x1f0cf],
  [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a],
  [0x1f200, 0x1f251],
  [0x1f300, 0x1f64f],
  [0x1f680, 0x1f6ff],
  [0x1f7e0, 0x1f7eb],
  [0x1f90c, 0x1f9ff],
  [0x1fa70, 0x1faff],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];

function isWide(cp: number): boolean {
  if (cp < 0x1100) return false;
  let lo = 0;
  let hi = WIDE.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = WIDE[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return true;
  }
  return false;
}

// Zero width: combining marks, format characters (ZWJ, ZWNJ, soft hyphen...), variation selectors.
const ZERO = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const PICTO = /\p{Extended_Pictographic}/u;

/** Cells one grapheme cluster takes: 0, 1 or 2. */
export function clusterWidth(g: string): number {
  const first = g.codePointAt(0);
  if (first === undefined) return 0;
  if (first >= 0x20 && first < 0x7f) return 1;
  if (first < 0x20 || (first >= 0x7f && first < 0xa0)) return 0;
  if (g.includes('\ufe0f') && PICTO.test(g)) return 2;
  for (const ch of g) {
    const cp = ch.codePointAt(0)!;
    if (ZERO.test(ch)) continue;
    return isWide(cp) ? 2 : 1;
  }
  return 0;
}

/** Cells `text` takes on one line. */
export function textWidth(text: string): number {
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let w = 0;
  for (const g of graphemes(text)) w += clusterWidth(g);
  return w;
}

/** The longest prefix of `text` that fits in `cells`, and its width. */
export function fitWidth(text: string, cells: number): { text: string; width: number } {
  let w = 0;
  let out = '';
  for (const g of graphemes(text)) {
    const cw = clusterWidth(g);
    if (w + cw > cells) break;
    w += cw;
    out += g;
  }
  return { text: out, width: w };
}

/** `text` cut to `cells` (with an ellipsis when cut) and padded with spaces to exactly `cells`. */
export function padTo(text: string, cells: number): string {
  if (cells <= 0) return '';
  const w = textWidth(text);
  if (w <= cells) return text + ' '.repeat(cells - w);
  const cut = fitWidth(text, cells - 1);
  return cut.text + '…' + ' '.repeat(cells - 1 - cut.width);
}
