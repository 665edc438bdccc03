/**
 * How events look on stdout. `--json`: the stanza's fields under their XMPP names (`from`, `to`,
 * `id`, `type`, `body`, `thread`, `subject`, `delay` as ISO 8601, `oob` as `[{url, desc}]`); the
 * schema only grows. Plain: one line per message, `[delay] from: body`, remote text sanitized,
 * continuation lines of a multi-line body indented so the next message stays recognisable.
 */
import type { Output, Style } from './output.ts';
import { remote } from './output.ts';
import type { CliEvent, IncomingMessage } from './session.ts';

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
    xhtml: msg.xhtml?.xml,
    xhtmlText: msg.xhtml?.text,
    expire: msg.expire,
    addresses: msg.addresses,
    outgoing: msg.outgoing || undefined,
  };
}

/** The plain line(s) of a message, terminal-safe. */
export function messageLine(msg: IncomingMessage, style: Style): string {
  const head: string[] = [];
  if (msg.delay) head.push(style.dim(`[${msg.delay.toISOString()}]`));
  const tags: string[] = [];
  if (msg.type !== undefined && msg.type !== 'chat') tags.push(remote(msg.type));
  if (msg.thread !== undefined) tags.push(`thread ${remote(msg.thread)}`);
  if (msg.expire !== undefined) tags.push(`expires after ${msg.expire} s`);
  const cc = (msg.addresses ?? []).filter((a) => a.type === 'cc' && a.jid).map((a) => remote(a.jid));
  if (cc.length > 0) tags.push(`cc ${cc.join(', ')}`);
  // What another client of ours sent (a sent carbon) reads `me -> them:`.
  const who = msg.outgoing
    ? `${remote(msg.from ?? 'me')} -> ${remote(msg.to ?? '?')}`
    : remote(msg.from ?? '(server)');
  head.push(style.bold(`${who}:`));
  if (tags.length > 0) head.push(style.dim(`(${tags.join('; ')})`));
  if (msg.subject !== undefined) head.push(`[${remote(msg.subject)}]`);
  const parts = [head.join(' ')];
  // The rich version (XHTML-IM) is shown as its text: it says what the body says (XEP-0071 8).
  const text = msg.xhtml !== undefined && msg.xhtml.text !== '' ? msg.xhtml.text : msg.body;
  if (text !== undefined) parts.push(remote(text, true).replace(/\n/g, '\n  '));
  for (const o of msg.oob)
    parts.push(o.desc ? `<${remote(o.url)}> (${remote(o.desc)})` : `<${remote(o.url)}>`);
  return parts.join(' ');
}

/** Prints one incoming message in the chosen format. */
export function printMessage(out: Output, msg: IncomingMessage): void {
  if (out.json) out.event('message', messageFields(msg));
  else out.line(messageLine(msg, out.style));
}

/** The `--json` object of a non-message event (without `event`). */
export function eventFields(e: CliEvent): Record<string, unknown> {
  const { event: _, ...fields } = e;
  return fields;
}

/** The plain line of a non-message event, terminal-safe. */
export function eventLine(e: CliEvent, style: Style): string {
  const who = (j: string) => style.bold(remote(j));
  const quoted = (t: string | undefined) => (t === undefined || t === '' ? '' : ` "${remote(t)}"`);
  switch (e.event) {
    case 'presence':
      return `* ${who(e.from)} is ${e.type === 'unavailable' ? 'offline' : remote(e.show ?? 'online')}${quoted(e.status)}`;
    case 'subscription': {
      const what = {
        subscribe: 'asks to see your presence',
        subscribed: 'approved your subscription',
        unsubscribe: 'stopped seeing your presence',
        unsubscribed: 'refused or cancelled your subscription',
      }[e.type];
      return `* ${who(e.from)} ${what}${quoted(e.status)}${e.nick ? ` (nick ${remote(e.nick)})` : ''}`;
    }
    case 'receipt':
      return `* ${who(e.from)} received message ${remote(e.id)}`;
    case 'chatstate': {
      const what: Record<string, string> = {
        composing: 'is typing',
        paused: 'paused typing',
        active: 'is active',
        inactive: 'is inactive',
        gone: 'left the conversation',
      };
      return `* ${who(e.from)} ${what[e.state] ?? remote(e.state)}`;
    }
    case 'invite':
      return `* ${who(e.from)} invites you to ${remote(e.room)}${quoted(e.reason)}${e.password !== undefined ? ' (with a password)' : ''}`;
    case 'roster': {
      const groups = e.groups.length ? ` [${e.groups.map((g) => remote(g)).join(', ')}]` : '';
      const name = e.name ? ` (${remote(e.name)})` : '';
      if (e.change === 'suggested') {
        return `* ${who(e.from ?? '')} suggests: ${remote(e.action ?? 'add')} ${remote(e.jid)}${name}${groups}`;
      }
      const sub = e.change === 'removed' ? '' : ` subscription ${remote(e.subscription ?? 'none')}`;
      return `* roster ${e.change}: ${remote(e.jid)}${name}${groups}${sub}${e.ask ? ' (asked)' : ''}`;
    }
  }
}

/** Prints one non-message event in the chosen format. */
export function printEvent(out: Output, e: CliEvent): void {
  if (out.json) out.event(e.event, eventFields(e));
  else out.line(eventLine(e, out.style));
}
