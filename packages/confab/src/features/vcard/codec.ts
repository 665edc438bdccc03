/**
 * vCard wire format: XEP-0054 "vcard-temp" v1.3.0 (the DTD of section 7, the fields
 * clients actually use). Declared once as data below; the VCard type is derived
 * from it, and nothing read is lost on write, so reading, changing one field and writing
 * back never loses what another client stored:
 * - children we do not model (LABEL, CATEGORIES, NOTE, other namespaces...) and repeats the
 *   model has one place for (a second FN or PHOTO) are kept in the card's `extra`;
 * - inside a structured field (N, ORG, PHOTO, TEL, EMAIL, ADR), repeats of a part (ORG has
 *   `ORGUNIT*`) and children the declaration does not name are kept in that field's `extra`;
 * - an empty part (`<MIDDLE/>`) reads as absent, but the parts the DTD requires are always
 *   written: TEL's NUMBER and EMAIL's USERID (`<!ELEMENT TEL (..., NUMBER)>`), ORG's ORGNAME.
 */
import { type Element, xml } from '../../xml/element.ts';

export const NS_VCARD = 'vcard-temp';

/** Single text fields: property -> element. */
export const TEXT_FIELDS = {
  fullName: 'FN',
  nickname: 'NICKNAME',
  url: 'URL',
  birthday: 'BDAY',
  title: 'TITLE',
  role: 'ROLE',
  description: 'DESC',
  jabberId: 'JABBERID',
} as const;

/** Single structured fields: property -> element and its text parts. */
export const STRUCT_FIELDS = {
  name: {
    el: 'N',
    parts: { family: 'FAMILY', given: 'GIVEN', middle: 'MIDDLE', prefix: 'PREFIX', suffix: 'SUFFIX' },
  },
  org: { el: 'ORG', parts: { name: 'ORGNAME', unit: 'ORGUNIT' } },
  /** `binval` is base64 (whitespace removed); see `photoBytes`. */
  photo: { el: 'PHOTO', parts: { type: 'TYPE', binval: 'BINVAL', extval: 'EXTVAL' } },
} as const;

/** Repeated structured fields with flag elements (`<WORK/>`, `<VOICE/>`...). */
export const MULTI_FIELDS = {
  tel: {
    el: 'TEL',
    parts: { number: 'NUMBER' },
    flags: [
      'HOME',
      'WORK',
      'VOICE',
      'FAX',
      'PAGER',
      'MSG',
      'CELL',
      'VIDEO',
      'BBS',
      'MODEM',
      'ISDN',
      'PCS',
      'PREF',
    ],
  },
  email: { el: 'EMAIL', parts: { userid: 'USERID' }, flags: ['HOME', 'WORK', 'INTERNET', 'PREF', 'X400'] },
  address: {
    el: 'ADR',
    parts: {
      pobox: 'POBOX',
      extadd: 'EXTADD',
      street: 'STREET',
      locality: 'LOCALITY',
      region: 'REGION',
      pcode: 'PCODE',
      country: 'CTRY',
    },
    flags: ['HOME', 'WORK', 'POSTAL', 'PARCEL', 'DOM', 'INTL', 'PREF'],
  },
} as const;

/** Parts the DTD requires: written (empty if need be) even when the card has no value. */
const REQUIRED_PARTS: Record<string, readonly string[]> = {
  ORG: ['ORGNAME'],
  TEL: ['NUMBER'],
  EMAIL: ['USERID'],
};

type Struct = typeof STRUCT_FIELDS;
type Multi = typeof MULTI_FIELDS;
type PartsOf<P extends Record<string, string>> = { [K in keyof P]?: string | undefined } & {
  /** Children of this field not modelled above (a second ORGUNIT, an X- extension...), kept. */
  extra?: Element[] | undefined;
};
type MultiEntry<M extends Multi[keyof Multi]> = PartsOf<M['parts']> & { flags: Array<M['flags'][number]> };

/** A vCard (XEP-0054), typed from the declarations above. */
export type VCard = { [K in keyof typeof TEXT_FIELDS]?: string | undefined } & {
  [K in keyof Struct]?: PartsOf<Struct[K]['parts']> | undefined;
} & {
  [K in keyof Multi]?: Array<MultiEntry<Multi[K]>> | undefined;
} & {
  /** Children not modelled above, kept as elements. */
  extra?: Element[] | undefined;
};

const TEXT_BY_EL = new Map<string, string>(Object.entries(TEXT_FIELDS).map(([k, v]) => [v, k]));
const STRUCT_BY_EL = new Map<string, keyof Struct>(
  (Object.keys(STRUCT_FIELDS) as (keyof Struct)[]).map((k) => [STRUCT_FIELDS[k].el, k]),
);
const MULTI_BY_EL = new Map<string, keyof Multi>(
  (Object.keys(MULTI_FIELDS) as (keyof Multi)[]).map((k) => [MULTI_FIELDS[k].el, k]),
);

/**
 * The parts of a structured field: the first element of each declared part (empty ones read
 * as absent); every other child (repeats, undeclared ones, except `skip`: the flags) in `extra`.
 */
function readParts(
  el: Element,
  parts: Record<string, string>,
  key: string,
  skip: readonly string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const byEl = new Map(Object.entries(parts).map(([k, name]) => [name, k]));
  const seen = new Set<string>();
  const extra: Element[] = [];
  for (const c of el.elements()) {
    const k = c.xmlns === NS_VCARD ? byEl.get(c.name) : undefined;
    if (k !== undefined && !seen.has(k)) {
      seen.add(k);
      let t = c.text();
      if (k === 'binval' && key === 'photo') t = t.replace(/\s+/g, '');
      if (t.trim() !== '') out[k] = t;
    } else if (k !== undefined || c.xmlns !== NS_VCARD || !skip.includes(c.name)) {
      extra.push(c);
    }
  }
  if (extra.length) out.extra = extra;
  return out;
}

/** Read a `<vCard xmlns='vcard-temp'/>`. */
export function parseVCard(v: Element): VCard {
  const out: Record<string, unknown> = {};
  const extra: Element[] = [];
  for (const child of v.elements()) {
    if (child.xmlns !== NS_VCARD) {
      extra.push(child);
      continue;
    }
    const text = TEXT_BY_EL.get(child.name);
    const struct = STRUCT_BY_EL.get(child.name);
    const multi = MULTI_BY_EL.get(child.name);
    if (text !== undefined) {
      const t = child.text();
      // A second one (the DTD allows one) has no place in the model: kept as it came.
      if (out[text] !== undefined) extra.push(child);
      else if (t.trim() !== '') out[text] = t;
    } else if (struct !== undefined) {
      if (out[struct] === undefined) out[struct] = readParts(child, STRUCT_FIELDS[struct].parts, struct);
      else extra.push(child);
    } else if (multi !== undefined) {
      const spec = MULTI_FIELDS[multi];
      const flags = (spec.flags as readonly string[]).filter((f) => child.getChild(f, NS_VCARD));
      const list = (out[multi] as unknown[] | undefined) ?? [];
      list.push({ ...readParts(child, spec.parts, multi, spec.flags), flags });
      out[multi] = list;
    } else {
      extra.push(child);
    }
  }
  if (extra.length) out.extra = extra;
  return out as VCard;
}

function writeParts(
  el: string,
  parts: Record<string, string>,
  v: Record<string, unknown> & { extra?: Element[] | undefined },
): Element[] {
  const required = REQUIRED_PARTS[el] ?? [];
  const out: Element[] = [];
  for (const [k, name] of Object.entries(parts)) {
    const t = v[k] as string | undefined;
    if (t !== undefined) out.push(xml(name, null, t));
    else if (required.includes(name)) out.push(xml(name));
  }
  return out.concat(v.extra ?? []);
}

/** Build a `<vCard xmlns='vcard-temp'/>` (a request when `card` is omitted). */
export function buildVCard(card?: VCard): Element {
  const v = xml('vCard', { xmlns: NS_VCARD });
  if (!card) return v;
  for (const [k, name] of Object.entries(TEXT_FIELDS)) {
    const t = card[k as keyof typeof TEXT_FIELDS];
    if (t !== undefined) v.append(xml(name, null, t));
  }
  for (const k of Object.keys(STRUCT_FIELDS) as (keyof Struct)[]) {
    const s = card[k];
    const spec = STRUCT_FIELDS[k];
    if (s) v.append(xml(spec.el, null, writeParts(spec.el, spec.parts, s)));
  }
  for (const k of Object.keys(MULTI_FIELDS) as (keyof Multi)[]) {
    const spec = MULTI_FIELDS[k];
    for (const entry of card[k] ?? []) {
      const e = entry as Record<string, unknown> & { flags: readonly string[]; extra?: Element[] };
      // The DTD's order: the flags, then the parts.
      v.append(
        xml(
          spec.el,
          null,
          e.flags.map((f) => xml(f)),
          writeParts(spec.el, spec.parts, e),
        ),
      );
    }
  }
  v.append(card.extra ?? []);
  return v;
}
