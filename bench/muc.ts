/**
 * Joining a big room through a real server (issue 5, "Benchmark"): a room of 500 occupants on a
 * private test-bed Prosody, time from sending the join until the occupant model is complete;
 * confab (WebSocket, and TCP as an extra row) against stanza over WebSocket, in the same run.
 * Goal: confab ahead of stanza (ratio confab / stanza below 1).
 *
 * Set-up, once per run, on one private Prosody (started here, always stopped; plaintext c2s
 * allowed, so the populating connections are cheap):
 * - 500 accounts written straight into Prosody's storage (testbed/accounts.ts, milliseconds each);
 * - 500 raw connections from this process (plain TCP, SASL PLAIN, bind: a few hundred bytes each,
 *   no parser: the replies are found by substring search), each joining the room with its own
 *   nick and no history; the first creates the room and accepts the default configuration
 *   (XEP-0045 10.1.2 instant room). Everything the room broadcasts to them afterwards is read and
 *   dropped. Prosody 0.12 puts no occupant limit on a room unless one is configured, so no config
 *   change is needed (ejabberd would stop at 200: `max_users` default).
 *
 * Each round, in one worker process per library (`node --expose-gc`, NODE_EXTRA_CA_CERTS = the
 * test CA, as bench/roster.ts does), on a fresh account:
 *   1. login (untimed, verified TLS, SCRAM-SHA-1), then a warm-up join of a 10-occupant room and a
 *      leave (untimed: warm code paths), then a pause for the login's background traffic;
 *   2. timed: from the join call (the presence to room/nick goes out) until the occupant model
 *      holds all 501 occupants (the 500 and us) and we are joined: confab `muc.join()` resolved
 *      (it resolves on the self-presence, status 110, which the room sends after the list) and
 *      `room.occupants.size === 501`; stanza `joinRoom()` resolved (its 'muc:join') and a Map of
 *      its 'muc:available' presences by occupant JID (the model an app keeps with stanza, which
 *      has none of its own) holding 501 entries; client CPU over the same window;
 *   3. heap after gc() x2 against before the join: the occupant model's cost;
 *   4. leave, disconnect.
 *
 *   npm run bench -- muc               (default 3 rounds; --rounds N; --quick: 50 occupants)
 */

import { type ChildProcess, fork } from 'node:child_process';
import { connect as netConnect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createProsodyAccount, randomPassword, uniqueUsername } from '../testbed/accounts.ts';
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
const GOAL = 1;
const WARM_OCCUPANTS = 10;
const NS_MUC = 'http://jabber.org/protocol/muc';

// =============================================================================================
// The populating connections: the least that is an occupant.

/** One raw plaintext c2s connection that joins a room and then reads and drops everything. */
class Occupant {
  #sock: Socket | undefined;
  #buf = '';
  #waiter: { needle: string; resolve: () => void; reject: (e: Error) => void } | undefined;
  #dropping = false;

  constructor(
    readonly acct: Account,
    readonly host: string,
    readonly port: number,
  ) {}

  #check(): void {
    const w = this.#waiter;
    if (!w) return;
    const i = this.#buf.indexOf(w.needle);
    if (i === -1) {
      if (
        this.#buf.includes('<failure') ||
        this.#buf.includes('<stream:error') ||
        this.#buf.includes("type='error'")
      )
        w.reject(new Error(`occupant ${this.acct.username}: ${this.#buf.slice(0, 300)}`));
      return;
    }
    this.#buf = this.#buf.slice(i + w.needle.length);
    this.#waiter = undefined;
    w.resolve();
  }

  #until(needle: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiter = { needle, resolve, reject };
      this.#check();
    });
  }

  #write(s: string): void {
    this.#sock?.write(s);
  }

  async connect(): Promise<void> {
    const s = await new Promise<Socket>((resolve, reject) => {
      const x = netConnect({ host: this.host, port: this.port, noDelay: true }, () => resolve(x));
      x.once('error', reject);
    });
    this.#sock = s;
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      if (this.#dropping) return;
      this.#buf += d;
      this.#check();
    });
    s.on('error', () => {});
    const header = `<?xml version='1.0'?><stream:stream to='${this.acct.domain}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;
    this.#write(header);
    await this.#until('</stream:features>');
    const plain = Buffer.from(`\u0000${this.acct.username}\u0000${this.acct.password}`).toString('base64');
    this.#write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`);
    await this.#until('<success');
    this.#buf = '';
    this.#write(header);
    await this.#until('</stream:features>');
    this.#write("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
    await this.#until('</iq>');
  }

  /** Join `room` as `nick` (no history); with `create`, accept the new room's default configuration. */
  async join(room: string, nick: string, create: boolean): Promise<void> {
    this.#buf = '';
    this.#write(
      `<presence to='${room}/${nick}'><x xmlns='${NS_MUC}'><history maxstanzas='0'/></x></presence>`,
    );
    // The self-presence carries status 110.
    await this.#until("code='110'");
    if (create) {
      this.#write(
        `<iq type='set' id='c' to='${room}'><query xmlns='${NS_MUC}#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
      );
      await this.#until("id='c'");
    }
    // From now on the room's broadcasts are read and dropped.
    this.#dropping = true;
    this.#buf = '';
  }

  close(): void {
    this.#sock?.end('</stream:stream>');
    this.#sock?.destroy();
  }
}

async function populate(
  info: ServerInfo,
  room: string,
  n: number,
  prefix: string,
  log: (m: string) => void,
): Promise<Occupant[]> {
  const dataDir = (info.accounts as { dataDir: string }).dataDir;
  const password = randomPassword();
  const out: Occupant[] = [];
  for (let i = 0; i < n; i++) {
    const username = uniqueUsername(`${prefix}${i}`);
    await createProsodyAccount(dataDir, info.domain, username, password);
    out.push(
      new Occupant(
        { jid: `${username}@${info.domain}`, username, password, domain: info.domain },
        info.host,
        info.ports.c2s,
      ),
    );
  }
  const t = performance.now();
  // Logins and joins in parallel batches (the first join alone: it creates the room).
  for (let i = 0; i < out.length; i += 50) await Promise.all(out.slice(i, i + 50).map((o) => o.connect()));
  await (out[0] as Occupant).join(room, `${prefix}-0`, true);
  for (let i = 1; i < out.length; i += 20)
    await Promise.all(out.slice(i, i + 20).map((o, k) => o.join(room, `${prefix}-${i + k}`, false)));
  log(`  ${n} occupants in ${room} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return out;
}

// =============================================================================================
// Worker side

interface Env {
  info: ServerInfo;
  ca: string;
  account: Account;
  room: string;
  warmRoom: string;
  occupants: number;
  nick: string;
}

interface Model {
  login(): Promise<void>;
  /** Join and resolve once the occupant model holds `expected` occupants (us included). */
  join(room: string, nick: string, expected: number): Promise<number>;
  leave(room: string): Promise<void>;
  disconnect(): Promise<void>;
}

interface ConfabRoom {
  readonly occupants: Map<string, unknown>;
  leave(): Promise<void>;
}
interface ConfabLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  on(event: string, listener: (payload: never) => void): () => void;
  bookmarks: { autojoin: boolean };
  muc: {
    join(room: string, o: { nick: string; history: false }): Promise<ConfabRoom>;
    get(room: string): ConfabRoom | undefined;
  };
}

async function loadConfab(env: Env, kind: 'tcp' | 'ws'): Promise<Model> {
  const src = process.env.CONFAB_BENCH_SRC
    ? pathToFileURL(process.env.CONFAB_BENCH_SRC).href
    : new URL('../packages/confab/src/index.ts', import.meta.url).href;
  const m = (await import(src)) as { createClient: (o: Record<string, unknown>) => ConfabLike };
  const c = m.createClient({
    jid: env.account.jid,
    password: env.account.password,
    host: env.info.host,
    port: env.info.ports.c2s,
    websocket: kind === 'ws' ? env.info.wssUrl : undefined,
    tls: { ca: env.ca },
    mechanisms: ['SCRAM-SHA-1'],
    reconnect: false,
  });
  c.on('error', () => {});
  c.bookmarks.autojoin = false;
  return {
    login: () => c.connect(),
    async join(room, nick, expected) {
      const r = await c.muc.join(room, { nick, history: false });
      const size = r.occupants.size;
      if (size !== expected) throw new Error(`confab room has ${size} occupants, expected ${expected}`);
      return size;
    },
    async leave(room) {
      await c.muc.get(room)?.leave();
    },
    disconnect: () => c.disconnect(),
  };
}

interface StanzaAgent {
  sasl: { disable(name: string): void };
  on(e: string, f: (x: { from?: string }) => void): void;
  once(e: string, f: (x: unknown) => void): void;
  off(e: string, f: (x: never) => void): void;
  connect(): void;
  disconnect(): void;
  sendPresence(p?: Record<string, unknown>): void;
  joinRoom(room: string, nick: string, opts?: Record<string, unknown>): Promise<unknown>;
  leaveRoom(room: string, nick?: string): Promise<unknown>;
}

async function loadStanza(env: Env): Promise<Model> {
  const name = 'stanza';
  const { createClient } = (await import(name)) as {
    createClient: (o: Record<string, unknown>) => StanzaAgent;
  };
  const c = createClient({
    jid: env.account.jid,
    password: env.account.password,
    transports: { websocket: env.info.wssUrl, bosh: false },
    autoReconnect: false,
  });
  for (const mech of ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS']) c.sasl.disable(mech);
  // The app's model: stanza hands over parsed presences and keeps no occupant list itself.
  const rooms = new Map<string, Map<string, unknown>>();
  const bareOf = (j: string): string => j.split('/')[0] ?? j;
  c.on('muc:available', (p) => {
    if (!p.from) return;
    const room = bareOf(p.from);
    const occ = rooms.get(room) ?? new Map<string, unknown>();
    if (!rooms.has(room)) rooms.set(room, occ);
    occ.set(p.from, p);
  });
  c.on('muc:unavailable', (p) => {
    if (p.from) rooms.get(bareOf(p.from))?.delete(p.from);
  });
  return {
    login: () =>
      new Promise<void>((resolve, reject) => {
        const fail = (): void => reject(new Error('stanza: login failed'));
        c.once('auth:failed', fail);
        c.once('disconnected', fail);
        c.once('session:started', () => {
          c.sendPresence();
          c.off('auth:failed', fail);
          c.off('disconnected', fail);
          resolve();
        });
        c.connect();
      }),
    async join(room, nick, expected) {
      rooms.set(room, new Map());
      await c.joinRoom(room, nick, { muc: { type: 'join', history: { maxStanzas: 0 } } });
      const size = rooms.get(room)?.size ?? 0;
      if (size !== expected) throw new Error(`stanza room has ${size} occupants, expected ${expected}`);
      return size;
    },
    async leave(room) {
      await withTimeout(c.leaveRoom(room), 5000, 'stanza leave').catch(() => {});
      rooms.delete(room);
    },
    disconnect: () =>
      new Promise<void>((resolve) => {
        c.once('disconnected', () => resolve());
        c.disconnect();
      }),
  };
}

interface RoundResult {
  joinMs: number;
  cpuMs: number;
  heapKB: number;
  occupants: number;
}

type FromWorker = { round: RoundResult } | { error: string };

async function workerRun(env: Env, lib: Lib): Promise<RoundResult> {
  const model =
    lib === 'stanza-ws' ? await loadStanza(env) : await loadConfab(env, lib === 'confab-ws' ? 'ws' : 'tcp');
  await withTimeout(model.login(), 30_000, `${lib} login`);
  await withTimeout(model.join(env.warmRoom, env.nick, WARM_OCCUPANTS + 1), 30_000, `${lib} warm-up join`);
  await model.leave(env.warmRoom);
  await sleep(500); // the login's background traffic (caps, archive catch-up) settles
  gc();
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const occupants = await withTimeout(
    model.join(env.room, env.nick, env.occupants + 1),
    60_000,
    `${lib} join of ${env.occupants}`,
  );
  const joinMs = performance.now() - t0;
  const cu = process.cpuUsage(c0);
  gc();
  gc();
  const heapKB = (process.memoryUsage().heapUsed - heap0) / 1024;
  await model.leave(env.room);
  await withTimeout(model.disconnect(), 5000, `${lib} disconnect`).catch(() => {});
  return { joinMs, cpuMs: (cu.user + cu.system) / 1000, heapKB, occupants };
}

async function worker(): Promise<void> {
  const { WebSocket } = await import('ws');
  (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
  const m = await new Promise<{ env: Env; lib: Lib }>((resolve) => process.once('message', resolve));
  let reply: FromWorker;
  try {
    reply = { round: await workerRun(m.env, m.lib) };
  } catch (err) {
    reply = { error: errText(err) };
  }
  process.send?.(reply, undefined, {}, () => setTimeout(() => process.exit(0), 50));
}

// =============================================================================================
// Parent side

async function measureRound(lib: Lib, env: Env): Promise<RoundResult> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--muc-worker'], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, NODE_EXTRA_CA_CERTS: env.info.caFile },
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  try {
    const reply = await withTimeout(
      new Promise<FromWorker>((resolve, reject) => {
        child.once('message', (x: FromWorker) => resolve(x));
        child.once('exit', () => reject(new Error(`${lib}: worker exited`)));
        child.send({ env, lib });
      }),
      120_000,
      `${lib} round`,
    );
    if ('error' in reply) throw new Error(reply.error);
    return reply.round;
  } finally {
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

async function run(ctx: SuiteContext): Promise<{ tables: Table[]; config: Record<string, unknown> }> {
  const load0 = loadavg();
  const n = ctx.quick ? 50 : 500;
  ctx.log('  starting a private test-bed Prosody (plaintext c2s allowed for the populating connections)');
  const server = await startProsody({
    name: 'bench-muc',
    allowPlaintext: true,
    // The populating logins and joins are one burst from one address.
    extraConfig: 'default_archive_policy = false',
  });
  const crowd: Occupant[] = [];
  try {
    const info = JSON.parse(JSON.stringify(server)) as ServerInfo;
    const stamp = Date.now().toString(36);
    const room = `big${stamp}@${info.muc}`;
    const warmRoom = `warm${stamp}@${info.muc}`;
    crowd.push(...(await populate(info, warmRoom, WARM_OCCUPANTS, 'w', ctx.log)));
    crowd.push(...(await populate(info, room, n, 'o', ctx.log)));
    const ca = (await import('node:fs')).readFileSync(server.caFile, 'utf8');
    const dataDir = (info.accounts as { dataDir: string }).dataDir;

    const results = LIBS.map((lib) => ({
      lib,
      rounds: [] as RoundResult[],
      error: undefined as string | undefined,
    }));
    for (let r = 0; r < ctx.rounds; r++) {
      for (let j = 0; j < LIBS.length; j++) {
        const res = results[(r + j) % LIBS.length] as (typeof results)[number];
        if (res.error !== undefined) continue;
        const username = uniqueUsername('mucbench');
        const password = randomPassword();
        await createProsodyAccount(dataDir, info.domain, username, password);
        const env: Env = {
          info,
          ca,
          account: { jid: `${username}@${info.domain}`, username, password, domain: info.domain },
          room,
          warmRoom,
          occupants: n,
          nick: `bench-${res.lib}-${r}`,
        };
        try {
          const x = await measureRound(res.lib, env);
          res.rounds.push(x);
          ctx.log(
            `  ${res.lib} round ${r + 1}/${ctx.rounds}: join of ${x.occupants} in ${x.joinMs.toFixed(0)} ms (${x.cpuMs.toFixed(0)} ms CPU), ${x.heapKB.toFixed(0)} KB heap`,
          );
        } catch (err) {
          res.error = errText(err);
          ctx.log(`  ${res.lib}: ${res.error}`);
        }
        await sleep(300); // the room's broadcast of our leave to the crowd settles
      }
    }
    const load1 = loadavg();
    const med = (lib: Lib, k: keyof RoundResult): number | null => {
      const r = results.find((x) => x.lib === lib);
      return r && r.error === undefined && r.rounds.length ? median(r.rounds.map((x) => x[k])) : null;
    };
    const ratio = (v: number | null, base: number | null): number | null =>
      v === null || base === null || base === 0 ? null : v / base;
    const rows = (k: keyof RoundResult, cols: Array<[string, keyof RoundResult]>, goal: boolean): Row[] =>
      results.map((r) => ({
        name: NAMES[r.lib],
        values: Object.fromEntries(cols.map(([c, key]) => [c, med(r.lib, key)])),
        ratio: ratio(med(r.lib, k), med('stanza-ws', k)),
        ...(goal && r.lib.startsWith('confab') ? { goal: GOAL } : {}),
        flags: r.error ? [r.error] : [],
        detail: { rounds: r.rounds },
      }));
    const timeRatio = ratio(med('confab-ws', 'joinMs'), med('stanza-ws', 'joinMs'));
    const cpuRatio = ratio(med('confab-ws', 'cpuMs'), med('stanza-ws', 'cpuMs'));
    const fmt = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(2));
    const verdict = `goal "join ahead of stanza over WebSocket": ${timeRatio !== null && timeRatio < 1 ? 'yes' : 'NO'} (confab WebSocket / stanza WebSocket: time ${fmt(timeRatio)}, client CPU ${fmt(cpuRatio)})`;
    ctx.log(`  ${verdict}`);
    const loadNote = `load average (1/5/15 min) at start ${load0.map((x) => x.toFixed(2)).join('/')}, at end ${load1.map((x) => x.toFixed(2)).join('/')} on 2 cores shared with Prosody`;
    const tables: Table[] = [
      {
        title: `join a room of ${n} occupants: join sent to a complete occupant model, median of ${ctx.rounds}`,
        notes: [
          `the room is populated by ${n} raw connections from the benchmark process (one account each, plaintext c2s + SASL PLAIN: cheap); the measured client logs in over verified TLS (untimed), joins and leaves a ${WARM_OCCUPANTS}-occupant room (untimed warm-up), then is timed`,
          `timed from the join call to ${n + 1} occupants known and the self-presence (status 110) seen: confab muc.join() resolved with room.occupants.size = ${n + 1}; stanza joinRoom() resolved and a Map of its muc:available presences by occupant JID holding ${n + 1} (stanza keeps no occupant model)`,
          'a fresh worker process and account per library and round, rounds interleaved; most of the time is Prosody sending the list: the ratio shows the client side on top of that',
          '"vs floor" here is the ratio to stanza WebSocket (goal: below 1, ahead of it)',
          loadNote,
          verdict,
        ],
        columns: [
          { key: 'ms', label: 'median ms', digits: 1 },
          { key: 'cpu', label: 'client CPU ms', digits: 1 },
        ],
        rows: rows(
          'joinMs',
          [
            ['ms', 'joinMs'],
            ['cpu', 'cpuMs'],
          ],
          true,
        ),
      },
      {
        title: `heap kept by the occupant model (${n + 1} occupants), median of ${ctx.rounds}`,
        notes: [
          'heapUsed after gc() x2 once joined, minus heapUsed after gc() x2 just before the join',
          '"vs floor" is the ratio to stanza\'s (its Map of parsed presences); no goal set (confab\'s Occupant keeps the parsed fields only; the presence comes with the event)',
        ],
        columns: [{ key: 'kb', label: 'heap KB', digits: 0 }],
        rows: rows('heapKB', [['kb', 'heapKB']], false),
      },
    ];
    return {
      tables,
      config: {
        prosody: '0.12 (test bed, full profile, plaintext c2s allowed)',
        occupants: n,
        rounds: ctx.rounds,
        verdict,
        loadAverage: { start: load0, end: load1 },
        confabSource: process.env.CONFAB_BENCH_SRC ?? 'packages/confab/src/index.ts',
      },
    };
  } finally {
    for (const o of crowd) o.close();
    await server.stop();
  }
}

export const mucSuite: Suite = {
  name: 'muc',
  description:
    'through a private Prosody: join a room of 500 occupants (time to a complete occupant model, heap), confab vs stanza',
  defaultRounds: 3,
  run,
};

if (process.argv.includes('--muc-worker') && process.argv[1] === fileURLToPath(import.meta.url)) {
  await worker();
}
