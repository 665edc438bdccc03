/** The CLI's view of files: HTTP upload (XEP-0363), out-of-band offers (XEP-0066), downloads. */

/** How far a transfer is (bytes). */
export interface FileProgress {
  transferred: number;
  total: number | undefined;
}

/** A file offered to us (XEP-0066 iq form); answer it exactly once. */
export interface CliOffer {
  /** The sender's full JID. */
  from: string;
  url: string;
  desc: string | undefined;
  /** Fetch into DIR under a safe name (never overwriting), then tell the sender; rejects when fetching failed. */
  accept(dir: string, onProgress?: (p: FileProgress) => void): Promise<{ path: string; size: number }>;
  /** Refuse (not-acceptable unless another condition is given). */
  reject(condition?: string): void;
}

export interface CliFiles {
  /** Uploads a local file (HTTP upload); rejects ERR_TOO_LARGE / ERR_UNSUPPORTED before sending anything. */
  upload(
    path: string,
    o?: { onProgress?: ((p: FileProgress) => void) | undefined; signal?: AbortSignal | undefined },
  ): Promise<{ url: string; name: string; size: number; type: string }>;
  /** Sends a link the way Conversations / Dino show files: body = URL, plus jabber:x:oob. Resolves once the server has it. */
  sendLink(to: string, url: string, desc: string | undefined): Promise<{ id: string }>;
  /** `jid` itself when it is a full JID; else the most available resource seen for it (needs presence), or undefined. */
  resolveResource(jid: string): string | undefined;
  /**
   * Serves a local file with the built-in server and offers it to a full JID; resolves when the
   * receiver accepted. Rejects with its stanza error (refused) or ERR_TIMEOUT after `wait` seconds.
   */
  offer(
    path: string,
    to: string,
    o: {
      bind: string;
      wait: number;
      desc?: string | undefined;
      onProgress?: ((p: FileProgress) => void) | undefined;
      signal?: AbortSignal | undefined;
    },
  ): Promise<{ url: string; size: number }>;
  /** Calls `listener` for every offer from now on; returns the teardown. Without a listener offers are refused. */
  onOffer(listener: (offer: CliOffer) => void): () => void;
}
