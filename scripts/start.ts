// `npm start`: the live demo (issue 3 "Also"; issue 7 "`npm start`" later opens `confab chat`
// instead of the scripted part). It
// 1. brings up the local test-bed Prosody (installing it with apt-get when missing) in a fresh temp
//    dir on free loopback ports,
// 2. creates alice@localhost and bob@localhost (stable names: the server is new on every run),
// 3. runs the demo bot (scripts/demo/bot.ts) as bob, logs alice in, sends the bot a few messages and
//    prints the exchange as it happens (time, from -> to, body),
// 4. prints copy-pasteable `npx confab listen` / `npx confab send` command lines for a second
//    terminal and what any other XMPP client needs (host, ports, CA), then keeps running: whatever
//    alice's account receives (the bot's answers to the user's `confab send`) is printed here too,
// 5. on Ctrl-C (SIGINT) or SIGTERM logs both clients out and stops Prosody, exit 0.
// With CONFAB_START_ONCE=1 and stdin not a terminal (tests, CI) it stops after step 4.
// Remote text goes through the CLI's terminal sanitizer before it is printed.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sanitizeForTerminal } from '../packages/cli/src/sanitize.ts';
import { bare, type Client, createClient, type Message } from '../packages/confab/src/index.ts';
import { createProsodyAccount, randomPassword } from '../testbed/accounts.ts';
import { ensurePackages } from '../testbed/install.ts';
import { startProsody } from '../testbed/prosody.ts';
import { runBot } from './demo/bot.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const REPLY_TIMEOUT_MS = 15_000;
const SHUTDOWN_TIMEOUT_MS = 5_000;

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
  const p = server.ports;
  note(`Prosody is up on ${server.host} (started in ${server.startupMs} ms; domain ${server.domain})`);

  const connectOptions = { host: server.host, port: p.c2s, tls: { caFile: server.caFile } };
  const bot = createClient({ jid: bob.jid, password: bob.password, resource: 'bot', ...connectOptions });
  const me = createClient({ jid: alice.jid, password: alice.password, resource: 'demo', ...connectOptions });
  const clients: Client[] = [bot, me];
  for (const [name, c] of [
    ['bob', bot],
    ['alice', me],
  ] as const) {
    c.on('error', (err) => console.error(`[${clock()}] ${name}: ${cleanLine(String(err.message ?? err))}`));
  }

  // Ctrl-C / SIGTERM from here on: log out, stop the server, exit 0. (Before this point the test
  // bed's own hooks stop the server.) A second Ctrl-C while stopping falls through to the test
  // bed's hook, which stops the server at once.
  let stopping = false;
  const stopRequested = new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      console.log(`\n[${clock()}] ${sig}: logging out and stopping Prosody`);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  // Sockets keep node alive while online; this keeps it alive between reconnects too.
  const keepAlive = setInterval(() => {}, 1 << 30);

  const shutdown = async (): Promise<void> => {
    clearInterval(keepAlive);
    await withTimeout(
      Promise.allSettled(clients.map((c) => c.disconnect())),
      SHUTDOWN_TIMEOUT_MS,
      'logging out',
    ).catch(() => {});
    await server.stop();
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
    await shutdown();
    return 0;
  }

  printHowTo(server, alice, bob);

  if (process.env.CONFAB_START_ONCE === '1' && !process.stdin.isTTY) {
    note('CONFAB_START_ONCE=1: stopping after the scripted exchange');
  } else {
    await stopRequested;
  }
  await shutdown();
  return 0;
}

function printHowTo(
  server: Awaited<ReturnType<typeof startProsody>>,
  alice: DemoAccount,
  bob: DemoAccount,
): void {
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
