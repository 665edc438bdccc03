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
export type {
  AutojoinEvent,
  Bookmark,
  BookmarkInput,
  BookmarkStorage,
  Bookmarks,
  BookmarksEvents,
  BookmarksOptions,
} from './features/bookmarks/bookmarks.ts';
export type { OobOfferData, Slot } from './features/files/codec.ts';
export type {
  Files,
  FilesEvents,
  OfferFileOptions,
  OfferFileResult,
  OfferOptions,
  OobOffer,
  SavedDownload,
  SaveOptions,
  ShareOptions,
  UploadOptions,
  UploadResult,
  UploadService,
} from './features/files/files.ts';
export type {
  ByteSink,
  ByteSource,
  CreatedFile,
  FilesPlatform,
  HttpGetRequest,
  HttpPutRequest,
  HttpResponse,
  Progress,
  ServedFile,
  ServeOptions,
} from './features/files/http.ts';
export { bytesSource } from './features/files/http.ts';
export { fileNameFromUrl, numberedName, safeFileName } from './features/files/names.ts';
export type { DownloadOptions, DownloadResult } from './features/files/transfer.ts';
export type {
  DataForm,
  FieldType as FormFieldType,
  FormField,
  FormOption,
  FormType,
  FormValue,
  FormValues,
  SubmitOptions,
} from './features/forms/forms.ts';
export {
  buildForm,
  buildSubmit,
  cancelForm,
  fieldValue,
  findForm,
  formValues,
  parseForm,
} from './features/forms/forms.ts';
export type { HistoryRoom, RoomHistory, RoomHistoryOptions } from './features/mam/room.ts';
export { renderMe } from './features/muc/codec.ts';
export type { MucContext, MucEvents } from './features/muc/muc.ts';
export { Muc } from './features/muc/muc.ts';
export { Room } from './features/muc/room.ts';
export type {
  Affiliation,
  AffiliationEvent,
  AffiliationItem,
  ExitReason,
  GroupCorrection,
  GroupMessage,
  GroupMessageInput,
  GroupRetraction,
  HistoryOptions,
  JoinOptions,
  LeaveEvent,
  LeaveReason,
  MucDecline,
  MucInvite,
  MucOptions,
  NickEvent,
  Occupant,
  OccupantEvent,
  PresenceChangeEvent,
  PrivateMessage,
  Role,
  RoleEvent,
  RoomErrorEvent,
  RoomEvents,
  RoomExit,
  RoomInfo,
  RoomListing,
  RoomNotice,
  RoomState,
  SubjectEvent,
} from './features/muc/types.ts';
export type {
  AccountRegistration,
  FieldType,
  FieldValue,
  LegacyField,
  RegisterOptions,
  Registration,
  RegistrationField,
  RegistrationForm,
  RegistrationValues,
} from './features/register/register.ts';
export { RegistrationError } from './features/register/register.ts';
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
export { type EncodedOp, encodeOps } from './store/encode.ts';
export { MemoryStore } from './store/memory.ts';
export type { Store } from './store/types.ts';
export { TlsCertificateError } from './transport/tls.ts';
export type { TlsOptions } from './transport/types.ts';
export type { Element } from './xml/element.ts';
export { xml } from './xml/element.ts';
