/**
 * A terminal for tests: it interprets what the renderer writes (CUP, SGR, ED, DECTCEM, BEL and
 * text, the only things the renderer emits) into a grid, so tests check what a person would see,
 * and it fails loudly on any other escape sequence: a stray escape reaching the terminal is a bug.
 */
import type { Terminal } from './terminal.ts';
import { clusterWidth, graphemes } from './width.ts';

export class FakeTerminal implements Terminal {
  columns: number;
  rows: number;
  grid: string[][];
  /** SGR parameters in effect per cell (the raw parameter text, '0' for plain). */
  sgr: string[][];
  cursor = { x: 0, y: 0, visible: true };
  bells = 0;
  started = false;
  /** Everything written, in order. */
  output = '';
  readonly #data = new Set<(d: string) => void>();
  readonly #resize = new Set<() => void>();
  #pen = '0';

  constructor(columns = 80, rows = 24) {
    this.columns = columns;
    this.rows = rows;
    this.grid = [];
    this.sgr = [];
    this.#blank();
  }

  #blank(): void {
    this.grid = Array.from({ length: this.rows }, () => new Array<string>(this.columns).fill(' '));
    this.sgr = Array.from({ length: this.rows }, () => new Array<string>(this.columns).fill('0'));
  }

  write(data: string): void {
    this.output += data;
    let i = 0;
    while (i < data.length) {
      const c = data[i]!;
      if (c === '\u001b') {
        const m = /^\u001b\[(\??)([0-9;]*)([A-Za-z])/.exec(data.slice(i));
        if (!m) throw new Error(`unexpected escape ${JSON.stringify(data.slice(i, i + 12))}`);
        this.#csi(m[1]!, m[2]!, m[3]!);
        i += m[0].length;
        continue;
      }
      if (c === '\u0007') {
        this.bells++;
        i++;
        continue;
      }
      const cp = c.codePointAt(0)!;
      if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) throw new Error(`control character U+${cp.toString(16)}`);
      // Take one grapheme cluster.
      const rest = data.slice(i, i + 32);
      const g = graphemes(rest.split('\u001b')[0]!)[0]!;
      const w = clusterWidth(g);
      const { x, y } = this.cursor;
      if (y < this.rows && x < this.columns) {
        this.grid[y]![x] = g;
        this.sgr[y]![x] = this.#pen;
        if (w === 2 && x + 1 < this.columns) {
          this.grid[y]![x + 1] = '';
          this.sgr[y]![x + 1] = this.#pen;
        }
      }
      this.cursor.x = Math.min(this.columns - 1, x + w);
      i += g.length;
    }
  }

  #csi(priv: string, params: string, final: string): void {
    if (priv === '?') {
      if ((params === '25' || params === '2004' || params === '1049') && (final === 'h' || final === 'l')) {
        if (params === '25') this.cursor.visible = final === 'h';
        return;
      }
      throw new Error(`unexpected private mode ${params}${final}`);
    }
    if (final === 'H') {
      const [r, col] = params.split(';').map((n) => Number(n || '1'));
      this.cursor.y = (r ?? 1) - 1;
      this.cursor.x = (col ?? 1) - 1;
    } else if (final === 'J' && params === '2') this.#blank();
    else if (final === 'm') this.#pen = params === '' ? '0' : params;
    else throw new Error(`unexpected CSI ${params}${final}`);
  }

  onData(listener: (data: string) => void): () => void {
    this.#data.add(listener);
    return () => this.#data.delete(listener);
  }

  onResize(listener: () => void): () => void {
    this.#resize.add(listener);
    return () => this.#resize.delete(listener);
  }

  start(): void {
    this.started = true;
  }

  stop(): void {
    this.started = false;
  }

  /** Types `data` as if from the keyboard. */
  type(data: string): void {
    for (const l of this.#data) l(data);
  }

  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.#blank();
    for (const l of this.#resize) l();
  }

  /** Row `y` as text, trailing spaces trimmed. */
  line(y: number): string {
    return this.grid[y]!.join('').trimEnd();
  }

  /** The whole screen as text. */
  text(): string {
    return this.grid.map((r) => r.join('').trimEnd()).join('\n');
  }
}
