/**
 * The adapter from the CLI's session interface (session.ts) to the library's public API. The only
 * file of the CLI that knows `createClient`'s options and events.
 *
 * Delivery confirmation for `send`: after the message, an XEP-0199 ping to our server. A server
 * handles one client's stanzas in order (RFC 6120 10.1, "in-order processing"), so its answer (a
 * result, or an error reply: either proves the round trip) means the message was taken, with or
 * without stream management. A bounce of our message (`<message type='error'>` with our id) that
 * arrives before that answer fails the send with the XMPP condition.
 *
 * Specs: XEP-0203 v2.0 (delay, read from the stanza), XEP-0091 (legacy delay, read only),
 * XEP-0066 v1.5 (jabber:x:oob in messages), XEP-0199 v2.0 (ping).
 */
import { ConfabError, createClient, type Element, StanzaError, xml } from 'confab';
import type { CliSession, IncomingMessage, SessionFactory } from './session.ts';

const NS_PING = 'urn:xmpp:ping';
const NS_DELAY = 'urn:xmpp:delay';
const NS_LEGACY_DELAY = 'jabber:x:delay';
const NS_OOB = 'jabber:x:oob';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** XEP-0203 `stamp` (ISO 8601), or XEP-0091's `CCYYMMDDThh:mm:ss` (UTC). */
export function parseStamp(stamp: string | undefined): Date | undefined {
  if (!stamp) return undefined;
  const legacy = /^(\d{4})(\d{2})(\d{2})T(\d{2}:\d{2}:\d{2})$/.exec(stamp);
  const d = new Date(legacy ? `${legacy[1]}-${legacy[2]}-${legacy[3]}T${legacy[4]}Z` : stamp);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The CLI's view of an incoming `<message/>` element. */
export function readMessage(
  el: Element,
  base: {
    from: string | undefined;
    to: string | undefined;
    id: string | undefined;
    type: string | undefined;
  },
): IncomingMessage {
  const delayEl = el.getChild('delay', NS_DELAY) ?? el.getChild('x', NS_LEGACY_DELAY);
  return {
    ...base,
    body: el.getChildText('body'),
    subject: el.getChildText('subject'),
    thread: el.getChildText('thread'),
    delay: parseStamp(delayEl?.attr('stamp')),
    delayFrom: delayEl?.attr('from'),
    oob: el
      .getChildren('x', NS_OOB)
      .map((x) => ({ url: x.getChildText('url')?.trim() ?? '', desc: x.getChildText('desc') }))
      .filter((o) => o.url !== ''),
  };
}

/** The error carried by a bounced stanza (RFC 6120 8.3). */
function bounceError(el: Element): StanzaError {
  const err = el.getChild('error');
  const condition = err?.elements().find((c) => c.xmlns === NS_STANZAS && c.name !== 'text')?.name;
  const text = err?.getChildText('text', NS_STANZAS);
  return new StanzaError(`${el.attr('from') ?? 'the server'} refused the message`, {
    condition: condition ?? 'undefined-condition',
    type: err?.attr('type'),
    text,
    element: el,
  });
}

export const createSession: SessionFactory = async (p) => {
  const a = p.account;
  const domain = a.jid.slice(a.jid.indexOf('@') + 1);
  const client = createClient({
    jid: a.jid,
    password: p.password,
    resource: a.resource,
    host: a.host,
    port: a.port,
    directTls: a.directTls,
    websocket: a.websocket,
    tls: { caFile: a.ca, pin: a.pin },
    allowPlaintext: a.allowPlaintext,
    legacyAuth: a.legacyAuth,
    initialPresence: p.presence,
    reconnect: p.reconnect,
    debug: p.debug ?? false,
  });
  // Subscribed before connecting: offline messages follow our presence at once, and none may
  // slip past between `connect()` resolving and the command adding its listener. Held until then.
  const listeners = new Set<(m: IncomingMessage) => void>();
  let held: IncomingMessage[] | undefined = [];
  client.on('message', (msg) => {
    const m = readMessage(msg.element, { from: msg.from, to: msg.to, id: msg.id, type: msg.type });
    if (held) held.push(m);
    else for (const l of listeners) l(m);
  });
  const onAbort = () => void client.disconnect();
  p.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await client.connect();
  } finally {
    p.signal.removeEventListener('abort', onAbort);
  }

  const session: CliSession = {
    get jid() {
      return client.jid ?? a.jid;
    },

    async sendMessage(m) {
      let bounced: ((err: StanzaError) => void) | undefined;
      const bounce = new Promise<never>((_, reject) => {
        bounced = reject;
      });
      let id: string | undefined;
      const off = client.on('stanza', (el) => {
        if (
          el.name === 'message' &&
          el.attr('type') === 'error' &&
          id !== undefined &&
          el.attr('id') === id
        ) {
          bounced?.(bounceError(el));
        }
      });
      try {
        const sent = await client.messages.send({
          to: m.to,
          body: m.body,
          type: m.type,
          subject: m.subject,
          thread: m.thread,
        });
        id = sent.id;
        // `confirmed`: the server acked it (stream management) or answered a ping sent after it.
        await Promise.race([sent.confirmed, bounce]);
        return { id };
      } finally {
        off();
      }
    },

    onMessage(listener) {
      listeners.add(listener);
      const backlog = held;
      held = undefined;
      for (const m of backlog ?? []) listener(m);
      return () => listeners.delete(listener);
    },

    onFatal(listener) {
      return client.on('offline', (e) => {
        if (e.error) listener(e.error);
      });
    },

    disconnect() {
      return client.disconnect();
    },
  };
  return session;
};
