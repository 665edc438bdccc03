/** Adapter from the library to the CLI's view of files: HTTP upload (XEP-0363), out-of-band offers (XEP-0066), downloads. */
import type { Client } from 'confab';
import type { CliFiles } from './session-files.ts';

export function filesOf(_client: Client, _domain: string): CliFiles {
  return {};
}
