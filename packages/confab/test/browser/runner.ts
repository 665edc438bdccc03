// The page side of the browser test: bundled on its own (esbuild) and loaded by the test page after
// the library bundle. It loads `./confab.js` (the library's browser build) at run time, so the
// library is exactly the bundle an app would ship, and exposes `globalThis.confabRun(params)` for
// the test to call through playwright.
//
// It counts PBKDF2 derivations by wrapping crypto.subtle.deriveBits, so the test can tell that
// SCRAM (RFC 5802 / RFC 7677) ran on WebCrypto in the browser.

import type * as Confab from '../../src/browser.ts';

export interface PageParams {
  jid: string;
  password: string;
  websocket: string;
  /** Send `body` to `to` once online, then wait for the first message with a body. */
  to?: string;
  body?: string;
  timeoutMs: number;
}

/** What a run reports back (plain JSON across the playwright bridge). */
export interface PageOutcome {
  ok: boolean;
  error?: { name: string; code: string; message: string };
  boundJid?: string;
  /** The SASL mechanism of the `<auth/>` the client sent (from its debug log). */
  mechanism?: string;
  /** crypto.subtle.deriveBits calls with PBKDF2 during this run. */
  pbkdf2Calls: number;
  secureContext: boolean;
  userAgent: string;
  reply?: { from: string; body: string | undefined };
}

let pbkdf2Calls = 0;
const subtle = globalThis.crypto.subtle;
const deriveBits = subtle.deriveBits.bind(subtle);
subtle.deriveBits = (algorithm, baseKey, length) => {
  const name = typeof algorithm === 'string' ? algorithm : algorithm.name;
  if (name.toUpperCase() === 'PBKDF2') pbkdf2Calls++;
  return deriveBits(algorithm, baseKey, length);
};

const confab = (await import(new URL('./confab.js', globalThis.location.href).href)) as typeof Confab;

async function run(p: PageParams): Promise<PageOutcome> {
  const before = pbkdf2Calls;
  const lines: string[] = [];
  const base = { secureContext: globalThis.isSecureContext, userAgent: globalThis.navigator.userAgent };
  const client = confab.createClient({
    jid: p.jid,
    password: p.password,
    websocket: p.websocket,
    reconnect: false,
    resource: 'chromium',
    debug: (l) => lines.push(l),
  });
  let gotReply: (m: { from: string; body: string | undefined }) => void = () => {};
  const reply = new Promise<{ from: string; body: string | undefined }>((resolve) => {
    gotReply = resolve;
  });
  client.on('message', (m) => {
    if (m.body !== undefined) gotReply({ from: m.from, body: m.body });
  });
  try {
    await client.connect();
  } catch (err) {
    const e = err as { name?: unknown; code?: unknown; message?: unknown };
    return {
      ...base,
      ok: false,
      error: { name: String(e.name), code: String(e.code), message: String(e.message) },
      pbkdf2Calls: pbkdf2Calls - before,
    };
  }
  // The `<auth/>` we sent (the server's stream features carry an `<auth/>` of XEP-0078 too).
  const auth = lines.find((l) => l.startsWith('confab -> <auth '));
  const outcome: PageOutcome = {
    ...base,
    ok: true,
    boundJid: client.jid,
    pbkdf2Calls: pbkdf2Calls - before,
  };
  const mechanism = auth ? /mechanism=['"]([^'"]+)['"]/.exec(auth)?.[1] : undefined;
  if (mechanism !== undefined) outcome.mechanism = mechanism;
  try {
    if (p.to !== undefined && p.body !== undefined) {
      await client.messages.send({ to: p.to, body: p.body });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), p.timeoutMs);
      });
      const r = await Promise.race([reply, timeout]);
      clearTimeout(timer);
      if (r !== undefined) outcome.reply = r;
    }
  } finally {
    await client.disconnect();
  }
  return outcome;
}

(globalThis as { confabRun?: typeof run }).confabRun = run;
(globalThis as { confabReady?: boolean }).confabReady = true;
