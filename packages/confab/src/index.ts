/**
 * confab for Node: `createClient` on the Node platform (TCP with SRV / STARTTLS /
 * direct TLS, and WebSocket through `ws`), plus the public types.
 *
 * @example
 * import { createClient } from 'confab';
 *
 * const client = createClient({ jid: 'bot@example.org', password: process.env.XMPP_PASSWORD });
 * client.on('message', (msg) => {
 *   if (msg.body) client.messages.send({ to: msg.from, body: `echo: ${msg.body}`, thread: msg.thread });
 * });
 * await client.connect();
 */
import { type Client, type ClientOptions, createClientOn } from './client.ts';
import { nodePlatform } from './platform/node.ts';
import { nodeFiles } from './platform/node-http.ts';

export type { DownloadFileOptions } from './platform/node-http.ts';
export { downloadFile, fileSource, serveFile } from './platform/node-http.ts';
export * from './public.ts';

/** Create a client for one account. Nothing happens on the network until `connect()`. */
export function createClient(options: ClientOptions): Client {
  const client = createClientOn(nodePlatform, options);
  // File transfer's HTTP (and, in Node, files and the one-file server) for this platform.
  if (options.features !== false) client.files.usePlatform(nodeFiles);
  return client;
}
