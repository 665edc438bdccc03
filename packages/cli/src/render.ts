/**
 * How events look on stdout. `--json`: the stanza's fields under their XMPP names (`from`, `to`,
 * `id`, `type`, `body`, `thread`, `subject`, `delay` as ISO 8601, `oob` as `[{url, desc}]`); the
 * schema only grows. Plain: one line per message, `[delay] from: body`, remote text sanitized,
 * continuation lines of a multi-line body indented so the next message stays recognisable.
 */
import type { Output, Style } from './output.ts';
import { remote } from './output.ts';
import type { IncomingMessage } from './session.ts';

/** The `--json` object of a message (without the `event` field). */
export function messageFields(msg: IncomingMessage): Record<string, unknown> {
  return {
    from: msg.from,
    to: msg.to,
    id: msg.id,
    type: msg.type,
    subject: msg.subject,
    thread: msg.thread,
    body: msg.body,
    delay: msg.delay?.toISOString(),
    oob: msg.oob.length > 0 ? msg.oob.map((o) => ({ url: o.url, desc: o.desc })) : undefined,
  };
}

/** The plain line(s) of a message, terminal-safe. */
export function messageLine(msg: IncomingMessage, style: Style): string {
  const head: string[] = [];
  if (msg.delay) head.push(style.dim(`[${msg.delay.toISOString()}]`));
  head.push(style.bold(`${remote(msg.from ?? '(server)')}:`));
  if (msg.subject !== undefined) head.push(`[${remote(msg.subject)}]`);
  const parts = [head.join(' ')];
  if (msg.body !== undefined) parts.push(remote(msg.body, true).replace(/\n/g, '\n  '));
  for (const o of msg.oob)
    parts.push(o.desc ? `<${remote(o.url)}> (${remote(o.desc)})` : `<${remote(o.url)}>`);
  return parts.join(' ');
}

/** Prints one incoming message in the chosen format. */
export function printMessage(out: Output, msg: IncomingMessage): void {
  if (out.json) out.event('message', messageFields(msg));
  else out.line(messageLine(msg, out.style));
}
