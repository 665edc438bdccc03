/**
 * Data forms: XEP-0004 "Data Forms" v2.13.1 (`jabber:x:data`), with the XEP-0068 v1.3
 * "Field Standardization" `FORM_TYPE` convention.
 *
 * The codec other features build on: room configuration (XEP-0045 10.1, 10.2), room
 * registration and info forms (XEP-0045 7.10, 6.4), in-band registration (XEP-0077 with
 * forms). It reads every field type of XEP-0004 3.3 (boolean, fixed, hidden, jid-multi,
 * jid-single, list-multi, list-single, text-multi, text-private, text-single), options,
 * `required`, labels and descriptions, `<reported/>` + `<item/>` tables (3.4), and builds
 * forms (`buildForm`), submissions (`buildSubmit`) and the cancel answer (`cancelForm`).
 *
 * Values: on the wire every value is text. `formValues` turns a form into typed values
 * (boolean fields to `boolean`, the -multi fields to `string[]`, the rest to `string`),
 * and `buildSubmit` takes the same shape back, writing booleans as `1`/`0` (3.3: both
 * `1`/`true` and `0`/`false` are allowed; receivers must accept either, and `1`/`0` is what
 * older servers understand best). Submitting with the original form as `base` keeps every
 * field of it (a complete submission: XEP-0004 3.2 lets a submitter leave fields out, but
 * some services reset what is missing) with the caller's values laid over, typed by the
 * form's own field types, and drops `fixed` fields (they carry no value to submit).
 */
import { type Element, xml } from '../../xml/element.ts';

export const NS_DATA = 'jabber:x:data';

/** XEP-0004 3.3 field types. */
export const FIELD_TYPES = [
  'boolean',
  'fixed',
  'hidden',
  'jid-multi',
  'jid-single',
  'list-multi',
  'list-single',
  'text-multi',
  'text-private',
  'text-single',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** XEP-0004 3.1 form types. */
export const FORM_TYPES = ['form', 'submit', 'cancel', 'result'] as const;
export type FormType = (typeof FORM_TYPES)[number];

/** One `<option/>` of a list field. */
export interface FormOption {
  label: string | undefined;
  value: string;
}

/** One field (XEP-0004 3.2). */
export interface FormField {
  /** Unique name in the form; only `fixed` fields may lack one. */
  var: string | undefined;
  /** Default `text-single` (3.3: a field without a type is text-single). */
  type: FieldType;
  label: string | undefined;
  desc: string | undefined;
  required: boolean;
  /** The values as text, in order (one for single fields, any number for -multi). */
  values: string[];
  /** For list-single / list-multi. */
  options: FormOption[];
}

/** A data form (XEP-0004 3). */
export interface DataForm {
  type: FormType;
  title: string | undefined;
  /** Each `<instructions/>` element (several are allowed). */
  instructions: string[];
  fields: FormField[];
  /** The hidden `FORM_TYPE` field's value (XEP-0068), when present. */
  formType: string | undefined;
  /** A result table (3.4): the column definitions... */
  reported: FormField[] | undefined;
  /** ...and the rows, each a list of fields. */
  items: FormField[][];
}

/** A typed value: boolean for boolean fields, string[] for -multi, string otherwise. */
export type FormValue = string | boolean | number | readonly string[];

/** Values by field var, as `formValues` gives and `buildSubmit` takes. */
export type FormValues = Record<string, FormValue | undefined>;

const MULTI: ReadonlySet<FieldType> = new Set(['jid-multi', 'list-multi', 'text-multi']);

function asType(t: string | undefined): FieldType {
  return (FIELD_TYPES as readonly string[]).includes(t ?? '') ? (t as FieldType) : 'text-single';
}

function readField(f: Element): FormField {
  return {
    var: f.attr('var'),
    type: asType(f.attr('type')),
    label: f.attr('label'),
    desc: f.getChildText('desc', NS_DATA),
    required: f.getChild('required', NS_DATA) !== undefined,
    values: f.getChildren('value', NS_DATA).map((v) => v.text()),
    options: f.getChildren('option', NS_DATA).map((o) => ({
      label: o.attr('label'),
      value: o.getChildText('value', NS_DATA) ?? '',
    })),
  };
}

/**
 * Read a `<x xmlns='jabber:x:data'/>` (any form type). Unknown field types read as
 * text-single (3.3), an unknown form type as `form`.
 *
 * @example
 * const form = parseForm(iq.getChild('query', NS_MUC_OWNER)!.getChild('x', NS_DATA)!);
 * form.fields.find((f) => f.var === 'muc#roomconfig_roomname')?.values[0];
 */
export function parseForm(x: Element): DataForm {
  const t = x.attr('type');
  const fields = x.getChildren('field', NS_DATA).map(readField);
  const reported = x.getChild('reported', NS_DATA);
  return {
    type: (FORM_TYPES as readonly string[]).includes(t ?? '') ? (t as FormType) : 'form',
    title: x.getChildText('title', NS_DATA),
    instructions: x.getChildren('instructions', NS_DATA).map((i) => i.text()),
    fields,
    formType: fields.find((f) => f.var === 'FORM_TYPE')?.values[0],
    reported: reported ? reported.getChildren('field', NS_DATA).map(readField) : undefined,
    items: x.getChildren('item', NS_DATA).map((i) => i.getChildren('field', NS_DATA).map(readField)),
  };
}

/** The first `jabber:x:data` form under `parent` (optionally with this FORM_TYPE). */
export function findForm(parent: Element, formType?: string): DataForm | undefined {
  for (const x of parent.getChildren('x', NS_DATA)) {
    const f = parseForm(x);
    if (formType === undefined || f.formType === formType) return f;
  }
  return undefined;
}

/** The field named `name`. */
export function getField(form: DataForm, name: string): FormField | undefined {
  return form.fields.find((f) => f.var === name);
}

/** XEP-0004 3.3 boolean: `1`/`true` are true, `0`/`false` (and anything else) false. */
export function parseBoolean(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '1' || t === 'true' ? true : t === '0' || t === 'false' ? false : undefined;
}

/** One field's typed value (see FormValue); undefined when it has no value. */
export function fieldValue(f: FormField): string | boolean | string[] | undefined {
  if (MULTI.has(f.type)) return [...f.values];
  if (f.values.length === 0) return undefined;
  if (f.type === 'boolean') return parseBoolean(f.values[0]);
  return f.values[0];
}

/**
 * A form's values by var, typed (fixed fields and fields without a var left out).
 *
 * @example
 * formValues(form)['muc#roomconfig_persistentroom'] // true / false
 */
export function formValues(form: DataForm): Record<string, string | boolean | string[]> {
  const out: Record<string, string | boolean | string[]> = {};
  for (const f of form.fields) {
    if (f.var === undefined || f.type === 'fixed') continue;
    const v = fieldValue(f);
    if (v !== undefined) out[f.var] = v;
  }
  return out;
}

function toStrings(v: FormValue, type: FieldType | undefined): string[] {
  if (typeof v === 'boolean') return [v ? '1' : '0'];
  if (typeof v === 'number') return [String(v)];
  if (typeof v === 'string') {
    // A text-multi value given as one string: one value per line (3.3).
    return type === 'text-multi' ? v.split(/\r?\n/) : [v];
  }
  return [...v];
}

function fieldElement(f: Partial<FormField> & { values: readonly string[] }, withMeta: boolean): Element {
  return xml(
    'field',
    {
      var: f.var,
      type: f.type === undefined || (!withMeta && f.type === 'text-single') ? undefined : f.type,
      label: withMeta ? f.label : undefined,
    },
    withMeta && f.desc !== undefined ? xml('desc', null, f.desc) : null,
    withMeta && f.required ? xml('required') : null,
    f.values.map((v) => xml('value', null, v)),
    withMeta
      ? (f.options ?? []).map((o) => xml('option', { label: o.label }, xml('value', null, o.value)))
      : null,
  );
}

/** Write a whole form (any type), e.g. for a service answering with a form. */
export function buildForm(form: Partial<DataForm> & { fields: readonly FormField[] }): Element {
  return xml(
    'x',
    { xmlns: NS_DATA, type: form.type ?? 'form' },
    form.title !== undefined ? xml('title', null, form.title) : null,
    (form.instructions ?? []).map((i) => xml('instructions', null, i)),
    form.reported
      ? xml(
          'reported',
          null,
          form.reported.map((f) => fieldElement(f, true)),
        )
      : null,
    form.fields.map((f) => fieldElement(f, true)),
    (form.items ?? []).map((row) =>
      xml(
        'item',
        null,
        row.map((f) => fieldElement(f, true)),
      ),
    ),
  );
}

/** Options of `buildSubmit`. */
export interface SubmitOptions {
  /** The FORM_TYPE to submit (XEP-0068); default the base form's. */
  formType?: string | undefined;
  /** The form being answered: its fields (and their current values) are kept, typed by it. */
  base?: DataForm | undefined;
}

/**
 * A `<x type='submit'/>` with these values (booleans as 1/0, arrays as several values).
 * `undefined` values are left out; with `base`, the form's other fields are submitted with
 * their current values.
 *
 * @example
 * buildSubmit({ 'muc#roomconfig_roomname': 'Kitchen', 'muc#roomconfig_persistentroom': true },
 *   { formType: 'http://jabber.org/protocol/muc#roomconfig' });
 */
export function buildSubmit(values: FormValues, o: SubmitOptions = {}): Element {
  const formType = o.formType ?? o.base?.formType;
  const types = new Map<string, FieldType>();
  const fields: Array<{ var: string; type: FieldType | undefined; values: string[] }> = [];
  const seen = new Set<string>();
  if (formType !== undefined) {
    fields.push({ var: 'FORM_TYPE', type: 'hidden', values: [formType] });
    seen.add('FORM_TYPE');
  }
  for (const f of o.base?.fields ?? []) {
    if (f.var === undefined || f.type === 'fixed' || seen.has(f.var)) continue;
    types.set(f.var, f.type);
    const v = values[f.var];
    seen.add(f.var);
    fields.push({
      var: f.var,
      type: undefined,
      values: v === undefined ? [...f.values] : toStrings(v, f.type),
    });
  }
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || seen.has(k)) continue;
    seen.add(k);
    fields.push({ var: k, type: undefined, values: toStrings(v, types.get(k)) });
  }
  return xml(
    'x',
    { xmlns: NS_DATA, type: 'submit' },
    fields.map((f) => fieldElement({ var: f.var, type: f.type, values: f.values }, false)),
  );
}

/** The answer that declines to fill in a form (XEP-0004 3.1 `cancel`). */
export function cancelForm(): Element {
  return xml('x', { xmlns: NS_DATA, type: 'cancel' });
}
