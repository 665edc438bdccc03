/**
 * The platform seam (DESIGN principle 8): everything that differs between Node and browsers
 * sits behind this one interface. The core never imports `node:*`; the package's entry points
 * pick an implementation by export condition (index.ts -> `nodePlatform`, browser.ts ->
 * `browserPlatform`), and tests can pass their own.
 */
import type {
  TcpTransportOptions,
  TlsOptions,
  Transport,
  TransportKind,
  WebSocketTransportOptions,
} from '../transport/types.ts';

export type { TcpTransportOptions, TlsOptions, WebSocketTransportOptions };

/**
 * How to reach the server: `{ kind: 'tcp', ... }` (Node: SRV / XEP-0368, STARTTLS or direct
 * TLS) or `{ kind: 'websocket', url }` (RFC 7395, everywhere).
 */
export type TransportOptions = TcpTransportOptions | WebSocketTransportOptions;

export interface Platform {
  /** For logs and error messages. */
  readonly name: 'node' | 'browser' | (string & {});
  /** Transport kinds `createTransport` can make here (the browser: only 'websocket'). */
  readonly transports: readonly TransportKind[];
  /**
   * Make a transport (not yet connected). Throws ConfabError ERR_UNSUPPORTED for a kind the
   * platform does not have, ERR_BAD_INPUT for unusable options (e.g. a malformed URL).
   */
  createTransport(options: TransportOptions): Transport;
}
