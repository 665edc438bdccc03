import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createCertificates } from '../../../../testbed/certs.ts';
import {
  normalizePins,
  refusalReason,
  serverEndPointHash,
  TlsCertificateError,
  toFingerprint,
} from './tls.ts';

describe('normalizePins', () => {
  const bytes = createHash('sha256').update('spki').digest();
  const b64 = bytes.toString('base64');
  const hex = bytes.toString('hex');

  test('base64, hex, colon hex, sha256/ prefix and base64url all normalise to the same base64', () => {
    const colon = hex.match(/../g)!.join(':').toUpperCase();
    const url = b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, '');
    assert.deepEqual(normalizePins([b64, hex, colon, `sha256/${b64}`, url]), [b64, b64, b64, b64, b64]);
    assert.deepEqual(normalizePins(undefined), []);
  });

  test('a malformed pin is an error, never a silently disabled pin', () => {
    for (const bad of ['', 'abc', hex.slice(2), `${b64.slice(0, -2)}==`, 'sha1/AAAA']) {
      assert.throws(() => normalizePins(bad), { code: 'ERR_BAD_INPUT' }, bad);
    }
  });
});

test('refusal reasons name what went wrong', () => {
  assert.equal(refusalReason('DEPTH_ZERO_SELF_SIGNED_CERT'), 'self-signed');
  assert.equal(refusalReason('CERT_HAS_EXPIRED'), 'expired');
  assert.equal(refusalReason('ERR_TLS_CERT_ALTNAME_INVALID'), 'hostname mismatch');
  assert.equal(refusalReason('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'untrusted issuer');
  assert.equal(refusalReason('SOMETHING_ELSE'), 'invalid');
});

test('TlsCertificateError carries both fingerprints and says how to pin', () => {
  const e = new TlsCertificateError('ERR_TLS_CERT', {
    tlsCode: 'CERT_HAS_EXPIRED',
    domain: 'example.org',
    fingerprint256: 'AB:CD',
    spkiSha256: 'xyz=',
  });
  assert.equal(e.code, 'ERR_TLS_CERT');
  assert.equal(e.reason, 'expired');
  assert.match(e.message, /example\.org/);
  assert.match(e.message, /expired/);
  assert.match(e.message, /AB:CD/);
  assert.match(e.message, /sha256\/xyz=/);
  assert.equal(toFingerprint(new Uint8Array([0xab, 0x01])), 'AB:01');
});

test('tls-server-end-point hash comes from the signature algorithm (RFC 5929 4.1)', async () => {
  const files = await createCertificates(join(tmpdir(), `confab-tls-${process.pid}`));
  const der = new Uint8Array(new X509Certificate(await readFile(files.cert)).raw);
  assert.equal(serverEndPointHash(der), 'sha256'); // ecdsa-with-SHA256
  assert.equal(serverEndPointHash(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])), undefined);
  assert.equal(serverEndPointHash(new Uint8Array([])), undefined);
});
