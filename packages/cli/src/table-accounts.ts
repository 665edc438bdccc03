/** Commands of the command table (table.ts) for this area, in the order help lists them. */
import { type CommandSpec, defineCommand } from './spec.ts';

export const register = defineCommand({
  name: 'register',
  summary: 'Create an account on its server (in-band registration)',
  synopsis: 'USER@HOST [--field NAME=VALUE]...',
  description:
    'Connects to HOST (TLS verified, as a login; --host, --port, --ca, --direct-tls, --allow-plaintext ' +
    'apply), asks the server for its registration form (XEP-0077) and creates USER@HOST. It does not ' +
    "log in. The new account's password comes from --password-command, CONFAB_PASSWORD, or is asked " +
    'twice on a terminal; never from a --field. Any other field the server asks for (email, name, ...) ' +
    'comes from --field NAME=VALUE (repeat it for a field with several values), or is asked on a ' +
    'terminal. A required field with no value and no terminal to ask on exits 2 naming it; a username ' +
    'that is taken exits 1 saying so, as does a server that does not register in-band (its ' +
    'instructions and web address are printed). With --json one `result` object: `command`, `jid`.',
  arguments: [{ name: 'USER@HOST', description: 'The account to create', complete: 'none' }],
  options: [
    {
      name: 'field',
      type: 'string',
      value: 'NAME=VALUE',
      repeatable: true,
      description: "A value for the server's registration field NAME (e.g. email=juliet@example.net)",
    },
  ],
  examples: [
    {
      command: 'confab register juliet@example.org --field email=juliet@example.net',
      description:
        'Create juliet@example.org with that email address (the password from CONFAB_PASSWORD, or asked)',
    },
    {
      command: "confab register romeo@example.org --password-command 'pass show xmpp/romeo'",
      description: 'Take the new password from a password manager',
    },
  ],
  connects: false,
  async handler(ctx): Promise<number> {
    return (await import('./commands/accounts.ts')).runRegister(ctx);
  },
});

export const passwd = defineCommand({
  name: 'passwd',
  summary: "Change the account's password on the server",
  synopsis: '[--new-password-command CMD]',
  description:
    'Logs in with the current password (the usual sources: --password-command, CONFAB_PASSWORD, a ' +
    'prompt) and changes it (XEP-0077) to the new one, from --new-password-command CMD (first line of ' +
    'its output), else CONFAB_NEW_PASSWORD, else asked twice on a terminal. A password command in the ' +
    'config keeps giving the old password until you update what it reads. With --json one `result` ' +
    'object: `command`, `jid`.',
  arguments: [],
  options: [
    {
      name: 'new-password-command',
      type: 'string',
      value: 'CMD',
      description: 'Run CMD in a shell and use the first line of its output as the new password',
    },
  ],
  examples: [
    {
      command: 'confab --jid juliet@example.org passwd',
      description: 'Change the password (the new one from CONFAB_NEW_PASSWORD, or asked twice)',
    },
    {
      command: "confab passwd --new-password-command 'pass show xmpp/new'",
      description: 'Take the new password from a password manager',
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/accounts.ts')).runPasswd(ctx);
  },
});

export const unregister = defineCommand({
  name: 'unregister',
  summary: 'Remove the account from its server',
  description:
    'Logs in and asks the server to remove the account (XEP-0077), with its roster and everything ' +
    'it stores. On a terminal it asks first (type yes); when stdin is not a terminal it proceeds. ' +
    'The config entry, if any, stays (confab account remove JID drops it). With --json one `result` ' +
    'object: `command`, `jid`.',
  arguments: [],
  options: [],
  examples: [{ command: 'confab --jid old@example.org unregister', description: 'Remove old@example.org' }],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/accounts.ts')).runUnregister(ctx);
  },
});

export const accountAdd = defineCommand({
  name: 'account add',
  summary: 'Save an account in the config',
  synopsis: 'JID [--host HOST] [--port PORT] [--resource NAME] [--password-command CMD] ...',
  description:
    'Saves JID in the config file ($XDG_CONFIG_HOME/confab/config.json, or --config FILE; mode ' +
    '0600) with the connection options given on this command line: --host, --port, --resource, ' +
    '--password-command, --direct-tls, --websocket, --ca, --pin, --legacy-auth, --allow-plaintext. ' +
    'Never a password: give a --password-command that prints it. An entry for JID is replaced. The ' +
    'first account saved becomes the default (the account used when no --jid or CONFAB_JID is given).',
  arguments: [{ name: 'JID', description: 'The account (user@domain)', complete: 'jid' }],
  options: [],
  examples: [
    {
      command: "confab account add juliet@example.org --password-command 'pass show xmpp/juliet'",
      description: 'Save an account whose password comes from a password manager',
    },
    {
      command: 'confab account add bot@localhost --host 127.0.0.1 --port 5222 --ca ca.pem',
      description: 'Save an account on a local test server',
    },
  ],
  connects: false,
  async handler(ctx): Promise<number> {
    return (await import('./commands/accounts.ts')).runAccountAdd(ctx);
  },
});

export const accountList = defineCommand({
  name: 'account list',
  summary: 'List the accounts in the config',
  synopsis: '',
  description:
    'Prints each account of the config file with its connection options; the default one marked. ' +
    'With --json one `account` object per account: `jid`, `default`, `host`, `port`, `resource`, ' +
    '`passwordCommand`, `directTls`, `websocket`, `ca`, `pin`, `legacyAuth`, `allowPlaintext`.',
  arguments: [],
  options: [],
  examples: [{ command: 'confab account list', description: 'List the saved accounts' }],
  connects: false,
  async handler(ctx): Promise<number> {
    return (await import('./commands/accounts.ts')).runAccountList(ctx);
  },
});

export const accountRemove = defineCommand({
  name: 'account remove',
  summary: 'Remove an account from the config',
  description:
    'Removes JID from the config file (the account on the server stays: see unregister). When it was ' +
    'the default, no account is the default afterwards. Exits 1 when JID is not in the config.',
  arguments: [{ name: 'JID', description: 'The account to forget', complete: 'jid' }],
  options: [],
  examples: [{ command: 'confab account remove old@example.org', description: 'Forget old@example.org' }],
  connects: false,
  async handler(ctx): Promise<number> {
    return (await import('./commands/accounts.ts')).runAccountRemove(ctx);
  },
});

export const accountDefault = defineCommand({
  name: 'account default',
  summary: 'Show or set the default account',
  description:
    'With JID (an account of the config), makes it the default: the account commands use when no ' +
    '--jid or CONFAB_JID is given. Without, prints the default account. Exits 1 when JID is not in ' +
    'the config (or, without JID, when there is no default).',
  arguments: [{ name: 'JID', description: 'The account to use by default', optional: true, complete: 'jid' }],
  options: [],
  examples: [
    {
      command: 'confab account default juliet@example.org',
      description: 'Use juliet@example.org by default',
    },
    { command: 'confab account default', description: 'Print the default account' },
  ],
  connects: false,
  async handler(ctx): Promise<number> {
    return (await import('./commands/accounts.ts')).runAccountDefault(ctx);
  },
});

export const ACCOUNT_COMMANDS: readonly CommandSpec[] = [
  register,
  passwd,
  unregister,
  accountAdd,
  accountList,
  accountRemove,
  accountDefault,
];
