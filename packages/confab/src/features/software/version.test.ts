// The generated version constant (version.ts) against packages/confab/package.json: a release
// that bumps one without the other fails here, before a wrong XEP-0092 answer ships.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CONFAB_VERSION } from './software.ts';
import { LIBRARY_VERSION } from './version.ts';

test('LIBRARY_VERSION is the version in packages/confab/package.json, and jabber:iq:version says it', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    name: string;
    version: string;
  };
  assert.equal(LIBRARY_VERSION, pkg.version);
  assert.deepEqual(CONFAB_VERSION, { name: pkg.name, version: pkg.version });
});
