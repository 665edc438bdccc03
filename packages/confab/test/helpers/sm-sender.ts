// A sender process for the kill -9 integration test (test/integration/sm.test.ts). It speaks a
// line protocol on stdout/stdin so the test can kill it at a known point:
//   mode 'queue'   : no connection; queue the bodies (each in the FileStore before send()
//                    resolves), print `queued`, then wait to be killed.
//   mode 'inflight': connect, print `online`, wait for `go` on stdin, send the bodies, print
//                    `sent` once all are written to the socket, then wait to be killed.
//   mode 'deliver' : connect (resuming whatever the store holds), wait until the outbox is
//                    empty (every message confirmed), send `marker` and await its confirmation,
//                    print `done`, disconnect, exit 0.
// Config: one JSON argument (see Config).

import { createInterface } from 'node:readline';
import { createClient } from '../../src/index.ts';
import { FileStore } from './file-store.ts';

interface Config {
  mode: 'queue' | 'inflight' | 'deliver';
  jid: string;
  password: string;
  host: string;
  port: number;
  ca: string;
  storeFile: string;
  to: string;
  bodies: string[];
  marker?: string;
}

const c = JSON.parse(process.argv[2] ?? '{}') as Config;
const say = (line: string) => process.stdout.write(`${line}\n`);
const client = createClient({
  jid: c.jid,
  password: c.password,
  resource: 'sender',
  host: c.host,
  port: c.port,
  tls: { ca: c.ca },
  store: new FileStore(c.storeFile),
  reconnect: false,
  streamManagement: { ackDelay: 50 },
});
client.on('error', (e) => process.stderr.write(`client error: ${e.code} ${e.message}\n`));
const forever = () => setInterval(() => {}, 1 << 30);

if (c.mode === 'queue') {
  for (const body of c.bodies) await client.messages.send({ to: c.to, body });
  say('queued');
  forever();
} else if (c.mode === 'inflight') {
  await client.connect();
  say('online');
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line.trim() !== 'go') continue;
    const sent = [];
    for (const body of c.bodies) sent.push(await client.messages.send({ to: c.to, body }));
    if (!sent.every((m) => m.status === 'sent')) throw new Error('not all written');
    say('sent');
    break;
  }
  forever();
} else {
  client.on('online', (e) => say(`online resumed=${e.resumed}`));
  await client.connect();
  await Promise.all(client.messages.pending().map((m) => m.confirmed));
  const m = await client.messages.send({ to: c.to, body: c.marker ?? 'marker' });
  await m.confirmed;
  say('done');
  await client.disconnect();
  process.exit(0);
}
