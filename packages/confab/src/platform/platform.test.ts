// The platform seam: what each platform can make, and that core code never reaches node:*.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TransportHandlers } from '../transport/types.ts';
import { browserPlatform } from './browser.ts';
import { nodePlatform } from './node.ts';

const handlers: TransportHandlers = { streamStart() {}, element() {}, streamEnd() {}, closed() {} };
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..');

test('browser platform: TCP is refused with a clear ERR_UNSUPPORTED', () => {
  assert.deepEqual(browserPlatform.transports, ['websocket']);
  assert.throws(
    () => browserPlatform.createTransport({ kind: 'tcp', domain: 'example.org', handlers }),
    (e: Error & { code?: string }) => e.code === 'ERR_UNSUPPORTED' && /WebSocket/.test(e.message),
  );
  assert.throws(
    () =>
      browserPlatform.createTransport({
        kind: 'websocket',
        url: 'wss://example.org/ws',
        domain: 'example.org',
        handlers,
        tls: { pin: 'x' },
      }),
    { code: 'ERR_UNSUPPORTED' },
  );
});

test('browser platform: WebSocket comes from globalThis.WebSocket, with the xmpp subprotocol', async () => {
  const g = globalThis as { WebSocket?: unknown };
  const saved = g.WebSocket;
  const made: Array<{ url: string; protocols: string[] }> = [];
  g.WebSocket = class {
    readyState = 0;
    protocol = '';
    bufferedAmount = 0;
    binaryType = 'blob';
    onopen = null;
    onmessage = null;
    onclose: ((ev: { code: number; reason: string }) => void) | null = null;
    onerror = null;
    constructor(url: string, protocols: string[]) {
      made.push({ url, protocols });
    }
    send() {}
    close() {
      this.onclose?.({ code: 1000, reason: '' });
    }
  };
  try {
    const t = browserPlatform.createTransport({
      kind: 'websocket',
      url: 'wss://example.org/ws',
      domain: 'example.org',
      handlers,
    });
    assert.equal(t.kind, 'websocket');
    assert.equal(t.secure, true);
    const p = t.connect();
    t.destroy();
    await assert.rejects(p, { code: 'ERR_CONNECT' }); // closed before opening
    assert.deepEqual(made, [{ url: 'wss://example.org/ws', protocols: ['xmpp'] }]);
  } finally {
    g.WebSocket = saved;
  }
});

test('node platform makes both kinds', () => {
  assert.deepEqual(nodePlatform.transports, ['tcp', 'websocket']);
  assert.equal(nodePlatform.createTransport({ kind: 'tcp', domain: 'example.org', handlers }).kind, 'tcp');
  const ws = nodePlatform.createTransport({
    kind: 'websocket',
    url: 'ws://127.0.0.1:1/',
    domain: 'x',
    handlers,
  });
  assert.equal(ws.kind, 'websocket');
  assert.equal(ws.secure, false);
});

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(p)));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const NODE_ALLOWED = new Set(['platform/node.ts', 'platform/node-http.ts', 'transport/tcp.ts']);

test('node:* is imported only by platform/node.ts, platform/node-http.ts and transport/tcp.ts', async () => {
  const offenders: string[] = [];
  for (const f of await sourceFiles(SRC)) {
    const rel = relative(SRC, f);
    if (NODE_ALLOWED.has(rel)) continue;
    const text = await readFile(f, 'utf8');
    if (/\bfrom\s+['"](node:|ws['"])/.test(text) || /\bimport\(\s*['"]node:/.test(text)) offenders.push(rel);
  }
  assert.deepEqual(offenders, []);
});

test('the browser platform does not reach tcp.ts, node.ts or ws through its imports', async () => {
  const seen = new Set<string>();
  const visit = async (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (/^\s*(?:import|export)\s+type\s/.test(m[0])) continue; // erased at compile time
      if (!spec.startsWith('.')) {
        assert.fail(`${relative(SRC, file)} imports the package ${spec}`);
      }
      await visit(resolve(dirname(file), spec));
    }
  };
  await visit(join(SRC, 'platform/browser.ts'));
  const reached = [...seen].map((f) => relative(SRC, f));
  assert.ok(!reached.includes('transport/tcp.ts'), reached.join(', '));
  assert.ok(!reached.includes('platform/node.ts'));
  assert.ok(reached.includes('transport/websocket.ts'));
});
