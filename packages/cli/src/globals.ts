/**
 * The account and connection options every command takes (issue 7, "Account and connection
 * options"). They go before or after the command name. There is deliberately no password option:
 * a password on the command line ends up in shell history and `ps` output; it comes from
 * `--password-command`, `CONFAB_PASSWORD` or a prompt instead.
 */
import { defineOptions, type OptionValues } from './spec.ts';

export const GLOBAL_OPTIONS = defineOptions([
  {
    name: 'jid',
    type: 'string',
    value: 'JID',
    env: 'CONFAB_JID',
    description: 'The account to log in as (default: CONFAB_JID, then the default account in the config)',
  },
  {
    name: 'password-command',
    type: 'string',
    value: 'CMD',
    description: 'Run CMD in a shell and use the first line of its output as the password',
  },
  {
    name: 'host',
    type: 'string',
    value: 'HOST',
    description: 'Connect to HOST instead of looking up the domain (no SRV lookup)',
  },
  {
    name: 'port',
    type: 'integer',
    value: 'PORT',
    min: 1,
    description: 'Connect to PORT (default 5222, 5223 with --direct-tls)',
  },
  {
    name: 'direct-tls',
    type: 'boolean',
    description: 'TLS from the first byte (XEP-0368) instead of STARTTLS',
  },
  {
    name: 'websocket',
    type: 'string',
    value: 'URL',
    description: 'Connect over WebSocket (RFC 7395) to URL (wss://...)',
  },
  { name: 'ca', type: 'string', value: 'FILE', description: 'Trust the CA certificate(s) in FILE (PEM) too' },
  {
    name: 'pin',
    type: 'string',
    value: 'SHA256',
    description: 'Trust the certificate whose public key (SPKI) has this SHA-256 fingerprint (base64 or hex)',
  },
  {
    name: 'legacy-auth',
    type: 'boolean',
    description: 'Log in with jabber:iq:auth (XEP-0078), digest when offered',
  },
  {
    name: 'allow-plaintext',
    type: 'boolean',
    description: 'Allow an unencrypted connection and a plaintext login on it (off by default)',
  },
  {
    name: 'resource',
    type: 'string',
    value: 'NAME',
    description: 'Bind this resource (one-shot commands otherwise bind a fresh confab-XXXXXXXX)',
  },
  { name: 'json', type: 'boolean', description: 'Print one JSON object per line on stdout' },
  {
    name: 'debug',
    type: 'boolean',
    description: 'Log the XML stream on stderr (passwords and SASL data redacted)',
  },
  {
    name: 'config',
    type: 'string',
    value: 'FILE',
    description: 'Read accounts from FILE (default: $XDG_CONFIG_HOME/confab/config.json)',
  },
  {
    name: 'help',
    short: 'h',
    type: 'boolean',
    description: 'Show help (for the command, when one is given)',
  },
  { name: 'version', type: 'boolean', description: 'Print the version' },
]);

export type GlobalValues = OptionValues<typeof GLOBAL_OPTIONS>;
