// Installs Debian's Chromium for the browser test (packages/confab/test/integration/browser.test.ts)
// when it is missing: `apt-get install -y chromium`, the way TOOLCHAIN.md says (never
// `npx playwright install`: it downloads its own build and fails here). Used by the test runner's
// install step, and by the browser test itself as a fallback when run on its own.

import { existsSync } from 'node:fs';
import { ensurePackages } from '../testbed/install.ts';

/** Where Debian's package puts the browser; playwright-core launches it as `executablePath`. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Makes sure Chromium is installed (apt-get, non-interactive; ~30 s on a fresh machine) and returns
 * its path. Throws with a message that says how to install it by hand when it cannot.
 */
export function ensureChromium(log: (s: string) => void = console.log): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  ensurePackages(['chromium'], log);
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `apt-get installed chromium but ${CHROMIUM_PATH} is missing: apt-get install -y chromium`,
    );
  }
  return CHROMIUM_PATH;
}
