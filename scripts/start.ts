// `npm start`: brings up the local test-bed Prosody (installing it with apt-get when missing), makes
// two demo accounts, prints how to reach it and keeps it running until Ctrl-C, then stops it.
// (The session issue turns this into a live demo, the terminal-client issue into the real client.)

import { ensurePackages } from '../testbed/install.ts';
import { startProsody } from '../testbed/prosody.ts';

async function main(): Promise<void> {
  ensurePackages(['prosody', 'openssl']);
  const server = await startProsody({ name: 'prosody-demo' });
  const [alice, bob] = await Promise.all([server.freshAccount('alice'), server.freshAccount('bob')]);
  const p = server.ports;
  console.log(`confab test-bed Prosody is running (started in ${server.startupMs} ms)

  domain          ${server.domain} (connect to ${server.host}; the certificate covers localhost, *.localhost, 127.0.0.1)
  c2s STARTTLS    ${server.host}:${p.c2s}
  c2s direct TLS  ${server.host}:${p.c2sTls}
  WebSocket       ${server.wsUrl}  |  ${server.wssUrl}
  BOSH            ${server.boshUrl}
  MUC             ${server.muc}   upload ${server.upload}   SOCKS5 proxy ${server.proxy65} (port ${p.proxy65})
  CA certificate  ${server.caFile}
  log             ${server.logFile}

  accounts        ${alice!.jid}  password ${alice!.password}
                  ${bob!.jid}  password ${bob!.password}
                  (or register your own: in-band registration is open)

  try it          openssl s_client -connect ${server.host}:${p.c2sTls} -CAfile ${server.caFile} -servername localhost

Press Ctrl-C to stop.`);

  await new Promise<void>((resolve) => {
    // The server process is unref'd and signal listeners do not keep node alive: a timer does.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const stop = () => {
      clearInterval(keepAlive);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.log('\nstopping Prosody');
  await server.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`npm start: ${(err as Error).message ?? err}`);
    process.exit(1);
  },
);
