/**
 * The input line: an Emacs-style editor over one (possibly multi-line) text, as readline and
 * the profanity/poezio/irssi crowd expect: ^A/^E or Home/End, ^B/^F or arrows, Alt-B/Alt-F by
 * word, ^U/^K kill to start/end, ^W kill the word before, ^Y yank, ^D/Delete, Backspace, and a
 * history on Up/Down (in a multi-line text, Up/Down move between lines first). Alt-Enter and
 * ^J insert a line break; Enter submits. The cursor moves by grapheme cluster, never inside one.
 */
import { graphemes, textWidth } from './width.ts';

export class Editor {
  text = '';
  /** Cursor as a UTF-16 offset into `text`, always on a cluster boundary. */
  cursor = 0;
  readonly #history: string[] = [];
  #historyAt = -1;
  #draft = '';
  #killed = '';

  set(text: string, cursor = text.length): void {
    this.text = text;
    this.cursor = Math.max(0, Math.min(cursor, text.length));
  }

  insert(s: string): void {
    this.text = this.text.slice(0, this.cursor) + s + this.text.slice(this.cursor);
    this.cursor += s.length;
  }

  /** Takes the text for sending, remembering it in the history. */
  submit(): string {
    const t = this.text;
    if (t.trim() !== '' && this.#history[this.#history.length - 1] !== t) this.#history.push(t);
    if (this.#history.length > 500) this.#history.shift();
    this.#historyAt = -1;
    this.text = '';
    this.cursor = 0;
    return t;
  }

  #bounds(): number[] {
    const b = [0];
    let o = 0;
    for (const g of graphemes(this.text)) {
      o += g.length;
      b.push(o);
    }
    return b;
  }

  left(): void {
    const b = this.#bounds();
    const k = b.indexOf(this.cursor);
    if (k > 0) this.cursor = b[k - 1]!;
  }

  right(): void {
    const b = this.#bounds();
    const k = b.indexOf(this.cursor);
    if (k >= 0 && k < b.length - 1) this.cursor = b[k + 1]!;
  }

  #lineStart(): number {
    return this.text.lastIndexOf('\n', this.cursor - 1) + 1;
  }

  #lineEnd(): number {
    const e = this.text.indexOf('\n', this.cursor);
    return e === -1 ? this.text.length : e;
  }

  home(): void {
    this.cursor = this.#lineStart();
  }

  end(): void {
    this.cursor = this.#lineEnd();
  }

  backspace(): void {
    const c = this.cursor;
    this.left();
    this.text = this.text.slice(0, this.cursor) + this.text.slice(c);
  }

  delete(): void {
    const c = this.cursor;
    this.right();
    this.text = this.text.slice(0, c) + this.text.slice(this.cursor);
    this.cursor = c;
  }

  #wordStart(): number {
    let i = this.cursor;
    while (i > 0 && /\s/.test(this.text[i - 1]!)) i--;
    while (i > 0 && !/\s/.test(this.text[i - 1]!)) i--;
    return i;
  }

  #wordEnd(): number {
    let i = this.cursor;
    while (i < this.text.length && /\s/.test(this.text[i]!)) i++;
    while (i < this.text.length && !/\s/.test(this.text[i]!)) i++;
    return i;
  }

  wordLeft(): void {
    this.cursor = this.#wordStart();
  }

  wordRight(): void {
    this.cursor = this.#wordEnd();
  }

  killWord(): void {
    const s = this.#wordStart();
    this.#killed = this.text.slice(s, this.cursor);
    this.text = this.text.slice(0, s) + this.text.slice(this.cursor);
    this.cursor = s;
  }

  killToStart(): void {
    const s = this.#lineStart();
    this.#killed = this.text.slice(s, this.cursor);
    this.text = this.text.slice(0, s) + this.text.slice(this.cursor);
    this.cursor = s;
  }

  killToEnd(): void {
    const e = this.#lineEnd();
    this.#killed = this.text.slice(this.cursor, e);
    this.text = this.text.slice(0, this.cursor) + this.text.slice(e);
  }

  yank(): void {
    this.insert(this.#killed);
  }

  /** Up: the previous line of a multi-line text, else the previous history entry. */
  up(): void {
    const start = this.#lineStart();
    if (start > 0) {
      const col = textWidth(this.text.slice(start, this.cursor));
      const prevStart = this.text.lastIndexOf('\n', start - 2) + 1;
      this.cursor = offsetAtWidth(this.text, prevStart, start - 1, col);
      return;
    }
    if (this.#history.length === 0) return;
    if (this.#historyAt === -1) {
      this.#draft = this.text;
      this.#historyAt = this.#history.length;
    }
    if (this.#historyAt > 0) {
      this.#historyAt--;
      this.set(this.#history[this.#historyAt]!);
    }
  }

  down(): void {
    const end = this.#lineEnd();
    if (end < this.text.length) {
      const col = textWidth(this.text.slice(this.#lineStart(), this.cursor));
      const nextEnd = this.text.indexOf('\n', end + 1);
      this.cursor = offsetAtWidth(this.text, end + 1, nextEnd === -1 ? this.text.length : nextEnd, col);
      return;
    }
    if (this.#historyAt === -1) return;
    this.#historyAt++;
    if (this.#historyAt >= this.#history.length) {
      this.#historyAt = -1;
      this.set(this.#draft);
    } else this.set(this.#history[this.#historyAt]!);
  }

  /** The word the cursor is at the end of, and where it starts (for completion). */
  wordBeforeCursor(): { word: string; start: number } {
    let i = this.cursor;
    while (i > 0 && !/\s/.test(this.text[i - 1]!)) i--;
    return { word: this.text.slice(i, this.cursor), start: i };
  }

  /** Replace text[start, cursor) with `s`. */
  replaceBeforeCursor(start: number, s: string): void {
    this.text = this.text.slice(0, start) + s + this.text.slice(this.cursor);
    this.cursor = start + s.length;
  }
}

function offsetAtWidth(text: string, from: number, to: number, col: number): number {
  let w = 0;
  let o = from;
  for (const g of graphemes(text.slice(from, to))) {
    if (w >= col) break;
    w += textWidth(g);
    o += g.length;
  }
  return o;
}
