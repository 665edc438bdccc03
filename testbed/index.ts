// The test bed's library API: start real servers on loopback for tests, `npm start` and benchmarks.
// See README.md "Test bed".

export {
  createEjabberdAccount,
  createProsodyAccount,
  freshAccount,
  randomPassword,
  uniqueUsername,
} from './accounts.ts';
export type { CertificateFiles } from './certs.ts';
export { createCertificates, createSelfSigned, LEAF_SANS } from './certs.ts';
export { type EjabberdOptions, startEjabberd } from './ejabberd.ts';
export { ensurePackages, missingPackages } from './install.ts';
export { freePort, freePorts } from './ports.ts';
export { reapStale, stopPid } from './process.ts';
export { type ProsodyOptions, startProsody } from './prosody.ts';
export type { Account, Profile, ServerInfo, ServerKind, ServerPorts, TestServer } from './types.ts';

import { startEjabberd } from './ejabberd.ts';
import { startProsody } from './prosody.ts';
import type { TestServer } from './types.ts';

/** Starts the three shared servers of a test run in parallel: Prosody full, Prosody minimal, ejabberd. */
export async function startSharedServers(): Promise<TestServer[]> {
  const results = await Promise.allSettled([
    startProsody({ profile: 'full', name: 'prosody' }),
    startProsody({ profile: 'minimal', name: 'prosody-minimal' }),
    startEjabberd({ name: 'ejabberd' }),
  ]);
  const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failed.length > 0) {
    await Promise.all(ok.map((s) => s.stop()));
    throw new Error(`test bed failed to start:\n${failed.map((e) => e.message).join('\n\n')}`);
  }
  return ok;
}
