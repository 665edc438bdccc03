/**
 * The CLI's view of a logged-in client: the few things its commands need, in the CLI's words.
 * The adapter over the library (library.ts) is the only file that knows the library's client API,
 * so commands stay small and unit tests drive them with a fake session and no network.
 */
import type { ResolvedAccount } from './account.ts';

/** An incoming message as the CLI prints it; field names are the XMPP names. */
export interface IncomingMessage {
  from: string | undefined;
  to: string | undefined;
  id: string | undefined;
  type: string | undefined;
  body: string | undefined;
  subject: string | undefined;
  thread: string | undefined;
  /** XEP-0203 delayed delivery (offline storage): when it was first sent. */
  delay: Date | undefined;
  /** Who added the delay (usually the server). */
  delayFrom: string | undefined;
  /** XEP-0066 out-of-band data. */
  oob: { url: string; desc: string | undefined }[];
}

export interface OutgoingMessage {
  to: string;
  body: string | undefined;
  type: 'chat' | 'normal' | 'headline';
  subject: string | undefined;
  thread: string | undefined;
}

/** What a command may do with a connected account. */
export interface CliSession {
  /** The bound full JID. */
  readonly jid: string;
  /**
   * Sends a message and resolves once the server has it (today: the answer to a ping sent after
   * it, which works with and without stream management). Rejects with a stanza error if the
   * server bounced it before that, or ERR_TIMEOUT.
   */
  sendMessage(msg: OutgoingMessage): Promise<{ id: string }>;
  /** Calls `listener` for every incoming message (offline ones too); returns the teardown. */
  onMessage(listener: (msg: IncomingMessage) => void): () => void;
  /** Calls `listener` when the connection fails for good (no more reconnecting). */
  onFatal(listener: (err: Error) => void): () => void;
  /** Sends unavailable presence, closes the stream, waits (bounded) for the server's close. */
  disconnect(): Promise<void>;
}

export interface SessionParams {
  account: ResolvedAccount;
  password: string;
  /** Send initial presence (needed to receive messages to the bare JID and offline messages). */
  presence: boolean;
  /** Reconnect after a loss (long-running commands); one-shot commands fail instead. */
  reconnect: boolean;
  /** Wire-log sink for `--debug`, already redacted by the library; the CLI sanitizes it. */
  debug: ((line: string) => void) | undefined;
  /** Aborts a connect in progress (Ctrl-C). */
  signal: AbortSignal;
}

/** Creates and connects a session; rejects with the library's typed error when the first attempt fails. */
export type SessionFactory = (params: SessionParams) => Promise<CliSession>;
