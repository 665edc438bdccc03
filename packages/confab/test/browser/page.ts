// Machinery for running confab's browser build in a real Chromium (packages/confab/test/integration/
// browser.test.ts): the bundle (esbuild, the way an app's bundler would build the `browser` entry),
// a tiny loopback HTTP server for the test page, and a Chromium launched with playwright-core that
// trusts exactly one extra TLS key (the test-bed leaf certificate's SPKI), nothing else.
//
// Why SPKI and not --ignore-certificate-errors: the test-bed certificate is signed by a private CA
// the browser does not know. Switching verification off would also hide a bug where the library
// (or the test) talks to the wrong server; `--ignore-certificate-errors-spki-list` trusts only the
// listed key, so the test still proves that a certificate with any other key is refused.

import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { spkiSha256 } from '../../src/transport/tcp.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The library's browser entry (what the package's `browser` export condition points at, from source). */
export const BROWSER_ENTRY = join(HERE, '..', '..', 'src', 'browser.ts');

/** Chromium flags from shared/TOOLCHAIN.md (headless, no sandbox as root, nothing phoning home). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** base64 SHA-256 of a PEM certificate's SubjectPublicKeyInfo: the form Chromium's SPKI list takes. */
export function spkiOfPem(pem: string): string {
  return spkiSha256(new X509Certificate(pem).raw);
}

/** The page side of the test (globalThis.confabRun), bundled on its own; it loads confab.js at run time. */
const RUNNER_ENTRY = join(HERE, 'runner.ts');

/**
 * Bundles the browser entry (esm, platform browser, minified) into `dir/confab.js`, and the test's
 * page script into `dir/runner.js`. Returns the library bundle's size in bytes.
 */
export async function buildBrowserBundle(dir: string): Promise<number> {
  await build({
    entryPoints: [RUNNER_ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: join(dir, 'runner.js'),
    logLevel: 'silent',
  });
  const result = await build({
    entryPoints: [BROWSER_ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    outfile: join(dir, 'confab.js'),
    logLevel: 'silent',
    metafile: true,
  });
  const out = Object.values(result.metafile.outputs)[0];
  return out?.bytes ?? 0;
}

/** The test page: runner.js loads confab.js, then sets `globalThis.confabRun` and `confabReady`. */
const INDEX_HTML = `<!doctype html>
<meta charset="utf-8">
<title>confab browser test</title>
<link rel="icon" href="data:,">
<script type="module" src="./runner.js"></script>
`;

export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the page, `confab.js` and `runner.js` from `dir` on 127.0.0.1 (a secure context, so
 * WebCrypto is there, as on an https:// site).
 */
export async function servePage(dir: string): Promise<PageServer> {
  const scripts = new Map<string, Buffer>();
  for (const name of ['confab.js', 'runner.js']) scripts.set(`/${name}`, await readFile(join(dir, name)));
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const script = scripts.get(path);
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(INDEX_HTML);
    } else if (script !== undefined) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console lines and page errors, for failure messages. */
  log: string[];
  close(): Promise<void>;
}

/**
 * Launches Chromium with a fresh profile (the SPKI flag only takes effect with a user data dir),
 * trusting the keys in `trustSpki` in addition to the system store, and opens `url`, waiting until
 * the bundle has loaded.
 */
export async function launch(executablePath: string, url: string, trustSpki: string[]): Promise<Browser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'confab-chromium-'));
  const args = [...CHROMIUM_ARGS];
  if (trustSpki.length > 0) args.push(`--ignore-certificate-errors-spki-list=${trustSpki.join(',')}`);
  // launchPersistentContext: playwright refuses --user-data-dir in args; this is the same thing.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args,
    timeout: 60_000,
  });
  const log: string[] = [];
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as { confabReady?: boolean }).confabReady === true, null, {
    timeout: 30_000,
  });
  return {
    context,
    page,
    log,
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
