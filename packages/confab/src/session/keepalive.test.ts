import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfabError } from '../errors.ts';
import { type Clock, DEFAULT_KEEPALIVE, Keepalive } from './keepalive.ts';

/** A clock driven by the test: `advance(ms)` fires due timers in order. */
class FakeClock implements Clock {
  t = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #id = 0;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.#id;
    this.#timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (h: unknown) => void this.#timers.delete(h as number);
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.#timers.entries()]
        .filter(([, v]) => v.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
      await Promise.resolve(); // let ping promises settle
      await Promise.resolve();
    }
    this.t = end;
  }
  get pending(): number {
    return this.#timers.size;
  }
}

function setup(o = DEFAULT_KEEPALIVE) {
  const clock = new FakeClock();
  const log: string[] = [];
  let answer: (() => void) | undefined;
  let dead: ConfabError | undefined;
  const k = new Keepalive(o, {
    clock,
    sendWhitespace: () => log.push(`ws@${clock.t}`),
    ping: () => {
      log.push(`ping@${clock.t}`);
      return new Promise<void>((r) => {
        answer = r;
      });
    },
    dead: (e) => {
      dead = e;
      log.push(`dead@${clock.t}`);
    },
  });
  return { clock, log, k, answer: () => answer?.(), dead: () => dead };
}

test('defaults: a dead link is noticed within a minute of the last byte', async () => {
  const { clock, log, k, dead } = setup();
  k.start();
  await clock.advance(61_000);
  assert.deepEqual(log, ['ws@30000', 'ping@40000', 'dead@60000']);
  assert.equal(dead()?.code, 'ERR_TIMEOUT');
  assert.equal(clock.pending, 0, 'stopped');
});

test('an answered ping, or any inbound traffic, keeps the link alive', async () => {
  const { clock, log, k, answer, dead } = setup({ whitespaceInterval: 0, pingInterval: 10, pingTimeout: 5 });
  k.start();
  await clock.advance(10);
  assert.deepEqual(log, ['ping@10']);
  await clock.advance(1);
  k.inbound(); // the reply arrives: the session records inbound, then the iq resolves
  answer();
  await clock.advance(8);
  assert.equal(dead(), undefined);
  await clock.advance(2);
  assert.deepEqual(log, ['ping@10', 'ping@21'], 'next ping pingInterval after the last inbound');
  await clock.advance(2);
  k.inbound(); // some other stanza, the ping itself unanswered
  await clock.advance(3);
  assert.equal(dead(), undefined, 'traffic after the ping proves the link');
  k.stop();
});

test('whitespace only when nothing was written; activity postpones it', async () => {
  const { clock, log, k } = setup({ whitespaceInterval: 100, pingInterval: 0, pingTimeout: 0 });
  k.start();
  await clock.advance(60);
  k.outbound();
  await clock.advance(99);
  assert.deepEqual(log, []);
  await clock.advance(1);
  assert.deepEqual(log, ['ws@160']);
  k.stop();
  await clock.advance(1000);
  assert.deepEqual(log, ['ws@160']);
});
