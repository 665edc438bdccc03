/**
 * Browser bundle size, min+gzip (issue 3, "In a browser"). Goals: confab's core (connect, SCRAM,
 * messaging) at most 16 KB; everything at most 50 KB. 1 KB = 1000 bytes, as the issue's figures for
 * the peers (@xmpp/client 16.0 KB, strophe.js 19.2 KB, stanza 106.5 KB).
 *
 * Every bundle is built the same way, the way an app's bundler builds it: esbuild, bundle, format
 * esm, platform browser (so `browser` fields and export conditions apply), target es2022, minify,
 * legal comments dropped; then zlib gzip at level 9. Entries are small programs, given to esbuild as
 * stdin so tree shaking keeps what they use:
 * - core: create a client, listen for messages, connect (SCRAM where the library has it), send one
 *   message: what a chat widget needs;
 * - everything: `export *` of the library's browser entry (all public exports kept).
 *
 * Node built-ins a peer still imports in its browser build (@xmpp/resolve imports `node:dns` from a
 * file its `browser` field means to drop, by a path the field does not match) resolve to an empty
 * module, as the field intends; each is listed in the row's flags. confab's bundles must need none.
 *
 * The "vs floor" column is the bundle's size over the goal's budget (16 KB for core, 50 KB for
 * everything): at most 1.00x meets the goal. Peers are shown against the same budget. When confab
 * misses a goal, the notes list the modules that dominate its bundle (esbuild metafile, minified
 * bytes each module contributes).
 */

import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile, type Plugin, transform } from 'esbuild';
import type { Row, Suite, SuiteContext, Table } from './harness.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CONFAB_BROWSER = join(ROOT, 'packages', 'confab', 'src', 'browser.ts');
const KB = 1000;
const BUDGET_CORE = 16 * KB;
const BUDGET_ALL = 50 * KB;
/** The issue's measurements of the peers, KB min+gzip, printed beside ours. */
const ISSUE_FIGURES: Record<string, number> = { '@xmpp/client': 16.0, 'strophe.js': 19.2, stanza: 106.5 };
const TOP_MODULES = 12;

interface Entry {
  /** Library name (row name prefix). */
  lib: string;
  kind: 'core' | 'everything';
  source: string;
  note?: string;
}

const ENTRIES: Entry[] = [
  {
    lib: 'confab',
    kind: 'core',
    source: `import { createClient } from ${JSON.stringify(CONFAB_BROWSER)};
export function chat(options, to, body, onMessage) {
  const client = createClient(options);
  client.on('message', onMessage);
  return client.connect().then(() => client.messages.send({ to, body }));
}`,
  },
  { lib: 'confab', kind: 'everything', source: `export * from ${JSON.stringify(CONFAB_BROWSER)};` },
  {
    lib: '@xmpp/client',
    kind: 'core',
    note: 'its browser field drops @xmpp/sasl-scram-sha-1: PLAIN only, no SCRAM',
    source: `import { client, xml } from '@xmpp/client';
export function chat(options, to, body, onMessage) {
  const c = client(options);
  c.on('stanza', (s) => { if (s.is('message')) onMessage(s); });
  return c.start().then(() => c.send(xml('message', { to, type: 'chat' }, xml('body', {}, body))));
}`,
  },
  {
    lib: '@xmpp/client',
    kind: 'everything',
    note: 'its browser field drops @xmpp/sasl-scram-sha-1: PLAIN only, no SCRAM',
    source: `export * from '@xmpp/client';`,
  },
  {
    lib: 'strophe.js',
    kind: 'core',
    source: `import { Strophe, $msg } from 'strophe.js';
export function chat(service, jid, password, to, body, onMessage) {
  const c = new Strophe.Connection(service);
  c.addHandler((m) => { onMessage(m); return true; }, null, 'message');
  c.connect(jid, password, (status) => {
    if (status === Strophe.Status.CONNECTED) c.send($msg({ to, type: 'chat' }).c('body').t(body));
  });
  return c;
}`,
  },
  { lib: 'strophe.js', kind: 'everything', source: `export * from 'strophe.js';` },
  {
    lib: 'stanza',
    kind: 'core',
    source: `import { createClient } from 'stanza';
export function chat(options, to, body, onMessage) {
  const c = createClient(options);
  c.on('message', onMessage);
  c.on('session:started', () => c.sendMessage({ to, body }));
  c.connect();
  return c;
}`,
  },
  { lib: 'stanza', kind: 'everything', source: `export * from 'stanza';` },
];

/**
 * `node:` built-ins resolve to an empty module (what a `browser` field's `false` means); records
 * which were asked for. Bare names (`events`) are left to the packages that provide them.
 */
function stubNodeBuiltins(stubbed: Set<string>): Plugin {
  return {
    name: 'stub-node-builtins',
    setup(b) {
      b.onResolve({ filter: /^node:/ }, (args) => {
        stubbed.add(`${args.path} (from ${relative(ROOT, args.importer)})`);
        return { path: args.path, namespace: 'node-stub' };
      });
      b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({
        contents: 'export default {};',
        loader: 'js',
      }));
    },
  };
}

interface Measured {
  entry: Entry;
  minBytes: number;
  gzipBytes: number;
  stubbed: string[];
  metafile: Metafile;
  warnings: string[];
}

interface Failure {
  entry: Entry;
  message: string;
}

async function measure(entry: Entry): Promise<Measured> {
  const stubbed = new Set<string>();
  const result = await build({
    stdin: {
      contents: entry.source,
      resolveDir: ROOT,
      sourcefile: `${entry.lib}-${entry.kind}.js`,
      loader: 'js',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    write: false,
    metafile: true,
    logLevel: 'silent',
    outfile: 'out.js',
    plugins: [stubNodeBuiltins(stubbed)],
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error(`esbuild wrote nothing for ${entry.lib} ${entry.kind}`);
  return {
    entry,
    minBytes: out.contents.byteLength,
    gzipBytes: gzipSync(out.contents, { level: 9 }).byteLength,
    stubbed: [...stubbed],
    metafile: result.metafile,
    warnings: result.warnings.map((w) => w.text),
  };
}

/** The modules contributing the most minified bytes, grouped by package for node_modules. */
function topModules(m: Measured, n = TOP_MODULES): { module: string; bytes: number }[] {
  const output = Object.values(m.metafile.outputs)[0];
  if (!output) return [];
  const byModule = new Map<string, number>();
  for (const [path, info] of Object.entries(output.inputs)) {
    const rel = path.replace(/^.*?node_modules\//, 'node_modules/');
    const key = rel.startsWith('node_modules/')
      ? rel
          .split('/')
          .slice(0, rel.split('/')[1]?.startsWith('@') ? 3 : 2)
          .join('/')
      : relative(ROOT, join(ROOT, path));
    byModule.set(key, (byModule.get(key) ?? 0) + info.bytesInOutput);
  }
  return [...byModule.entries()]
    .map(([module, bytes]) => ({ module, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, n);
}

const kb = (bytes: number): number => bytes / KB;

/** @xmpp/client's own prebuilt browser bundle (dist/xmpp.min.js), gzipped, for comparison. */
function xmppPrebuilt(): { minBytes: number; gzipBytes: number } | null {
  try {
    const buf = readFileSync(join(ROOT, 'node_modules', '@xmpp', 'client', 'dist', 'xmpp.min.js'));
    return { minBytes: buf.byteLength, gzipBytes: gzipSync(buf, { level: 9 }).byteLength };
  } catch {
    return null;
  }
}

function version(pkg: string): string {
  try {
    const file =
      pkg === 'confab'
        ? join(ROOT, 'packages', 'confab', 'package.json')
        : join(ROOT, 'node_modules', pkg, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** A top module of confab's bundle, with the gzip size of its own source minified alone. */
interface Share {
  module: string;
  bytes: number;
  gzipAlone: number | null;
}

async function shares(m: Measured): Promise<Share[]> {
  const out: Share[] = [];
  for (const t of topModules(m)) {
    let gzipAlone: number | null = null;
    if (t.module.startsWith('packages/')) {
      const src = readFileSync(join(ROOT, t.module), 'utf8');
      const min = await transform(src, { loader: 'ts', minify: true, format: 'esm', target: 'es2022' });
      gzipAlone = gzipSync(min.code, { level: 9 }).byteLength;
    }
    out.push({ ...t, gzipAlone });
  }
  return out;
}

function makeTable(
  kind: Entry['kind'],
  results: Measured[],
  failures: Failure[],
  prebuilt: ReturnType<typeof xmppPrebuilt>,
  breakdown: Map<Entry['kind'], Share[]>,
): Table {
  const budget = kind === 'core' ? BUDGET_CORE : BUDGET_ALL;
  const mine = results.find((r) => r.entry.lib === 'confab' && r.entry.kind === kind);
  const rows: Row[] = [];
  for (const r of results.filter((x) => x.entry.kind === kind)) {
    const isConfab = r.entry.lib === 'confab';
    const flags: string[] = [];
    if (r.stubbed.length > 0) {
      flags.push(
        isConfab
          ? `needs Node built-ins in a browser bundle (must not): ${r.stubbed.join(', ')}`
          : `Node built-ins stubbed as empty modules: ${r.stubbed.join(', ')}`,
      );
    }
    if (r.entry.note) flags.push(r.entry.note);
    for (const w of r.warnings) flags.push(`esbuild: ${w}`);
    const row: Row = {
      name: `${r.entry.lib} ${version(r.entry.lib)}${isConfab ? ` (${kind})` : ''}`,
      values: {
        min: r.minBytes,
        gzip: kb(r.gzipBytes),
        issue: isConfab ? null : (ISSUE_FIGURES[r.entry.lib] ?? null),
        vsConfab: mine ? r.gzipBytes / mine.gzipBytes : null,
      },
      ratio: r.gzipBytes / budget,
      flags,
      detail: {
        minBytes: r.minBytes,
        gzipBytes: r.gzipBytes,
        stubbed: r.stubbed,
        topModules: topModules(r, 25),
      },
    };
    if (isConfab) row.goal = 1;
    rows.push(row);
  }
  // A bundle that did not build is a row with the reason, not a missing row.
  for (const f of failures.filter((x) => x.entry.kind === kind)) {
    const row: Row = {
      name: `${f.entry.lib} ${version(f.entry.lib)}${f.entry.lib === 'confab' ? ` (${kind})` : ''}`,
      values: { min: null, gzip: null, issue: ISSUE_FIGURES[f.entry.lib] ?? null, vsConfab: null },
      ratio: null,
      flags: [`bundle failed: ${f.message}`],
    };
    if (f.entry.lib === 'confab') row.goal = 1;
    rows.push(row);
  }
  if (kind === 'core' && prebuilt) {
    rows.push({
      name: `@xmpp/client ${version('@xmpp/client')} (its dist/xmpp.min.js)`,
      values: {
        min: prebuilt.minBytes,
        gzip: kb(prebuilt.gzipBytes),
        issue: ISSUE_FIGURES['@xmpp/client'] ?? null,
        vsConfab: mine ? prebuilt.gzipBytes / mine.gzipBytes : null,
      },
      ratio: prebuilt.gzipBytes / budget,
      flags: ['prebuilt IIFE with every plugin, as published; SCRAM left out as in its browser field'],
    });
  }
  const notes = [
    kind === 'core'
      ? 'core entry: create a client, on message, connect (login), send one message; tree-shaken'
      : "everything: `export *` of each library's browser entry",
    `esbuild ${version('esbuild')}: bundle, esm, platform browser, es2022, minify, no legal comments; gzip -9. KB = 1000 bytes`,
    `vs floor = min+gzip over the ${kb(budget)} KB budget of confab's ${kind} goal; peers against the same budget`,
  ];
  if (mine && mine.gzipBytes > budget) {
    notes.push(
      `confab ${kind} misses its goal by ${kb(mine.gzipBytes - budget).toFixed(1)} KB; largest modules ` +
        '(minified bytes in the bundle; gzip of the module minified alone, a rough share of the total):',
    );
    for (const t of breakdown.get(kind) ?? []) {
      const alone = t.gzipAlone === null ? '' : ` ~${kb(t.gzipAlone).toFixed(1)} KB gz`;
      notes.push(`  ${String(t.bytes).padStart(7)}${alone.padStart(14)}  ${t.module}`);
    }
  }
  return {
    title: `browser bundle size, ${kind}${kind === 'core' ? ' (connect, SCRAM, messaging)' : ' (all public exports)'}: goal confab <= ${kb(budget)} KB min+gzip`,
    notes,
    columns: [
      { key: 'min', label: 'min bytes' },
      { key: 'gzip', label: 'min+gzip KB', digits: 1 },
      { key: 'issue', label: "issue's KB", digits: 1 },
      { key: 'vsConfab', label: 'x confab', digits: 2 },
    ],
    rows,
  };
}

export const sizeSuite: Suite = {
  name: 'size',
  description:
    'browser bundle size, min+gzip: confab core and everything vs @xmpp/client, strophe.js, stanza',
  defaultRounds: 1,
  async run(ctx: SuiteContext) {
    const results: Measured[] = [];
    const failures: Failure[] = [];
    for (const e of ENTRIES) {
      const t0 = performance.now();
      try {
        results.push(await measure(e));
        ctx.log(`  ${e.lib} ${e.kind}: ${(performance.now() - t0).toFixed(0)} ms`);
      } catch (err) {
        const message = (err instanceof Error ? err.message : String(err))
          .split('\n')
          .slice(0, 4)
          .join(' | ');
        failures.push({ entry: e, message });
        ctx.log(`  ${e.lib} ${e.kind}: FAILED ${message}`);
      }
    }
    const prebuilt = xmppPrebuilt();
    const breakdown = new Map<Entry['kind'], Share[]>();
    for (const m of results.filter((r) => r.entry.lib === 'confab'))
      breakdown.set(m.entry.kind, await shares(m));
    return {
      tables: [
        makeTable('core', results, failures, prebuilt, breakdown),
        makeTable('everything', results, failures, prebuilt, breakdown),
      ],
      config: {
        budgets: { core: BUDGET_CORE, everything: BUDGET_ALL },
        esbuild: version('esbuild'),
        entries: Object.fromEntries(ENTRIES.map((e) => [`${e.lib} ${e.kind}`, e.source])),
      },
    };
  },
};
