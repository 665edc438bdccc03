/**
 * Exit codes, fixed by the session issue (issue 3) and part of the interface scripts rely on:
 * 0 success, 1 failure (e.g. a stanza error), 2 usage, 3 cannot connect or TLS refused (certificate
 * included), 4 authentication failed, 5 timeout. Never 124-128: `timeout(1)` and shells use those.
 *
 * The library's ConfabError codes map to them in ONE table below; an unknown or future code is a
 * plain failure (1) until it is added here.
 */
import type { ErrorCode } from 'confab';
import { UsageError } from './args.ts';
import { sanitizeForTerminal } from './sanitize.ts';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  connect: 3,
  auth: 4,
  timeout: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * What each library error code means for the exit status. Keyed by `ConfabError.code`; checked
 * against the library's ErrorCode union (a type-only import: this file never loads the library).
 */
export const EXIT_BY_ERROR_CODE = {
  // cannot connect, or the connection's security was refused
  ERR_CONNECT: EXIT.connect,
  ERR_DNS: EXIT.connect,
  ERR_TLS: EXIT.connect,
  ERR_TLS_CERT: EXIT.connect,
  ERR_TLS_PIN: EXIT.connect,
  ERR_TLS_REQUIRED: EXIT.connect,
  ERR_PLAINTEXT_REFUSED: EXIT.connect,
  ERR_SOCKET_CLOSED: EXIT.connect,
  ERR_NOT_CONNECTED: EXIT.connect,
  ERR_NEGOTIATION: EXIT.connect,
  ERR_STREAM: EXIT.connect,
  ERR_BIND: EXIT.connect,
  // authentication
  ERR_AUTH: EXIT.auth,
  ERR_AUTH_NO_MECHANISM: EXIT.auth,
  ERR_AUTH_SERVER_SIGNATURE: EXIT.auth,
  ERR_AUTH_PROTOCOL: EXIT.auth,
  // time
  ERR_TIMEOUT: EXIT.timeout,
  // the request itself
  ERR_STANZA: EXIT.failure,
  ERR_BAD_INPUT: EXIT.usage,
  ERR_UNSUPPORTED: EXIT.failure,
  ERR_ABORTED: EXIT.failure,
  // the peer sent XML we refuse: the connection is gone
  ERR_XML_NOT_WELL_FORMED: EXIT.connect,
  ERR_XML_RESTRICTED: EXIT.connect,
  ERR_XML_LIMIT: EXIT.connect,
  ERR_XML_ENCODING: EXIT.connect,
  ERR_XML_INVALID_CHAR: EXIT.connect,
  ERR_XML_NAMESPACE: EXIT.connect,
  // local trouble that is no usage mistake
  ERR_HANDLER: EXIT.failure,
  ERR_OUTBOX_FULL: EXIT.failure,
} as const satisfies Partial<Record<ErrorCode, ExitCode>>;

/** A failure the CLI itself detected, with the exit code it means. */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: ExitCode;
  /** What the user can do about it, appended to the one line. */
  readonly hint: string | undefined;
  constructor(exitCode: ExitCode, message: string, hint?: string) {
    super(message);
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

interface ErrorLike {
  code?: unknown;
  condition?: unknown;
  text?: unknown;
  message?: unknown;
}

/** The exit code for anything a command threw. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof CliError) return err.exitCode;
  const code = (err as ErrorLike | null)?.code;
  if (typeof code === 'string' && Object.hasOwn(EXIT_BY_ERROR_CODE, code)) {
    return EXIT_BY_ERROR_CODE[code as keyof typeof EXIT_BY_ERROR_CODE];
  }
  return EXIT.failure;
}

/** What the user can do next, by library error code. */
const HINTS: Readonly<Record<string, string>> = {
  ERR_PLAINTEXT_REFUSED: 'use --allow-plaintext to allow an unencrypted connection',
  ERR_TLS_REQUIRED: 'the server offers no TLS; --allow-plaintext allows an unencrypted connection',
  ERR_TLS_CERT: "use --ca FILE to trust the server's CA, or --pin SHA256 for its key",
  ERR_TLS_PIN: 'the certificate does not match --pin',
  ERR_DNS: 'check the domain, or give --host and --port',
  ERR_AUTH_NO_MECHANISM: 'try --legacy-auth, or --allow-plaintext for PLAIN on an unencrypted connection',
};

/**
 * The one line (no trailing newline) that tells a person what went wrong, with the XMPP condition
 * and the server's text where there was one. Safe for a terminal: remote text is sanitized.
 */
export function describeError(err: unknown, program = 'confab'): string {
  const parts: string[] = [];
  if (err instanceof UsageError) {
    const help = err.command ? `${program} ${err.command} --help` : `${program} --help`;
    return clean(`${program}: ${err.message} (see '${help}')`);
  }
  const e = (err ?? {}) as ErrorLike;
  const tls = certificateLine(err);
  if (tls) return clean(`${program}: ${tls}`);
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  parts.push(message);
  const condition = typeof e.condition === 'string' ? e.condition : undefined;
  if (condition && !message.includes(condition)) parts.push(`[${condition}]`);
  const text = typeof e.text === 'string' ? e.text.trim() : '';
  if (text && !message.includes(text)) parts.push(`(server said: ${text})`);
  let line = `${program}: ${parts.join(' ')}`;
  const hint = err instanceof CliError ? err.hint : typeof e.code === 'string' ? HINTS[e.code] : undefined;
  if (hint && !message.includes(hint)) line += `; ${hint}`;
  return clean(line);
}

interface CertificateErrorLike {
  code: string;
  tlsCode: string;
  domain: string;
  reason: string;
  fingerprint256: string | undefined;
  spkiSha256: string | undefined;
}

/**
 * The library's TlsCertificateError (recognised by shape, so this file never loads the library)
 * in the CLI's words: the reason, the fingerprints, and the options that act on them (the
 * library's own message names its API options instead).
 */
function certificateLine(err: unknown): string | undefined {
  const e = err as Partial<CertificateErrorLike> | null;
  if (typeof e !== 'object' || e === null || typeof e.tlsCode !== 'string' || typeof e.domain !== 'string') {
    return undefined;
  }
  const pin = e.spkiSha256 ? `sha256/${e.spkiSha256}` : undefined;
  if (e.code === 'ERR_TLS_PIN') {
    return (
      `the certificate of ${e.domain} does not match --pin` +
      (pin ? ` (its key is ${pin})` : '') +
      '; if the server changed its key on purpose, update the pin'
    );
  }
  const ids = e.fingerprint256 ? `; certificate SHA-256 ${e.fingerprint256}` : '';
  const trust = pin
    ? `use --ca FILE to trust its CA, or --pin ${pin} once you have checked the fingerprint`
    : 'use --ca FILE to trust its CA';
  return `the certificate of ${e.domain} was refused: ${e.reason} (${e.tlsCode})${ids}; ${trust}`;
}

function clean(line: string): string {
  return sanitizeForTerminal(line, { singleLine: true }).replace(/ {2,}/g, ' ').trim();
}
