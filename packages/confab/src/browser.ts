/**
 * confab for browsers: the same API as the Node entry, on the browser platform
 * (WebSocket only, RFC 7395; without a `websocket` URL the endpoint is found with
 * XEP-0156). Chosen by the package's `browser` export condition.
 *
 * @example
 * import { createClient } from 'confab';
 *
 * const client = createClient({ jid: 'bot@example.org', password, websocket: 'wss://example.org/xmpp-websocket' });
 * client.on('message', (msg) => {
 *   if (msg.body) client.messages.send({ to: msg.from, body: `echo: ${msg.body}`, thread: msg.thread });
 * });
 * await client.connect();
 */
import { type Client, type ClientOptions, createClientOn } from './client.ts';
import { browserPlatform } from './platform/browser.ts';
import { browserFiles } from './platform/browser-http.ts';

export * from './public.ts';

/** Create a client for one account. Nothing happens on the network until `connect()`. */
export function createClient(options: ClientOptions): Client {
  const client = createClientOn(browserPlatform, options);
  // File transfer over fetch / XMLHttpRequest (no local files, no server in a browser).
  if (options.features !== false) client.files.usePlatform(browserFiles);
  return client;
}
