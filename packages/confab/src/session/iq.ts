/**
 * iq request/response correlation (RFC 6120 section 8.2.3, "IQ Semantics", and
 * 8.1.2.1 / 10.1 on addressing the replies).
 *
 * Every request gets a fresh id that is unique among pending requests and
 * unpredictable (random bytes from `crypto.getRandomValues`), so another entity
 * cannot pre-compute a reply. Pending requests live in a Map by id; a reply is
 * accepted only when its `from` is an allowed responder for that request:
 * - sent to someone else: the reply must come from exactly that address;
 * - sent to the server (no `to`, or our domain) or to our own bare JID: the reply
 *   may come from the server domain, our bare JID, or carry no `from` (servers
 *   differ; RFC 6120 10.1.1 and 10.1.2 say these all mean "the server/account").
 * A reply from anyone else is ignored and the request stays pending: never resolve
 * with a spoofed answer (Smack CVE-2014-0364), never resolve "the next stanza"
 * (xmpp.js #1090). Every request times out, is removed when the send fails, can be
 * cancelled with an AbortSignal, and is rejected when the connection goes away.
 */
import { ConfabError } from '../errors.ts';
import { equalJid } from '../jid.ts';
import type { Element } from '../xml/element.ts';
import { parseStanzaError } from './stanza-error.ts';

/** Options for one iq request. */
export interface IqRequestOptions {
  /** Milliseconds until the request fails with ERR_TIMEOUT (default: the client's iq timeout). */
  timeout?: number | undefined;
  /** Cancels the request (rejects with ERR_ABORTED); a late reply is then ignored. */
  signal?: AbortSignal | undefined;
}

/** Who we are, to apply the responder rules. */
export interface IqSelf {
  /** Our bare JID, e.g. `juliet@example.com`. */
  bare: string;
  /** Our server's domain. */
  domain: string;
}

export interface IqTrackerDeps {
  /** Write the request; rejects when it cannot be written. */
  send(el: Element): Promise<void>;
  /** Our identity now (it is known after bind, before any app request). */
  self(): IqSelf;
  /** Default timeout in milliseconds. */
  timeout: number;
  /** Debug log. */
  log?: ((line: string) => void) | undefined;
}

interface Pending {
  to: string | undefined;
  resolve(el: Element): void;
  reject(err: Error): void;
  cleanup(): void;
}

// Random bytes are drawn from a pool filled 4 KiB at a time: one `getRandomValues` call
// costs ~3 us in Node (a native job), more than the rest of sending a message; an id
// per message made it ~20% of the sender's CPU. Each byte is still used once, so ids
// stay unpredictable.
const POOL = new Uint8Array(4096);
let poolAt = POOL.length;
/** base64url alphabet (RFC 4648 section 5) as char codes. */
const B64URL = Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', (c) =>
  c.charCodeAt(0),
);

/** Offset of `n` fresh random bytes in POOL. */
function poolBytes(n: number): number {
  if (poolAt + n > POOL.length) {
    crypto.getRandomValues(POOL);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += n;
  return at;
}

/** base64url of `n` random bytes, unpadded: 12 bytes -> 16 characters, 96 bits of entropy. */
export function randomId(n = 12): string {
  if (n > POOL.length) throw new RangeError(`randomId: at most ${POOL.length} bytes`);
  let i = poolBytes(n);
  const end = i + n;
  // Char codes, then one String.fromCharCode: a flat string (`+=` would build a rope that
  // stays a tree of cons cells as long as the id is kept, e.g. in an element's attrs).
  const out: number[] = new Array(Math.ceil((n * 4) / 3));
  let j = 0;
  for (; i + 3 <= end; i += 3) {
    const v = (POOL[i]! << 16) | (POOL[i + 1]! << 8) | POOL[i + 2]!;
    out[j++] = B64URL[v >> 18]!;
    out[j++] = B64URL[(v >> 12) & 63]!;
    out[j++] = B64URL[(v >> 6) & 63]!;
    out[j++] = B64URL[v & 63]!;
  }
  if (end - i === 1) {
    const v = POOL[i]!;
    out[j++] = B64URL[v >> 2]!;
    out[j++] = B64URL[(v & 3) << 4]!;
  } else if (end - i === 2) {
    const v = (POOL[i]! << 8) | POOL[i + 1]!;
    out[j++] = B64URL[v >> 10]!;
    out[j++] = B64URL[(v >> 4) & 63]!;
    out[j++] = B64URL[(v & 15) << 2]!;
  }
  return String.fromCharCode.apply(null, out);
}

export class IqTracker {
  readonly #pending = new Map<string, Pending>();
  readonly #deps: IqTrackerDeps;

  constructor(deps: IqTrackerDeps) {
    this.#deps = deps;
  }

  /** Requests awaiting a reply. */
  get size(): number {
    return this.#pending.size;
  }

  /** True while a request with this id awaits its reply (the parser's size hook asks). */
  awaiting(id: string): boolean {
    return this.#pending.has(id);
  }

  /**
   * Send an iq get/set and resolve with the `result` stanza. An `error` reply
   * rejects with StanzaError. The element's `id` is replaced by a fresh one.
   */
  request(el: Element, options: IqRequestOptions = {}): Promise<Element> {
    const type = el.attr('type');
    if (!el.is('iq') || (type !== 'get' && type !== 'set')) {
      return Promise.reject(new ConfabError('ERR_BAD_INPUT', "iq requests are <iq type='get'|'set'>"));
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    let id = randomId();
    while (this.#pending.has(id)) id = randomId();
    el.attrs.id = id;
    const timeout = options.timeout ?? this.#deps.timeout;

    return new Promise<Element>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => finish(() => reject(abortError(signal!)));
      const cleanup = () => {
        this.#pending.delete(id);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      // Every exit goes through finish(), so the entry, the timer and the abort
      // listener are always released together.
      const finish = (settle: () => void) => {
        if (!this.#pending.has(id)) return;
        cleanup();
        settle();
      };
      this.#pending.set(id, {
        to: el.attr('to'),
        resolve: (r) => finish(() => resolve(r)),
        reject: (e) => finish(() => reject(e)),
        cleanup,
      });
      if (timeout > 0 && Number.isFinite(timeout)) {
        timer = setTimeout(
          () =>
            finish(() =>
              reject(
                new ConfabError(
                  'ERR_TIMEOUT',
                  `No reply to iq ${id}${el.attr('to') ? ` to ${el.attr('to')}` : ''} within ${timeout} ms`,
                ),
              ),
            ),
          timeout,
        );
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#deps.send(el).catch((err: unknown) => {
        finish(() => reject(err instanceof Error ? err : new ConfabError('ERR_SOCKET_CLOSED', String(err))));
      });
    });
  }

  /**
   * Offer an inbound iq result/error. Returns true when it answered a pending
   * request from an allowed responder (and settled it); false otherwise, in which
   * case the request (if any) stays pending.
   */
  handle(el: Element): boolean {
    const type = el.attr('type');
    if (type !== 'result' && type !== 'error') return false;
    const id = el.attr('id');
    if (id === undefined) return false;
    const pending = this.#pending.get(id);
    if (!pending) return false;
    if (!this.#allowedResponder(pending.to, el.attr('from'))) {
      this.#deps.log?.(`ignored iq ${type} for ${id} from unexpected ${el.attr('from') ?? '(none)'}`);
      return false;
    }
    if (type === 'result') pending.resolve(el);
    else pending.reject(parseStanzaError(el));
    return true;
  }

  /** Reject every pending request (connection lost, client disconnected). */
  rejectAll(err: Error): void {
    for (const p of [...this.#pending.values()]) p.reject(err);
  }

  #allowedResponder(to: string | undefined, from: string | undefined): boolean {
    const self = this.#deps.self();
    const toServerOrSelf = to === undefined || same(to, self.domain) || same(to, self.bare);
    if (toServerOrSelf) {
      return from === undefined || same(from, self.domain) || same(from, self.bare);
    }
    return from !== undefined && same(from, to);
  }
}

function same(a: string, b: string): boolean {
  try {
    return equalJid(a, b);
  } catch {
    return false; // a malformed JID is never an allowed responder
  }
}

function abortError(signal: AbortSignal): ConfabError {
  return new ConfabError('ERR_ABORTED', 'iq request aborted', { cause: signal.reason });
}
