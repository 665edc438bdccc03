// Shapes shared by the test-bed servers, the harness (tests attach to servers started once per run)
// and the runner. `ServerInfo` is plain JSON: the runner writes it to the file named by
// CONFAB_TESTBED and test processes read it back.

/** Which server software and profile. */
export type ServerKind = 'prosody' | 'ejabberd';
export type Profile = 'full' | 'minimal';

export interface ServerPorts {
  /** c2s with STARTTLS (RFC 6120 section 5). */
  c2s: number;
  /** c2s with direct TLS (XEP-0368). */
  c2sTls: number;
  /** HTTP: WebSocket (RFC 7395), BOSH (XEP-0206), upload (XEP-0363), ejabberd's admin API. Not in the minimal profile. */
  http?: number;
  /** HTTPS: the same services over TLS with the test certificate. Not in the minimal profile. */
  https?: number;
  /** SOCKS5 bytestreams proxy (XEP-0065), when the profile has one. */
  proxy65?: number;
}

/** Everything a test needs to reach a running test-bed server; JSON-serialisable. */
export interface ServerInfo {
  /** Stable name in a run: 'prosody', 'prosody-minimal', 'ejabberd', or what the caller chose. */
  name: string;
  kind: ServerKind;
  profile: Profile;
  /** The XMPP domain: always 'localhost'. */
  domain: string;
  /** Where to connect: '127.0.0.1' (the certificate covers it, 'localhost' and '*.localhost'). */
  host: string;
  ports: ServerPorts;
  /** The test CA's certificate (PEM file): trust this to verify the server. */
  caFile: string;
  /** The server's leaf certificate and key (PEM files). */
  certFile: string;
  keyFile: string;
  /** A self-signed `localhost` certificate and key NOT signed by the CA (for refusal tests). */
  selfSignedCertFile: string;
  selfSignedKeyFile: string;
  /** ws:// and wss:// WebSocket endpoints (RFC 7395); undefined in the minimal profile. */
  wsUrl?: string;
  wssUrl?: string;
  /** BOSH endpoint over HTTP (XEP-0206); undefined in the minimal profile. */
  boshUrl?: string;
  /** MUC service (XEP-0045) or undefined in the minimal profile. */
  muc?: string;
  /** HTTP upload service JID (XEP-0363) or undefined. */
  upload?: string;
  /** SOCKS5 proxy JID (XEP-0065) or undefined. */
  proxy65?: string;
  /** Whether plaintext c2s with PLAIN is allowed (startProsody({ allowPlaintext: true })). */
  allowPlaintext: boolean;
  /** The server's temp dir: config, certs, data, pid file, log. */
  dir: string;
  /** The server's log file. */
  logFile: string;
  /** pid of the server process (leader of its own process group). */
  pid: number;
  /** How long the last start took, ms (spawn until every port accepts). */
  startupMs: number;
  /** For account creation without a connection: Prosody's data dir, ejabberd's admin API URL. */
  accounts: { kind: 'prosody-files'; dataDir: string } | { kind: 'ejabberd-api'; url: string };
}

/** A fresh account on a test-bed server. */
export interface Account {
  /** Bare JID, `username@domain`. */
  jid: string;
  username: string;
  password: string;
  domain: string;
}

/** A server this process started: the info plus lifecycle control. */
export interface TestServer extends ServerInfo {
  /** Creates a new account (milliseconds); names are unique across processes. */
  freshAccount(prefix?: string): Promise<Account>;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its dir unless `keep` was set. */
  stop(): Promise<void>;
  /** Kills the server abruptly (SIGKILL), keeping its dir, so `start()` can bring it back. */
  kill(): Promise<void>;
  /** Starts it again after `kill()`/`stopKeepingData()`, same ports, same data (accounts survive). */
  start(): Promise<void>;
  /** Stops it gracefully but keeps its dir, for a later `start()`. */
  stopKeepingData(): Promise<void>;
}
