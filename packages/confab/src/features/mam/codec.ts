/**
 * Wire format of Message Archive Management: XEP-0313 v1.1 (`urn:xmpp:mam:2`), with
 * XEP-0059 v1.0 Result Set Management (`http://jabber.org/protocol/rsm`) for paging,
 * XEP-0004 data forms for the filters (FORM_TYPE `urn:xmpp:mam:2`; `with`, `start`,
 * `end`; `before-id`, `after-id`, `ids` only where `urn:xmpp:mam:2#extended` is
 * announced), XEP-0297 for the forwarded results, XEP-0359 v0.7 `<stanza-id/>` (the
 * archive id servers stamp on live messages), and XEP-0441 v0.2 preferences (same
 * namespace, `<prefs/>`).
 *
 * Reading only what MAM defines; trust decisions (which sender, which query) are in
 * mam.ts.
 */
import { equalJid } from '../../jid.ts';
import { type Element, xml } from '../../xml/element.ts';
import { type Forwarded, readForwarded } from '../carbons/forwarded.ts';
import { buildForm, type FormField } from '../disco/codec.ts';
import { formatDateTime } from '../presence/codec.ts';

export const NS_MAM = 'urn:xmpp:mam:2';
export const NS_MAM_EXTENDED = 'urn:xmpp:mam:2#extended';
export const NS_RSM = 'http://jabber.org/protocol/rsm';
export const NS_SID = 'urn:xmpp:sid:0';

/** Filters of a query (XEP-0313 4.1). Times are Dates or XEP-0082 strings. */
export interface MamFilter {
  /** Only messages to or from this JID (a bare JID matches all its resources). */
  with?: string | undefined;
  /** Only messages at or after this time. */
  start?: Date | string | undefined;
  /** Only messages at or before this time. */
  end?: Date | string | undefined;
  /** `#extended`: only messages after this archive id (unlike RSM `after`, not a page cursor). */
  afterId?: string | undefined;
  /** `#extended`: only messages before this archive id. */
  beforeId?: string | undefined;
  /** `#extended`: exactly these archive ids. */
  ids?: readonly string[] | undefined;
}

/** XEP-0059 request: page size and cursor. `before: ''` asks for the last page. */
export interface RsmRequest {
  max?: number | undefined;
  after?: string | undefined;
  before?: string | undefined;
}

/** XEP-0059 answer (inside `<fin/>`). */
export interface RsmResult {
  first: string | undefined;
  firstIndex: number | undefined;
  last: string | undefined;
  count: number | undefined;
}

/** The end of one query (XEP-0313 4.3): `<fin/>` in the iq result. */
export interface Fin extends RsmResult {
  /** The server says nothing more matches in the direction we page (4.3.2 `complete`). */
  complete: boolean;
  /** False when the server warns the results may still change (`stable='false'`). */
  stable: boolean;
}

/** One `<result/>`, read but not yet trusted. */
export interface ResultWrapper {
  queryId: string | undefined;
  /** The archive id (UID) of the message. */
  id: string | undefined;
  /** The wrapper's `from` as sent. */
  from: string | undefined;
  forwarded: Forwarded | undefined;
}

function time(t: Date | string): string {
  return typeof t === 'string' ? t : formatDateTime(t);
}

/** `<set xmlns=rsm>` (XEP-0059 2); undefined when nothing is asked. */
export function buildRsm(r: RsmRequest): Element | undefined {
  if (r.max === undefined && r.after === undefined && r.before === undefined) return undefined;
  return xml(
    'set',
    { xmlns: NS_RSM },
    r.max !== undefined ? xml('max', null, String(Math.max(0, Math.floor(r.max)))) : null,
    r.after !== undefined ? xml('after', null, r.after) : null,
    // An empty <before/> is meaningful: "the last page" (XEP-0059 2.5).
    r.before !== undefined ? xml('before', null, r.before) : null,
  );
}

/** Read a `<set xmlns=rsm>`; all undefined when absent. */
export function readRsm(set: Element | undefined): RsmResult {
  const first = set?.getChild('first', NS_RSM);
  const idx = first?.attr('index');
  const count = set?.getChildText('count', NS_RSM);
  return {
    first: first?.text() || undefined,
    firstIndex: idx !== undefined && /^\d+$/.test(idx) ? Number(idx) : undefined,
    last: set?.getChildText('last', NS_RSM) || undefined,
    count: count !== undefined && /^\d+$/.test(count.trim()) ? Number(count.trim()) : undefined,
  };
}

/** The query payload `<query xmlns='urn:xmpp:mam:2' queryid>` with its form and RSM set. */
export function buildQuery(queryId: string, filter: MamFilter = {}, rsm: RsmRequest = {}): Element {
  const fields: FormField[] = [];
  const add = (v: string, values: readonly string[] | undefined) => {
    if (values && values.length > 0) fields.push({ var: v, values: [...values] });
  };
  add('with', filter.with !== undefined ? [filter.with] : undefined);
  add('start', filter.start !== undefined ? [time(filter.start)] : undefined);
  add('end', filter.end !== undefined ? [time(filter.end)] : undefined);
  add('after-id', filter.afterId !== undefined ? [filter.afterId] : undefined);
  add('before-id', filter.beforeId !== undefined ? [filter.beforeId] : undefined);
  add('ids', filter.ids);
  return xml(
    'query',
    { xmlns: NS_MAM, queryid: queryId },
    fields.length > 0
      ? buildForm({
          type: 'submit',
          fields: [{ var: 'FORM_TYPE', type: 'hidden', values: [NS_MAM] }, ...fields],
        })
      : null,
    buildRsm(rsm),
  );
}

/** Read a `<message>` carrying `<result xmlns='urn:xmpp:mam:2'>`; undefined for other stanzas. */
export function readResult(el: Element): ResultWrapper | undefined {
  if (el.name !== 'message') return undefined;
  const r = el.getChild('result', NS_MAM);
  if (!r) return undefined;
  return {
    queryId: r.attr('queryid'),
    id: r.attr('id') || undefined,
    from: el.attr('from'),
    forwarded: readForwarded(r),
  };
}

/** Read the `<fin/>` of a query's iq result. A result without one is read as a complete, empty page. */
export function readFin(iq: Element): Fin {
  const fin = iq.getChild('fin', NS_MAM);
  const rsm = readRsm(fin?.getChild('set', NS_RSM));
  return {
    ...rsm,
    complete: fin === undefined || fin.attr('complete') === 'true' || fin.attr('complete') === '1',
    stable: fin?.attr('stable') !== 'false' && fin?.attr('stable') !== '0',
  };
}

/**
 * The archive id the server stamped on a live (or carbon-copied, or offline) message:
 * its XEP-0359 `<stanza-id/>` whose `by` is the archive (XEP-0313 3.3). Several may be
 * present (a room's and ours); only `by === archive` counts. Believe it only from a
 * server that announces `urn:xmpp:mam:2` (XEP-0313 3.3 note; such servers strip forged
 * stanza-ids with their own `by`, XEP-0359 6).
 */
export function stanzaIdBy(message: Element, archive: string): string | undefined {
  for (const s of message.getChildren('stanza-id', NS_SID)) {
    const by = s.attr('by');
    const id = s.attr('id');
    if (by !== undefined && id && equalJid(by, archive)) return id;
  }
  return undefined;
}

// ---------------------------------------------------------------- preferences (XEP-0441)

/** Archiving preferences: the default, and JIDs always / never archived. */
export interface MamPrefs {
  default: 'always' | 'never' | 'roster';
  always: string[];
  never: string[];
}

const DEFAULTS = new Set(['always', 'never', 'roster']);

export function readPrefs(el: Element | undefined): MamPrefs | undefined {
  if (!el?.is('prefs', NS_MAM)) return undefined;
  const d = el.attr('default') ?? 'always';
  const jids = (name: string) =>
    (el.getChild(name, NS_MAM)?.getChildren('jid', NS_MAM) ?? []).map((j) => j.text().trim()).filter(Boolean);
  return {
    default: (DEFAULTS.has(d) ? d : 'always') as MamPrefs['default'],
    always: jids('always'),
    never: jids('never'),
  };
}

export function buildPrefs(p?: MamPrefs): Element {
  if (!p) return xml('prefs', { xmlns: NS_MAM });
  return xml(
    'prefs',
    { xmlns: NS_MAM, default: p.default },
    xml(
      'always',
      null,
      p.always.map((j) => xml('jid', null, j)),
    ),
    xml(
      'never',
      null,
      p.never.map((j) => xml('jid', null, j)),
    ),
  );
}
