// End-to-end tests of `confab chat` driven as a person would (issue 7): the built bin in a tmux
// pane (120x40), keys sent with `send-keys`, the screen read with `capture-pane`, polled against a
// deadline; the other person is a library client the test drives. Each test has fresh accounts;
// the server-restart tests use their own Prosody so the shared servers are left alone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  type Account,
  caOf,
  ejabberd,
  freshAccount,
  prosody,
  type ServerInfo,
} from '../../../../testbed/harness.ts';
import { startProsody, type TestServer } from '../../../../testbed/index.ts';
import { type Client, createClient, type Message, StanzaError } from '../../../confab/src/index.ts';
import { build, ROOT } from './helpers.ts';

const run = promisify(execFile);
const BIN = new URL('../../bin/confab.js', import.meta.url).pathname;

/**
 * Builds the bin (helpers.ts `build`). While other areas are half-written in parallel the build
 * may fail in their files: then the two projects are compiled one by one (tsc emits despite type
 * errors), and only errors in the chat's own files fail the run.
 */
before(async () => {
  try {
    await build();
  } catch (err) {
    const text = (err as Error).message;
    if (/packages\/cli\/src\/(chat\/|table-chat|main\.ts)/.test(text)) throw err;
    for (const project of ['packages/confab', 'packages/cli']) {
      await run('npx', ['tsc', '-p', project], { cwd: ROOT }).catch(() => undefined);
    }
  }
});

let sessions = 0;

/** A tmux server of our own (its own socket) with one 120x40 pane running `confab chat`. */
class Pane {
  readonly socket = `confab-chat-${process.pid}-${++sessions}`;
  readonly home = mkdtempSync(join(tmpdir(), 'confab-chat-'));

  async tmux(...args: string[]): Promise<string> {
    const r = await run('tmux', ['-L', this.socket, '-f', '/dev/null', ...args]);
    return r.stdout;
  }

  /** Starts `confab ARGS` in the pane with a clean environment; the pane stays after it exits. */
  async start(args: string[], env: Record<string, string>): Promise<void> {
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const vars = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.home,
      XDG_CONFIG_HOME: join(this.home, 'config'),
      XDG_DATA_HOME: join(this.home, 'data'),
      TERM: 'xterm-256color',
      LANG: 'C.UTF-8',
      ...env,
    };
    const cmd =
      `cd ${q(ROOT)} && env -i ${Object.entries(vars)
        .map(([k, v]) => q(`${k}=${v}`))
        .join(' ')} ${q(process.execPath)} ${q(BIN)} ${args.map(q).join(' ')}; ` +
      // Whether the pane's terminal is back in cooked mode (canonical input) once confab is gone.
      `echo "[confab exited $?]"; stty -a | grep -q ' icanon' && echo '[tty cooked]' || echo '[tty raw]'; sleep 600`;
    await this.tmux('new-session', '-d', '-x', '120', '-y', '40', '-s', 'main', cmd);
    await this.tmux('set-option', '-g', 'set-clipboard', 'on');
  }

  screen(): Promise<string> {
    return this.tmux('capture-pane', '-p', '-t', 'main');
  }

  /** The screen with its attributes as SGR sequences (`capture-pane -e`). */
  styled(): Promise<string> {
    return this.tmux('capture-pane', '-p', '-e', '-t', 'main');
  }

  /** A tmux format of the pane (`#{window_bell_flag}`, `#{alternate_on}`...). */
  async format(f: string): Promise<string> {
    return (await this.tmux('display-message', '-p', '-t', 'main', f)).trim();
  }

  /** Resolves with the screen once it matches `pattern`; fails with the screen after `ms`. */
  async waitFor(pattern: RegExp, ms = 20_000): Promise<string> {
    const deadline = Date.now() + ms;
    let last = '';
    for (;;) {
      last = await this.screen();
      if (pattern.test(last)) return last;
      if (Date.now() > deadline) assert.fail(`screen never showed ${pattern}:\n${last}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Types literal text. */
  async type(text: string): Promise<void> {
    await this.tmux('send-keys', '-t', 'main', '-l', text);
  }

  /** Presses keys by tmux name: Enter, Tab, M-2, C-n... */
  async press(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', 'main', ...keys);
  }

  /** Types a line and presses Enter. */
  async line(text: string): Promise<void> {
    await this.type(text);
    await this.press('Enter');
  }

  async panePid(): Promise<number> {
    return Number((await this.tmux('display-message', '-p', '-t', 'main', '#{pane_pid}')).trim());
  }

  async stop(): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined);
  }
}

function libClient(s: ServerInfo, a: Account, o: { reconnect?: boolean } = {}): Client {
  return createClient({
    jid: a.jid,
    password: a.password,
    resource: 'lib',
    host: s.host,
    port: s.ports.c2s,
    tls: { ca: caOf(s) },
    reconnect: o.reconnect ?? false,
    presence: { autoAway: false },
  });
}

/** The chat's command line for `a` on `s` (with the test CA unless `ca` is false). */
function chatArgs(
  s: ServerInfo,
  a: Account,
  extra: string[] = [],
  ca = true,
): { args: string[]; env: Record<string, string> } {
  return {
    args: [
      'chat',
      '--host',
      s.host,
      '--port',
      String(s.ports.c2s),
      ...(ca ? ['--ca', s.caFile] : []),
      ...extra,
    ],
    env: { CONFAB_JID: a.jid, CONFAB_PASSWORD: a.password },
  };
}

/** Resolves with the next message from `from` with a body matching `body`. */
function nextMessage(c: Client, match: (m: Message) => boolean): Promise<Message> {
  return new Promise((resolve) => {
    const off = c.on('message', (m) => {
      if (match(m)) {
        off();
        resolve(m);
      }
    });
  });
}

/** Resolves once `c` sees `bare` with presence satisfying `ok`. */
function presenceOf(
  c: Client,
  bare: string,
  ok: (p: { show: string | undefined; status: string | undefined } | undefined) => boolean,
): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const p = c.presence.contact(bare);
      if (ok(p?.available ? { show: p.best?.show, status: p.best?.status } : undefined)) {
        off();
        resolve();
        return true;
      }
      return false;
    };
    const off = c.presence.on('contact', () => void check());
    check();
  });
}

/**
 * Start the chat for `a`, have the library client `b` ask to see a's presence, approve it in the
 * chat (which asks back), and approve that from `b`: both see each other.
 */
async function befriend(pane: Pane, b: Client, a: Account, bAccount: Account): Promise<void> {
  b.roster.on('request', (r) => {
    if (r.from === a.jid) void r.approve();
  });
  await pane.waitFor(/\[online\]/);
  await b.roster.subscribe(a.jid, { nick: 'Bee' });
  await pane.waitFor(new RegExp(`${bAccount.jid.replace(/\./g, '\\.')} \\(Bee\\) asks to see your presence`));
  await pane.line(`/approve ${bAccount.jid}`);
  await pane.waitFor(/may see your presence now/);
  await presenceOf(b, a.jid, (p) => p !== undefined);
}

for (const server of [
  { name: 'Prosody', info: prosody },
  { name: 'ejabberd', info: ejabberd },
]) {
  describe(`confab chat on ${server.name}`, () => {
    it('logs in, shows the contact and its presence, chats both ways with typing and receipts, quits', async () => {
      const s = server.info();
      const [a, bAcc] = await Promise.all([freshAccount(s, 'chata'), freshAccount(s, 'chatb')]);
      const b = libClient(s, bAcc);
      await b.connect();
      const pane = new Pane();
      try {
        const { args, env } = chatArgs(s, a, ['--resource', 'Home']);
        await pane.start(args, env);
        await befriend(pane, b, a, bAcc);
        await b.presence.set({ show: 'away', status: 'on the balcony' });
        await pane.waitFor(/away: on the balcony/);
        const local = bAcc.username;
        await pane.waitFor(new RegExp(`◐ ${local}`));

        // Open a chat with Tab completion of the command and the JID.
        await pane.type('/ms');
        await pane.press('Tab');
        await pane.type(local.slice(0, 6));
        await pane.press('Tab');
        await pane.waitFor(new RegExp(`/msg ${bAcc.jid.replace(/\./g, '\\.')}$`, 'm'));
        await pane.press('Enter');
        await pane.waitFor(new RegExp(`^ ${bAcc.jid.replace(/\./g, '\\.')} \\(away: on the balcony\\)`, 'm'));

        const got = nextMessage(b, (m) => m.body === 'Hello from the chat');
        await pane.line('Hello from the chat');
        const m = await got;
        assert.equal(m.from.split('/')[0], a.jid);
        assert.equal(m.from.split('/')[1], 'Home');
        // b answers the receipt request (a may see b's presence): ✓✓ on a's screen.
        await pane.waitFor(/<chata[^>]*> Hello from the chat ✓✓/);

        // b types, then answers.
        b.messages.chatState(m.from, 'composing');
        await pane.waitFor(/typing…/);
        await b.messages.send({ to: m.from, body: 'Hello back, *boldly*' });
        await pane.waitFor(new RegExp(`<${bAcc.jid.replace(/\./g, '\\.')}> Hello back, \\*boldly\\*`));

        // a types: b hears `composing` (b showed support by sending states).
        const composing = new Promise<void>((resolve) => {
          const off = b.messages.on('chatState', (e) => {
            if (e.state === 'composing') {
              off();
              resolve();
            }
          });
        });
        await pane.type('typing something');
        await composing;
        await pane.press('C-u');

        await pane.line('/quit');
        await pane.waitFor(/\[confab exited 0\]/);
        await presenceOf(b, a.jid, (p) => p === undefined);
      } finally {
        await pane.stop();
        await b.disconnect();
      }
    });
  });
}

describe('confab chat slash commands (Prosody)', () => {
  it('runs every 1:1 command: /status /me /correct /vcard /add /remove /deny /block /unblock /xmlconsole /help /win', async () => {
    const s = prosody();
    const [a, bAcc, cAcc, dAcc] = await Promise.all([
      freshAccount(s, 'cmda'),
      freshAccount(s, 'cmdb'),
      freshAccount(s, 'cmdc'),
      freshAccount(s, 'cmdd'),
    ]);
    const b = libClient(s, bAcc);
    const c = libClient(s, cAcc);
    const d = libClient(s, dAcc);
    await Promise.all([b.connect(), c.connect(), d.connect()]);
    const pane = new Pane();
    try {
      const { args, env } = chatArgs(s, a, ['--resource', 'Desk']);
      await pane.start(args, env);
      await befriend(pane, b, a, bAcc);

      // /status: b sees it.
      const dnd = presenceOf(b, a.jid, (p) => p?.show === 'dnd' && p.status === 'in a meeting');
      await pane.line('/status dnd in a meeting');
      await dnd;
      await pane.waitFor(/Desk: dnd: in a meeting\]/);

      // /me and /correct.
      await pane.line(`/msg ${bAcc.jid}`);
      const me = nextMessage(b, (m) => m.body === '/me waves');
      await pane.line('/me waves');
      await me;
      await pane.waitFor(/\* cmda\S* waves/);
      const first = nextMessage(b, (m) => m.body === 'teh plan');
      await pane.line('teh plan');
      const original = await first;
      const corrected = new Promise<string>((resolve) =>
        b.messages.on('correction', (e) => {
          if (e.id === original.id) resolve(e.body ?? '');
        }),
      );
      await pane.line('/correct the plan');
      assert.equal(await corrected, 'the plan');
      await pane.waitFor(/> the plan \(edited\)/);

      // A correction from b replaces b's message on a's screen.
      const sent = await b.messages.send({ to: `${a.jid}/Desk`, body: 'I love Paris' });
      await pane.waitFor(/I love Paris/);
      await b.messages.correct(sent.id, 'I love Verona');
      await pane.waitFor(/I love Verona \(edited\)/);

      // A normal message with a subject: its own entry.
      await b.messages.send({ to: a.jid, type: 'normal', subject: 'The plan', body: 'Meet at noon' });
      await pane.waitFor(/┌ message from \S+ — The plan/);
      await pane.waitFor(/│ Meet at noon/);

      // /vcard of b.
      await b.vcard.set({ fullName: 'Bee Capulet', nickname: 'bee' });
      await pane.line(`/vcard ${bAcc.jid}`);
      await pane.waitFor(/fn: Bee Capulet/);

      // /add c: c gets the request; /remove c: gone from the roster.
      const asked = new Promise<void>((resolve) =>
        c.roster.on('request', (r) => {
          if (r.from === a.jid) resolve();
        }),
      );
      await pane.line(`/add ${cAcc.jid} Sea`);
      await asked;
      await pane.waitFor(/· Sea/);
      await pane.line(`/remove ${cAcc.jid}`);
      await pane.waitFor(/Removed cmdc/);
      await pane.waitFor(/^(?![\s\S]*· Sea)/);

      // d asks; /deny d: d hears unsubscribed.
      const refused = new Promise<void>((resolve) =>
        d.roster.on('unsubscribed', (e) => {
          if (e.from === a.jid) resolve();
        }),
      );
      await d.roster.subscribe(a.jid);
      await pane.waitFor(/\? cmdd/);
      await pane.line(`/deny ${dAcc.jid}`);
      await refused;

      // /block d: d's messages no longer arrive; /block lists; /unblock lets them through again.
      await pane.press('M-1');
      await pane.line(`/block ${dAcc.jid}`);
      await pane.waitFor(/Blocked cmdd/);
      await pane.line('/block');
      await pane.waitFor(/Blocked: cmdd/);
      await d.messages.send({ to: a.jid, body: 'blocked text' });
      await pane.line(`/unblock ${dAcc.jid}`);
      await pane.waitFor(/Unblocked cmdd/);
      await d.messages.send({ to: a.jid, body: 'after unblock' });
      await pane.press('C-n', 'C-n', 'C-n');
      await pane.line('/win 3');
      await pane.waitFor(/after unblock/);
      assert.doesNotMatch(await pane.screen(), /blocked text/);

      // /xmlconsole shows the wire log (redacted), /help the commands.
      await pane.line('/xmlconsole');
      await pane.waitFor(/XML console/);
      await pane.waitFor(/<message|<iq|<presence/);
      assert.doesNotMatch(await pane.screen(), new RegExp(a.password));
      await pane.press('M-1');
      await pane.line('/help');
      await pane.waitFor(/\/xmlconsole\s+Open the XML console/);
      await pane.line('/quit');
      await pane.waitFor(/\[confab exited 0\]/);
    } finally {
      await pane.stop();
      await Promise.all([b.disconnect(), c.disconnect(), d.disconnect()]);
    }
  });

  it("asks once for a resource name and remembers it; trusts an unknown certificate on the user's word", async () => {
    const s = prosody();
    const a = await freshAccount(s, 'tofu');
    const pane = new Pane();
    try {
      // No --ca: the test CA is unknown, so the certificate cannot be verified.
      const { args, env } = chatArgs(s, a, [], false);
      await pane.start(args, env);
      await pane.waitFor(/A name for this device/);
      await pane.line('Laptop');
      await pane.waitFor(/SHA-256 fingerprint: [0-9A-F:]{20,}/);
      await pane.waitFor(/Trust this certificate for \S+\? \(yes\/no\)/);
      await pane.line('yes');
      await pane.waitFor(/Online as tofu\S*\/Laptop/);
      const config = JSON.parse(readFileSync(join(pane.home, 'config', 'confab', 'config.json'), 'utf8')) as {
        accounts: Record<string, { resource?: string; pin?: string }>;
      };
      assert.equal(config.accounts[a.jid]?.resource, 'Laptop');
      assert.match(config.accounts[a.jid]?.pin ?? '', /^sha256\/[A-Za-z0-9+/=]{40,}$/);
      await pane.line('/quit');
      await pane.waitFor(/\[confab exited 0\]/);
      await pane.stop();

      // The second time: neither question, the pin does it.
      const again = new Pane();
      try {
        // And `confab` without a command on a terminal is `confab chat`.
        assert.equal(args[0], 'chat');
        await again.start(args.slice(1), { ...env, XDG_CONFIG_HOME: join(pane.home, 'config') });
        const screen = await again.waitFor(/Online as tofu\S*\/Laptop/);
        assert.doesNotMatch(screen, /Trust this certificate|A name for this device/);
        await again.line('/quit');
        await again.waitFor(/\[confab exited 0\]/);
      } finally {
        await again.stop();
      }
    } finally {
      await pane.stop();
    }
  });

  it('goes away and xa after the idle seconds, and back at the next key', async () => {
    const s = prosody();
    const [a, bAcc] = await Promise.all([freshAccount(s, 'idlea'), freshAccount(s, 'idleb')]);
    const b = libClient(s, bAcc);
    await b.connect();
    const pane = new Pane();
    try {
      const { args, env } = chatArgs(s, a, ['--resource', 'Home']);
      await pane.start(args, { ...env, CONFAB_AWAY_AFTER: '3', CONFAB_XA_AFTER: '6' });
      await befriend(pane, b, a, bAcc);
      await presenceOf(b, a.jid, (p) => p?.show === 'away');
      await pane.waitFor(/Home: away \(idle\)/);
      await presenceOf(b, a.jid, (p) => p?.show === 'xa');
      await pane.waitFor(/Home: xa \(idle\)/);
      await pane.type('x');
      await presenceOf(b, a.jid, (p) => p !== undefined && p.show === undefined);
      await pane.waitFor(/Home: online\]/);
      await pane.press('C-u');
      await pane.line('/quit');
      await pane.waitFor(/\[confab exited 0\]/);
    } finally {
      await pane.stop();
      await b.disconnect();
    }
  });

  it('nothing remote reaches the terminal as control: ESC[2J, OSC 52, BEL, bidi in body, nick, status, subject', async () => {
    const s = prosody();
    const [a, bAcc] = await Promise.all([freshAccount(s, 'inja'), freshAccount(s, 'injb')]);
    const b = libClient(s, bAcc);
    await b.connect();
    const pane = new Pane();
    // XML 1.0 cannot carry C0 controls other than TAB, LF and CR (so ESC and BEL never come over
    // XMPP: the unit tests feed them to the view directly); what it can carry are the 8-bit C1
    // forms: CSI (U+009B) 2J, OSC (U+009D) 52 clipboard ... ST (U+009C), NEL, DEL, and the bidi
    // overrides and isolates. (A CR arrives as a line break: the XML layer normalizes it.)
    const evil = (tag: string) =>
      `${tag}<\u009b2J\u009d52;c;cHduZWQ=\u009c\u0085\u007f\u202eRTL\u2066iso\u2069>`;
    try {
      const { args, env } = chatArgs(s, a, ['--resource', 'Home']);
      await pane.start(args, env);
      await pane.waitFor(/\[online\]/);
      b.roster.on('request', (r) => {
        if (r.from === a.jid) void r.approve();
      });
      await b.roster.subscribe(a.jid, { nick: evil('NICK'), status: evil('REQ') });
      await pane.waitFor(/NICK<.*RTLiso>/);
      await pane.line(`/approve ${bAcc.jid}`);
      await presenceOf(b, a.jid, (p) => p !== undefined);
      await b.presence.set({ show: 'dnd', status: evil('STATUS') });
      await pane.waitFor(/STATUS</);
      await b.messages.send({ to: a.jid, body: evil('BODY') });
      await b.messages.send({ to: a.jid, type: 'normal', subject: evil('SUBJECT'), body: 'x' });
      await pane.waitFor(/\[Act: 2\]/);
      await pane.press('M-2');
      const screen = await pane.waitFor(/SUBJECT</);
      // Nothing was cleared (our first line is still there), nothing reordered, no bell, no clipboard.
      assert.match(screen, /BODY<RTLiso>/);
      assert.match(screen, /SUBJECT<RTLiso>/);
      assert.match(screen, /STATUS<RTLiso>/);
      assert.doesNotMatch(screen, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      await pane.press('M-1');
      const console1 = await pane.waitFor(/confab chat: inja/);
      assert.match(console1, /NICK<RTLiso>/);
      assert.match(console1, /REQ<RTLiso>/);
      const bell = await pane.tmux('display-message', '-p', '-t', 'main', '#{window_bell_flag}');
      assert.equal(bell.trim(), '0', 'no bell');
      const buffers = await pane.tmux('list-buffers');
      assert.equal(buffers.trim(), '', 'OSC 52 set no clipboard buffer');
      await pane.line('/quit');
      await pane.waitFor(/\[confab exited 0\]/);
    } finally {
      await pane.stop();
      await b.disconnect();
    }
  });
});

describe('confab chat rooms, files and history (Prosody)', () => {
  it('joins a room, shows occupants, chats, /nick /topic /invite /kick /ban /part', async () => {
    const s = prosody();
    const [a, bAcc, cAcc] = await Promise.all([
      freshAccount(s, 'roma'),
      freshAccount(s, 'romb'),
      freshAccount(s, 'romc'),
    ]);
    const b = libClient(s, bAcc);
    const c = libClient(s, cAcc);
    await Promise.all([b.connect(), c.connect()]);
    const room = `verona${Date.now().toString(36)}@${s.muc}`;
    const pane = new Pane();
    try {
      const { args, env } = chatArgs(s, a, ['--resource', 'Home']);
      await pane.start(args, env);
      await pane.waitFor(/\[online\]/);
      await pane.line(`/join ${room}/Romeo`);
      await pane.waitFor(/Joined as Romeo/);
      await pane.waitFor(/Occupants \(1\)/);
      const bRoom = await b.muc.join(room, { nick: 'Benvolio' });
      await pane.waitFor(/Benvolio joined/);
      await pane.waitFor(/Occupants \(2\)/);
      await pane.waitFor(/@Romeo/);

      const heard = new Promise<string>((resolve) =>
        bRoom.on('message', (m) => {
          if (m.nick === 'Romeo' && m.body) resolve(m.body);
        }),
      );
      await pane.type('Ben');
      await pane.press('Tab');
      await pane.waitFor(/\[Romeo\] Benvolio:$/m);
      await pane.line('well met');
      assert.equal(await heard, 'Benvolio: well met');
      await pane.waitFor(/<Romeo> Benvolio: well met/);
      await bRoom.send('Good morrow, Romeo');
      await pane.waitFor(/<Benvolio> Good morrow, Romeo/);

      const subject = new Promise<string | undefined>((resolve) =>
        bRoom.on('subject', (e) => {
          if (!e.initial) resolve(e.subject);
        }),
      );
      await pane.line('/topic Two households');
      assert.equal(await subject, 'Two households');
      await pane.waitFor(new RegExp(`^ ${room.replace(/\./g, '\\.')} — Two households`, 'm'));

      const renamed = new Promise<string>((resolve) => bRoom.on('nick', (e) => resolve(e.newNick)));
      await pane.line('/nick Romeo2');
      assert.equal(await renamed, 'Romeo2');
      await pane.waitFor(/Romeo is now known as Romeo2/);

      const invited = new Promise<string>((resolve) => c.muc.on('invite', (e) => resolve(e.room)));
      await pane.line(`/invite ${cAcc.jid} join us`);
      assert.equal(await invited, room);

      const kicked = new Promise<string>((resolve) => bRoom.on('exit', (e) => resolve(e.reason)));
      await pane.line('/kick Benvolio too loud');
      assert.equal(await kicked, 'kicked');
      await pane.waitFor(/Benvolio was kicked/);
      const bAgain = await b.muc.join(room, { nick: 'Benvolio' });
      await pane.waitFor(/Occupants \(2\)/);
      const banned = new Promise<string>((resolve) => bAgain.on('exit', (e) => resolve(e.reason)));
      await pane.line('/ban Benvolio');
      assert.equal(await banned, 'banned');
      await pane.waitFor(/Benvolio was banned/);

      await pane.line('/part');
      await pane.waitFor(/Left verona/);
      await pane.line('/quit');
      await pane.waitFor(/\[confab exited 0\]/);
    } finally {
      await pane.stop();
      await Promise.all([b.disconnect(), c.disconnect()]);
    }
  });

  it('/upload sends the link, /offer waits for the answer, /history shows the conversation', async () => {
    const s = prosody();
    const [a, bAcc] = await Promise.all([freshAccount(s, 'fila'), freshAccount(s, 'filb')]);
    const b = libClient(s, bAcc);
    await b.connect();
    const dir = mkdtempSync(join(tmpdir(), 'confab-chat-files-'));
    const file = join(dir, 'plan.txt');
    writeFileSync(file, 'meet at the tomb\n'.repeat(1000));
    const pane = new Pane();
    try {
      const { args, env } = chatArgs(s, a, ['--resource', 'Home']);
      await pane.start(args, env);
      await befriend(pane, b, a, bAcc);
      await pane.line(`/msg ${bAcc.jid}`);

      const link = nextMessage(b, (m) => m.oob.length > 0);
      await pane.line(`/upload ${file}`);
      const m = await link;
      assert.match(m.body ?? '', /^https?:\/\/.*plan\.txt$/);
      assert.equal(m.oob[0]?.url, m.body);
      await pane.waitFor(/Uploaded plan\.txt:[\s│]*https?:\/\//);

      const got = mkdtempSync(join(tmpdir(), 'confab-chat-got-'));
      b.files.on('offer', (o) => void o.accept({ dir: got }));
      await pane.line(`/offer ${file}`);
      await pane.waitFor(/accepted plan\.txt/, 30_000);
      assert.equal(readFileSync(join(got, 'plan.txt'), 'utf8'), readFileSync(file, 'utf8'));

      await pane.line('first for the record');
      await pane.line('second for the record');
      // The history has what the server took: wait for its ack before asking.
      await pane.waitFor(/second for the record ✓/);
      await pane.line('/clear');
      await pane.line('/history 2');
      await pane.waitFor(/Last 2 messages with/);
      await pane.waitFor(/first for the record[\s\S]*second for the record/);
      await pane.line('/quit');
      await pane.waitFor(/\[confab exited 0\]/);
    } finally {
      await pane.stop();
      await b.disconnect();
    }
  });
});

for (const server of [
  { name: 'Prosody', info: prosody },
  { name: 'ejabberd', info: ejabberd },
]) {
  describe(`confab chat private messages and mentions in a room on ${server.name}`, () => {
    it('a mention is highlighted and rings the bell; a private message opens room/nick, answered privately', async () => {
      const s = server.info();
      const [a, bAcc] = await Promise.all([freshAccount(s, 'pma'), freshAccount(s, 'pmb')]);
      const b = libClient(s, bAcc);
      await b.connect();
      const room = `capulet${Date.now().toString(36)}@${s.muc}`;
      const pane = new Pane();
      try {
        const { args, env } = chatArgs(s, a, ['--resource', 'Home']);
        await pane.start(args, env);
        await pane.waitFor(/\[online\]/);
        await pane.line(`/join ${room}/Romeo`);
        await pane.waitFor(/Joined as Romeo/);
        const bRoom = await b.muc.join(room, { nick: 'Benvolio' });
        await pane.waitFor(/Benvolio joined/);

        // A message without our nick: no bell. With it: highlighted, and the bell rings.
        await bRoom.send('the day is hot');
        await pane.waitFor(/<Benvolio> the day is hot/);
        assert.equal(await pane.format('#{window_bell_flag}'), '0', 'no bell without a mention');
        await bRoom.send('where is Romeo?');
        await pane.waitFor(/<Benvolio> where is Romeo\?/);
        const styled = (await pane.styled()).split('\n').find((l) => l.includes('where is Romeo?')) ?? '';
        assert.match(styled, /\u001b\[[0-9;]*48;5;52[0-9;]*m[^\n]*where is Romeo\?/, 'highlighted');
        assert.doesNotMatch(
          (await pane.styled()).split('\n').find((l) => l.includes('the day is hot')) ?? '',
          /48;5;52/,
          'only the mention is highlighted',
        );
        const deadline = Date.now() + 5000;
        while ((await pane.format('#{window_bell_flag}')) !== '1' && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));
        assert.equal(await pane.format('#{window_bell_flag}'), '1', 'the bell rang');

        // Benvolio whispers: a window of its own, titled room/nick.
        const whispers: string[] = [];
        bRoom.on('private', (m) => {
          if (m.nick === 'Romeo' && m.body) whispers.push(m.body);
        });
        await bRoom.sendPrivate('Romeo', 'psst, a word');
        const act = await pane.waitFor(/\[Act: (\d+)\]/);
        const n = /\[Act: (\d+)\]/.exec(act)![1]!;
        await pane.line(`/win ${n}`);
        await pane.waitFor(new RegExp(`^ ${room.replace(/\./g, '\\.')}/Benvolio \\(private`, 'm'));
        await pane.waitFor(/<Benvolio> psst, a word/);
        await pane.line('meet me at the orchard');
        await pane.waitFor(/<Romeo> meet me at the orchard/);
        // And from the room window: /msg NICK TEXT.
        await pane.press('M-2');
        await pane.waitFor(/Occupants \(2\)/);
        await pane.line('/msg Benvolio and bring a torch');
        await pane.waitFor(/<Romeo> and bring a torch/);
        const until = Date.now() + 10_000;
        while (whispers.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
        assert.deepEqual(whispers, ['meet me at the orchard', 'and bring a torch']);
        // Private, not said to the room: one private window, nothing of it in the room.
        await pane.press('M-2');
        assert.doesNotMatch(await pane.waitFor(/Occupants/), /orchard|torch/);
        await pane.line('/quit');
        await pane.waitFor(/\[confab exited 0\]/);
      } finally {
        await pane.stop();
        await b.disconnect();
      }
    });
  });
}

describe('confab chat file offers and signals (Prosody)', () => {
  it("shows a contact's offer with name and size, /accept saves it, /decline refuses; a stranger is declined", async () => {
    const s = prosody();
    const [a, bAcc, cAcc] = await Promise.all([
      freshAccount(s, 'offa'),
      freshAccount(s, 'offb'),
      freshAccount(s, 'offc'),
    ]);
    const b = libClient(s, bAcc);
    const c = libClient(s, cAcc);
    await Promise.all([b.connect(), c.connect()]);
    const dir = mkdtempSync(join(tmpdir(), 'confab-chat-offer-'));
    const file = join(dir, 'balcony.txt');
    writeFileSync(file, 'but soft, what light\n'.repeat(500));
    const pane = new Pane();
    const downloads = join(pane.home, 'dl', 'inbox');
    try {
      const { args, env } = chatArgs(s, a, ['--resource', 'Home']);
      await pane.start(args, { ...env, XDG_DOWNLOAD_DIR: downloads });
      await befriend(pane, b, a, bAcc);

      const accepted = b.files.offerFile(`${a.jid}/Home`, file, { timeout: 60_000 });
      await pane.waitFor(/\[Act: 2\]/);
      await pane.press('M-2');
      await pane.waitFor(/file offer 1/);
      await pane.waitFor(/balcony\.txt, 10\.5 kB \(10500 bytes\)/);
      await pane.waitFor(new RegExp(`/accept 1 saves it in ${downloads.replace(/\./g, '\\.')}`));
      await pane.line('/accept');
      const r = await accepted;
      assert.equal(r.status, 'accepted');
      const saved = join(downloads, 'balcony.txt');
      await pane.waitFor(/Saved balcony\.txt \(10\.5 kB \(10500 bytes\)\) as/);
      assert.equal(readFileSync(saved, 'utf8'), readFileSync(file, 'utf8'));

      const refused = b.files.offerFile(`${a.jid}/Home`, file, { timeout: 60_000 }).then(
        () => 'accepted',
        (err: unknown) => (err instanceof StanzaError ? err.condition : String(err)),
      );
      await pane.waitFor(/file offer 2/);
      await pane.line('/decline');
      assert.equal(await refused, 'not-acceptable');
      await pane.waitFor(/Declined balcony\.txt from offb/);

      // c is no contact: refused at once, a line in the console.
      const stranger = await c.files.offerFile(`${a.jid}/Home`, file, { timeout: 60_000 }).then(
        () => 'accepted',
        (err: unknown) => (err instanceof StanzaError ? err.condition : String(err)),
      );
      assert.equal(stranger, 'not-acceptable');
      await pane.press('M-1');
      await pane.waitFor(
        /Declined the file balcony\.txt offered by offc\S*: not[\s│]+one[\s│]+of[\s│]+your[\s│]+contacts/,
      );
      await pane.line('/quit');
      await pane.waitFor(/\[confab exited 0\]/);
    } finally {
      await pane.stop();
      await Promise.all([b.disconnect(), c.disconnect()]);
    }
  });

  it('a second SIGINT, while the first still goes offline, exits with the terminal restored', async () => {
    const s = prosody();
    const a = await freshAccount(s, 'siga');
    // A TCP relay to the server that the test can freeze: then going offline (the first SIGINT)
    // waits for a server that no longer answers, and the second SIGINT comes in meanwhile.
    let frozen = false;
    const relay = createServer((sock) => {
      const up = connect(s.ports.c2s, s.host);
      sock.on('data', (d) => {
        if (!frozen) up.write(d);
      });
      up.on('data', (d) => {
        if (!frozen) sock.write(d);
      });
      sock.on('error', () => up.destroy());
      up.on('error', () => sock.destroy());
      sock.on('close', () => up.destroy());
      up.on('close', () => sock.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    const port = (relay.address() as AddressInfo).port;
    const pane = new Pane();
    try {
      const { args, env } = chatArgs({ ...s, host: '127.0.0.1', ports: { ...s.ports, c2s: port } }, a, [
        '--resource',
        'Home',
      ]);
      await pane.start(args, env);
      await pane.waitFor(/\[online\]/);
      assert.equal(await pane.format('#{alternate_on}'), '1', 'the chat is on the alternate screen');
      const { stdout } = await run('pgrep', ['-P', String(await pane.panePid()), '-f', 'confab.js']);
      const pid = Number(stdout.trim().split('\n')[0]);
      frozen = true;
      process.kill(pid, 'SIGINT');
      await pane.waitFor(/Going offline\.\.\./);
      process.kill(pid, 'SIGINT');
      // Exit code 1: the second signal's process.exit, not the clean stop (0).
      const screen = await pane.waitFor(/\[confab exited \d+\]/);
      assert.match(screen, /\[confab exited 1\]/);
      assert.match(screen, /\[tty cooked\]/, 'raw mode is off');
      assert.equal(await pane.format('#{alternate_on}'), '0', 'back on the normal screen');
      assert.equal(await pane.format('#{cursor_flag}'), '1', 'the cursor is shown');
    } finally {
      await pane.stop();
      relay.close();
    }
  });
});

describe('confab chat across a server restart (own Prosody)', () => {
  let server: TestServer;
  before(async () => {
    server = await startProsody({ name: 'prosody-chat-restart' });
  });
  after(async () => {
    await server?.stop();
  });

  it('counts down to the reconnect, delivers what was typed while down once, and resumes after kill -9', async () => {
    const [a, bAcc] = await Promise.all([server.freshAccount('rsta'), server.freshAccount('rstb')]);
    const b = libClient(server, bAcc, { reconnect: true });
    await b.connect();
    const pane = new Pane();
    try {
      const { args, env } = chatArgs(server, a, ['--resource', 'Home']);
      await pane.start(args, env);
      await befriend(pane, b, a, bAcc);
      await pane.line(`/msg ${bAcc.jid}`);

      const seen: string[] = [];
      b.on('message', (m) => {
        if (m.body) seen.push(m.body);
      });
      await server.kill();
      await pane.waitFor(/reconnecting in \d+s \(attempt \d+\)/);
      await pane.line('typed while down');
      await pane.waitFor(/typed while down …/);
      await server.start();
      await pane.waitFor(/\[online\]/, 60_000);
      await pane.waitFor(/typed while down ✓/, 30_000);
      const deadline = Date.now() + 30_000;
      while (!seen.includes('typed while down') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(
        seen.filter((x) => x === 'typed while down'),
        ['typed while down'],
      );
      // Once, also a while later (no re-send after the reconnect settles).
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(seen.filter((x) => x === 'typed while down').length, 1);

      // kill -9 the chat (server up); b writes meanwhile; the restarted chat, on the same config
      // and data dirs, shows it: the SM session resumes from the SQLite store, or the archive has it.
      const dirs = { XDG_CONFIG_HOME: join(pane.home, 'config'), XDG_DATA_HOME: join(pane.home, 'data') };
      const killChat = async (p: Pane) => {
        const { stdout } = await run('pgrep', ['-P', String(await p.panePid()), '-f', 'confab.js']);
        process.kill(Number(stdout.trim().split('\n')[0]), 'SIGKILL');
        await p.waitFor(/\[confab exited 137\]/);
      };
      await killChat(pane);
      await b.messages.send({ to: a.jid, body: 'while you were gone' });
      await pane.stop();
      const again = new Pane();
      try {
        await again.start(args, { ...env, ...dirs });
        await again.waitFor(/\[online\]/);
        await again.waitFor(/Act: 2/);
        await again.press('M-2');
        await again.waitFor(/while you were gone/);

        // Typed while the server is down, then kill -9: the outbox is in the store, so the next
        // start sends it, once.
        await server.kill();
        await again.waitFor(/reconnecting/);
        await again.line('queued then killed');
        await again.waitFor(/queued then killed …/);
        await killChat(again);
        await server.start();
        const third = new Pane();
        try {
          await third.start(args, { ...env, ...dirs });
          await third.waitFor(/\[online\]/, 30_000);
          const deadline2 = Date.now() + 30_000;
          while (!seen.includes('queued then killed') && Date.now() < deadline2)
            await new Promise((r) => setTimeout(r, 100));
          await new Promise((r) => setTimeout(r, 1500));
          assert.deepEqual(
            seen.filter((x) => x === 'queued then killed'),
            ['queued then killed'],
          );
          await third.line('/quit');
          await third.waitFor(/\[confab exited 0\]/);
        } finally {
          await third.stop();
        }
      } finally {
        await again.stop();
      }
    } finally {
      await pane.stop();
      await b.disconnect();
    }
  });
});
