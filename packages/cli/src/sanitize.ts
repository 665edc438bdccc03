/**
 * Terminal-injection defence (issue 7: "Nothing a remote party sends ... can put control, escape or
 * bidi-override sequences on the terminal"). Everything that came from the network (bodies, nicks,
 * statuses, subjects, file names, server error texts, the debug log) passes through here before it
 * reaches a terminal in plain output.
 *
 * Removed:
 * - escape sequences, whole: CSI (`ESC [ ... final`, also the 8-bit CSI U+009B), OSC/DCS/SOS/PM/APC
 *   strings up to their terminator (BEL or ST), and two-character `ESC x` sequences, so no
 *   half-sequence like `[2J` is left behind either;
 * - the remaining C0 controls except `\n` and `\t` (BEL, BS, CR: CR can overwrite what was printed),
 *   DEL and the C1 controls U+0080-U+009F;
 * - bidi controls that can reorder what the user sees (Trojan Source, CVE-2021-42574): U+202A-U+202E
 *   (embeddings and overrides), U+2066-U+2069 (isolates), U+200E/U+200F (LRM/RLM) and U+061C (ALM).
 * `\r\n` becomes `\n` first, so Windows-style line ends survive as line ends.
 *
 * For `--json` output see `jsonLine` in output.ts: there the characters are kept but escaped.
 */

// ESC followed by: CSI (params, intermediates, final), string commands (P X ] ^ _) up to BEL/ST
// (or the end of the text: an unterminated OSC must not swallow nothing and leave its payload),
// or any single character (two-character sequences like ESC c, ESC 7, ESC ( B take one more).
const ESCAPE_SEQUENCE =
  /\u001b(?:\[[0-?]*[ -/]*[@-~]?|[PX\]^_][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|[ -/]*[0-~]?)|\u009b[0-?]*[ -/]*[@-~]?|[\u0090\u0098\u009d\u009e\u009f][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?/g;

// What is left to drop after whole sequences are gone.
const UNSAFE_CHARACTER =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export interface SanitizeOptions {
  /** Also turn `\n` and `\t` into spaces: for one-line fields (nicks, JIDs, status, error texts). */
  singleLine?: boolean;
}

/** Returns `text` with nothing left that a terminal would interpret as a control or reordering. */
export function sanitizeForTerminal(text: string, options: SanitizeOptions = {}): string {
  let out = text.replace(/\r\n/g, '\n').replace(ESCAPE_SEQUENCE, '').replace(UNSAFE_CHARACTER, '');
  if (options.singleLine) out = out.replace(/[\n\t]+/g, ' ');
  return out;
}
