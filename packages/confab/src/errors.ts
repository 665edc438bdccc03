/**
 * Errors: every failure confab reports is a `ConfabError` with a stable `code`
 * (like undici's `UND_ERR_*`), and where XMPP gave one, the `condition` and `type`
 * of the error, the element it came in, and a `cause`. Never match message text:
 * match `code` (or `instanceof` of the subclass).
 */
import type { Element } from './xml/element.ts';

/** Stable error codes. They only ever grow; a code never changes meaning. */
export type ErrorCode =
  // XML layer
  | 'ERR_XML_NOT_WELL_FORMED'
  | 'ERR_XML_RESTRICTED'
  | 'ERR_XML_LIMIT'
  | 'ERR_XML_ENCODING'
  | 'ERR_XML_INVALID_CHAR'
  | 'ERR_XML_NAMESPACE'
  // connection and TLS
  | 'ERR_CONNECT'
  | 'ERR_DNS'
  | 'ERR_TLS'
  | 'ERR_TLS_CERT'
  | 'ERR_TLS_PIN'
  | 'ERR_TLS_REQUIRED'
  | 'ERR_PLAINTEXT_REFUSED'
  | 'ERR_SOCKET_CLOSED'
  | 'ERR_TIMEOUT'
  | 'ERR_ABORTED'
  // stream and auth
  | 'ERR_STREAM'
  | 'ERR_AUTH'
  | 'ERR_AUTH_NO_MECHANISM'
  | 'ERR_AUTH_SERVER_SIGNATURE'
  | 'ERR_AUTH_PROTOCOL'
  | 'ERR_BIND'
  | 'ERR_NEGOTIATION'
  // stanzas
  | 'ERR_STANZA'
  | 'ERR_BAD_INPUT'
  | 'ERR_NOT_CONNECTED'
  | 'ERR_UNSUPPORTED'
  // app code
  | 'ERR_HANDLER'
  // stream management and outbox
  | 'ERR_SM_PROTOCOL'
  | 'ERR_OUTBOX_FULL'
  // features: a peer's answer that does not follow its spec (a version without <name/>, ...)
  | 'ERR_BAD_REPLY'
  // account registration (XEP-0077): the username is in use (409 conflict)
  | 'ERR_USERNAME_TAKEN'
  // account registration (XEP-0077): the server does not register accounts in-band (or not for us)
  | 'ERR_REGISTRATION_DISABLED'
  // account registration (XEP-0077): a required field has no value (`fields` names them)
  | 'ERR_REGISTRATION_INCOMPLETE'
  // file transfer (XEP-0363, XEP-0066): bigger than the service or the caller allows; an HTTP
  // request that failed or answered non-2xx; fewer or more bytes than were announced
  | 'ERR_TOO_LARGE'
  | 'ERR_HTTP'
  | 'ERR_SIZE_MISMATCH'
  // group chat (XEP-0045): every nickname tried to join a room was taken (409 conflict)
  | 'ERR_NICK_CONFLICT';

export interface ConfabErrorOptions {
  /** XMPP defined condition, e.g. `not-authorized`, `item-not-found`. */
  condition?: string | undefined;
  /** XMPP error type (stanza errors): cancel, continue, modify, auth, wait. */
  type?: string | undefined;
  /** Human text the server sent along, if any. */
  text?: string | undefined;
  /** The element the error came in. */
  element?: Element | undefined;
  cause?: unknown;
}

/** Base class of every error confab throws or emits. */
export class ConfabError extends Error {
  override name = 'ConfabError';
  readonly code: ErrorCode;
  readonly condition: string | undefined;
  readonly type: string | undefined;
  readonly text: string | undefined;
  readonly element: Element | undefined;

  constructor(code: ErrorCode, message: string, options: ConfabErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.condition = options.condition;
    this.type = options.type;
    this.text = options.text;
    this.element = options.element;
  }
}

/**
 * A problem in the XML the peer sent. `condition` is the stream error to send
 * before closing: `not-well-formed`, `restricted-xml`, `policy-violation` (limits),
 * `unsupported-encoding`, `invalid-namespace` (undeclared prefix).
 */
export class XmlError extends ConfabError {
  override name = 'XmlError';
  /** Byte offset in the stream where the problem was found, when known. */
  readonly offset: number | undefined;
  constructor(
    code: ErrorCode,
    condition: string,
    message: string,
    options: { offset?: number | undefined; cause?: unknown } = {},
  ) {
    super(code, message, { condition, cause: options.cause });
    this.offset = options.offset;
  }
}

/**
 * The peer answered a stanza (usually an iq request) with an error (RFC 6120 8.3).
 * `code` is `ERR_STANZA`; `type` is cancel/continue/modify/auth/wait, `condition`
 * the defined condition (`item-not-found`, ...), `text` the server's text, `element`
 * the whole error stanza.
 */
export class StanzaError extends ConfabError {
  override name = 'StanzaError';
  constructor(message: string, options: ConfabErrorOptions = {}) {
    super('ERR_STANZA', message, options);
  }
}

/**
 * The peer ended the stream with a stream error (RFC 6120 4.9): `code` is
 * `ERR_STREAM`, `condition` e.g. `conflict`, `see-other-host`, `policy-violation`.
 */
export class StreamError extends ConfabError {
  override name = 'StreamError';
  constructor(message: string, options: ConfabErrorOptions = {}) {
    super('ERR_STREAM', message, options);
  }
}
