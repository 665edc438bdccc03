// `confab send` options (issue 7 "One-shot commands"), through run() with fake streams and a fake
// session: how --type, --subject, --thread, --receipt, --wait, --expire, --url, --desc, --xhtml
// and --cc are parsed, checked (usage errors exit 2 before connecting) and mapped onto the one
// OutgoingMessage the session sends; --receipt's wait and its exit 5; the --json result.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { ConfabError } from '../../../confab/src/errors.ts';
import { run } from '../main.ts';
import type { Io } from '../output.ts';
import type { CliSession, OutgoingMessage } from '../session.ts';

const ENV = { CONFAB_JID: 'me@example.org', CONFAB_PASSWORD: 'pw' };

/** Only what `send` uses; anything else fails the test loudly. */
class SendSession {
  jid = 'me@example.org/confab-x';
  sent: OutgoingMessage[] = [];
  waits: { id: string; seconds: number }[] = [];
  disconnected = 0;
  /** Message id -> who answers with a receipt; ids not here never get one. */
  receipts = new Map<string, string>();
  via: 'multicast' | 'per-recipient' | undefined;
  async sendMessage(msg: OutgoingMessage) {
    this.sent.push(msg);
    const id = `id-${this.sent.length}`;
    if (!msg.cc) return { id };
    return { id, via: this.via, ids: this.via === 'multicast' ? [id] : msg.cc.map((_, i) => `${id}-${i}`) };
  }
  async waitReceipt(id: string, seconds: number) {
    this.waits.push({ id, seconds });
    const from = this.receipts.get(id);
    if (from === undefined) throw new ConfabError('ERR_TIMEOUT', `no receipt for message ${id}`);
    return { from };
  }
  async disconnect() {
    this.disconnected++;
  }
}

async function send(argv: string[], session = new SendSession()) {
  let out = '';
  let err = '';
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  stdin.isTTY = true;
  const home = mkdtempSync(join(tmpdir(), 'confab-send-test-'));
  const io: Io = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    stdin,
    env: { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), ...ENV },
  };
  let connected = 0;
  const code = await run(['send', ...argv], io, {
    sessionFactory: async () => async () => {
      connected++;
      return new Proxy(session, {
        get: (target, key) => {
          if (key in target) return Reflect.get(target, key);
          if (key === 'then') return undefined;
          throw new Error(`send used session.${String(key)}, which this test does not fake`);
        },
      }) as unknown as CliSession;
    },
  });
  return {
    code,
    out,
    err,
    session,
    connected,
    json: () =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
  };
}

describe('send: --type, --subject, --thread', () => {
  it('default: a chat message with the words joined, nothing else set', async () => {
    const r = await send(['juliet@example.org', 'Art', 'thou', 'not', 'Romeo?']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.session.sent, [
      {
        to: 'juliet@example.org',
        body: 'Art thou not Romeo?',
        type: 'chat',
        subject: undefined,
        thread: undefined,
      },
    ]);
    assert.deepEqual(r.session.waits, [], 'no receipt asked, none waited for');
    assert.equal(r.session.disconnected, 1);
  });

  it('type, subject and thread are passed as given; a subject alone makes a message', async () => {
    const r = await send([
      'juliet@example.org',
      'hi',
      '--type',
      'headline',
      '--subject',
      'News',
      '--thread',
      't-1',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.session.sent[0], {
      to: 'juliet@example.org',
      body: 'hi',
      type: 'headline',
      subject: 'News',
      thread: 't-1',
    });
    const s = await send(['juliet@example.org', '', '--type', 'normal', '--subject', 'Only a subject']);
    assert.equal(s.code, 0, s.err);
    assert.equal(s.session.sent[0]?.body, undefined, 'an empty text sends no <body/>');
    assert.equal(s.session.sent[0]?.subject, 'Only a subject');
  });

  it('refuses a type outside chat|normal|headline, and a thread XML cannot carry, before connecting', async () => {
    for (const argv of [
      ['juliet@example.org', 'hi', '--type', 'groupchat'],
      ['juliet@example.org', 'hi', '--thread', 'a\u0001b'],
      ['juliet@example.org', 'hi', '--subject', '\uffff'],
    ]) {
      const r = await send(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.equal(r.connected, 0, 'no connection for a usage error');
      assert.match(r.err, /^confab: .+\(see 'confab send --help'\)\n$/);
    }
  });
});

describe('send: --receipt and --wait', () => {
  it('asks for a receipt and waits the default 30 s for it; exit 0 when it comes', async () => {
    const session = new SendSession();
    session.receipts.set('id-1', 'juliet@example.org/balcony');
    const r = await send(['juliet@example.org', 'Delivered?', '--receipt', '--json'], session);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.session.sent[0]?.receipt, true);
    assert.deepEqual(r.session.waits, [{ id: 'id-1', seconds: 30 }]);
    assert.deepEqual(r.json(), [
      { event: 'result', command: 'send', to: 'juliet@example.org', id: 'id-1', receipt: true },
    ]);
  });

  it('no receipt within --wait exits 5 naming the time; still disconnects', async () => {
    const r = await send(['juliet@example.org', 'Delivered?', '--receipt', '--wait', '2']);
    assert.equal(r.code, 5);
    assert.deepEqual(r.session.waits, [{ id: 'id-1', seconds: 2 }]);
    assert.match(r.err, /no receipt from juliet@example\.org came within 2 s/);
    assert.equal(r.session.disconnected, 1);
  });

  it('--wait alone asks for nothing; --receipt with --cc and a bad --wait are usage errors', async () => {
    const w = await send(['juliet@example.org', 'hi', '--wait', '5']);
    assert.equal(w.code, 0);
    assert.equal(w.session.sent[0]?.receipt, undefined);
    assert.deepEqual(w.session.waits, []);
    for (const argv of [
      ['juliet@example.org', 'hi', '--receipt', '--cc', 'romeo@example.net'],
      ['juliet@example.org', 'hi', '--receipt', '--wait', 'soon'],
    ]) {
      const r = await send(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.equal(r.connected, 0);
    }
  });
});

describe('send: --expire', () => {
  it('a whole number of seconds becomes the lifetime (XEP-0023)', async () => {
    const r = await send(['juliet@example.org', 'Soon gone', '--expire', '60']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.session.sent[0]?.expire, 60);
    assert.equal('expire' in (await send(['juliet@example.org', 'hi'])).session.sent[0]!, false);
  });

  it('0, a fraction or a word exits 2 before connecting', async () => {
    for (const v of ['0', '1.5', 'later']) {
      const r = await send(['juliet@example.org', 'hi', '--expire', v]);
      assert.equal(r.code, 2, v);
      assert.equal(r.connected, 0, v);
    }
  });
});

describe('send: --url and --desc', () => {
  it('each --desc describes the --url in the same position; a --url may go without one', async () => {
    const r = await send([
      'juliet@example.org',
      'The plan',
      '--url',
      'https://example.org/plan.pdf',
      '--desc',
      'The plan',
      '--url',
      'xmpp:romeo@example.net',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.session.sent[0]?.oob, [
      { url: 'https://example.org/plan.pdf', desc: 'The plan' },
      { url: 'xmpp:romeo@example.net', desc: undefined },
    ]);
  });

  it('more --desc than --url, or a --url that is no URL, exits 2', async () => {
    for (const argv of [
      ['juliet@example.org', 'hi', '--desc', 'what?'],
      ['juliet@example.org', 'hi', '--url', 'https://a.example/', '--desc', 'a', '--desc', 'b'],
      ['juliet@example.org', 'hi', '--url', 'not a url'],
    ]) {
      const r = await send(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.equal(r.connected, 0);
    }
  });
});

describe('send: --xhtml', () => {
  it('well-formed markup is passed on as given', async () => {
    const r = await send(['juliet@example.org', 'Be bold', '--xhtml', '<strong>Be</strong> bold']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.session.sent[0]?.xhtml, '<strong>Be</strong> bold');
  });

  it('markup that is not well-formed exits 2 with the reason, before connecting', async () => {
    const r = await send(['juliet@example.org', 'Be bold', '--xhtml', '<strong>Be bold']);
    assert.equal(r.code, 2);
    assert.equal(r.connected, 0);
    assert.match(r.err, /^confab: --xhtml: /);
  });
});

describe('send: --cc', () => {
  it('repeatable: the recipients in order; --json says how it went (via, ids)', async () => {
    const session = new SendSession();
    session.via = 'multicast';
    const r = await send(
      [
        'romeo@example.net',
        'Meet at noon',
        '--cc',
        'mercutio@example.net',
        '--cc',
        'benvolio@example.net',
        '--json',
      ],
      session,
    );
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.session.sent[0]?.cc, ['mercutio@example.net', 'benvolio@example.net']);
    assert.deepEqual(r.json(), [
      {
        event: 'result',
        command: 'send',
        to: 'romeo@example.net',
        id: 'id-1',
        cc: ['mercutio@example.net', 'benvolio@example.net'],
        via: 'multicast',
        ids: ['id-1'],
      },
    ]);
    const per = new SendSession();
    per.via = 'per-recipient';
    const p = await send(['romeo@example.net', 'hi', '--cc', 'mercutio@example.net', '--json'], per);
    assert.deepEqual(p.json()[0].ids, ['id-1-0']);
    assert.equal(p.json()[0].via, 'per-recipient');
  });

  it('an invalid --cc JID exits 2 before connecting; without --cc nothing is added', async () => {
    const r = await send(['romeo@example.net', 'hi', '--cc', 'not a jid@@']);
    assert.equal(r.code, 2);
    assert.equal(r.connected, 0);
    const plain = await send(['romeo@example.net', 'hi']);
    assert.equal('cc' in plain.session.sent[0]!, false);
    assert.equal('oob' in plain.session.sent[0]!, false);
    assert.equal('xhtml' in plain.session.sent[0]!, false);
  });
});
