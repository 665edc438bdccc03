/**
 * File transfer wire formats, declared once as data (DESIGN principle 2):
 * - XEP-0066 v1.5 "Out of Band Data", iq form (`jabber:iq:oob`): `<query sid?><url/><desc/></query>`
 *   in an iq set to a full JID; an empty result means the receiver fetched the file, an error
 *   `not-acceptable` that it refused the offer, `item-not-found` that it could not fetch it
 *   (section 3.2). The message form (`jabber:x:oob`) is messages/codec/oob.ts.
 * - XEP-0363 v1.1 "HTTP File Upload" (`urn:xmpp:http:upload:0`): the slot request and answer
 *   (section 4), the `max-file-size` field of the service's XEP-0128 form (section 3), and the
 *   `file-too-large` / `retry` error children (section 5).
 *
 * Behaviour (which headers may be sent, what a slot URL may be) is here too where it is about
 * reading the wire: `parseSlot` keeps only the headers XEP-0363 allows and strips newlines.
 */
import type { StanzaError } from '../../errors.ts';
import { ConfabError } from '../../errors.ts';
import type { Element } from '../../xml/element.ts';
import type { DiscoInfo } from '../disco/codec.ts';
import { type ElementSpec, type Infer, read, readChild, write } from '../messages/codec/schema.ts';

export const NS_IQ_OOB = 'jabber:iq:oob';
export const NS_UPLOAD = 'urn:xmpp:http:upload:0';

/** XEP-0066 3.1: the offer. `sid` (optional) ties it to a session the two parties share. */
export const IQ_OOB = {
  name: 'query',
  ns: NS_IQ_OOB,
  attrs: { sid: 'string' },
  children: { url: { kind: 'text', name: 'url' }, desc: { kind: 'text', name: 'desc' } },
} as const satisfies ElementSpec;

export type IqOobQuery = Infer<typeof IQ_OOB>;

/** XEP-0363 4: the slot request (filename and size required, content-type optional). */
export const UPLOAD_REQUEST = {
  name: 'request',
  ns: NS_UPLOAD,
  attrs: { filename: 'string', size: 'int', 'content-type': 'string' },
} as const satisfies ElementSpec;

const SLOT_HEADER = {
  name: 'header',
  attrs: { name: 'string' },
  text: 'string',
} as const satisfies ElementSpec;

/** XEP-0363 4: the slot: a PUT URL with headers, and the GET URL to share. */
export const UPLOAD_SLOT = {
  name: 'slot',
  ns: NS_UPLOAD,
  children: {
    put: {
      kind: 'element',
      spec: {
        name: 'put',
        attrs: { url: 'string' },
        children: { header: { kind: 'element', spec: SLOT_HEADER, many: true } },
      },
    },
    get: { kind: 'element', spec: { name: 'get', attrs: { url: 'string' } } },
  },
} as const satisfies ElementSpec;

/** XEP-0363 5: inside `<error/>` when the file is too large. */
export const FILE_TOO_LARGE = {
  name: 'file-too-large',
  ns: NS_UPLOAD,
  children: { maxFileSize: { kind: 'text', name: 'max-file-size', type: 'int' } },
} as const satisfies ElementSpec;

/** XEP-0363 5: inside `<error type='wait'/>`: when to try again. */
export const UPLOAD_RETRY = {
  name: 'retry',
  ns: NS_UPLOAD,
  attrs: { stamp: 'date' },
} as const satisfies ElementSpec;

/** An out-of-band offer as the app sees it. */
export interface OobOfferData {
  url: string;
  desc: string | undefined;
  sid: string | undefined;
}

/** `<query xmlns='jabber:iq:oob'>` for an offer. */
export function buildOobOffer(o: {
  url: string;
  desc?: string | undefined;
  sid?: string | undefined;
}): Element {
  return write(IQ_OOB, { sid: o.sid, url: o.url, desc: o.desc });
}

/** Read an offer's payload; undefined when it has no usable `<url/>`. */
export function parseOobOffer(query: Element): OobOfferData | undefined {
  const q = read(IQ_OOB, query);
  const url = q.url?.trim();
  if (!url) return undefined;
  return { url, desc: q.desc, sid: q.sid };
}

/** The slot request payload. */
export function buildSlotRequest(r: {
  filename: string;
  size: number;
  contentType?: string | undefined;
}): Element {
  return write(UPLOAD_REQUEST, { filename: r.filename, size: r.size, 'content-type': r.contentType });
}

/** Header names a slot may ask for (XEP-0363 v1.1 4: every other one MUST be ignored). */
export const ALLOWED_SLOT_HEADERS = ['Authorization', 'Cookie', 'Expires'] as const;

/** An upload slot, checked. */
export interface Slot {
  put: string;
  get: string;
  /** Only the allowed headers, newlines stripped, under their canonical names. */
  headers: Record<string, string>;
}

const HTTP_URL = /^https?:\/\//i;

/**
 * Read the slot from the service's result. Throws ERR_BAD_REPLY when it has no PUT or GET URL,
 * or one that is not http(s) (we would PUT the user's file wherever it points).
 */
export function parseSlot(result: Element): Slot {
  const el = result.name === 'slot' ? result : result.getChild('slot', NS_UPLOAD);
  const s = el ? read(UPLOAD_SLOT, el) : undefined;
  const put = s?.put?.url?.trim();
  const get = s?.get?.url?.trim();
  if (
    !put ||
    !get ||
    !HTTP_URL.test(put) ||
    !HTTP_URL.test(get) ||
    !URL.canParse(put) ||
    !URL.canParse(get)
  ) {
    throw new ConfabError(
      'ERR_BAD_REPLY',
      'the upload service sent a slot without usable http(s) PUT and GET URLs',
      {
        element: result,
      },
    );
  }
  const headers: Record<string, string> = {};
  for (const h of s?.put?.header ?? []) {
    const name = h.name?.replace(/[\r\n]/g, '').trim();
    const allowed = ALLOWED_SLOT_HEADERS.find((a) => a.toLowerCase() === name?.toLowerCase());
    if (allowed === undefined) continue;
    headers[allowed] = (h.text ?? '').replace(/[\r\n]/g, '');
  }
  return { put, get, headers };
}

/** The service's maximum file size in bytes from its XEP-0128 form, if it announces one. */
export function maxFileSize(info: DiscoInfo): number | undefined {
  for (const form of info.extensions) {
    const type = form.fields.find((f) => f.var === 'FORM_TYPE')?.values[0];
    if (type !== NS_UPLOAD) continue;
    const raw = form.fields.find((f) => f.var === 'max-file-size')?.values[0]?.trim();
    if (raw !== undefined && /^\d{1,15}$/.test(raw)) return Number(raw);
  }
  return undefined;
}

/** What an upload service's error says beyond the condition: the size limit, when to retry. */
export function uploadErrorDetails(err: StanzaError): { maxFileSize?: number; retry?: Date } {
  const error = err.element?.getChild('error');
  if (!error) return {};
  const tooLarge = readChild(FILE_TOO_LARGE, error);
  const retry = readChild(UPLOAD_RETRY, error);
  return {
    ...(tooLarge?.maxFileSize !== undefined ? { maxFileSize: tooLarge.maxFileSize } : {}),
    ...(retry?.stamp !== undefined ? { retry: retry.stamp } : {}),
  };
}
