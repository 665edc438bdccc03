// The same library in a real browser (issue 3, "In a browser"): confab's browser build (esbuild,
// esm, minified, from src/browser.ts) loaded in Debian's Chromium through playwright-core, connects
// over WebSocket (RFC 7395) on wss:// to the test-bed Prosody, logs in with SCRAM computed by
// WebCrypto (RFC 5802/7677 through crypto.subtle), sends a message to a Node-side confab client on
// the same server and receives its reply.
//
// Chromium trusts only the test-bed leaf certificate's key (--ignore-certificate-errors-spki-list,
// see test/browser/page.ts); a second test shows a certificate with another key is still refused.
// Chromium is installed with apt-get when missing (scripts/install-browser.ts), ~30 s once.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureChromium } from '../../../../scripts/install-browser.ts';
import { caOf, freshAccount, prosody } from '../../../../testbed/harness.ts';
import type { Client } from '../../src/client.ts';
import { createClient } from '../../src/index.ts';
import type { Message } from '../../src/session/stanzas.ts';
import {
  type Browser,
  buildBrowserBundle,
  launch,
  type PageServer,
  servePage,
  spkiOfPem,
} from '../browser/page.ts';
import type { PageOutcome, PageParams } from '../browser/runner.ts';

describe('confab in Chromium', () => {
  let dir: string;
  let server: PageServer | undefined;
  let browser: Browser | undefined;
  let leafSpki: string;

  before(async () => {
    // The runner's install step normally did this; on a fresh machine it runs apt-get here (~30 s).
    const executable = ensureChromium((s) => process.stderr.write(`browser test: ${s}\n`));
    dir = await mkdtemp(join(tmpdir(), 'confab-browser-'));
    const bytes = await buildBrowserBundle(dir);
    assert.ok(bytes > 1000, `the browser bundle is suspiciously small (${bytes} bytes)`);
    server = await servePage(dir);
    leafSpki = spkiOfPem(await readFile(prosody().certFile, 'utf8'));
    browser = await launch(executable, server.url, [leafSpki]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = async (p: PageParams): Promise<PageOutcome> => {
    assert.ok(browser, 'the browser did not start');
    try {
      // A string expression: a function would be serialised with tsx's `__name` helpers in it.
      return (await browser.page.evaluate(`globalThis.confabRun(${JSON.stringify(p)})`)) as PageOutcome;
    } catch (err) {
      throw new Error(`${(err as Error).message}\npage log:\n  ${browser.log.join('\n  ')}`);
    }
  };

  test('logs in over wss:// with SCRAM on WebCrypto and exchanges messages with a Node client', async () => {
    const srv = prosody();
    assert.ok(srv.wssUrl, 'the full Prosody profile serves WebSocket over HTTPS');
    const [webAccount, nodeAccount] = await Promise.all([
      freshAccount(srv, 'web'),
      freshAccount(srv, 'node'),
    ]);

    // The Node side: a confab client over STARTTLS that answers each message with `echo: <body>`.
    const nodeClient: Client = createClient({
      jid: nodeAccount.jid,
      password: nodeAccount.password,
      host: srv.host,
      port: srv.ports.c2s,
      tls: { ca: caOf(srv) },
      reconnect: false,
      resource: 'node',
    });
    const received: Message[] = [];
    nodeClient.on('message', (m) => {
      if (m.body === undefined) return;
      received.push(m);
      void nodeClient.messages.send({ to: m.from, body: `echo: ${m.body}` });
    });
    await nodeClient.connect();
    try {
      const body = `hello from Chromium ${Math.random().toString(36).slice(2)}`;
      const out = await run({
        jid: webAccount.jid,
        password: webAccount.password,
        websocket: srv.wssUrl,
        to: nodeAccount.jid,
        body,
        timeoutMs: 10_000,
      });
      assert.equal(out.ok, true, `the page could not log in: ${JSON.stringify(out.error)}`);
      assert.match(out.userAgent, /Chrom/, 'this ran in Chromium');
      assert.equal(out.secureContext, true, 'the page is a secure context (WebCrypto available)');
      assert.equal(out.boundJid, `${webAccount.jid}/chromium`);
      assert.match(out.mechanism ?? '', /^SCRAM-SHA-(1|256)$/, `logged in with ${out.mechanism}`);
      assert.ok(out.pbkdf2Calls >= 1, 'SCRAM derived its key with crypto.subtle (PBKDF2)');

      assert.equal(received.length, 1, 'the Node client got exactly one message');
      assert.equal(received[0]?.body, body);
      assert.equal(received[0]?.from, `${webAccount.jid}/chromium`);
      assert.deepEqual(out.reply, { from: `${nodeAccount.jid}/node`, body: `echo: ${body}` });
    } finally {
      await nodeClient.disconnect();
    }
  });

  test('a certificate with another key is still refused (only the test-bed key is trusted)', async () => {
    const srv = prosody();
    const [certPem, keyPem] = await Promise.all([
      readFile(srv.selfSignedCertFile, 'utf8'),
      readFile(srv.selfSignedKeyFile, 'utf8'),
    ]);
    assert.notEqual(spkiOfPem(certPem), leafSpki, 'the self-signed certificate has its own key');
    // An HTTPS server with the self-signed `localhost` certificate: if Chromium accepted it, the
    // WebSocket upgrade would arrive here.
    let upgrades = 0;
    let handshakes = 0;
    const https = createHttpsServer({ cert: certPem, key: keyPem });
    https.on('secureConnection', () => handshakes++);
    https.on('upgrade', (_req, socket) => {
      upgrades++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    const { port } = https.address() as AddressInfo;
    try {
      const account = await freshAccount(srv, 'web');
      const out = await run({
        jid: account.jid,
        password: account.password,
        websocket: `wss://localhost:${port}/xmpp-websocket`,
        timeoutMs: 10_000,
      });
      assert.equal(out.ok, false, 'connecting to a server with an untrusted certificate must fail');
      assert.equal(out.error?.name, 'ConfabError', JSON.stringify(out.error));
      assert.equal(out.error?.code, 'ERR_CONNECT', JSON.stringify(out.error));
      assert.equal(upgrades, 0, 'no WebSocket upgrade reached the untrusted server');
      assert.equal(handshakes, 0, 'Chromium aborted the TLS handshake');
    } finally {
      https.closeAllConnections();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    }
  });
});
