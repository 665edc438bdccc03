/**
 * Service discovery wire format: XEP-0030 "Service Discovery" v2.5.0 (disco#info,
 * disco#items) and the XEP-0128 "Service Discovery Extensions" v1.0 data forms
 * (XEP-0004 "Data Forms" v2.13, only the parts disco and caps need: form type,
 * FORM_TYPE, fields with var/type/values).
 *
 * Declared once here; `disco.ts` holds the behaviour. The shapes are plain data so
 * they can be cached as JSON (caps stores them in the Store by hash).
 */
import { type Element, xml } from '../../xml/element.ts';

/** Namespaces of this feature. */
export const NS = {
  info: 'http://jabber.org/protocol/disco#info',
  items: 'http://jabber.org/protocol/disco#items',
  data: 'jabber:x:data',
} as const;

/** Attributes of `<identity/>`, in the order XEP-0115 sorts them. */
const IDENTITY_ATTRS = { category: 'category', type: 'type', lang: 'xml:lang', name: 'name' } as const;
/** Attributes of a disco#items `<item/>`. */
const ITEM_ATTRS = { jid: 'jid', node: 'node', name: 'name' } as const;

type FromAttrs<T extends Record<string, string>, Required extends keyof T> = { [K in Required]: string } & {
  [K in Exclude<keyof T, Required>]?: string | undefined;
};

/** One identity (XEP-0030 3.1): category and type are required, name and xml:lang optional. */
export type Identity = FromAttrs<typeof IDENTITY_ATTRS, 'category' | 'type'>;
/** One item (XEP-0030 4.1): a JID, optionally a node and a name. */
export type DiscoItem = FromAttrs<typeof ITEM_ATTRS, 'jid'>;

/** One data form field (XEP-0004 3.2), as disco extensions use it. */
export interface FormField {
  var: string;
  type?: string | undefined;
  values: string[];
}

/** A data form (XEP-0004): its type and fields in document order. */
export interface DataForm {
  /** form, submit, cancel or result (extensions are `result`). */
  type: string;
  fields: FormField[];
}

/** A disco#info answer (or what we answer about ourselves). */
export interface DiscoInfo {
  node?: string | undefined;
  identities: Identity[];
  features: string[];
  /** XEP-0128 extended information forms. */
  extensions: DataForm[];
}

/** A disco#items answer. */
export interface DiscoItems {
  node?: string | undefined;
  items: DiscoItem[];
}

function readAttrs<T extends Record<string, string>>(
  el: Element,
  spec: T,
): Record<keyof T, string | undefined> {
  const out = {} as Record<keyof T, string | undefined>;
  for (const k in spec) out[k] = el.attr(spec[k] as string);
  return out;
}

function writeAttrs<T extends Record<string, string>>(
  v: Partial<Record<keyof T, string | undefined>>,
  spec: T,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k in spec) out[spec[k] as string] = v[k];
  return out;
}

/** Drop undefined keys so values compare and serialize (JSON) cleanly. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** Read a `<x xmlns='jabber:x:data'/>`. */
export function parseForm(x: Element): DataForm {
  return {
    type: x.attr('type') ?? 'form',
    fields: x.getChildren('field', NS.data).map((f) =>
      compact({
        var: f.attr('var') ?? '',
        type: f.attr('type'),
        values: f.getChildren('value', NS.data).map((v) => v.text()),
      }),
    ),
  };
}

/** Build a `<x xmlns='jabber:x:data'/>`. */
export function buildForm(form: DataForm): Element {
  return xml(
    'x',
    { xmlns: NS.data, type: form.type },
    form.fields.map((f) =>
      xml(
        'field',
        { var: f.var, type: f.type },
        f.values.map((v) => xml('value', null, v)),
      ),
    ),
  );
}

/** The FORM_TYPE of a form (XEP-0068), or undefined. */
export function formType(form: DataForm): string | undefined {
  return form.fields.find((f) => f.var === 'FORM_TYPE')?.values[0];
}

/** Read a disco#info `<query/>`. */
export function parseInfo(query: Element): DiscoInfo {
  return compact({
    node: query.attr('node'),
    identities: query
      .getChildren('identity', NS.info)
      .map((i) => compact(readAttrs(i, IDENTITY_ATTRS)) as Identity),
    features: query
      .getChildren('feature', NS.info)
      .map((f) => f.attr('var'))
      .filter((v): v is string => v !== undefined),
    extensions: query.getChildren('x', NS.data).map(parseForm),
  });
}

/** Build a disco#info `<query/>` (a request when `info` is omitted). */
export function buildInfo(info?: Partial<DiscoInfo>): Element {
  return xml(
    'query',
    { xmlns: NS.info, node: info?.node },
    (info?.identities ?? []).map((i) => xml('identity', writeAttrs(i, IDENTITY_ATTRS))),
    (info?.features ?? []).map((f) => xml('feature', { var: f })),
    (info?.extensions ?? []).map(buildForm),
  );
}

/** Read a disco#items `<query/>`. */
export function parseItems(query: Element): DiscoItems {
  return compact({
    node: query.attr('node'),
    items: query
      .getChildren('item', NS.items)
      .filter((i) => i.attr('jid') !== undefined)
      .map((i) => compact(readAttrs(i, ITEM_ATTRS)) as DiscoItem),
  });
}

/** Build a disco#items `<query/>` (a request when `items` is omitted). */
export function buildItems(items?: Partial<DiscoItems>): Element {
  return xml(
    'query',
    { xmlns: NS.items, node: items?.node },
    (items?.items ?? []).map((i) => xml('item', writeAttrs(i, ITEM_ATTRS))),
  );
}
