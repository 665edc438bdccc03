/**
 * Tab completion for the input line: command names after `/`, then each argument by the kind
 * the command table gives it (JIDs from the roster and open windows, room JIDs, nicks of the
 * room's occupants, presence words, file names, window numbers); in a room's plain text, the
 * occupants' nicks (`nick: ` at the start of the line, as IRC clients do).
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Completion, SLASH_COMMANDS } from './commands.ts';

export interface CompletionSource {
  jids(): string[];
  rooms(): string[];
  nicks(): string[];
  windows(): string[];
}

export interface Candidates {
  /** Where the word being completed starts in the text. */
  start: number;
  word: string;
  list: string[];
  /** Appended when a single candidate is taken. */
  suffix: string;
}

const SHOWS = ['online', 'chat', 'away', 'xa', 'dnd', 'invisible'];

/** File names starting with `prefix` (a path), directories with a trailing slash. */
export function fileCandidates(prefix: string): string[] {
  const dir = prefix.endsWith('/') ? prefix : dirname(prefix);
  const base = prefix.endsWith('/') ? '' : prefix.slice(prefix.lastIndexOf('/') + 1);
  const shownDir = prefix.includes('/')
    ? prefix.endsWith('/')
      ? prefix
      : prefix.slice(0, prefix.lastIndexOf('/') + 1)
    : '';
  try {
    return readdirSync(dir === '' ? '.' : dir)
      .filter((n) => n.startsWith(base) && (base.startsWith('.') || !n.startsWith('.')))
      .sort()
      .map((n) => {
        let isDir = false;
        try {
          isDir = statSync(join(dir === '' ? '.' : dir, n)).isDirectory();
        } catch {
          // unreadable: offered as a file
        }
        return shownDir + n + (isDir ? '/' : '');
      });
  } catch {
    return [];
  }
}

function ofKind(kind: Completion | undefined, src: CompletionSource, word: string): string[] {
  switch (kind) {
    case 'jid':
      return [...new Set([...src.jids(), ...src.rooms()])];
    case 'peer':
      return [...new Set([...src.nicks(), ...src.jids(), ...src.rooms()])];
    case 'room':
      return src.rooms();
    case 'nick':
      return src.nicks();
    case 'show':
      return SHOWS;
    case 'command':
      return SLASH_COMMANDS.map((c) => c.name);
    case 'window':
      return src.windows();
    case 'file':
      return fileCandidates(word);
    default:
      return [];
  }
}

/** What may complete the word before `cursor` in `text`. */
export function candidates(text: string, cursor: number, src: CompletionSource, inRoom: boolean): Candidates {
  const before = text.slice(0, cursor);
  const start = before.search(/\S*$/);
  const word = before.slice(start);
  const lower = word.toLowerCase();
  const match = (list: string[]) => list.filter((c) => c.toLowerCase().startsWith(lower));
  if (before.startsWith('/') && !/\s/.test(before)) {
    const list = SLASH_COMMANDS.map((c) => `/${c.name}`)
      .filter((c) => c.startsWith(word))
      .sort();
    return { start, word, list, suffix: ' ' };
  }
  if (before.startsWith('/')) {
    const name = before.slice(1).split(/\s+/, 1)[0]!;
    const cmd = SLASH_COMMANDS.find((c) => c.name === name);
    const argIndex = before.slice(0, start).trim().split(/\s+/).length - 1;
    const kind = cmd?.complete[argIndex];
    if (kind === 'file') return { start, word, list: fileCandidates(word), suffix: ' ' };
    return { start, word, list: match(ofKind(kind, src, word)), suffix: ' ' };
  }
  if (inRoom) {
    return { start, word, list: match(src.nicks()), suffix: start === 0 ? ': ' : ' ' };
  }
  return { start, word, list: [], suffix: ' ' };
}

/** The longest common prefix of `list` (case-sensitive). */
export function commonPrefix(list: string[]): string {
  if (list.length === 0) return '';
  let p = list[0]!;
  for (const s of list) {
    while (!s.startsWith(p)) p = p.slice(0, -1);
  }
  return p;
}
