import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfabError } from './errors.ts';
import {
  bare,
  domainOf,
  equalJid,
  escapeLocal,
  formatJid,
  isBare,
  isFull,
  type Jid,
  jid,
  localOf,
  parseJid,
  resourceOf,
  tryJid,
  unescapeLocal,
  withResource,
} from './jid.ts';

const badInput = (re?: RegExp) => (e: unknown) =>
  e instanceof ConfabError && e.code === 'ERR_BAD_INPUT' && (re === undefined || re.test(e.message));

test('RFC 7622 3.5: valid examples', () => {
  const cases: [string, { local?: string; domain: string; resource?: string }][] = [
    ['juliet@example.com', { local: 'juliet', domain: 'example.com' }],
    ['juliet@example.com/foo', { local: 'juliet', domain: 'example.com', resource: 'foo' }],
    ['juliet@example.com/foo bar', { local: 'juliet', domain: 'example.com', resource: 'foo bar' }],
    ['juliet@example.com/foo@bar', { local: 'juliet', domain: 'example.com', resource: 'foo@bar' }],
    ['foo\\20bar@example.com', { local: 'foo\\20bar', domain: 'example.com' }],
    ['fussball@example.com', { local: 'fussball', domain: 'example.com' }],
    ['fußball@example.com', { local: 'fußball', domain: 'example.com' }],
    ['π@example.com', { local: 'π', domain: 'example.com' }],
    ['Σ@example.com/foo', { local: 'σ', domain: 'example.com', resource: 'foo' }],
    ['σ@example.com/foo', { local: 'σ', domain: 'example.com', resource: 'foo' }],
    ['ς@example.com/foo', { local: 'ς', domain: 'example.com', resource: 'foo' }],
    ['king@example.com/♚', { local: 'king', domain: 'example.com', resource: '♚' }],
    ['example.com', { domain: 'example.com' }],
    ['example.com/foobar', { domain: 'example.com', resource: 'foobar' }],
    ['a.example.com/b@example.net', { domain: 'a.example.com', resource: 'b@example.net' }],
  ];
  for (const [input, want] of cases) assert.deepEqual({ ...parseJid(input) }, want, input);
});

test('RFC 7622 3.5: invalid examples', () => {
  const cases: [string, RegExp][] = [
    ['"juliet"@example.com', /local part.*U\+0022/],
    ['foo bar@example.com', /local part.*a space.*escapeLocal/],
    ['juliet@example.com/', /resource.*empty/],
    ['@example.com/', /local part.*empty/],
  ];
  for (const [input, re] of cases) assert.throws(() => parseJid(input), badInput(re), input);
});

test('henriⅣ is accepted as henriiv, as stringprep servers do (deliberate difference from PRECIS)', () => {
  assert.equal(jid('henriⅣ@example.com'), 'henriiv@example.com');
});

test('splitting follows RFC 7622 3.1: first "/" then first "@"', () => {
  assert.deepEqual({ ...parseJid('a@b/c@d/e') }, { local: 'a', domain: 'b', resource: 'c@d/e' });
  assert.deepEqual({ ...parseJid('b/c@d') }, { domain: 'b', resource: 'c@d' });
});

test('normalisation: localpart case-folded + NFKC, domain lowercased, resource case kept, NFC', () => {
  assert.equal(jid('Juliet@Example.COM/Balcony'), 'juliet@example.com/Balcony');
  assert.equal(jid('ＪＵＬＩＥＴ@example.com'), 'juliet@example.com'); // fullwidth
  assert.equal(jid('ju\u00ADliet@example.com'), 'juliet@example.com'); // soft hyphen mapped to nothing
  assert.equal(jid('juliet@example.com./x'), 'juliet@example.com/x'); // trailing dot
  assert.equal(jid('juliet@example\u3002com'), 'juliet@example.com'); // ideographic full stop
  assert.equal(jid('juliet@example.com/re\u0301sume\u0301'), 'juliet@example.com/r\u00e9sum\u00e9'); // NFC
  assert.equal(jid('juliet@münchen.example'), 'juliet@münchen.example');
  assert.equal(jid('juliet@MÜNCHEN.example'), 'juliet@münchen.example');
  // Punycode is left alone: the A-label is not converted (documented limit).
  assert.equal(jid('juliet@XN--MNCHEN-3YA.example'), 'juliet@xn--mnchen-3ya.example');
  assert.notEqual(jid('juliet@xn--mnchen-3ya.example'), jid('juliet@münchen.example'));
});

test('IP literals', () => {
  assert.equal(jid('juliet@[2001:DB8::1]/r'), 'juliet@[2001:db8::1]/r');
  assert.equal(jid('[::ffff:192.0.2.1]'), '[::ffff:192.0.2.1]');
  assert.equal(jid('[1:2:3:4:5:6:7:8]'), '[1:2:3:4:5:6:7:8]');
  assert.equal(jid('juliet@192.0.2.1'), 'juliet@192.0.2.1');
  for (const b of ['[2001:db8::1', '[1::2::3]', '[12345::1]', '[1:2:3]', '[g::1]', '[]', '[::1.2.3.999]']) {
    assert.throws(() => jid(b), badInput(/IPv6/), b);
  }
});

test('invalid inputs get messages a person understands', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['juliet@', /domain is empty/],
    ['juliet@.', /domain is empty/],
    ['juliet@example..com', /empty label/],
    ['juliet@.example.com', /empty label/],
    ['juliet@example.com:5222', /must not contain ":".*port/],
    ['juliet@exa mple.com', /domain must not contain a space/],
    ['jul:iet@example.com', /local part.*":"/],
    ["d'artagnan@example.com", /local part.*"'".*escapeLocal/],
    ['a<b@example.com', /local part/],
    ['ju\tliet@example.com', /local part \(before "@"\) must not contain U\+0009/],
    ['juliet@example.com/a\u0000b', /resource must not contain U\+0000/],
    ['juliet\u202E@example.com', /U\+202E/], // bidi override
    ['ＪＵ＠ＬＩＥＴ@example.com', /"@"/], // fullwidth @ becomes @ under NFKC
    [`${'a'.repeat(1024)}@example.com`, /local part is longer than 1023 bytes/],
    [`juliet@example.com/${'é'.repeat(512)}`, /resource is longer than 1023 bytes/],
    [`juliet@${'a'.repeat(64)}.com`, /longer than 63/],
    ['x'.repeat(5000), /too long/],
  ];
  for (const [input, re] of cases) assert.throws(() => parseJid(input), badInput(re), JSON.stringify(input));
});

test('length limits count UTF-8 bytes, and the maximum is accepted', () => {
  assert.equal(localOf(jid(`${'a'.repeat(1023)}@example.com`))?.length, 1023);
  assert.equal(resourceOf(jid(`example.com/${'é'.repeat(511)}`))?.length, 511); // 1022 bytes
  assert.throws(() => jid(`example.com/${'😀'.repeat(256)}`), badInput(/1023 bytes/)); // 1024 bytes
});

test('helpers on branded JIDs', () => {
  const full = jid('Juliet@Example.com/Balcony');
  const b = bare(full);
  assert.equal(b, 'juliet@example.com');
  assert.equal(domainOf(full), 'example.com');
  assert.equal(localOf(full), 'juliet');
  assert.equal(resourceOf(full), 'Balcony');
  assert.equal(isFull(full), true);
  assert.equal(isBare(full), false);
  assert.equal(isFull(b), false);
  assert.equal(resourceOf(b), undefined);
  const server = jid('example.com/x@y/z');
  assert.equal(localOf(server), undefined);
  assert.equal(domainOf(server), 'example.com');
  assert.equal(resourceOf(server), 'x@y/z');
  assert.equal(withResource(b, 'Home'), 'juliet@example.com/Home');
  assert.equal(withResource(full, 'PowerBook'), 'juliet@example.com/PowerBook');
  assert.throws(() => withResource(b, ''), badInput(/resource.*empty/));
});

test('equalJid compares normalised forms', () => {
  assert.equal(equalJid('Juliet@Example.com/Balcony', 'juliet@example.com./Balcony'), true);
  assert.equal(equalJid('juliet@example.com/Balcony', 'juliet@example.com/balcony'), false);
  assert.equal(equalJid('Σ@example.com', 'σ@example.com'), true);
  assert.equal(equalJid('ς@example.com', 'σ@example.com'), false);
  assert.equal(equalJid('bad jid@x', 'badjid@x'), false);
  assert.equal(equalJid('bad jid@x', 'bad jid@x'), true);
});

test('tryJid returns undefined instead of throwing', () => {
  assert.equal(tryJid('a b@c'), undefined);
  assert.equal(tryJid(undefined), undefined);
  assert.equal(tryJid('A@B'), 'a@b');
});

test('formatJid validates each part separately', () => {
  assert.equal(
    formatJid({ local: 'Romeo', domain: 'Example.net', resource: 'Orchard' }),
    'romeo@example.net/Orchard',
  );
  assert.equal(formatJid({ domain: 'example.net' }), 'example.net');
  assert.throws(() => formatJid({ local: 'a@b', domain: 'example.net' }), badInput(/"@"/));
  assert.throws(() => formatJid({ local: '', domain: 'example.net' }), badInput(/empty/));
  assert.throws(() => formatJid({ domain: 'example.net/x' }), badInput(/domain/));
});

test('parse results are cached and frozen; the normalised form is a Jid of itself', () => {
  const a = parseJid('Romeo@Example.net');
  assert.equal(parseJid('Romeo@Example.net'), a);
  assert.equal(parseJid('romeo@example.net'), a);
  assert.ok(Object.isFrozen(a));
  const j: Jid = jid('romeo@example.net');
  assert.equal(jid(j), j);
});

test('the cache stays bounded and correct after eviction', () => {
  for (let i = 0; i < 5000; i++) assert.equal(jid(`User${i}@Example.org`), `user${i}@example.org`);
  assert.equal(jid('User0@Example.org'), 'user0@example.org');
});

test('XEP-0106 examples: escape and unescape', () => {
  const table: [string, string][] = [
    ['space cadet', 'space\\20cadet'],
    ['call me "ishmael"', 'call\\20me\\20\\22ishmael\\22'],
    ['at&t guy', 'at\\26t\\20guy'],
    ["d'artagnan", 'd\\27artagnan'],
    ['/.fanboy', '\\2f.fanboy'],
    ['::foo::', '\\3a\\3afoo\\3a\\3a'],
    ['<foo>', '\\3cfoo\\3e'],
    ['user@host', 'user\\40host'],
    ['c:\\5commas', 'c\\3a\\5c5commas'],
    ['somenick!user"&\'/:<>\\3address', 'somenick!user\\22\\26\\27\\2f\\3a\\3c\\3e\\5c3address'],
    ["here's_a_wild_&_/cr%zy/_address", 'here\\27s_a_wild_\\26_\\2fcr%zy\\2f_address'],
  ];
  for (const [plain, escaped] of table) {
    assert.equal(escapeLocal(plain), escaped, plain);
    assert.equal(unescapeLocal(escaped), plain, escaped);
    assert.equal(localOf(jid(`${escaped}@example.com`)), escaped.toLowerCase());
  }
  // Examples 9-11 escape every backslash; unescaping them gives the user input back.
  assert.equal(unescapeLocal('c\\3a\\5cnet'), 'c:\\net');
  assert.equal(unescapeLocal('c\\3a\\5c\\5cnet'), 'c:\\\\net');
  assert.equal(unescapeLocal('c\\3a\\5ccool\\20stuff'), 'c:\\cool stuff');
  // A backslash not starting an escape sequence is left alone (rule 7, LDAP example).
  assert.equal(escapeLocal('Andr\\E9'), 'Andr\\E9');
  // Exceptions: partial and unknown sequences are not modified either way.
  for (const s of ['\\2plus\\2is\\4', 'foo\\bar', 'foob\\41r']) {
    assert.equal(escapeLocal(s), s);
    assert.equal(unescapeLocal(s), s);
  }
  // Case is significant: \3A is not an escape.
  assert.equal(unescapeLocal('a\\3Ab'), 'a\\3Ab');
});

test('escapeLocal refuses leading or trailing spaces', () => {
  assert.throws(() => escapeLocal(' cadet'), badInput(/start or end with a space/));
  assert.throws(() => escapeLocal('cadet '), badInput(/start or end with a space/));
});

test('the lower-case ASCII fast path agrees with the full preparation', () => {
  const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/);
  const plain = fc
    .tuple(
      fc.option(fc.stringMatching(/^[a-z0-9._+-]{1,12}$/), { nil: undefined }),
      fc.array(label, { minLength: 1, maxLength: 3 }),
      fc.option(fc.stringMatching(/^[\x21-\x7e]{1,12}$/), { nil: undefined }),
    )
    .map(([l, d, r]) => `${l === undefined ? '' : `${l}@`}${d.join('.')}${r === undefined ? '' : `/${r}`}`);
  fc.assert(
    fc.property(plain, (s) => {
      // The full path (formatJid prepares every part) gives the same string the fast path returns.
      const slash = s.indexOf('/');
      const head = slash < 0 ? s : s.slice(0, slash);
      const at = head.indexOf('@');
      const parts = {
        local: at < 0 ? undefined : head.slice(0, at),
        domain: head.slice(at + 1),
        resource: slash < 0 ? undefined : s.slice(slash + 1),
      };
      assert.equal(jid(s), formatJid(parts));
      assert.equal(tryJid(s), jid(s));
    }),
    { numRuns: 2000 },
  );
});
