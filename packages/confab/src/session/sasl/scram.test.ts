import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ConfabError } from '../../errors.ts';
import type { ChannelBindingType } from '../../transport/types.ts';
import { fromBase64, fromUtf8, toBase64, utf8 } from '../../util/base64.ts';
import {
  createScram,
  deriveScramKeys,
  escapeSaslname,
  gs2CbindFlag,
  SCRAM_MIN_ITERATIONS,
  type ScramHash,
  ScramKeyCache,
  saslprep,
} from './scram.ts';
import type { SaslContext } from './types.ts';

const s = (b: Uint8Array | undefined) => fromUtf8(b!);
const u = (x: string) => utf8(x);

function ctx(
  over: Partial<SaslContext> & { bindings?: Partial<Record<ChannelBindingType, Uint8Array>> } = {},
) {
  const logs: string[] = [];
  const bindings = over.bindings ?? {};
  const c: SaslContext = {
    credentials: { username: 'user', password: 'pencil' },
    offered: ['SCRAM-SHA-1', 'SCRAM-SHA-256'],
    serverBindings: undefined,
    tlsProtocol: undefined,
    channelBinding: (t) => bindings[t],
    log: (m) => logs.push(m),
    ...over,
  };
  return { c, logs };
}

const isCode = (code: string, re?: RegExp) => (e: unknown) =>
  e instanceof ConfabError && e.code === code && (re === undefined || re.test(e.message));

test('RFC 5802 5: SCRAM-SHA-1 example exchange (user / pencil)', async () => {
  const m = createScram(ctx().c, { hash: 'SHA-1', nonce: 'fyko+d2lbbFgONRv9qkxdawL' });
  assert.equal(m.name, 'SCRAM-SHA-1');
  assert.equal(s(await m.start()), 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
  const final = await m.challenge(
    u('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'),
  );
  assert.equal(
    s(final),
    'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  );
  await m.success(u('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='));
});

test('RFC 7677 3: SCRAM-SHA-256 example exchange', async () => {
  const m = createScram(ctx().c, { hash: 'SHA-256', nonce: 'rOprNGfwEbeRWgbNEkqO' });
  assert.equal(m.name, 'SCRAM-SHA-256');
  assert.equal(s(await m.start()), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
  const final = await m.challenge(
    u('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'),
  );
  assert.equal(
    s(final),
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  );
  await m.success(u('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='));
});

async function rfc5802UpToFinal() {
  const m = createScram(ctx().c, { hash: 'SHA-1', nonce: 'fyko+d2lbbFgONRv9qkxdawL' });
  await m.start();
  await m.challenge(u('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'));
  return m;
}

test('a wrong server signature is refused', async () => {
  const m = await rfc5802UpToFinal();
  await assert.rejects(m.success(u('v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=')), isCode('ERR_AUTH_SERVER_SIGNATURE'));
  const m2 = await rfc5802UpToFinal();
  await assert.rejects(m2.success(u('v=rmF9pqV8S7suAoZWja4dJRkFsKQ')), isCode('ERR_AUTH_PROTOCOL', /base64/));
});

test('success without a server signature is refused; success before the exchange too', async () => {
  const m = await rfc5802UpToFinal();
  await assert.rejects(m.success(undefined), isCode('ERR_AUTH_SERVER_SIGNATURE', /without proving/));
  const m2 = createScram(ctx().c, { hash: 'SHA-1' });
  await m2.start();
  await assert.rejects(m2.success(undefined), isCode('ERR_AUTH_SERVER_SIGNATURE', /before the exchange/));
});

test('server-final sent as a challenge, then an empty success, is accepted', async () => {
  const m = await rfc5802UpToFinal();
  assert.equal((await m.challenge(u('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='))).length, 0);
  await m.success(undefined);
  const bad = await rfc5802UpToFinal();
  await assert.rejects(
    bad.challenge(u('v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=')),
    isCode('ERR_AUTH_SERVER_SIGNATURE'),
  );
});

test('server e= errors map to ERR_AUTH with the condition', async () => {
  const m = await rfc5802UpToFinal();
  await assert.rejects(
    m.success(u('e=invalid-proof')),
    (e: unknown) =>
      isCode('ERR_AUTH', /wrong username or password \(SCRAM-SHA-1 error invalid-proof\)/)(e) &&
      (e as ConfabError).condition === 'invalid-proof',
  );
  const m2 = await rfc5802UpToFinal();
  await assert.rejects(m2.success(u('e=server-does-support-channel-binding')), (e: unknown) =>
    isCode('ERR_AUTH', /man in the middle/)(e),
  );
  const m3 = createScram(ctx().c, { hash: 'SHA-1' });
  await m3.start();
  await assert.rejects(
    m3.challenge(u('e=unknown-user')),
    (e: unknown) => (e as ConfabError).condition === 'unknown-user',
  );
});

async function afterStart(serverFirst: string, opts: { maxIterations?: number } = {}) {
  const m = createScram(ctx().c, { hash: 'SHA-1', nonce: 'abc', ...opts });
  await m.start();
  return m.challenge(u(serverFirst));
}

test('server nonces that do not extend ours are refused', async () => {
  await assert.rejects(
    afterStart('r=xyzabc123,s=QSXCR+Q6sek8bf92,i=4096'),
    isCode('ERR_AUTH_PROTOCOL', /nonce/),
  );
  await assert.rejects(afterStart('r=abc,s=QSXCR+Q6sek8bf92,i=4096'), isCode('ERR_AUTH_PROTOCOL', /nonce/));
  await assert.rejects(afterStart('r=ab,s=QSXCR+Q6sek8bf92,i=4096'), isCode('ERR_AUTH_PROTOCOL', /nonce/));
});

test('iteration counts below 4096, above the limit or malformed are refused', async () => {
  assert.equal(SCRAM_MIN_ITERATIONS, 4096);
  await assert.rejects(
    afterStart('r=abcdef,s=QSXCR+Q6sek8bf92,i=4095'),
    isCode('ERR_AUTH_PROTOCOL', /iteration count 4095 is below the minimum of 4096/),
  );
  await assert.rejects(afterStart('r=abcdef,s=QSXCR+Q6sek8bf92,i=1'), isCode('ERR_AUTH_PROTOCOL', /below/));
  await assert.rejects(
    afterStart('r=abcdef,s=QSXCR+Q6sek8bf92,i=5000', { maxIterations: 4096 }),
    isCode('ERR_AUTH_PROTOCOL', /above the limit/),
  );
  for (const i of ['', '04096', '4096x', '-4096', '99999999999']) {
    await assert.rejects(afterStart(`r=abcdef,s=QSXCR+Q6sek8bf92,i=${i}`), isCode('ERR_AUTH_PROTOCOL'), i);
  }
});

test('malformed server-first messages and m= extensions are refused', async () => {
  const bad = [
    'm=ext,r=abcdef,s=QSXCR+Q6sek8bf92,i=4096',
    's=QSXCR+Q6sek8bf92,r=abcdef,i=4096',
    'r=abcdef,s=QSXCR+Q6sek8bf92',
    'r=abcdef,,s=QSXCR+Q6sek8bf92,i=4096',
    'garbage',
    'r=abcdef,s=not base64!,i=4096',
    'r=abcdef,s=,i=4096',
    '',
  ];
  for (const msg of bad) await assert.rejects(afterStart(msg), isCode('ERR_AUTH_PROTOCOL'), msg);
  await assert.rejects(afterStart('m=ext,r=abc'), isCode('ERR_AUTH_PROTOCOL', /extension \(m=\)/));
  // Extensions after i= are allowed (RFC 5802 7, server-first-message).
  await afterStart('r=abcdef,s=QSXCR+Q6sek8bf92,i=4096,x=future');
});

test('calls out of order are refused', async () => {
  const m = createScram(ctx().c, { hash: 'SHA-1' });
  await assert.rejects(m.challenge(u('r=x,s=QSXCR+Q6sek8bf92,i=4096')), isCode('ERR_AUTH_PROTOCOL'));
  await m.start();
  await assert.rejects(m.start(), isCode('ERR_AUTH_PROTOCOL'));
});

test('the client nonce is random: 24 printable characters, different each time', async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const first = s(await createScram(ctx().c, { hash: 'SHA-256' }).start());
    const nonce = /,r=([^,]+)$/.exec(first)![1]!;
    assert.equal(nonce.length, 24);
    assert.match(nonce, /^[\x21-\x2b\x2d-\x7e]+$/);
    seen.add(nonce);
  }
  assert.equal(seen.size, 20);
});

test('saslname escaping of "=" and "," in username and authzid', async () => {
  assert.equal(escapeSaslname('a=b,c=,'), 'a=3Db=2Cc=3D=2C');
  const { c } = ctx({ credentials: { username: 'us=er,1', password: 'x', authzid: 'ad,min=@example.com' } });
  const first = s(await createScram(c, { hash: 'SHA-1', nonce: 'abc' }).start());
  assert.equal(first, 'n,a=ad=2Cmin=3D@example.com,n=us=3Der=2C1,r=abc');
});

test('saslprep maps spaces and drops ignorables; ASCII unchanged', () => {
  assert.equal(saslprep('I\u00ADX'), 'IX');
  assert.equal(saslprep('a\u00A0b'), 'a b');
  assert.equal(saslprep('\u2168'), 'IX');
  assert.equal(saslprep('user'), 'user');
  assert.equal(saslprep('p\u00E4ss'), 'p\u00E4ss');
  assert.equal(saslprep('pa\u0308ss'), 'p\u00E4ss');
});

// gs2 flag rules (RFC 5802 6).
test('gs2 flag: n without TLS, y when we can bind but no -PLUS is offered, n when -PLUS is offered', () => {
  const exporter = { 'tls-exporter': new Uint8Array([1]) };
  assert.equal(gs2CbindFlag(ctx().c), 'n');
  assert.equal(gs2CbindFlag(ctx({ tlsProtocol: 'TLSv1.3' }).c), 'n'); // TLS, but no binding data
  assert.equal(gs2CbindFlag(ctx({ tlsProtocol: 'TLSv1.3', bindings: exporter }).c), 'y'); // stripped?
  assert.equal(
    gs2CbindFlag(
      ctx({ tlsProtocol: 'TLSv1.3', bindings: exporter, offered: ['SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS'] }).c,
    ),
    'n',
  );
  // No TLS: binding data would be meaningless even if a transport returned some.
  assert.equal(gs2CbindFlag(ctx({ bindings: exporter }).c), 'n');
});

test('plain SCRAM sends y (and logs it) when -PLUS was not offered though we can bind', async () => {
  const { c, logs } = ctx({ tlsProtocol: 'TLSv1.3', bindings: { 'tls-exporter': new Uint8Array([9]) } });
  const m = createScram(c, { hash: 'SHA-256', nonce: 'abc' });
  assert.equal(s(await m.start()), 'y,,n=user,r=abc');
  assert.match(logs.join('\n'), /gs2 flag "y"/);
  const final = s(await m.challenge(u('r=abcdef,s=QSXCR+Q6sek8bf92,i=4096')));
  assert.equal(final.split(',')[0], `c=${toBase64(u('y,,'))}`); // "eSws"
  assert.equal(final.split(',')[0], 'c=eSws');
});

test('plain SCRAM sends n and logs when -PLUS was offered but no binding type agreed', async () => {
  const { c, logs } = ctx({
    tlsProtocol: 'TLSv1.3',
    offered: ['SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS'],
    bindings: { 'tls-exporter': new Uint8Array([9]) },
  });
  assert.equal(s(await createScram(c, { hash: 'SHA-1', nonce: 'abc' }).start()), 'n,,n=user,r=abc');
  assert.match(logs.join('\n'), /offers -PLUS but no channel binding type could be agreed; gs2 flag "n"/);
});

/** A SCRAM server built on node:crypto, independent of the client code, for dialogue tests. */
function scramServer(hash: ScramHash, password: string, cbData: Uint8Array | undefined) {
  const alg = hash === 'SHA-1' ? 'sha1' : 'sha256';
  const len = hash === 'SHA-1' ? 20 : 32;
  const salt = randomBytes(16);
  const iterations = 4096;
  const salted = pbkdf2Sync(password, salt, iterations, len, alg);
  const clientKey = createHmac(alg, salted).update('Client Key').digest();
  const storedKey = createHash(alg).update(clientKey).digest();
  const serverKey = createHmac(alg, salted).update('Server Key').digest();
  let clientFirstBare = '';
  let serverFirst = '';
  let gs2 = '';
  return {
    first(msg: string): string {
      const m = /^((?:[ny]|p=[a-z-]+),(?:a=[^,]*)?,)(n=[^,]*,r=([^,]+))$/.exec(msg);
      assert.ok(m, `client-first ${msg}`);
      gs2 = m[1]!;
      clientFirstBare = m[2]!;
      serverFirst = `r=${m[3]}${randomBytes(8).toString('hex')},s=${salt.toString('base64')},i=${iterations}`;
      return serverFirst;
    },
    final(msg: string): string {
      const m = /^(c=([^,]+),r=([^,]+)),p=([^,]+)$/.exec(msg);
      assert.ok(m, `client-final ${msg}`);
      const cbind = Buffer.concat([Buffer.from(gs2), Buffer.from(cbData ?? [])]);
      assert.equal(m[2], cbind.toString('base64'), 'c= is the gs2 header plus the binding data');
      const authMessage = `${clientFirstBare},${serverFirst},${m[1]}`;
      const sig = createHmac(alg, storedKey).update(authMessage).digest();
      const proof = Buffer.from(m[4]!, 'base64');
      const recovered = Buffer.from(proof.map((b, i) => b ^ sig[i]!));
      if (!createHash(alg).update(recovered).digest().equals(storedKey)) return 'e=invalid-proof';
      return `v=${createHmac(alg, serverKey).update(authMessage).digest('base64')}`;
    },
  };
}

for (const hash of ['SHA-1', 'SHA-256'] as const) {
  test(`SCRAM-${hash}-PLUS: gs2 header p=<type> and c= carries the binding data (dialogue)`, async () => {
    const cb = new Uint8Array([0, 1, 2, 250, 251, 252]);
    const { c } = ctx({
      credentials: { username: 'juliet', password: 'r0m\u00E9o' },
      tlsProtocol: 'TLSv1.3',
      offered: [`SCRAM-${hash}-PLUS`],
      serverBindings: ['tls-exporter'],
      bindings: { 'tls-exporter': cb },
    });
    const server = scramServer(hash, 'r0m\u00E9o', cb);
    const m = createScram(c, { hash, binding: 'tls-exporter' });
    assert.equal(m.name, `SCRAM-${hash}-PLUS`);
    const first = s(await m.start());
    assert.match(first, /^p=tls-exporter,,n=juliet,r=/);
    const final = s(await m.challenge(u(server.first(first))));
    const c64 = /^c=([^,]+)/.exec(final)![1]!;
    assert.deepEqual(fromBase64(c64), new Uint8Array([...u('p=tls-exporter,,'), ...cb]));
    const verdict = server.final(final);
    assert.match(verdict, /^v=/);
    await m.success(u(verdict));
  });
}

test('-PLUS with binding data the server does not share fails at the server', async () => {
  const { c } = ctx({ tlsProtocol: 'TLSv1.2', bindings: { 'tls-unique': new Uint8Array([1, 2, 3]) } });
  const server = scramServer('SHA-256', 'pencil', new Uint8Array([4, 5, 6]));
  const m = createScram(c, { hash: 'SHA-256', binding: 'tls-unique' });
  const first = s(await m.start());
  const final = s(await m.challenge(u(server.first(first))));
  assert.throws(() => server.final(final), /c= is the gs2 header/);
});

test('-PLUS without binding data from the transport is refused at start', async () => {
  const m = createScram(ctx({ tlsProtocol: 'TLSv1.3' }).c, { hash: 'SHA-256', binding: 'tls-exporter' });
  await assert.rejects(m.start(), isCode('ERR_AUTH_PROTOCOL', /tls-exporter is not available/));
});

test('wrong password: the server says invalid-proof', async () => {
  const server = scramServer('SHA-256', 'right', undefined);
  const m = createScram(ctx({ credentials: { username: 'u', password: 'wrong' } }).c, { hash: 'SHA-256' });
  const final = s(await m.challenge(u(server.first(s(await m.start())))));
  assert.equal(server.final(final), 'e=invalid-proof');
});

test('PBKDF2 is one deriveBits call; the key cache skips it on the next login', async () => {
  const subtle = crypto.subtle;
  const original = subtle.deriveBits.bind(subtle);
  let calls = 0;
  subtle.deriveBits = ((...args: Parameters<SubtleCrypto['deriveBits']>) => {
    calls++;
    return original(...args);
  }) as SubtleCrypto['deriveBits'];
  try {
    const cache = new ScramKeyCache();
    const server = scramServer('SHA-256', 'pencil', undefined);
    for (let i = 0; i < 2; i++) {
      const m = createScram(ctx().c, { hash: 'SHA-256', cache });
      const first = s(await m.start());
      const serverFirst = server.first(first);
      // Same salt and iteration count both times (the server's stored credentials).
      const final = s(await m.challenge(u(serverFirst)));
      await m.success(u(server.final(final)));
    }
    assert.equal(calls, 1);
  } finally {
    subtle.deriveBits = original;
  }
});

test('deriveScramKeys matches node:crypto', async () => {
  const salt = new Uint8Array(randomBytes(12));
  const keys = await deriveScramKeys('SHA-256', 'pencil', salt, 4096);
  assert.deepEqual(Buffer.from(keys.saltedPassword), pbkdf2Sync('pencil', salt, 4096, 32, 'sha256'));
});
