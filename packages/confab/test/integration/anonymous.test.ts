// SASL ANONYMOUS (RFC 4505) on request: the test-bed Prosody serves `anon.localhost` with
// `authentication = "anonymous"`; the minimal Prosody and ejabberd offer no ANONYMOUS, and
// asking for it there must fail with a clear, typed error instead of trying another mechanism.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  caOf,
  ejabberd,
  freshAccount,
  prosody,
  prosodyMinimal,
  type ServerInfo,
} from '../../../../testbed/harness.ts';
import type { Message } from '../../src/features/messages/codec.ts';
import { createClient } from '../../src/index.ts';

function anonymousClient(server: ServerInfo, domain: string, lines: string[] = []) {
  return createClient({
    jid: domain,
    anonymous: true,
    password: undefined,
    host: server.host,
    port: server.ports.c2s,
    tls: { ca: caOf(server) },
    reconnect: false,
    debug: (l) => lines.push(l),
  });
}

describe('anonymous login (SASL ANONYMOUS, RFC 4505)', () => {
  test('Prosody: a temporary JID on the anonymous host, and it can chat', async () => {
    const server = prosody();
    const lines: string[] = [];
    const anon = anonymousClient(server, 'anon.localhost', lines);
    const account = await freshAccount(server);
    const peer = createClient({
      jid: account.jid,
      password: account.password,
      host: server.host,
      port: server.ports.c2s,
      tls: { ca: caOf(server) },
      reconnect: false,
    });
    try {
      await anon.connect();
      const me = anon.jid;
      assert.ok(me, 'bound');
      assert.match(me, /^[^@/]+@anon\.localhost\/.+$/, 'a server-made local part on the anonymous host');
      assert.ok(
        lines.some((l) =>
          l.startsWith("confab -> <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'"),
        ),
        'ANONYMOUS was the mechanism',
      );
      await peer.connect();
      const got = new Promise<Message>((resolve) => {
        peer.on('message', (m) => {
          if (m.body === 'hello from nobody') resolve(m);
        });
      });
      const sent = await anon.messages.send({ to: account.jid, body: 'hello from nobody' });
      await sent.confirmed;
      assert.equal((await got).from, me);
    } finally {
      await anon.disconnect();
      await peer.disconnect();
    }
  });

  for (const [name, server, domain] of [
    ['minimal Prosody', () => prosodyMinimal(), 'localhost'],
    ['ejabberd', () => ejabberd(), 'localhost'],
  ] as const) {
    test(`${name}: no ANONYMOUS offered -> ERR_AUTH_NO_MECHANISM, nothing else tried`, async () => {
      const lines: string[] = [];
      const anon = anonymousClient(server(), domain, lines);
      await assert.rejects(anon.connect(), (err: unknown) => {
        assert.equal((err as { code?: string }).code, 'ERR_AUTH_NO_MECHANISM');
        assert.match(String((err as Error).message), /anonymous/i);
        return true;
      });
      assert.ok(!lines.some((l) => l.startsWith('confab -> <auth')), 'no other mechanism was tried');
      assert.equal(anon.status, 'offline');
    });
  }

  test('a JID with a user part and anonymous: true is refused before connecting', () => {
    assert.throws(
      () => createClient({ jid: 'juliet@localhost', anonymous: true, password: undefined }),
      (err: unknown) => (err as { code?: string }).code === 'ERR_BAD_INPUT',
    );
    assert.throws(() => createClient({ jid: 'localhost', password: 'x' }), /anonymous: true/);
  });
});
