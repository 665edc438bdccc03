// The full-screen client driven with a fake terminal (what a person sees, escapes interpreted)
// and a fake backend (what the library would do): roster pane, windows, sending and receiving,
// slash commands, completion, typing, receipts, corrections, mentions, notices, the reconnect
// countdown, trust on first use, and that nothing remote reaches the terminal as control.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { ChatApp, HANDLERS } from './app.ts';
import {
  type BackendEvents,
  type ChatBackend,
  type Contact,
  Events,
  type FilesBackend,
  type InMessage,
  type OwnPresenceView,
  type RoomOccupant,
  type RoomsBackend,
} from './backend.ts';
import { SLASH_COMMANDS } from './commands.ts';
import { FakeTerminal } from './fake-terminal.ts';
import { NodeTerminal } from './terminal.ts';

class FakeBackend implements ChatBackend {
  readonly account = 'me@example.org';
  jid: string | undefined = 'me@example.org/Home';
  status: ChatBackend['status'] = 'offline';
  readonly events = new Events<BackendEvents>();
  readonly calls: unknown[][] = [];
  list: Contact[] = [];
  ownView: OwnPresenceView = { show: undefined, status: undefined, auto: false, invisible: false };
  connectError: unknown;
  nextId = 0;
  rooms: RoomsBackend | undefined = undefined;
  files: FilesBackend | undefined = undefined;
  history = undefined;

  on<K extends keyof BackendEvents>(event: K, l: (e: BackendEvents[K]) => void): () => void {
    return this.events.on(event, l);
  }
  emit<K extends keyof BackendEvents>(event: K, e: BackendEvents[K]): void {
    this.events.emit(event, e);
  }
  async connect(): Promise<void> {
    this.calls.push(['connect']);
    if (this.connectError) {
      const e = this.connectError;
      this.connectError = undefined;
      throw e;
    }
    this.status = 'online';
    this.emit('status', { state: 'online' });
  }
  async disconnect(): Promise<void> {
    this.calls.push(['disconnect']);
  }
  contacts(): Contact[] {
    return this.list;
  }
  contact(jid: string): Contact | undefined {
    return this.list.find((c) => c.jid === jid);
  }
  async addContact(jid: string, name?: string): Promise<void> {
    this.calls.push(['add', jid, name]);
  }
  async removeContact(jid: string): Promise<void> {
    this.calls.push(['remove', jid]);
  }
  async approve(jid: string): Promise<void> {
    this.calls.push(['approve', jid]);
  }
  async deny(jid: string): Promise<void> {
    this.calls.push(['deny', jid]);
  }
  own(): OwnPresenceView {
    return this.ownView;
  }
  async setPresence(show: string, status: string | undefined): Promise<void> {
    this.calls.push(['presence', show, status]);
  }
  async sendMessage(to: string, body: string): Promise<{ id: string; queued: boolean }> {
    this.calls.push(['send', to, body]);
    return { id: `m${++this.nextId}`, queued: this.status !== 'online' };
  }
  async correct(id: string, body: string): Promise<{ id: string }> {
    this.calls.push(['correct', id, body]);
    return { id: `m${++this.nextId}` };
  }
  chatState(to: string, state: string): void {
    this.calls.push(['chatState', to, state]);
  }
  async block(jid: string): Promise<void> {
    this.calls.push(['block', jid]);
  }
  async unblock(jid: string): Promise<void> {
    this.calls.push(['unblock', jid]);
  }
  async blocklist(): Promise<string[]> {
    return ['spam@example.net'];
  }
  async vcard(jid: string | undefined): Promise<Record<string, string> | undefined> {
    return jid === 'juliet@example.org' ? { fn: 'Juliet Capulet', nickname: 'jules' } : undefined;
  }
}

const juliet: Contact = {
  jid: 'juliet@example.org',
  name: 'Juliet',
  groups: ['Friends'],
  subscription: 'both',
  pending: false,
  available: true,
  show: 'away',
  status: 'On the balcony',
  resources: ['juliet@example.org/balcony'],
};

function msg(o: Partial<InMessage>): InMessage {
  return {
    from: 'juliet@example.org/balcony',
    to: 'me@example.org/Home',
    id: 'j1',
    type: 'chat',
    body: undefined,
    subject: undefined,
    thread: undefined,
    delay: undefined,
    oob: [],
    outgoing: false,
    error: undefined,
    ...o,
  };
}

const tick = () => new Promise((r) => setImmediate(r));

async function setup(o: { cols?: number; rows?: number; trust?: (pin: string) => Promise<void> } = {}) {
  const term = new FakeTerminal(o.cols ?? 100, o.rows ?? 30);
  const backend = new FakeBackend();
  backend.list = [juliet];
  let exited: number | undefined;
  const app = new ChatApp({
    terminal: term,
    backend,
    colour: true,
    ticker: false,
    trust: o.trust,
    onExit: (c) => {
      exited = c;
    },
    now: () => new Date(2026, 11, 2, 10, 30),
    downloadDir: '/dl',
  });
  await app.start();
  await tick();
  await tick();
  app.render();
  const type = async (s: string) => {
    term.type(s);
    await tick();
    await tick();
    app.render();
  };
  return { term, backend, app, type, exited: () => exited };
}

describe('confab chat', () => {
  it('every slash command of the table has a handler, and no handler is missing from the table', () => {
    for (const c of SLASH_COMMANDS) assert.ok(HANDLERS[c.name], `no handler for /${c.name}`);
    for (const name of Object.keys(HANDLERS)) {
      assert.ok(
        SLASH_COMMANDS.some((c) => c.name === name),
        `handler ${name} not in the table`,
      );
    }
  });

  it('shows the roster with groups, presence and status, and the connection state', async () => {
    const { term } = await setup();
    const screen = term.text();
    assert.match(screen, /Friends/);
    assert.match(screen, /◐ Juliet/);
    assert.match(screen, /away: On the balcony/);
    assert.match(screen, /\[online\]/);
    assert.match(screen, /Online as me@example\.org\/Home/);
  });

  it('opens a chat with /msg, sends, and shows the server ack and the receipt', async () => {
    const { term, backend, type } = await setup();
    await type('/msg juliet@example.org\r');
    assert.match(term.line(0), /Juliet <juliet@example\.org> \(away: On the balcony\)/);
    await type('Hello there\r');
    assert.deepEqual(
      backend.calls.find((c) => c[0] === 'send'),
      ['send', 'juliet@example.org', 'Hello there'],
    );
    assert.match(term.text(), /10:30 <me> Hello there/);
    backend.emit('delivery', { id: 'm1', state: 'acked' });
    await type('');
    assert.match(term.text(), /<me> Hello there ✓(?!✓)/);
    backend.emit('delivery', { id: 'm1', state: 'received' });
    await type('');
    assert.match(term.text(), /<me> Hello there ✓✓/);
  });

  it('receives into its own window, counts unread in the roster and status bar, switches with Alt-2', async () => {
    const { term, backend, type, app } = await setup();
    backend.emit('message', msg({ body: 'Romeo?' }));
    await type('');
    assert.equal(app.windows.length, 2);
    assert.match(term.text(), /◐ Juliet\s+1/);
    assert.match(term.text(), /\[Act: 2\]/);
    await type('\u001b2');
    assert.equal(app.active, 1);
    assert.match(term.text(), /<Juliet> Romeo\?/);
    assert.doesNotMatch(term.text(), /\[Act:/);
    await type('\u000e'); // Ctrl-N wraps to the console
    assert.equal(app.active, 0);
    await type('\u0010'); // Ctrl-P
    assert.equal(app.active, 1);
    await type('/win 1\r');
    assert.equal(app.active, 0);
  });

  it('multi-line input with Alt-Enter and Ctrl-J; Enter sends it whole', async () => {
    const { backend, type, term } = await setup();
    await type('/msg juliet@example.org\r');
    await type('line one\u001b\rline two\nline three\r');
    assert.deepEqual(
      backend.calls.find((c) => c[0] === 'send'),
      ['send', 'juliet@example.org', 'line one\nline two\nline three'],
    );
    assert.match(term.text(), /<me> line one\n.*│ {6}line two\n.*│ {6}line three/);
  });

  it('sends composing while typing and paused after a pause; the peer typing shows in the title', async () => {
    const term = new FakeTerminal(100, 30);
    const backend = new FakeBackend();
    backend.list = [juliet];
    const app = new ChatApp({ terminal: term, backend, colour: false, ticker: false, pausedAfter: 0.05 });
    await app.start();
    await tick();
    await app.command('msg juliet@example.org');
    term.type('Hel');
    term.type('lo');
    assert.deepEqual(
      backend.calls.filter((c) => c[0] === 'chatState'),
      [['chatState', 'juliet@example.org', 'composing']],
    );
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(backend.calls.filter((c) => c[0] === 'chatState').at(-1), [
      'chatState',
      'juliet@example.org',
      'paused',
    ]);
    backend.emit('chatState', { from: 'juliet@example.org/balcony', state: 'composing' });
    app.render();
    assert.match(term.line(0), /typing…/);
    backend.emit('message', msg({ body: 'hi' }));
    app.render();
    assert.doesNotMatch(term.line(0), /typing/);
    app.stop();
  });

  it('/me and message styling are rendered; the nick has its XEP-0392 colour', async () => {
    const { backend, type, term } = await setup();
    await type('/msg juliet@example.org\r');
    backend.emit('message', msg({ body: '/me waves' }));
    backend.emit('message', msg({ id: 'j2', body: 'a *bold* move' }));
    await type('');
    assert.match(term.text(), /\* Juliet waves/);
    const y = term.grid.findIndex((r) => r.join('').includes('a *bold* move'));
    const x = term.grid[y]!.join('').indexOf('bold');
    assert.match(term.sgr[y]![x]!, /(^|;)1(;|$)/, 'bold');
    const nx = term.grid[y]!.join('').indexOf('<Juliet>');
    assert.match(term.sgr[y]![nx]!, /38;5;\d+/, 'nick colour');
  });

  it('applies corrections of received messages and /correct edits our last message', async () => {
    const { backend, type, term } = await setup();
    await type('/msg juliet@example.org\r');
    backend.emit('message', msg({ id: 'x1', body: 'I love Paris' }));
    backend.emit('correction', { id: 'x1', from: 'juliet@example.org/balcony', body: 'I love Romeo' });
    await type('');
    assert.match(term.text(), /<Juliet> I love Romeo \(edited\)/);
    assert.doesNotMatch(term.text(), /Paris/);
    await type('teh plan\r');
    await type('/correct the plan\r');
    assert.deepEqual(
      backend.calls.find((c) => c[0] === 'correct'),
      ['correct', 'm1', 'the plan'],
    );
    assert.match(term.text(), /<me> the plan \(edited\)/);
  });

  it('highlights and rings the bell when our nick is mentioned', async () => {
    const { backend, type, term } = await setup();
    backend.emit('message', msg({ body: 'hey me, look' }));
    await type('');
    assert.equal(term.bells, 1);
    backend.emit('message', msg({ id: 'j3', body: 'nothing for you (memento)' }));
    await type('');
    assert.equal(term.bells, 1, 'a word containing the nick is no mention');
    await type('\u001b2');
    const y = term.grid.findIndex((r) => r.join('').includes('hey me, look'));
    const x = term.grid[y]!.join('').indexOf('hey');
    assert.match(term.sgr[y]![x]!, /48;5;52/);
  });

  it('shows a normal message or one with a subject as its own entry', async () => {
    const { backend, type, term } = await setup();
    backend.emit('message', msg({ type: 'normal', subject: 'The plan', body: 'Meet at noon.\nBring wine.' }));
    await type('\u001b2');
    const text = term.text();
    assert.match(text, /┌ message from Juliet — The plan/);
    assert.match(text, /│ Meet at noon\./);
    assert.match(text, /│ Bring wine\./);
    assert.match(text, /└/);
  });

  it('nothing remote puts escapes, controls or bidi overrides on the terminal', async () => {
    const evil = 'x\u001b[2J\u001b]52;c;cHduZWQ=\u0007\u202eevil\u2066\u0007y';
    const { backend, type, term } = await setup();
    backend.list = [{ ...juliet, name: `Jul${evil}`, status: `st${evil}` }];
    backend.emit('contacts', undefined);
    backend.emit('message', msg({ body: `body${evil}`, from: `juliet@example.org/r${evil}` }));
    backend.emit('message', msg({ id: 'n', type: 'normal', subject: `subj${evil}`, body: 'b' }));
    backend.emit('request', { from: 'x@example.org', status: `please${evil}`, nick: `n${evil}` });
    await type('\u001b2');
    // FakeTerminal throws on any escape or control it does not expect: reaching here means none got
    // through; the only BEL is our own (none: no mention here).
    assert.equal(term.bells, 0);
    const text = term.text();
    assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    assert.match(text, /bodyxevily/);
    assert.match(text, /subjxevily/);
    assert.match(text, /Julxevily/);
    for (const ch of term.output) {
      const cp = ch.codePointAt(0)!;
      assert.ok(
        !(cp >= 0x202a && cp <= 0x202e) && !(cp >= 0x2066 && cp <= 0x2069),
        'no bidi control written',
      );
    }
    assert.doesNotMatch(term.output, /\u001b\]/, 'no OSC written');
    assert.equal(term.output.split('\u001b[2J').length - 1, 1, 'one clear-screen: our first frame');
  });

  it('subscription requests show in the roster pane; /approve without JID takes the only one', async () => {
    const { backend, type, term } = await setup();
    backend.emit('request', { from: 'romeo@example.net', status: 'Hi', nick: undefined });
    await type('');
    assert.match(term.text(), /Requests/);
    assert.match(term.text(), /\? romeo@example\.net/);
    assert.match(term.text(), /asks to see your presence: "Hi"/);
    await type('/approve\r');
    assert.deepEqual(
      backend.calls.find((c) => c[0] === 'approve'),
      ['approve', 'romeo@example.net'],
    );
    assert.doesNotMatch(term.text(), /\? romeo/);
    await type('/deny bad@example.net\r');
    assert.deepEqual(
      backend.calls.find((c) => c[0] === 'deny'),
      ['deny', 'bad@example.net'],
    );
  });

  it('runs the roster, presence, blocking and vCard commands', async () => {
    const { backend, type, term } = await setup();
    await type('/add romeo@example.net Romeo M\r');
    await type('/remove old@example.net\r');
    await type('/status dnd In a meeting\r');
    await type('/block spam@example.net\r');
    await type('/unblock spam@example.net\r');
    await type('/block\r');
    await type('/vcard juliet@example.org\r');
    assert.deepEqual(
      backend.calls.filter((c) => c[0] !== 'connect'),
      [
        ['add', 'romeo@example.net', 'Romeo M'],
        ['remove', 'old@example.net'],
        ['presence', 'dnd', 'In a meeting'],
        ['block', 'spam@example.net'],
        ['unblock', 'spam@example.net'],
      ],
    );
    const text = term.text();
    assert.match(text, /Blocked: spam@example\.net/);
    assert.match(text, /fn: Juliet Capulet/);
    await type('/status sleepy\r');
    assert.match(term.text(), /usage: \/status/);
    await type('/frobnicate\r');
    assert.match(term.text(), /Unknown command \/frobnicate/);
  });

  it('says which commands are not available yet', async () => {
    const { type, term } = await setup();
    await type('/join room@conference.example.org\r');
    assert.match(term.text(), /group chat is not available yet/);
    await type('/upload /etc/hostname\r');
    assert.match(term.text(), /file upload is not available yet/);
    await type('/history\r');
    assert.match(term.text(), /history is not available yet/);
  });

  it('completes commands, JIDs and show words with Tab, cycling on repeated Tab', async () => {
    const { app, type } = await setup();
    await type('/ms\t');
    assert.equal(app.editor.text, '/msg ');
    await type('jul\t');
    assert.equal(app.editor.text, '/msg juliet@example.org ');
    app.editor.set('');
    await type('/status a\t');
    assert.equal(app.editor.text, '/status away ');
    app.editor.set('');
    await type('/b\t');
    assert.equal(app.editor.text, '/b', 'ambiguous: /ban /block');
    assert.match(app.hint ?? '', /\/ban \/block/);
    await type('\t');
    assert.equal(app.editor.text, '/ban');
    await type('\t');
    assert.equal(app.editor.text, '/block');
  });

  it('completes nicks in a room (nick: at the start of the line)', async () => {
    const { app, backend, type } = await setup();
    const occupants: RoomOccupant[] = [
      {
        nick: 'Mercutio',
        role: 'participant',
        affiliation: 'none',
        show: undefined,
        status: undefined,
        jid: undefined,
      },
      {
        nick: 'Benvolio',
        role: 'moderator',
        affiliation: 'owner',
        show: undefined,
        status: undefined,
        jid: undefined,
      },
    ];
    const sent: string[] = [];
    backend.rooms = {
      join: async () => {},
      leave: async () => {},
      send: async (_r, body) => {
        sent.push(body);
        return { id: 'r1' };
      },
      sendPrivate: async () => ({ id: 'p' }),
      setNick: async () => {},
      setSubject: async () => {},
      invite: async () => {},
      kick: async () => {},
      ban: async () => {},
      occupants: () => occupants,
      subject: () => 'Verona',
      ownNick: () => 'me',
      joined: () => ['room@conference.example.org'],
    };
    await type('/join room@conference.example.org\r');
    await type('mer\t');
    assert.equal(app.editor.text, 'Mercutio: ');
    await type('hi\r');
    assert.deepEqual(sent, ['Mercutio: hi']);
    assert.match(app.state().title, /room@conference\.example\.org — Verona/);
    const screen = (app.terminal as FakeTerminal).text();
    assert.match(screen, /Occupants \(2\)/);
    assert.match(screen, /\+Mercutio/);
    assert.match(screen, /@Benvolio/);
    backend.emit(
      'message',
      msg({ type: 'groupchat', from: 'room@conference.example.org/Benvolio', body: 'me: ping' }),
    );
    await type('');
    assert.equal(app.terminal instanceof FakeTerminal && app.terminal.bells, 1);
  });

  it('shows the reconnect countdown and queued messages go out after the return', async () => {
    const { backend, type, term } = await setup();
    backend.status = 'reconnecting';
    backend.emit('status', {
      state: 'reconnecting',
      retryAt: Date.now() + 4500,
      attempt: 2,
      error: 'connection reset',
    });
    await type('');
    assert.match(term.text(), /\[reconnecting in 5s \(attempt 2\)\]/);
    assert.match(term.text(), /Connection lost \(connection reset\); reconnecting in 5 s/);
    await type('/msg juliet@example.org\r');
    await type('while down\r');
    assert.match(term.text(), /<me> while down …/);
    backend.status = 'online';
    backend.emit('status', { state: 'online', resumed: true });
    backend.emit('delivery', { id: 'm1', state: 'acked' });
    await type('');
    assert.match(term.text(), /<me> while down ✓/);
    assert.match(term.text(), /\[online\]/);
  });

  it('shows an unverifiable certificate with its fingerprint and pins it on yes', async () => {
    const pins: string[] = [];
    const term = new FakeTerminal(120, 30);
    const backend = new FakeBackend();
    backend.connectError = Object.assign(new Error('TLS: refused'), {
      code: 'ERR_TLS_CERT',
      domain: 'example.org',
      reason: 'untrusted',
      fingerprint256: 'AB:CD:EF',
      spkiSha256: 'c3BraQ==',
    });
    const app = new ChatApp({
      terminal: term,
      backend,
      colour: false,
      ticker: false,
      trust: async (p) => {
        pins.push(p);
      },
    });
    await app.start();
    await tick();
    app.render();
    assert.match(term.text(), /SHA-256 fingerprint: AB:CD:EF/);
    assert.match(term.text(), /Trust this certificate for me@example\.org\? \(yes\/no\)/);
    term.type('yes\r');
    await tick();
    await tick();
    app.render();
    assert.deepEqual(pins, ['sha256/c3BraQ==']);
    assert.equal(backend.calls.filter((c) => c[0] === 'connect').length, 2);
    assert.match(term.text(), /Online as/);
    app.stop();
  });

  it('opens the XML console with the wire log, sanitized', async () => {
    const { backend, type, term } = await setup();
    backend.emit('wire', { line: "OUT <message to='a@b'><body>hi\u001b[31m</body></message>" });
    await type('/xmlconsole\r');
    assert.match(term.text(), /OUT <message to='a@b'><body>hi<\/body><\/message>/);
    backend.emit('wire', { line: 'IN <iq/>' });
    await type('');
    assert.match(term.text(), /IN <iq\/>/);
  });

  it('redraws in full after a resize, and /quit disconnects and exits', async () => {
    const { term, backend, type, exited } = await setup({ cols: 100, rows: 30 });
    term.resize(70, 20);
    await tick();
    assert.match(term.text(), /\[online\]/);
    assert.equal(term.text().split('\n').length, 20);
    await type('/quit\r');
    await tick();
    assert.ok(backend.calls.some((c) => c[0] === 'disconnect'));
    assert.equal(exited(), 0);
    assert.equal(term.started, false);
  });

  it('shows what was typed in the order typed, before the server answers', async () => {
    const { backend, app, type, term } = await setup();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const send = backend.sendMessage.bind(backend);
    backend.sendMessage = async (to, body) => {
      await gate;
      return send(to, body);
    };
    await type('/msg juliet@example.org\r');
    await type('one\rtwo\r');
    assert.match(term.text(), /<me> one\n.*<me> two/);
    await type('/clear\r');
    release();
    await type('');
    assert.equal(app.current.entries.length, 0);
  });

  it('/help lists every command of the table', async () => {
    const { type, app } = await setup({ rows: 60 });
    await type('/help\r');
    const text = app.windows[0]!.entries.map((e) => e.text).join('\n');
    for (const c of SLASH_COMMANDS) assert.ok(text.includes(`/${c.name}`), c.name);
  });
});

const ROOM = 'room@conference.example.org';

/** A room backend with `occupants`, recording what is sent (to the room, and privately). */
function fakeRooms(occupants: string[], sent: unknown[][]): RoomsBackend {
  return {
    join: async () => {},
    leave: async () => {},
    send: async (room, body) => {
      sent.push(['room', room, body]);
      return { id: `r${sent.length}` };
    },
    sendPrivate: async (room, nick, body) => {
      sent.push(['private', room, nick, body]);
      return { id: `p${sent.length}` };
    },
    setNick: async () => {},
    setSubject: async () => {},
    invite: async () => {},
    kick: async () => {},
    ban: async () => {},
    occupants: () =>
      occupants.map((nick) => ({
        nick,
        role: 'participant',
        affiliation: 'none',
        show: undefined,
        status: undefined,
        jid: undefined,
      })),
    subject: () => undefined,
    ownNick: () => 'Romeo',
    joined: () => [ROOM],
  };
}

/** A files backend whose transfers the test drives: `progress` holds each one's callback. */
function fakeFiles() {
  const calls: unknown[][] = [];
  const progress: ((done: number, total: number | undefined) => void)[] = [];
  const finish: ((v: unknown) => void)[] = [];
  const files: FilesBackend = {
    upload: (path, onProgress) => {
      calls.push(['upload', path]);
      progress.push(onProgress);
      return new Promise((r) => finish.push(r as (v: unknown) => void));
    },
    offer: async () => true,
    offerSize: async (id) => (id === '1' ? 17_000 : undefined),
    accept: (id, dir, onProgress) => {
      calls.push(['accept', id, dir]);
      progress.push(onProgress);
      return new Promise((r) => finish.push(r as (v: unknown) => void));
    },
    decline: (id, condition) => {
      calls.push(['decline', id, condition]);
    },
  };
  return { files, calls, progress, finish };
}

describe('confab chat: private messages, file offers, progress, the terminal on exit', () => {
  it('/msg NICK in a room opens a private window room/nick; both ways go through it', async () => {
    const { app, backend, type, term } = await setup();
    const sent: unknown[][] = [];
    backend.rooms = fakeRooms(['Benvolio', 'Mercutio'], sent);
    await type(`/join ${ROOM}\r`);
    await type('/msg benvolio a word in private\r');
    assert.deepEqual(sent, [['private', ROOM, 'Benvolio', 'a word in private']]);
    assert.equal(app.current.kind, 'chat');
    assert.equal(app.current.jid, `${ROOM}/Benvolio`);
    assert.match(app.state().title, /^room@conference\.example\.org\/Benvolio \(private/);
    assert.match(term.text(), /<Romeo> a word in private/);
    await type('and more\r');
    assert.deepEqual(sent[1], ['private', ROOM, 'Benvolio', 'and more']);
    // Their answer lands in the same window, not in a chat with the room's bare JID.
    await type('\u001b1');
    backend.emit('message', msg({ from: `${ROOM}/Benvolio`, id: 'pm1', body: 'whispered back' }));
    await type('');
    const i = app.windows.findIndex((w) => w.jid === `${ROOM}/Benvolio`);
    assert.ok(app.windows[i]!.entries.some((e) => e.text === 'whispered back'));
    assert.equal(app.windows[i]!.unread, 1);
    assert.equal(app.windows.filter((w) => w.kind === 'chat').length, 1);
    // Outside a room a nick is no JID; in a room an unknown nick says so.
    await type(`/win ${app.windows.findIndex((w) => w.kind === 'room') + 1}\r`);
    await type('/msg Tybalt hi\r');
    assert.match(term.text(), /nobody called Tybalt in room@/);
    assert.equal(sent.length, 2);
  });

  it("shows a contact's file offer with name and size; /accept downloads with a percentage that updates", async () => {
    const { backend, type, term } = await setup();
    const f = fakeFiles();
    backend.files = f.files;
    backend.emit('offer', {
      id: '1',
      from: 'juliet@example.org/balcony',
      url: 'http://x/abc/plan.txt',
      name: 'plan\u001b[2J.txt',
      desc: 'the plan',
    });
    await type('');
    await type('\u001b2');
    const screen = term.text();
    assert.match(screen, /file offer 1/);
    assert.match(screen, /plan\.txt, 17\.0 kB \(17000 bytes\)/);
    assert.match(screen, /\/accept 1 saves it in \/dl/);
    assert.doesNotMatch(screen, /\u001b|\[2J/, 'the escape in the name is gone');
    await type('/accept\r');
    assert.deepEqual(f.calls.at(-1), ['accept', '1', '/dl']);
    f.progress[0]!(2500, 10_000);
    await type('');
    assert.match(term.text(), /downloading plan\.txt: 25% \(2500\/10000 bytes\)/);
    f.progress[0]!(7500, 10_000);
    await type('');
    assert.match(term.text(), /downloading plan\.txt: 75% \(7500\/10000 bytes\)/);
    assert.doesNotMatch(term.text(), /25%/);
    f.finish[0]!({ path: '/dl/plan.txt', size: 10_000 });
    await type('');
    assert.match(term.text(), /Saved plan\.txt \(10\.0 kB \(10000 bytes\)\) as \/dl\/plan\.txt/);
    assert.doesNotMatch(term.text(), /downloading/);
    await type('/accept\r');
    assert.match(term.text(), /no file offer is open/);
  });

  it("/decline refuses an offer; a stranger's offer is declined at once with a notice", async () => {
    const { app, backend, type, term } = await setup();
    const f = fakeFiles();
    backend.files = f.files;
    backend.emit('offer', {
      id: '2',
      from: 'juliet@example.org/balcony',
      url: 'http://x/a',
      name: 'a',
      desc: undefined,
    });
    await type('\u001b2');
    assert.match(term.text(), /a, size not announced/);
    await type('/decline 2\r');
    assert.deepEqual(f.calls.at(-1), ['decline', '2', 'not-acceptable']);
    assert.match(term.text(), /Declined a from juliet/);
    backend.emit('offer', {
      id: '3',
      from: 'tybalt@example.net/x',
      url: 'http://x/b',
      name: 'b',
      desc: undefined,
    });
    await type('');
    assert.deepEqual(f.calls.at(-1), ['decline', '3', 'not-acceptable']);
    assert.equal(app.windows.filter((w) => w.jid.startsWith('tybalt')).length, 0, 'no window for a stranger');
    await type('\u001b1');
    assert.match(
      term.text(),
      /Declined the file b offered by tybalt@example\.net\/x: not one of\s+(│\s+)?your contacts/,
    );
  });

  it('a bookmarked autojoin room leaves the console in front and says which window is whose', async () => {
    const { app, backend, type, term } = await setup();
    backend.rooms = fakeRooms(['Benvolio'], []);
    backend.emit('room', { room: ROOM, event: 'autojoin', nick: 'Romeo' });
    await type('');
    assert.equal(app.active, 0, 'still on the console');
    assert.match(
      term.text(),
      /Joining room@conference\.example\.org \(bookmarked, autojoin\):\s+(│\s+)?window 2, Alt-2 or \/win 2/,
    );
    await type('/msg Ben\t');
    assert.equal(app.editor.text, '/msg Ben', 'no nicks outside a room');
    app.editor.set('');
    await type('\u001b2');
    await type('/msg Ben\t');
    assert.equal(app.editor.text, '/msg Benvolio ', 'a nick completes in the room');
  });

  it('/upload shows its progress as a percentage that updates', async () => {
    const { backend, type, term } = await setup();
    const f = fakeFiles();
    backend.files = f.files;
    await type('/upload /tmp/photo.jpg\r');
    assert.deepEqual(f.calls[0], ['upload', '/tmp/photo.jpg']);
    f.progress[0]!(0, 400);
    await type('');
    assert.match(term.text(), /uploading photo\.jpg: 0% \(0\/400 bytes\)/);
    f.progress[0]!(100, 400);
    await type('');
    assert.match(term.text(), /uploading photo\.jpg: 25%/);
    f.progress[0]!(400, 400);
    await type('');
    assert.match(term.text(), /uploading photo\.jpg: 100%/);
    f.finish[0]!('https://up.example.org/photo.jpg');
    await type('');
    assert.match(term.text(), /Uploaded photo\.jpg: https:\/\/up\.example\.org\/photo\.jpg/);
    assert.doesNotMatch(term.text(), /uploading/);
  });

  it('gives the terminal back when the process exits without stop() (a second SIGINT)', () => {
    const written: string[] = [];
    const raw: boolean[] = [];
    const input = Object.assign(new PassThrough(), {
      isTTY: true,
      setRawMode: (m: boolean) => raw.push(m),
    });
    const t = new NodeTerminal(input, { write: (s: string) => written.push(s), columns: 80, rows: 24 });
    const before = process.listeners('exit');
    t.start();
    const added = process.listeners('exit').filter((l) => !before.includes(l));
    assert.equal(added.length, 1, 'one exit handler');
    assert.match(written.join(''), /\u001b\[\?1049h/);
    // What process.exit() does: run the 'exit' listeners.
    (added[0] as () => void)();
    assert.deepEqual(raw, [true, false]);
    assert.match(written.at(-1) ?? '', /\u001b\[\?1049l/, 'left the alternate screen');
    assert.match(written.at(-1) ?? '', /\u001b\[\?25h/, 'cursor shown');
    assert.match(written.at(-1) ?? '', /\u001b\[\?2004l/, 'bracketed paste off');
    assert.equal(process.listeners('exit').filter((l) => !before.includes(l)).length, 0);
  });
});
