// End-to-end tests of the events `confab listen` prints (issue 7: "presence, subscription requests,
// receipts, chat states, invitations, roster changes") and of the buddies-only filter taking
// effect (`confab filter buddies`, kept in private storage, loaded by listen), on the shared
// Prosody and ejabberd. The real bin listens as B; library clients play A (a contact whose
// invitations, chat states and receipts the test drives) and B's other resource for the receipt;
// the CLI plays B's other one-shot resources (roster changes) and C (a stranger). Each event is read from --json output by its fields.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  type Account,
  caOf,
  ejabberd,
  freshAccount,
  prosody,
  type ServerInfo,
} from '../../../../testbed/harness.ts';
import { type Client, createClient } from '../../../confab/src/index.ts';
import { xml } from '../../../confab/src/xml/element.ts';
import { build, confab, jsonLines, type Running, startAs } from './helpers.ts';

before(build);

function clientOf(s: ServerInfo, a: Account): Client {
  return createClient({
    jid: a.jid,
    password: a.password,
    host: s.host,
    port: s.ports.c2s,
    tls: { ca: caOf(s) },
    reconnect: false,
    presence: { autoAway: false },
    // The test answers receipts itself, when it chooses.
    messages: { autoReceipts: 'never' },
  });
}

/** Resolves with the full JID once `client` sees `bare` come online. */
function online(client: Client, bare: string): Promise<string> {
  return new Promise((resolve) => {
    const off = client.presence.on('resource', (e) => {
      if (e.bare === bare && e.presence) {
        off();
        resolve(e.jid);
      }
    });
  });
}

/** A and B see each other's presence: B adds A with the CLI, A's client approves and asks back, B approves. */
async function mutual(s: ServerInfo, ca: Client, a: Account, b: Account): Promise<void> {
  const asked = new Promise<void>((resolve) =>
    ca.roster.on('request', (r) => {
      if (r.from === b.jid) void r.approveAndSubscribe().then(resolve);
    }),
  );
  const add = await confab(s, b, ['roster', 'add', a.jid]);
  assert.equal(add.code, 0, add.stderr);
  await asked;
  const ok = await confab(s, b, ['approve', a.jid]);
  assert.equal(ok.code, 0, ok.stderr);
}

type Line = Record<string, unknown>;

/** The --json lines of a running listen, as they come; `next` waits for one that matches. */
function eventsOf(r: Running) {
  const lines: Line[] = [];
  let buf = '';
  const waiters: { match: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  r.child.stdout!.on('data', (d: Buffer) => {
    buf += d;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = JSON.parse(buf.slice(0, nl)) as Line;
      buf = buf.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
      nl = buf.indexOf('\n');
    }
  });
  return {
    lines,
    /** The first line (already printed or still to come) with these fields. */
    next(fields: Line, what: string): Promise<Line> {
      const match = (l: Line) =>
        Object.entries(fields).every(([k, v]) =>
          v instanceof RegExp ? typeof l[k] === 'string' && v.test(l[k] as string) : same(l[k], v),
        );
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise<Line>((resolve, reject) => {
        const t = setTimeout(
          () =>
            reject(
              new Error(
                `listen printed no ${what} within 20 s; it printed:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`,
              ),
            ),
          20_000,
        );
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
        r.done.then(() => {
          clearTimeout(t);
          reject(new Error(`listen ended before a ${what}`));
        });
      });
    },
  };
}

function same(a: unknown, b: unknown): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

for (const server of [
  { name: 'Prosody', info: prosody },
  { name: 'ejabberd', info: ejabberd },
]) {
  describe(`confab listen events on ${server.name}`, () => {
    it('invitations, chat states, receipts, roster changes and subscription requests', async () => {
      const s = server.info();
      const [a, b, c] = await Promise.all([
        freshAccount(s, 'lea'),
        freshAccount(s, 'leb'),
        freshAccount(s, 'lec'),
      ]);
      const ca = clientOf(s, a);
      await ca.connect();
      let listen: Running | undefined;
      try {
        await mutual(s, ca, a, b);
        const bOnline = online(ca, b.jid);
        listen = startAs(s, b, ['listen', '--json', '--timeout', '120']);
        const ev = eventsOf(listen);
        const bFull = await bOnline;
        const aFull = ca.jid!;

        // XEP-0249 direct invitation, sent by a library client to B's bare JID.
        const room = `room@conference.${s.domain}`;
        await ca.messages.send({ to: b.jid, invitation: { room, reason: 'Join us', password: 'secret' } });
        const inv = await ev.next({ event: 'invite', room }, 'invitation');
        assert.deepEqual(
          { from: inv.from, reason: inv.reason, password: inv.password },
          { from: aFull, reason: 'Join us', password: 'secret' },
        );

        // XEP-0085 chat states without a body, one after the other.
        await ca.messages.send({ to: bFull, chatState: 'composing' });
        await ca.messages.send({ to: bFull, chatState: 'paused' });
        await ev.next({ event: 'chatstate', from: aFull, state: 'composing' }, 'composing');
        await ev.next({ event: 'chatstate', from: aFull, state: 'paused' }, 'paused');

        // XEP-0184: B's other resource asks A for a receipt and goes offline; A answers later,
        // to B's bare JID, which the server delivers to listen. listen knows the message from its
        // sent carbon (XEP-0280), so the receipt is recognised as ours. (Answered to the gone full
        // JID, the server would also hand it to listen, as RFC 6121 8.5.3.2.1 says for type chat,
        // but Prosody keeps the original `to` and confab's session pipeline drops a stanza to
        // another resource of ours today: reported, so the test uses the bare JID.)
        const b2 = clientOf(s, b);
        await b2.connect();
        const aGot = new Promise<string>((resolve) =>
          ca.on('message', (m) => {
            if (m.body === 'Did you get it?' && m.id) resolve(m.id);
          }),
        );
        const b2Full = b2.jid!;
        const sent = await b2.messages.send({ to: a.jid, body: 'Did you get it?', receipt: true });
        const id = await aGot;
        assert.equal(id, sent.id);
        await b2.disconnect();
        // Once the server has ended that session (listen sees it go), not while it is closing.
        await ev.next({ event: 'presence', from: b2Full, type: 'unavailable' }, 'the other resource leaving');
        await ca.send(
          xml(
            'message',
            { to: b.jid, type: 'chat', id: 'r-1' },
            xml('received', { xmlns: 'urn:xmpp:receipts', id }),
          ),
        );
        const receipt = await ev.next({ event: 'receipt', id }, 'receipt');
        assert.equal(receipt.from, aFull);

        // Roster pushes: B's other resource adds and removes a contact.
        const d = `dee-${Date.now()}@${s.domain}`;
        const add = await confab(s, b, [
          'roster',
          'add',
          d,
          '--name',
          'Dee',
          '--group',
          'Verona',
          '--no-subscribe',
        ]);
        assert.equal(add.code, 0, add.stderr);
        const added = await ev.next({ event: 'roster', change: 'added', jid: d }, 'roster added');
        assert.deepEqual(
          { name: added.name, groups: added.groups, subscription: added.subscription },
          { name: 'Dee', groups: ['Verona'], subscription: 'none' },
        );
        const rm = await confab(s, b, ['roster', 'remove', d]);
        assert.equal(rm.code, 0, rm.stderr);
        await ev.next({ event: 'roster', change: 'removed', jid: d }, 'roster removed');

        // A subscription request from a stranger.
        const sub = await confab(s, c, ['subscribe', b.jid, '--status', 'Hi, it is C']);
        assert.equal(sub.code, 0, sub.stderr);
        await ev.next(
          { event: 'subscription', from: c.jid, type: 'subscribe', status: 'Hi, it is C' },
          'request',
        );

        listen.child.kill('SIGINT');
        const ran = await listen.done;
        assert.equal(ran.code, 0, ran.stderr);
        // Each happened once: no event printed twice (live and carbon copies are one).
        for (const kind of ['invite', 'receipt']) {
          assert.equal(ev.lines.filter((l) => l.event === kind).length, 1, `${kind}: ${ran.stdout}`);
        }
      } finally {
        if (listen && listen.child.exitCode === null) listen.child.kill('SIGKILL');
        await ca.disconnect();
      }
    });

    it('filter buddies: a stranger is not shown, a buddy is', async () => {
      const s = server.info();
      const [a, b, c] = await Promise.all([
        freshAccount(s, 'fba'),
        freshAccount(s, 'fbb'),
        freshAccount(s, 'fbc'),
      ]);
      const ca = clientOf(s, a);
      await ca.connect();
      try {
        await mutual(s, ca, a, b);
        const f = await confab(s, b, ['filter', 'buddies']);
        assert.equal(f.code, 0, f.stderr);
        const bOnline = online(ca, b.jid);
        // --count 1: listen ends at the first message it shows. The stranger's goes first; if
        // it were shown, it would be that one.
        const listen = startAs(s, b, ['listen', '--json', '--count', '1', '--timeout', '60']);
        await bOnline;
        const stranger = await confab(s, c, ['send', b.jid, 'From a stranger']);
        assert.equal(stranger.code, 0, stranger.stderr);
        await ca.messages.send({ to: b.jid, body: 'From a buddy' });
        const ran = await listen.done;
        assert.equal(ran.code, 0, ran.stderr);
        const messages = jsonLines(ran.stdout).filter((l) => l.event === 'message');
        assert.deepEqual(
          messages.map((m) => [String(m.from).split('/')[0], m.body]),
          [[a.jid, 'From a buddy']],
          ran.stdout,
        );

        // The same stranger is shown once the filter is off again.
        const e = await confab(s, b, ['filter', 'everyone']);
        assert.equal(e.code, 0, e.stderr);
        const again = startAs(s, b, ['listen', '--json', '--count', '1', '--timeout', '60']);
        await online(ca, b.jid);
        const s2 = await confab(s, c, ['send', b.jid, 'Stranger again']);
        assert.equal(s2.code, 0, s2.stderr);
        const r2 = await again.done;
        assert.equal(r2.code, 0, r2.stderr);
        const shown = jsonLines(r2.stdout).filter((l) => l.event === 'message');
        assert.deepEqual(
          shown.map((m) => [String(m.from).split('/')[0], m.body]),
          [[c.jid, 'Stranger again']],
        );
      } finally {
        await ca.disconnect();
      }
    });
  });
}
