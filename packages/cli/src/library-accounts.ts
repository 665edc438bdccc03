/** Adapter from the library to the CLI's view of the logged-in account's registration (XEP-0077): passwd, unregister. */
import type { Client } from 'confab';
import type { CliRegistration } from './session-accounts.ts';

export function registrationOf(_client: Client, _domain: string): CliRegistration {
  return {};
}
