/**
 * Stanza errors (RFC 6120 section 8.3): parse the `<error/>` child of an error
 * stanza into a StanzaError, and build error replies to requests we cannot serve.
 */
import { StanzaError } from '../errors.ts';
import { type Element, xml } from '../xml/element.ts';
import { NS_STANZA_ERRORS } from './ns.ts';

/** The five error types (RFC 6120 8.3.2). */
export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** Default type for each condition we send (RFC 6120 8.3.3 examples). */
const DEFAULT_TYPE: Record<string, StanzaErrorType> = {
  'bad-request': 'modify',
  'feature-not-implemented': 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'service-unavailable': 'cancel',
  forbidden: 'auth',
};

/** Parse an error stanza (`type='error'`) into a StanzaError (code ERR_STANZA). */
export function parseStanzaError(stanza: Element): StanzaError {
  const error = stanza.getChild('error');
  let condition = 'undefined-condition';
  let text: string | undefined;
  const type = error?.attr('type');
  if (error) {
    for (const child of error.elements()) {
      if (child.xmlns !== NS_STANZA_ERRORS) continue;
      if (child.name === 'text') text = child.text();
      else condition = child.name;
    }
  }
  const from = stanza.attr('from');
  const message = `${stanza.name} error${from ? ` from ${from}` : ''}: ${condition}${text ? ` (${text})` : ''}`;
  return new StanzaError(message, { condition, type, text, element: stanza });
}

/** The `<error/>` child for a reply. */
export function errorChild(condition: string, type?: StanzaErrorType, text?: string): Element {
  return xml(
    'error',
    { type: type ?? DEFAULT_TYPE[condition] ?? 'cancel' },
    xml(condition, { xmlns: NS_STANZA_ERRORS }),
    text ? xml('text', { xmlns: NS_STANZA_ERRORS }, text) : null,
  );
}

/**
 * An iq error reply to `request` (RFC 6120 8.3.1: same id, addressed back to the
 * sender; the original payload may be omitted, and we omit it so a large request
 * is not echoed back).
 */
export function iqErrorReply(
  request: Element,
  condition: string,
  type?: StanzaErrorType,
  text?: string,
): Element {
  return xml(
    'iq',
    { type: 'error', id: request.attr('id'), to: request.attr('from') },
    errorChild(condition, type, text),
  );
}
