/**
 * The full-screen client's renderer: a frame is a grid of cells (one grapheme cluster and one
 * packed style each), drawn by layout code with `put`; `Renderer.frame` compares it with the
 * previous frame and writes only the cells that changed (cursor moves, SGR, text), as curses
 * does. Output uses only ECMA-48 CSI sequences every terminal of the last 30 years knows:
 * CUP (`ESC [ row ; col H`), SGR (`ESC [ ... m`, with 256-colour `38;5;n`/`48;5;n`), ED
 * (`ESC [ 2 J`) and DECTCEM (`ESC [ ? 25 l/h`, cursor hide/show).
 *
 * Nothing remote reaches the grid without going through sanitize.ts first (the layout does that);
 * `put` additionally drops any control character, so even a bug upstream cannot write an escape.
 */
import { clusterWidth, graphemes } from './width.ts';

/** Style bits: fg colour+1 in bits 0-8 (0 = default), bg colour+1 in bits 9-17, then flags. */
export const BOLD = 1 << 18;
export const DIM = 1 << 19;
export const ITALIC = 1 << 20;
export const UNDERLINE = 1 << 21;
export const REVERSE = 1 << 22;
export const STRIKE = 1 << 23;

/** Foreground colour `n` of the 256-colour palette. */
export const fg = (n: number): number => (n & 0xff) + 1;
/** Background colour `n` of the 256-colour palette. */
export const bg = (n: number): number => ((n & 0xff) + 1) << 9;

/** Replace the foreground colour of `style`. */
export function withFg(style: number, n: number | undefined): number {
  return (style & ~0x1ff) | (n === undefined ? 0 : fg(n));
}

/** The SGR sequence that sets exactly `style` (from a reset). */
export function sgr(style: number): string {
  const p = ['0'];
  if (style & BOLD) p.push('1');
  if (style & DIM) p.push('2');
  if (style & ITALIC) p.push('3');
  if (style & UNDERLINE) p.push('4');
  if (style & REVERSE) p.push('7');
  if (style & STRIKE) p.push('9');
  const f = style & 0x1ff;
  const b = (style >> 9) & 0x1ff;
  if (f) p.push(`38;5;${f - 1}`);
  if (b) p.push(`48;5;${b - 1}`);
  return `\u001b[${p.join(';')}m`;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** One frame: `width` x `height` cells. A wide character's second cell holds '' (a continuation). */
export class Screen {
  readonly width: number;
  readonly height: number;
  readonly chars: string[];
  readonly styles: Int32Array;
  /** Where the terminal cursor should be after drawing (the input line's caret). */
  cursor: { x: number; y: number } | undefined;

  constructor(width: number, height: number) {
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
    this.chars = new Array<string>(this.width * this.height).fill(' ');
    this.styles = new Int32Array(this.width * this.height);
  }

  /** Fill a rectangle with spaces in `style`. */
  clear(x = 0, y = 0, w = this.width - x, h = this.height - y, style = 0): void {
    for (let r = y; r < Math.min(this.height, y + h); r++) {
      for (let c = x; c < Math.min(this.width, x + w); c++) {
        this.chars[r * this.width + c] = ' ';
        this.styles[r * this.width + c] = style;
      }
    }
  }

  /**
   * Write `text` at (x, y) in `style`, clipped at `limit` (exclusive; default the right edge).
   * Returns the column after the text. A wide character that would cross the limit becomes a space.
   */
  put(x: number, y: number, text: string, style = 0, limit = this.width): number {
    if (y < 0 || y >= this.height) return x;
    const end = Math.min(limit, this.width);
    const row = y * this.width;
    for (const g of graphemes(text.replace(CONTROL, ''))) {
      const w = clusterWidth(g);
      if (w === 0) {
        // A lone combining mark: attach it to the previous cell rather than give it a cell.
        if (x > 0 && x <= end) {
          const at = this.chars[row + x - 1] === '' && x > 1 ? x - 2 : x - 1;
          this.chars[row + at] += g;
        }
        continue;
      }
      if (x + w > end) {
        if (x < end) {
          // Overwriting half of a wide character: blank its other half.
          if (this.chars[row + x] === '' && x > 0) this.chars[row + x - 1] = ' ';
          this.chars[row + x] = ' ';
          this.styles[row + x] = style;
        }
        return end;
      }
      if (x >= 0) {
        // Overwriting half of a wide character: blank its other half.
        if (this.chars[row + x] === '' && x > 0) this.chars[row + x - 1] = ' ';
        this.chars[row + x] = g;
        this.styles[row + x] = style;
        if (w === 2) {
          this.chars[row + x + 1] = '';
          this.styles[row + x + 1] = style;
        }
        // The cell after us may be the orphaned second half of a wide character we overwrote.
        if (x + w < this.width && this.chars[row + x + w] === '') this.chars[row + x + w] = ' ';
      }
      x += w;
    }
    return x;
  }

  /** The text of row `y` (continuations dropped, trailing spaces trimmed): for tests. */
  line(y: number): string {
    return this.chars
      .slice(y * this.width, (y + 1) * this.width)
      .join('')
      .trimEnd();
  }

  /** Every row's text joined by newlines: for tests. */
  text(): string {
    const rows: string[] = [];
    for (let y = 0; y < this.height; y++) rows.push(this.line(y));
    return rows.join('\n');
  }

  style(x: number, y: number): number {
    return this.styles[y * this.width + x] ?? 0;
  }
}

/** Turns successive frames into the shortest reasonable terminal output. */
export class Renderer {
  #prev: Screen | undefined;

  /** Forget the previous frame: the next one is drawn in full (after a resize or ^L). */
  invalidate(): void {
    this.#prev = undefined;
  }

  /** The output that turns the terminal from the previous frame into `next`. */
  frame(next: Screen): string {
    const prev = this.#prev;
    const full = !prev || prev.width !== next.width || prev.height !== next.height;
    let out = '';
    let pen = -1;
    let at = -1; // index of the cell the terminal cursor is on, -1 unknown
    if (full) {
      out += '\u001b[0m\u001b[H\u001b[2J';
      pen = 0;
      at = 0;
    }
    const w = next.width;
    const dirty = (i: number): boolean =>
      full
        ? next.chars[i] !== ' ' || next.styles[i] !== 0
        : prev!.chars[i] !== next.chars[i] || prev!.styles[i] !== next.styles[i];
    for (let y = 0; y < next.height; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const ch = next.chars[i]!;
        if (ch === '') continue; // continuation: drawn with its lead cell
        const wide = x + 1 < w && next.chars[i + 1] === '';
        if (!dirty(i) && !(wide && dirty(i + 1))) continue;
        if (at !== i) out += `\u001b[${y + 1};${x + 1}H`;
        const st = next.styles[i]!;
        if (st !== pen) {
          out += sgr(st);
          pen = st;
        }
        out += ch;
        at = wide ? i + 2 : i + 1;
        // Writing the last column leaves the cursor in a pending-wrap state: position explicitly next time.
        if (x + (wide ? 2 : 1) >= w) at = -1;
      }
    }
    if (out !== '') out = '\u001b[?25l' + out;
    if (pen !== 0 && pen !== -1) out += '\u001b[0m';
    const c = next.cursor;
    const pc = prev?.cursor;
    if (c) {
      if (out !== '' || !pc || pc.x !== c.x || pc.y !== c.y || full) {
        out += `\u001b[${c.y + 1};${c.x + 1}H\u001b[?25h`;
      }
    } else if (out !== '' || pc) out += '\u001b[?25l';
    this.#prev = next;
    return out;
  }
}
