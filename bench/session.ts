/**
 * Sessions through a real server (issue 3, "Benchmarks"): one private test-bed Prosody, started by
 * the suite and always stopped, and every contestant measured against a floor client written for
 * the benchmark (bench/floor-client.ts: node:tls + STARTTLS + SCRAM-SHA-1 + bind, no library).
 *
 *   1. time to online (TCP + STARTTLS + SCRAM-SHA-1 + bind, or wss:// + SCRAM + bind), median of
 *      `--rounds` (default 20), contestants interleaved round-robin;
 *   2. time to resume (XEP-0198) after a cut: a loopback proxy resets both sides of the connection,
 *      the time runs until the library reports the session resumed (reconnect delay set to ~0);
 *   3. messages per second A -> B, counted at B, and client CPU per message sent and received
 *      (process.cpuUsage deltas, user + system, of the sender's and the receiver's process);
 *   4. heap and RSS per connection with 200 connections online in one process.
 *
 * Every client runs in a child process (`node --expose-gc --import tsx bench/session.ts
 * --session-worker`), started with NODE_EXTRA_CA_CERTS set to the test bed's CA: @xmpp/client,
 * stanza and strophe take no CA option, so this is how they verify the server's certificate (never
 * by switching verification off). confab and the floor are given the CA explicitly as well. The
 * sender and the receiver of the throughput test are separate processes, so each CPU figure is one
 * client's; the memory test gets a fresh process per library.
 *
 * `CONFAB_BENCH_SRC=/path/to/packages/confab/src/index.ts` measures another confab tree (e.g. a
 * snapshot while the working tree does not compile).
 */

import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createProsodyAccount, randomPassword, uniqueUsername } from '../testbed/accounts.ts';
import { startProsody } from '../testbed/prosody.ts';
import type { Account, ServerInfo } from '../testbed/types.ts';
import { FloorClient } from './floor-client.ts';
import {
  errText,
  gc,
  median,
  type Row,
  type Suite,
  type SuiteContext,
  sleep,
  type Table,
  withTimeout,
} from './harness.ts';

/** Dev filters: `CONFAB_BENCH_LIBS=floor,confab-tcp`, `CONFAB_BENCH_PHASES=online,throughput,memory`. */
const only = <T extends string>(env: string | undefined, all: T[]): T[] =>
  env ? all.filter((x) => env.split(',').includes(x)) : all;
const PHASES = only(process.env.CONFAB_BENCH_PHASES, ['online', 'throughput', 'memory']);

type Lib = 'floor' | 'confab-tcp' | 'confab-ws' | 'xmpp-tcp' | 'xmpp-ws' | 'stanza-ws' | 'strophe-ws';

const NAMES: Record<Lib, string> = {
  floor: 'floor (node:tls, no library) TCP',
  'confab-tcp': 'confab TCP',
  'confab-ws': 'confab WebSocket',
  'xmpp-tcp': '@xmpp/client TCP',
  'xmpp-ws': '@xmpp/client WebSocket',
  'stanza-ws': 'stanza WebSocket',
  'strophe-ws': 'strophe.js WebSocket',
};
const ALL: Lib[] = only(process.env.CONFAB_BENCH_LIBS, [
  'floor',
  'confab-tcp',
  'confab-ws',
  'xmpp-tcp',
  'xmpp-ws',
  'stanza-ws',
  'strophe-ws',
] as Lib[]);
const RESUME_LIBS: Lib[] = only(process.env.CONFAB_BENCH_LIBS, [
  'confab-tcp',
  'confab-ws',
  'xmpp-tcp',
  'stanza-ws',
] as Lib[]);
const THROUGHPUT_LIBS: Lib[] = only(process.env.CONFAB_BENCH_LIBS, [
  'floor',
  'confab-tcp',
  'confab-ws',
  'xmpp-tcp',
  'xmpp-ws',
  'stanza-ws',
  'strophe-ws',
] as Lib[]);
const MEMORY_LIBS: Lib[] = only(process.env.CONFAB_BENCH_LIBS, [
  'floor',
  'confab-tcp',
  'confab-ws',
  'xmpp-tcp',
  'stanza-ws',
] as Lib[]);

const GOAL_ONLINE = 1.3;
const GOAL_CPU = 1.5;
const GOAL_HEAP_KB = 12;
const GOAL_THROUGHPUT = 1 / 0.95;
const RESUME_ROUNDS = 5;
/**
 * @xmpp/client takes ~50-100x the floor's time to log in (its SCRAM runs thousands of awaited
 * HMACs): it gets fewer timed rounds, or it alone would take a minute of the suite's ~3.
 */
const SLOW_ROUNDS = 7;
const roundsFor = (l: Lib, rounds: number): number =>
  l.startsWith('xmpp') ? Math.min(rounds, SLOW_ROUNDS) : rounds;
const BODY = 'Wherefore art thou Romeo? Deny thy father and refuse thy name.';

const isConfab = (l: Lib): boolean => l.startsWith('confab');

// =============================================================================================
// Worker side: the adapters. One `Conn` per connection, the same shape for every library.

interface Env {
  info: ServerInfo;
  ca: string;
}

interface ConnOptions {
  /** TCP port to connect to (c2s, or a proxy in front of it); TCP contestants. */
  port: number;
  /** WebSocket URL (wss://, or a proxy's); WebSocket contestants. */
  wsUrl: string;
  /** Stream management with resumption, and reconnecting at once after a loss. */
  resume: boolean;
  /** Log in with PLAIN (over TLS) instead of SCRAM-SHA-1: only the memory test of @xmpp/client. */
  plain?: boolean;
}

interface Conn {
  /** Full JID once online. */
  jid: string;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(to: string, body: string, i: number): Promise<unknown> | undefined;
  onMessage(cb: () => void): void;
  /** Resolves at the next (re)connection: true when the SM session was resumed. */
  nextOnline(): Promise<boolean>;
}

type Make = (acct: Account, o: ConnOptions) => Conn;

/** `resolve` callable once: the first of two events wins. */
const once1 = (resolve: (v: boolean) => void): ((v: boolean) => void) => {
  let done = false;
  return (v) => {
    if (done) return;
    done = true;
    resolve(v);
  };
};

interface Loaded {
  make?: Make;
  reason?: string;
}

function makeFloor(env: Env): Make {
  return (acct, o) => {
    const f = new FloorClient({
      jid: acct.jid,
      password: acct.password,
      host: env.info.host,
      port: o.port,
      ca: env.ca,
    });
    return {
      get jid() {
        return f.jid;
      },
      connect: () => f.connect(),
      disconnect: () => f.disconnect(),
      send: (to, body, i) => f.send(to, body, `m${i}`),
      onMessage(cb) {
        f.onMessage = cb;
      },
      nextOnline: () => Promise.reject(new Error('the floor has no stream management')),
    };
  };
}

// ---- confab (public API only: createClient, connect, disconnect, messages.send, on)

interface ConfabClient {
  readonly jid: string | undefined;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  messages: { send(m: { to: string; body: string }): Promise<unknown> };
  on(event: string, listener: (payload: never) => void): () => void;
  once(event: string, listener: (payload: never) => void): () => void;
}
type ConfabCreate = (options: Record<string, unknown>) => ConfabClient;

async function loadConfab(env: Env, kind: 'tcp' | 'ws'): Promise<Loaded> {
  const src = process.env.CONFAB_BENCH_SRC
    ? pathToFileURL(process.env.CONFAB_BENCH_SRC).href
    : new URL('../packages/confab/src/index.ts', import.meta.url).href;
  let createClient: ConfabCreate;
  try {
    const m = (await import(src)) as { createClient?: ConfabCreate };
    if (typeof m.createClient !== 'function') return { reason: 'confab exports no createClient' };
    createClient = m.createClient;
  } catch (err) {
    return { reason: `confab failed to load: ${errText(err).split('\n')[0]}` };
  }
  return {
    make: (acct, o) => {
      const c = createClient({
        jid: acct.jid,
        password: acct.password,
        host: env.info.host,
        port: o.port,
        websocket: kind === 'ws' ? o.wsUrl : undefined,
        tls: { ca: env.ca },
        mechanisms: ['SCRAM-SHA-1'],
        reconnect: o.resume ? { initialDelay: 1, maxDelay: 1 } : false,
      });
      c.on('error', () => {});
      return {
        get jid() {
          return c.jid ?? '';
        },
        connect: () => c.connect(),
        disconnect: () => c.disconnect(),
        send: (to, body) => c.messages.send({ to, body }),
        onMessage(cb) {
          c.on('message', ((m: { body?: string }) => {
            if (m.body !== undefined) cb();
          }) as (p: never) => void);
        },
        nextOnline: () =>
          new Promise<boolean>((resolve) => {
            c.once('online', ((e: { resumed: boolean }) => resolve(e.resumed)) as (p: never) => void);
          }),
      };
    },
  };
}

// ---- @xmpp/client (no types shipped: the little used here, loosely typed)

interface XmppElement {
  is(name: string): boolean;
  getChild(name: string): XmppElement | undefined;
}
interface XmppEntity {
  jid: { toString(): string } | null;
  reconnect: { delay: number };
  streamManagement: { on(e: string, f: () => void): void; once(e: string, f: () => void): void };
  on(e: string, f: (x: XmppElement) => void): void;
  once(e: string, f: () => void): void;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(el: XmppElement): Promise<unknown>;
}
interface XmppModule {
  client(o: Record<string, unknown>): XmppEntity;
  xml(name: string, attrs?: Record<string, string>, ...children: Array<XmppElement | string>): XmppElement;
}

async function loadXmpp(env: Env, kind: 'tcp' | 'ws'): Promise<Loaded> {
  let m: XmppModule;
  try {
    const name = '@xmpp/client';
    m = (await import(name)) as XmppModule;
  } catch (err) {
    return { reason: `@xmpp/client failed to load: ${errText(err)}` };
  }
  return {
    make: (acct, o) => {
      const x = m.client({
        service: kind === 'tcp' ? `xmpp://${env.info.host}:${o.port}` : o.wsUrl,
        domain: env.info.domain,
        // its default of 2 s per step fails logins on a loaded machine (its SCRAM alone takes ~1 s)
        timeout: 30_000,
        ...(o.plain
          ? {
              credentials: async (
                auth: (c: Record<string, string>, mech: string) => Promise<void>,
                mechanisms: string[],
              ) => {
                if (!mechanisms.includes('PLAIN')) throw new Error('no PLAIN');
                await auth({ username: acct.username, password: acct.password }, 'PLAIN');
              },
            }
          : { username: acct.username, password: acct.password }),
      });
      x.on('error', () => {});
      x.reconnect.delay = 0;
      return {
        get jid() {
          return x.jid?.toString() ?? '';
        },
        connect: () => x.start().then(() => {}),
        disconnect: () => x.stop().then(() => {}),
        send: (to, body, i) =>
          x.send(m.xml('message', { to, type: 'chat', id: `m${i}` }, m.xml('body', {}, body))),
        onMessage(cb) {
          x.on('stanza', (s) => {
            if (s.is('message') && s.getChild('body')) cb();
          });
        },
        nextOnline: () =>
          new Promise<boolean>((resolve) => {
            const settle = once1(resolve);
            x.streamManagement.once('resumed', () => settle(true));
            x.once('online', () => settle(false));
          }),
      };
    },
  };
}

// ---- stanza

interface StanzaAgent {
  jid: string;
  sasl: { disable(name: string): void };
  on(e: string, f: (x: { body?: string }) => void): void;
  once(e: string, f: (x: unknown) => void): void;
  off(e: string, f: (x: never) => void): void;
  connect(): void;
  disconnect(): void;
  sendMessage(m: Record<string, string>): void;
}

async function loadStanza(): Promise<Loaded> {
  let createClient: (o: Record<string, unknown>) => StanzaAgent;
  try {
    const name = 'stanza';
    createClient = ((await import(name)) as { createClient: typeof createClient }).createClient;
  } catch (err) {
    return { reason: `stanza failed to load: ${errText(err)}` };
  }
  return {
    make: (acct, o) => {
      const c = createClient({
        jid: acct.jid,
        password: acct.password,
        transports: { websocket: o.wsUrl, bosh: false },
        autoReconnect: o.resume,
        // its backoff is 1000 * min(2^attempt + random, maxReconnectBackoff) ms: ~1 ms here
        maxReconnectBackoff: 0.001,
      });
      // same mechanism as everyone (it would pick SCRAM-SHA-256)
      for (const mech of ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS']) c.sasl.disable(mech);
      return {
        get jid() {
          return c.jid;
        },
        connect: () =>
          new Promise<void>((resolve, reject) => {
            const ok = (): void => {
              c.off('auth:failed', fail);
              c.off('disconnected', fail);
              resolve();
            };
            const fail = (): void => {
              c.off('session:started', ok);
              reject(new Error('stanza: login failed'));
            };
            c.once('session:started', ok);
            c.once('auth:failed', fail);
            c.once('disconnected', fail);
            c.connect();
          }),
        disconnect: () =>
          new Promise<void>((resolve) => {
            c.once('disconnected', () => resolve());
            c.disconnect();
          }),
        send: (to, body, i) => {
          c.sendMessage({ to, body, type: 'chat', id: `m${i}` });
          return undefined;
        },
        onMessage(cb) {
          c.on('message', (m) => {
            if (m.body !== undefined) cb();
          });
        },
        nextOnline: () =>
          new Promise<boolean>((resolve) => {
            const settle = once1(resolve);
            c.once('stream:management:resumed', () => settle(true));
            c.once('session:started', () => settle(false));
          }),
      };
    },
  };
}

// ---- strophe.js: its Node build needs the optional peer @xmldom/xmldom for DOMParser & co.

async function loadStrophe(): Promise<Loaded> {
  try {
    const name = 'strophe.js';
    await import(name);
  } catch (err) {
    const msg = errText(err);
    return {
      reason: msg.includes('xmldom')
        ? "strophe.js 5's Node build needs its optional peer @xmldom/xmldom (DOMParser, XMLSerializer, document), which is not installed: n/a in Node until it is a devDependency"
        : `strophe.js failed to load: ${msg}`,
    };
  }
  return {
    reason: 'strophe.js loaded, but its adapter is not written (it could not load when this suite was)',
  };
}

async function loadLib(lib: Lib, env: Env): Promise<Loaded> {
  switch (lib) {
    case 'floor':
      return { make: makeFloor(env) };
    case 'confab-tcp':
      return loadConfab(env, 'tcp');
    case 'confab-ws':
      return loadConfab(env, 'ws');
    case 'xmpp-tcp':
      return loadXmpp(env, 'tcp');
    case 'xmpp-ws':
      return loadXmpp(env, 'ws');
    case 'stanza-ws':
      return loadStanza();
    case 'strophe-ws':
      return loadStrophe();
  }
}

async function newAccount(env: Env, prefix: string): Promise<Account> {
  const a = env.info.accounts;
  if (a.kind !== 'prosody-files') throw new Error('the session bench runs on Prosody');
  const username = uniqueUsername(prefix);
  const password = randomPassword();
  await createProsodyAccount(a.dataDir, env.info.domain, username, password);
  return { jid: `${username}@${env.info.domain}`, username, password, domain: env.info.domain };
}

const directOptions = (env: Env): ConnOptions => ({
  port: env.info.ports.c2s,
  wsUrl: env.info.wssUrl ?? '',
  resume: false,
});

// ---- a loopback proxy that can cut every connection through it (RST both ways)

class CutProxy {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  port = 0;
  constructor(target: number) {
    this.#server = createServer((down) => {
      const up = netConnect({ host: '127.0.0.1', port: target, noDelay: true });
      down.setNoDelay(true);
      const pair: [Socket, Socket] = [down, up];
      this.#pairs.add(pair);
      const drop = (): void => {
        this.#pairs.delete(pair);
        down.destroy();
        up.destroy();
      };
      down.on('error', drop).on('close', drop);
      up.on('error', drop).on('close', drop);
      down.pipe(up);
      up.pipe(down);
    });
  }
  listen(): Promise<void> {
    return new Promise((resolve) =>
      this.#server.listen(0, '127.0.0.1', () => {
        this.port = (this.#server.address() as { port: number }).port;
        resolve();
      }),
    );
  }
  /** Reset every connection: both ends see ECONNRESET, as after a network failure. */
  cut(): number {
    const n = this.#pairs.size;
    for (const [down, up] of this.#pairs) {
      down.resetAndDestroy();
      up.resetAndDestroy();
    }
    this.#pairs.clear();
    return n;
  }
  close(): void {
    this.cut();
    this.#server.close();
  }
}

// ---- worker commands

type ToWorker =
  | { cmd: 'online'; env: Env; rounds: number }
  | { cmd: 'recv' | 'send'; env: Env; lib: Lib; n: number; to?: string }
  | { cmd: 'go' }
  | { cmd: 'stop' }
  | { cmd: 'memory'; env: Env; lib: Lib; count: number };

interface OnlineResult {
  lib: Lib;
  times: number[];
  /** Rounds that failed (the contestant is dropped after 3, or when it is not available). */
  failures: string[];
  error?: string;
}
interface ResumeResult {
  lib: Lib;
  times: number[];
  resumed: number;
  error?: string;
}
interface MemoryResult {
  lib: Lib;
  count: number;
  heapKB?: number;
  rssKB?: number;
  loginMs?: number;
  error?: string;
}

const send = (m: unknown): void => {
  process.send?.(m);
};
const wlog = (m: string): void => {
  process.stderr.write(`    ${m}\n`);
};

async function workerOnline(env: Env, rounds: number): Promise<void> {
  const loaded = new Map<Lib, Loaded>();
  for (const l of ALL) loaded.set(l, await loadLib(l, env));
  const results: OnlineResult[] = [];
  const live: Lib[] = [];
  const accounts = new Map<Lib, Account>();
  for (const l of ALL) {
    const ld = loaded.get(l) as Loaded;
    if (!ld.make) results.push({ lib: l, times: [], failures: [], error: ld.reason ?? 'not available' });
    else {
      live.push(l);
      accounts.set(l, await newAccount(env, l.replace(/\W/g, '')));
      results.push({ lib: l, times: [], failures: [] });
    }
  }
  const byLib = new Map(results.map((r) => [r.lib, r]));
  const once = async (l: Lib, timed: boolean): Promise<void> => {
    const r = byLib.get(l) as OnlineResult;
    if (r.error !== undefined || (timed && r.times.length >= roundsFor(l, rounds))) return;
    const conn = ((loaded.get(l) as Loaded).make as Make)(accounts.get(l) as Account, directOptions(env));
    gc();
    const t0 = performance.now();
    try {
      await withTimeout(conn.connect(), 20_000, `${l} connect`);
    } catch (err) {
      r.failures.push(errText(err));
      wlog(`${l}: login failed: ${errText(err)}`);
      if (r.failures.length >= 3) r.error = `${r.failures.length} logins failed, last: ${errText(err)}`;
      await conn.disconnect().catch(() => {});
      return;
    }
    const ms = performance.now() - t0;
    if (timed) r.times.push(ms);
    await withTimeout(conn.disconnect(), 5000, `${l} disconnect`).catch(() => {});
  };
  for (const l of live) await once(l, false);
  for (let k = 0; k < rounds; k++) {
    for (let j = 0; j < live.length; j++) await once(live[(k + j) % live.length] as Lib, true);
    wlog(
      `online round ${k + 1}/${rounds}: ${live.map((l) => `${l} ${byLib.get(l)?.times.at(-1)?.toFixed(1) ?? '-'}`).join(', ')} ms`,
    );
  }

  // Resume after a cut.
  const resume: ResumeResult[] = [];
  const tcpProxy = new CutProxy(env.info.ports.c2s);
  const wsProxy = new CutProxy(env.info.ports.https ?? 0);
  await Promise.all([tcpProxy.listen(), wsProxy.listen()]);
  try {
    for (const l of RESUME_LIBS) {
      const ld = loaded.get(l) as Loaded;
      const rr: ResumeResult = { lib: l, times: [], resumed: 0 };
      resume.push(rr);
      if (!ld.make) {
        rr.error = ld.reason ?? 'not available';
        continue;
      }
      const proxy = l.endsWith('-tcp') ? tcpProxy : wsProxy;
      const wsUrl = (env.info.wssUrl ?? '').replace(/:\d+\//, `:${wsProxy.port}/`);
      const conn = ld.make(await newAccount(env, 'resume'), {
        port: tcpProxy.port,
        wsUrl,
        resume: true,
      });
      try {
        await withTimeout(conn.connect(), 20_000, `${l} connect`);
        for (let k = 0; k < RESUME_ROUNDS; k++) {
          await sleep(100); // let SM be enabled and settle
          const next = conn.nextOnline();
          const t0 = performance.now();
          if (proxy.cut() === 0)
            throw new Error('nothing to cut: the connection did not go through the proxy');
          const resumed = await withTimeout(next, 10_000, `${l} resume`);
          const ms = performance.now() - t0;
          if (resumed) {
            rr.resumed++;
            rr.times.push(ms);
          } else {
            rr.error = `back online after ${ms.toFixed(0)} ms but NOT resumed (new session)`;
          }
        }
        wlog(`resume ${l}: ${rr.times.map((t) => t.toFixed(1)).join(', ')} ms`);
      } catch (err) {
        rr.error = errText(err);
        wlog(`resume ${l}: ${rr.error}`);
      }
      await withTimeout(conn.disconnect(), 5000, `${l} disconnect`).catch(() => {});
    }
  } finally {
    tcpProxy.close();
    wsProxy.close();
  }
  send({ results, resume });
}

/** One side of the throughput test; the parent coordinates `go` and `stop`. */
async function workerPeer(msg: Extract<ToWorker, { cmd: 'recv' | 'send' }>): Promise<void> {
  const { env, lib, n } = msg;
  const ld = await loadLib(lib, env);
  if (!ld.make) {
    send({ error: ld.reason });
    return;
  }
  const conn = ld.make(await newAccount(env, msg.cmd), { ...directOptions(env), resume: isConfab(lib) });
  try {
    await withTimeout(conn.connect(), 30_000, `${lib} connect`);
  } catch (err) {
    send({ error: errText(err) });
    return;
  }
  let cpu0 = process.cpuUsage();
  let t0 = 0;
  let count = 0;
  const waitFor = (cmd: string): Promise<void> =>
    new Promise((resolve) => {
      const h = (m: ToWorker): void => {
        if (m.cmd === cmd) {
          process.off('message', h);
          resolve();
        }
      };
      process.on('message', h);
    });
  if (msg.cmd === 'recv') {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = new Promise<void>((resolve) => {
      conn.onMessage(() => {
        if (++count === n) resolve();
      });
      timer = setTimeout(resolve, 90_000);
    });
    send({ ready: true, jid: conn.jid });
    await waitFor('go');
    gc();
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    await done;
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    clearTimeout(timer);
    send({ done: true, count, ms, cpuUs: cpu.user + cpu.system });
  } else {
    send({ ready: true });
    await waitFor('go');
    gc();
    const stop = waitFor('stop');
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    const to = msg.to as string;
    for (let i = 0; i < n; i++) {
      const p = conn.send(to, BODY, i);
      if (p) await p;
    }
    const sendMs = performance.now() - t0;
    await stop;
    const cpu = process.cpuUsage(cpu0);
    send({ done: true, count: n, ms: sendMs, cpuUs: cpu.user + cpu.system });
  }
  await withTimeout(conn.disconnect(), 5000, `${lib} disconnect`).catch(() => {});
}

async function workerMemory(env: Env, lib: Lib, count: number): Promise<void> {
  const ld = await loadLib(lib, env);
  const r: MemoryResult = { lib, count };
  if (!ld.make) {
    send({ ...r, error: ld.reason });
    return;
  }
  const accounts: Account[] = [];
  for (let i = 0; i < count; i++) accounts.push(await newAccount(env, 'mem'));
  // PLAIN for @xmpp/client here: its SCRAM takes ~0.5 s of CPU per login (awaited HMACs), and the
  // mechanism does not change what a connection holds once online.
  const o = { ...directOptions(env), resume: false, plain: lib.startsWith('xmpp') };
  // Warm up code paths (and lazily created module state) outside the measurement.
  const warm = ld.make(await newAccount(env, 'warm'), o);
  await withTimeout(warm.connect(), 30_000, `${lib} connect`);
  await warm.disconnect();
  const conns: Conn[] = [];
  await sleep(200);
  gc();
  gc();
  const base = process.memoryUsage();
  const t0 = performance.now();
  try {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < count) {
        const c = ld.make?.(accounts[next++] as Account, o) as Conn;
        conns.push(c);
        await withTimeout(c.connect(), 60_000, `${lib} connect`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
  } catch (err) {
    send({ ...r, error: errText(err) });
    return;
  }
  r.loginMs = performance.now() - t0;
  await sleep(500); // presence, SM enable, roster pushes: let the sessions settle
  gc();
  gc();
  const after = process.memoryUsage();
  r.heapKB = (after.heapUsed - base.heapUsed) / count / 1024;
  r.rssKB = (after.rss - base.rss) / count / 1024;
  send(r);
  for (const c of conns) await c.disconnect().catch(() => {});
}

async function worker(): Promise<void> {
  // @xmpp/client and stanza in Node use a global WebSocket / ws; Node 20 has no global one.
  const { WebSocket } = await import('ws');
  (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
  process.once('message', (m: ToWorker) => {
    const run =
      m.cmd === 'online'
        ? workerOnline(m.env, m.rounds)
        : m.cmd === 'memory'
          ? workerMemory(m.env, m.lib, m.count)
          : m.cmd === 'recv' || m.cmd === 'send'
            ? workerPeer(m)
            : Promise.resolve();
    run
      .catch((err: unknown) => send({ error: errText(err) }))
      .finally(() => {
        // libraries keep timers (keepalive, reconnect): leave once the answer is out
        setTimeout(() => process.exit(0), 100);
      });
  });
}

// =============================================================================================
// Parent side: start Prosody, drive the workers, build the tables.

class WorkerProcess {
  readonly child: ChildProcess;
  readonly #inbox: unknown[] = [];
  #wake: (() => void) | undefined;
  readonly exited: Promise<void>;
  constructor(caFile: string) {
    this.child = fork(fileURLToPath(import.meta.url), ['--session-worker'], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    this.child.on('message', (m) => {
      this.#inbox.push(m);
      this.#wake?.();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.exited.then(() => this.#wake?.());
  }
  post(m: ToWorker): void {
    this.child.send(m);
  }
  async next<T>(ms: number, what: string): Promise<T> {
    const deadline = performance.now() + ms;
    while (this.#inbox.length === 0) {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`${what}: worker exited`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${what}: no answer within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    const m = this.#inbox.shift() as T & { error?: string };
    return m;
  }
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

interface Throughput {
  lib: Lib;
  /** Prosody's CPU time per message (utime + stime from /proc), and its share of the wall time. */
  serverUs?: number;
  serverBusy?: number;
  msgsPerSec?: number;
  sendUs?: number;
  recvUs?: number;
  received?: number;
  sendMs?: number;
  error?: string;
}

/** CPU ms used so far by a process (Linux /proc; undefined elsewhere). */
function procCpuMs(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // clock ticks of 10 ms (USER_HZ)
  } catch {
    return undefined;
  }
}

async function throughputOf(env: Env, lib: Lib, n: number, log: (m: string) => void): Promise<Throughput> {
  const recv = new WorkerProcess(env.info.caFile);
  const sender = new WorkerProcess(env.info.caFile);
  try {
    recv.post({ cmd: 'recv', env, lib, n });
    const r1 = await recv.next<{ ready?: boolean; jid?: string; error?: string }>(60_000, `${lib} receiver`);
    if (r1.error) return { lib, error: r1.error };
    sender.post({ cmd: 'send', env, lib, n, to: r1.jid as string });
    const s1 = await sender.next<{ error?: string }>(60_000, `${lib} sender`);
    if (s1.error) return { lib, error: s1.error };
    const server0 = procCpuMs(env.info.pid);
    const wall0 = performance.now();
    recv.post({ cmd: 'go' });
    sender.post({ cmd: 'go' });
    const done = await recv.next<{ count: number; ms: number; cpuUs: number; error?: string }>(
      120_000,
      `${lib} receiving`,
    );
    const server1 = procCpuMs(env.info.pid);
    const wall = performance.now() - wall0;
    sender.post({ cmd: 'stop' });
    const sent = await sender.next<{ ms: number; cpuUs: number; error?: string }>(30_000, `${lib} sender`);
    if (done.error || sent.error) return { lib, error: done.error ?? sent.error };
    const t: Throughput = {
      lib,
      msgsPerSec: done.count === n ? (n / done.ms) * 1000 : undefined,
      sendUs: sent.cpuUs / n,
      recvUs: done.cpuUs / Math.max(1, done.count),
      received: done.count,
      sendMs: sent.ms,
      ...(server0 !== undefined && server1 !== undefined
        ? { serverUs: ((server1 - server0) * 1000) / n, serverBusy: (100 * (server1 - server0)) / wall }
        : {}),
    };
    if (done.count !== n) t.error = `only ${done.count} of ${n} messages arrived within 90 s`;
    log(
      `  ${lib}: ${t.msgsPerSec?.toFixed(0) ?? 'n/a'} msg/s (Prosody ${t.serverBusy?.toFixed(0) ?? '?'}% busy), send ${t.sendUs?.toFixed(1)} us/msg, receive ${t.recvUs?.toFixed(1)} us/msg (sender done in ${sent.ms.toFixed(0)} ms)`,
    );
    return t;
  } catch (err) {
    return { lib, error: errText(err) };
  } finally {
    await Promise.race([Promise.all([recv.exited, sender.exited]), sleep(8000)]);
    recv.kill();
    sender.kill();
  }
}

async function memoryOf(env: Env, lib: Lib, count: number, log: (m: string) => void): Promise<MemoryResult> {
  const w = new WorkerProcess(env.info.caFile);
  try {
    w.post({ cmd: 'memory', env, lib, count });
    const r = await w.next<MemoryResult>(150_000, `${lib} memory`);
    log(
      r.error
        ? `  ${lib}: ${r.error}`
        : `  ${lib}: ${r.heapKB?.toFixed(1)} KB heap, ${r.rssKB?.toFixed(1)} KB RSS per connection (${count} logins in ${r.loginMs?.toFixed(0)} ms)`,
    );
    return r;
  } catch (err) {
    return { lib, count, error: errText(err) };
  } finally {
    await Promise.race([w.exited, sleep(15_000)]);
    w.kill();
  }
}

const ratioOf = (v: number | undefined, floor: number | undefined): number | null =>
  v === undefined || floor === undefined || !Number.isFinite(v) || !Number.isFinite(floor) || floor === 0
    ? null
    : v / floor;

async function run(ctx: SuiteContext): Promise<{ tables: Table[]; config: Record<string, unknown> }> {
  const load0 = loadavg();
  const messages = ctx.quick ? 2000 : 20_000;
  const connections = ctx.quick ? 20 : 200;
  ctx.log('  starting a private test-bed Prosody');
  // No MAM archiving by default: Prosody's file-backed archive store would be the bottleneck of the
  // throughput test (~500 msg/s), measuring the disk instead of the clients.
  const server = await startProsody({ name: 'bench-session', extraConfig: 'default_archive_policy = false' });
  const workers: WorkerProcess[] = [];
  try {
    const env: Env = { info: { ...server }, ca: readFileSync(server.caFile, 'utf8') };
    // ServerInfo only (functions do not cross IPC)
    env.info = JSON.parse(JSON.stringify(env.info)) as ServerInfo;

    ctx.log(`  time to online, ${ctx.rounds} rounds (+1 warm-up), then resume after a cut`);
    let online: { results: OnlineResult[]; resume: ResumeResult[]; error?: string } = {
      results: [],
      resume: [],
    };
    if (PHASES.includes('online')) {
      const w = new WorkerProcess(server.caFile);
      workers.push(w);
      w.post({ cmd: 'online', env, rounds: ctx.rounds });
      online = await w.next<typeof online>(170_000, 'online');
      if (online.error) throw new Error(`online worker: ${online.error}`);
    }

    ctx.log(`  throughput: ${messages} messages A -> B per library`);
    const tput: Throughput[] = [];
    for (const l of PHASES.includes('throughput') ? THROUGHPUT_LIBS : [])
      tput.push(await throughputOf(env, l, messages, ctx.log));

    ctx.log(`  memory: ${connections} connections online in one process per library`);
    const mem: MemoryResult[] = [];
    for (const l of PHASES.includes('memory') ? MEMORY_LIBS : [])
      mem.push(await memoryOf(env, l, connections, ctx.log));
    const load1 = loadavg();

    // ---- tables
    const loadNote = `load average (1/5/15 min) at start ${load0.map((x) => x.toFixed(2)).join('/')}, at end ${load1.map((x) => x.toFixed(2)).join('/')} on 2 cores shared with Prosody and other work`;
    const floorOnline = median(online.results.find((r) => r.lib === 'floor')?.times ?? []);
    const onlineRows: Row[] = online.results.map((r) => {
      const m = r.error !== undefined ? Number.NaN : median(r.times);
      return {
        name: NAMES[r.lib],
        values: {
          median: Number.isFinite(m) ? m : null,
          n: r.times.length,
          min: r.times.length ? Math.min(...r.times) : null,
          max: r.times.length ? Math.max(...r.times) : null,
        },
        ratio: r.error !== undefined ? null : ratioOf(m, floorOnline),
        ...(isConfab(r.lib) ? { goal: GOAL_ONLINE } : {}),
        flags: r.error !== undefined ? [r.error] : r.failures.map((f) => `a login failed: ${f}`),
        detail: { times: r.times, failures: r.failures },
      };
    });
    const resumeRows: Row[] = online.resume.map((r) => {
      const m = median(r.times);
      return {
        name: NAMES[r.lib],
        values: {
          median: Number.isFinite(m) ? m : null,
          resumed: `${r.resumed}/${RESUME_ROUNDS}`,
        },
        ratio: ratioOf(Number.isFinite(m) ? m : undefined, floorOnline),
        flags: r.error !== undefined ? [r.error] : [],
        detail: { times: r.times },
      };
    });
    const floorT = tput.find((t) => t.lib === 'floor');
    const tputRows: Row[] = tput.map((t) => ({
      name: NAMES[t.lib],
      values: {
        rate: t.msgsPerSec ?? null,
        received: t.received ?? null,
        sendMs: t.sendMs ?? null,
        serverUs: t.serverUs ?? null,
        serverBusy: t.serverBusy ?? null,
      },
      // time per message relative to the floor's: floor rate / rate
      ratio: t.msgsPerSec && floorT?.msgsPerSec ? floorT.msgsPerSec / t.msgsPerSec : null,
      ...(isConfab(t.lib) ? { goal: Number(GOAL_THROUGHPUT.toFixed(3)) } : {}),
      flags: t.error ? [t.error] : [],
    }));
    const cpuRows = (key: 'sendUs' | 'recvUs'): Row[] =>
      tput.map((t) => ({
        name: NAMES[t.lib],
        values: { us: t[key] ?? null },
        ratio: ratioOf(t[key], floorT?.[key]),
        ...(isConfab(t.lib) ? { goal: GOAL_CPU } : {}),
        flags: t.error ? [t.error] : [],
      }));
    const floorMem = mem.find((m) => m.lib === 'floor');
    const memRows: Row[] = mem.map((m) => ({
      name: NAMES[m.lib],
      values: {
        heap: m.heapKB ?? null,
        rss: m.rssKB ?? null,
        goalKB: isConfab(m.lib) ? `<= ${GOAL_HEAP_KB} KB` : '',
        met: isConfab(m.lib) && m.heapKB !== undefined ? (m.heapKB <= GOAL_HEAP_KB ? 'yes' : 'NO') : '',
        loginMs: m.loginMs ?? null,
      },
      ratio: ratioOf(m.heapKB, floorMem?.heapKB),
      flags: m.error ? [m.error] : [],
    }));
    const tables: Table[] = [
      {
        title: `time to online (TCP + STARTTLS + SCRAM-SHA-1 + bind; WebSocket: wss + SCRAM-SHA-1 + bind), median of ${ctx.rounds}`,
        notes: [
          'each round: a new client object (untimed), connect() until online, then a clean disconnect (untimed); contestants interleaved, a different one first each round, GC before each',
          'TLS verified everywhere against the test CA (confab/floor: CA option; peers: NODE_EXTRA_CA_CERTS of the worker process); SCRAM-SHA-1 for all (stanza: SHA-256 and -PLUS disabled)',
          "library defaults otherwise: confab and @xmpp/client enable stream management before 'online' where offered; confab and the floor also send initial presence",
          `@xmpp/client: at most ${SLOW_ROUNDS} timed rounds (each login takes ~1 s of CPU), the others all`,
          'issue reference: floor 6-8 ms, strophe 1.3x, stanza 5-7x, @xmpp/client 80-125x',
          loadNote,
        ],
        columns: [
          { key: 'median', label: 'median ms', digits: 2 },
          { key: 'n', label: 'rounds', digits: 0 },
          { key: 'min', label: 'min ms', digits: 2 },
          { key: 'max', label: 'max ms', digits: 2 },
        ],
        rows: onlineRows,
      },
      {
        title: `time to resume (XEP-0198) after a cut, median of ${RESUME_ROUNDS}`,
        notes: [
          'a loopback proxy resets both sides (RST); timed from the cut until the library reports the session resumed',
          'reconnect delay forced to ~0 (confab initialDelay 1 ms, @xmpp/client reconnect.delay 0, stanza maxReconnectBackoff 1 ms): the time is the reconnect itself; "vs floor" is against the floor\'s full login',
          'the floor has no stream management; strophe.js and @xmpp/client WebSocket are not measured here',
          loadNote,
        ],
        columns: [
          { key: 'median', label: 'median ms', digits: 2 },
          { key: 'resumed', label: 'resumed' },
        ],
        rows: resumeRows,
      },
      {
        title: `messages per second A -> B (${messages} messages, counted at B)`,
        notes: [
          'A and B are separate worker processes; A sends as fast as its API allows (awaiting each send where it returns a promise; the floor waits for drain), B counts messages with a body',
          'rate = messages / (go until the last one arrives at B); "vs floor" = floor rate / rate (time per message), goal: within 5% of the floor',
          'stream management: confab on with resumption (acks batched by default), @xmpp/client and stanza their defaults (on), the floor none',
          'Prosody busy % near 100: the server is the bottleneck (one Lua thread, sharing 2 cores with both clients); MAM archiving is off (default_archive_policy = false)',
          '"send loop ms": how long the sender\'s loop took (confab: paced by the outbox window, which waits for SM acks)',
          'issue reference: Prosody itself caps near 12k messages/s',
          loadNote,
        ],
        columns: [
          { key: 'rate', label: 'msg/s', digits: 0 },
          { key: 'received', label: 'received', digits: 0 },
          { key: 'sendMs', label: 'send loop ms', digits: 0 },
          { key: 'serverUs', label: 'Prosody us/msg', digits: 0 },
          { key: 'serverBusy', label: 'Prosody busy %', digits: 0 },
        ],
        rows: tputRows,
      },
      {
        title: 'client CPU per message sent (sender process, user + system)',
        notes: [
          'process.cpuUsage delta of the sender process from go until B has all messages, divided by the count (includes acks, GC, TLS)',
          'issue reference: floor 2.7 us send, peers 2-4x',
        ],
        columns: [{ key: 'us', label: 'us/msg', digits: 2 }],
        rows: cpuRows('sendUs'),
      },
      {
        title: 'client CPU per message received (receiver process, user + system)',
        notes: [
          'process.cpuUsage delta of the receiver process from go until the last message, divided by the count',
          'issue reference: floor 7.5 us receive, peers 2-4x',
        ],
        columns: [{ key: 'us', label: 'us/msg', digits: 2 }],
        rows: cpuRows('recvUs'),
      },
      {
        title: `heap and RSS per connection, ${connections} connections online in one process`,
        notes: [
          'a fresh worker per library (node --expose-gc); one warm-up login first; gc() x2 before and after; (after - before) / connections',
          '@xmpp/client logs in with PLAIN over TLS here (its SCRAM costs ~0.5 s of CPU per login); the others SCRAM-SHA-1',
          `goal: confab at most ${GOAL_HEAP_KB} KB heap per online connection (absolute; "vs floor" is heap / floor heap)`,
          'issue reference: floor 6-8 KB, @xmpp/client 23 KB, stanza 846 KB',
          loadNote,
        ],
        columns: [
          { key: 'heap', label: 'heap KB/conn', digits: 1 },
          { key: 'rss', label: 'RSS KB/conn', digits: 1 },
          { key: 'goalKB', label: 'heap goal' },
          { key: 'met', label: 'heap met' },
          { key: 'loginMs', label: 'logins ms', digits: 0 },
        ],
        rows: memRows,
      },
    ];
    return {
      tables,
      config: {
        prosody: '0.12 (test bed, full profile)',
        rounds: ctx.rounds,
        resumeRounds: RESUME_ROUNDS,
        messages,
        connections,
        body: BODY,
        loadAverage: { start: load0, end: load1 },
        confabSource: process.env.CONFAB_BENCH_SRC ?? 'packages/confab/src/index.ts',
      },
    };
  } finally {
    for (const w of workers) w.kill();
    await server.stop();
  }
}

export const sessionSuite: Suite = {
  name: 'session',
  description:
    'through a private Prosody: time to online, resume, messages/s, CPU per message, memory per connection vs a no-library floor',
  defaultRounds: 20,
  run,
};

if (process.argv.includes('--session-worker') && process.argv[1] === fileURLToPath(import.meta.url)) {
  await worker();
}
