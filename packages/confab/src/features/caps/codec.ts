/**
 * Entity capabilities wire format and hash: XEP-0115 "Entity Capabilities" v1.6.0
 * (section 4 `<c/>`, 5.1 generation method, 5.4 processing method: the
 * well-formedness rules) over XEP-0030 info and XEP-0128 forms.
 *
 * The verification string is the one place where a bug breaks interoperability
 * silently (a wrong `ver` makes every peer query us, or rejects our caps), so the
 * spec's two examples are must-pass fixtures (fixtures/*.xml, codec.test.ts).
 */
import { toBase64, utf8 } from '../../util/base64.ts';
import { type Element, xml } from '../../xml/element.ts';
import { type DataForm, type DiscoInfo, formType, type Identity } from '../disco/codec.ts';
import { octetCompare } from '../disco/disco.ts';

export const NS_CAPS = 'http://jabber.org/protocol/caps';

/** The `<c/>` attributes (XEP-0115 4). `ext` is the deprecated legacy format, read only. */
export const CAPS_ATTRS = ['hash', 'node', 'ver', 'ext'] as const;
export type CapsAttrs = { [K in (typeof CAPS_ATTRS)[number]]?: string | undefined };
/** A `<c/>` with the three required attributes. */
export type CapsAdvert = { hash: string; node: string; ver: string; ext?: string | undefined };

/**
 * Hash names (IANA "Hash Function Textual Names", as XEP-0115 uses them) mapped to
 * the WebCrypto algorithm. MD5 and SHA-224 are not in WebCrypto: a `<c/>` with them
 * counts as an unsupported hash (XEP-0115 5.4 step 2: query, but never cache globally).
 */
export const HASHES = {
  'sha-1': 'SHA-1',
  'sha-256': 'SHA-256',
  'sha-384': 'SHA-384',
  'sha-512': 'SHA-512',
} as const;
export type HashName = keyof typeof HASHES;

export function isSupportedHash(h: string | undefined): h is HashName {
  return h !== undefined && Object.hasOwn(HASHES, h);
}

/** Read the `<c/>` of a presence; undefined when absent or missing a required attribute (legacy). */
export function parseCaps(presence: Element): CapsAdvert | undefined {
  const c = presence.getChild('c', NS_CAPS);
  if (!c) return undefined;
  const a = Object.fromEntries(CAPS_ATTRS.map((k) => [k, c.attr(k)])) as CapsAttrs;
  if (a.node === undefined || a.ver === undefined) return undefined;
  // No hash: the pre-1.4 legacy format (`ver` was the software version). Kept, marked by hash ''.
  return { hash: a.hash ?? '', node: a.node, ver: a.ver, ext: a.ext };
}

/** Build `<c xmlns='http://jabber.org/protocol/caps' hash node ver/>`. */
export function buildCaps(c: CapsAdvert): Element {
  return xml('c', { xmlns: NS_CAPS, hash: c.hash, node: c.node, ver: c.ver });
}

function compareIdentity(a: Identity, b: Identity): number {
  return (
    octetCompare(a.category, b.category) ||
    octetCompare(a.type, b.type) ||
    octetCompare(a.lang ?? '', b.lang ?? '') ||
    octetCompare(a.name ?? '', b.name ?? '')
  );
}

/** Forms that take part in the hash: those with a hidden FORM_TYPE (5.4 step 3.6). */
function hashedForms(forms: readonly DataForm[]): DataForm[] {
  return forms.filter((f) => {
    const ft = f.fields.find((x) => x.var === 'FORM_TYPE');
    return ft !== undefined && ft.type === 'hidden';
  });
}

/**
 * The XEP-0115 5.4 checks: duplicate identities, duplicate features, two forms with
 * one FORM_TYPE, or a FORM_TYPE with differing values make the answer ill-formed.
 * Returns the reason, or undefined when the answer is well-formed.
 */
export function illFormed(info: DiscoInfo): string | undefined {
  const ids = new Set<string>();
  for (const i of info.identities) {
    const k = JSON.stringify([i.category, i.type, i.lang ?? '', i.name ?? '']);
    if (ids.has(k)) return `duplicate identity ${i.category}/${i.type}`;
    ids.add(k);
  }
  if (new Set(info.features).size !== info.features.length) return 'duplicate feature';
  const types = new Set<string>();
  for (const f of hashedForms(info.extensions)) {
    const ft = f.fields.find((x) => x.var === 'FORM_TYPE')!;
    if (new Set(ft.values).size > 1) return 'FORM_TYPE with several values';
    const t = formType(f) ?? '';
    if (types.has(t)) return `two forms with FORM_TYPE ${t}`;
    types.add(t);
  }
  return undefined;
}

/** The verification string S of XEP-0115 5.1 (before hashing). */
export function verificationString(info: DiscoInfo): string {
  let s = '';
  for (const i of [...info.identities].sort(compareIdentity)) {
    s += `${i.category}/${i.type}/${i.lang ?? ''}/${i.name ?? ''}<`;
  }
  for (const f of [...info.features].sort(octetCompare)) s += `${f}<`;
  const forms = hashedForms(info.extensions).sort((a, b) =>
    octetCompare(formType(a) ?? '', formType(b) ?? ''),
  );
  for (const form of forms) {
    s += `${formType(form) ?? ''}<`;
    const fields = form.fields
      .filter((f) => f.var !== 'FORM_TYPE')
      .sort((a, b) => octetCompare(a.var, b.var));
    for (const field of fields) {
      s += `${field.var}<`;
      for (const v of [...field.values].sort(octetCompare)) s += `${v}<`;
    }
  }
  return s;
}

/** The `ver` for `info` with hash `hash` (base64 of the digest of S in UTF-8). */
export async function computeVer(info: DiscoInfo, hash: HashName = 'sha-1'): Promise<string> {
  const digest = await crypto.subtle.digest(HASHES[hash], utf8(verificationString(info)) as BufferSource);
  return toBase64(new Uint8Array(digest));
}

/** True when `info` is well-formed and hashes to `ver` (XEP-0115 5.4 step 3). */
export async function verifyVer(info: DiscoInfo, hash: HashName, ver: string): Promise<boolean> {
  if (illFormed(info) !== undefined) return false;
  return (await computeVer(info, hash)) === ver;
}
