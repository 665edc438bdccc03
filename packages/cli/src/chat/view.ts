/**
 * The layout of `confab chat`, as a pure function from the client's state to a frame (screen.ts):
 *
 *   +-- title bar: the window's peer, its presence or the room's subject, "typing..." ---------+
 *   | roster pane      | messages of the active window (wrapped, newest at the bottom)         |
 *   | requests, groups | HH:MM <nick> text  ✓        (/me as "* nick text", notices framed)   |
 *   +-- status bar: clock, own JID and presence, connection / reconnect countdown, windows -----+
 *   > input line (grows to a few lines for multi-line text)
 *
 * Everything remote (bodies, nicks, statuses, subjects, names, JIDs, file names, error texts)
 * passes through `sanitizeForTerminal` here, at the last step before the grid, so no code path
 * can forget it; `Screen.put` drops control characters as a second line of defence.
 */
import { parseStyling, renderStyledWith, type StyleRenderer } from 'confab';
import { sanitizeForTerminal } from '../sanitize.ts';
import type { Contact, Delivery, Show } from './backend.ts';
import { nickColour } from './colour.ts';
import { BOLD, bg, DIM, fg, ITALIC, REVERSE, Screen, STRIKE, UNDERLINE, withFg } from './screen.ts';
import { clusterWidth, graphemes, padTo, textWidth } from './width.ts';

export type EntryKind = 'message' | 'action' | 'info' | 'error' | 'notice' | 'wire';

export interface Entry {
  kind: EntryKind;
  at: Date;
  /** Who (a nick or a name): remote text. */
  from?: string | undefined;
  /** What the colour is derived from (XEP-0392: the nick in rooms, the bare JID in chats). */
  colourKey?: string | undefined;
  /** Remote text for messages; our own text for info. */
  text: string;
  subject?: string | undefined;
  id?: string | undefined;
  outgoing?: boolean | undefined;
  delivery?: Delivery | undefined;
  edited?: boolean | undefined;
  /** Mentions our nick. */
  highlight?: boolean | undefined;
  /** Came with a delay (offline storage, archive): the date is shown. */
  delayed?: boolean | undefined;
}

export type WindowKind = 'console' | 'chat' | 'room' | 'xml';

export interface ChatWindow {
  kind: WindowKind;
  /** Bare JID (chat), room JID (room), room@service/nick (private chat in a room: kind chat). */
  jid: string;
  entries: Entry[];
  unread: number;
  highlight: boolean;
  /** Lines scrolled up from the bottom. */
  scroll: number;
  /** Their XEP-0085 state. */
  theirState?: string | undefined;
}

export interface ViewState {
  account: string;
  jid: string | undefined;
  windows: ChatWindow[];
  active: number;
  contacts: Contact[];
  requests: string[];
  connection: string;
  own: { show: Show | undefined; status: string | undefined; auto: boolean; invisible: boolean };
  input: { prompt: string; text: string; cursor: number };
  /** A transient line above the status bar (completion candidates, hints). */
  hint: string | undefined;
  /** Title details for the active window (presence of the peer, subject of the room). */
  title: string;
  now: Date;
  colour: boolean;
  /** The room occupants of the active window (room windows show them in the side pane). */
  occupants?: { nick: string; role: string | undefined; show: Show | undefined }[] | undefined;
}

/** Remote text for one line of the screen. */
export function clean(s: string | undefined): string {
  return s === undefined ? '' : sanitizeForTerminal(s, { singleLine: true });
}

/** Remote text that may span lines (message bodies): tabs become spaces. */
export function cleanBlock(s: string | undefined): string {
  return s === undefined ? '' : sanitizeForTerminal(s).replace(/\t/g, '    ');
}

const SHOW_GLYPH: Record<string, string> = {
  online: '●',
  chat: '●',
  away: '◐',
  xa: '○',
  dnd: '⊘',
  offline: '·',
};
const SHOW_COLOUR: Record<string, number> = { online: 2, chat: 10, away: 3, xa: 3, dnd: 1, offline: 8 };

export function showWord(c: { available: boolean; show: Show | undefined }): string {
  return c.available ? (c.show ?? 'online') : 'offline';
}

interface Seg {
  text: string;
  style: number;
}

const hhmm = (d: Date) =>
  `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
const stamp = (e: Entry) =>
  e.delayed
    ? `${String(e.at.getMonth() + 1).padStart(2, '0')}-${String(e.at.getDate()).padStart(2, '0')} ${hhmm(e.at)}`
    : hhmm(e.at);

const DELIVERY_MARK: Record<Delivery, string> = {
  queued: ' …',
  sent: '',
  acked: ' ✓',
  received: ' ✓✓',
  failed: ' ✗',
};

/** XEP-0393 styling of a (sanitized) body, as segments over a base style. */
export function styledSegments(body: string, base: number): Seg[] {
  const r: StyleRenderer<Seg[]> = {
    text: (t) => [{ text: t, style: base }],
    concat: (parts) => parts.flat(),
    lineBreak: () => [{ text: '\n', style: base }],
    strong: (inner) => inner.map((s) => ({ ...s, style: s.style | BOLD })),
    emphasis: (inner) => inner.map((s) => ({ ...s, style: s.style | ITALIC })),
    strike: (inner) => inner.map((s) => ({ ...s, style: s.style | STRIKE })),
    pre: (t) => [{ text: t, style: base | DIM }],
    preBlock: (t) => [{ text: t, style: base | DIM }],
    quote: (inner) => {
      const out: Seg[] = [{ text: '> ', style: base | DIM }];
      for (const s of inner) {
        const parts = s.text.split('\n');
        parts.forEach((p, i) => {
          if (i > 0) out.push({ text: '\n', style: base }, { text: '> ', style: base | DIM });
          if (p !== '') out.push({ text: p, style: s.style | DIM });
        });
      }
      return out;
    },
  };
  return renderStyledWith(parseStyling(body), r);
}

/** The segments of one entry (before wrapping), and the width of its prefix (for indenting). */
export function entrySegments(e: Entry, colour: boolean): { segs: Seg[]; indent: number } {
  const time = `${stamp(e)} `;
  const segs: Seg[] = [{ text: time, style: DIM }];
  const nickStyle = (key: string | undefined) =>
    colour && key !== undefined ? fg(nickColour(key)) | BOLD : BOLD;
  const hl = e.highlight ? (colour ? bg(52) : REVERSE) : 0;
  switch (e.kind) {
    case 'message': {
      const nick = clean(e.from);
      const head = `<${nick}> `;
      segs.push({ text: head, style: nickStyle(e.colourKey) | hl });
      segs.push(...styledSegments(cleanBlock(e.text), hl));
      break;
    }
    case 'action': {
      segs.push({ text: `* ${clean(e.from)} `, style: nickStyle(e.colourKey) | hl });
      segs.push(...styledSegments(cleanBlock(e.text), ITALIC | hl));
      break;
    }
    case 'notice': {
      const subj = e.subject !== undefined ? ` — ${clean(e.subject)}` : '';
      segs.push({ text: `┌ message from ${clean(e.from)}${subj}`, style: BOLD });
      for (const line of cleanBlock(e.text).split('\n')) {
        segs.push({ text: '\n', style: 0 }, { text: '│ ', style: DIM }, { text: line, style: 0 });
      }
      segs.push({ text: '\n', style: 0 }, { text: '└', style: DIM });
      break;
    }
    case 'error':
      segs.push({ text: '-!- ', style: colour ? fg(1) | BOLD : BOLD });
      segs.push({ text: cleanBlock(e.text), style: colour ? fg(1) : 0 });
      break;
    case 'wire':
      segs.push({ text: cleanBlock(e.text), style: DIM });
      break;
    default:
      segs.push({ text: '-- ', style: DIM });
      segs.push({ text: cleanBlock(e.text), style: 0 });
  }
  if (e.edited) segs.push({ text: ' (edited)', style: DIM });
  if (e.outgoing && e.delivery) {
    const mark = DELIVERY_MARK[e.delivery];
    if (mark) segs.push({ text: mark, style: e.delivery === 'failed' ? (colour ? fg(1) : BOLD) : DIM });
  }
  return { segs, indent: textWidth(time) };
}

/** Wraps segments into lines of at most `width` cells; continuation lines start at `indent`. */
export function wrap(segs: Seg[], width: number, indent: number): Seg[][] {
  const lines: Seg[][] = [];
  let line: Seg[] = [];
  let w = 0;
  const ind = indent < width / 2 ? indent : 0;
  const newLine = () => {
    lines.push(line);
    line = ind > 0 ? [{ text: ' '.repeat(ind), style: 0 }] : [];
    w = ind;
  };
  for (const s of segs) {
    const parts = s.text.split('\n');
    parts.forEach((part, k) => {
      if (k > 0) newLine();
      // Break at spaces where possible, else anywhere.
      const words = part.split(/(?<= )/);
      for (const word of words) {
        const ww = textWidth(word);
        if (w + ww <= width) {
          line.push({ text: word, style: s.style });
          w += ww;
          continue;
        }
        if (ww <= width - ind && w > ind) {
          newLine();
          line.push({ text: word, style: s.style });
          w += ww;
          continue;
        }
        let chunk = '';
        for (const g of graphemes(word)) {
          const gw = clusterWidth(g);
          if (w + gw > width) {
            if (chunk) line.push({ text: chunk, style: s.style });
            chunk = '';
            newLine();
          }
          chunk += g;
          w += gw;
        }
        if (chunk) line.push({ text: chunk, style: s.style });
      }
    });
  }
  lines.push(line);
  return lines;
}

/** The side pane's width for a terminal `cols` wide (none on narrow terminals). */
export function paneWidth(cols: number): number {
  return cols >= 60 ? Math.min(30, Math.floor(cols / 4)) : 0;
}

/** Input rows: the prompt and text wrapped, at most 5 rows (and the cursor's row and column). */
export function inputLayout(
  prompt: string,
  text: string,
  cursor: number,
  width: number,
): { rows: string[]; cx: number; cy: number } {
  const rows: string[] = [];
  let row = '';
  let w = 0;
  let cx = 0;
  let cy = 0;
  const pw = textWidth(prompt);
  const push = () => {
    rows.push(row);
    row = ' '.repeat(pw);
    w = pw;
  };
  row = prompt;
  w = pw;
  let offset = 0;
  const shown = cleanBlock(text);
  // Our own input is sanitized too (a pasted escape must not reach the terminal); offsets are
  // mapped by walking the original text.
  const clusters = graphemes(text);
  let cursorSet = false;
  for (const g of clusters) {
    if (offset === cursor) {
      cx = w;
      cy = rows.length;
      cursorSet = true;
    }
    offset += g.length;
    if (g === '\n') {
      push();
      continue;
    }
    const vis = cleanBlock(g);
    const gw = textWidth(vis);
    if (w + gw > width) push();
    row += vis;
    w += gw;
  }
  if (!cursorSet) {
    if (w >= width) push();
    cx = w;
    cy = rows.length;
  }
  rows.push(row);
  void shown;
  const max = 5;
  if (rows.length > max) {
    const first = Math.max(0, Math.min(cy - max + 1, rows.length - max));
    return { rows: rows.slice(first, first + max), cx, cy: cy - first };
  }
  return { rows, cx, cy };
}

/** Draws the whole client into a new frame. */
export function draw(s: ViewState, cols: number, height: number): Screen {
  const scr = new Screen(cols, height);
  const colour = s.colour;
  const win = s.windows[s.active]!;
  const input = inputLayout(s.input.prompt, s.input.text, s.input.cursor, cols);
  const inputRows = input.rows.length;
  const statusY = height - inputRows - 1;
  const hintY = s.hint !== undefined ? statusY - 1 : -1;
  const top = 1;
  const bottom = (hintY >= 0 ? hintY : statusY) - 1; // last message row
  const pane = paneWidth(cols);
  const mainX = pane > 0 ? pane + 1 : 0;
  const mainW = cols - mainX;

  // Title bar.
  const barStyle = colour ? bg(24) | fg(15) : REVERSE;
  scr.clear(0, 0, cols, 1, barStyle);
  scr.put(0, 0, padTo(` ${s.title}`, cols), barStyle);

  // Side pane: the roster, or the occupants of a room.
  if (pane > 0) {
    for (let y = top; y <= bottom; y++) scr.put(pane, y, '│', DIM);
    drawPane(scr, s, pane, top, bottom, colour);
  }

  // Messages: from the bottom up, scrolled.
  const lines: Seg[][] = [];
  const need = bottom - top + 1 + win.scroll;
  for (let i = win.entries.length - 1; i >= 0 && lines.length < need; i--) {
    const { segs, indent } = entrySegments(win.entries[i]!, colour);
    lines.unshift(...wrap(segs, mainW, indent));
  }
  const visible = bottom - top + 1;
  const maxScroll = Math.max(0, lines.length - visible);
  const scroll = Math.min(win.scroll, maxScroll);
  const first = Math.max(0, lines.length - visible - scroll);
  const slice = lines.slice(first, first + visible);
  let y = top + (visible - slice.length);
  for (const line of slice) {
    let x = mainX;
    for (const seg of line) x = scr.put(x, y, seg.text, seg.style, cols);
    y++;
  }
  if (scroll > 0) scr.put(cols - 10, bottom, padTo(' -- more --', 10), REVERSE);

  if (hintY >= 0) scr.put(0, hintY, padTo(clean(s.hint), cols), DIM);

  // Status bar.
  const sb = colour ? bg(236) | fg(252) : REVERSE;
  scr.clear(0, statusY, cols, 1, sb);
  const ownShow = s.own.invisible ? 'invisible' : (s.own.show ?? 'online');
  const ownText = `${ownShow}${s.own.auto ? ' (idle)' : ''}${s.own.status ? `: ${clean(s.own.status)}` : ''}`;
  const act = s.windows
    .map((w, i) => ({ w, i }))
    .filter(({ w, i }) => i !== s.active && (w.unread > 0 || w.highlight))
    .map(({ w, i }) => `${i + 1}${w.highlight ? '!' : ''}`);
  const parts = [
    `[${hhmm(s.now)}]`,
    `[${clean(s.jid ?? s.account)}: ${ownText}]`,
    `[${s.connection}]`,
    `[${s.active + 1}:${clean(windowName(win))}]`,
    ...(act.length > 0 ? [`[Act: ${act.join(',')}]`] : []),
  ];
  scr.put(0, statusY, padTo(parts.join(' '), cols), sb);

  // Input.
  input.rows.forEach((r, i) => {
    scr.put(0, statusY + 1 + i, r, 0);
  });
  scr.cursor = { x: Math.min(cols - 1, input.cx), y: statusY + 1 + input.cy };
  return scr;
}

/** What a window is called in the status bar and /win list. */
export function windowName(w: ChatWindow): string {
  if (w.kind === 'console') return 'console';
  if (w.kind === 'xml') return 'xmlconsole';
  return w.jid;
}

function drawPane(
  scr: Screen,
  s: ViewState,
  full: number,
  top: number,
  bottom: number,
  colour: boolean,
): void {
  // One column of air before the separator.
  const width = full - 1;
  let y = top;
  const line = (text: string, style = 0) => {
    if (y > bottom) return;
    scr.put(0, y, padTo(text, width), style);
    y++;
  };
  if (s.occupants) {
    line(`Occupants (${s.occupants.length})`, BOLD | UNDERLINE);
    for (const o of s.occupants) {
      const mark =
        o.role === 'moderator' ? '@' : o.role === 'participant' ? '+' : o.role === 'visitor' ? '-' : ' ';
      const nick = clean(o.nick);
      if (y > bottom) break;
      const x = scr.put(0, y, mark, DIM, width);
      scr.put(x, y, padTo(nick, width - x), colour ? fg(nickColour(o.nick)) : 0, width);
      y++;
    }
    return;
  }
  if (s.requests.length > 0) {
    line('Requests', BOLD | UNDERLINE);
    for (const r of s.requests) line(` ? ${clean(r)}`, colour ? fg(3) : BOLD);
  }
  const unreadOf = new Map(s.windows.filter((w) => w.kind === 'chat').map((w) => [w.jid, w]));
  const groups = new Map<string, Contact[]>();
  for (const c of s.contacts) {
    const gs = c.groups.length > 0 ? c.groups : ['Contacts'];
    for (const g of gs) {
      let l = groups.get(g);
      if (!l) {
        l = [];
        groups.set(g, l);
      }
      l.push(c);
    }
  }
  const names = [...groups.keys()].sort((a, b) =>
    a === 'Contacts' ? 1 : b === 'Contacts' ? -1 : a.localeCompare(b),
  );
  if (names.length === 0 && s.requests.length === 0) line('(no contacts)', DIM);
  for (const g of names) {
    line(clean(g), BOLD | UNDERLINE);
    const list = groups
      .get(g)!
      .sort(
        (a, b) =>
          Number(b.available) - Number(a.available) || (a.name ?? a.jid).localeCompare(b.name ?? b.jid),
      );
    for (const c of list) {
      if (y > bottom) return;
      const word = showWord(c);
      const glyph = SHOW_GLYPH[word] ?? '·';
      const w = unreadOf.get(c.jid);
      const unread = w && w.unread > 0 ? ` ${w.unread}` : '';
      const name = clean(c.name ?? c.jid);
      const x = scr.put(0, y, ` ${glyph} `, colour ? fg(SHOW_COLOUR[word] ?? 8) : 0, width);
      const nameW = width - x - textWidth(unread);
      const style = (c.available ? 0 : DIM) | (w?.highlight ? BOLD : 0);
      const x2 = scr.put(x, y, padTo(name, nameW), style, width);
      scr.put(x2, y, unread, colour ? withFg(BOLD, 11) : BOLD | REVERSE, width);
      y++;
      const detail =
        c.pending && !c.available
          ? 'asked to subscribe'
          : c.available || c.status
            ? `${word}${c.status ? `: ${clean(c.status)}` : ''}`
            : '';
      if (detail) line(`   ${detail}`, DIM);
    }
  }
}
