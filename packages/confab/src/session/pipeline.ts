/**
 * The inbound stanza pipeline: one ordered list, safe defaults
 * (RFC 6120 8.1 stanza attributes, 8.2.3 iq semantics, 10.1-10.5 addressing).
 *
 * Order, fixed:
 * 1. Origin checks. `from` and `to` must be well-formed JIDs and `to`, when
 *    present, must be us (our bare or full JID; for a message, any resource of our
 *    account: RFC 6121 8.5.3.2.1). A server never delivers anything else to a client, so a stanza failing this is dropped (and logged), never
 *    handed to features: features then trust `from` to be syntactically a JID.
 *    Feature-level trust (a roster push only from our own account, RFC 6121 2.1.6)
 *    stays with the feature, which knows its rule.
 * 2. iq result/error go to the request tracker (which checks the responder).
 * 3. iq get/set go to the handler registered for (type, payload namespace, payload
 *    name). None: `service-unavailable` (RFC 6120 8.4). A handler that throws a
 *    StanzaError answers with its condition; any other throw answers
 *    `internal-server-error` and the stream survives. An iq get/set without exactly
 *    one payload child is `bad-request` (8.2.3).
 * 4. Every stanza then goes through the stages features added (`use`), in order.
 */
import { StanzaError } from '../errors.ts';
import { bare, equalJid, jid, parseJid } from '../jid.ts';
import { Element, xml } from '../xml/element.ts';
import type { IqTracker } from './iq.ts';
import { iqErrorReply } from './stanza-error.ts';

/** An iq get/set as a handler sees it. */
export interface IqRequest {
  type: 'get' | 'set';
  id: string;
  /** Sender; undefined means our own account/server (RFC 6120 10.3.3). */
  from: string | undefined;
  /** The one payload child, e.g. `<ping xmlns='urn:xmpp:ping'/>`. */
  payload: Element;
  /** The whole stanza. */
  element: Element;
}

/**
 * Answers an iq get/set. Return the result payload (or nothing for an empty
 * result); throw a StanzaError to answer with that error.
 */
export type IqHandler = (
  request: IqRequest,
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler with no return (sync or async) means an empty result
) => Element | undefined | void | Promise<Element | undefined | void>;

/** A pipeline stage for features: return true to stop later stages seeing the stanza. */
export type Stage = (stanza: Element) => boolean | undefined;

export interface PipelineDeps {
  /** Send a reply. Failures are the connection's business, not the handler's. */
  send(el: Element): void;
  iq: IqTracker;
  /** Our bound JIDs. */
  self(): { full: string; bare: string };
  log(line: string): void;
  /** A handler threw something that is not a StanzaError (a bug in app or feature code). */
  onHandlerError(err: unknown, request: IqRequest): void;
}

export class Pipeline {
  readonly #deps: PipelineDeps;
  readonly #iqHandlers = new Map<string, IqHandler>();
  readonly #stages: Stage[] = [];

  constructor(deps: PipelineDeps) {
    this.#deps = deps;
  }

  /**
   * Register the handler for iq `type` requests whose payload is `<name xmlns=ns>`.
   * One handler per key (a second registration is a programming error and throws).
   * Returns the teardown.
   */
  handleIq(type: 'get' | 'set', ns: string, name: string, handler: IqHandler): () => void {
    const key = `${type} ${ns} ${name}`;
    if (this.#iqHandlers.has(key)) {
      throw new StanzaError(`An iq handler for ${key} is already registered`, { condition: 'conflict' });
    }
    this.#iqHandlers.set(key, handler);
    return () => {
      if (this.#iqHandlers.get(key) === handler) this.#iqHandlers.delete(key);
    };
  }

  /** Add a stage after the existing ones; returns the teardown. */
  use(stage: Stage): () => void {
    this.#stages.push(stage);
    return () => {
      const i = this.#stages.indexOf(stage);
      if (i >= 0) this.#stages.splice(i, 1);
    };
  }

  /** Run one inbound stanza (message, presence, iq in jabber:client) through the pipeline. */
  process(stanza: Element): void {
    if (!this.#originOk(stanza)) return;
    if (stanza.name === 'iq') {
      const type = stanza.attr('type');
      if (type === 'result' || type === 'error') {
        if (!this.#deps.iq.handle(stanza))
          this.#deps.log(`unmatched iq ${type} id=${stanza.attr('id') ?? ''}`);
      } else if (type === 'get' || type === 'set') {
        this.#request(stanza, type);
      } else {
        this.#deps.log(`dropped iq with bad type ${type ?? '(none)'}`);
        return;
      }
    }
    for (const stage of [...this.#stages]) {
      if (stage(stanza) === true) return;
    }
  }

  #originOk(stanza: Element): boolean {
    const from = stanza.attr('from');
    const to = stanza.attr('to');
    try {
      if (from !== undefined) parseJid(from);
      if (to !== undefined) {
        const self = this.#deps.self();
        // A message for another resource of ours is ours too: a server delivers a chat message
        // for a resource that went offline to the others, keeping its `to` (RFC 6121 8.5.3.2.1).
        const ours =
          equalJid(to, self.full) ||
          equalJid(to, self.bare) ||
          (stanza.name === 'message' && equalJid(bare(jid(to)), self.bare));
        if (!ours) {
          this.#deps.log(`dropped ${stanza.name} addressed to ${to}, not us`);
          return false;
        }
      }
    } catch {
      this.#deps.log(`dropped ${stanza.name} with a malformed address (from=${from ?? ''} to=${to ?? ''})`);
      return false;
    }
    return true;
  }

  #request(stanza: Element, type: 'get' | 'set'): void {
    const payloads = stanza.elements().filter((c) => c.name !== 'error');
    const id = stanza.attr('id');
    if (id === undefined) {
      this.#deps.log('dropped iq request without id'); // nowhere to send a reply to
      return;
    }
    const payload = payloads[0];
    if (payloads.length !== 1 || !payload) {
      this.#deps.send(iqErrorReply(stanza, 'bad-request'));
      return;
    }
    const handler = this.#iqHandlers.get(`${type} ${payload.xmlns} ${payload.name}`);
    if (!handler) {
      this.#deps.send(iqErrorReply(stanza, 'service-unavailable'));
      return;
    }
    const request: IqRequest = { type, id, from: stanza.attr('from'), payload, element: stanza };
    const reply = (result: unknown) =>
      this.#deps.send(
        xml('iq', { type: 'result', id, to: request.from }, result instanceof Element ? result : null),
      );
    const fail = (err: unknown) => {
      if (err instanceof StanzaError && err.condition) {
        this.#deps.send(iqErrorReply(stanza, err.condition, err.type as never, err.text));
      } else {
        this.#deps.onHandlerError(err, request);
        this.#deps.send(iqErrorReply(stanza, 'internal-server-error'));
      }
    };
    try {
      const out = handler(request);
      if (out instanceof Promise) out.then(reply, fail);
      else reply(out);
    } catch (err) {
      fail(err);
    }
  }
}
