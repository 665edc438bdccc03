// An in-memory Transport and platform for dialogue tests: the test plays the server,
// scripting what it sends (`recv`) and asserting what the client wrote (`expect*`).
// No sockets, no timers of its own: every wait is on an event the client causes.

import assert from 'node:assert/strict';
import { ConfabError } from '../../src/errors.ts';
import type { Platform, TransportOptions } from '../../src/platform/types.ts';
import type {
  ChannelBindingType,
  StreamHeader,
  TlsInfo,
  Transport,
  TransportKind,
} from '../../src/transport/types.ts';
import type { Element } from '../../src/xml/element.ts';
import { parseXml } from '../../src/xml/parser.ts';
import { serialize } from '../../src/xml/serializer.ts';

export type Sent =
  | { kind: 'open'; header: StreamHeader }
  | { kind: 'element'; el: Element }
  | { kind: 'close' }
  | { kind: 'keepalive' }
  | { kind: 'starttls' }
  | { kind: 'destroy'; error: Error | undefined };

export interface MemoryConfig {
  /** TLS from the start (direct TLS / wss). Default true. */
  secure?: boolean;
  /** connect() rejects with this. */
  connectError?: Error;
  /** Names the "certificate" covers. Default: the domain and `*.domain`. */
  covers?: (host: string) => boolean;
  tlsProtocol?: string;
}

/** Parse server XML written in the test; unprefixed elements are in jabber:client. */
export function el(text: string): Element {
  const wrap = parseXml(
    `<wrap xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>${text}</wrap>`,
  );
  const first = wrap.elements()[0];
  assert.ok(first, `no element in ${text}`);
  return first;
}

/** An element as the client would put it on a c2s stream. */
export function wire(e: Element): string {
  return serialize(e, 'jabber:client');
}

export class MemoryTransport implements Transport {
  readonly kind: TransportKind;
  secure: boolean;
  tls: TlsInfo | undefined;
  bufferedAmount = 0;
  readonly sent: Sent[] = [];
  destroyed = false;
  connected = false;
  readonly options: TransportOptions;
  readonly #cfg: MemoryConfig;
  #read = 0;
  #wake: (() => void) | undefined;
  #streamCount = 0;

  constructor(options: TransportOptions, cfg: MemoryConfig = {}) {
    this.options = options;
    this.kind = options.kind;
    this.#cfg = cfg;
    this.secure = cfg.secure ?? true;
    this.tls = this.secure ? { protocol: cfg.tlsProtocol ?? 'TLSv1.3' } : undefined;
  }

  get domain(): string {
    return this.options.domain;
  }

  // ---- Transport (the client's side)
  async connect(): Promise<void> {
    if (this.#cfg.connectError) throw this.#cfg.connectError;
    this.connected = true;
  }
  openStream(header: StreamHeader): void {
    this.#push({ kind: 'open', header });
  }
  async send(e: Element): Promise<void> {
    if (this.destroyed) throw new ConfabError('ERR_SOCKET_CLOSED', 'memory transport destroyed');
    this.#push({ kind: 'element', el: e });
  }
  sendKeepalive(): void {
    this.#push({ kind: 'keepalive' });
  }
  async startTls(): Promise<void> {
    this.#push({ kind: 'starttls' });
    this.secure = true;
    this.tls = { protocol: this.#cfg.tlsProtocol ?? 'TLSv1.3' };
  }
  channelBinding(_type: ChannelBindingType): Uint8Array | undefined {
    return undefined;
  }
  certificateCovers(host: string): boolean {
    if (!this.secure) return false;
    if (this.#cfg.covers) return this.#cfg.covers(host);
    return host === this.domain || host.endsWith(`.${this.domain}`);
  }
  closeStream(): void {
    this.#push({ kind: 'close' });
  }
  destroy(error?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.#push({ kind: 'destroy', error });
    if (this.connected) queueMicrotask(() => this.options.handlers.closed(error));
  }

  // ---- the server's side
  /** The server opens its stream (default: version 1.0, a fresh id). */
  open(attrs: Record<string, string> = {}): void {
    this.#streamCount++;
    this.options.handlers.streamStart({
      from: this.domain,
      id: `stream-${this.#streamCount}`,
      version: '1.0',
      'xml:lang': 'en',
      ...attrs,
    });
  }
  /** The server sends an element (XML text or Element). */
  recv(x: string | Element): void {
    this.options.handlers.element(typeof x === 'string' ? el(x) : x);
  }
  /** The server closes its stream. */
  end(): void {
    this.options.handlers.streamEnd();
  }
  /** The socket dies. */
  drop(error: Error = new ConfabError('ERR_SOCKET_CLOSED', 'connection reset')): void {
    this.destroyed = true;
    this.options.handlers.closed(error);
  }

  /** The next thing the client did (waits for it). */
  async next(): Promise<Sent> {
    while (this.#read >= this.sent.length) {
      await new Promise<void>((r) => {
        this.#wake = r;
      });
    }
    return this.sent[this.#read++]!;
  }
  /** Skip keepalives; assert the next action's kind. */
  async expect<K extends Sent['kind']>(kind: K): Promise<Extract<Sent, { kind: K }>> {
    let s = await this.next();
    while (s.kind === 'keepalive' && kind !== 'keepalive') s = await this.next();
    assert.equal(s.kind, kind, `expected the client to ${kind}, it did ${JSON.stringify(describe(s))}`);
    return s as Extract<Sent, { kind: K }>;
  }
  /** The next element written, asserting its name. */
  async expectElement(name: string): Promise<Element> {
    const s = await this.expect('element');
    assert.equal(s.el.name, name, `expected <${name}>, got ${wire(s.el)}`);
    return s.el;
  }
  /** Everything written so far as text (debugging failed tests). */
  transcript(): string[] {
    return this.sent.map((s) => JSON.stringify(describe(s)));
  }

  #push(s: Sent): void {
    this.sent.push(s);
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }
}

function describe(s: Sent): unknown {
  return s.kind === 'element' ? wire(s.el) : s.kind === 'destroy' ? `destroy(${s.error?.message ?? ''})` : s;
}

/** A platform whose transports are MemoryTransports; `nextTransport()` hands each to the test. */
export class MemoryPlatform implements Platform {
  readonly name = 'memory';
  readonly transports: readonly TransportKind[] = ['tcp', 'websocket'];
  readonly created: MemoryTransport[] = [];
  #taken = 0;
  #wake: (() => void) | undefined;
  /** Config for the next transports, used up in order; the last one repeats. */
  configs: MemoryConfig[];

  constructor(...configs: MemoryConfig[]) {
    this.configs = configs.length ? configs : [{}];
  }

  createTransport(options: TransportOptions): Transport {
    const cfg = this.configs.length > 1 ? this.configs.shift()! : this.configs[0]!;
    const t = new MemoryTransport(options, cfg);
    this.created.push(t);
    this.#wake?.();
    return t;
  }

  async nextTransport(): Promise<MemoryTransport> {
    while (this.#taken >= this.created.length) {
      await new Promise<void>((r) => {
        this.#wake = r;
      });
    }
    return this.created[this.#taken++]!;
  }
}

export const FEATURES_PLAIN = `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`;
export const FEATURES_BIND = `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`;

export interface ServeOptions {
  /** The full JID the server binds (default: `${account}/${resource or 'srv'}`). */
  bound?: string;
  /** Features after auth (default: bind only). */
  postAuthFeatures?: string;
  /** Expect the initial presence (default true). */
  presence?: boolean;
  /** Expect STARTTLS first (the transport must start insecure). */
  starttls?: boolean;
}

/**
 * Play a server through a PLAIN login + bind on `t`. Returns the resource the client asked
 * for (undefined when it let the server choose).
 */
export async function serveLogin(
  t: MemoryTransport,
  account: string,
  o: ServeOptions = {},
): Promise<string | undefined> {
  await t.expect('open');
  t.open();
  if (o.starttls) {
    t.recv(
      `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>`,
    );
    const st = await t.expectElement('starttls');
    assert.equal(st.xmlns, 'urn:ietf:params:xml:ns:xmpp-tls');
    t.recv(`<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
    await t.expect('starttls');
    await t.expect('open');
    t.open();
  }
  t.recv(FEATURES_PLAIN);
  const auth = await t.expectElement('auth');
  assert.equal(auth.attr('mechanism'), 'PLAIN');
  t.recv(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
  await t.expect('open');
  t.open();
  t.recv(o.postAuthFeatures ?? FEATURES_BIND);
  const bind = await t.expectElement('iq');
  const resource = bind.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind')?.getChildText('resource');
  const bound = o.bound ?? `${account}/${resource ?? 'srv'}`;
  t.recv(
    `<iq type='result' id='${bind.attr('id')}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>${bound}</jid></bind></iq>`,
  );
  if (o.presence !== false) {
    const p = await t.expectElement('presence');
    assert.equal(p.attr('type'), undefined);
  }
  return resource;
}
