/**
 * SASL mechanism contract (RFC 4422 SASL; RFC 6120 section 6 for how XMPP carries it). A mechanism is a small state machine: it produces the
 * initial response, answers challenges, and checks the server's final data
 * (SCRAM's server signature). It never touches the network; the session layer
 * drives it. Byte strings are Uint8Array; crypto is WebCrypto (`crypto.subtle`).
 */
import type { ChannelBindingType } from '../../transport/types.ts';

export interface SaslCredentials {
  /** The authentication identity's local part (username). */
  username: string;
  password: string;
  /** Authorization identity, normally unset. */
  authzid?: string | undefined;
}

export interface SaslContext {
  credentials: SaslCredentials;
  /** Mechanisms the server offered (to decide the gs2 `y` flag for SCRAM). */
  offered: readonly string[];
  /** Channel binding types the server advertised (XEP-0440), if it said. */
  serverBindings: readonly ChannelBindingType[] | undefined;
  /** Fetch channel binding data from the TLS layer. */
  channelBinding(type: ChannelBindingType): Uint8Array | undefined;
  /** TLS version in use, e.g. 'TLSv1.3', or undefined without TLS. */
  tlsProtocol: string | undefined;
  /** Debug log line (no secrets). */
  log?(message: string): void;
}

export interface SaslMechanism {
  readonly name: string;
  /** The initial response (may be empty), or undefined when the mechanism sends none. */
  start(): Promise<Uint8Array | undefined>;
  /** Answer a server challenge. */
  challenge(data: Uint8Array): Promise<Uint8Array>;
  /** Check the additional data on `<success/>`; throws a ConfabError (ERR_AUTH_SERVER_SIGNATURE) when it fails. */
  success(data: Uint8Array | undefined): Promise<void>;
}

/**
 * Makes a mechanism for one authentication attempt (mechanisms are single-use state machines).
 * `chooseMechanism()` in select.ts returns one of these along with the chosen name.
 */
export type SaslMechanismFactory = (ctx: SaslContext) => SaslMechanism;
