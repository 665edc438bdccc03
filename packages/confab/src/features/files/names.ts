/**
 * Safe local names for files named by someone else (a URL's last path segment, an offer's
 * description): nothing a remote party chooses may climb out of the download directory, hide
 * itself (a leading dot), overwrite a file, or put control or bidi-override characters into
 * a file name that a terminal or a file manager later shows (CVE-2021-42574 style reordering).
 * Pure functions: the file system part (creating `name (1).ext` when `name.ext` exists) is the
 * platform's (platform/node-http.ts), with `numberedName` from here.
 */

/** Used when nothing is left of a remote name. */
export const FALLBACK_NAME = 'download';

// C0, DEL, C1 controls; bidi embeddings, overrides, isolates and marks; BOM / zero-width no-break.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
// Characters Windows (and many tools) cannot have in a name; path separators are handled before.
const RESERVED = /[<>:"|?*]/g;
// Names Windows reserves whatever the extension.
const DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
/** Bytes a name may take (ext4, APFS, NTFS: 255). */
const MAX_BYTES = 255;

const UTF8 = new TextEncoder();

/**
 * A file name that is safe to create in a directory, from a name someone else chose.
 * Keeps only what follows the last `/` or `\`, drops control and bidi characters, leading dots
 * and spaces (no hidden files, no `..`), trailing dots and spaces, replaces characters Windows
 * forbids with `_`, avoids device names, and keeps it within 255 bytes (extension kept).
 * An empty result becomes `fallback` (itself made safe).
 *
 * @example
 * safeFileName('../../etc/passwd') // 'passwd'
 * safeFileName('..')               // 'download'
 * safeFileName('.bashrc')          // 'bashrc'
 */
export function safeFileName(remoteName: string | undefined, fallback: string = FALLBACK_NAME): string {
  let name = (remoteName ?? '').normalize('NFC').replace(UNSAFE, '');
  name = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  name = name
    .replace(RESERVED, '_')
    .replace(/^[\s.]+/, '')
    .replace(/[\s.]+$/, '');
  if (DEVICE.test(name)) name = `_${name}`;
  name = truncateBytes(name, MAX_BYTES);
  if (name === '') return fallback === FALLBACK_NAME ? FALLBACK_NAME : safeFileName(fallback);
  return name;
}

/** Shortens `name` to at most `max` UTF-8 bytes, keeping a short extension, never splitting a character. */
function truncateBytes(name: string, max: number): string {
  if (UTF8.encode(name).length <= max) return name;
  const { stem, ext } = splitExtension(name);
  const keepExt = UTF8.encode(ext).length <= 32 ? ext : '';
  let out = '';
  for (const ch of keepExt ? stem : name) {
    if (UTF8.encode(out + ch + keepExt).length > max) break;
    out += ch;
  }
  return out.replace(/[\s.]+$/, '') + keepExt;
}

/** `photo.tar.gz` -> `{ stem: 'photo.tar', ext: '.gz' }`; no extension for `README` or `.x`. */
export function splitExtension(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return { stem: name, ext: '' };
  return { stem: name.slice(0, dot), ext: name.slice(dot) };
}

/**
 * The n-th alternative to an existing name: `photo.jpg` -> `photo (1).jpg`, `photo (2).jpg`...
 * (n = 0 is the name itself). What the platform tries when the name is taken: never overwrite.
 */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const { stem, ext } = splitExtension(name);
  return truncateBytes(`${stem} (${n})${ext}`, MAX_BYTES);
}

/**
 * The name a URL suggests: its last path segment, percent-decoded (undecodable stays as it
 * is), then made safe. Query and fragment never count.
 *
 * @example
 * fileNameFromUrl('https://up.example/a1b2/holiday%20photo.jpg?x=1') // 'holiday photo.jpg'
 * fileNameFromUrl('http://evil.example/..%2F..%2Fx')                 // 'x'
 */
export function fileNameFromUrl(url: string, fallback: string = FALLBACK_NAME): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return safeFileName(undefined, fallback);
  }
  const segment = path.slice(path.lastIndexOf('/') + 1);
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // malformed percent-encoding: keep the raw segment (made safe below)
  }
  return safeFileName(decoded, fallback);
}
