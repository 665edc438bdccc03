/**
 * A large roster through a real server (issue 4, "Benchmarks"): a 5,000-item roster, time from
 * connect() to a complete model and the heap it keeps, then 5,000 presences processed; confab
 * (WebSocket, and TCP as an extra row) against stanza over WebSocket. Goal: confab ahead of stanza
 * on both (ratio confab / stanza below 1).
 *
 * Set-up, once per run, on one private test-bed Prosody (started here, always stopped):
 * - the measured account's roster is written straight into Prosody's storage before the first
 *   login (`<data>/localhost/roster/<user>.dat`, the Lua table util/datamanager writes and
 *   core/rostermanager reads: `[jid] = { subscription, name, groups = { [group] = true } }` plus
 *   the metadata entry `[false] = { version, pending }`), which takes milliseconds instead of 5,000
 *   roster sets. The contacts are `c<i>@contacts.localhost`, subscription 'both', 40 groups.
 * - contacts.localhost is an XEP-0114 external component served by this process: it plays the
 *   5,000 contacts. It answers nothing the server sends it (the probes and our presence broadcast
 *   after each login are read and dropped), so no contact presence arrives during the login.
 *
 * Each round, in one worker process per library (`node --expose-gc`, NODE_EXTRA_CA_CERTS = the
 * test CA, as bench/session.ts does):
 *   1. a new client object (untimed); gc() x2; heap before;
 *   2. timed: connect() start until the roster model holds 5,000 items (confab: the roster's
 *      'loaded' event; stanza: getRoster() resolved and its items put in a Map, the model an app
 *      keeps with stanza, which has none of its own); both send initial presence right after the
 *      roster get, as RFC 6121 2.2 orders;
 *   3. a pause for the server's login fan-out (probes, presence broadcast) to end; gc() x2; heap
 *      after = the roster's cost (connection included: the same for both);
 *   4. presences: the worker blocks its own event loop (Atomics.wait), the component sends 5,000
 *      directed available presences (one per contact, show/status/priority) to the worker's full
 *      JID, and the worker waits until Prosody's CPU time stops moving (all routed) before it lets
 *      its event loop run again. The presences are then waiting in the socket (and in Prosody's
 *      send buffer) and the time from the first to the last presence handled by the library
 *      (confab: presence 'contact' event, its per-contact model updated; stanza: 'available'
 *      event, stored in a Map by full JID) is the client's processing time, not the server's
 *      routing speed. Client CPU (process.cpuUsage) over that window is reported too;
 *   5. gc() x2; heap after the presences; disconnect.
 *
 * Why directed presences from a component and not probe answers from 5,000 online accounts: 5,000
 * real sessions would cost more than the whole benchmark's time budget to set up, and a burst
 * from one connection routed by Prosody is the same stanza stream the client sees at login
 * (presences from 5,000 distinct roster contacts), in a window the benchmark controls.
 *
 *   npm run bench -- roster            (default 3 rounds; --rounds N; --quick: 500 items)
 *   CONFAB_BENCH_CPU_PROF=/tmp/prof npm run bench -- roster   writes .cpuprofile files per worker
 *   CONFAB_BENCH_HEAP_SNAPSHOT=/tmp/snap npm run bench -- roster  a .heapsnapshot per worker, taken
 *     after the presences (after the heap was measured); with CONFAB_BENCH_HEAP_AT=roster also
 *     one after the roster (that one does disturb the presence numbers of its round)
 *   CONFAB_BENCH_SRC=/path/to/packages/confab/src/index.ts    measures another confab tree
 */

import { type ChildProcess, fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createProsodyAccount, randomPassword, uniqueUsername } from '../testbed/accounts.ts';
import { freePort } from '../testbed/ports.ts';
import { startProsody } from '../testbed/prosody.ts';
import type { Account, ServerInfo } from '../testbed/types.ts';
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

type Lib = 'confab-ws' | 'confab-tcp' | 'stanza-ws';
const LIBS: Lib[] = ['confab-ws', 'confab-tcp', 'stanza-ws'];
const NAMES: Record<Lib, string> = {
  'confab-ws': 'confab WebSocket',
  'confab-tcp': 'confab TCP (extra)',
  'stanza-ws': 'stanza WebSocket',
};
const COMPONENT = 'contacts.localhost';
const GROUPS = 40;
/** The goal: at most stanza's time / heap (ahead of it). */
const GOAL = 1;

const contactJid = (i: number): string => `c${i}@${COMPONENT}`;

/** Lua string literal (the names here are ASCII without quotes or backslashes, but be safe). */
const luaStr = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** Prosody's roster storage for `username`: what rostermanager.save_roster would have written. */
function writeRosterFile(dataDir: string, username: string, n: number): void {
  const dir = join(dataDir, 'localhost', 'roster');
  mkdirSync(dir, { recursive: true });
  const lines = ['return {', '\t[false] = { ["version"] = 1; ["pending"] = {}; };'];
  for (let i = 0; i < n; i++) {
    lines.push(
      `\t[${luaStr(contactJid(i))}] = { ["subscription"] = "both"; ["name"] = ${luaStr(`Contact ${i}`)}; ["groups"] = { [${luaStr(`Group ${i % GROUPS}`)}] = true; }; };`,
    );
  }
  lines.push('};', '');
  writeFileSync(join(dir, `${username}.dat`), lines.join('\n'));
}

/** Prosody's CPU ms so far (utime + stime from /proc, ticks of 10 ms). */
function procCpuMs(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

// =============================================================================================
// Worker side

interface Env {
  info: ServerInfo;
  ca: string;
  account: Account;
  items: number;
  /** A small roster logged into first, unmeasured, so code paths and module state are warm. */
  warm: Account;
  warmItems: number;
}

interface Model {
  /** Full JID once online. */
  readonly jid: string;
  /** Resolves when online and the roster model holds `items` entries. */
  login(items: number): Promise<void>;
  /** Calls `cb` once per contact presence handled by the library's model. */
  onPresence(cb: () => void): void;
  disconnect(): Promise<void>;
}

type Make = (acct: Account) => Model;

interface ConfabLike {
  readonly jid: string | undefined;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  on(event: string, listener: (payload: never) => void): () => void;
  roster: {
    readonly size: number;
    once(event: 'loaded', listener: (e: { size: number }) => void): () => void;
  };
  presence: { on(event: 'contact', listener: (c: { jid: string; available: boolean }) => void): () => void };
}

async function loadConfab(env: Env, kind: 'tcp' | 'ws'): Promise<Make> {
  const src = process.env.CONFAB_BENCH_SRC
    ? pathToFileURL(process.env.CONFAB_BENCH_SRC).href
    : new URL('../packages/confab/src/index.ts', import.meta.url).href;
  const m = (await import(src)) as { createClient: (o: Record<string, unknown>) => ConfabLike };
  return (acct) => {
    const c = m.createClient({
      jid: acct.jid,
      password: acct.password,
      host: env.info.host,
      port: env.info.ports.c2s,
      websocket: kind === 'ws' ? env.info.wssUrl : undefined,
      tls: { ca: env.ca },
      mechanisms: ['SCRAM-SHA-1'],
      reconnect: false,
    });
    c.on('error', () => {});
    return {
      get jid() {
        return c.jid ?? '';
      },
      async login(items) {
        const loaded = new Promise<number>((resolve) => c.roster.once('loaded', (e) => resolve(e.size)));
        await c.connect();
        const size = await loaded;
        if (size !== items) throw new Error(`confab roster has ${size} items, expected ${items}`);
      },
      onPresence(cb) {
        c.presence.on('contact', (v) => {
          if (v.available && v.jid.endsWith(`@${COMPONENT}`)) cb();
        });
      },
      disconnect: () => c.disconnect(),
    };
  };
}

interface StanzaAgent {
  jid: string;
  sasl: { disable(name: string): void };
  on(e: string, f: (x: { from?: string }) => void): void;
  once(e: string, f: (x: unknown) => void): void;
  off(e: string, f: (x: never) => void): void;
  connect(): void;
  disconnect(): void;
  getRoster(): Promise<{ items: Array<{ jid: string }> }>;
  sendPresence(p?: Record<string, unknown>): void;
}

async function loadStanza(env: Env): Promise<Make> {
  const name = 'stanza';
  const { createClient } = (await import(name)) as {
    createClient: (o: Record<string, unknown>) => StanzaAgent;
  };
  return (acct) => {
    const c = createClient({
      jid: acct.jid,
      password: acct.password,
      transports: { websocket: env.info.wssUrl, bosh: false },
      autoReconnect: false,
    });
    for (const mech of ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS']) c.sasl.disable(mech);
    // The app's models: stanza hands over parsed JSON and keeps none itself.
    const roster = new Map<string, unknown>();
    const presences = new Map<string, unknown>();
    const holder = { roster, presences };
    return {
      get jid() {
        return c.jid;
      },
      login: (items) =>
        new Promise<void>((resolve, reject) => {
          const fail = (): void => reject(new Error('stanza: login failed'));
          c.once('auth:failed', fail);
          c.once('disconnected', fail);
          c.once('session:started', () => {
            // the usual stanza app: ask for the roster, announce presence (RFC 6121 2.2 order)
            const got = c.getRoster();
            c.sendPresence();
            got.then((r) => {
              for (const it of r.items) roster.set(it.jid, it);
              c.off('auth:failed', fail);
              c.off('disconnected', fail);
              if (roster.size !== items)
                reject(new Error(`stanza roster has ${roster.size} items, expected ${items}`));
              else resolve();
            }, reject);
          });
          c.connect();
        }),
      onPresence(cb) {
        c.on('available', (p) => {
          if (p.from?.includes(`@${COMPONENT}`)) {
            holder.presences.set(p.from, p);
            cb();
          }
        });
      },
      disconnect: () =>
        new Promise<void>((resolve) => {
          c.once('disconnected', () => resolve());
          c.disconnect();
        }),
    };
  };
}

type ToWorker = { cmd: 'start'; env: Env; lib: Lib } | { cmd: 'hold'; marker: string; prosodyPid: number };

interface RoundResult {
  rosterMs: number;
  /** Client CPU (user + system) over the same window. */
  rosterCpuMs: number;
  rosterHeapKB: number;
  presenceMs: number;
  presenceCpuMs: number;
  presences: number;
  /** Wall time the worker's event loop was held while the burst was routed. */
  heldMs: number;
  totalHeapKB: number;
}

type FromWorker =
  | { held: true; jid: string; n: number }
  | { round: RoundResult }
  | { done: true }
  | { error: string };

const post = (m: FromWorker): Promise<void> =>
  new Promise((resolve) => {
    process.send?.(m, undefined, {}, () => resolve());
  });

/** The parent's messages, queued: one may arrive while the worker is busy logging in. */
const inbox: ToWorker[] = [];
let wakeInbox: (() => void) | undefined;
async function nextMessage(): Promise<ToWorker> {
  while (inbox.length === 0) await new Promise<void>((r) => (wakeInbox = r));
  return inbox.shift() as ToWorker;
}

/**
 * Block this process's event loop (sockets are not read) until `marker` exists and Prosody's CPU
 * time has not moved for 200 ms: everything the component sent has been routed to us.
 */
function holdUntilRouted(marker: string, pid: number): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const deadline = performance.now() + 30_000;
  let last = procCpuMs(pid);
  let stillSince = performance.now();
  while (performance.now() < deadline) {
    Atomics.wait(cell, 0, 0, 10);
    const now = procCpuMs(pid);
    if (now !== last) {
      last = now;
      stillSince = performance.now();
    } else if (existsSync(marker) && performance.now() - stillSince >= 200) return;
  }
}

/** One measured round in a fresh process: a warm-up login (small roster, small burst), then the real one. */
async function workerRun(env: Env, lib: Lib): Promise<void> {
  const make =
    lib === 'stanza-ws' ? await loadStanza(env) : await loadConfab(env, lib === 'confab-ws' ? 'ws' : 'tcp');
  const plan = [
    { acct: env.warm, n: env.warmItems, report: false },
    { acct: env.account, n: env.items, report: true },
  ];
  for (const { acct, n, report } of plan) {
    let model: Model | undefined = make(acct);
    gc();
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await withTimeout(model.login(n), 60_000, `${lib} login + roster`);
    const rosterMs = performance.now() - t0;
    const rc = process.cpuUsage(c0);
    const rosterCpuMs = (rc.user + rc.system) / 1000;
    await sleep(500); // the server's login fan-out (probes, broadcast) and SM enable settle
    gc();
    gc();
    const rosterHeapKB = (process.memoryUsage().heapUsed - heap0) / 1024;
    if (report && process.env.CONFAB_BENCH_HEAP_SNAPSHOT && process.env.CONFAB_BENCH_HEAP_AT === 'roster') {
      const { writeHeapSnapshot } = await import('node:v8');
      writeHeapSnapshot(
        join(process.env.CONFAB_BENCH_HEAP_SNAPSHOT, `${lib}-${process.pid}-roster.heapsnapshot`),
      );
    }

    let count = 0;
    let first = 0;
    let cpu0 = process.cpuUsage();
    let last = 0;
    const all = new Promise<void>((resolve) => {
      model?.onPresence(() => {
        if (count === 0) {
          first = performance.now();
          cpu0 = process.cpuUsage();
        }
        if (++count === n) {
          last = performance.now();
          resolve();
        }
      });
    });
    const hold = await nextMessage();
    if (hold.cmd !== 'hold') throw new Error('expected hold');
    await post({ held: true, jid: model.jid, n });
    const h0 = performance.now();
    holdUntilRouted(hold.marker, hold.prosodyPid);
    const heldMs = performance.now() - h0;
    rmSync(hold.marker, { force: true });
    await withTimeout(all, 60_000, `${lib} presences (${count} of ${n})`);
    const cpu = process.cpuUsage(cpu0);
    await sleep(100);
    gc();
    gc();
    const totalHeapKB = (process.memoryUsage().heapUsed - heap0) / 1024;
    const snap = process.env.CONFAB_BENCH_HEAP_SNAPSHOT;
    if (report && snap) {
      // After the numbers: a snapshot costs seconds and memory, it must not be measured.
      mkdirSync(snap, { recursive: true });
      const { writeHeapSnapshot } = await import('node:v8');
      writeHeapSnapshot(join(snap, `${lib}-${process.pid}.heapsnapshot`));
    }
    if (report)
      await post({
        round: {
          rosterMs,
          rosterCpuMs,
          rosterHeapKB,
          presenceMs: last - first,
          presenceCpuMs: (cpu.user + cpu.system) / 1000,
          presences: count,
          heldMs,
          totalHeapKB,
        },
      });
    await withTimeout(model.disconnect(), 5000, `${lib} disconnect`).catch(() => {});
    model = undefined;
  }
  await post({ done: true });
}

async function worker(): Promise<void> {
  // stanza in Node uses a global WebSocket; Node 20 has none without a flag.
  process.on('message', (m: ToWorker) => {
    inbox.push(m);
    wakeInbox?.();
  });
  const { WebSocket } = await import('ws');
  (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
  const m = await nextMessage();
  if (m.cmd !== 'start') return;
  await workerRun(m.env, m.lib)
    .catch((err: unknown) => post({ error: errText(err) }))
    .finally(() => setTimeout(() => process.exit(0), 100));
}

// =============================================================================================
// Parent side: the component (the 5,000 contacts), the workers, the tables.

/** A minimal XEP-0114 component connection: handshake, then write bursts; reads are dropped. */
class Component {
  #sock: Socket | undefined;
  /** Bytes the server sent us (probes and broadcasts after each login), for the notes. */
  received = 0;
  async connect(port: number, secret: string): Promise<void> {
    const sock = netConnect({ host: '127.0.0.1', port, noDelay: true });
    this.#sock = sock;
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      let stage: 'header' | 'handshake' | 'open' = 'header';
      sock.once('error', reject);
      sock.on('data', (d: Buffer) => {
        this.received += d.length;
        if (stage === 'open') return;
        buf += d.toString('utf8');
        if (stage === 'header') {
          const id = /<stream:stream[^>]*\sid=['"]([^'"]+)['"]/.exec(buf)?.[1];
          if (!id) return;
          const digest = createHash('sha1')
            .update(id + secret)
            .digest('hex');
          sock.write(`<handshake>${digest}</handshake>`);
          stage = 'handshake';
          buf = '';
        } else if (buf.includes('<handshake')) {
          stage = 'open';
          resolve();
        } else if (buf.includes('stream:error')) reject(new Error(`component refused: ${buf}`));
      });
      sock.write(
        `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${COMPONENT}'>`,
      );
    });
  }
  /** Write `n` available presences, one per contact, to `to`; resolves once handed to the kernel. */
  burst(to: string, n: number, round: number): Promise<void> {
    const shows = ['', '<show>away</show>', '<show>chat</show>', '<show>dnd</show>', '<show>xa</show>'];
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      parts.push(
        `<presence from='${contactJid(i)}/phone' to='${to}' id='p${round}x${i}'>${shows[i % 5]}<status>Status of contact ${i}, round ${round}</status><priority>${i % 10}</priority></presence>`,
      );
    }
    return new Promise((resolve, reject) => {
      this.#sock?.write(parts.join(''), (err) => (err ? reject(err) : resolve()));
    });
  }
  close(): void {
    this.#sock?.end('</stream:stream>');
    this.#sock?.destroy();
  }
}

class WorkerProcess {
  readonly child: ChildProcess;
  readonly #inbox: FromWorker[] = [];
  #wake: (() => void) | undefined;
  readonly exited: Promise<void>;
  constructor(caFile: string, lib: Lib) {
    const prof = process.env.CONFAB_BENCH_CPU_PROF;
    this.child = fork(fileURLToPath(import.meta.url), ['--roster-worker'], {
      execArgv: [
        '--expose-gc',
        '--import',
        'tsx',
        ...(prof ? ['--cpu-prof', '--cpu-prof-dir', join(prof, lib)] : []),
      ],
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    this.child.on('message', (m: FromWorker) => {
      this.#inbox.push(m);
      this.#wake?.();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.exited.then(() => this.#wake?.());
  }
  post(m: ToWorker): void {
    this.child.send(m);
  }
  async next(ms: number, what: string): Promise<FromWorker> {
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
    return this.#inbox.shift() as FromWorker;
  }
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

interface LibResult {
  lib: Lib;
  rounds: RoundResult[];
  error?: string;
}

/** One round of one library: a fresh worker (warm-up login first), its result or the error. */
async function measureRound(
  lib: Lib,
  env: Env,
  comp: Component,
  server: { pid: number; dir: string },
  round: number,
): Promise<RoundResult> {
  const w = new WorkerProcess(env.info.caFile, lib);
  try {
    w.post({ cmd: 'start', env, lib });
    for (let k = 0; ; k++) {
      const marker = join(server.dir, `burst-${lib}-${round}-${k}`);
      w.post({ cmd: 'hold', marker, prosodyPid: server.pid });
      const m = await w.next(90_000, `${lib} login`);
      if ('error' in m) throw new Error(m.error);
      if ('round' in m) {
        await w.next(15_000, `${lib} finish`);
        return m.round;
      }
      if (!('held' in m)) throw new Error(`${lib}: unexpected ${JSON.stringify(m)}`);
      await comp.burst(m.jid, m.n, round * 10 + k);
      writeFileSync(marker, '');
    }
  } finally {
    await Promise.race([w.exited, sleep(5000)]);
    w.kill();
  }
}

async function run(ctx: SuiteContext): Promise<{ tables: Table[]; config: Record<string, unknown> }> {
  const load0 = loadavg();
  const items = ctx.quick ? 500 : 5000;
  const secret = randomBytes(12).toString('hex');
  const componentPort = await freePort();
  ctx.log(`  starting a private test-bed Prosody with component ${COMPONENT}`);
  const server = await startProsody({
    name: 'bench-roster',
    extraConfig: [
      'default_archive_policy = false',
      `component_ports = { ${componentPort} }`,
      'component_interfaces = { "127.0.0.1" }',
      `Component ${luaStr(COMPONENT)}`,
      `  component_secret = ${luaStr(secret)}`,
    ].join('\n'),
  });
  const comp = new Component();
  try {
    const info = JSON.parse(JSON.stringify(server)) as ServerInfo;
    const username = uniqueUsername('roster');
    const password = randomPassword();
    const dataDir = (info.accounts as { dataDir: string }).dataDir;
    await createProsodyAccount(dataDir, info.domain, username, password);
    const warmName = uniqueUsername('warm');
    await createProsodyAccount(dataDir, info.domain, warmName, password);
    const warmItems = 100;
    writeRosterFile(dataDir, warmName, warmItems);
    const tw = performance.now();
    writeRosterFile(dataDir, username, items);
    ctx.log(`  wrote a ${items}-item roster file in ${(performance.now() - tw).toFixed(0)} ms`);
    const env: Env = {
      info,
      ca: readFileSync(server.caFile, 'utf8'),
      account: { jid: `${username}@${info.domain}`, username, password, domain: info.domain },
      items,
      warm: { jid: `${warmName}@${info.domain}`, username: warmName, password, domain: info.domain },
      warmItems,
    };
    // Prosody may open the component port a little after c2s (startProsody waits for c2s).
    for (let attempt = 1; ; attempt++) {
      try {
        await comp.connect(componentPort, secret);
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== 'ECONNREFUSED' || attempt >= 50) throw err;
        await sleep(100);
      }
    }

    // Rounds interleaved, a different library first each round; a fresh worker process per round.
    const results: LibResult[] = LIBS.map((lib) => ({ lib, rounds: [] }));
    for (let r = 0; r < ctx.rounds; r++) {
      for (let j = 0; j < LIBS.length; j++) {
        const res = results[(r + j) % LIBS.length] as LibResult;
        if (res.error !== undefined) continue;
        try {
          const x = await measureRound(res.lib, env, comp, server, r);
          res.rounds.push(x);
          ctx.log(
            `  ${res.lib} round ${r + 1}/${ctx.rounds}: roster ${x.rosterMs.toFixed(0)} ms (${x.rosterCpuMs.toFixed(0)} ms CPU), ${x.rosterHeapKB.toFixed(0)} KB heap; ${x.presences} presences in ${x.presenceMs.toFixed(0)} ms (${x.presenceCpuMs.toFixed(0)} ms CPU), held ${x.heldMs.toFixed(0)} ms; heap total ${x.totalHeapKB.toFixed(0)} KB`,
          );
        } catch (err) {
          res.error = errText(err);
          ctx.log(`  ${res.lib}: ${res.error}`);
        }
      }
    }
    const load1 = loadavg();

    const med = (r: LibResult | undefined, k: keyof RoundResult): number | null =>
      r && r.error === undefined && r.rounds.length ? median(r.rounds.map((x) => x[k])) : null;
    const stanza = results.find((r) => r.lib === 'stanza-ws');
    const ratio = (v: number | null, base: number | null): number | null =>
      v === null || base === null || base === 0 ? null : v / base;
    const rowsFor = (
      keys: Array<{ key: keyof RoundResult; col: string }>,
      ratioKey: keyof RoundResult,
    ): Row[] =>
      results.map((r) => ({
        name: NAMES[r.lib],
        values: Object.fromEntries(keys.map((k) => [k.col, med(r, k.key)])),
        ratio: ratio(med(r, ratioKey), med(stanza, ratioKey)),
        ...(r.lib.startsWith('confab') ? { goal: GOAL } : {}),
        flags: r.error ? [r.error] : [],
        detail: { rounds: r.rounds },
      }));
    const loadNote = `load average (1/5/15 min) at start ${load0.map((x) => x.toFixed(2)).join('/')}, at end ${load1.map((x) => x.toFixed(2)).join('/')} on 2 cores shared with Prosody`;
    const vs = '"vs floor" here is the ratio to stanza WebSocket (goal: below 1, ahead of it)';
    const tables: Table[] = [
      {
        title: `${items}-item roster: connect() to a complete model, median of ${ctx.rounds}`,
        notes: [
          'timed from connect() (new client object untimed) to the roster model holding every item: TLS + SCRAM-SHA-1 + bind + SM enable + roster get and its ~0.5 MB result; confab: roster "loaded"; stanza: getRoster() resolved and its items put in a Map (stanza keeps no roster model)',
          'a fresh worker process per library and round (rounds interleaved), which first logs in once unmeasured to a 100-item roster (warm code paths), then to the measured account; the roster file was written into Prosody storage before the first login (subscription both, 40 groups, names)',
          'both send initial presence after the roster get, so Prosody probes and broadcasts to every contact (the component drops that) while the client parses the roster',
          vs,
          loadNote,
        ],
        columns: [
          { key: 'ms', label: 'median ms', digits: 1 },
          { key: 'min', label: 'min ms', digits: 1 },
          { key: 'cpu', label: 'client CPU ms', digits: 1 },
        ],
        rows: rowsFor(
          [
            { key: 'rosterMs', col: 'ms' },
            { key: 'rosterCpuMs', col: 'cpu' },
          ],
          'rosterMs',
        ).map((row, i) => ({
          ...row,
          values: {
            ...row.values,
            min: results[i]?.rounds.length
              ? Math.min(...(results[i]?.rounds.map((x) => x.rosterMs) ?? []))
              : null,
          },
        })),
      },
      {
        title: `heap kept by the roster (${items} items) and after ${items} presences, median of ${ctx.rounds}`,
        notes: [
          'heapUsed after gc() x2 minus heapUsed after gc() x2 before the client object was made; the connection itself is included (the same kind for both)',
          "\"vs floor\" is the roster heap against stanza's (its Map of the getRoster() items); after-presences: confab's per-resource and per-contact model, stanza's parsed presences in a Map by full JID",
          vs,
        ],
        columns: [
          { key: 'roster', label: 'roster heap KB', digits: 0 },
          { key: 'total', label: 'after presences KB', digits: 0 },
        ],
        rows: rowsFor(
          [
            { key: 'rosterHeapKB', col: 'roster' },
            { key: 'totalHeapKB', col: 'total' },
          ],
          'rosterHeapKB',
        ),
      },
      {
        title: `${items} presences processed (already waiting in the socket), median of ${ctx.rounds}`,
        notes: [
          `${items} directed available presences, one from each roster contact (show, status, priority; no caps, so no disco traffic), sent by the ${COMPONENT} component in one burst while the client's event loop is held; released once Prosody's CPU time stops moving (all routed)`,
          'timed from the first to the last presence handled: confab presence "contact" events (its per-resource + per-contact model updated), stanza "available" events (stored in a Map); CPU = process.cpuUsage over the same window',
          "the part of the burst still in Prosody's send buffer (socket buffers hold ~0.2-4 MB) is written while the client reads: the window includes that, for both",
          vs,
          loadNote,
        ],
        columns: [
          { key: 'ms', label: 'median ms', digits: 1 },
          { key: 'cpu', label: 'CPU ms', digits: 1 },
          { key: 'us', label: 'us/presence', digits: 1 },
        ],
        rows: rowsFor(
          [
            { key: 'presenceMs', col: 'ms' },
            { key: 'presenceCpuMs', col: 'cpu' },
          ],
          'presenceMs',
        ).map((row) => ({
          ...row,
          values: {
            ...row.values,
            us: typeof row.values.ms === 'number' ? (row.values.ms * 1000) / items : null,
          },
        })),
      },
    ];
    const confabWs = results.find((r) => r.lib === 'confab-ws');
    const ahead = (k: keyof RoundResult): boolean => {
      const x = ratio(med(confabWs, k), med(stanza, k));
      return x !== null && x < 1;
    };
    const verdict = `goal "ahead of stanza over WebSocket on both": roster time ${ahead('rosterMs') ? 'yes' : 'NO'}, roster heap ${ahead('rosterHeapKB') ? 'yes' : 'NO'}, presences ${ahead('presenceMs') ? 'yes' : 'NO'} (confab WebSocket vs stanza WebSocket)`;
    tables[2]?.notes.push(verdict);
    ctx.log(`  ${verdict}`);
    return {
      tables,
      config: {
        prosody: '0.12 (test bed, full profile) + XEP-0114 component',
        items,
        rounds: ctx.rounds,
        componentBytesReceived: comp.received,
        verdict,
        loadAverage: { start: load0, end: load1 },
        confabSource: process.env.CONFAB_BENCH_SRC ?? 'packages/confab/src/index.ts',
      },
    };
  } finally {
    comp.close();
    await server.stop();
  }
}

export const rosterSuite: Suite = {
  name: 'roster',
  description: `through a private Prosody: a 5,000-item roster (time to a complete model, heap) and 5,000 presences processed, confab vs stanza`,
  defaultRounds: 3,
  run,
};

if (process.argv.includes('--roster-worker') && process.argv[1] === fileURLToPath(import.meta.url)) {
  await worker();
}
