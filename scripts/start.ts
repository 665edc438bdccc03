// `npm start`: the live demo (issue 3 "Also", issue 7 "`npm start`"). It
// 1. brings up the local test-bed Prosody (installing it with apt-get when missing) in a fresh temp
//    dir on free loopback ports,
// 2. creates alice@localhost and bob@localhost (stable names: the server is new on every run),
// 3. runs the demo bot (scripts/demo/bot.ts) as bob.
// Then, on a terminal (stdin and stdout are TTYs, CONFAB_START_ONCE unset):
// 4. makes alice and bob mutual contacts, has the bot create and sit in the demo room
//    demo@conference.localhost (persistent, with a subject; it answers when mentioned), bookmarks
//    the room for alice with autojoin, and opens `confab chat` (the built CLI, stdio inherited)
//    logged in as alice from a temporary config dir: bob in the roster, the room in a window,
// 5. when the chat ends (/quit) logs the bot out, stops Prosody, exits with the chat's status.
// Without a terminal (tests, CI) it instead
// 4. logs alice in, sends the bot a few messages and prints the exchange as it happens (time,
//    from -> to, body),
// 5. prints copy-pasteable `npx confab listen` / `npx confab send` command lines for a second
//    terminal and what any other XMPP client needs (host, ports, CA), then keeps running: whatever
//    alice's account receives (the bot's answers to the user's `confab send`) is printed here too,
// 6. on Ctrl-C (SIGINT) or SIGTERM logs both clients out and stops Prosody, exit 0.
//    With CONFAB_START_ONCE=1 it stops after step 5.
// Remote text goes through the CLI's terminal sanitizer before it is printed.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sanitizeForTerminal } from '../packages/cli/src/sanitize.ts';
import { bare, type Client, createClient, type Message } from '../packages/confab/src/index.ts';
import { createProsodyAccount, randomPassword } from '../testbed/accounts.ts';
import { ensurePackages } from '../testbed/install.ts';
import { startProsody } from '../testbed/prosody.ts';
import { hostRoom, runBot } from './demo/bot.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const REPLY_TIMEOUT_MS = 15_000;
const SHUTDOWN_TIMEOUT_MS = 5_000;
/** The built terminal client (`npm install` builds it: the root package's `prepare`). */
const CLI_BIN = `${REPO}/packages/cli/bin/confab.js`;
const CLI_BUILT = `${REPO}/packages/cli/dist/main.js`;
/** The demo room the bot hosts and alice has bookmarked (the test bed's MUC service). */
const ROOM_LOCAL = 'demo';
const ROOM_SUBJECT = 'Welcome to confab! Say "bob: help" and the demo bot answers';
/** The resource of alice's `confab chat` (preset, so the chat asks for no device name). */
const CHAT_RESOURCE = 'chat';

type Server = Awaited<ReturnType<typeof startProsody>>;

/** What alice says to the bot in the scripted part. */
const SCRIPT = ["Hi Bob, it's Alice!", 'help', 'ping'];

/** POSIX shell quoting, only where needed, so printed command lines paste as they are. */
function shellQuote(s: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const clock = () => new Date().toTimeString().slice(0, 8);
const clean = (s: string) => sanitizeForTerminal(s);
const cleanLine = (s: string) => sanitizeForTerminal(s, { singleLine: true });

/** One line of the exchange: `[12:00:01] from -> to: body`, continuation lines indented. */
function printMessage(from: string, to: string, body: string): void {
  const head = `[${clock()}] ${cleanLine(from)} -> ${cleanLine(to)}: `;
  const [first, ...rest] = clean(body).split('\n');
  console.log(head + first + rest.map((l) => `\n${' '.repeat(11)}${l}`).join(''));
}

function note(text: string): void {
  console.log(`[${clock()}] ${text}`);
}

interface DemoAccount {
  jid: string;
  username: string;
  password: string;
}

async function makeAccount(dataDir: string, domain: string, username: string): Promise<DemoAccount> {
  const password = randomPassword();
  await createProsodyAccount(dataDir, domain, username, password);
  return { jid: `${username}@${domain}`, username, password };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function main(): Promise<number> {
  ensurePackages(['prosody', 'openssl']);
  const server = await startProsody({ name: 'prosody-demo' });
  if (server.accounts.kind !== 'prosody-files') throw new Error('unexpected account store');
  const [alice, bob] = await Promise.all([
    makeAccount(server.accounts.dataDir, server.domain, 'alice'),
    makeAccount(server.accounts.dataDir, server.domain, 'bob'),
  ]);
  note(`Prosody is up on ${server.host} (started in ${server.startupMs} ms; domain ${server.domain})`);
  const onTerminal =
    process.stdin.isTTY === true && process.stdout.isTTY === true && !process.env.CONFAB_START_ONCE;
  return onTerminal ? chatDemo(server, alice, bob) : scriptedDemo(server, alice, bob);
}

/** The test bed's connection options for a library client of the demo. */
function connectOptionsOf(server: Server) {
  return { host: server.host, port: server.ports.c2s, tls: { caFile: server.caFile } };
}

/**
 * Ctrl-C / SIGTERM from here on: resolves (once) so the caller logs out and stops the server.
 * (Before this point the test bed's own hooks stop the server.) A second Ctrl-C while stopping
 * falls through to the test bed's hook, which stops the server at once.
 */
function stopSignal(onStop: (sig: NodeJS.Signals) => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (sig: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      onStop(sig);
      resolve(sig);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.once('SIGHUP', stop);
  });
}

/** Logs the clients out (bounded) and stops the server. */
async function shutdown(clients: Client[], server: Server): Promise<void> {
  await withTimeout(
    Promise.allSettled(clients.map((c) => c.disconnect())),
    SHUTDOWN_TIMEOUT_MS,
    'logging out',
  ).catch(() => {});
  await server.stop();
}

/** Resolves once `c`'s roster has `jid` with `subscription: both`. */
function mutual(c: Client, jid: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (c.roster.get(jid)?.subscription !== 'both') return;
      for (const f of off) f();
      resolve();
    };
    const off = [c.roster.on('added', check), c.roster.on('updated', check)];
    check();
  });
}

/**
 * The newcomer's path on a terminal: the bot in its room, alice befriended and bookmarked, then
 * `confab chat` as alice until /quit. Resolves with the chat's exit status.
 */
async function chatDemo(server: Server, alice: DemoAccount, bob: DemoAccount): Promise<number> {
  const room = `${ROOM_LOCAL}@${server.muc ?? `conference.${server.domain}`}`;
  const connect = connectOptionsOf(server);
  // What happens to the bot while the chat owns the screen is kept for afterwards.
  const later: string[] = [];
  let chatRunning = false;
  const report = (text: string) => {
    if (chatRunning) later.push(text);
    else note(text);
  };
  const bot = createClient({
    jid: bob.jid,
    password: bob.password,
    resource: 'bot',
    ...connect,
    presence: { autoAway: false },
  });
  bot.on('error', (err) => report(`bob: ${cleanLine(String(err.message ?? err))}`));
  runBot(bot, {
    befriend: true,
    greet: {
      jid: `${alice.jid}/${CHAT_RESOURCE}`,
      text:
        'Hi alice, I\'m bob, the confab demo bot. Say "help" here, or "bob: help" in the demo room ' +
        `${room}. Alt-1..9 or /win N switch windows; /quit ends the demo.`,
    },
  });

  let child: ReturnType<typeof spawn> | undefined;
  const stopped = stopSignal((sig) => {
    if (!child || child.exitCode !== null) {
      console.log(`\n[${clock()}] ${sig}: logging out and stopping Prosody`);
      return;
    }
    // The chat reads Ctrl-C as a key (raw mode), so a SIGINT was sent to the whole process
    // group and reached the chat too: it quits by itself, and we stop after it. A SIGTERM or
    // SIGHUP may have been ours alone: pass it on, unless the chat is already on its way out
    // (a second signal makes it exit at once, without giving the terminal back).
    if (sig === 'SIGINT') return;
    setTimeout(() => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }, 1000).unref();
  });
  const keepAlive = setInterval(() => {}, 1 << 30);
  const home = await mkdtemp(join(tmpdir(), 'confab-demo-home-'));
  try {
    const ready = (async () => {
      await bot.connect();
      await hostRoom(bot, {
        room,
        nick: 'bob',
        name: 'confab demo',
        subject: ROOM_SUBJECT,
      });
      await befriendAndBookmark(server, alice, bob, room);
      await writeChatConfig(home, server, alice);
      ensureCliBuilt();
    })();
    const before = await Promise.race([ready.then(() => 'ready' as const), stopped]);
    if (before !== 'ready') {
      ready.catch(() => {}); // stopping anyway: a setup step cut short is no news
      return 0;
    }

    console.log(`
The demo: bob (a bot) is in your roster and in the room ${room}, which opens in its own window.
Opening confab chat as ${alice.jid} now. Message bob ("help"), or say "bob: ping" in the room;
/quit leaves (then Prosody stops).
On a real server: npx confab chat --jid you@example.org
`);
    chatRunning = true;
    child = spawn(process.execPath, [CLI_BIN, 'chat'], {
      cwd: REPO,
      stdio: 'inherit',
      env: chatEnv(home, alice),
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      child?.once('exit', (c, s) => resolve([c, s]));
      child?.once('error', (err) => {
        later.push(`confab chat did not start: ${err.message}`);
        resolve([1, null]);
      });
    });
    chatRunning = false;
    for (const text of later) note(text);
    note('confab chat ended: logging the bot out and stopping Prosody');
    // Stopped by a signal the user (or the terminal) sent is a stop, not a failure.
    return code ?? (signal === 'SIGINT' || signal === 'SIGTERM' || signal === 'SIGHUP' ? 0 : 1);
  } finally {
    clearInterval(keepAlive);
    await shutdown([bot], server);
    await rm(home, { recursive: true, force: true });
  }
}

/**
 * alice and bob as mutual contacts (bob named in alice's roster) and alice's bookmark of the
 * demo room with autojoin, through a short-lived library client for alice (it joins nothing
 * itself: autojoin off). The bot approves her request and asks back; she approves.
 */
async function befriendAndBookmark(
  server: Server,
  alice: DemoAccount,
  bob: DemoAccount,
  room: string,
): Promise<void> {
  const setup = createClient({
    jid: alice.jid,
    password: alice.password,
    resource: 'setup',
    ...connectOptionsOf(server),
    reconnect: false,
    presence: { autoAway: false },
    bookmarks: { autojoin: false },
  });
  setup.roster.on('request', (r) => {
    if (r.from === bob.jid) void r.approve();
  });
  try {
    await setup.connect();
    const both = mutual(setup, bob.jid);
    await setup.roster.set(bob.jid, { name: 'bob (demo bot)' });
    await setup.roster.subscribe(bob.jid);
    await withTimeout(both, REPLY_TIMEOUT_MS, 'making alice and bob contacts');
    await setup.bookmarks.set({ jid: room, name: 'confab demo', nick: alice.username, autojoin: true });
  } finally {
    await withTimeout(setup.disconnect(), SHUTDOWN_TIMEOUT_MS, 'logging out').catch(() => {});
  }
}

/** alice's account in a config file of a temporary XDG config dir (never a password: mode 0600 all the same). */
async function writeChatConfig(home: string, server: Server, alice: DemoAccount): Promise<void> {
  const dir = join(home, 'config', 'confab');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await mkdir(join(home, 'data'), { recursive: true, mode: 0o700 });
  const config = {
    default: alice.jid,
    accounts: {
      [alice.jid]: {
        host: server.host,
        port: server.ports.c2s,
        ca: server.caFile,
        resource: CHAT_RESOURCE,
      },
    },
  };
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/** The chat's environment: ours, with the demo's config and data dirs and alice's password. */
function chatEnv(home: string, alice: DemoAccount): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
    // The password goes in the environment, never on the command line.
    CONFAB_PASSWORD: alice.password,
  };
  // The user's own account settings would pick another account.
  delete env.CONFAB_JID;
  return env;
}

/** `npm install` builds the CLI; a checkout that skipped it is built here (about a second). */
function ensureCliBuilt(): void {
  if (existsSync(CLI_BUILT)) return;
  note('Building the terminal client (npx tsc -b packages/confab packages/cli)...');
  execFileSync('npx', ['tsc', '-b', 'packages/confab', 'packages/cli'], { cwd: REPO, stdio: 'inherit' });
}

/** Without a terminal: the scripted exchange, the printed command lines, then (unless once) Ctrl-C. */
async function scriptedDemo(server: Server, alice: DemoAccount, bob: DemoAccount): Promise<number> {
  const connectOptions = connectOptionsOf(server);
  const bot = createClient({ jid: bob.jid, password: bob.password, resource: 'bot', ...connectOptions });
  const me = createClient({ jid: alice.jid, password: alice.password, resource: 'demo', ...connectOptions });
  const clients: Client[] = [bot, me];
  for (const [name, c] of [
    ['bob', bot],
    ['alice', me],
  ] as const) {
    c.on('error', (err) => console.error(`[${clock()}] ${name}: ${cleanLine(String(err.message ?? err))}`));
  }

  let stopping = false;
  const stopRequested = stopSignal((sig) => {
    stopping = true;
    console.log(`\n[${clock()}] ${sig}: logging out and stopping Prosody`);
  });
  // Sockets keep node alive while online; this keeps it alive between reconnects too.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const stop = async (): Promise<void> => {
    clearInterval(keepAlive);
    await shutdown(clients, server);
  };

  // The bot. What alice's demo client sends and gets is printed by that client below; what the
  // bot gets from anyone else (alice's other clients: `confab send` in another terminal; other
  // accounts) is printed here, and so is its answer when alice's client will not see it.
  const demoJid = `${alice.jid}/demo`;
  runBot(bot, {
    onAnswer: (msg, reply) => {
      if (msg.from === demoJid) return;
      printMessage(msg.from, bob.jid, msg.body ?? '');
      if (bare(msg.from) !== alice.jid) printMessage(`${bob.jid}/bot`, bare(msg.from), reply);
    },
  });

  // Alice's demo client: prints every message with a body it gets; the scripted part waits for
  // the bot's answers. Copies of what alice's other clients sent (XEP-0280 sent carbons) are not
  // printed: the bot's log above already shows what it was sent.
  const waiting: ((m: Message) => void)[] = [];
  const fromBot: Message[] = [];
  me.on('message', (msg) => {
    if (!msg.body || msg.outgoing) return;
    printMessage(msg.from, msg.to ?? alice.jid, msg.body);
    if (bare(msg.from) === bob.jid) {
      const w = waiting.shift();
      if (w) w(msg);
      else fromBot.push(msg);
    }
  });
  const otherClients = new Set<string>();
  me.on('presence', (pr) => {
    // alice's other clients (a `confab listen` in another terminal) coming and going.
    // (A one-shot `confab send` sends no presence: it is neither announced nor seen leaving.)
    if (bare(pr.from) !== alice.jid || pr.from === me.jid) return;
    if (pr.type === 'available' && !otherClients.has(pr.from)) {
      otherClients.add(pr.from);
      note(`${cleanLine(pr.from)} is online`);
    } else if (pr.type === 'unavailable' && otherClients.delete(pr.from)) {
      note(`${cleanLine(pr.from)} went offline`);
    }
  });
  const nextFromBot = (): Promise<Message> => {
    const m = fromBot.shift();
    return m ? Promise.resolve(m) : new Promise((resolve) => waiting.push(resolve));
  };

  const scripted = async (): Promise<void> => {
    await bot.connect();
    note(`${bot.jid} is online: the demo bot (answers every message; try "help")`);
    await me.connect();
    note(`${me.jid} is online`);
    for (const text of SCRIPT) {
      const reply = nextFromBot();
      printMessage(me.jid ?? alice.jid, bob.jid, text);
      await me.messages.send({ to: bob.jid, body: text });
      await withTimeout(reply, REPLY_TIMEOUT_MS, `the bot's answer to "${text}"`);
    }
  };
  const outcome = await Promise.race([scripted().then(() => 'done' as const), stopRequested]);
  if (stopping || outcome !== 'done') {
    await stop();
    return 0;
  }

  printHowTo(server, alice, bob);

  if (process.env.CONFAB_START_ONCE === '1' && !process.stdin.isTTY) {
    note('CONFAB_START_ONCE=1: stopping after the scripted exchange');
  } else {
    await stopRequested;
  }
  await stop();
  return 0;
}

function printHowTo(server: Server, alice: DemoAccount, bob: DemoAccount): void {
  const p = server.ports;
  const conn = `--jid ${alice.jid} --host ${server.host} --port ${p.c2s} --ca ${shellQuote(server.caFile)}`;
  const env = `CONFAB_PASSWORD=${shellQuote(alice.password)}`;
  const built = existsSync(`${REPO}/packages/cli/dist/main.js`);
  console.log(`
Talk to the bot yourself: open a second terminal and paste (the password goes in CONFAB_PASSWORD,
never in a flag; run them in this repository, where npx finds the confab command):
${built ? '' : '\n  (the terminal client is not built yet: run `npm run build` first)\n'}
  cd ${shellQuote(REPO)}

  # see alice's messages as they arrive, the bot's answers included (Ctrl-C stops it)
  ${env} npx confab listen ${conn}

  # send the bot a message as alice (its answer shows up here and in confab listen)
  ${env} npx confab send ${conn} ${bob.jid} 'hello bot'

Or use any other XMPP client (Gajim, Dino, Profanity, poezio...):
  server      ${server.host}, port ${p.c2s} (STARTTLS) or ${p.c2sTls} (direct TLS); XMPP domain ${server.domain}
  accounts    ${alice.jid}  password ${alice.password}
              ${bob.jid}  password ${bob.password}  (the bot: message it, don't log in as it)
              or register your own: in-band registration is open
  TLS         the certificate (for localhost, *.localhost, 127.0.0.1) is signed by a private CA:
              trust ${server.caFile}
  WebSocket   ${server.wssUrl ?? '-'}   (plain ${server.wsUrl ?? '-'})
  server dir  ${server.dir} (config, data, log; removed on stop)

Press Ctrl-C to stop: both clients log out and Prosody stops.
`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`npm start: ${(err as Error)?.message ?? err}`);
    // The test bed's exit hook stops the server.
    process.exit(1);
  },
);
