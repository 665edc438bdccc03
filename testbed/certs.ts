// Test-bed certificates: a private CA and a `localhost` leaf it signs, made with openssl.
// Clients in tests verify TLS against the CA (instead of switching verification off), and a
// separate self-signed certificate lets tests show that an untrusted certificate is refused.
// EC P-256 keys keep generation fast (a few ms per key instead of RSA's hundreds).

import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Paths of the generated PEM files. */
export interface CertificateFiles {
  /** The private CA's certificate: what clients trust. */
  caCert: string;
  caKey: string;
  /** Leaf certificate for `localhost` signed by the CA. */
  cert: string;
  key: string;
}

/** Subject alternative names of every test-bed leaf certificate. */
// Node's checkServerIdentity refuses a wildcard over fewer than three labels (`*.localhost`),
// so the component and extra host names are listed one by one as well.
export const LEAF_SANS =
  'DNS:localhost,DNS:*.localhost,DNS:conference.localhost,DNS:upload.localhost,DNS:proxy.localhost,' +
  'DNS:anon.localhost,IP:127.0.0.1,IP:::1';

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.trim() || e.message}`);
  }
}

async function ecKey(path: string): Promise<void> {
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path]);
}

/**
 * Creates `ca.pem`/`ca-key.pem` (a private CA) and `localhost.pem`/`localhost-key.pem` (a leaf for
 * localhost, *.localhost, 127.0.0.1 and ::1, signed by that CA) in `dir`.
 */
export async function createCertificates(dir: string): Promise<CertificateFiles> {
  await mkdir(dir, { recursive: true });
  const caKey = join(dir, 'ca-key.pem');
  const caCert = join(dir, 'ca.pem');
  const key = join(dir, 'localhost-key.pem');
  const csr = join(dir, 'localhost.csr');
  const cert = join(dir, 'localhost.pem');
  const ext = join(dir, 'leaf.ext');
  await Promise.all([ecKey(caKey), ecKey(key)]);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    caKey,
    '-sha256',
    '-days',
    '3650',
    '-subj',
    '/CN=confab test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    caCert,
  ]);
  await openssl(['req', '-new', '-key', key, '-subj', '/CN=localhost', '-out', csr]);
  await writeFile(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=${LEAF_SANS}`,
      '',
    ].join('\n'),
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    caCert,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-sha256',
    '-days',
    '3650',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return { caCert, caKey, cert, key };
}

/**
 * Creates a self-signed `localhost` certificate (`self-signed.pem`/`self-signed-key.pem`) in `dir`,
 * with the same names as the leaf but NOT signed by the test CA: clients trusting only the CA must
 * refuse it.
 */
export async function createSelfSigned(dir: string): Promise<{ cert: string; key: string }> {
  await mkdir(dir, { recursive: true });
  const key = join(dir, 'self-signed-key.pem');
  const cert = join(dir, 'self-signed.pem');
  await ecKey(key);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    key,
    '-sha256',
    '-days',
    '3650',
    '-subj',
    '/CN=localhost',
    '-addext',
    `subjectAltName=${LEAF_SANS}`,
    '-addext',
    'extendedKeyUsage=serverAuth',
    '-out',
    cert,
  ]);
  return { cert, key };
}
