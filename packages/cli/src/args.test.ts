import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindArguments, parseCommandLine, UsageError } from './args.ts';
import { GLOBAL_OPTIONS } from './globals.ts';
import { type CommandSpec, defineCommand } from './spec.ts';
import { COMMANDS } from './table.ts';

const noop = async () => 0;
const roster = defineCommand({
  name: 'roster',
  summary: 's',
  description: 'd',
  arguments: [],
  options: [],
  examples: [],
  connects: true,
  handler: noop,
});
const rosterAdd = defineCommand({
  name: 'roster add',
  summary: 's',
  description: 'd',
  arguments: [{ name: 'JID', description: 'j' }],
  options: [
    { name: 'group', type: 'string', repeatable: true, description: 'g' },
    { name: 'name', type: 'string', description: 'n' },
  ],
  examples: [],
  connects: true,
  handler: noop,
});
const download = defineCommand({
  name: 'download',
  summary: 's',
  description: 'd',
  arguments: [{ name: 'URL', description: 'u' }],
  options: [{ name: 'output', short: 'o', type: 'string', value: 'FILE', description: 'o' }],
  examples: [],
  connects: true,
  handler: noop,
});
const ALL = [...COMMANDS, roster, rosterAdd, download] as readonly CommandSpec[];

function parse(...argv: string[]) {
  return parseCommandLine(argv, ALL, GLOBAL_OPTIONS);
}

function usageError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('parseCommandLine', () => {
  it('takes global options before the command name', () => {
    const p = parse('--jid', 'a@b', 'send', 'c@d', 'hi');
    assert.equal(p.command?.name, 'send');
    assert.equal(p.global.jid, 'a@b');
    assert.deepEqual(p.positionals, ['c@d', 'hi']);
  });

  it('takes global options after the command name and among the arguments', () => {
    const p = parse('send', 'c@d', '--jid', 'a@b', 'hi', '--json', 'there');
    assert.equal(p.global.jid, 'a@b');
    assert.equal(p.global.json, true);
    assert.deepEqual(p.positionals, ['c@d', 'hi', 'there']);
  });

  it('gives the same result for both positions', () => {
    const a = parse('--jid', 'a@b', '--port', '5223', 'send', 'c@d', 'x');
    const b = parse('send', 'c@d', 'x', '--jid', 'a@b', '--port', '5223');
    assert.deepEqual(a.global, b.global);
    assert.deepEqual(a.positionals, b.positionals);
  });

  it('accepts --opt=value and --opt value', () => {
    assert.equal(parse('send', 'c@d', 'x', '--type=headline').options.type, 'headline');
    assert.equal(parse('send', 'c@d', 'x', '--type', 'normal').options.type, 'normal');
    assert.equal(parse('--jid=a@b=c', 'listen').global.jid, 'a@b=c', 'only the first = splits');
  });

  it('fills defaults: choice default, booleans false, repeatables empty', () => {
    const p = parse('send', 'c@d', 'x');
    assert.equal(p.options.type, 'chat');
    assert.equal(p.options.subject, undefined);
    assert.equal(p.global.json, false);
    assert.deepEqual(parse('roster', 'add', 'x@y').options.group, []);
  });

  it('ends options at --', () => {
    const p = parse('send', 'c@d', '--', '--json', '-x', '--');
    assert.equal(p.global.json, false);
    assert.deepEqual(p.positionals, ['c@d', '--json', '-x', '--']);
  });

  it('treats a lone - as an argument', () => {
    assert.deepEqual(parse('send', 'c@d', '-').positionals, ['c@d', '-']);
  });

  it('lets a value-taking option take a value that starts with a dash', () => {
    assert.equal(parse('send', 'c@d', 'x', '--subject', '-- urgent').options.subject, '-- urgent');
  });

  it('collects repeatable options in order; a scalar given twice keeps the last', () => {
    const p = parse('roster', 'add', 'x@y', '--group', 'A', '--name', 'n1', '--group=B', '--name', 'n2');
    assert.equal(p.command?.name, 'roster add');
    assert.deepEqual(p.options.group, ['A', 'B']);
    assert.equal(p.options.name, 'n2');
  });

  it('selects two-word commands, and the group command when the next word is not a subcommand', () => {
    assert.equal(parse('roster', 'add', 'x@y').command?.name, 'roster add');
    assert.equal(parse('roster').command?.name, 'roster');
    assert.equal(parse('--json', 'roster').command?.name, 'roster');
    assert.equal(parse('roster', '--json').command?.name, 'roster');
  });

  it('accepts a short alias', () => {
    assert.equal(parse('download', 'http://x/', '-o', 'f.txt').options.output, 'f.txt');
    assert.equal(parse('-h').global.help, true);
  });

  it('converts and checks typed values', () => {
    assert.equal(parse('listen', '--count', '3').options.count, 3);
    assert.equal(parse('listen', '--timeout', '1.5').options.timeout, 1.5);
    assert.equal(parse('--port', '5223', 'listen').global.port, 5223);
    usageError(() => parse('listen', '--count', 'three'), /--count wants a whole number/);
    usageError(() => parse('listen', '--count', '0'), /--count must be at least 1/);
    usageError(() => parse('listen', '--timeout', '-1'), /--timeout wants a number of seconds/);
    usageError(() => parse('listen', '--timeout', '10s'), /--timeout wants a number of seconds/);
    usageError(
      () => parse('send', 'c@d', 'x', '--type', 'groupchat'),
      /--type must be one of chat, normal, headline/,
    );
  });

  it('refuses unknown options, naming the command whose help to read', () => {
    assert.throws(
      () => parse('send', 'c@d', '--bogus'),
      (e: unknown) =>
        e instanceof UsageError && e.command === 'send' && /unknown option --bogus/.test(e.message),
    );
    usageError(() => parse('--bogus', 'send'), /unknown option --bogus/);
    usageError(() => parse('-x'), /unknown option -x/);
    usageError(() => parse('listen', '-abc'), /unknown option -abc/);
  });

  it('says where to put a command option given before the command', () => {
    usageError(
      () => parse('--count', '3', 'listen'),
      /--count is an option of 'listen': put it after the command/,
    );
  });

  it('has no password option', () => {
    usageError(() => parse('--password', 'secret', 'listen'), /unknown option --password/);
  });

  it('refuses a missing value, a value on a boolean, an unknown command', () => {
    usageError(() => parse('listen', '--count'), /--count needs a value \(N\)/);
    usageError(() => parse('listen', '--jid'), /--jid needs a value \(JID\)/);
    usageError(() => parse('listen', '--json=yes'), /--json takes no value/);
    usageError(() => parse('sned', 'x'), /unknown command 'sned'/);
  });
});

describe('bindArguments', () => {
  const send = COMMANDS.find((c) => c.name === 'send')!;
  it('binds required and variadic arguments', () => {
    assert.deepEqual(bindArguments(send, ['c@d', 'hello', 'world']), {
      JID: 'c@d',
      TEXT: ['hello', 'world'],
    });
    assert.deepEqual(bindArguments(send, ['c@d']), { JID: 'c@d', TEXT: [] });
  });
  it('refuses a missing required argument and extra words', () => {
    usageError(() => bindArguments(send, []), /missing JID for 'send'/);
    const listen = COMMANDS.find((c) => c.name === 'listen')!;
    usageError(() => bindArguments(listen, ['extra']), /unexpected argument 'extra' for 'listen'/);
  });
});
