// Keyboard decoding, the line editor and tab completion.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findCommand } from './commands.ts';
import { candidates, commonPrefix, fileCandidates } from './complete.ts';
import { Editor } from './editor.ts';
import { KeyParser } from './keys.ts';

describe('keys', () => {
  it('decodes text, control keys, Alt, cursor keys and modifiers', () => {
    const p = new KeyParser();
    assert.deepEqual(p.feed('hé'), [{ name: 'text', text: 'hé' }]);
    assert.deepEqual(p.feed('\r'), [{ name: 'enter' }]);
    assert.deepEqual(p.feed('\n'), [{ name: 'enter', ctrl: true, text: 'j' }]);
    assert.deepEqual(p.feed('\u001b\r'), [{ name: 'enter', alt: true }]);
    assert.deepEqual(p.feed('\u0001'), [{ name: 'text', text: 'a', ctrl: true }]);
    assert.deepEqual(p.feed('\u001b1'), [{ name: 'text', text: '1', alt: true }]);
    assert.deepEqual(p.feed('\u001b[A\u001bOB'), [{ name: 'up' }, { name: 'down' }]);
    assert.deepEqual(p.feed('\u001b[1;5C'), [{ name: 'right', ctrl: true }]);
    assert.deepEqual(p.feed('\u001b[3~\u001b[5~\u001b[6~'), [
      { name: 'delete' },
      { name: 'pageup' },
      { name: 'pagedown' },
    ]);
    assert.deepEqual(p.feed('\u007f\t\u001b[Z'), [
      { name: 'backspace' },
      { name: 'tab' },
      { name: 'backtab' },
    ]);
    assert.deepEqual(p.feed('\u001b'), [{ name: 'escape' }]);
    assert.deepEqual(p.feed('ab\u001b[Dc'), [
      { name: 'text', text: 'ab' },
      { name: 'left' },
      { name: 'text', text: 'c' },
    ]);
  });

  it('keeps a bracketed paste whole, across reads, newlines included', () => {
    const p = new KeyParser();
    assert.deepEqual(p.feed('\u001b[200~line 1\r\nli'), []);
    assert.deepEqual(p.feed('ne 2\u001b[201~x'), [
      { name: 'paste', text: 'line 1\nline 2' },
      { name: 'text', text: 'x' },
    ]);
  });
});

describe('editor', () => {
  it('edits by grapheme cluster', () => {
    const e = new Editor();
    e.insert('ae\u0301日');
    e.left();
    e.left();
    assert.equal(e.cursor, 1);
    e.delete();
    assert.equal(e.text, 'a日');
    e.end();
    e.backspace();
    assert.equal(e.text, 'a');
  });

  it('kills and yanks, moves by word, keeps a history', () => {
    const e = new Editor();
    e.insert('hello big world');
    e.killWord();
    assert.equal(e.text, 'hello big ');
    e.yank();
    assert.equal(e.text, 'hello big world');
    e.home();
    e.wordRight();
    assert.equal(e.cursor, 5);
    e.killToEnd();
    assert.equal(e.text, 'hello');
    e.killToStart();
    assert.equal(e.text, '');
    e.insert('one');
    e.submit();
    e.insert('two');
    e.submit();
    e.insert('draft');
    e.up();
    assert.equal(e.text, 'two');
    e.up();
    assert.equal(e.text, 'one');
    e.down();
    e.down();
    assert.equal(e.text, 'draft');
  });

  it('moves between the lines of a multi-line text before the history', () => {
    const e = new Editor();
    e.insert('first');
    e.submit();
    e.insert('abc\nde');
    e.up();
    assert.equal(e.text, 'abc\nde');
    assert.equal(e.cursor, 2);
    e.down();
    assert.equal(e.cursor, 6);
  });
});

describe('completion', () => {
  const src = {
    jids: () => ['juliet@example.org', 'julia@example.net', 'romeo@example.net'],
    rooms: () => ['verona@conference.example.org'],
    nicks: () => ['Mercutio', 'Benvolio'],
    windows: () => ['1', '2'],
  };

  it('completes command names, then arguments by their kind', () => {
    assert.deepEqual(candidates('/jo', 3, src, false).list, ['/join']);
    assert.deepEqual(candidates('/msg jul', 8, src, false).list, ['juliet@example.org', 'julia@example.net']);
    assert.deepEqual(candidates('/join ver', 9, src, false).list, ['verona@conference.example.org']);
    assert.deepEqual(candidates('/kick m', 7, src, false).list, ['Mercutio']);
    assert.deepEqual(candidates('/status x', 9, src, false).list, ['xa']);
    assert.deepEqual(candidates('/msg juliet@example.org hel', 27, src, false).list, []);
    assert.deepEqual(candidates('hi ben', 6, src, true), {
      start: 3,
      word: 'ben',
      list: ['Benvolio'],
      suffix: ' ',
    });
    assert.equal(candidates('ben', 3, src, true).suffix, ': ');
    assert.equal(commonPrefix(['juliet@example.org', 'julia@example.net']), 'juli');
  });

  it('completes file names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'confab-complete-'));
    writeFileSync(join(dir, 'photo.jpg'), '');
    writeFileSync(join(dir, 'plan.pdf'), '');
    mkdirSync(join(dir, 'pics'));
    assert.deepEqual(fileCandidates(`${dir}/p`), [`${dir}/photo.jpg`, `${dir}/pics/`, `${dir}/plan.pdf`]);
    assert.deepEqual(candidates(`/upload ${dir}/pl`, 12 + dir.length, src, false).list, [`${dir}/plan.pdf`]);
  });

  it('finds a command by a unique prefix', () => {
    assert.equal(findCommand('xml')?.name, 'xmlconsole');
    assert.equal(findCommand('b'), undefined);
    assert.equal(findCommand('quit')?.name, 'quit');
  });
});
