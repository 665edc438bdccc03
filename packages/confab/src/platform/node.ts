/**
 * The Node platform: TCP (STARTTLS, direct TLS, SRV) and WebSocket through the `ws` package
 * (Node 20 has no global WebSocket). TLS options apply to both: extra CAs added to the system
 * store, SPKI pins, the tests-only escape hatch.
 */
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { ConfabError } from '../errors.ts';
import { createTcpTransport, secureContextFor, verifyPeer } from '../transport/tcp.ts';
import { TlsCertificateError } from '../transport/tls.ts';
import type { TlsOptions, Transport } from '../transport/types.ts';
import { createWebSocketTransport, type WebSocketFactory } from '../transport/websocket.ts';
import { DEFAULT_LIMITS } from '../xml/parser.ts';
import type { Platform, TransportOptions } from './types.ts';

const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
]);

function caList(options: TlsOptions | undefined): string[] {
  const list = (v: string | readonly string[] | undefined) =>
    v === undefined ? [] : typeof v === 'string' ? [v] : [...v];
  const files = list(options?.caFile).map((f) => {
    try {
      return readFileSync(f, 'utf8');
    } catch (err) {
      throw new ConfabError('ERR_BAD_INPUT', `cannot read CA file ${f}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  });
  return [...list(options?.ca), ...files];
}

/** `ws` with the account's TLS policy; the hostname checked is the URL's (web rules, RFC 7395 section 6). */
function wsFactory(
  tlsOptions: TlsOptions | undefined,
  maxPayload: number,
  log?: (m: string) => void,
): WebSocketFactory {
  const context = secureContextFor(caList(tlsOptions), tlsOptions?.maxVersion);
  // With a pin (or the escape hatch) the decision is ours, made on 'upgrade' before 'open'.
  // Otherwise ws/https verify and refuse on their own (nothing is sent to an unverified peer).
  const decideOurselves = tlsOptions?.pin !== undefined || tlsOptions?.insecureSkipVerify_TESTS_ONLY === true;
  return (url, protocols) => {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    // ws hands the options on to tls.connect, secureContext included.
    const wsOptions = {
      maxPayload,
      secureContext: context,
      rejectUnauthorized: !decideOurselves,
      ...(tlsOptions?.maxVersion === undefined ? {} : { maxVersion: tlsOptions.maxVersion }),
    };
    const ws = new WebSocket(
      url,
      protocols,
      wsOptions as WebSocket.ClientOptions,
    ) as unknown as ReturnType<WebSocketFactory> & WebSocket;
    ws.on('upgrade', (res) => {
      const socket = res.socket as TLSSocket;
      if (typeof socket.getPeerCertificate !== 'function') return; // ws://
      try {
        ws.confabTls = verifyPeer(socket, host, tlsOptions, log);
      } catch (err) {
        ws.confabError = err as Error;
        ws.terminate();
      }
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (ws.confabError === undefined && err.code !== undefined && CERT_CODES.has(err.code)) {
        ws.confabError = new TlsCertificateError('ERR_TLS_CERT', {
          tlsCode: err.code,
          domain: host,
          cause: err,
        });
      }
    });
    return ws;
  };
}

export const nodePlatform: Platform = {
  name: 'node',
  transports: ['tcp', 'websocket'],
  createTransport(options: TransportOptions): Transport {
    if (options.kind === 'tcp') return createTcpTransport(options);
    if (options.kind === 'websocket') {
      // Frames above the stanza limit are refused by ws itself (close 1009) before we buffer them.
      const maxPayload = Math.max(
        options.limits?.maxStanzaBytes ?? DEFAULT_LIMITS.maxStanzaBytes,
        options.maxStanzaLimit ?? 0,
      );
      const log = options.handlers.log?.bind(options.handlers);
      return createWebSocketTransport(options, { createWebSocket: wsFactory(options.tls, maxPayload, log) });
    }
    throw new ConfabError(
      'ERR_UNSUPPORTED',
      `unknown transport kind ${JSON.stringify((options as { kind: unknown }).kind)}`,
    );
  },
};
