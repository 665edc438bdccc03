/**
 * In-band registration wire format: XEP-0077 "In-Band Registration" version 2.4
 * (2012-01-25): the `jabber:iq:register` query (schema in section 12.1: instructions,
 * registered, the fixed legacy fields, key, remove), the stream feature (section 8), and
 * the two ways a host asks for information, in the precedence order of section 6:
 * an XEP-0004 data form (v2.13, `jabber:x:data`; FORM_TYPE `jabber:iq:register` per
 * XEP-0068), then the legacy fields, then an XEP-0066 `jabber:x:oob` URL (redirection,
 * section 5).
 *
 * The legacy fields are declared once below as data; `LegacyField` is derived from it.
 * Data forms are read and written by the shared forms codec (features/forms); this file
 * maps both kinds onto one field list for the app.
 */
import { type Element, xml } from '../../xml/element.ts';
import {
  buildSubmit,
  type FieldType,
  type FormField,
  type FormValues,
  NS_DATA,
  parseForm,
} from '../forms/forms.ts';

export type { FieldType } from '../forms/forms.ts';
export { NS_DATA } from '../forms/forms.ts';

export const NS_REGISTER = 'jabber:iq:register';
/** Stream feature: the server offers in-band registration (XEP-0077 section 8). */
export const NS_REGISTER_FEATURE = 'http://jabber.org/features/iq-register';
export const NS_OOB = 'jabber:x:oob';

/**
 * The legacy fields of the schema (XEP-0077 section 12.1), with the label a client shows
 * (the schema gives none; these follow the XEP-0077 section 14 registry's descriptions).
 * `key` is the obsolete transaction key (section 7): confab echoes it, the user never sees it.
 */
export const LEGACY_FIELDS = {
  username: 'Username',
  nick: 'Nickname',
  password: 'Password',
  name: 'Full name',
  first: 'Given name',
  last: 'Family name',
  email: 'Email address',
  address: 'Street address',
  city: 'City',
  state: 'State or province',
  zip: 'Postal code',
  phone: 'Telephone number',
  url: 'Web address',
  date: 'Date',
  misc: 'Miscellaneous',
  text: 'Text',
  key: 'Transaction key',
} as const;

export type LegacyField = keyof typeof LEGACY_FIELDS;

export function isLegacyField(name: string): name is LegacyField {
  return Object.hasOwn(LEGACY_FIELDS, name);
}

/** One thing the host asks for, whether a legacy element or a data-form field. */
export interface RegistrationField {
  /** The legacy element name (`email`) or the data form's `var`. */
  readonly name: string;
  /** What to show the person: the form's label, or the legacy field's usual name. */
  readonly label: string;
  /** The data form's type; legacy fields are `text-single` (the password `text-private`). */
  readonly type: FieldType;
  /**
   * Must be given. Every legacy field is (XEP-0077 3.1: "MUST provide information for all
   * of the elements"); a data-form field when it has `<required/>`.
   */
  readonly required: boolean;
  /** The value(s) the host filled in (current data, or a form default). */
  readonly values: readonly string[];
  /** The choices of a list field. */
  readonly options: readonly { readonly label: string | undefined; readonly value: string }[];
  /** The data form's `<desc/>`, if any. */
  readonly description: string | undefined;
}

/** What a host sent in answer to a registration `get` (XEP-0077 3.1, 5, 6). */
export interface RegistrationForm {
  /** `data-form` when the host sent an XEP-0004 form (it takes precedence), else `legacy`. */
  readonly kind: 'data-form' | 'legacy';
  /** `<instructions/>` of the query (or of the data form when the query has none). */
  readonly instructions: string | undefined;
  /** The data form's `<title/>`. */
  readonly title: string | undefined;
  /** `<registered/>`: the entity is registered already (values are what is on file). */
  readonly registered: boolean;
  /** Every field the host asks for (username and password included), in its order. */
  readonly fields: readonly RegistrationField[];
  /** The obsolete transaction key (section 7), echoed back on submit. */
  readonly key: string | undefined;
  /** An XEP-0066 URL (section 5): register there instead, when there are no fields. */
  readonly url: string | undefined;
  /** The `<query/>` as received. */
  readonly element: Element;
}

/** A value for a field: text, several values (list-multi, jid-multi, text-multi lines), or a boolean. */
export type FieldValue = string | readonly string[] | boolean;

/** Values by field name. */
export type RegistrationValues = Readonly<Record<string, FieldValue | undefined>>;

/** Text with the indentation of pretty-printed XML removed (instructions are often indented). */
function tidy(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const t = s
    .split('\n')
    .map((l) => l.trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return t === '' ? undefined : t;
}

function fromFormField(f: FormField): RegistrationField | undefined {
  // A field without `var` can only be `fixed` (XEP-0004 3.2): text to show, nothing to submit.
  if (f.var === undefined && f.type !== 'fixed') return undefined;
  const name = f.var ?? '';
  return {
    name,
    label: f.label ?? (isLegacyField(name) ? LEGACY_FIELDS[name] : name),
    type: f.type,
    required: f.required,
    values: f.values,
    options: f.options,
    description: f.desc,
  };
}

/** The query's data form to fill (`type='form'`, the default). */
function formOf(query: Element): Element | undefined {
  return query.getChildren('x', NS_DATA).find((e) => (e.attr('type') ?? 'form') === 'form');
}

/** Read a `<query xmlns='jabber:iq:register'/>` from a result (or an error carrying a form). */
export function parseRegistrationQuery(query: Element): RegistrationForm {
  const x = formOf(query);
  const oob = query.getChild('x', NS_OOB)?.getChildText('url', NS_OOB)?.trim();
  const key = query.getChildText('key', NS_REGISTER);
  const registered = query.getChild('registered', NS_REGISTER) !== undefined;
  let instructions = tidy(query.getChildText('instructions', NS_REGISTER));
  if (x) {
    const data = parseForm(x);
    const fields: RegistrationField[] = [];
    for (const f of data.fields) {
      const field = fromFormField(f);
      if (field) fields.push(field);
    }
    instructions ??= tidy(data.instructions.join('\n'));
    return {
      kind: 'data-form',
      instructions,
      title: data.title,
      registered,
      fields,
      key,
      url: oob || undefined,
      element: query,
    };
  }
  const fields: RegistrationField[] = [];
  for (const c of query.elements()) {
    if (c.xmlns !== NS_REGISTER || !isLegacyField(c.name) || c.name === 'key') continue;
    const value = c.text();
    fields.push({
      name: c.name,
      label: LEGACY_FIELDS[c.name],
      type: c.name === 'password' ? 'text-private' : 'text-single',
      required: true,
      values: value === '' ? [] : [value],
      options: [],
      description: undefined,
    });
  }
  return {
    kind: 'legacy',
    instructions,
    title: undefined,
    registered,
    fields,
    key,
    url: oob || undefined,
    element: query,
  };
}

/** Whether confab fills the field itself: the data form's FORM_TYPE and other hidden fields, fixed text. */
export function isAutomatic(field: RegistrationField): boolean {
  return field.type === 'hidden' || field.type === 'fixed';
}

/** A value as the strings that go on the wire. */
export function valueStrings(field: RegistrationField, value: FieldValue | undefined): string[] {
  if (value === undefined) return [...field.values];
  if (typeof value === 'boolean') return [value ? '1' : '0'];
  if (typeof value === 'string') return field.type.endsWith('-multi') ? value.split('\n') : [value];
  return [...value];
}

/** The fields that are required and have no value (neither given nor filled in by the host). */
export function missingFields(form: RegistrationForm, values: RegistrationValues): RegistrationField[] {
  return form.fields.filter((f) => {
    if (!f.required || isAutomatic(f)) return false;
    return valueStrings(f, values[f.name]).every((v) => v === '');
  });
}

/**
 * The `<query/>` of the registration `set` for `form` filled with `values` (XEP-0077 3.1):
 * the completed data form when the host sent one (and then nothing else: "MUST NOT submit
 * both", section 4), else the legacy fields with the key echoed. Fields not in the form
 * are not sent.
 */
export function registrationSubmit(form: RegistrationForm, values: RegistrationValues): Element {
  const x = form.kind === 'data-form' ? formOf(form.element) : undefined;
  if (x) {
    // The whole form back (hidden fields and defaults kept), the app's values laid over;
    // only fields the form has.
    const given: FormValues = {};
    for (const f of form.fields) {
      const v = values[f.name];
      if (!isAutomatic(f) && v !== undefined) given[f.name] = v;
    }
    return xml('query', { xmlns: NS_REGISTER }, buildSubmit(given, { base: parseForm(x) }));
  }
  const q = xml('query', { xmlns: NS_REGISTER });
  for (const f of form.fields) {
    const vs = valueStrings(f, values[f.name]);
    q.append(xml(f.name, {}, vs.join(' ')));
  }
  if (form.key !== undefined) q.append(xml('key', {}, form.key));
  return q;
}

/** `<query><remove/></query>`: cancel the registration (XEP-0077 3.2). */
export function removeQuery(): Element {
  return xml('query', { xmlns: NS_REGISTER }, xml('remove'));
}

/** `<query/>`: ask for the fields (XEP-0077 3.1) or what is on file. */
export function getQuery(): Element {
  return xml('query', { xmlns: NS_REGISTER });
}

/** Legacy fields set directly (XEP-0077 3.3 password change; other fields where the host allows). */
export function legacyQuery(fields: Readonly<Partial<Record<LegacyField, string>>>): Element {
  const q = xml('query', { xmlns: NS_REGISTER });
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) q.append(xml(name, {}, value));
  }
  return q;
}
