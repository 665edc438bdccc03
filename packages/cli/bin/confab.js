#!/usr/bin/env node
// The `confab` command. A small committed launcher, so npm can link the bin at install time
// (before anything is built): it runs the compiled CLI in ../dist, which `npm install` builds
// (the root package's `prepare` runs `tsc -b packages/confab packages/cli`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'confab: the terminal client is not built yet (packages/cli/dist/main.js is missing).\n' +
      'Run `npm install` (or `npm run build`) at the root of the confab repository; it builds it.\n',
  );
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv.slice(2));
