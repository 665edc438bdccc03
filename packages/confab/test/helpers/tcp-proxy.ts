// A small TCP proxy for integration tests: forwards bytes both ways between clients and one
// upstream server, and can be told to cut every connection (a dead link mid-flow), to refuse
// new ones (the server unreachable for a while), or to stop forwarding one direction silently.

import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

export class TcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  /** New connections are closed at once while true. */
  refusing = false;
  /** Bytes from the client are dropped (not forwarded) while true. */
  blackholeUp = false;
  /** Bytes from the server are dropped (not forwarded) while true. */
  blackholeDown = false;
  /** Connections accepted (and forwarded) so far. */
  accepted = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Listen on a free loopback port, forwarding to `host:port`. */
  static async start(host: string, port: number): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server);
    server.on('connection', (client) => proxy.#accept(client, host, port));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const a = this.#server.address();
    if (a === null || typeof a === 'string') throw new Error('proxy not listening');
    return a.port;
  }

  /** Connections currently open. */
  get open(): number {
    return this.#pairs.size;
  }

  /** Cut every connection now (both sides see a reset-like close). */
  cutAll(): void {
    for (const [a, b] of this.#pairs) {
      a.destroy();
      b.destroy();
    }
    this.#pairs.clear();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket, host: string, port: number): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    this.accepted++;
    const upstream = tcpConnect({ host, port });
    const pair: [Socket, Socket] = [client, upstream];
    this.#pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (d) => {
      if (!this.blackholeUp) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!this.blackholeDown) client.write(d);
    });
    const end = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }
}
