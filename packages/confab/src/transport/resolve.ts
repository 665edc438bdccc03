/**
 * Where to connect: browser-safe resolution logic (the DNS itself is injected).
 *
 * - RFC 6120 (XMPP Core) section 3.2: `_xmpp-client._tcp.<domain>` SRV records, fallback to the
 *   domain on port 5222 only when there are none.
 * - RFC 2782 (DNS SRV): order by priority, then weighted random order inside a priority; a
 *   lone target of "." means the service is decidedly not offered.
 * - XEP-0368 v1.1.0 (SRV records for XMPP over TLS): `_xmpps-client._tcp.<domain>` records mean
 *   direct TLS; both kinds are mixed as one record set; "." on one kind forbids the A/AAAA fallback.
 * - XEP-0156 v1.4.0 (Discovering Alternative XMPP Connection Methods): host-meta (JSON and XRD)
 *   links with rel `urn:xmpp:alt-connections:websocket`.
 */
import { ConfabError } from '../errors.ts';
import { parseXml } from '../xml/parser.ts';
import type { SrvRecord, SrvResolver } from './types.ts';

/** One place to try, in order. */
export interface Candidate {
  host: string;
  port: number;
  /** TLS right after TCP connect (xmpps-client, port 5223) instead of STARTTLS. */
  directTls: boolean;
  /** Where the candidate came from, for the debug log and error messages. */
  source: 'explicit' | 'srv' | 'fallback';
}

export const DEFAULT_PORT = 5222;
export const DEFAULT_DIRECT_TLS_PORT = 5223;
export const DEFAULT_DNS_TIMEOUT_MS = 3000;

/** True for IPv4 dotted quads and IPv6 literals (bracketed or not). */
export function isIpLiteral(host: string): boolean {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return host.split('.').every((o) => Number(o) <= 255);
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return h.includes(':') && /^[0-9a-fA-F:.]+(%.+)?$/.test(h);
}

/**
 * Names for which an SRV lookup makes no sense: IP literals and `localhost` (RFC 6761 reserves
 * it and its subdomains for loopback, so asking the network about it only costs a timeout).
 */
export function skipsSrv(domain: string): boolean {
  const d = domain.toLowerCase().replace(/\.$/, '');
  return isIpLiteral(d) || d === 'localhost' || d.endsWith('.localhost');
}

/**
 * RFC 2782 ordering: ascending priority; inside one priority, repeatedly pick a record with
 * probability proportional to its weight (weight-0 records first in the running sum, so they
 * are picked only rarely, as the RFC prescribes). `random` returns [0, 1).
 */
export function orderSrv<T extends SrvRecord>(
  records: readonly T[],
  random: () => number = Math.random,
): T[] {
  const byPriority = new Map<number, T[]>();
  for (const r of records) {
    const list = byPriority.get(r.priority);
    if (list) list.push(r);
    else byPriority.set(r.priority, [r]);
  }
  const out: T[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    // zero weights first (RFC 2782: "all those with weight 0 are placed at the beginning")
    const pool = byPriority
      .get(priority)!
      .slice()
      .sort((a, b) => (a.weight === 0 ? 0 : 1) - (b.weight === 0 ? 0 : 1));
    while (pool.length > 0) {
      const total = pool.reduce((s, r) => s + r.weight, 0);
      const pick = Math.floor(random() * (total + 1)); // uniform in [0, total]
      let sum = 0;
      let index = pool.length - 1;
      for (let i = 0; i < pool.length; i++) {
        sum += pool[i]!.weight;
        if (sum >= pick) {
          index = i;
          break;
        }
      }
      out.push(pool.splice(index, 1)[0]!);
    }
  }
  return out;
}

export interface ResolveOptions {
  resolver: SrvResolver;
  /** Only direct TLS (true), only STARTTLS (false) or both mixed (undefined, XEP-0368). */
  directTls?: boolean | undefined;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  random?: (() => number) | undefined;
  log?: ((message: string) => void) | undefined;
}

type Lookup = { records: SrvRecord[] } | { error: unknown };

async function lookup(name: string, options: ResolveOptions): Promise<Lookup> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS;
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ctl.abort();
        reject(new ConfabError('ERR_TIMEOUT', `DNS lookup of ${name} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    });
    const aborted = new Promise<never>((_, reject) => {
      if (options.signal?.aborted) reject(abortError());
      options.signal?.addEventListener('abort', () => reject(abortError()), { once: true });
    });
    const records = await Promise.race([options.resolver.resolveSrv(name, ctl.signal), timeout, aborted]);
    return { records };
  } catch (error) {
    if (options.signal?.aborted) throw abortError();
    return { error };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function abortError(): ConfabError {
  return new ConfabError('ERR_ABORTED', 'connection attempt aborted');
}

const isDot = (r: SrvRecord) => r.name === '' || r.name === '.';

/**
 * The candidates to try for `domain`, in order. Never rejects for DNS trouble: a failed or
 * timed-out lookup counts as "no records" and leads to the A/AAAA fallback (logged), so the
 * connect attempt then reports the real reason. Rejects only with ERR_ABORTED, or ERR_DNS
 * when the records say the service is not offered at all (every target ".").
 */
export async function resolveCandidates(domain: string, options: ResolveOptions): Promise<Candidate[]> {
  const { directTls, log } = options;
  const fallbackPort = directTls ? DEFAULT_DIRECT_TLS_PORT : DEFAULT_PORT;
  const fallback: Candidate[] = [
    { host: domain, port: fallbackPort, directTls: directTls === true, source: 'fallback' },
  ];
  if (skipsSrv(domain)) {
    log?.(`no SRV lookup for ${domain}: ${isIpLiteral(domain) ? 'an IP literal' : 'localhost'}`);
    return fallback;
  }
  const kinds: Array<{ service: string; direct: boolean }> = [];
  if (directTls !== true) kinds.push({ service: '_xmpp-client._tcp.', direct: false });
  if (directTls !== false) kinds.push({ service: '_xmpps-client._tcp.', direct: true });
  const results = await Promise.all(kinds.map((k) => lookup(k.service + domain, options)));

  type Tagged = SrvRecord & { direct: boolean };
  const mixed: Tagged[] = [];
  let sawRecords = false;
  results.forEach((res, i) => {
    const kind = kinds[i]!;
    if ('error' in res) {
      const e = res.error as { code?: string; message?: string };
      log?.(`SRV ${kind.service}${domain}: lookup failed (${e.code ?? e.message ?? String(e)})`);
      return;
    }
    if (res.records.length === 0) return;
    sawRecords = true;
    const usable = res.records.filter((r) => !isDot(r));
    if (usable.length === 0) log?.(`SRV ${kind.service}${domain}: "." (service not offered)`);
    for (const r of usable) mixed.push({ ...r, name: r.name.replace(/\.$/, ''), direct: kind.direct });
  });

  if (!sawRecords) {
    log?.(`no SRV records for ${domain}: trying ${domain}:${fallbackPort}`);
    return fallback;
  }
  if (mixed.length === 0) {
    throw new ConfabError('ERR_DNS', `the SRV records of ${domain} say it offers no XMPP client service`);
  }
  const ordered = orderSrv(mixed, options.random);
  log?.(
    `SRV candidates: ${ordered.map((r) => `${r.name}:${r.port}${r.direct ? ' (direct TLS)' : ''}`).join(', ')}`,
  );
  return ordered.map((r) => ({ host: r.name, port: r.port, directTls: r.direct, source: 'srv' as const }));
}

// --- XEP-0156: WebSocket endpoint discovery ---

export const ALT_WEBSOCKET_REL = 'urn:xmpp:alt-connections:websocket';
const XRD_NS = 'http://docs.oasis-open.org/ns/xri/xrd-1.0';

export interface DiscoverOptions {
  /** `fetch` to use (default `globalThis.fetch`). */
  fetch?: typeof globalThis.fetch | undefined;
  signal?: AbortSignal | undefined;
  /** Per-request timeout, default 5000 ms. */
  timeoutMs?: number | undefined;
  /** Also return `ws://` endpoints (plaintext). Off by default. */
  allowPlaintext?: boolean | undefined;
}

/**
 * XEP-0156: look up the WebSocket endpoints `domain` announces, in the order announced
 * (host-meta.json first, then the XRD host-meta). Always over https (the lookup is only as
 * trustworthy as its transport). Resolves to [] when the domain announces none or the
 * lookup fails; `wss://` only unless `allowPlaintext`.
 *
 * @example
 * const [url] = await discoverWebSocket('example.org');
 */
export async function discoverWebSocket(domain: string, options: DiscoverOptions = {}): Promise<string[]> {
  if (!/^[A-Za-z0-9.-]+$/.test(domain) && !isIpLiteral(domain)) {
    throw new ConfabError('ERR_BAD_INPUT', `not a domain: ${JSON.stringify(domain)}`);
  }
  const doFetch = options.fetch ?? globalThis.fetch;
  const get = async (path: string): Promise<string | undefined> => {
    const signals = [AbortSignal.timeout(options.timeoutMs ?? 5000)];
    if (options.signal) signals.push(options.signal);
    try {
      const res = await doFetch(`https://${domain}/.well-known/${path}`, {
        signal: AbortSignal.any(signals),
      });
      return res.ok ? await res.text() : undefined;
    } catch {
      if (options.signal?.aborted) throw abortError();
      return undefined;
    }
  };
  const keep = (href: unknown): href is string =>
    typeof href === 'string' &&
    (href.startsWith('wss://') || (options.allowPlaintext === true && href.startsWith('ws://')));

  const json = await get('host-meta.json');
  if (json !== undefined) {
    try {
      const doc = JSON.parse(json) as { links?: Array<{ rel?: unknown; href?: unknown }> };
      const found = (doc.links ?? []).filter((l) => l.rel === ALT_WEBSOCKET_REL).map((l) => l.href);
      const urls = found.filter(keep);
      if (urls.length > 0) return urls;
    } catch {
      // not JSON: try the XRD
    }
  }
  const xrd = await get('host-meta');
  if (xrd === undefined) return [];
  try {
    const root = parseXml(xrd.replace(/^\uFEFF?\s*<\?xml[^>]*\?>\s*/, ''));
    if (!root.is('XRD', XRD_NS)) return [];
    return root
      .getChildren('Link', XRD_NS)
      .filter((l) => l.attr('rel') === ALT_WEBSOCKET_REL)
      .map((l) => l.attr('href'))
      .filter(keep);
  } catch {
    return [];
  }
}
