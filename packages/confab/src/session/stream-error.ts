/**
 * Stream errors (RFC 6120 section 4.9, "Stream Errors"), both ways:
 * - parse the peer's `<stream:error>` into a typed StreamError (condition, text);
 * - build ours, sent before we close on a fatal local error (RFC 6120 4.9.1.1: the
 *   entity that detects the error sends the stream error, then closes the stream).
 *
 * Also the one policy question a stream error raises: `see-other-host` (4.9.3.19).
 * The client follows a redirect only on a TLS-verified stream and only to a host the
 * server's certificate also covers (`Transport.certificateCovers`, RFC 6125 rules:
 * the domain itself, or e.g. `xmpp1.example.org` under a `*.example.org` name). TLS
 * is always verified for the JID's domain (RFC 7590) whatever host we connect to,
 * so a redirect can never lower the identity we check; requiring the certificate
 * to cover the target too keeps a stream error from steering the connection to an
 * arbitrary machine (e.g. one inside the user's network). A redirect sent before
 * TLS is unauthenticated and is refused, as are IP literals the certificate does
 * not name. Parsing lives here; the decision in client.ts (it needs the transport).
 */
import { StreamError } from '../errors.ts';
import { type Element, xml } from '../xml/element.ts';
import { NS_STREAM, NS_STREAM_ERRORS } from './ns.ts';

/** The defined stream error conditions (RFC 6120 4.9.3). */
export type StreamErrorCondition =
  | 'bad-format'
  | 'bad-namespace-prefix'
  | 'conflict'
  | 'connection-timeout'
  | 'host-gone'
  | 'host-unknown'
  | 'improper-addressing'
  | 'internal-server-error'
  | 'invalid-from'
  | 'invalid-namespace'
  | 'invalid-xml'
  | 'not-authorized'
  | 'not-well-formed'
  | 'policy-violation'
  | 'remote-connection-failed'
  | 'reset'
  | 'resource-constraint'
  | 'restricted-xml'
  | 'see-other-host'
  | 'system-shutdown'
  | 'undefined-condition'
  | 'unsupported-encoding'
  | 'unsupported-feature'
  | 'unsupported-stanza-type'
  | 'unsupported-version';

/** True for `<stream:error>`. */
export function isStreamError(el: Element): boolean {
  return el.is('error', NS_STREAM);
}

/** Turn the peer's `<stream:error>` into a StreamError (code ERR_STREAM). */
export function parseStreamError(el: Element): StreamError {
  let condition = 'undefined-condition';
  let text: string | undefined;
  for (const child of el.elements()) {
    if (child.xmlns !== NS_STREAM_ERRORS) continue;
    if (child.name === 'text') text = child.text();
    else condition = child.name;
  }
  const message = `Server ended the stream: ${condition}${text ? ` (${text})` : ''}`;
  return new StreamError(message, { condition, text, element: el });
}

/** Build our `<stream:error>` with a condition and optional text. */
export function streamErrorElement(condition: StreamErrorCondition | string, text?: string): Element {
  return xml(
    'error',
    { xmlns: NS_STREAM },
    xml(condition, { xmlns: NS_STREAM_ERRORS }),
    text ? xml('text', { xmlns: NS_STREAM_ERRORS }, text) : null,
  );
}

/** Where a `see-other-host` error points: host and optional port. */
export interface OtherHost {
  host: string;
  port: number | undefined;
}

/**
 * Parse the `see-other-host` text: `host`, `host:port`, `[v6]` or `[v6]:port`
 * (RFC 6120 4.9.3.19). Returns undefined for anything else.
 */
export function parseSeeOtherHost(err: StreamError): OtherHost | undefined {
  if (err.condition !== 'see-other-host' || !err.element) return undefined;
  const raw = err.element.getChild('see-other-host', NS_STREAM_ERRORS)?.text().trim() ?? '';
  if (raw === '') return undefined;
  let host: string;
  let portText: string | undefined;
  if (raw.startsWith('[')) {
    const end = raw.indexOf(']');
    if (end < 0) return undefined;
    host = raw.slice(1, end);
    const rest = raw.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = raw.lastIndexOf(':');
    if (colon >= 0 && raw.indexOf(':') !== colon) return undefined; // bare IPv6 without brackets
    host = colon >= 0 ? raw.slice(0, colon) : raw;
    portText = colon >= 0 ? raw.slice(colon + 1) : undefined;
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return undefined;
    port = Number(portText);
    if (port < 1 || port > 65535) return undefined;
  }
  if (host === '') return undefined;
  return { host: host.toLowerCase(), port };
}

/**
 * Conditions after which reconnecting is pointless or harmful: another client
 * took our resource (`conflict`: reconnecting would kick it off in turn, forever),
 * the server does not serve this domain, or it told us we broke its policy or are
 * not authorized. Also an unfollowed redirect.
 */
export const FINAL_STREAM_CONDITIONS: ReadonlySet<string> = new Set([
  'conflict',
  'host-gone',
  'host-unknown',
  'improper-addressing',
  'invalid-namespace',
  'not-authorized',
  'policy-violation',
  'see-other-host',
  'unsupported-version',
]);
