import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseXml } from '../xml/parser.ts';
import { debugFromEnv, debugSink, formatWire, redact } from './debug.ts';

test('SASL payloads, legacy password/digest, register password and password form fields are redacted', () => {
  const cases = [
    [
      "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldAByMG1lbw==</auth>",
      'AGp1bGlldAByMG1lbw==',
    ],
    ["<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>Yz1iaXdzLHI9</response>", 'Yz1iaXdzLHI9'],
    ["<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cj1meWtv</challenge>", 'cj1meWtv'],
    ["<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1ybUY5</success>", 'dj1ybUY5'],
    [
      "<iq xmlns='jabber:client' type='set'><query xmlns='jabber:iq:auth'><username>bill</username><password>Calli0pe</password><resource>Home</resource></query></iq>",
      'Calli0pe',
    ],
    [
      "<iq xmlns='jabber:client' type='set'><query xmlns='jabber:iq:auth'><username>bill</username><digest>48fc78be9ec8f86d8ce1c39c320c97c21d62334d</digest></query></iq>",
      '48fc78be9ec8f86d8ce1c39c320c97c21d62334d',
    ],
    [
      "<iq xmlns='jabber:client' type='set'><query xmlns='jabber:iq:register'><username>bill</username><password>s3cret</password></query></iq>",
      's3cret',
    ],
    [
      "<iq xmlns='jabber:client' type='set'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field var='password'><value>f0rm</value></field></x></query></iq>",
      'f0rm',
    ],
  ] as const;
  for (const [text, secret] of cases) {
    const el = parseXml(text);
    const line = formatWire('out', el);
    assert.ok(!line.includes(secret), line);
    assert.match(line, /\[redacted\]/);
    assert.ok(text.includes(secret), 'the original element is untouched');
    assert.ok(
      el.getChild('query')?.getChild('password')?.text() !== '[redacted]',
      'redact() copies, never mutates',
    );
  }
  // Harmless elements are passed through as is (no copy).
  const msg = parseXml(
    "<message xmlns='jabber:client'><body>password: hunter2 is fine to log</body></message>",
  );
  assert.equal(redact(msg), msg);
  assert.match(formatWire('in', msg), /^confab <- <message><body>/);
});

test('CONFAB_DEBUG=1 turns the log on; the option wins over it', () => {
  const saved = process.env.CONFAB_DEBUG;
  try {
    delete process.env.CONFAB_DEBUG;
    assert.equal(debugFromEnv(), false);
    assert.equal(debugSink(undefined), undefined);
    process.env.CONFAB_DEBUG = '1';
    assert.equal(debugFromEnv(), true);
    assert.equal(typeof debugSink(undefined), 'function');
    assert.equal(debugSink(false), undefined, 'debug: false overrides the environment');
    const mine = () => {};
    assert.equal(debugSink(mine), mine);
    process.env.CONFAB_DEBUG = '0';
    assert.equal(debugFromEnv(), false);
  } finally {
    if (saved === undefined) delete process.env.CONFAB_DEBUG;
    else process.env.CONFAB_DEBUG = saved;
  }
});

test('without a process global (browsers) the env lookup is skipped', () => {
  const g = globalThis as { process?: unknown };
  const saved = g.process;
  try {
    g.process = undefined;
    assert.equal(debugFromEnv(), false);
  } finally {
    g.process = saved;
  }
});
