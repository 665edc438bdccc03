// In-band registration (XEP-0077 v2.4) against the real test-bed servers (Prosody full and
// minimal, ejabberd): register a new account on a fresh TLS stream (certificate verified),
// log in with it, change its password, log in again with the new one while the old one
// fails, cancel the account and see login fail; a username that exists is ERR_USERNAME_TAKEN.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  caOf,
  ejabberd,
  freshAccount,
  prosody,
  prosodyMinimal,
  type ServerInfo,
} from '../../../../testbed/harness.ts';
import type { Client, ClientOptions } from '../../src/client.ts';
import type { ConfabError } from '../../src/errors.ts';
import type { RegistrationError } from '../../src/features/register/register.ts';
import { createClient } from '../../src/index.ts';

function clientFor(s: ServerInfo, jid: string, password: string, o: Partial<ClientOptions> = {}): Client {
  const c = createClient({
    jid,
    password,
    host: s.host,
    port: s.ports.c2s,
    tls: { ca: caOf(s) },
    reconnect: false,
    ...o,
  });
  c.on('error', () => {});
  return c;
}

/** Logs in and out once; rejects with the login's error. */
async function loginOnce(s: ServerInfo, jid: string, password: string): Promise<void> {
  const c = clientFor(s, jid, password);
  await c.connect();
  await c.disconnect();
}

const fresh = (prefix: string) => `${prefix}${randomBytes(5).toString('hex')}`;

// The minimal Prosody's form also asks for a required email (testbed/prosody.ts).
for (const server of [
  { name: 'Prosody', info: prosody, fields: {} },
  { name: 'ejabberd', info: ejabberd, fields: {} },
  { name: 'minimal Prosody', info: prosodyMinimal, fields: { email: 'reg@example.net' } },
]) {
  describe(`XEP-0077 in-band registration on ${server.name}`, () => {
    test('register, log in, change the password (old one fails), cancel, login fails', async () => {
      const s = server.info();
      const jid = `${fresh('reg')}@${s.domain}`;
      const client = clientFor(s, jid, 'first-Secret-1');

      const form = await client.account.register({ fields: server.fields });
      assert.ok(
        form.fields.some((f) => f.name === 'username'),
        `the form asks for a username: ${JSON.stringify(form.fields)}`,
      );
      assert.equal(client.status, 'offline', 'registration does not log in');

      await client.connect();
      assert.equal(client.jid?.split('/')[0], jid);
      const info = await client.account.info();
      assert.equal(info.registered, true);

      await client.account.changePassword('second-Secret-2');
      // The same client keeps working with the new password: a new login uses it.
      await client.disconnect();
      await client.connect();
      await client.disconnect();
      await loginOnce(s, jid, 'second-Secret-2');
      await assert.rejects(loginOnce(s, jid, 'first-Secret-1'), (e: ConfabError) => e.code === 'ERR_AUTH');

      await client.connect();
      await client.account.cancel();
      assert.equal(client.status, 'offline');
      await assert.rejects(loginOnce(s, jid, 'second-Secret-2'), (e: ConfabError) => e.code === 'ERR_AUTH');
    });

    test('an existing username: ERR_USERNAME_TAKEN (conflict); the account is untouched', async () => {
      const s = server.info();
      const existing = await freshAccount(s, 'taken');
      const client = clientFor(s, existing.jid, 'not-the-password-9');
      await assert.rejects(client.account.register({ fields: server.fields }), (e: ConfabError) => {
        assert.equal(e.code, 'ERR_USERNAME_TAKEN', e.message);
        assert.equal(e.condition, 'conflict');
        return true;
      });
      await loginOnce(s, existing.jid, existing.password);
    });
  });
}

describe('XEP-0077 registration: the form and the login rules', () => {
  test("Prosody's data form is filled and submitted; a required email missing is named before sending", async () => {
    const s = prosodyMinimal();
    const client = clientFor(s, `${fresh('regform')}@${s.domain}`, 'form-Secret-4');
    const r = await client.account.openRegistration();
    assert.equal(r.form.kind, 'data-form');
    assert.deepEqual(
      r.fields.map((f) => [f.name, f.required]),
      [['email', true]],
    );
    await assert.rejects(r.submit({}), (e: RegistrationError) => {
      assert.equal(e.code, 'ERR_REGISTRATION_INCOMPLETE');
      assert.deepEqual(e.fields, ['email']);
      return true;
    });
    await r.submit({ email: 'form@example.net' });
    await client.connect();
    await client.account.cancel();
  });

  test('an unknown CA is refused before anything is sent (TLS verified)', async () => {
    const s = prosody();
    const client = createClient({
      jid: `${fresh('regtls')}@${s.domain}`,
      password: 'x-Secret-3',
      host: s.host,
      port: s.ports.c2s,
      reconnect: false,
    });
    await assert.rejects(client.account.register(), (e: ConfabError) => e.code === 'ERR_TLS_CERT');
  });
});
