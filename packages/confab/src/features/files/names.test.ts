// Safe local names from remote ones (features/files/names.ts): no traversal, no hidden files,
// no control or bidi characters, a fallback for empty names, `name (n).ext` for taken ones.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FALLBACK_NAME, fileNameFromUrl, numberedName, safeFileName, splitExtension } from './names.ts';

describe('safeFileName', () => {
  test('path traversal and separators: only the last segment', () => {
    assert.equal(safeFileName('../../x'), 'x');
    assert.equal(safeFileName('..\\..\\windows\\system.ini'), 'system.ini');
    assert.equal(safeFileName('/etc/passwd'), 'passwd');
    assert.equal(safeFileName('a/b/'), FALLBACK_NAME);
    assert.equal(safeFileName('..'), FALLBACK_NAME);
    assert.equal(safeFileName('.'), FALLBACK_NAME);
  });
  test('no leading dots (hidden files), no trailing dots or spaces', () => {
    assert.equal(safeFileName('.bashrc'), 'bashrc');
    assert.equal(safeFileName('...hidden.txt'), 'hidden.txt');
    assert.equal(safeFileName('  name.txt. . '), 'name.txt');
  });
  test('control, bidi and zero-width characters are dropped', () => {
    assert.equal(safeFileName('a\u0000b\u001b[2Jc\u0007.txt'), 'ab[2Jc.txt');
    // "invoice\u202Egpj.exe" would show as "invoiceexe.jpg"
    assert.equal(safeFileName('invoice\u202egpj.exe'), 'invoicegpj.exe');
    assert.equal(safeFileName('x\u2066y\u2069\u200f\u061c\u200b\ufeff\u0085.txt'), 'xy.txt');
    assert.equal(safeFileName('line\nbreak\r.txt'), 'linebreak.txt');
  });
  test('Windows-reserved characters and device names', () => {
    assert.equal(safeFileName('a<b>c:d"e|f?g*h.txt'), 'a_b_c_d_e_f_g_h.txt');
    assert.equal(safeFileName('CON'), '_CON');
    assert.equal(safeFileName('nul.txt'), '_nul.txt');
    assert.equal(safeFileName('console.txt'), 'console.txt');
  });
  test('empty gives the fallback; a custom fallback is made safe too', () => {
    assert.equal(safeFileName(''), FALLBACK_NAME);
    assert.equal(safeFileName(undefined), FALLBACK_NAME);
    assert.equal(safeFileName('\u202e', '../file'), 'file');
  });
  test('at most 255 UTF-8 bytes, the extension kept, no split character', () => {
    const long = `${'é'.repeat(300)}.jpeg`;
    const s = safeFileName(long);
    assert.ok(new TextEncoder().encode(s).length <= 255);
    assert.ok(s.endsWith('.jpeg'));
    assert.ok(!s.includes('\ufffd'));
  });
  test('property: never a separator, a leading dot, a control or bidi character, never empty', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (raw) => {
        const s = safeFileName(raw);
        assert.ok(s.length > 0);
        assert.ok(!/[/\\]/.test(s), s);
        assert.ok(!s.startsWith('.'), s);
        assert.ok(s !== '..' && s !== '.');
        assert.ok(
          !/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f]/.test(s),
          JSON.stringify(s),
        );
      }),
      { numRuns: 500 },
    );
  });
});

describe('numberedName', () => {
  test('name (n).ext, the name itself for 0', () => {
    assert.equal(numberedName('photo.jpg', 0), 'photo.jpg');
    assert.equal(numberedName('photo.jpg', 1), 'photo (1).jpg');
    assert.equal(numberedName('archive.tar.gz', 2), 'archive.tar (2).gz');
    assert.equal(numberedName('README', 3), 'README (3)');
  });
  test('splitExtension', () => {
    assert.deepEqual(splitExtension('x.'), { stem: 'x.', ext: '' });
    assert.deepEqual(splitExtension('a.b'), { stem: 'a', ext: '.b' });
  });
});

describe('fileNameFromUrl', () => {
  test('last path segment, percent-decoded, query and fragment ignored', () => {
    assert.equal(fileNameFromUrl('https://up.example/a1b2/holiday%20photo.jpg?x=1#y'), 'holiday photo.jpg');
    assert.equal(fileNameFromUrl('https://up.example/a1b2/tr%C3%A8s%20cool.jpg'), 'très cool.jpg');
  });
  test('encoded traversal is saved safely', () => {
    assert.equal(fileNameFromUrl('http://evil.example/..%2F..%2Fx'), 'x');
    assert.equal(fileNameFromUrl('http://evil.example/%2e%2e'), FALLBACK_NAME);
    assert.equal(fileNameFromUrl('http://evil.example/a/%2e%2e%2f%2e%2e%2fetc%2fpasswd'), 'passwd');
    assert.equal(fileNameFromUrl('http://evil.example/%E0%A4%A'), '%E0%A4%A');
  });
  test('no segment, or not a URL: the fallback', () => {
    assert.equal(fileNameFromUrl('https://example.org/'), FALLBACK_NAME);
    assert.equal(fileNameFromUrl('not a url', 'file'), 'file');
  });
});
