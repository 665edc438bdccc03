/**
 * stdout is for data, stderr for messages (DESIGN.md principle 12). In plain mode every line is
 * sanitized for the terminal; with `--json` each event is one JSON object per line, with an `event`
 * field and the stanza's fields under their XMPP names. Colour only on a terminal and never when
 * NO_COLOR is set (https://no-color.org: any non-empty value).
 */
import { sanitizeForTerminal } from './sanitize.ts';

/** The streams and environment a command runs with; tests pass fakes. */
export interface Io {
  stdout: { write(chunk: string): unknown; isTTY?: boolean | undefined };
  stderr: { write(chunk: string): unknown; isTTY?: boolean | undefined };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean | undefined; setRawMode?: (mode: boolean) => unknown };
  env: Record<string, string | undefined>;
}

// Characters JSON.stringify leaves raw that a terminal might still act on (C1 controls, bidi
// controls) or that break line-oriented readers in some languages (U+2028/U+2029): escaped, so the
// data is kept exactly and `confab listen --json` on a terminal is as safe as the plain output.
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** One line of `--json` output: the object, escaped so the line is terminal-safe. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(
    JSON_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
}

const PLAIN_STYLE: Style = { bold: (s) => s, dim: (s) => s, red: (s) => s };
const ANSI_STYLE: Style = {
  bold: (s) => `\u001b[1m${s}\u001b[22m`,
  dim: (s) => `\u001b[2m${s}\u001b[22m`,
  red: (s) => `\u001b[31m${s}\u001b[39m`,
};

/** Whether colour may be used on a stream: a terminal, NO_COLOR unset or empty, TERM not dumb. */
export function colorEnabled(stream: { isTTY?: boolean | undefined }, env: Io['env']): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export class Output {
  readonly json: boolean;
  /** Styles for stdout (identity functions when colour is off). */
  readonly style: Style;
  readonly #io: Io;

  constructor(io: Io, json: boolean) {
    this.#io = io;
    this.json = json;
    this.style = !json && colorEnabled(io.stdout, io.env) ? ANSI_STYLE : PLAIN_STYLE;
  }

  /** One `--json` event line. */
  event(event: string, fields: Record<string, unknown>): void {
    this.#io.stdout.write(`${jsonLine({ event, ...dropUndefined(fields) })}\n`);
  }

  /**
   * A plain data line on stdout. Build `text` from our own labels (styled) and remote text passed
   * through `remote()`: this method does not sanitize, so the styles' escapes survive.
   */
  line(text: string): void {
    this.#io.stdout.write(`${text}\n`);
  }

  /** A message for the person (stderr), sanitized, one line. */
  note(text: string): void {
    this.#io.stderr.write(`${sanitizeForTerminal(text, { singleLine: true })}\n`);
  }

  /** Raw stderr text that was already made safe (e.g. a sanitized error line). */
  stderr(text: string): void {
    this.#io.stderr.write(text);
  }
}

/** Remote text for a plain line: sanitized; one line unless `multiline`. */
export function remote(text: string | undefined, multiline = false): string {
  if (text === undefined) return '';
  return sanitizeForTerminal(text, { singleLine: !multiline });
}

function dropUndefined(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}
