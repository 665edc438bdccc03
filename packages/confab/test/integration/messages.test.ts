// Messages against the real test-bed servers (Prosody and ejabberd), two or three fresh
// accounts per test (RFC 6121 5 and the XEPs of features/messages):
// - every type, subject, thread reuse by `reply`, a bounce with its error (and echoed body);
// - offline messages with their delay; an offline message whose XEP-0023 lifetime ran out
//   never reaches the app (ejabberd's mod_offline drops it itself, on Prosody the client does);
// - receipts round trip between subscribed contacts, chat states, displayed markers, XEP-0022
//   request and answers;
// - a correction (replace id) applied to the right message, a forged one from a third account
//   ignored; a retraction;
// - OOB, roster item exchange, direct invitation;
// - XEP-0033 through ejabberd's mod_multicast; one message per recipient on Prosody.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { caOf, ejabberd, freshAccount, prosody, type ServerInfo } from '../../../../testbed/harness.ts';
import type { Client, ClientOptions } from '../../src/client.ts';
import type { Message } from '../../src/features/messages/codec.ts';
import type { MessagingEvents } from '../../src/features/messages/messages.ts';
import { createClient } from '../../src/index.ts';

const WAIT = 10_000;

interface Peer {
  client: Client;
  jid: string;
  full: string;
  got: Message[];
}

async function login(
  server: ServerInfo,
  account: { jid: string; password: string },
  o: Partial<ClientOptions> = {},
): Promise<Peer> {
  const client = createClient({
    jid: account.jid,
    password: account.password,
    host: server.host,
    port: server.ports.c2s,
    tls: { ca: caOf(server) },
    reconnect: false,
    ...o,
  });
  const got: Message[] = [];
  client.on('message', (m) => got.push(m));
  client.on('error', () => {});
  await client.connect();
  return { client, jid: account.jid, full: client.jid!, got };
}

/** The next app-visible message matching `pred` (already received or still to come). */
function message(p: Peer, pred: (m: Message) => boolean, what: string): Promise<Message> {
  const have = p.got.find(pred);
  if (have) return Promise.resolve(have);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what} at ${p.jid}`));
    }, WAIT);
    const off = p.client.on('message', (m) => {
      if (!pred(m)) return;
      clearTimeout(t);
      off();
      resolve(m);
    });
  });
}

function event<K extends keyof MessagingEvents>(
  p: Peer,
  k: K,
  pred: (e: MessagingEvents[K]) => boolean = () => true,
): Promise<MessagingEvents[K]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${k} at ${p.jid}`));
    }, WAIT);
    const off = p.client.messages.on(k, (e) => {
      if (!pred(e)) return;
      clearTimeout(t);
      off();
      resolve(e);
    });
  });
}

/** A subscribes to B's presence and B approves: B's roster then says A may see B (subscription from). */
async function subscribe(a: Peer, b: Peer): Promise<void> {
  const approved = new Promise<void>((resolve) => {
    const off = b.client.roster.on('request', (r) => {
      if (r.from !== a.jid) return;
      off();
      void r.approve().then(resolve);
    });
  });
  await a.client.roster.subscribe(b.jid);
  await approved;
  // b's server pushes the item for a (added, or updated if it was there) with subscription from.
  const ok = () => {
    const sub = b.client.roster.get(a.jid)?.subscription;
    return sub === 'from' || sub === 'both';
  };
  if (ok()) return;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      for (const f of offs) f();
      reject(new Error('subscription never reached from'));
    }, WAIT);
    const check = () => {
      if (!ok()) return;
      clearTimeout(t);
      for (const f of offs) f();
      resolve();
    };
    const offs = [b.client.roster.on('added', check), b.client.roster.on('updated', check)];
  });
}

async function closeAll(...ps: Peer[]): Promise<void> {
  await Promise.all(ps.map((p) => p.client.disconnect()));
}

for (const [name, server] of [
  ['prosody', prosody],
  ['ejabberd', ejabberd],
] as const) {
  describe(`messages on ${name}`, () => {
    test('every type, subject, thread reuse, and an error bounce', async () => {
      const s = server();
      const a = await login(s, await freshAccount(s, 'msga'));
      const b = await login(s, await freshAccount(s, 'msgb'));
      try {
        for (const type of ['normal', 'chat', 'headline'] as const) {
          await a.client.messages.send({
            to: b.full,
            type,
            body: `a ${type}`,
            subject: type === 'normal' ? 'Subj' : undefined,
          });
          const m = await message(b, (x) => x.body === `a ${type}`, type);
          assert.equal(m.type, type);
          assert.equal(m.from, a.full);
          if (type === 'normal') assert.equal(m.subject, 'Subj');
        }
        await a.client.messages.send({ to: b.full, body: 'start', thread: true });
        const first = await message(b, (x) => x.body === 'start', 'start');
        assert.ok(first.thread);
        await b.client.messages.reply(first, { body: 'reply' });
        const rep = await message(a, (x) => x.body === 'reply', 'reply');
        assert.equal(rep.thread, first.thread);
        assert.equal(rep.type, 'chat');
        // A bounce: the account does not exist.
        await a.client.messages.send({ to: `nobody-${Date.now()}@${s.domain}`, body: 'lost' });
        const err = await message(a, (x) => x.type === 'error', 'error');
        assert.equal(err.error?.condition, 'service-unavailable');
        // ejabberd echoes what was sent (RFC 6120 8.3.1 allows it); Prosody sends only the error.
        if (name === 'ejabberd') assert.equal(err.body, 'lost');
      } finally {
        await closeAll(a, b);
      }
    });

    test('offline: delivered later with its delay; an expired one never shown', async () => {
      const s = server();
      const a = await login(s, await freshAccount(s, 'offa'));
      const accB = await freshAccount(s, 'offb');
      try {
        await (await a.client.messages.send({ to: accB.jid, body: 'short-lived', expire: 1 })).confirmed;
        await (await a.client.messages.send({ to: accB.jid, body: 'kept' })).confirmed;
        // Time must pass for a lifetime to run out: there is no event for that.
        await new Promise((r) => setTimeout(r, 1_500));
        const ignored: string[] = [];
        const b = await login(s, accB, { initialPresence: true });
        b.client.messages.on('ignored', (e) => ignored.push(`${e.reason}:${e.message.body}`));
        try {
          const kept = await message(b, (x) => x.body === 'kept', 'kept');
          assert.ok(kept.delay, 'offline message has a delay');
          assert.ok(kept.delay.stamp.getTime() <= Date.now() - 1_000);
          assert.equal(
            b.got.some((m) => m.body === 'short-lived'),
            false,
          );
          // Prosody stores it: the client drops it. ejabberd's mod_offline already did.
          if (name === 'prosody') assert.deepEqual(ignored, ['expired:short-lived']);
        } finally {
          await b.client.disconnect();
        }
      } finally {
        await a.client.disconnect();
      }
    });

    test('receipts, chat states, markers and XEP-0022 between contacts', async () => {
      const s = server();
      const a = await login(s, await freshAccount(s, 'rcpa'));
      const b = await login(s, await freshAccount(s, 'rcpb'));
      try {
        await subscribe(a, b); // a may see b's presence: b answers a's receipt requests
        const sent = await a.client.messages.send({
          to: b.full,
          body: 'receipt?',
          receipt: true,
          markable: true,
        });
        const receipt = await a.client.messages.waitForReceipt(sent.id, { timeout: WAIT });
        assert.equal(receipt.from, b.full);
        const m = await message(b, (x) => x.body === 'receipt?', 'receipt?');
        assert.equal(m.chatState, 'active');
        // b has seen a's state: b's composing goes out standalone.
        const cs = event(a, 'chatState');
        assert.equal(b.client.messages.chatState(a.full, 'composing'), true);
        assert.equal((await cs).state, 'composing');
        const marker = event(a, 'marker');
        b.client.messages.markDisplayed(m);
        const mk = await marker;
        assert.deepEqual([mk.marker, mk.id, mk.ours], ['displayed', sent.id, true]);
        // XEP-0022: a requests delivered + displayed; b's library answers.
        const legacy = await a.client.messages.send({
          to: b.full,
          body: 'events?',
          events: ['delivered', 'displayed', 'composing'],
        });
        const delivered = await a.client.messages.waitForReceipt(legacy.id, { timeout: WAIT });
        assert.equal(delivered.via, 'xep0022');
        const lm = await message(b, (x) => x.body === 'events?', 'events?');
        const disp = event(a, 'marker', (e) => e.legacy);
        b.client.messages.markDisplayed(lm);
        assert.equal((await disp).id, legacy.id);
        // A stranger gets no receipt (it may not see b's presence).
        const c = await login(s, await freshAccount(s, 'rcpc'));
        try {
          const q = await c.client.messages.send({ to: b.full, body: 'stranger', receipt: true });
          await message(b, (x) => x.body === 'stranger', 'stranger');
          await assert.rejects(c.client.messages.waitForReceipt(q.id, { timeout: 500 }), {
            code: 'ERR_TIMEOUT',
          });
        } finally {
          await c.client.disconnect();
        }
      } finally {
        await closeAll(a, b);
      }
    });

    test('a correction applies to the right message; a forged one is ignored; retraction', async () => {
      const s = server();
      const a = await login(s, await freshAccount(s, 'cora'));
      const b = await login(s, await freshAccount(s, 'corb'));
      const c = await login(s, await freshAccount(s, 'corc'));
      try {
        const one = await a.client.messages.send({ to: b.full, body: 'first' });
        const two = await a.client.messages.send({ to: b.full, body: 'secnod' });
        await message(b, (x) => x.body === 'secnod', 'secnod');
        // Mallory (c) tries to rewrite a's message with a Conversations-style replace.
        const forged = event(b, 'ignored', (e) => e.reason === 'forged-correction');
        await c.client.messages.send({
          to: b.full,
          body: 'forged',
          extra: [
            (await import('../../src/xml/element.ts')).xml('replace', {
              xmlns: 'urn:xmpp:message-correct:0',
              id: two.id,
            }),
          ],
        });
        assert.equal((await forged).message.body, 'forged');
        const corr = event(b, 'correction');
        await a.client.messages.correct(two.id, 'second');
        const e = await corr;
        assert.equal(e.id, two.id);
        assert.equal(e.original?.body, 'secnod');
        assert.equal(e.body, 'second');
        assert.equal(e.verified, true);
        const retr = event(b, 'retraction');
        await a.client.messages.retract(one.id);
        assert.equal((await retr).original?.body, 'first');
        assert.equal(
          b.got.some((m) => m.body === 'forged' || m.body === 'second'),
          false,
          'neither shows as a message',
        );
      } finally {
        await closeAll(a, b, c);
      }
    });

    test('OOB, roster item exchange, direct invitation', async () => {
      const s = server();
      const a = await login(s, await freshAccount(s, 'exa'));
      const b = await login(s, await freshAccount(s, 'exb'));
      try {
        const rie = event(b, 'rosterExchange');
        const inv = event(b, 'invitation');
        await a.client.messages.send({
          to: b.full,
          body: 'look',
          oob: [{ url: 'https://example.org/a.png', desc: 'a picture' }],
        });
        await a.client.messages.send({
          to: b.full,
          body: 'contacts',
          rosterItems: [{ jid: `nurse@${s.domain}`, name: 'Nurse', groups: ['Friends'] }],
        });
        await a.client.messages.send({
          to: b.full,
          type: 'normal',
          invitation: { room: `room@conference.${s.domain}`, reason: 'come', password: 'pw' },
        });
        const oob = await message(b, (x) => x.body === 'look', 'oob');
        assert.deepEqual(oob.oob, [{ url: 'https://example.org/a.png', desc: 'a picture' }]);
        assert.deepEqual((await rie).items, [
          { action: 'add', jid: `nurse@${s.domain}`, name: 'Nurse', groups: ['Friends'] },
        ]);
        const i = await inv;
        assert.deepEqual(
          [i.invitation.room, i.invitation.reason, i.invitation.password],
          [`room@conference.${s.domain}`, 'come', 'pw'],
        );
      } finally {
        await closeAll(a, b);
      }
    });

    test(`XEP-0033: ${name === 'ejabberd' ? 'one message through mod_multicast' : 'one message per recipient (no multicast service)'}`, async () => {
      const s = server();
      const a = await login(s, await freshAccount(s, 'mca'));
      const b = await login(s, await freshAccount(s, 'mcb'));
      const c = await login(s, await freshAccount(s, 'mcc'));
      try {
        const r = await a.client.messages.sendToMany({ body: 'to all' }, [
          { type: 'to', jid: b.jid, desc: 'B' },
          { type: 'cc', jid: c.jid },
        ]);
        assert.equal(r.via, name === 'ejabberd' ? 'multicast' : 'per-recipient');
        assert.equal(r.sent.length, name === 'ejabberd' ? 1 : 2);
        const mb = await message(b, (x) => x.body === 'to all', 'multicast at b');
        const mc = await message(c, (x) => x.body === 'to all', 'multicast at c');
        for (const m of [mb, mc]) {
          assert.deepEqual(
            m.addresses.map((x) => [x.type, x.jid]),
            [
              ['to', b.jid],
              ['cc', c.jid],
            ],
          );
          assert.equal(m.from, a.full);
        }
      } finally {
        await closeAll(a, b, c);
      }
    });
  });
}
