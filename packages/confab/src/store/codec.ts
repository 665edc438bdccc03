/**
 * The default ElementCodec: confab's own serializer and parser. Stored stanzas are
 * written with their namespace as built (an element built without one stays
 * without one, and the parser gives it back the same), so what is re-sent is
 * exactly what was sent.
 */
import { parseXml } from '../xml/parser.ts';
import { serialize } from '../xml/serializer.ts';
import type { ElementCodec } from './types.ts';

export const xmlCodec: ElementCodec = {
  serialize: (el) => serialize(el),
  parse: (text) => parseXml(text),
};
