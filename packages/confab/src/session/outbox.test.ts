// Outbox dialogue tests: ordering, persistence across a simulated restart, exactly-once with SM acks,
// ping confirmation without SM, the bound. The "server" here is a list of what reached it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfabError, StanzaError } from '../errors.ts';
import { MemoryStore } from '../store/memory.ts';
import { OUTBOX_LIST, type Store } from '../store/types.ts';
import type { Element } from '../xml/element.ts';
import { xml } from '../xml/element.ts';
import { parseXml } from '../xml/parser.ts';
import { serialize } from '../xml/serializer.ts';
import type { Clock } from './keepalive.ts';
import { Outbox, type OutboxMessage } from './outbox.ts';
import { NS_DELAY, NS_SID, StreamManagement } from './sm.ts';

const NS = 'urn:xmpp:sm:3';
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

const clock: Clock & { t: number } = {
  t: T0,
  now() {
    return this.t;
  },
  setTimeout: () => 0,
  clearTimeout: () => {},
};

const body = (el: Element): string | undefined => el.getChildText('body');
const msg = (text: string, id?: string): Element =>
  xml('message', { to: 'juliet@capulet.lit', type: 'chat', id }, xml('body', {}, text));

let ids = 0;
const newId = (): string => `id${++ids}`;

describe('outbox: queue and order', () => {
  it('queues while offline, sends in order once online, then sends new ones at once', async () => {
    const box = new Outbox({ store: new MemoryStore(), clock, newId });
    const wire: Element[] = [];
    const events: string[] = [];
    box.on('queued', (m) => events.push(`queued ${body(m.element)}`));
    box.on('sent', (m) => events.push(`sent ${body(m.element)}`));
    for (const t of ['a', 'b', 'c']) await box.enqueue(msg(t));
    assert.equal(wire.length, 0);
    box.online((el) => {
      wire.push(el);
    }, 'sm');
    await box.enqueue(msg('d'));
    assert.deepEqual(wire.map(body), ['a', 'b', 'c', 'd']);
    assert.deepEqual(events, [
      'queued a',
      'queued b',
      'queued c',
      'sent a',
      'sent b',
      'sent c',
      'queued d',
      'sent d',
    ]);
  });

  it('gives every message an id and an origin-id equal to it, keeping ids the app chose', async () => {
    const box = new Outbox({ newId: () => 'generated' });
    const a = await box.enqueue(msg('a', 'mine'));
    const b = await box.enqueue(msg('b'));
    assert.equal(a.id, 'mine');
    assert.equal(a.element.getChild('origin-id', NS_SID)?.attrs.id, 'mine');
    assert.equal(b.id, 'generated');
    assert.equal(b.element.attrs.id, 'generated');
    assert.equal(b.element.getChild('origin-id', NS_SID)?.attrs.id, 'generated');
    await assert.rejects(box.enqueue(msg('again', 'mine')), { code: 'ERR_BAD_INPUT' });
    await assert.rejects(box.enqueue(xml('presence')), { code: 'ERR_BAD_INPUT' });
  });

  it('is persisted before enqueue() resolves', async () => {
    const store = new MemoryStore();
    const box = new Outbox({ store, clock, newId });
    const m = await box.enqueue(msg('hello'));
    const items = await store.list(OUTBOX_LIST);
    assert.equal(items.length, 1);
    assert.equal(items[0]?.key, m.id);
    assert.deepEqual(items[0]?.value, { id: m.id, xml: serialize(m.element), queuedAt: T0 });
  });

  it('never writes a message to the wire before it is stored, nor a later one before it', async () => {
    // A store whose writes complete only when we say so (an async database).
    const inner = new MemoryStore();
    const gates: Array<() => void> = [];
    const slow: Store = {
      durable: true,
      get: (ns, k) => inner.get(ns, k),
      entries: (ns) => inner.entries(ns),
      list: (n) => inner.list(n),
      apply: (ops) => new Promise((res) => gates.push(() => res(inner.apply(ops)))),
    };
    const box = new Outbox({ store: slow, clock, newId });
    const wire: string[] = [];
    box.online((el) => {
      wire.push(body(el)!);
    }, 'ping');
    const pa = box.enqueue(msg('a'));
    const pb = box.enqueue(msg('b'));
    await Promise.resolve();
    assert.equal(gates.length, 2);
    gates[1]!(); // b is stored first
    await pb;
    assert.deepEqual(wire, [], 'b waits for a');
    gates[0]!();
    await pa;
    assert.deepEqual(wire, ['a', 'b']);
  });

  it('a sender that throws keeps the message and the order for the next connection', async () => {
    const box = new Outbox({ clock, newId });
    for (const t of ['a', 'b']) await box.enqueue(msg(t));
    box.online(() => {
      throw new Error('socket gone');
    }, 'ping');
    assert.deepEqual(
      box.messages().map((m) => m.status),
      ['queued', 'queued'],
    );
    box.offline();
    const wire: string[] = [];
    box.online((el) => {
      wire.push(body(el)!);
    }, 'ping');
    assert.deepEqual(wire, ['a', 'b']);
  });

  it('after a sender throws, later messages are not sent ahead of the one that failed', async () => {
    const box = new Outbox({ clock, newId });
    for (const t of ['a', 'b', 'c']) await box.enqueue(msg(t));
    const wire: string[] = [];
    let calls = 0;
    box.online((el) => {
      if (calls++ === 0) throw new Error('socket gone');
      wire.push(body(el)!);
    }, 'ping');
    assert.equal(wire.length, 0);
    box.offline();
    box.online((el) => {
      wire.push(body(el)!);
    }, 'ping');
    assert.deepEqual(wire, ['a', 'b', 'c']);
  });

  it('with SM, a drop leaves written messages with SM (no re-send from the outbox)', async () => {
    const box = new Outbox({ clock, newId });
    const wire: string[] = [];
    const sender = (el: Element): void => {
      wire.push(body(el)!);
    };
    box.online(sender, 'sm');
    const m = await box.enqueue(msg('a'));
    box.offline();
    assert.equal(m.status, 'sent');
    box.online(sender, 'sm'); // resumed: SM re-sends its tail itself
    assert.deepEqual(wire, ['a']);
    box.returned([m.id]); // ...or SM gives up and hands it back
    assert.deepEqual(wire, ['a', 'a']);
    assert.equal(m.attempts, 2);
  });

  it('handed-back messages go out again in enqueue order, ahead of newer ones, each once', async () => {
    const box = new Outbox({ clock, newId });
    const wire: string[] = [];
    let up = true;
    box.online((el) => {
      if (!up) throw new Error('no stream');
      wire.push(body(el)!);
    }, 'sm');
    const ms: OutboxMessage[] = [];
    for (const t of ['a', 'b', 'c', 'd', 'e']) ms.push(await box.enqueue(msg(t)));
    box.acked([ms[1]!.id, ms[3]!.id]); // b and d are done
    box.offline();
    up = false;
    await box.enqueue(msg('f')); // queued: no stream
    box.online((el) => {
      wire.push(body(el)!);
    }, 'sm');
    box.returned([ms[4]!.id, ms[0]!.id, ms[2]!.id]); // the SM session ended: a, c, e are back
    await box.enqueue(msg('g'));
    assert.deepEqual(wire, ['a', 'b', 'c', 'd', 'e', 'f', 'a', 'c', 'e', 'g']);
    assert.equal(box.unconfirmed, 5); // a c e f g
  });

  it('a sender that rejects puts the message back in the queue', async () => {
    const box = new Outbox({ clock, newId });
    box.online(() => Promise.reject(new Error('write failed')), 'ping');
    const sent: string[] = [];
    box.on('sent', (x) => sent.push(x.id));
    const m = await box.enqueue(msg('a'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, [m.id]);
    assert.equal(m.status, 'queued');
    assert.equal(box.size, 1);
  });
});

describe('outbox: bound', () => {
  it('refuses with ERR_OUTBOX_FULL at max, drops nothing, and takes more once confirmed', async () => {
    const store = new MemoryStore();
    const box = new Outbox({ store, clock, newId, max: 2 });
    const a = await box.enqueue(msg('a'));
    await box.enqueue(msg('b'));
    const err = await box.enqueue(msg('c')).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConfabError);
    assert.equal(err.code, 'ERR_OUTBOX_FULL');
    assert.equal(box.size, 2);
    assert.equal((await store.list(OUTBOX_LIST)).length, 2);
    box.online(() => {}, 'sm');
    box.acked([a.id]);
    await a.confirmed();
    await box.enqueue(msg('c'));
    assert.equal(box.size, 2);
  });

  it('counts concurrent enqueues against the bound', async () => {
    const box = new Outbox({ store: new MemoryStore(), clock, newId, max: 3 });
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => box.enqueue(msg(String(i)))));
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected'],
    );
  });
});

describe('outbox: confirmation without SM (ping round trip)', () => {
  it('confirms what was written before the ping, not what came after', async () => {
    const store = new MemoryStore();
    const box = new Outbox({ store, clock, newId });
    box.online(() => {}, 'ping');
    const a = await box.enqueue(msg('a'));
    const b = await box.enqueue(msg('b'));
    const point = box.checkpoint(); // ping goes out now
    const c = await box.enqueue(msg('c'));
    const acked: string[] = [];
    box.on('acked', (m) => acked.push(body(m.element)!));
    box.confirmThrough(point); // pong
    await Promise.all([a.confirmed(), b.confirmed()]);
    assert.deepEqual(acked, ['a', 'b']);
    assert.equal(c.status, 'sent');
    assert.deepEqual(
      (await store.list(OUTBOX_LIST)).map((x) => x.key),
      [c.id],
    );
  });

  it('after a drop, unconfirmed messages are sent again, marked late, same origin-id', async () => {
    const box = new Outbox({ clock, newId });
    box.online(() => {}, 'ping');
    const m = await box.enqueue(msg('a'));
    box.offline();
    assert.equal(m.status, 'queued');
    clock.t += 60_000;
    const wire: Element[] = [];
    box.online((el) => {
      wire.push(el);
    }, 'ping');
    assert.equal(wire.length, 1);
    const el = wire[0]!;
    assert.equal(el.getChild('delay', NS_DELAY)?.attrs.stamp, new Date(m.queuedAt).toISOString());
    assert.equal(el.getChild('origin-id', NS_SID)?.attrs.id, m.id);
    assert.equal(el.attrs.id, m.id);
    assert.equal(m.attempts, 2);
    // A point taken on the old connection cannot confirm the re-send before it.
    box.confirmThrough(0);
    assert.equal(m.status, 'sent');
  });

  it('a bounced message fails: confirmed() rejects, it leaves the store, a late ack is ignored', async () => {
    const store = new MemoryStore();
    const box = new Outbox({ store, clock, newId });
    box.online(() => {}, 'sm');
    const m = await box.enqueue(msg('a'));
    const failed: OutboxMessage[] = [];
    box.on('failed', (x) => failed.push(x));
    const waiting = m.confirmed();
    const err = new StanzaError('recipient unavailable', {
      condition: 'service-unavailable',
      type: 'cancel',
    });
    assert.equal(box.failed(m.id, err), true);
    await assert.rejects(waiting, (e) => e === err);
    assert.equal(m.status, 'failed');
    assert.equal(failed.length, 1);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(await store.list(OUTBOX_LIST), []);
    box.acked([m.id]);
    assert.equal(m.status, 'failed');
    assert.equal(box.failed('nope', err), false);
  });

  it('nobody asking about an outcome means no unhandled rejection', async () => {
    const box = new Outbox({ clock, newId });
    const m = await box.enqueue(msg('a'));
    box.failed(m.id, new ConfabError('ERR_STANZA', 'bounced'));
    await new Promise((r) => setImmediate(r));
    await assert.rejects(m.confirmed(), { code: 'ERR_STANZA' });
  });
});

// ---------------------------------------------------------------------------
// SM + outbox, wired the way the session will wire them, against a scripted server.

/** What the server has taken (stanzas it counted) and its h. */
class FakeServer {
  got: Element[] = [];
  get h(): number {
    return this.got.length;
  }
  bodies(): string[] {
    return this.got.filter((e) => e.name === 'message').map((e) => body(e)!);
  }
}

/** One client process: its own SM and outbox on the given store. */
class Client {
  sm: StreamManagement;
  box: Outbox;
  /** Stanzas written on the current connection, not yet delivered to the server. */
  inFlight: Element[] = [];
  constructor(readonly store: Store) {
    this.sm = new StreamManagement({ store, clock });
    this.box = new Outbox({ store, clock, newId });
  }
  static async start(store: Store): Promise<Client> {
    const c = new Client(store);
    await c.sm.load();
    await c.box.load(c.sm.pendingAppIds());
    return c;
  }
  /** The session's send path: track, wait for the record, write. */
  readonly sender = async (el: Element, id: string): Promise<void> => {
    const r = this.sm.track(el, id);
    if (this.sm.saving) await this.sm.saved();
    this.inFlight.push(el);
    if (r) this.inFlight.push(r);
  };
  /** Fresh session: bind, enable, re-send what SM gave back, go online. */
  freshSession(server: FakeServer): void {
    this.sm.enableElement(true);
    this.sm.onEnabled(parseXml(`<enabled xmlns='${NS}' id='sess-${ids++}' resume='true'/>`));
    void server;
    this.box.online(this.sender, 'sm');
  }
  /** The server takes the first `n` stanzas in flight (the rest die with the connection). */
  deliver(server: FakeServer, n = Number.POSITIVE_INFINITY): void {
    let taken = 0;
    while (this.inFlight.length > 0 && taken < n) {
      const el = this.inFlight.shift()!;
      if (el.xmlns === NS) continue; // <r/>: nonzas are not counted
      server.got.push(el);
      taken++;
    }
  }
  /** The server acks h (and the session tells the outbox). */
  ack(h: number): void {
    const r = this.sm.receive(parseXml(`<a xmlns='${NS}' h='${h}'/>`));
    assert.equal(r.type, 'acked');
    if (r.type === 'acked') this.box.acked(r.acked.map((a) => a.appId));
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

describe('outbox + SM: exactly once across a restart', () => {
  /** Run 1: four messages; the server takes two, acks one; the fourth was never written; crash. */
  async function firstRun(
    store: Store,
  ): Promise<{ server: FakeServer; serverH: number; ids: string[]; startedAt: number }> {
    const startedAt = clock.t;
    const server = new FakeServer();
    const c = await Client.start(store);
    c.freshSession(server);
    const m = [];
    for (const t of ['m1', 'm2', 'm3']) m.push(await c.box.enqueue(msg(t)));
    await settle();
    c.deliver(server, 2); // m3 is lost in the network
    c.ack(1);
    c.box.offline();
    c.sm.detach();
    m.push(await c.box.enqueue(msg('m4'))); // offline: queued only
    await settle();
    // kill -9: the objects are gone; only the store remains.
    return { server, serverH: server.h, ids: m.map((x) => x.id), startedAt };
  }

  it('resumed: SM re-sends only what the server lacks, the outbox sends only the never-sent', async () => {
    const store = new MemoryStore();
    const { server, serverH } = await firstRun(store);
    const c = await Client.start(store);
    assert.deepEqual(
      c.box.messages().map((m) => [body(m.element), m.status]),
      [
        ['m2', 'sent'],
        ['m3', 'sent'],
        ['m4', 'queued'],
      ],
    );
    assert.equal(c.sm.canResume(), true);
    c.sm.resumeElement();
    const r = c.sm.onResumed(parseXml(`<resumed xmlns='${NS}' previd='${c.sm.id}' h='${serverH}'/>`));
    assert.ok(r.ok);
    c.box.acked(r.acked.map((a) => a.appId));
    c.inFlight.push(...r.resend);
    c.box.online(c.sender, 'sm');
    await settle();
    c.deliver(server);
    assert.deepEqual(server.bodies(), ['m1', 'm2', 'm3', 'm4']);
    c.ack(4);
    await settle();
    assert.equal(c.box.size, 0);
    assert.deepEqual(await store.list(OUTBOX_LIST), []);
    // A third start finds nothing to send.
    const d = await Client.start(store);
    assert.equal(d.box.size, 0);
    assert.equal(d.sm.unackedCount, 0);
  });

  it('resumption refused (with h): acked ones are dropped, the rest re-sent once, marked', async () => {
    const store = new MemoryStore();
    const { server, serverH, ids: sentIds, startedAt } = await firstRun(store);
    clock.t += 5000;
    const c = await Client.start(store);
    c.sm.resumeElement();
    const f = c.sm.onFailed(
      parseXml(
        `<failed xmlns='${NS}' h='${serverH}'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`,
      ),
    );
    c.box.acked(f.acked.map((a) => a.appId));
    c.box.returned(f.returned);
    assert.deepEqual(f.resend, []);
    c.freshSession(server);
    await settle();
    c.deliver(server);
    assert.deepEqual(server.bodies(), ['m1', 'm2', 'm3', 'm4']);
    // Re-sent ones carry the origin-id (= id) and the time the app sent them.
    const m3 = server.got[2]!;
    assert.equal(m3.getChild('origin-id', NS_SID)?.attrs.id, sentIds[2]);
    assert.equal(m3.getChild('delay', NS_DELAY)?.attrs.stamp, new Date(startedAt).toISOString());
    c.ack(2);
    await settle();
    assert.deepEqual(await store.list(OUTBOX_LIST), []);
  });

  it('resumption refused without h: at-least-once, and the duplicate is recognizable', async () => {
    const store = new MemoryStore();
    const { server } = await firstRun(store);
    const c = await Client.start(store);
    c.sm.resumeElement();
    const f = c.sm.onFailed(parseXml(`<failed xmlns='${NS}'/>`));
    c.box.returned(f.returned);
    c.freshSession(server);
    await settle();
    c.deliver(server);
    assert.deepEqual(server.bodies(), ['m1', 'm2', 'm2', 'm3', 'm4']);
    const [first, dup] = server.got.filter((e) => body(e) === 'm2');
    assert.equal(
      first!.getChild('origin-id', NS_SID)?.attrs.id,
      dup!.getChild('origin-id', NS_SID)?.attrs.id,
    );
  });

  it('a message acked before the crash is never sent again', async () => {
    const store = new MemoryStore();
    const server = new FakeServer();
    const a = await Client.start(store);
    a.freshSession(server);
    await a.box.enqueue(msg('once'));
    await settle();
    a.deliver(server);
    a.ack(1);
    // crash right after the ack, before anything else
    const b = await Client.start(store);
    assert.equal(b.box.size, 0);
    b.sm.resumeElement();
    const r = b.sm.onResumed(parseXml(`<resumed xmlns='${NS}' previd='${b.sm.id}' h='1'/>`));
    assert.ok(r.ok && r.resend.length === 0);
    b.box.online(b.sender, 'sm');
    await settle();
    b.deliver(server);
    assert.deepEqual(server.bodies(), ['once']);
  });

  it('a message the server took but did not ack yet is not sent twice after a resumed restart', async () => {
    const store = new MemoryStore();
    const server = new FakeServer();
    const a = await Client.start(store);
    a.freshSession(server);
    await a.box.enqueue(msg('x'));
    await settle();
    a.deliver(server); // on the wire and handled, no ack seen
    const b = await Client.start(store);
    assert.deepEqual(
      b.box.messages().map((m) => m.status),
      ['sent'],
    );
    b.sm.resumeElement();
    const r = b.sm.onResumed(parseXml(`<resumed xmlns='${NS}' previd='${b.sm.id}' h='${server.h}'/>`));
    assert.ok(r.ok);
    b.box.acked(r.acked.map((x) => x.appId));
    b.box.online(b.sender, 'sm');
    await settle();
    b.deliver(server);
    assert.deepEqual(server.bodies(), ['x']);
    assert.equal(b.box.size, 0);
  });
});
