/**
 * The element model: what the parser produces, what the builder makes and what
 * the serializer writes. One class, plain fields, no hidden state.
 *
 * Namespaces are resolved: `name` is the local name and `xmlns` the namespace
 * URI, whether the XML said it with a default `xmlns`, a prefix, or inherited it
 * from a parent. `attrs` never holds `xmlns` or `xmlns:*` declarations; prefixed
 * attributes keep their qualified name (`xml:lang`). An element built by hand may
 * leave `xmlns` empty: it then inherits the namespace of the parent it is put in
 * (filled in by `append`), or of the stream it is written to.
 */

export type Attrs = Record<string, string>;
export type Child = Element | string;
/** What builder functions accept as children: nested arrays and nullish values are flattened away. */
export type ChildInput = Child | null | undefined | false | readonly ChildInput[];

export class Element {
  /** Local name, e.g. `message`. */
  name: string;
  /** Namespace URI; '' means "inherit from where it is placed". */
  xmlns: string;
  /** Attributes other than namespace declarations. */
  attrs: Attrs;
  /** Child elements and text, in document order. Adjacent text is merged by the parser. */
  children: Child[];

  constructor(name: string, xmlns = '', attrs: Attrs = {}, children: Child[] = []) {
    this.name = name;
    this.xmlns = xmlns;
    this.attrs = attrs;
    this.children = children;
  }

  /** True when the element has this local name (and namespace, if given). */
  is(name: string, xmlns?: string): boolean {
    return this.name === name && (xmlns === undefined || this.xmlns === xmlns);
  }

  /** An attribute's value, or undefined. */
  attr(name: string): string | undefined {
    return this.attrs[name];
  }

  /** The first child element with this name (and namespace, if given). */
  getChild(name: string, xmlns?: string): Element | undefined {
    for (const c of this.children) {
      if (typeof c !== 'string' && c.name === name && (xmlns === undefined || c.xmlns === xmlns)) return c;
    }
    return undefined;
  }

  /** All child elements with this name (and namespace, if given). */
  getChildren(name: string, xmlns?: string): Element[] {
    const out: Element[] = [];
    for (const c of this.children) {
      if (typeof c !== 'string' && c.name === name && (xmlns === undefined || c.xmlns === xmlns)) out.push(c);
    }
    return out;
  }

  /** The first child element in this namespace, whatever its name (payload lookup). */
  getChildByNs(xmlns: string): Element | undefined {
    for (const c of this.children) if (typeof c !== 'string' && c.xmlns === xmlns) return c;
    return undefined;
  }

  /** Text of the first matching child, or undefined when there is no such child. */
  getChildText(name: string, xmlns?: string): string | undefined {
    return this.getChild(name, xmlns)?.text();
  }

  /** All child elements, skipping text. */
  elements(): Element[] {
    const out: Element[] = [];
    for (const c of this.children) if (typeof c !== 'string') out.push(c);
    return out;
  }

  /** The concatenated text directly inside this element (not of descendants). */
  text(): string {
    let s = '';
    for (const c of this.children) if (typeof c === 'string') s += c;
    return s;
  }

  /** Append children (flattening arrays, skipping nullish); children with no namespace inherit ours. */
  append(...children: ChildInput[]): this {
    appendInto(this, children);
    return this;
  }
}

function inherit(el: Element, xmlns: string): void {
  el.xmlns = xmlns;
  const cs = el.children;
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i]!;
    if (typeof c !== 'string' && c.xmlns === '') inherit(c, xmlns);
  }
}

function appendInto(parent: Element, children: readonly ChildInput[]): void {
  const kids = parent.children;
  const ns = parent.xmlns;
  for (let i = 0; i < children.length; i++) {
    const c = children[i];
    if (typeof c === 'string') {
      if (c !== '') kids.push(c);
    } else if (c instanceof Element) {
      if (c.xmlns === '' && ns !== '') inherit(c, ns);
      kids.push(c);
    } else if (c !== null && c !== undefined && c !== false) {
      appendInto(parent, c);
    }
  }
}

/**
 * Build an element. `xmlns` in attrs sets the namespace; attributes whose value is
 * `undefined` or `null` are left out, so optional fields need no branching.
 *
 * @example
 * xml('message', { to, type: 'chat' }, xml('body', {}, text))
 */
export function xml(
  name: string,
  attrs: Record<string, string | number | undefined | null> | null = null,
  ...children: ChildInput[]
): Element {
  const a: Attrs = {};
  let ns = '';
  if (attrs) {
    for (const k in attrs) {
      const v = attrs[k];
      // Strings (nearly all values) are stored as they are; numbers are converted; nullish left out.
      if (typeof v !== 'string') {
        if (v === undefined || v === null) continue;
        if (k === 'xmlns') ns = String(v);
        else a[k] = String(v);
      } else if (k === 'xmlns') ns = v;
      else a[k] = v;
    }
  }
  const el = new Element(name, ns, a, []);
  if (children.length !== 0) appendInto(el, children);
  return el;
}
