import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { README, withCommands } from '../scripts/docs.ts';

it('README.md documents exactly the commands of the table (run scripts/docs.ts to update)', () => {
  const text = readFileSync(README, 'utf8');
  assert.equal(text, withCommands(text));
});
