/**
 * The XML layer's public API: element model and builder, serializer and escaping, streaming parser.
 * Specs: XML 1.0 (Fifth Edition), Namespaces in XML 1.0 (Third Edition), RFC 6120 section 11,
 * RFC 7395 (WebSocket framing).
 */
export { type Attrs, type Child, type ChildInput, Element, xml } from './element.ts';
export {
  DEFAULT_LIMITS,
  type ParserLimits,
  parseXml,
  type StanzaOpen,
  StreamParser,
  type StreamParserHandlers,
  type StreamParserOptions,
} from './parser.ts';
export { escapeAttr, escapeText, NS_STREAMS, STREAM_CLOSE, serialize, streamOpen } from './serializer.ts';
