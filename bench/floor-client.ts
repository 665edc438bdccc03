/**
 * The "no library" floor of bench/session.ts: the least a Node program can do to be an online XMPP
 * client, so every library is measured against what the protocol itself costs.
 *
 * RFC 6120 (XMPP Core): stream header, STARTTLS (section 5), SASL (section 6), resource binding
 * (section 7); RFC 5802 (SCRAM-SHA-1, with the server signature verified); RFC 7590 (TLS verified for
 * the JID's domain, sent as SNI). No XML parser: the few replies of the login are found by substring
 * search, and incoming messages are counted by their closing tag. No stream management, no
 * keepalive, no error handling beyond failing the promise: it is a yardstick, not a client.
 */

import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';

export interface FloorOptions {
  /** Bare JID, `user@domain`. */
  jid: string;
  password: string;
  host: string;
  /** The STARTTLS c2s port. */
  port: number;
  /** PEM text of the CA to trust (verification stays on). */
  ca: string;
}

const NS_STREAM = "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'";
const MESSAGE_END = '</message>';

const escapeText = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (s: string): string => escapeText(s).replace(/'/g, '&apos;');
const xor = (a: Buffer, b: Buffer): Buffer => {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
};

/** One floor connection. `connect()` resolves once bound with initial presence sent. */
export class FloorClient {
  readonly #o: FloorOptions;
  readonly #domain: string;
  readonly #user: string;
  #socket: Socket | TLSSocket | undefined;
  /** Text not yet consumed during the login. */
  #buf = '';
  #waiter: { needle: string; resolve: (before: string) => void; reject: (e: Error) => void } | undefined;
  /** After login: incoming text is only scanned for message ends; the last few characters are kept. */
  #counting = false;
  #tail = '';
  #closed: Promise<void> | undefined;
  /** Full JID once bound. */
  jid = '';
  /** Messages received since online. */
  received = 0;
  /** Called on every received message (after `received` is incremented). */
  onMessage: (() => void) | undefined;

  constructor(o: FloorOptions) {
    this.#o = o;
    const at = o.jid.indexOf('@');
    this.#user = o.jid.slice(0, at);
    this.#domain = o.jid.slice(at + 1);
  }

  #onData = (chunk: string): void => {
    if (this.#counting) {
      const s = this.#tail + chunk;
      let n = 0;
      for (let i = s.indexOf(MESSAGE_END); i !== -1; i = s.indexOf(MESSAGE_END, i + MESSAGE_END.length)) n++;
      this.#tail = s.slice(-(MESSAGE_END.length - 1));
      for (let k = 0; k < n; k++) {
        this.received++;
        this.onMessage?.();
      }
      return;
    }
    this.#buf += chunk;
    this.#check();
  };

  #check(): void {
    const w = this.#waiter;
    if (!w) return;
    const i = this.#buf.indexOf(w.needle);
    if (i === -1) {
      if (this.#buf.includes('<failure') || this.#buf.includes('<stream:error')) {
        this.#waiter = undefined;
        w.reject(new Error(`floor: server said ${this.#buf.slice(0, 300)}`));
      }
      return;
    }
    const before = this.#buf.slice(0, i + w.needle.length);
    this.#buf = this.#buf.slice(i + w.needle.length);
    this.#waiter = undefined;
    w.resolve(before);
  }

  /** Resolves with everything up to and including `needle`. */
  #until(needle: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#waiter = { needle, resolve, reject };
      this.#check();
    });
  }

  #attach(s: Socket | TLSSocket): void {
    this.#socket = s;
    s.setEncoding('utf8');
    s.on('data', this.#onData);
    s.on('error', (e: Error) => {
      const w = this.#waiter;
      this.#waiter = undefined;
      w?.reject(e);
    });
  }

  #header(): void {
    this.#socket?.write(`<?xml version='1.0'?><stream:stream to='${this.#domain}' ${NS_STREAM}>`);
  }

  async connect(): Promise<void> {
    const plain = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect({ host: this.#o.host, port: this.#o.port, noDelay: true }, () => resolve(s));
      s.once('error', reject);
    });
    this.#attach(plain);
    this.#header();
    await this.#until('</stream:features>');
    plain.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    await this.#until('<proceed');
    // RFC 6120 5.4.3.3: whatever the server sent before TLS is discarded.
    plain.removeListener('data', this.#onData);
    this.#buf = '';
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const t = tlsConnect({ socket: plain, servername: this.#domain, ca: this.#o.ca }, () => resolve(t));
      t.once('error', reject);
    });
    this.#attach(secure);
    this.#header();
    await this.#until('</stream:features>');

    // SCRAM-SHA-1 (RFC 5802), gs2 header 'n,,': no channel binding.
    const nonce = randomBytes(18).toString('base64');
    const clientFirstBare = `n=${this.#user},r=${nonce}`;
    secure.write(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>${Buffer.from(`n,,${clientFirstBare}`).toString('base64')}</auth>`,
    );
    const challenge = await this.#until('</challenge>');
    const serverFirst = Buffer.from(
      challenge.slice(challenge.indexOf('>', challenge.indexOf('<challenge')) + 1, -'</challenge>'.length),
      'base64',
    ).toString();
    const attrs = new Map(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)] as const));
    const r = attrs.get('r') ?? '';
    const iterations = Number(attrs.get('i'));
    if (!r.startsWith(nonce) || !(iterations >= 4096))
      throw new Error(`floor: bad server-first ${serverFirst}`);
    const salted = pbkdf2Sync(
      this.#o.password,
      Buffer.from(attrs.get('s') ?? '', 'base64'),
      iterations,
      20,
      'sha1',
    );
    const clientKey = createHmac('sha1', salted).update('Client Key').digest();
    const storedKey = createHash('sha1').update(clientKey).digest();
    const finalBare = `c=biws,r=${r}`;
    const authMessage = `${clientFirstBare},${serverFirst},${finalBare}`;
    const proof = xor(clientKey, createHmac('sha1', storedKey).update(authMessage).digest());
    secure.write(
      `<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from(`${finalBare},p=${proof.toString('base64')}`).toString('base64')}</response>`,
    );
    const success = await this.#until('</success>');
    const serverFinal = Buffer.from(
      success.slice(success.indexOf('>', success.indexOf('<success')) + 1, -'</success>'.length),
      'base64',
    ).toString();
    const serverKey = createHmac('sha1', salted).update('Server Key').digest();
    const expected = createHmac('sha1', serverKey).update(authMessage).digest('base64');
    if (serverFinal !== `v=${expected}`) throw new Error('floor: server signature mismatch');

    this.#header();
    await this.#until('</stream:features>');
    secure.write("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
    const bound = await this.#until('</iq>');
    const j = bound.indexOf('<jid>');
    if (j === -1) throw new Error(`floor: bind failed: ${bound}`);
    this.jid = bound.slice(j + 5, bound.indexOf('</jid>', j));
    this.#closed = new Promise<void>((resolve) => secure.once('close', () => resolve()));
    secure.write('<presence/>');
    // From here on only messages are counted (presence and the rest pass unparsed).
    this.#counting = true;
    this.#tail = this.#buf.slice(-(MESSAGE_END.length - 1));
    this.#buf = '';
  }

  /**
   * Send a chat message. Resolves at once, or when the socket has drained if its buffer is full
   * (the backpressure every client must respect).
   */
  send(to: string, body: string, id: string): Promise<void> | undefined {
    const ok = (this.#socket as TLSSocket).write(
      `<message to='${escapeAttr(to)}' type='chat' id='${id}'><body>${escapeText(body)}</body></message>`,
    );
    if (ok) return undefined;
    return new Promise((resolve) => this.#socket?.once('drain', resolve));
  }

  /** Close the stream, wait (bounded) for the server's close, drop the socket. */
  async disconnect(): Promise<void> {
    const s = this.#socket;
    if (!s || s.destroyed) return;
    s.write('</stream:stream>');
    s.end();
    await Promise.race([this.#closed, new Promise((r) => setTimeout(r, 2000).unref())]);
    s.destroy();
  }
}
