/**
 * A small declarative schema for extension elements (DESIGN principle 2): each
 * extension of a message is declared once, as data (`ElementSpec`), and the reader,
 * the writer and the TypeScript type (`Infer<typeof SPEC>`) all come from that one
 * declaration, so they cannot drift apart.
 *
 * Scope, on purpose: attributes, the element's own text, and children that are
 * flags (`<request/>`), text (`<url>...</url>`), or nested declared elements, once
 * or many. That covers every extension in this folder (XEP-0203, 0091, 0359, 0033,
 * 0308, 0424, 0428, 0184, 0333, 0022, 0023, 0066, 0144, 0249, 0027). Dates are
 * XEP-0082 DateTime, or the XEP-0091 legacy form (`CCYYMMDDThh:mm:ss`, UTC).
 *
 * Reading is lenient about what the declaration does not name (unknown attributes
 * and children are ignored) and strict about values: an enum value outside the
 * list, a non-integer, or an unreadable date reads as absent rather than as a wrong
 * value in the model.
 */
import { type Jid, tryJid } from '../../../jid.ts';
import { type Element, xml } from '../../../xml/element.ts';

/** Value types of attributes and text. An array of strings is an enumeration. */
export type Scalar = 'string' | 'int' | 'bool' | 'date' | 'legacy-date' | 'jid' | readonly string[];

/** A child element in the parent's namespace. */
export type ChildSpec =
  | { readonly kind: 'flag'; readonly name: string }
  | { readonly kind: 'text'; readonly name: string; readonly type?: Scalar; readonly many?: boolean }
  | { readonly kind: 'element'; readonly spec: ElementSpec; readonly many?: boolean };

/** An element: name, namespace (absent: the parent's), attributes, text, children. */
export interface ElementSpec {
  readonly name: string;
  readonly ns?: string;
  readonly attrs?: Readonly<Record<string, Scalar>>;
  /** The element's own text, read into the field `text`. */
  readonly text?: Scalar;
  readonly children?: Readonly<Record<string, ChildSpec>>;
}

/** The TypeScript type a scalar declaration stands for. */
export type ScalarValue<S> = S extends 'int'
  ? number
  : S extends 'bool'
    ? boolean
    : S extends 'date' | 'legacy-date'
      ? Date
      : S extends 'jid'
        ? Jid
        : S extends readonly (infer U)[]
          ? U
          : string;

type AttrsOf<S> = S extends { attrs: infer A }
  ? { -readonly [K in keyof A]: ScalarValue<A[K]> | undefined }
  : Empty;
type TextOf<S> = S extends { text: infer T } ? { text: ScalarValue<T> | undefined } : Empty;
type ChildValue<C> = C extends { kind: 'flag' }
  ? boolean
  : C extends { kind: 'text'; many: true }
    ? ScalarValue<C extends { type: infer T } ? T : 'string'>[]
    : C extends { kind: 'text' }
      ? ScalarValue<C extends { type: infer T } ? T : 'string'> | undefined
      : C extends { kind: 'element'; spec: infer E; many: true }
        ? Infer<E>[]
        : C extends { kind: 'element'; spec: infer E }
          ? Infer<E> | undefined
          : never;
type ChildrenOf<S> = S extends { children: infer C } ? { -readonly [K in keyof C]: ChildValue<C[K]> } : Empty;
/** No fields (`Record<never, never>`: an intersection with it adds nothing). */
type Empty = Record<never, never>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The value type of a declared element: every attribute/text optional, flags boolean, lists arrays. */
export type Infer<S> = Simplify<AttrsOf<S> & TextOf<S> & ChildrenOf<S>>;
/** What `write` takes: any subset of the fields. */
export type Input<S> = Partial<Infer<S>>;

// ---------------------------------------------------------------- scalars

/** XEP-0082 DateTime (with optional fraction; `Z` or offset). */
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** XEP-0091 legacy stamp: `20020910T23:08:25`, always UTC. */
const LEGACY_STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

function readScalar(type: Scalar, raw: string): unknown {
  if (typeof type !== 'string') return type.includes(raw) ? raw : undefined;
  switch (type) {
    case 'string':
      return raw;
    case 'int': {
      const t = raw.trim();
      return /^-?\d{1,15}$/.test(t) ? Number(t) : undefined;
    }
    case 'bool':
      return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : undefined;
    case 'date': {
      const t = raw.trim();
      if (!DATETIME.test(t)) return undefined;
      const d = new Date(t);
      return Number.isNaN(d.getTime()) ? undefined : d;
    }
    case 'legacy-date': {
      const m = LEGACY_STAMP.exec(raw.trim());
      if (!m) return undefined;
      const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
      return Number.isNaN(d.getTime()) ? undefined : d;
    }
    case 'jid':
      return tryJid(raw);
  }
}

function writeScalar(type: Scalar, v: unknown): string {
  if (type === 'date') return (v as Date).toISOString().replace('.000Z', 'Z');
  if (type === 'legacy-date') return (v as Date).toISOString().replace(/[-]|\.\d{3}Z$/g, '');
  if (typeof type !== 'string' && !type.includes(String(v))) throw new RangeError(`not one of ${type}: ${v}`);
  return String(v);
}

// ---------------------------------------------------------------- read / write

/** True when `el` is the declared element (name and namespace). */
export function matches(spec: ElementSpec, el: Element, parentNs?: string): boolean {
  return el.name === spec.name && el.xmlns === (spec.ns ?? parentNs ?? el.xmlns);
}

/** Read `el` by the declaration (it is assumed to match; see `matches`). */
export function read<S extends ElementSpec>(spec: S, el: Element): Infer<S> {
  const out: Record<string, unknown> = {};
  if (spec.attrs) {
    for (const k in spec.attrs) {
      const raw = el.attrs[k];
      out[k] = raw === undefined ? undefined : readScalar(spec.attrs[k]!, raw);
    }
  }
  if (spec.text !== undefined) {
    const t = el.text();
    out.text = t === '' ? undefined : readScalar(spec.text, t);
  }
  if (spec.children) {
    for (const k in spec.children) {
      const c = spec.children[k]!;
      if (c.kind === 'flag') out[k] = el.getChild(c.name, el.xmlns) !== undefined;
      else if (c.kind === 'text') {
        const vals = el
          .getChildren(c.name, el.xmlns)
          .map((x) => readScalar(c.type ?? 'string', x.text()))
          .filter((v) => v !== undefined);
        out[k] = c.many ? vals : vals[0];
      } else {
        const kids = el.elements().filter((x) => matches(c.spec, x, el.xmlns));
        out[k] = c.many ? kids.map((x) => read(c.spec, x)) : kids[0] ? read(c.spec, kids[0]) : undefined;
      }
    }
  }
  return out as Infer<S>;
}

/** The first child of `parent` that is the declared element, read; or undefined. */
export function readChild<S extends ElementSpec>(spec: S, parent: Element): Infer<S> | undefined {
  for (const c of parent.children) if (typeof c !== 'string' && matches(spec, c)) return read(spec, c);
  return undefined;
}

/** Every child of `parent` that is the declared element, read. */
export function readChildren<S extends ElementSpec>(spec: S, parent: Element): Infer<S>[] {
  const out: Infer<S>[] = [];
  for (const c of parent.children) if (typeof c !== 'string' && matches(spec, c)) out.push(read(spec, c));
  return out;
}

/**
 * Write the declared element from `value` (fields in declaration order, so output
 * is stable for fixtures). Absent fields are left out; a false flag is no child.
 */
export function write<S extends ElementSpec>(spec: S, value: Input<S>, inheritNs?: string): Element {
  const v = value as Record<string, unknown>;
  const attrs: Record<string, string | undefined> = {};
  const ns = spec.ns ?? inheritNs;
  if (spec.ns !== undefined) attrs.xmlns = spec.ns;
  if (spec.attrs) {
    for (const k in spec.attrs) if (v[k] !== undefined) attrs[k] = writeScalar(spec.attrs[k]!, v[k]);
  }
  const el = xml(spec.name, attrs);
  if (spec.text !== undefined && v.text !== undefined) el.append(writeScalar(spec.text, v.text));
  if (spec.children) {
    for (const k in spec.children) {
      const c = spec.children[k]!;
      const cv = v[k];
      if (cv === undefined || cv === false) continue;
      const list = c.kind !== 'flag' && c.many ? (cv as unknown[]) : [cv];
      for (const item of list) {
        if (c.kind === 'flag') el.append(xml(c.name));
        else if (c.kind === 'text') el.append(xml(c.name, {}, writeScalar(c.type ?? 'string', item)));
        else el.append(write(c.spec, item as Input<ElementSpec>, ns));
      }
    }
  }
  return el;
}
