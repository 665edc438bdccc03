// Free loopback ports for test-bed servers: bind port 0, read the port the kernel chose, release it.
// Another process may grab the port between release and the server's bind; callers retry the
// whole server start on a bind failure (see startWithRetry in process.ts).

import { createServer } from 'node:net';

/** Returns a TCP port that was free on `host` a moment ago. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('no port from the kernel'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

/** Returns `n` distinct free ports (held together while choosing, so they differ). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const srv = createServer();
          srv.unref();
          srv.on('error', reject);
          srv.listen({ port: 0, host, exclusive: true }, () => resolve(srv));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const addr = s.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port from the kernel');
    return addr.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}
