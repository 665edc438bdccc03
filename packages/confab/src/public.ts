/**
 * The public API shared by both entries (index.ts for Node, browser.ts for browsers):
 * types and values a user of `confab` may name. Listed one by one, so nothing is
 * exported by accident; internals (Connection, Pipeline, negotiate...) stay private.
 */
export type {
  Client,
  ClientEvents,
  ClientOptions,
  DroppedEvent,
  IqInput,
  MessageAckedEvent,
  MessageFailedEvent,
  Messages,
  OfflineEvent,
  OnlineEvent,
  ReconnectingEvent,
  SentMessage,
  Status,
  StreamManagementOptions,
  Timeouts,
  WarningEvent,
} from './client.ts';
export type { ConfabErrorOptions, ErrorCode } from './errors.ts';
export { ConfabError, StanzaError, StreamError, XmlError } from './errors.ts';
export type { SafeNode, SanitizeOptions } from './features/richtext/sanitize.ts';
export { safeToHtml, safeToText, sanitizeXhtml } from './features/richtext/sanitize.ts';
export type { StyledBlock, StyledDocument, StyleRenderer } from './features/richtext/styling.ts';
export { parseStyling, renderStyled, renderStyledWith, toPlainText } from './features/richtext/styling.ts';
export type { XhtmlImBody } from './features/richtext/xhtml.ts';
export { markupToXhtmlIm, parseXhtmlIm, pickXhtmlBody, stylingToXhtmlIm } from './features/richtext/xhtml.ts';
export type { BareJid, FullJid, Jid } from './jid.ts';
export { bare, equalJid, jid } from './jid.ts';
export type { DebugSink } from './session/debug.ts';
export type { IqRequestOptions } from './session/iq.ts';
export type { KeepaliveOptions } from './session/keepalive.ts';
export type { IqHandler, IqRequest } from './session/pipeline.ts';
export type { ReconnectOptions } from './session/reconnect.ts';
export type {
  Message,
  MessageType,
  OutgoingMessage,
  Presence,
  PresenceShow,
  PresenceType,
} from './session/stanzas.ts';
export { MemoryStore } from './store/memory.ts';
export type { Store } from './store/types.ts';
export { TlsCertificateError } from './transport/tls.ts';
export type { TlsOptions } from './transport/types.ts';
export type { Element } from './xml/element.ts';
export { xml } from './xml/element.ts';
