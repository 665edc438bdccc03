/**
 * Adapter from the library to the CLI's view of account registration (session-accounts.ts):
 * `client.account` (XEP-0077 v2.4) for the logged-in account (passwd, unregister), and a
 * registration before login for `confab register`, on its own connection made from the same
 * account and connection options as a login (`connectionOptions`).
 */
import { type Client, createClient } from 'confab';
import type { ResolvedAccount } from './account.ts';
import { connectionOptions } from './library-connection.ts';
import type { CliOpenRegistration, CliRegistration, CliRegistrationField } from './session-accounts.ts';

export function registrationOf(client: Client, _domain: string): CliRegistration {
  return {
    changePassword: (newPassword) => client.account.changePassword(newPassword),
    cancel: () => client.account.cancel(),
  };
}

/** What `openRegistration` needs: the new account (its JID and connection options) and password. */
export interface RegistrationParams {
  account: ResolvedAccount;
  password: string;
  debug: ((line: string) => void) | undefined;
  signal: AbortSignal;
}

/**
 * Opens a registration connection for `account` (TLS as a login does it, no login) and fetches
 * the server's form. Rejects with the library's typed errors (ERR_REGISTRATION_DISABLED, TLS and
 * connection errors).
 */
export async function openRegistration(p: RegistrationParams): Promise<CliOpenRegistration> {
  const client = createClient({
    ...connectionOptions(p.account),
    password: p.password,
    reconnect: false,
    debug: p.debug ?? false,
  });
  const r = await client.account.openRegistration({ signal: p.signal });
  return {
    form: {
      instructions: r.form.instructions,
      title: r.form.title,
      url: r.form.url,
      redirect: r.form.fields.length === 0,
      fields: r.fields.map(
        (f): CliRegistrationField => ({
          name: f.name,
          label: f.label,
          type: f.type,
          required: f.required,
          values: [...f.values],
          options: f.options.map((o) => ({ label: o.label, value: o.value })),
          description: f.description,
        }),
      ),
    },
    submit: (values) => r.submit(values),
    close: () => r.close(),
  };
}
