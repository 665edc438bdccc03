import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { xml } from 'confab';
import { parseStamp, readMessage } from './library.ts';

describe('parseStamp', () => {
  it('reads XEP-0203 stamps (with and without fractions and offsets) and XEP-0091 ones', () => {
    assert.equal(parseStamp('2002-09-10T23:08:25Z')?.toISOString(), '2002-09-10T23:08:25.000Z');
    assert.equal(parseStamp('2002-09-10T23:08:25.123+02:00')?.toISOString(), '2002-09-10T21:08:25.123Z');
    assert.equal(parseStamp('20020910T23:08:25')?.toISOString(), '2002-09-10T23:08:25.000Z');
  });
  it('gives undefined for nothing or nonsense', () => {
    assert.equal(parseStamp(undefined), undefined);
    assert.equal(parseStamp(''), undefined);
    assert.equal(parseStamp('yesterday'), undefined);
  });
});

describe('readMessage', () => {
  const base = { from: 'romeo@example.net/orchard', to: 'juliet@example.com', id: 'm1', type: 'chat' };
  it('reads body, subject, thread, delay and every oob', () => {
    const el = xml(
      'message',
      { from: base.from, type: 'chat', id: 'm1' },
      xml('body', {}, 'Wherefore?'),
      xml('subject', {}, 'Q'),
      xml('thread', {}, 't1'),
      xml('delay', { xmlns: 'urn:xmpp:delay', from: 'example.com', stamp: '2002-09-10T23:08:25Z' }),
      xml(
        'x',
        { xmlns: 'jabber:x:oob' },
        xml('url', {}, ' https://example.com/a.png '),
        xml('desc', {}, 'A'),
      ),
      xml('x', { xmlns: 'jabber:x:oob' }, xml('url', {}, 'https://example.com/b')),
      xml('x', { xmlns: 'jabber:x:oob' }),
    );
    assert.deepEqual(readMessage(el, base), {
      ...base,
      body: 'Wherefore?',
      subject: 'Q',
      thread: 't1',
      delay: new Date('2002-09-10T23:08:25Z'),
      delayFrom: 'example.com',
      oob: [
        { url: 'https://example.com/a.png', desc: 'A' },
        { url: 'https://example.com/b', desc: undefined },
      ],
    });
  });
  it('leaves what is absent undefined', () => {
    const m = readMessage(
      xml('message', {}, xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' })),
      base,
    );
    assert.equal(m.body, undefined);
    assert.equal(m.delay, undefined);
    assert.deepEqual(m.oob, []);
  });
});
