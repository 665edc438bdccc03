// Installs the test bed's system packages with apt-get when they are missing (Debian/Ubuntu).
// Used by `npm test` and `npm start` so a fresh machine needs no manual setup.

import { execFileSync, spawnSync } from 'node:child_process';

/** Package -> a command it provides (how we tell it is installed). */
export const SYSTEM_PACKAGES: Record<string, string> = {
  prosody: 'prosody',
  ejabberd: 'erl',
  tmux: 'tmux',
  openssl: 'openssl',
};

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function ejabberdPresent(): boolean {
  return (
    spawnSync(
      'sh',
      ['-c', 'ls -d /usr/lib/*/ejabberd-* /usr/lib/erlang/lib/ejabberd-* 2>/dev/null | grep -q .'],
      {
        stdio: 'ignore',
      },
    ).status === 0
  );
}

/** Which of `wanted` are missing. */
export function missingPackages(wanted: string[]): string[] {
  return wanted.filter((p) =>
    p === 'ejabberd' ? !(has('erl') && ejabberdPresent()) : !has(SYSTEM_PACKAGES[p] ?? p),
  );
}

/**
 * Makes sure `wanted` packages are installed, running `apt-get update` once and then
 * `apt-get install -y` non-interactively. Throws with a clear message when it cannot.
 */
export function ensurePackages(wanted: string[], log: (s: string) => void = console.log): void {
  const missing = missingPackages(wanted);
  if (missing.length === 0) return;
  log(`testbed: installing ${missing.join(', ')} with apt-get`);
  if (!has('apt-get')) {
    throw new Error(`missing ${missing.join(', ')} and no apt-get here: install them by hand`);
  }
  const root = process.getuid?.() === 0;
  const sudo = root ? [] : has('sudo') ? ['sudo', '-n'] : null;
  if (sudo === null) {
    throw new Error(
      `missing ${missing.join(', ')}: run as root or install them: sudo apt-get install -y ${missing.join(' ')}`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...sudo, ...args];
    try {
      execFileSync(cmd!, rest, { stdio: ['ignore', 'inherit', 'inherit'], env, timeout: 600_000 });
    } catch (err) {
      throw new Error(
        `\`${[cmd, ...rest].join(' ')}\` failed (${(err as Error).message}); install by hand: apt-get install -y ${missing.join(' ')}`,
      );
    }
  };
  run(['apt-get', 'update', '-q']);
  run(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...missing]);
  const still = missingPackages(missing);
  if (still.length > 0) throw new Error(`apt-get ran but ${still.join(', ')} still missing`);
}
