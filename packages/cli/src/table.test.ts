import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindArguments, parseCommandLine } from './args.ts';
import { GLOBAL_OPTIONS } from './globals.ts';
import { commandHelp, commandsMarkdown, complete, globalHelp } from './help.ts';
import { type CommandSpec, type OptionSpec, optionLabel, synopsisOf } from './spec.ts';
import { COMMANDS as TABLE } from './table.ts';

const COMMANDS: readonly CommandSpec[] = TABLE;
const GLOBALS: readonly OptionSpec[] = GLOBAL_OPTIONS;

/** Splits a documented example into words the way sh would (quotes; the last pipeline stage). */
/** The words of the `confab` stage of a shell pipeline (quotes respected, `|` inside quotes kept). */
function shellWords(line: string): string[] {
  const stages: string[][] = [[]];
  let cur: string | undefined;
  let quote: string | undefined;
  const end = () => {
    if (cur !== undefined) stages.at(-1)!.push(cur);
    cur = undefined;
  };
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur = (cur ?? '') + ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      cur = cur ?? '';
    } else if (ch === ' ') end();
    else if (ch === '|') {
      end();
      stages.push([]);
    } else cur = (cur ?? '') + ch;
  }
  end();
  return stages.find((w) => w[0] === 'confab') ?? stages[0]!;
}

describe('the command table', () => {
  it('gives every command a name, summary, synopsis, description, examples and handler', () => {
    const names = new Set<string>();
    for (const cmd of COMMANDS) {
      assert.match(cmd.name, /^[a-z]+( [a-z]+)?$/, cmd.name);
      assert.ok(!names.has(cmd.name), `duplicate ${cmd.name}`);
      names.add(cmd.name);
      assert.ok(cmd.summary.length > 5 && cmd.summary.length <= 60, `${cmd.name}: summary`);
      assert.ok(cmd.description.length > 40, `${cmd.name}: description`);
      assert.equal(typeof synopsisOf(cmd), 'string');
      assert.ok(cmd.examples.length > 0, `${cmd.name}: examples`);
      assert.equal(typeof cmd.handler, 'function');
      for (const o of cmd.options) {
        assert.ok(o.description.length > 0, `${cmd.name} --${o.name}`);
        assert.ok(!GLOBALS.some((g) => g.name === o.name), `${cmd.name} --${o.name} shadows a global option`);
        if (o.type === 'choice') assert.ok(o.choices && o.choices.length > 1);
      }
      const variadic = cmd.arguments.findIndex((a) => a.variadic);
      assert.ok(
        variadic === -1 || variadic === cmd.arguments.length - 1,
        `${cmd.name}: variadic must be last`,
      );
    }
  });

  it('has only examples that the parser accepts, for the command they document', () => {
    for (const cmd of COMMANDS) {
      for (const ex of cmd.examples) {
        const words = shellWords(ex.command);
        assert.equal(words[0], 'confab', ex.command);
        const parsed = parseCommandLine(words.slice(1), COMMANDS, GLOBAL_OPTIONS);
        assert.equal(parsed.command?.name, cmd.name, ex.command);
        bindArguments(parsed.command!, parsed.positionals);
        assert.ok(ex.description.length > 0);
      }
    }
  });

  it('has no password option anywhere', () => {
    const all = [...GLOBALS, ...COMMANDS.flatMap((c) => c.options)];
    assert.ok(!all.some((o) => o.name === 'password'));
  });

  it('names the global options as issue 7 does', () => {
    const names = GLOBALS.map((o) => o.name);
    for (const n of [
      'jid',
      'password-command',
      'host',
      'port',
      'direct-tls',
      'websocket',
      'ca',
      'legacy-auth',
      'allow-plaintext',
      'resource',
      'pin',
      'json',
      'debug',
      'config',
    ]) {
      assert.ok(names.includes(n), n);
    }
  });
});

describe('help', () => {
  it('lists every command and every global option', () => {
    const text = globalHelp(COMMANDS);
    const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const cmd of COMMANDS) {
      assert.match(text, new RegExp(`^  ${literal(cmd.name)} +${literal(cmd.summary)}`, 'm'));
    }
    for (const o of GLOBAL_OPTIONS) assert.ok(text.includes(optionLabel(o)), o.name);
    assert.match(text, /Exit status: 0 success, 1 failure .* 5 timeout/s);
  });

  it('shows a command with its synopsis, options, defaults and examples', () => {
    const send = COMMANDS.find((c) => c.name === 'send')!;
    const text = commandHelp(send);
    assert.match(text, /^Usage: confab send JID \[TEXT\.\.\.\] \[--type chat\|normal\|headline\]/);
    assert.match(text, /--type chat\|normal\|headline +The message type \(default: chat\)/);
    assert.match(text, /Examples:\n {2}confab send juliet@example.org/);
    for (const ex of send.examples) assert.ok(text.includes(ex.command));
  });

  it('keeps lines within 80 columns', () => {
    const texts = [globalHelp(COMMANDS), ...COMMANDS.map((c) => commandHelp(c))];
    for (const text of texts) {
      for (const line of text.split('\n')) {
        // Examples are commands to copy; they are not wrapped.
        if (line.startsWith('  confab ') || line.startsWith('Usage: ')) continue;
        assert.ok(line.length <= 80, `too long: ${line}`);
      }
    }
  });

  it('generates Markdown docs for every command', () => {
    const md = commandsMarkdown(COMMANDS);
    for (const cmd of COMMANDS) assert.ok(md.includes(`### \`confab ${cmd.name}`), cmd.name);
  });
});

describe('completion', () => {
  it('completes command names, then options of that command and the global ones', () => {
    assert.deepEqual(complete([], 'se', COMMANDS), ['send']);
    assert.deepEqual(complete([], 'l', COMMANDS), ['listen']);
    assert.deepEqual(complete(['listen'], '--co', COMMANDS), ['--count', '--config']);
    assert.deepEqual(complete(['send'], '--t', COMMANDS), ['--type', '--thread']);
    assert.deepEqual(complete([], '--js', COMMANDS), ['--json']);
  });
});
