/**
 * A stream secured but not authenticated (RFC 6120 4.3 and 5, stopped before 6): what
 * in-band registration (XEP-0077 version 2.4, section 3.1.1 "Registration with a Server")
 * needs. The unregistered entity opens a fresh stream, registers, and the stream is closed;
 * a new one logs in with the new account.
 *
 * Nothing of the online session runs here (no pipeline, no stream management, no
 * keepalive): iq requests are written and their answers read on the Connection's pull
 * interface, matched by id and responder like negotiate.ts matches its iqs. Anything else
 * the server sends meanwhile is logged and skipped.
 */
import type { ConfabError } from '../errors.ts';
import type { Element } from '../xml/element.ts';
import type { Connection } from './connection.ts';
import { randomId } from './iq.ts';
import { parseStanzaError } from './stanza-error.ts';

export interface PreAuthStreamOptions {
  /** The server's domain: the only entity (besides no `from`) that may answer. */
  domain: string;
  /** The stream features of the secured stream (undefined from a pre-XMPP-1.0 server). */
  features: Element | undefined;
  /** Whether the stream is encrypted (false only when plaintext was allowed). */
  secure: boolean;
  /** Default milliseconds an iq waits for its answer. */
  timeout: number;
  /** How long `close()` waits for the server's `</stream:stream>`. */
  closeTimeout: number;
  log(line: string): void;
}

/** A secured, unauthenticated stream. Its owner closes it. */
export class PreAuthStream {
  readonly #c: Connection;
  readonly #o: PreAuthStreamOptions;
  /** One request at a time: answers are read in order from the pull interface. */
  #busy: Promise<unknown> = Promise.resolve();

  constructor(connection: Connection, options: PreAuthStreamOptions) {
    this.#c = connection;
    this.#o = options;
  }

  /** The server's domain. */
  get domain(): string {
    return this.#o.domain;
  }

  /** The features of the secured stream (e.g. `<register xmlns='http://jabber.org/features/iq-register'/>`). */
  get features(): Element | undefined {
    return this.#o.features;
  }

  /** Whether the stream is encrypted. */
  get secure(): boolean {
    return this.#o.secure;
  }

  /** Whether the connection is gone (closed by us, by the server, or lost). */
  get closed(): boolean {
    return this.#c.done;
  }

  /**
   * Send an iq get/set (an `id` is set here) and resolve with the result. Rejects with a
   * StanzaError (ERR_STANZA, with condition/type/text) on an error reply, ERR_TIMEOUT, or
   * the reason the connection ended.
   */
  iq(el: Element, timeout = this.#o.timeout): Promise<Element> {
    const run = this.#busy.then(
      () => this.#iq(el, timeout),
      () => this.#iq(el, timeout),
    );
    this.#busy = run.catch(() => {});
    return run;
  }

  async #iq(el: Element, timeout: number): Promise<Element> {
    const id = randomId();
    el.attrs.id = id;
    await this.#c.send(el);
    const deadline = Date.now() + timeout;
    const what = `answer to iq ${el.attr('type') ?? ''} <${el.elements()[0]?.name ?? ''}>`;
    for (;;) {
      const reply = await this.#c.next(Math.max(1, deadline - Date.now()), what);
      const type = reply.attr('type');
      if (!reply.is('iq') || reply.attr('id') !== id || (type !== 'result' && type !== 'error')) {
        this.#o.log(`skipped <${reply.name}> while waiting for iq ${id}`);
        continue;
      }
      // Before login only the server itself answers (no `from`, or its domain).
      const from = reply.attr('from');
      if (from !== undefined && from.toLowerCase() !== this.#o.domain.toLowerCase()) {
        this.#o.log(`ignored an answer to iq ${id} from '${from}'`);
        continue;
      }
      if (type === 'error') throw parseStanzaError(reply);
      return reply;
    }
  }

  /** Close the stream (our `</stream:stream>`, a bounded wait for the server's) and the socket. */
  async close(): Promise<void> {
    await this.#c.close(this.#o.closeTimeout);
  }

  /** Drop the connection at once. */
  destroy(err?: ConfabError): void {
    this.#c.destroy(err);
  }
}
