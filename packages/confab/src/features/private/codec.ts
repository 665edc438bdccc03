/**
 * Private XML storage wire format: XEP-0049 "Private XML Storage" v1.2 (section 3:
 * `<query xmlns='jabber:iq:private'>` holding exactly one child, whose name and
 * namespace are the key).
 */
import { type Element, xml } from '../../xml/element.ts';

export const NS_PRIVATE = 'jabber:iq:private';

/** The key of a private storage entry: a child element's name and namespace. */
export interface PrivateKey {
  name: string;
  xmlns: string;
}

/** A get: `<query><name xmlns=ns/></query>`; a set: `<query>element</query>`. */
export function buildPrivate(child: Element): Element {
  return xml('query', { xmlns: NS_PRIVATE }, child);
}

/** The stored element of a result, or undefined when the server returned the key empty (nothing stored). */
export function parsePrivate(query: Element, key: PrivateKey): Element | undefined {
  const el = query.getChild(key.name, key.xmlns);
  if (!el) return undefined;
  return el.children.length === 0 && Object.keys(el.attrs).length === 0 ? undefined : el;
}
