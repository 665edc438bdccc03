// The demo bot of `npm start` (issue 3 "Also", issue 7 "`npm start`"): one account that answers
// every chat message (RFC 6121 5.2.2 type `chat`, 5.2.5 thread echoed) with an echo and a friendly
// line, plus a few commands (`help`, `ping`, `time`, `whoami`). Uses only the library's public API.

import type { Client, Message } from '../../packages/confab/src/index.ts';
import { bare } from '../../packages/confab/src/index.ts';

/** What the bot answers to `body` from `from` (a full or bare JID). Pure, so it is easy to test. */
export function botReply(body: string, from: string, now: Date = new Date()): string {
  const who = from.split('@')[0] || from;
  const command = body.trim().toLowerCase();
  switch (command) {
    case 'help':
    case '/help':
    case '?':
      return [
        "I'm the confab demo bot. Try:",
        '  help    this list',
        '  ping    I answer pong',
        '  time    my clock',
        '  whoami  the address your message came from',
        'Anything else I echo back.',
      ].join('\n');
    case 'ping':
      return 'pong';
    case 'time':
      return `It is ${now.toISOString()} here.`;
    case 'whoami':
      return `You are ${from}.`;
    default:
      return `echo: ${body}\nNice to hear from you, ${who}! (say "help" for what I can do)`;
  }
}

export interface BotOptions {
  /** Called for each message the bot answers (for the demo's log); not called for bodyless ones. */
  onAnswer?: (msg: Message, reply: string) => void;
}

/**
 * Wires the bot's behaviour onto a (not yet connected) client. The reply goes to the sender's
 * bare JID, not its full JID: the one-shot `confab send` logs out right after sending, and a
 * chat message to the bare JID reaches every online resource of the account (RFC 6121 8.5.2.1.1),
 * so the demo's own client and a `confab listen` both see it.
 */
export function runBot(client: Client, options: BotOptions = {}): void {
  client.on('message', (msg) => {
    // Not our own copies (carbons, archive), not errors, not chat states or other bodyless ones.
    if (msg.outgoing || msg.type === 'error' || msg.type === 'groupchat' || !msg.body) return;
    const reply = botReply(msg.body, msg.from);
    options.onAnswer?.(msg, reply);
    client.messages.send({ to: bare(msg.from), body: reply, thread: msg.thread });
  });
}
