/**
 * The opt-in wire log (DESIGN principle 11): every element in and out, with
 * secrets redacted before serializing:
 * - SASL payloads (RFC 6120 6.4: `<auth>`, `<response>`, `<challenge>`,
 *   `<success>` contents): they carry the password (PLAIN) or material to attack
 *   it offline (SCRAM), so they become a placeholder, as xmpp.js does;
 * - legacy auth `<password>` and `<digest>` (XEP-0078), in-band registration
 *   `<password>` (XEP-0077), and any data-form field named like a password.
 *
 * On with `options.debug` or the `CONFAB_DEBUG=1` environment variable, read only
 * where a `process` global exists (a guarded lookup: browsers have none).
 */
import { Element } from '../xml/element.ts';
import { serialize } from '../xml/serializer.ts';
import { NS_CLIENT, NS_IQ_AUTH, NS_SASL } from './ns.ts';

/** A sink for log lines. */
export type DebugSink = (line: string) => void;

const NS_REGISTER = 'jabber:iq:register';
const NS_DATA = 'jabber:x:data';
const SASL_PAYLOADS = new Set(['auth', 'response', 'challenge', 'success']);
const PLACEHOLDER = '[redacted]';

/** Whether `CONFAB_DEBUG` asks for the log (`1`, `true`, `yes`). */
export function debugFromEnv(): boolean {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = proc?.env?.CONFAB_DEBUG;
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}

/** The sink for `options.debug`, or undefined when logging is off. */
export function debugSink(option: boolean | DebugSink | undefined): DebugSink | undefined {
  if (typeof option === 'function') return option;
  if (option === false) return undefined;
  if (option === true || debugFromEnv()) {
    // stderr in Node (stdout is for data, e.g. the CLI's), the console's debug level in browsers.
    const hasProcess = (globalThis as { process?: unknown }).process !== undefined;
    return hasProcess ? (line) => console.error(line) : (line) => console.debug(line);
  }
  return undefined;
}

/** A copy of `el` with secrets replaced; `el` itself is untouched. Returns `el` when nothing is secret. */
export function redact(el: Element): Element {
  if (el.xmlns === NS_SASL && SASL_PAYLOADS.has(el.name)) {
    return el.children.length === 0 ? el : new Element(el.name, el.xmlns, { ...el.attrs }, [PLACEHOLDER]);
  }
  return containsSecret(el) ? copyRedacted(el, false) : el;
}

function isSecretField(el: Element, inSecretScope: boolean): boolean {
  if (!inSecretScope) return false;
  if (el.name === 'password' || el.name === 'digest') return true;
  return false;
}

function scopeOf(el: Element): boolean {
  return el.xmlns === NS_IQ_AUTH || el.xmlns === NS_REGISTER;
}

function isPasswordFormField(el: Element): boolean {
  return el.xmlns === NS_DATA && el.name === 'field' && /pass/i.test(el.attr('var') ?? '');
}

function containsSecret(el: Element, scope = false): boolean {
  const s = scope || scopeOf(el);
  for (const c of el.children) {
    if (typeof c === 'string') continue;
    if (isSecretField(c, s) || isPasswordFormField(c)) return true;
    if (containsSecret(c, s)) return true;
  }
  return false;
}

function copyRedacted(el: Element, scope: boolean): Element {
  const s = scope || scopeOf(el);
  const out = new Element(el.name, el.xmlns, { ...el.attrs });
  for (const c of el.children) {
    if (typeof c === 'string') out.children.push(c);
    else if (isSecretField(c, s))
      out.children.push(new Element(c.name, c.xmlns, { ...c.attrs }, [PLACEHOLDER]));
    else if (isPasswordFormField(c)) {
      const field = new Element(c.name, c.xmlns, { ...c.attrs });
      for (const v of c.elements())
        field.children.push(new Element(v.name, v.xmlns, { ...v.attrs }, [PLACEHOLDER]));
      out.children.push(field);
    } else out.children.push(copyRedacted(c, s));
  }
  return out;
}

/** Format one log line for an element in (`<-`) or out (`->`). */
export function formatWire(direction: 'in' | 'out', el: Element): string {
  let text: string;
  try {
    text = serialize(redact(el), NS_CLIENT);
  } catch (err) {
    text = `<${el.name}> (unserializable: ${(err as Error).message})`;
  }
  return `confab ${direction === 'in' ? '<-' : '->'} ${text}`;
}
