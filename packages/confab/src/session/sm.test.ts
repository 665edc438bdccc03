// Dialogue tests for stream management (XEP-0198 1.6.3): what the server says, what we answer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../store/memory.ts';
import { SM_NS, SM_STATE_KEY, SM_UNACKED_LIST, type SmStateRecord, type Store } from '../store/types.ts';
import type { Element } from '../xml/element.ts';
import { xml } from '../xml/element.ts';
import { parseXml } from '../xml/parser.ts';
import { serialize } from '../xml/serializer.ts';
import type { Clock } from './keepalive.ts';
import { NS_DELAY, NS_SID, type SmOptions, StreamManagement } from './sm.ts';

const NS = 'urn:xmpp:sm:3';
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

/** A clock whose time and timers move only when told to. */
class FakeClock implements Clock {
  t = T0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const h = this.#next++;
    this.#timers.set(h, { at: this.t + ms, fn });
    return h;
  }
  clearTimeout(h: unknown): void {
    this.#timers.delete(h as number);
  }
  get pending(): number {
    return this.#timers.size;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.#timers].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

const S = (text: string): Element => parseXml(text);
const w = (el: Element | undefined): string | undefined => (el ? serialize(el) : undefined);
const msg = (n: number | string, id?: string): Element =>
  xml('message', { to: 'juliet@capulet.lit', type: 'chat', id }, xml('body', {}, `m${n}`));

function make(opts: SmOptions = {}): { sm: StreamManagement; clock: FakeClock; requests: Element[] } {
  const clock = (opts.clock as FakeClock | undefined) ?? new FakeClock();
  const requests: Element[] = [];
  const sm = new StreamManagement({ clock, sendAckRequest: (r) => requests.push(r), ...opts });
  return { sm, clock, requests };
}

/** enable + enabled(resume), as after bind. */
function enabled(sm: StreamManagement, attrs = "id='some-long-sm-id' resume='true'"): void {
  sm.enableElement(true);
  sm.onEnabled(S(`<enabled xmlns='${NS}' ${attrs}/>`), { jid: 'romeo@montague.lit/orchard' });
}

describe('enable / enabled', () => {
  it('asks for resumption and reads id, resume, max and location', () => {
    const { sm } = make({ maxResume: 300 });
    assert.equal(w(sm.enableElement(true)), `<enable xmlns='${NS}' resume='true' max='300'/>`);
    assert.equal(w(make().sm.enableElement(false)), `<enable xmlns='${NS}'/>`);
    const info = sm.onEnabled(
      S(
        `<enabled xmlns='${NS}' id='some-long-sm-id' location='[2001:41D0:1:A49b::1]:9222' resume='1' max='600'/>`,
      ),
      { jid: 'romeo@montague.lit/orchard' },
    );
    assert.deepEqual(info, {
      id: 'some-long-sm-id',
      resume: true,
      max: 600,
      location: '[2001:41D0:1:A49b::1]:9222',
    });
    assert.equal(sm.enabled, true);
    assert.equal(sm.resumable, true);
    assert.equal(sm.jid, 'romeo@montague.lit/orchard');
    assert.equal(sm.location, '[2001:41D0:1:A49b::1]:9222');
  });

  it('an id without resume (1.6.2) is not resumable; neither is resume without an id', () => {
    const a = make().sm;
    enabled(a, "id='x'");
    assert.equal(a.resumable, false);
    assert.equal(a.canResume(), false);
    assert.throws(() => a.resumeElement(), { code: 'ERR_BAD_INPUT' });
    const b = make().sm;
    enabled(b, "resume='true'");
    assert.equal(b.resumable, false);
  });

  it('counts nothing before enable, and refuses a new enable while stanzas are unacked', () => {
    const { sm } = make();
    assert.equal(sm.track(msg(1)), undefined);
    assert.equal(sm.receive(msg(2)).type, 'pass');
    assert.equal(sm.unackedCount, 0);
    assert.equal(sm.inboundCount, 0);
    enabled(sm);
    sm.track(msg(3));
    assert.throws(() => sm.enableElement(), { code: 'ERR_BAD_INPUT' });
    sm.discard();
    assert.doesNotThrow(() => sm.enableElement());
  });

  it('counts stanzas sent between <enable/> and <enabled/> (the counter starts at enable)', () => {
    const { sm } = make();
    sm.enableElement();
    sm.track(msg(1));
    sm.onEnabled(S(`<enabled xmlns='${NS}'/>`));
    const r = sm.receive(S(`<a xmlns='${NS}' h='1'/>`));
    assert.equal(r.type, 'acked');
    assert.equal(r.type === 'acked' && r.acked.length, 1);
  });
});

describe('r / a', () => {
  it('counts inbound message, presence and iq (not nonzas) and answers <r/> with our h', () => {
    const { sm } = make();
    enabled(sm);
    sm.receive(
      S("<message xmlns='jabber:client' from='juliet@capulet.lit/balcony'><body>hi</body></message>"),
    );
    sm.receive(S("<presence xmlns='jabber:client' from='juliet@capulet.lit/balcony'/>"));
    sm.receive(S("<iq xmlns='jabber:client' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>"));
    sm.receive(S(`<a xmlns='${NS}' h='0'/>`));
    sm.receive(S("<features xmlns='http://etherx.jabber.org/streams'/>"));
    assert.equal(sm.inboundCount, 3);
    const r = sm.receive(S(`<r xmlns='${NS}'/>`));
    assert.equal(r.type, 'reply');
    assert.equal(r.type === 'reply' && w(r.reply), `<a xmlns='${NS}' h='3'/>`);
    assert.equal(w(sm.ackElement()), `<a xmlns='${NS}' h='3'/>`);
  });

  it('releases what <a h/> covers and reports it with the outbox ids', () => {
    const { sm } = make();
    enabled(sm);
    sm.track(msg(1), 'o1');
    sm.track(xml('presence'));
    sm.track(msg(3), 'o3');
    const r = sm.receive(S(`<a xmlns='${NS}' h='2'/>`));
    assert.ok(r.type === 'acked');
    assert.deepEqual(
      r.acked.map((a) => [a.element.name, a.appId, a.sentAt]),
      [
        ['message', 'o1', T0],
        ['presence', undefined, T0],
      ],
    );
    assert.equal(sm.unackedCount, 1);
    assert.deepEqual([...sm.pendingAppIds()], ['o3']);
    // A repeated h acknowledges nothing new.
    const again = sm.receive(S(`<a xmlns='${NS}' h='2'/>`));
    assert.ok(again.type === 'acked' && again.acked.length === 0);
    assert.equal(sm.ackedCount, 2);
  });
});

describe('ack batching', () => {
  it('asks once per batch, with at most one request in flight', () => {
    const { sm } = make({ ackEvery: 5 });
    enabled(sm);
    const asked: number[] = [];
    for (let i = 1; i <= 12; i++) if (sm.track(msg(i))) asked.push(i);
    assert.deepEqual(asked, [5]); // 6..12 wait: a request is out
    const r = sm.receive(S(`<a xmlns='${NS}' h='5'/>`));
    assert.ok(r.type === 'acked');
    assert.equal(r.acked.length, 5);
    assert.equal(w(r.request), `<r xmlns='${NS}'/>`); // 7 uncovered >= 5: ask right away
    assert.equal(sm.track(msg(13)), undefined); // that request is in flight
    const r2 = sm.receive(S(`<a xmlns='${NS}' h='12'/>`));
    assert.ok(r2.type === 'acked' && r2.request === undefined); // 1 uncovered < 5
  });

  it('1000 stanzas at full speed cost one <r/> per answered request, not one per stanza', () => {
    const { sm } = make();
    enabled(sm);
    let requests = 0;
    for (let i = 1; i <= 1000; i++) {
      if (sm.track(msg(i))) requests++;
      // The server answers every 50 stanzas' worth of time.
      if (i % 50 === 0) {
        const r = sm.receive(S(`<a xmlns='${NS}' h='${i - 20}'/>`));
        if (r.type === 'acked' && r.request) requests++;
      }
    }
    assert.ok(requests <= 40, `sent ${requests} requests`);
    assert.ok(requests >= 20, `sent ${requests} requests`);
  });

  it('at full speed, an eighth of the window uncovered gets a request even with one in flight', () => {
    const { sm } = make({ ackEvery: 10, highWaterMark: 80 });
    enabled(sm);
    const asked: number[] = [];
    for (let i = 1; i <= 45; i++) if (sm.track(msg(i))) asked.push(i);
    // 10: the first batch; then every 10 (= 80 / 8) more while the first is unanswered.
    assert.deepEqual(asked, [10, 20, 30, 40]);
    const r = sm.receive(S(`<a xmlns='${NS}' h='10'/>`));
    assert.ok(r.type === 'acked' && r.request === undefined); // 5 uncovered: the others are out
    // Each answer takes the oldest request; coverage stays that of the newest.
    for (const h of [20, 30, 40]) assert.equal(sm.receive(S(`<a xmlns='${NS}' h='${h}'/>`)).type, 'acked');
    assert.equal(sm.unackedCount, 5);
    assert.equal(w(sm.requestAck()), `<r xmlns='${NS}'/>`);
  });

  it('with the default window, a request per 125 stanzas while the first is unanswered', () => {
    const { sm } = make();
    enabled(sm);
    let requests = 0;
    for (let i = 1; i <= 1000; i++) if (sm.track(msg(i))) requests++;
    assert.equal(requests, 1 + Math.floor((1000 - 10) / 125));
  });

  it('asks after a short quiet spell for a tail smaller than a batch', () => {
    const { sm, clock, requests } = make({ ackEvery: 10, ackDelay: 100 });
    enabled(sm);
    sm.track(msg(1));
    sm.track(msg(2));
    clock.advance(99);
    assert.equal(requests.length, 0);
    clock.advance(1);
    assert.deepEqual(requests.map(w), [`<r xmlns='${NS}'/>`]);
    // In flight: a new stanza arms the timer, which finds the request still out.
    sm.track(msg(3));
    clock.advance(1000);
    assert.equal(requests.length, 1);
    // The answer covers 2; the third is uncovered, so the timer asks again.
    sm.receive(S(`<a xmlns='${NS}' h='2'/>`));
    clock.advance(100);
    assert.equal(requests.length, 2);
    sm.receive(S(`<a xmlns='${NS}' h='3'/>`));
    clock.advance(1000);
    assert.equal(requests.length, 2);
    assert.equal(clock.pending, 0);
  });

  it('requestAck() asks now unless nothing is unrequested or a request is out', () => {
    const { sm } = make();
    enabled(sm);
    assert.equal(sm.requestAck(), undefined);
    sm.track(msg(1));
    assert.equal(w(sm.requestAck()), `<r xmlns='${NS}'/>`);
    sm.track(msg(2));
    assert.equal(sm.requestAck(), undefined);
    sm.receive(S(`<a xmlns='${NS}' h='1'/>`));
    assert.equal(w(sm.requestAck()), `<r xmlns='${NS}'/>`);
  });

  it('an answer below what its request covered does not stall later requests', () => {
    const { sm } = make({ ackEvery: 2 });
    enabled(sm);
    sm.track(msg(1));
    assert.ok(sm.track(msg(2)));
    // Each <a/> answers the oldest request, whatever its h: the next one may go out.
    assert.equal(sm.receive(S(`<a xmlns='${NS}' h='1'/>`)).type, 'acked');
    assert.equal(w(sm.requestAck()), `<r xmlns='${NS}'/>`);
  });

  it('detach stops the timer and forgets requests in flight', () => {
    const { sm, clock, requests } = make();
    enabled(sm);
    sm.track(msg(1));
    sm.detach();
    clock.advance(1000);
    assert.equal(requests.length, 0);
    assert.equal(sm.track(msg(2)), undefined);
    assert.equal(sm.unackedCount, 1);
  });
});

describe('bad h', () => {
  it('an h above what we sent: undefined-condition + handled-count-too-high, and no more counting', () => {
    const { sm } = make();
    enabled(sm);
    for (let i = 0; i < 8; i++) sm.track(msg(i));
    const r = sm.receive(S(`<a xmlns='${NS}' h='10'/>`));
    assert.equal(r.type, 'violation');
    assert.ok(r.type === 'violation');
    assert.equal(r.error.code, 'ERR_SM_PROTOCOL');
    assert.equal(r.error.condition, 'undefined-condition');
    assert.equal(
      serialize(r.streamError),
      "<error xmlns='http://etherx.jabber.org/streams'>" +
        "<undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" +
        "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>You acknowledged 10 stanzas, but I only sent you 8 so far.</text>" +
        `<handled-count-too-high xmlns='${NS}' h='10' send-count='8'/>` +
        '</error>',
    );
    assert.equal(sm.resumable, false);
    assert.equal(sm.receive(S(`<a xmlns='${NS}' h='11'/>`)).type, 'pass');
    assert.equal(sm.discard().resend.length, 8);
  });

  it('an h that goes backwards is a violation too', () => {
    const { sm } = make();
    enabled(sm);
    for (let i = 0; i < 5; i++) sm.track(msg(i));
    assert.equal(sm.receive(S(`<a xmlns='${NS}' h='4'/>`)).type, 'acked');
    const r = sm.receive(S(`<a xmlns='${NS}' h='3'/>`));
    assert.ok(r.type === 'violation');
    assert.ok(r.streamError.getChild('handled-count-too-high', NS));
  });

  it('a missing or malformed h never throws', () => {
    for (const h of ['', "h=''", "h='-1'", "h='1.5'", "h='4294967296'", "h='abc'", "h='99999999999'"]) {
      const { sm } = make();
      enabled(sm);
      sm.track(msg(1));
      const r = sm.receive(S(`<a xmlns='${NS}' ${h}/>`));
      assert.equal(r.type, 'violation', h);
      assert.ok(r.type === 'violation' && !r.streamError.getChild('handled-count-too-high', NS));
    }
  });
});

describe('h wraps at 2^32', () => {
  const MAX = 2 ** 32 - 1;

  async function nearWrap(): Promise<{ sm: StreamManagement; store: MemoryStore }> {
    const store = new MemoryStore();
    const state: SmStateRecord = {
      id: 'w',
      resume: true,
      location: null,
      max: null,
      jid: 'romeo@montague.lit/orchard',
      inbound: MAX,
      outbound: MAX - 1,
      acked: MAX - 1,
      updatedAt: T0,
      detachedAt: null,
    };
    await store.apply([{ op: 'set', ns: SM_NS, key: SM_STATE_KEY, value: { ...state } }]);
    const { sm } = make({ store });
    assert.equal(await sm.load(), true);
    assert.equal(w(sm.resumeElement()), `<resume xmlns='${NS}' previd='w' h='${MAX}'/>`);
    const r = sm.onResumed(S(`<resumed xmlns='${NS}' previd='w' h='${MAX - 1}'/>`));
    assert.ok(r.ok && r.resend.length === 0);
    return { sm, store };
  }

  it('outbound: 2^32-1 is followed by 0, and acks across the wrap release the right stanzas', async () => {
    const { sm, store } = await nearWrap();
    for (let i = 0; i < 4; i++) sm.track(msg(i), `o${i}`);
    assert.equal(sm.outboundCount, 2);
    await sm.saved();
    assert.deepEqual(
      (await store.list(SM_UNACKED_LIST)).map((x) => x.key),
      [String(MAX), '0', '1', '2'],
    );
    const a = sm.receive(S(`<a xmlns='${NS}' h='1'/>`));
    assert.ok(a.type === 'acked');
    assert.deepEqual(
      a.acked.map((x) => x.appId),
      ['o0', 'o1', 'o2'],
    );
    assert.equal(sm.ackedCount, 1);
    const b = sm.receive(S(`<a xmlns='${NS}' h='2'/>`));
    assert.ok(b.type === 'acked' && b.acked[0]?.appId === 'o3');
    assert.equal(sm.receive(S(`<a xmlns='${NS}' h='3'/>`)).type, 'violation');
    await sm.saved();
    assert.deepEqual(await store.list(SM_UNACKED_LIST), []);
  });

  it('an h of 2^32-1 right after the wrap is "backwards", not a huge ack', async () => {
    const { sm } = await nearWrap();
    sm.track(msg(0));
    sm.track(msg(1)); // seq 0
    assert.equal(sm.receive(S(`<a xmlns='${NS}' h='0'/>`)).type, 'acked');
    const r = sm.receive(S(`<a xmlns='${NS}' h='${MAX}'/>`));
    assert.equal(r.type, 'violation');
  });

  it('inbound: our h goes from 2^32-1 to 0', async () => {
    const { sm } = await nearWrap();
    assert.equal(sm.inboundCount, MAX);
    sm.receive(S("<message xmlns='jabber:client'/>"));
    assert.equal(sm.inboundCount, 0);
    const r = sm.receive(S(`<r xmlns='${NS}'/>`));
    assert.ok(r.type === 'reply');
    assert.equal(r.reply.attrs.h, '0');
  });
});

describe('resumption', () => {
  it('resumed: release what the server had, re-send the tail as is, ask for an ack, keep counting', () => {
    const { sm, clock } = make();
    enabled(sm);
    sm.receive(S("<message xmlns='jabber:client'/>"));
    const sent = [1, 2, 3, 4, 5].map((i) => msg(i, `m${i}`));
    sent.forEach((m, i) => {
      sm.track(m, i % 2 === 0 ? `o${i + 1}` : undefined);
    });
    sm.receive(S(`<a xmlns='${NS}' h='2'/>`));
    sm.detach();
    assert.equal(sm.enabled, false);
    clock.advance(5000);
    assert.equal(sm.canResume(), true);
    assert.equal(w(sm.resumeElement()), `<resume xmlns='${NS}' previd='some-long-sm-id' h='1'/>`);
    const r = sm.onResumed(S(`<resumed xmlns='${NS}' previd='some-long-sm-id' h='3'/>`));
    assert.ok(r.ok);
    assert.deepEqual(
      r.acked.map((a) => a.appId),
      ['o3'],
    );
    assert.deepEqual(r.resend, [sent[3], sent[4]]); // the very same stanzas, unmarked
    assert.equal(r.resend[0]?.getChild('delay', NS_DELAY), undefined);
    assert.equal(w(r.request), `<r xmlns='${NS}'/>`);
    assert.equal(sm.enabled, true);
    // Same numbering on the resumed stream: 4, 5 re-sent, the next is 6.
    sm.track(msg(6));
    const a = sm.receive(S(`<a xmlns='${NS}' h='6'/>`));
    assert.ok(a.type === 'acked' && a.acked.length === 3);
    assert.equal(sm.unackedCount, 0);
    // Inbound counting continues too.
    sm.receive(S("<message xmlns='jabber:client'/>"));
    assert.equal(sm.inboundCount, 2);
  });

  it('resumed with nothing to re-send asks for nothing', () => {
    const { sm } = make();
    enabled(sm);
    sm.track(msg(1));
    sm.detach();
    sm.resumeElement();
    const r = sm.onResumed(S(`<resumed xmlns='${NS}' previd='some-long-sm-id' h='1'/>`));
    assert.ok(r.ok && r.resend.length === 0 && r.request === undefined && r.acked.length === 1);
  });

  it('resumed with a bad h or another previd is a violation, not a crash', () => {
    const a = make().sm;
    enabled(a);
    a.track(msg(1));
    a.detach();
    a.resumeElement();
    const r = a.onResumed(S(`<resumed xmlns='${NS}' previd='some-long-sm-id' h='2'/>`));
    assert.ok(
      !r.ok && r.error.code === 'ERR_SM_PROTOCOL' && r.streamError.getChild('handled-count-too-high', NS),
    );
    const b = make().sm;
    enabled(b);
    b.detach();
    b.resumeElement();
    const r2 = b.onResumed(S(`<resumed xmlns='${NS}' previd='other' h='0'/>`));
    assert.ok(!r2.ok);
  });

  it('failed: release what its h covers, re-send messages once marked with delay + origin-id', () => {
    const { sm, clock } = make({ newId: () => 'new-id' });
    enabled(sm);
    const a = msg('a', 'ida');
    const b = msg('b', 'idb');
    const c = msg('c'); // no id
    const d = xml(
      'message',
      { to: 'juliet@capulet.lit', id: 'idd' },
      xml('delay', { xmlns: NS_DELAY, stamp: '2020-01-01T00:00:00Z' }),
      xml('origin-id', { xmlns: NS_SID, id: 'origin-d' }),
    );
    sm.track(a);
    clock.advance(1000);
    sm.track(b);
    sm.track(c);
    sm.track(xml('iq', { type: 'get', id: 'q1' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    sm.track(xml('presence'));
    sm.track(d);
    sm.track(msg('e', 'ide'), 'outbox-e');
    sm.detach();
    sm.resumeElement();
    const f = sm.onFailed(
      S(`<failed xmlns='${NS}' h='1'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`),
    );
    assert.equal(f.condition, 'item-not-found');
    assert.equal(f.badH, false);
    assert.deepEqual(
      f.acked.map((x) => x.element),
      [a],
    );
    const stamp = new Date(T0 + 1000).toISOString();
    assert.deepEqual(f.resend.map(w), [
      `<message to='juliet@capulet.lit' type='chat' id='idb'><body>mb</body><delay xmlns='urn:xmpp:delay' stamp='${stamp}'/><origin-id xmlns='urn:xmpp:sid:0' id='idb'/></message>`,
      `<message to='juliet@capulet.lit' type='chat' id='new-id'><body>mc</body><delay xmlns='urn:xmpp:delay' stamp='${stamp}'/><origin-id xmlns='urn:xmpp:sid:0' id='new-id'/></message>`,
      // Already marked: kept as it was, nothing doubled.
      serialize(d),
    ]);
    assert.equal(b.getChild('delay', NS_DELAY), undefined, 'the original element is not modified');
    assert.deepEqual(f.returned, ['outbox-e']);
    assert.deepEqual(
      f.dropped.map((x) => x.element.name),
      ['iq', 'presence'],
    );
    // The session is over: a fresh one can start.
    assert.equal(sm.id, undefined);
    assert.equal(sm.canResume(), false);
    assert.equal(sm.unackedCount, 0);
    assert.doesNotThrow(() => sm.enableElement());
  });

  it('failed with a nonsensical h ignores it and gives everything back', () => {
    const { sm } = make();
    enabled(sm);
    sm.track(msg(1, 'x'));
    sm.detach();
    sm.resumeElement();
    const f = sm.onFailed(S(`<failed xmlns='${NS}' h='7'/>`));
    assert.equal(f.badH, true);
    assert.equal(f.condition, 'undefined-condition');
    assert.equal(f.acked.length, 0);
    assert.equal(f.resend.length, 1);
  });

  it('failed in answer to <enable/> (before bind) ends nothing but reports what was counted', () => {
    const { sm } = make();
    sm.enableElement();
    const f = sm.onFailed(
      S(`<failed xmlns='${NS}'><unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`),
    );
    assert.equal(f.condition, 'unexpected-request');
    assert.equal(sm.track(msg(1)), undefined);
  });

  it('does not try to resume a session older than the server\u2019s max', () => {
    const { sm, clock } = make();
    enabled(sm, "id='x' resume='true' max='60'");
    sm.detach();
    clock.advance(60_000);
    assert.equal(sm.canResume(), true);
    clock.advance(1);
    assert.equal(sm.canResume(), false);
  });
});

describe('persistence', () => {
  it('round trip: a new instance on the same store resumes where the old one stopped', async () => {
    const store = new MemoryStore();
    const { sm: first, clock } = make({ store });
    enabled(first, "id='abc' resume='true' max='300' location='xmpp.example.org:5222'");
    first.receive(S("<message xmlns='jabber:client'/>"));
    first.receive(S("<presence xmlns='jabber:client'/>"));
    const m1 = msg(1, 'i1');
    const m2 = msg(2, 'i2');
    const m3 = msg(3, 'i3');
    first.track(m1, 'i1');
    assert.equal(first.saving, true, 'the stanza is not on record yet');
    first.track(m2);
    first.track(m3, 'i3');
    first.receive(S(`<a xmlns='${NS}' h='1'/>`));
    await first.saved();
    assert.equal(first.saving, false);
    // The process dies here (nothing else is flushed).

    clock.advance(10_000);
    const { sm: second } = make({ store, clock });
    assert.equal(await second.load(), true);
    assert.equal(second.id, 'abc');
    assert.equal(second.location, 'xmpp.example.org:5222');
    assert.equal(second.max, 300);
    assert.equal(second.jid, 'romeo@montague.lit/orchard');
    assert.equal(second.inboundCount, 2);
    assert.equal(second.outboundCount, 3);
    assert.equal(second.ackedCount, 1);
    assert.deepEqual([...second.pendingAppIds()], ['i3']);
    assert.equal(w(second.resumeElement()), `<resume xmlns='${NS}' previd='abc' h='2'/>`);
    const r = second.onResumed(S(`<resumed xmlns='${NS}' previd='abc' h='2'/>`));
    assert.ok(r.ok);
    assert.equal(r.acked[0]?.element && w(r.acked[0].element), w(m2));
    assert.deepEqual(r.resend.map(w), [w(m3)]);
  });

  it('after failed/discard the store holds no session and no stanzas', async () => {
    const store = new MemoryStore();
    const { sm } = make({ store });
    enabled(sm);
    sm.track(msg(1));
    await sm.saved();
    assert.equal((await store.list(SM_UNACKED_LIST)).length, 1);
    sm.discard();
    await sm.saved();
    assert.deepEqual(await store.list(SM_UNACKED_LIST), []);
    const again = make({ store }).sm;
    assert.equal(await again.load(), false);
    assert.equal(again.id, undefined);
  });

  it('a session that was detached past its max is restored but not resumed', async () => {
    const store = new MemoryStore();
    const { sm, clock } = make({ store });
    enabled(sm, "id='abc' resume='true' max='30'");
    sm.track(msg(1), 'o1');
    sm.detach();
    await sm.saved();
    clock.advance(31_000);
    const later = make({ store, clock }).sm;
    assert.equal(await later.load(), false);
    assert.deepEqual(later.discard().returned, ['o1']);
  });

  it('a non-durable store is never written (no per-stanza serialization)', async () => {
    const store = new MemoryStore({ durable: false });
    const { sm } = make({ store });
    enabled(sm);
    sm.track(msg(1));
    assert.equal(sm.saving, false);
    await sm.saved();
    assert.equal(await store.get(SM_NS, SM_STATE_KEY), undefined);
    assert.deepEqual(await store.list(SM_UNACKED_LIST), []);
  });

  it('store writes are batched per tick, and a failing store is reported, never thrown', async () => {
    const errors: unknown[] = [];
    let applies = 0;
    const inner = new MemoryStore();
    const failing: Store = {
      durable: true,
      get: (ns, key) => inner.get(ns, key),
      entries: (ns) => inner.entries(ns),
      list: (name) => inner.list(name),
      apply: async () => {
        applies++;
        throw new Error('disk full');
      },
    };
    const { sm } = make({ store: failing, onStoreError: (e) => errors.push(e) });
    enabled(sm);
    for (let i = 0; i < 50; i++) sm.track(msg(i));
    await sm.saved();
    assert.equal(applies, 1);
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as Error).message, 'disk full');
  });

  it('skips unreadable stored stanzas and reports them', async () => {
    const store = new MemoryStore();
    const { sm } = make({ store });
    enabled(sm);
    sm.track(msg(1), 'o1');
    sm.track(msg(2), 'o2');
    await sm.saved();
    await store.apply([
      {
        op: 'push',
        list: SM_UNACKED_LIST,
        key: '1',
        value: { seq: 1, xml: '<message', appId: 'o1', sentAt: 0 },
      },
    ]);
    const errors: unknown[] = [];
    const again = make({ store, onStoreError: (e) => errors.push(e) }).sm;
    await again.load();
    assert.equal(errors.length, 1);
    assert.deepEqual([...again.pendingAppIds()], ['o2']);
    again.resumeElement();
    const r = again.onResumed(S(`<resumed xmlns='${NS}' previd='some-long-sm-id' h='1'/>`));
    assert.ok(r.ok && r.resend.length === 1 && r.acked.length === 0);
  });
});
