// End-to-end tests of the messaging options of `confab send` and the events of `confab listen`
// (issue 7): the real bin against the shared Prosody and ejabberd (testbed/harness.ts), each test
// on fresh accounts. A library client plays the other person where the test needs one whose
// behaviour it can drive (presence changes, chat states) and observe (when listen is online).
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
import { build, confab, jsonLines, startAs } from './helpers.ts';

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

for (const server of [
  { name: 'Prosody', info: prosody, multicast: false },
  { name: 'ejabberd', info: ejabberd, multicast: true },
]) {
  describe(`confab send and listen on ${server.name}`, () => {
    it('listen shows presence, subscription, chat states, oob/xhtml/expire; send --receipt round trip; --cc', async () => {
      const s = server.info();
      const [a, b, c] = await Promise.all([
        freshAccount(s, 'msga'),
        freshAccount(s, 'msgb'),
        freshAccount(s, 'msgc'),
      ]);
      const ca = clientOf(s, a);
      await ca.connect();
      try {
        await mutual(s, ca, a, b);

        const bOnline = online(ca, b.jid);
        const listen = startAs(s, b, ['listen', '--json', '--timeout', '60']);
        const bFull = await bOnline;

        // Presence: A's client goes away; B's listen prints it.
        await ca.presence.set({ show: 'away', status: 'brb' });
        await listen.waitStdout(
          /"event":"presence","from":"[^"]*","type":"available","show":"away","status":"brb"/,
        );

        // A chat state without a body.
        await ca.messages.send({ to: bFull, chatState: 'composing' });
        await listen.waitStdout(/"event":"chatstate"[^\n]*"state":"composing"/);

        // A subscription request from C.
        const sub = await confab(s, c, ['subscribe', b.jid, '--status', 'Hi, it is C']);
        assert.equal(sub.code, 0, sub.stderr);
        await listen.waitStdout(
          /"event":"subscription","from":"msgc[^"]*","type":"subscribe","status":"Hi, it is C"/,
        );

        // OOB (two links, one described), XHTML-IM, expiry, subject, thread, type.
        const sent = await confab(s, a, [
          'send',
          b.jid,
          'Be bold',
          '--type',
          'normal',
          '--subject',
          'Plan',
          '--thread',
          't-1',
          '--url',
          'https://example.org/plan.pdf',
          '--desc',
          'The plan',
          '--url',
          'https://example.org/map.png',
          '--xhtml',
          '<strong>Be</strong> bold',
          '--expire',
          '300',
          '--json',
        ]);
        assert.equal(sent.code, 0, sent.stderr);
        const [result] = jsonLines(sent.stdout);
        assert.equal(result?.event, 'result');
        await listen.waitStdout(new RegExp(`"event":"message"[^\\n]*"id":"${result?.id}"`));

        // --receipt: B's listen (a confab that answers receipts to contacts who see its presence).
        const withReceipt = await confab(s, a, [
          'send',
          '--receipt',
          '--wait',
          '20',
          '--json',
          b.jid,
          'Delivered?',
        ]);
        assert.equal(withReceipt.code, 0, withReceipt.stderr);
        assert.equal(jsonLines(withReceipt.stdout)[0]?.receipt, true);

        // --cc: one message through the multicast service (ejabberd), else one each (Prosody).
        const cc = await confab(s, a, ['send', b.jid, 'To both', '--cc', c.jid, '--json']);
        assert.equal(cc.code, 0, cc.stderr);
        const ccResult = jsonLines(cc.stdout)[0]!;
        assert.equal(ccResult.via, server.multicast ? 'multicast' : 'per-recipient');
        assert.equal((ccResult.ids as string[]).length, server.multicast ? 1 : 2);
        await listen.waitStdout(/"body":"To both"/);

        listen.child.kill('SIGINT');
        const ran = await listen.done;
        assert.equal(ran.code, 0, ran.stderr);
        const lines = jsonLines(ran.stdout);
        const msg = lines.find((l) => l.event === 'message' && l.id === result?.id);
        assert.ok(msg, ran.stdout);
        assert.equal(msg.type, 'normal');
        assert.equal(msg.subject, 'Plan');
        assert.equal(msg.thread, 't-1');
        assert.equal(msg.body, 'Be bold');
        assert.deepEqual(msg.oob, [
          { url: 'https://example.org/plan.pdf', desc: 'The plan' },
          { url: 'https://example.org/map.png' },
        ]);
        assert.match(msg.xhtml as string, /^<html xmlns=['"]http:\/\/jabber.org\/protocol\/xhtml-im['"]>/);
        assert.match(msg.xhtml as string, /<strong>Be<\/strong> bold/);
        assert.equal(msg.xhtmlText, 'Be bold');
        assert.equal(msg.expire, 300);
        const toBoth = lines.find((l) => l.event === 'message' && l.body === 'To both');
        assert.ok(toBoth);
        const addrs = toBoth.addresses as { type: string; jid?: string }[];
        assert.ok(
          addrs.some((x) => x.type === 'cc' && x.jid === c.jid),
          JSON.stringify(addrs),
        );
        assert.ok(lines.some((l) => l.event === 'message' && l.body === 'Delivered?'));

        // C (offline so far) gets its copy of the --cc message from offline storage.
        const cListen = await confab(s, c, ['listen', '--json', '--count', '1', '--timeout', '20']);
        assert.equal(cListen.code, 0, cListen.stderr);
        const cMsg = jsonLines(cListen.stdout).find((l) => l.event === 'message');
        assert.equal(cMsg?.body, 'To both');

        // The plain output shows the XHTML as its text, and the events as lines.
        const plain = startAs(s, b, ['listen', '--count', '1', '--timeout', '30']);
        await online(ca, b.jid);
        await ca.messages.send({
          to: b.jid,
          body: 'plain *bold*',
          xhtml: undefined,
        });
        const p = await plain.done;
        assert.equal(p.code, 0, p.stderr);
        assert.match(p.stdout, new RegExp(`^${a.jid}/[^:]*: plain \\*bold\\*$`, 'm'));
      } finally {
        await ca.disconnect();
      }
    });

    it('send --receipt to an account that never answers exits 5; bad --xhtml exits 2', async () => {
      const s = server.info();
      const [a, b] = await Promise.all([freshAccount(s, 'rcpa'), freshAccount(s, 'rcpb')]);
      const t0 = Date.now();
      const r = await confab(s, a, ['send', '--receipt', '--wait', '2', b.jid, 'Anyone?']);
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /no receipt/);
      assert.ok(Date.now() - t0 >= 2000);
      const bad = await confab(s, a, ['send', b.jid, 'x', '--xhtml', '<b>unclosed']);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /xhtml/i);
    });
  });
}
