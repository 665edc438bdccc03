/**
 * The CLI's view of account registration (XEP-0077 v2.4): the logged-in account's
 * (`CliRegistration`: passwd, unregister) and a registration before login (`register`), which
 * opens its own connection and never logs in. Plain data, so the commands never see the library.
 */

/** The logged-in account's registration: `session.registration`. */
export interface CliRegistration {
  /** Change the password (XEP-0077 3.3); the session logs in with the new one from now on. */
  changePassword(newPassword: string): Promise<void>;
  /** Remove the account from its server (XEP-0077 3.2); the session is offline afterwards. */
  cancel(): Promise<void>;
}

/** One thing the server asks for when registering. */
export interface CliRegistrationField {
  /** The name `--field NAME=VALUE` uses: the legacy element (`email`) or the data form's var. */
  name: string;
  label: string;
  /** XEP-0004 field type: text-single, text-private, boolean, list-single, list-multi, ... */
  type: string;
  required: boolean;
  /** The server's default or current value(s). */
  values: string[];
  /** Choices of a list field. */
  options: { label: string | undefined; value: string }[];
  description: string | undefined;
}

/** The server's registration form, as the command presents it. */
export interface CliRegistrationForm {
  /** Remote text: sanitize before printing. */
  instructions: string | undefined;
  title: string | undefined;
  /** Where the server registers instead (XEP-0077 5, redirection), when it has no fields. */
  url: string | undefined;
  /** The server asks for nothing at all: it registers elsewhere (`url`, `instructions`), not in-band. */
  redirect: boolean;
  /** The fields to answer: username and password are filled from the command line. */
  fields: CliRegistrationField[];
}

/** A registration connection that is open: fill in the form once, or close it. */
export interface CliOpenRegistration {
  form: CliRegistrationForm;
  /**
   * Registers with these values (by field name); resolves once the account exists, and the
   * connection is closed. Rejects with the library's typed errors (ERR_USERNAME_TAKEN,
   * ERR_REGISTRATION_DISABLED, ERR_REGISTRATION_INCOMPLETE with `fields`, stanza errors).
   */
  submit(values: Record<string, string | string[] | boolean>): Promise<void>;
  close(): Promise<void>;
}
