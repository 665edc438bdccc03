/**
 * Keyboard input in raw mode, decoded into key events: printable text, control keys (^A = ctrl
 * 'a'), Alt/Meta as an ESC prefix (xterm's default `metaSendsEscape`, also tmux's), the CSI and
 * SS3 sequences of cursor and editing keys (xterm's "PC-Style Function Keys", with the
 * `;modifier` parameter for Shift/Alt/Ctrl), and bracketed paste (`ESC [ 200 ~` ... `ESC [ 201 ~`),
 * which may span several reads. An ESC that ends a read is the Escape key.
 */

export type KeyName =
  | 'text'
  | 'paste'
  | 'enter'
  | 'tab'
  | 'backtab'
  | 'backspace'
  | 'delete'
  | 'up'
  | 'down'
  | 'left'
  | 'right'
  | 'home'
  | 'end'
  | 'pageup'
  | 'pagedown'
  | 'insert'
  | 'escape'
  | 'f';

export interface Key {
  name: KeyName;
  /** For `text` and `paste`: what was typed; for ctrl/alt letters: the letter; for `f`: the number. */
  text?: string;
  ctrl?: boolean;
  alt?: boolean;
  shift?: boolean;
}

const TILDE: Record<string, KeyName> = {
  '1': 'home',
  '2': 'insert',
  '3': 'delete',
  '4': 'end',
  '5': 'pageup',
  '6': 'pagedown',
  '7': 'home',
  '8': 'end',
};
const FINAL: Record<string, KeyName> = {
  A: 'up',
  B: 'down',
  C: 'right',
  D: 'left',
  H: 'home',
  F: 'end',
  Z: 'backtab',
};

const PASTE_START = '\u001b[200~';
const PASTE_END = '\u001b[201~';

export class KeyParser {
  #paste: string | undefined;

  /** Decodes one read. */
  feed(data: string): Key[] {
    const keys: Key[] = [];
    let i = 0;
    let text = '';
    const flush = () => {
      if (text !== '') keys.push({ name: 'text', text });
      text = '';
    };
    while (i < data.length) {
      if (this.#paste !== undefined) {
        const end = data.indexOf(PASTE_END, i);
        if (end === -1) {
          this.#paste += data.slice(i);
          return keys;
        }
        keys.push({ name: 'paste', text: (this.#paste + data.slice(i, end)).replace(/\r\n?/g, '\n') });
        this.#paste = undefined;
        i = end + PASTE_END.length;
        continue;
      }
      const c = data[i]!;
      if (c === '\u001b') {
        flush();
        if (data.startsWith(PASTE_START, i)) {
          this.#paste = '';
          i += PASTE_START.length;
          continue;
        }
        const seq = /^\u001b(?:\[([0-9;]*)([~A-Za-z])|O([A-Za-z]))/.exec(data.slice(i));
        if (seq) {
          i += seq[0].length;
          const k = decodeSequence(seq[1], seq[2], seq[3]);
          if (k) keys.push(k);
          continue;
        }
        const next = data[i + 1];
        if (next === undefined) {
          keys.push({ name: 'escape' });
          i++;
          continue;
        }
        // Alt + key: ESC then the key.
        const inner = decodeSingle(next);
        keys.push({ ...inner, alt: true });
        i += 2;
        continue;
      }
      const cp = c.charCodeAt(0);
      if (cp < 0x20 || cp === 0x7f) {
        flush();
        keys.push(decodeSingle(c));
        i++;
        continue;
      }
      text += c;
      i++;
    }
    flush();
    return keys;
  }
}

function decodeSingle(c: string): Key {
  const cp = c.charCodeAt(0);
  if (c === '\r') return { name: 'enter' };
  if (c === '\n') return { name: 'enter', ctrl: true, text: 'j' };
  if (c === '\t') return { name: 'tab' };
  if (c === '\u007f' || c === '\b') return { name: 'backspace' };
  if (cp === 0) return { name: 'text', text: ' ', ctrl: true };
  if (cp < 0x20) return { name: 'text', text: String.fromCharCode(cp + 96), ctrl: true };
  return { name: 'text', text: c };
}

function decodeSequence(
  params: string | undefined,
  final: string | undefined,
  ss3: string | undefined,
): Key | undefined {
  if (ss3) {
    const name = FINAL[ss3];
    if (name) return { name };
    const fn = 'PQRS'.indexOf(ss3);
    return fn >= 0 ? { name: 'f', text: String(fn + 1) } : undefined;
  }
  const parts = (params ?? '').split(';');
  const mod = Number(parts[1] ?? '1') - 1;
  const mods = { shift: (mod & 1) !== 0, alt: (mod & 2) !== 0, ctrl: (mod & 4) !== 0 };
  let name: KeyName | undefined;
  if (final === '~') name = TILDE[parts[0] ?? ''];
  else if (final) name = FINAL[final];
  if (!name) return undefined;
  const k: Key = { name };
  if (mods.shift) k.shift = true;
  if (mods.alt) k.alt = true;
  if (mods.ctrl) k.ctrl = true;
  return k;
}
