/**
 * Wire format of the "what are you" queries:
 * - XEP-0092 "Software Version" v1.1: `<query xmlns='jabber:iq:version'>` name, version, os;
 * - XEP-0012 "Last Activity" v2.0: `<query xmlns='jabber:iq:last' seconds='903'>status</query>`;
 * - XEP-0202 "Entity Time" v2.0: `<time xmlns='urn:xmpp:time'>` tzo, utc (XEP-0082 formats).
 */
import { ConfabError } from '../../errors.ts';
import { type Element, xml } from '../../xml/element.ts';

export const NS = {
  version: 'jabber:iq:version',
  last: 'jabber:iq:last',
  time: 'urn:xmpp:time',
} as const;

/** XEP-0092 fields: child element name -> required. */
export const VERSION_FIELDS = { name: true, version: true, os: false } as const;
type VersionFields = typeof VERSION_FIELDS;
/** A software version answer; `os` is optional (and we leave it out by default: it helps attackers). */
export type SoftwareVersion = {
  [K in keyof VersionFields as VersionFields[K] extends true ? K : never]: string;
} & {
  [K in keyof VersionFields as VersionFields[K] extends true ? never : K]?: string | undefined;
};

/** XEP-0012 answer. */
export interface LastActivity {
  /** Seconds: idle time (full JID), since logout (bare JID), uptime (server). */
  seconds: number;
  /** The status of the last unavailable presence (bare JID queries), if any. */
  status?: string | undefined;
}

/** XEP-0202 answer. */
export interface EntityTime {
  /** The entity's clock, as an instant. */
  utc: Date;
  /** Its offset from UTC as sent, e.g. `-06:00`. */
  tzo: string;
  /** The same offset in minutes (east positive), e.g. -360. */
  offsetMinutes: number;
}

export function buildVersion(v?: SoftwareVersion): Element {
  return xml(
    'query',
    { xmlns: NS.version },
    v
      ? (Object.keys(VERSION_FIELDS) as (keyof VersionFields)[]).map((k) =>
          v[k] === undefined ? null : xml(k, null, v[k]),
        )
      : null,
  );
}

export function parseVersion(q: Element): SoftwareVersion {
  const out: Record<string, string | undefined> = {};
  for (const k of Object.keys(VERSION_FIELDS) as (keyof VersionFields)[]) {
    const t = q.getChildText(k, NS.version);
    if (t === undefined && VERSION_FIELDS[k]) throw bad(`jabber:iq:version answer without <${k}/>`, q);
    if (t !== undefined) out[k] = t;
  }
  return out as SoftwareVersion;
}

export function buildLast(l?: LastActivity): Element {
  return xml(
    'query',
    { xmlns: NS.last, seconds: l === undefined ? undefined : Math.max(0, Math.floor(l.seconds)) },
    l?.status ?? null,
  );
}

export function parseLast(q: Element): LastActivity {
  const s = q.attr('seconds');
  if (s === undefined || !/^\d+$/.test(s)) throw bad('jabber:iq:last answer without a valid seconds', q);
  const status = q.text();
  return { seconds: Number(s), status: status === '' ? undefined : status };
}

/** `-06:00` from minutes east of UTC. */
export function formatTzo(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  return `${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

export function buildTime(t?: { utc: Date; offsetMinutes: number }): Element {
  return xml(
    'time',
    { xmlns: NS.time },
    t
      ? [
          xml('tzo', null, formatTzo(t.offsetMinutes)),
          // XEP-0082 DateTime in UTC; fractions are allowed but say nothing useful here.
          xml('utc', null, t.utc.toISOString().replace(/\.\d+Z$/, 'Z')),
        ]
      : null,
  );
}

export function parseTime(t: Element): EntityTime {
  const tzo = t.getChildText('tzo', NS.time)?.trim();
  const utcText = t.getChildText('utc', NS.time)?.trim();
  const m = tzo === undefined ? null : /^(?:Z|([+-])(\d{2}):(\d{2}))$/.exec(tzo);
  const utc = utcText === undefined ? Number.NaN : Date.parse(utcText);
  if (!m || !utcText || !/(?:Z|[+-]\d{2}:\d{2})$/.test(utcText) || Number.isNaN(utc)) {
    throw bad('urn:xmpp:time answer without a valid tzo and utc', t);
  }
  const offsetMinutes = m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  return { utc: new Date(utc), tzo: tzo!, offsetMinutes };
}

function bad(message: string, el: Element): ConfabError {
  return new ConfabError('ERR_BAD_REPLY', message, { element: el });
}
