/**
 * The terminal, behind an interface: the client's layout and input logic only see `Terminal`,
 * so unit tests drive them with `FakeTerminal` (fake-terminal.ts) and no TTY.
 *
 * `NodeTerminal` puts a real TTY into the state a full-screen program needs: raw mode (keys
 * arrive one by one, ^C is a key), the alternate screen (xterm's private mode 1049: the shell's
 * scrollback is left untouched and restored on exit), bracketed paste (mode 2004: a pasted text
 * arrives between `ESC [ 200 ~` and `ESC [ 201 ~`, so its newlines do not send it line by line),
 * and resizes from SIGWINCH. `stop()` restores everything, also when the process is dying.
 */

export interface Terminal {
  readonly columns: number;
  readonly rows: number;
  write(data: string): void;
  /** Input as it arrives (UTF-8 decoded). Returns the teardown. */
  onData(listener: (data: string) => void): () => void;
  onResize(listener: () => void): () => void;
  /** Raw mode, alternate screen, bracketed paste. */
  start(): void;
  /** Everything back as it was. Safe to call twice. */
  stop(): void;
}

type TtyIn = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
type TtyOut = {
  write(chunk: string): unknown;
  columns?: number;
  rows?: number;
  on?(event: 'resize', l: () => void): unknown;
  off?(event: 'resize', l: () => void): unknown;
};

const ENTER = '\u001b[?1049h\u001b[?2004h\u001b[H\u001b[2J';
const LEAVE = '\u001b[?2004l\u001b[0m\u001b[?25h\u001b[?1049l';

export class NodeTerminal implements Terminal {
  readonly #in: TtyIn;
  readonly #out: TtyOut;
  #started = false;
  readonly #onExit = () => this.stop();

  constructor(input: TtyIn, output: TtyOut) {
    this.#in = input;
    this.#out = output;
  }

  get columns(): number {
    return this.#out.columns ?? 80;
  }

  get rows(): number {
    return this.#out.rows ?? 24;
  }

  write(data: string): void {
    if (data !== '') this.#out.write(data);
  }

  onData(listener: (data: string) => void): () => void {
    const l = (chunk: Buffer | string) =>
      listener(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    this.#in.on('data', l);
    return () => this.#in.removeListener('data', l);
  }

  onResize(listener: () => void): () => void {
    // Node turns SIGWINCH into the stream's 'resize' event (and updates columns/rows first).
    this.#out.on?.('resize', listener);
    process.on('SIGWINCH', listener);
    return () => {
      this.#out.off?.('resize', listener);
      process.off('SIGWINCH', listener);
    };
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#in.setRawMode?.(true);
    this.#in.resume();
    this.#out.write(ENTER);
    process.on('exit', this.#onExit);
  }

  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    this.#out.write(LEAVE);
    this.#in.setRawMode?.(false);
    this.#in.pause();
    process.off('exit', this.#onExit);
  }
}
