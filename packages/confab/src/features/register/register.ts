/**
 * In-band registration: XEP-0077 "In-Band Registration" version 2.4 (2012-01-25).
 * - Before login (section 3.1, 3.1.1 "Registration with a Server"): on a fresh stream,
 *   secured as a login secures it (TLS, certificate verified; no plaintext unless the
 *   client allows it), ask for the fields, hand the form to the app, submit; the stream
 *   is closed afterwards and a new one logs in (the seed's order). Which form is filled
 *   follows section 6's precedence: an XEP-0004 data form, else the legacy fields; an
 *   XEP-0066 URL alone is a redirection (section 5).
 * - Logged in: change the password (3.3), update other fields where the host allows,
 *   cancel the account (3.2). These go without a `to` (the account's own server, 3.2
 *   scenario 1), which every server accepts.
 *
 * Errors are typed (errors.ts): 409 `conflict` is ERR_USERNAME_TAKEN, so the app can ask
 * for another name; `not-allowed`, `forbidden`, `service-unavailable`,
 * `feature-not-implemented` and `registration-required` mean the host does not register
 * (us) in-band: ERR_REGISTRATION_DISABLED; `not-acceptable` and required fields left
 * empty are ERR_REGISTRATION_INCOMPLETE naming the fields. Each is a RegistrationError
 * with the XMPP condition, type, text and element when the server sent one.
 */
import type { Client } from '../../client.ts';
import { ConfabError, type ConfabErrorOptions, type ErrorCode } from '../../errors.ts';
import { localOf } from '../../jid.ts';
import type { PreAuthStream } from '../../session/preauth.ts';
import { xml } from '../../xml/element.ts';
import type { FeatureContext } from '../context.ts';
import {
  getQuery,
  isAutomatic,
  isLegacyField,
  type LegacyField,
  legacyQuery,
  missingFields,
  NS_REGISTER,
  parseRegistrationQuery,
  type RegistrationField,
  type RegistrationForm,
  type RegistrationValues,
  registrationSubmit,
  removeQuery,
} from './codec.ts';

export type {
  FieldType,
  FieldValue,
  LegacyField,
  RegistrationField,
  RegistrationForm,
  RegistrationValues,
} from './codec.ts';

/** A registration failure with a typed `code` and the fields concerned. */
export class RegistrationError extends ConfabError {
  override name = 'RegistrationError';
  /** The fields that are missing or refused (ERR_REGISTRATION_INCOMPLETE), else empty. */
  readonly fields: readonly string[];
  constructor(
    code: ErrorCode,
    message: string,
    options: ConfabErrorOptions & { fields?: readonly string[] } = {},
  ) {
    super(code, message, options);
    this.fields = options.fields ?? [];
  }
}

/** Fields confab fills itself from the client's account: never from the app's values. */
const OWN_FIELDS: ReadonlySet<string> = new Set(['username', 'password']);

/** Conditions meaning "this host does not register accounts in-band (for us)". */
const DISABLED = new Set([
  'not-allowed',
  'forbidden',
  'service-unavailable',
  'feature-not-implemented',
  'registration-required',
]);

/** An open registration: the host's form, to be submitted once (or closed). */
export interface Registration {
  /** What the host asked for. `fields` includes username and password, which confab fills. */
  readonly form: RegistrationForm;
  /**
   * The fields the app answers: the form's fields except username, password (from the
   * client's JID and password), hidden and fixed ones.
   */
  readonly fields: readonly RegistrationField[];
  /**
   * Submit `values` (by field name) with the client's username and password. Resolves once
   * the account exists; the connection is then closed (log in with `client.connect()`).
   * A required field without a value rejects with ERR_REGISTRATION_INCOMPLETE before
   * anything is sent (the registration stays open: submit again). The server's refusals
   * reject (ERR_USERNAME_TAKEN, ERR_REGISTRATION_DISABLED, ERR_REGISTRATION_INCOMPLETE, or
   * a StanzaError) and close the connection.
   */
  submit(values?: RegistrationValues): Promise<void>;
  /** Close the connection without registering. */
  close(): Promise<void>;
}

/** Options of `client.account.register()`. */
export interface RegisterOptions {
  /** Values for the host's fields other than username and password (`email`, ...). */
  fields?: RegistrationValues | undefined;
  /**
   * Called with the open registration (present `form.instructions` and `fields` to the
   * person); returns the values to submit, merged over `fields`.
   */
  onForm?: ((registration: Registration) => RegistrationValues | Promise<RegistrationValues>) | undefined;
  signal?: AbortSignal | undefined;
}

/** Map the server's refusal of a registration `get`/`set` to a typed error. */
function refusal(err: unknown, form: RegistrationForm | undefined, domain: string): unknown {
  if (!(err instanceof ConfabError) || err.code !== 'ERR_STANZA') return err;
  const condition = err.condition ?? 'undefined-condition';
  const o = { condition, type: err.type, text: err.text, element: err.element, cause: err };
  const said = err.text ? `: ${err.text}` : '';
  if (condition === 'conflict') {
    return new RegistrationError(
      'ERR_USERNAME_TAKEN',
      `The username is already taken on ${domain} (conflict)${said}`,
      {
        ...o,
        fields: ['username'],
      },
    );
  }
  if (DISABLED.has(condition)) {
    return new RegistrationError(
      'ERR_REGISTRATION_DISABLED',
      `${domain} does not allow in-band registration (${condition})${said}`,
      o,
    );
  }
  if (condition === 'not-acceptable') {
    // The host rarely says which field; name those it asked for (all required ones).
    const named = (form?.fields ?? []).filter((f) => f.required && !isAutomatic(f)).map((f) => f.name);
    return new RegistrationError(
      'ERR_REGISTRATION_INCOMPLETE',
      `${domain} refused the registration as incomplete or invalid (not-acceptable)${said}${
        named.length > 0 ? `; check ${named.join(', ')}` : ''
      }`,
      { ...o, fields: named },
    );
  }
  return err;
}

/**
 * `client.account`: the account's registration (XEP-0077). Before login, `register()` /
 * `openRegistration()` create the client's account (its JID's local part, its password);
 * once online, `changePassword()`, `update()`, `cancel()`.
 *
 * @example
 * const client = createClient({ jid: 'newbie@example.org', password: 'a good secret' });
 * try {
 *   await client.account.register({ fields: { email: 'newbie@example.net' } });
 * } catch (err) {
 *   if (err instanceof ConfabError && err.code === 'ERR_USERNAME_TAKEN') askForAnotherName();
 *   else throw err;
 * }
 * await client.connect(); // logs in with the new account
 */
export class AccountRegistration {
  readonly #client: Client;

  constructor(ctx: FeatureContext) {
    this.#client = ctx.client;
  }

  /**
   * Open a fresh connection (TLS as `connect()` does it, no login) and fetch the
   * registration form. Rejects with ERR_REGISTRATION_DISABLED when the host has no in-band
   * registration. A form that only redirects (instructions and a URL, no fields) is
   * returned as is: `submit()` then rejects with ERR_REGISTRATION_DISABLED.
   */
  async openRegistration(options: { signal?: AbortSignal | undefined } = {}): Promise<Registration> {
    const { stream, username, password } = await this.#client.openPreAuth(options.signal);
    const domain = stream.domain;
    let form: RegistrationForm;
    try {
      // The stream feature (`NS_REGISTER_FEATURE`) is optional (XEP-0077 section 8, MAY):
      // ask whether it is announced or not; the answer says.
      const reply = await stream.iq(xml('iq', { type: 'get', to: domain }, getQuery()));
      const query = reply.getChild('query', NS_REGISTER);
      if (!query) {
        throw new RegistrationError(
          'ERR_REGISTRATION_DISABLED',
          `${domain} answered the registration request without a form`,
          { element: reply },
        );
      }
      form = parseRegistrationQuery(query);
    } catch (err) {
      await stream.close().catch(() => {});
      throw refusal(err, undefined, domain);
    }
    return new OpenRegistration(stream, form, username, password);
  }

  /**
   * Register the client's account in one call: open, fill the form from `fields` and
   * `onForm`, submit, close. Resolves with the form the host sent.
   */
  async register(options: RegisterOptions = {}): Promise<RegistrationForm> {
    const r = await this.openRegistration({ signal: options.signal });
    try {
      const asked = options.onForm ? await options.onForm(r) : {};
      await r.submit({ ...options.fields, ...asked });
      return r.form;
    } finally {
      await r.close();
    }
  }

  /** What the server has on file for the logged-in account (XEP-0077 3.1, `<registered/>`). */
  async info(): Promise<RegistrationForm> {
    const reply = await this.#client.iq({ type: 'get', payload: getQuery() });
    const query = reply.getChild('query', NS_REGISTER);
    if (!query) {
      throw new ConfabError('ERR_BAD_REPLY', 'The server answered the registration query without <query/>', {
        element: reply,
      });
    }
    return parseRegistrationQuery(query);
  }

  /**
   * Change the account's password (XEP-0077 3.3). On success the client logs in with the
   * new one from now on (reconnects too), whatever `password` option it was made with.
   * Rejects with a StanzaError as the server refuses (`not-authorized`: it finds the
   * channel unsafe; `not-allowed`: no in-band changes; `bad-request`).
   */
  async changePassword(newPassword: string): Promise<void> {
    if (newPassword === '') {
      // An empty password must leave the old one (3.3); refusing it here says so clearly.
      throw new ConfabError('ERR_BAD_INPUT', 'The new password is empty');
    }
    await this.#client.iq({
      type: 'set',
      payload: legacyQuery({ username: this.#username(), password: newPassword }),
    });
    this.#client.useNewPassword(newPassword);
  }

  /**
   * Update other registration fields (e.g. `email`) where the host allows it: sent with
   * the username as legacy fields. Prosody refuses anything but a password change
   * (bad-request); the StanzaError says so.
   */
  async update(fields: Readonly<Partial<Record<LegacyField, string>>>): Promise<void> {
    for (const name of Object.keys(fields)) {
      if (!isLegacyField(name) || name === 'key' || OWN_FIELDS.has(name)) {
        throw new ConfabError(
          'ERR_BAD_INPUT',
          name === 'password'
            ? 'Change the password with changePassword()'
            : `'${name}' is not a registration field that can be updated`,
        );
      }
    }
    await this.#client.iq({ type: 'set', payload: legacyQuery({ username: this.#username(), ...fields }) });
  }

  /**
   * Cancel the account (XEP-0077 3.2): the server removes it and ends the stream. Resolves
   * once it answered or ended the stream after our `<remove/>` (ejabberd closes before
   * answering); the client is then offline and does not reconnect. Rejects with a
   * StanzaError when the server refuses (the client stays online).
   */
  async cancel(): Promise<void> {
    const client = this.#client;
    if (client.status !== 'online') {
      throw new ConfabError('ERR_NOT_CONNECTED', 'Log in to cancel the account');
    }
    const undo = client.expectStreamEnd();
    try {
      await client.iq({ type: 'set', payload: removeQuery() });
    } catch (err) {
      if (!endedByServer(err)) {
        undo();
        throw err;
      }
    }
    await client.disconnect();
  }

  #username(): string {
    const own = this.#client.jid;
    const local = own === undefined ? undefined : localOf(own);
    if (local === undefined) throw new ConfabError('ERR_NOT_CONNECTED', 'Not logged in');
    return local;
  }
}

/** The stream ended under our `<remove/>`: what servers do once the account is gone. */
function endedByServer(err: unknown): boolean {
  if (!(err instanceof ConfabError)) return false;
  if (err.code === 'ERR_SOCKET_CLOSED' || err.code === 'ERR_NOT_CONNECTED') return true;
  // XEP-0077 3.2: "the server SHOULD then return a <not-authorized/> stream error";
  // ejabberd 23 sends `conflict` ("User removed") instead, before answering the iq.
  return err.code === 'ERR_STREAM' && (err.condition === 'not-authorized' || err.condition === 'conflict');
}

class OpenRegistration implements Registration {
  readonly form: RegistrationForm;
  readonly fields: readonly RegistrationField[];
  readonly #stream: PreAuthStream;
  readonly #username: string;
  readonly #password: () => Promise<string>;
  #done = false;

  constructor(
    stream: PreAuthStream,
    form: RegistrationForm,
    username: string,
    password: () => Promise<string>,
  ) {
    this.#stream = stream;
    this.form = form;
    this.fields = form.fields.filter((f) => !OWN_FIELDS.has(f.name) && !isAutomatic(f));
    this.#username = username;
    this.#password = password;
  }

  async submit(values: RegistrationValues = {}): Promise<void> {
    const stream = this.#stream;
    const domain = stream.domain;
    if (this.#done || stream.closed) {
      throw new ConfabError('ERR_NOT_CONNECTED', 'This registration is closed; open a new one');
    }
    for (const name of Object.keys(values)) {
      if (OWN_FIELDS.has(name) && values[name] !== undefined) {
        throw new ConfabError(
          'ERR_BAD_INPUT',
          `The ${name} comes from the client (its JID and password option), not from the values`,
        );
      }
    }
    const form = this.form;
    if (form.fields.length === 0) {
      throw new RegistrationError(
        'ERR_REGISTRATION_DISABLED',
        form.url
          ? `${domain} registers accounts elsewhere: ${form.url}`
          : `${domain} asks for no registration fields${form.instructions ? `: ${form.instructions}` : ''}`,
        { element: form.element },
      );
    }
    const filled: Record<string, RegistrationValues[string]> = { ...values, username: this.#username };
    if (form.fields.some((f) => f.name === 'password')) filled.password = await this.#password();
    const missing = missingFields(form, filled);
    if (missing.length > 0) {
      const names = missing.map((f) => f.name);
      throw new RegistrationError(
        'ERR_REGISTRATION_INCOMPLETE',
        `Registration on ${domain} needs ${missing.map((f) => `${f.name} (${f.label})`).join(', ')}`,
        { fields: names },
      );
    }
    this.#done = true;
    try {
      await stream.iq(xml('iq', { type: 'set', to: domain }, registrationSubmit(form, filled)));
    } catch (err) {
      throw refusal(err, form, domain);
    } finally {
      await stream.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.#done = true;
    await this.#stream.close().catch(() => {});
  }
}
