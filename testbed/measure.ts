// Measures the test bed: start-up of each server (spawn until every port accepts), stop, and the
// cost of a fresh account. `node --import tsx testbed/measure.ts [rounds]`; numbers go in README.md.

import { startEjabberd } from './ejabberd.ts';
import { startProsody } from './prosody.ts';
import type { TestServer } from './types.ts';

const rounds = Number(process.argv[2] ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(label: string, start: () => Promise<TestServer>): Promise<void> {
  const startup: number[] = [];
  const stop: number[] = [];
  const account: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const s = await start();
    startup.push(s.startupMs);
    await s.freshAccount(); // warm-up
    const t0 = performance.now();
    for (let k = 0; k < 20; k++) await s.freshAccount();
    account.push((performance.now() - t0) / 20);
    const t1 = performance.now();
    await s.stop();
    stop.push(performance.now() - t1);
  }
  console.log(
    `${label.padEnd(18)} start median ${median(startup)} ms (min ${Math.min(...startup)}, max ${Math.max(...startup)}); ` +
      `stop ${median(stop).toFixed(0)} ms; fresh account ${median(account).toFixed(1)} ms`,
  );
}

await measure('prosody full', () => startProsody());
await measure('prosody minimal', () => startProsody({ profile: 'minimal' }));
await measure('ejabberd', () => startEjabberd());
