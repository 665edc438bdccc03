import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StanzaError } from '../errors.ts';
import type { Element } from '../xml/element.ts';
import { parseXml } from '../xml/parser.ts';
import { serialize } from '../xml/serializer.ts';
import { IqTracker } from './iq.ts';
import { Pipeline } from './pipeline.ts';

function setup() {
  const out: string[] = [];
  const logs: string[] = [];
  const handlerErrors: unknown[] = [];
  const iq = new IqTracker({
    send: async () => {},
    self: () => ({ bare: 'juliet@example.com', domain: 'example.com' }),
    timeout: 1000,
  });
  const p = new Pipeline({
    send: (el: Element) => out.push(serialize(el, 'jabber:client')),
    iq,
    self: () => ({ full: 'juliet@example.com/balcony', bare: 'juliet@example.com' }),
    log: (l) => logs.push(l),
    onHandlerError: (e) => handlerErrors.push(e),
  });
  const seen: string[] = [];
  p.use((el) => {
    seen.push(el.attr('id') ?? '');
  });
  const recv = (x: string) => p.process(parseXml(x.replace(/^<(\w+)/, "<$1 xmlns='jabber:client'")));
  return { p, out, logs, seen, recv, handlerErrors };
}

test('iq get/set without exactly one payload: bad-request; without id: dropped', () => {
  const { out, recv } = setup();
  recv(`<iq type='get' id='a' from='romeo@montague.lit/x'/>`);
  recv(`<iq type='set' id='b' from='romeo@montague.lit/x'><x xmlns='urn:a'/><y xmlns='urn:b'/></iq>`);
  recv(`<iq type='get' from='romeo@montague.lit/x'><x xmlns='urn:a'/></iq>`);
  assert.equal(out.length, 2);
  assert.match(out[0]!, /id='a'.*<bad-request /);
  assert.match(out[1]!, /id='b'.*<bad-request /);
});

test('a handler throwing StanzaError answers with that condition; one handler per key; teardown', async () => {
  const { p, out, recv, handlerErrors } = setup();
  const off = p.handleIq('set', 'urn:a', 'x', () => {
    throw new StanzaError('no', { condition: 'forbidden', type: 'auth', text: 'not you' });
  });
  assert.throws(() => p.handleIq('set', 'urn:a', 'x', () => undefined));
  recv(`<iq type='set' id='c' from='romeo@montague.lit/x'><x xmlns='urn:a'/></iq>`);
  assert.match(
    out[0]!,
    /<error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'\/><text [^>]+>not you<\/text>/,
  );
  assert.equal(handlerErrors.length, 0, 'a StanzaError is an answer, not a bug');
  off();
  recv(`<iq type='set' id='d' from='romeo@montague.lit/x'><x xmlns='urn:a'/></iq>`);
  assert.match(out[1]!, /id='d'.*service-unavailable/);
  // Async handlers that reject are internal-server-error.
  p.handleIq('get', 'urn:a', 'x', async () => {
    throw new TypeError('oops');
  });
  recv(`<iq type='get' id='e' from='romeo@montague.lit/x'><x xmlns='urn:a'/></iq>`);
  await new Promise((r) => setImmediate(r));
  assert.match(out[2]!, /id='e'.*internal-server-error/);
  assert.equal(handlerErrors.length, 1);
});

test('origin checks: malformed addresses and stanzas for someone else never reach stages', () => {
  const { seen, recv, logs } = setup();
  recv(`<message id='1' from='romeo@montague.lit/x'/>`);
  recv(`<message id='2' from='@@bad'/>`);
  recv(`<message id='3' to='nurse@example.com'/>`);
  recv(`<message id='4' to='JULIET@example.com/balcony'/>`);
  recv(`<message id='5' to='juliet@example.com'/>`);
  // A message for another resource of ours: the server rerouted it (RFC 6121 8.5.3.2.1).
  recv(`<message id='6' to='juliet@example.com/other'/>`);
  // Presence and iq for another resource are not ours.
  recv(`<presence id='7' to='juliet@example.com/other'/>`);
  recv(`<iq id='8' type='result' to='juliet@example.com/other'/>`);
  recv(`<message id='9' to='juliet@example.com.evil/balcony'/>`);
  assert.deepEqual(seen, ['1', '4', '5', '6']);
  assert.equal(logs.length, 5);
});
