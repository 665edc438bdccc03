/**
 * The browser platform: WebSocket (RFC 7395) through `globalThis.WebSocket`, nothing else.
 * TCP does not exist in a browser; asking for it fails loudly rather than half-working.
 * TLS is the browser's: certificate options (`ca`, `pin`) cannot apply and are refused.
 */
import { ConfabError } from '../errors.ts';
import type { Transport } from '../transport/types.ts';
import { createWebSocketTransport, type WebSocketFactory } from '../transport/websocket.ts';
import type { Platform, TransportOptions } from './types.ts';

const createWebSocket: WebSocketFactory = (url, protocols) => {
  const Ctor = (globalThis as { WebSocket?: new (url: string, protocols: string[]) => unknown }).WebSocket;
  if (Ctor === undefined) throw new ConfabError('ERR_UNSUPPORTED', 'this environment has no WebSocket');
  return new Ctor(url, protocols) as ReturnType<WebSocketFactory>;
};

export const browserPlatform: Platform = {
  name: 'browser',
  transports: ['websocket'],
  createTransport(options: TransportOptions): Transport {
    if (options.kind !== 'websocket') {
      throw new ConfabError(
        'ERR_UNSUPPORTED',
        'TCP connections are not possible in a browser: give a WebSocket URL (`websocket: "wss://..."`) or let XEP-0156 discovery find one',
      );
    }
    const t = options.tls;
    if (
      t &&
      (t.ca !== undefined || t.caFile !== undefined || t.pin !== undefined || t.insecureSkipVerify_TESTS_ONLY)
    ) {
      throw new ConfabError(
        'ERR_UNSUPPORTED',
        'TLS options (ca, caFile, pin, insecureSkipVerify_TESTS_ONLY) cannot apply in a browser: it verifies certificates itself',
      );
    }
    return createWebSocketTransport(options, { createWebSocket });
  },
};
