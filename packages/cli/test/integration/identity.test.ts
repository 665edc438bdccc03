// End-to-end tests of the identity and account-data commands (issue 7): vcard, vcard set, nick,
// avatar, filter, block/unblock/blocklist, private set/get, disco. The real bin against the shared
// Prosody and ejabberd (testbed/harness.ts), each test on fresh accounts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ejabberd, freshAccount, prosody } from '../../../../testbed/harness.ts';
import { build, confab, HOME, jsonLines } from './helpers.ts';

before(build);

// A valid 2x3 PNG (8-bit RGB), so the dimensions read from IHDR can be checked.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAEUlEQVR4nGP4z8DAwMDAAAAM/wH/VgBlzgAAAABJRU5ErkJggg==',
  'base64',
);
const PNG_FILE = join(HOME, 'avatar.png');
writeFileSync(PNG_FILE, PNG);
const NOT_IMAGE = join(HOME, 'not-an-image.txt');
writeFileSync(NOT_IMAGE, 'hello');

for (const server of [
  { name: 'Prosody', info: prosody },
  { name: 'ejabberd', info: ejabberd },
]) {
  describe(`confab identity and account data on ${server.name}`, () => {
    it('vcard set then vcard (ours, and from another account), plain and JSON; partial update keeps fields', async () => {
      const s = server.info();
      const [a, b] = await Promise.all([freshAccount(s, 'ida'), freshAccount(s, 'idb')]);
      const none = await confab(s, a, ['vcard']);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /has no vCard/);

      const set = await confab(s, a, [
        'vcard',
        'set',
        '--fn',
        'Juliet Capulet',
        '--nickname',
        'jc',
        '--email',
        'juliet@example.org',
        '--url',
        'https://example.org/juliet',
        '--birthday',
        '1582-07-31',
        '--note',
        'Wherefore art thou',
        '--photo',
        PNG_FILE,
      ]);
      assert.equal(set.code, 0, set.stderr);

      const mine = await confab(s, a, ['vcard', '--json']);
      assert.equal(mine.code, 0, mine.stderr);
      const [card] = jsonLines(mine.stdout);
      assert.equal(card?.event, 'result');
      assert.equal(card?.fn, 'Juliet Capulet');
      assert.equal(card?.nickname, 'jc');
      assert.equal(card?.url, 'https://example.org/juliet');
      assert.equal(card?.bday, '1582-07-31');
      assert.equal(card?.desc, 'Wherefore art thou');
      assert.deepEqual(card?.email, [{ userid: 'juliet@example.org', flags: ['internet'] }]);
      const photo = card?.photo as { type: string; binval: string };
      assert.equal(photo.type, 'image/png');
      assert.deepEqual(Buffer.from(photo.binval, 'base64'), PNG);

      // Someone else reads it, in plain text.
      const theirs = await confab(s, b, ['vcard', a.jid]);
      assert.equal(theirs.code, 0, theirs.stderr);
      assert.match(theirs.stdout, /^Full name: Juliet Capulet$/m);
      assert.match(theirs.stdout, /^Email: juliet@example\.org$/m);
      assert.match(theirs.stdout, new RegExp(`^Photo: image/png, ${PNG.length} bytes$`, 'm'));

      // Only what is given changes; '' removes a field.
      const upd = await confab(s, a, ['vcard', 'set', '--fn', 'J. Capulet', '--note', '']);
      assert.equal(upd.code, 0, upd.stderr);
      const [after] = jsonLines((await confab(s, a, ['vcard', '--json'])).stdout);
      assert.equal(after?.fn, 'J. Capulet');
      assert.equal(after?.nickname, 'jc');
      assert.equal(after?.desc, undefined);
      assert.ok(after?.photo);
    });

    it('vcard set refuses a bad birthday, a missing --fn and a non-image photo (exit 2)', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'idc');
      const bday = await confab(s, a, ['vcard', 'set', '--fn', 'X', '--birthday', '2001-02-30']);
      assert.equal(bday.code, 2);
      assert.match(bday.stderr, /--birthday wants a date YYYY-MM-DD/);
      const fn = await confab(s, a, ['vcard', 'set', '--nickname', 'x']);
      assert.equal(fn.code, 2);
      assert.match(fn.stderr, /--fn NAME is required/);
      const img = await confab(s, a, ['avatar', NOT_IMAGE]);
      assert.equal(img.code, 2);
      assert.match(img.stderr, /is not a PNG or JPEG image/);
    });

    it('plain vcard output cannot reorder the terminal (bidi override), JSON keeps it escaped', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'idd');
      const evil = 'Evil\u202eTXT.exe';
      const set = await confab(s, a, ['vcard', 'set', '--fn', evil]);
      assert.equal(set.code, 0, set.stderr);
      const plain = await confab(s, a, ['vcard']);
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(plain.stdout, 'Full name: EvilTXT.exe\n');
      const json = await confab(s, a, ['vcard', '--json']);
      assert.ok(json.stdout.includes('Evil\\u202eTXT.exe'), json.stdout);
      assert.equal(jsonLines(json.stdout)[0]?.fn, evil);
    });

    it('nick: none (exit 1), publish, read back', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'ide');
      const none = await confab(s, a, ['nick']);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /no nickname published/);
      const pub = await confab(s, a, ['nick', 'Jules']);
      assert.equal(pub.code, 0, pub.stderr);
      const read = await confab(s, a, ['nick']);
      assert.equal(read.code, 0, read.stderr);
      assert.equal(read.stdout, 'Jules\n');
      const json = await confab(s, a, ['nick', '--json']);
      assert.deepEqual(jsonLines(json.stdout), [{ event: 'result', command: 'nick', nick: 'Jules' }]);
    });

    it('avatar: none (exit 1), publish a PNG, its metadata (SHA-1 id, size, dimensions)', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'idf');
      const none = await confab(s, a, ['avatar']);
      assert.equal(none.code, 1, none.stderr);
      assert.match(none.stderr, /no avatar published/);
      const id = createHash('sha1').update(PNG).digest('hex');
      const pub = await confab(s, a, ['avatar', PNG_FILE, '--json']);
      assert.equal(pub.code, 0, pub.stderr);
      assert.equal(jsonLines(pub.stdout)[0]?.id, id);
      const meta = await confab(s, a, ['avatar', '--json']);
      assert.equal(meta.code, 0, meta.stderr);
      assert.deepEqual(jsonLines(meta.stdout), [
        { event: 'result', command: 'avatar', id, type: 'image/png', bytes: PNG.length, width: 2, height: 3 },
      ]);
      const plain = await confab(s, a, ['avatar']);
      assert.equal(plain.stdout, `${id} image/png, ${PNG.length} bytes, 2x3\n`);
    });

    it('filter: everyone by default, buddies once set, kept on the server', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'idg');
      const first = await confab(s, a, ['filter']);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout, 'everyone\n');
      assert.equal((await confab(s, a, ['filter', 'buddies'])).code, 0);
      assert.equal((await confab(s, a, ['filter'])).stdout, 'buddies\n');
      assert.equal((await confab(s, a, ['filter', 'everyone'])).code, 0);
      const json = await confab(s, a, ['filter', '--json']);
      assert.deepEqual(jsonLines(json.stdout), [{ event: 'result', command: 'filter', mode: 'everyone' }]);
      assert.equal((await confab(s, a, ['filter', 'strangers'])).code, 2);
    });

    it('block, blocklist, unblock, unblock --all', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'idh');
      const x = `spam@${s.domain}`;
      const y = 'spam.example';
      const blk = await confab(s, a, ['block', x, y]);
      assert.equal(blk.code, 0, blk.stderr);
      const list = await confab(s, a, ['blocklist', '--json']);
      assert.equal(list.code, 0, list.stderr);
      // Sorted: '.' comes before '@'.
      assert.deepEqual(jsonLines(list.stdout), [
        { event: 'blocked', jid: y },
        { event: 'blocked', jid: x },
      ]);
      assert.equal((await confab(s, a, ['unblock', x])).code, 0);
      assert.equal((await confab(s, a, ['blocklist'])).stdout, `${y}\n`);
      assert.equal((await confab(s, a, ['unblock'])).code, 2);
      assert.equal((await confab(s, a, ['unblock', '--all'])).code, 0);
      assert.equal((await confab(s, a, ['blocklist'])).stdout, '');
    });

    it('private set and get (by name and as empty XML); nothing stored exits 1; bad XML exits 2', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'idi');
      const ns = 'urn:example:prefs';
      const set = await confab(s, a, ['private', 'set', ns, '<prefs><theme>dark</theme></prefs>']);
      assert.equal(set.code, 0, set.stderr);
      const byName = await confab(s, a, ['private', 'get', ns, 'prefs']);
      assert.equal(byName.code, 0, byName.stderr);
      assert.match(byName.stdout, /^<prefs xmlns=['"]urn:example:prefs['"]><theme>dark<\/theme><\/prefs>\n$/);
      const byXml = await confab(s, a, ['private', 'get', ns, `<prefs xmlns='${ns}'/>`, '--json']);
      assert.equal(byXml.code, 0, byXml.stderr);
      const [res] = jsonLines(byXml.stdout);
      assert.equal(res?.name, 'prefs');
      assert.match(res?.xml as string, /<theme>dark<\/theme>/);
      const missing = await confab(s, a, ['private', 'get', ns, 'other']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /nothing stored/);
      const bad = await confab(s, a, ['private', 'set', ns, '<prefs>']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /not well-formed/);
      const wrongNs = await confab(s, a, ['private', 'set', ns, "<prefs xmlns='urn:other'/>"]);
      assert.equal(wrongNs.code, 2);
      assert.match(wrongNs.stderr, /is in namespace 'urn:other'/);
      const reserved = await confab(s, a, ['private', 'set', 'jabber:iq:x', '<x/>']);
      assert.equal(reserved.code, 2);
      assert.match(reserved.stderr, /reserved/);
    });

    it('disco: our server identities and features; items; a JID that does not exist fails', async () => {
      const s = server.info();
      const a = await freshAccount(s, 'idj');
      const info = await confab(s, a, ['disco', '--json']);
      assert.equal(info.code, 0, info.stderr);
      const [res] = jsonLines(info.stdout);
      assert.equal(res?.event, 'result');
      assert.equal(res?.jid, s.domain);
      const identities = res?.identities as { category: string; type: string }[];
      assert.ok(
        identities.some((i) => i.category === 'server' && i.type === 'im'),
        JSON.stringify(identities),
      );
      assert.ok((res!.features as string[]).includes('http://jabber.org/protocol/disco#info'));
      const plain = await confab(s, a, ['disco']);
      assert.match(plain.stdout, /^identity server\/im/m);
      assert.match(plain.stdout, /^feature http:\/\/jabber\.org\/protocol\/disco#info$/m);
      const items = await confab(s, a, ['disco', '--items', '--json']);
      assert.equal(items.code, 0, items.stderr);
      for (const it of jsonLines(items.stdout)) {
        assert.equal(it.event, 'item');
        assert.equal(typeof it.jid, 'string');
      }
      const nobody = await confab(s, a, ['disco', `nobody-here@${s.domain}`]);
      assert.equal(nobody.code, 1);
      assert.ok(nobody.stderr.split('\n').filter(Boolean).length === 1, nobody.stderr);
    });
  });
}
