/**
 * The parse benchmark's input: a deterministic, realistic c2s XMPP stream of ~20 MB, as a server
 * sends it to a client after login (RFC 6120 stream framing).
 *
 * What is in it, and why (the parser's hot paths):
 * - stream header with the `stream:` prefix and a default namespace (RFC 6120 §4.7), stream features;
 * - one roster result with 5,000 items with groups (RFC 6121 §2, jabber:iq:roster): one very large
 *   stanza, many small elements and attributes;
 * - a presence flood with entity capabilities (XEP-0115 v1.6 `<c/>`), delay (XEP-0203 v2.0) and
 *   vCard avatar hashes (XEP-0153);
 * - MUC occupant presences (XEP-0045 v1.34 muc#user items, status codes);
 * - chat messages with ~100-character bodies full of escaped entities (&amp; &lt; &quot; ...),
 *   numeric character references, accents, CJK and emoji (astral characters, ZWJ sequences), with
 *   chat states (XEP-0085), receipts (XEP-0184), unique ids (XEP-0359), some as carbons (XEP-0280,
 *   XEP-0297: a nested jabber:client message);
 * - groupchat messages, XHTML-IM messages (XEP-0071 v1.5: xhtml-im wrapper + XHTML namespace),
 *   pings (XEP-0199);
 * - whitespace keepalives between some stanzas.
 *
 * The generator records what a correct parser must report: the number of top-level elements
 * (stanzas) and, in document order, the decoded text of each top-level message's jabber:client
 * <body>; the parse benchmark compares every parser against that.
 *
 * The corpus is cached in bench/corpus/ (gitignored), keyed by generator version, seed and size,
 * and verified by its SHA-256 when reused.
 */

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Rng } from './prng.ts';

/** Bump when the generator's output changes, so stale caches are regenerated. */
const GENERATOR_VERSION = 1;

export interface CorpusOptions {
  seed?: number;
  /** Approximate size in bytes; generation stops at the first stanza boundary past it. */
  targetBytes?: number;
  /** Cache directory; null generates in memory only. */
  cacheDir?: string | null;
}

export interface CorpusMeta {
  version: number;
  seed: number;
  targetBytes: number;
  bytes: number;
  sha256: string;
  /** Top-level elements inside the stream (features included, stream header not). */
  stanzas: number;
  /** Stanzas per kind, for the report. */
  kinds: Record<string, number>;
  /** Size in bytes of the roster result stanza (parsers with stanza size limits need to allow it). */
  rosterBytes: number;
  /** Size in bytes of the largest stanza. */
  largestStanzaBytes: number;
  /** Decoded text of each top-level message's jabber:client <body>, in document order. */
  bodies: string[];
}

export interface Corpus {
  bytes: Buffer;
  meta: CorpusMeta;
  /** Where it was cached, or null when generated in memory. */
  path: string | null;
  /** True when it came from the cache. */
  cached: boolean;
}

export const DEFAULT_SEED = 0x5eed2026;
export const DEFAULT_TARGET_BYTES = 20_000_000;

const DEFAULT_CACHE_DIR = new URL('./corpus/', import.meta.url);

/** Load the cached corpus or generate (and cache) it. */
export function loadCorpus(options: CorpusOptions = {}): Corpus {
  const seed = options.seed ?? DEFAULT_SEED;
  const targetBytes = options.targetBytes ?? DEFAULT_TARGET_BYTES;
  const cacheDir = options.cacheDir === undefined ? DEFAULT_CACHE_DIR.pathname : options.cacheDir;
  const base = `stream-v${GENERATOR_VERSION}-s${seed.toString(16)}-${targetBytes}`;
  if (cacheDir !== null) {
    const xmlPath = `${cacheDir}/${base}.xml`;
    const metaPath = `${cacheDir}/${base}.json`;
    if (existsSync(xmlPath) && existsSync(metaPath)) {
      try {
        const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as CorpusMeta;
        const bytes = readFileSync(xmlPath);
        if (
          meta.version === GENERATOR_VERSION &&
          meta.bytes === bytes.length &&
          sha256(bytes) === meta.sha256
        ) {
          return { bytes, meta, path: xmlPath, cached: true };
        }
      } catch {
        // fall through: regenerate a corrupt cache
      }
    }
    const { bytes, meta } = generateCorpus(seed, targetBytes);
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(xmlPath, bytes);
    writeFileSync(metaPath, JSON.stringify(meta));
    return { bytes, meta, path: xmlPath, cached: false };
  }
  const { bytes, meta } = generateCorpus(seed, targetBytes);
  return { bytes, meta, path: null, cached: false };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Escaping as servers write it (Prosody escapes all five in text and attributes).

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const escapeAll = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c] as string);

// ---------------------------------------------------------------------------------------------
// Word pools.

const EN = (
  'the a to and you it is that for on we this with are be at can have not do just so but will ' +
  'meeting tomorrow lunch thanks see later code review merge branch deploy server coffee really ' +
  'sounds good let me know when ready ping call back today tonight weekend train late sorry ' +
  'great idea build broke again fixed tests pass release notes doc link here there maybe ok yes ' +
  'no what why how who where send file photo upload room invite join leave status away busy'
).split(' ');
const ACCENTED = (
  'café naïve déjà vu résumé Müller Straße façade señor año crème brûlée smörgåsbord Ærø Łódź ' +
  'Dvořák Zoë Björk François über Ångström piñata garçon fiancée Øresund İstanbul Škoda'
).split(' ');
const CYRILLIC_GREEK = 'привет спасибо пожалуйста до завтра καλημέρα ευχαριστώ γειά σου'.split(' ');
const CJK = (
  '你好 世界 谢谢 今天 会议 明天 开会 晚饭 吃了吗 こんにちは ありがとう 東京 駅 電車 遅れる ' +
  '안녕하세요 감사합니다 회의 내일 漢字 日本語'
).split(' ');
const EMOJI = ['😀', '😂', '🎉', '👍', '👍🏽', '❤️', '🚀', '🇫🇷', '👩‍💻', '🙈', '☕', '🤔', '👨‍👩‍👧', '✅'];
/** Tokens whose escaping matters: the text holds &, <, >, quotes. */
const ENTITY_TOKENS = [
  '&',
  '<',
  '>',
  '"quoted"',
  "it's",
  'R&D',
  'a<b',
  'x>y',
  '<3',
  'AT&T',
  "'hi'",
  '->',
  '=>',
  '&amp;',
  'Q&A',
  '<br>',
  'https://example.com/search?q=xmpp&lang=en',
];
/** Numeric character references a few clients emit: the source text and the decoded character. */
const CHAR_REFS: [string, string][] = [
  ['&#x1F600;', '😀'],
  ['&#233;', 'é'],
  ['&#x4E2D;', '中'],
  ['&#10;', '\n'],
];

const USERS = (
  'romeo juliet mercutio benvolio tybalt nurse friar.laurence paris rosaline balthasar sampson gregory ' +
  'abram peter lady.capulet lord.montague escalus zoë jürgen françois 李雷 björk ана øystein'
).split(' ');
const DOMAINS = ['montague.lit', 'capulet.lit', 'example.org', 'jabber.de', 'conversations.im', 'xmpp.jp'];
const RESOURCES = [
  'Conversations.xK3a',
  'gajim.QW82PL',
  'Dino.e1f2',
  'phone',
  'laptop',
  'Monal-iOS.7c',
  'balcony',
];
const ROOMS = [
  'coven@chat.shakespeare.lit',
  'dev@muc.example.org',
  'jdev@muc.xmpp.org',
  '会议室@conference.xmpp.jp',
];
const NICKS = [
  'thirdwitch',
  'secondwitch',
  'Hecate',
  'Zoë',
  'Jürgen',
  '小明',
  'bob',
  'alice_',
  'ǅemal',
  '🦊fox',
];
const GROUPS = [
  'Friends',
  'Work',
  'Family',
  'Familie',
  'Collègues',
  '同事',
  'Gaming',
  'Book Club',
  'R&D',
  'VIP <3',
];
const CAPS_NODES = ['https://conversations.im', 'https://gajim.org', 'https://dino.im', 'http://psi-im.org'];
const SHOWS = ['away', 'chat', 'dnd', 'xa'];
const STATUSES = [
  'Out to lunch 🍜',
  'In a meeting until 3 & then free',
  'Busy <coding>',
  'Bin gleich zurück',
  '勉強中',
  'Ne pas déranger',
  '"Working from home"',
  'On the train 🚆 to Łódź',
];
const CHAT_STATES = ['active', 'composing', 'paused', 'inactive'];

interface Ctx {
  rng: Rng;
  me: string;
  myDomain: string;
  idCounter: number;
}

function jid(rng: Rng): string {
  return `${rng.pick(USERS)}@${rng.pick(DOMAINS)}`;
}
function fullJid(rng: Rng): string {
  return `${jid(rng)}/${rng.pick(RESOURCES)}`;
}
function stamp(rng: Rng): string {
  const d = new Date(
    Date.UTC(2026, rng.int(0, 11), rng.int(1, 28), rng.int(0, 23), rng.int(0, 59), rng.int(0, 59)),
  );
  const iso = d.toISOString();
  return rng.chance(0.5) ? iso : `${iso.slice(0, 19)}Z`;
}
function nextId(ctx: Ctx): string {
  ctx.idCounter++;
  return `${ctx.rng.chars(6)}${ctx.idCounter.toString(36)}`;
}

/**
 * A ~100-character body: returns the XML-escaped source and the decoded text a parser must yield.
 * Each message has a "flavour" so multibyte text comes in runs, as it does in real chats.
 */
function body(rng: Rng, minLen = 70, maxLen = 130): { xml: string; text: string } {
  const target = rng.int(minLen, maxLen);
  const flavour = rng.next();
  let xmlParts = '';
  let text = '';
  const add = (t: string, sep: string): void => {
    const piece = text === '' ? t : sep + t;
    text += piece;
    xmlParts += escapeAll(piece);
  };
  while (text.length < target) {
    const r = rng.next();
    if (r < 0.12) {
      add(rng.pick(ENTITY_TOKENS), ' ');
    } else if (r < 0.18) {
      add(rng.pick(EMOJI), ' ');
    } else if (r < 0.185) {
      // a numeric character reference: written as-is, decoded in the expected text
      const [ref, ch] = rng.pick(CHAR_REFS);
      const sep = text === '' ? '' : ' ';
      text += sep + ch;
      xmlParts += sep + ref;
    } else if (flavour < 0.5) {
      add(rng.pick(EN), ' ');
    } else if (flavour < 0.65) {
      add(rng.chance(0.5) ? rng.pick(ACCENTED) : rng.pick(EN), ' ');
    } else if (flavour < 0.8) {
      add(rng.pick(CJK), rng.chance(0.3) ? ' ' : '');
    } else if (flavour < 0.9) {
      add(rng.pick(CYRILLIC_GREEK), ' ');
    } else {
      add(rng.pick([...EN.slice(0, 20), ...ACCENTED.slice(0, 5), ...CJK.slice(0, 5)]), ' ');
    }
  }
  return { xml: xmlParts, text };
}

function attr(name: string, value: string): string {
  return ` ${name}='${escapeAll(value)}'`;
}

// ---------------------------------------------------------------------------------------------
// Stanza generators. Each returns the XML and, for top-level messages, the expected body text.

interface Gen {
  xml: string;
  body?: string;
  kind: string;
}

function chatMessage(ctx: Ctx): Gen {
  const { rng } = ctx;
  const b = body(rng);
  let s = `<message${attr('from', fullJid(rng))}${attr('to', ctx.me)} type='chat'${attr('id', nextId(ctx))}`;
  if (rng.chance(0.3)) s += ` xml:lang='${rng.pick(['en', 'de', 'fr', 'ja', 'zh'])}'`;
  s += `><body>${b.xml}</body>`;
  if (rng.chance(0.2)) s += `<thread>${rng.chars(16)}</thread>`;
  s += `<${rng.pick(CHAT_STATES)} xmlns='http://jabber.org/protocol/chatstates'/>`;
  if (rng.chance(0.6)) s += `<request xmlns='urn:xmpp:receipts'/>`;
  s += `<origin-id xmlns='urn:xmpp:sid:0'${attr('id', rng.chars(22, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789-'))}/>`;
  s += `<stanza-id xmlns='urn:xmpp:sid:0'${attr('by', ctx.me.split('/')[0] as string)}${attr('id', rng.chars(16))}/>`;
  s += '</message>';
  return { xml: s, body: b.text, kind: 'message-chat' };
}

/** A message carbon (XEP-0280): the outer message has no body; the forwarded one does. */
function carbonMessage(ctx: Ctx): Gen {
  const { rng } = ctx;
  const b = body(rng);
  const bare = ctx.me.split('/')[0] as string;
  const sent = rng.chance(0.5) ? 'sent' : 'received';
  const s =
    `<message${attr('from', bare)}${attr('to', ctx.me)} type='chat'>` +
    `<${sent} xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
    `<message xmlns='jabber:client'${attr('from', fullJid(rng))}${attr('to', `${bare}/${rng.pick(RESOURCES)}`)} type='chat'${attr('id', nextId(ctx))}>` +
    `<body>${b.xml}</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>` +
    `</forwarded></${sent}></message>`;
  return { xml: s, kind: 'message-carbon' };
}

function groupchatMessage(ctx: Ctx): Gen {
  const { rng } = ctx;
  const b = body(rng);
  const room = rng.pick(ROOMS);
  const s =
    `<message${attr('from', `${room}/${rng.pick(NICKS)}`)}${attr('to', ctx.me)} type='groupchat'${attr('id', nextId(ctx))}>` +
    `<body>${b.xml}</body>` +
    `<occupant-id xmlns='urn:xmpp:occupant-id:0'${attr('id', rng.chars(24))}/>` +
    `<stanza-id xmlns='urn:xmpp:sid:0'${attr('by', room)}${attr('id', rng.chars(16))}/></message>`;
  return { xml: s, body: b.text, kind: 'message-groupchat' };
}

function xhtmlMessage(ctx: Ctx): Gen {
  const { rng } = ctx;
  const b1 = body(rng, 30, 60);
  const b2 = body(rng, 30, 60);
  const plain = `${b1.text}\n${b2.text}`;
  const href = `https://example.com/page?id=${rng.int(1, 9999)}&ref=chat&lang=${rng.pick(['en', 'de', 'fr'])}`;
  const s =
    `<message${attr('from', fullJid(rng))}${attr('to', ctx.me)} type='chat'${attr('id', nextId(ctx))}>` +
    `<body>${escapeAll(plain)}</body>` +
    `<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>` +
    `<p style='font-weight:bold;color:#c00'>${b1.xml} <em>${escapeAll(rng.pick(ACCENTED))}</em></p>` +
    `<p>${b2.xml}<br/><a${attr('href', href)}>${escapeAll(rng.pick(EN))} &amp; more</a> ` +
    `<span style='font-family:monospace'>${escapeAll(rng.pick(ENTITY_TOKENS))}</span></p>` +
    `</body></html><active xmlns='http://jabber.org/protocol/chatstates'/></message>`;
  return { xml: s, body: plain, kind: 'message-xhtml' };
}

function presence(ctx: Ctx): Gen {
  const { rng } = ctx;
  const q = rng.chance(0.5) ? '"' : "'"; // ejabberd writes double quotes, Prosody single ones
  const a = (n: string, v: string): string => ` ${n}=${q}${escapeAll(v)}${q}`;
  let s = `<presence${a('from', fullJid(rng))}${a('to', ctx.me)}`;
  if (rng.chance(0.3)) s += a('id', nextId(ctx));
  s += '>';
  if (rng.chance(0.5)) s += `<show>${rng.pick(SHOWS)}</show>`;
  if (rng.chance(0.5)) s += `<status>${escapeAll(rng.pick(STATUSES))}</status>`;
  s += `<priority>${rng.int(-1, 50)}</priority>`;
  s += `<c xmlns=${q}http://jabber.org/protocol/caps${q} hash=${q}sha-1${q}${a('node', rng.pick(CAPS_NODES))}${a('ver', `${rng.chars(27, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')}=`)}/>`;
  if (rng.chance(0.5)) {
    s += `<x xmlns=${q}vcard-temp:x:update${q}><photo>${rng.chars(40, '0123456789abcdef')}</photo></x>`;
  }
  if (rng.chance(0.7))
    s += `<delay xmlns=${q}urn:xmpp:delay${q}${a('from', ctx.myDomain)}${a('stamp', stamp(rng))}/>`;
  s += '</presence>';
  return { xml: s, kind: 'presence' };
}

function mucPresence(ctx: Ctx): Gen {
  const { rng } = ctx;
  const room = rng.pick(ROOMS);
  const self = rng.chance(0.05);
  const aff = rng.pick(['none', 'member', 'member', 'admin', 'owner']);
  const role =
    aff === 'owner' || aff === 'admin' ? 'moderator' : rng.pick(['participant', 'participant', 'visitor']);
  const unavailable = rng.chance(0.1);
  let s = `<presence${attr('from', `${room}/${rng.pick(NICKS)}${rng.int(1, 99)}`)}${attr('to', ctx.me)}`;
  if (unavailable) s += ` type='unavailable'`;
  s += `${attr('id', nextId(ctx))}>`;
  if (!unavailable) {
    s += `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1'${attr('node', rng.pick(CAPS_NODES))}${attr('ver', `${rng.chars(27)}=`)}/>`;
    if (rng.chance(0.3)) s += `<show>${rng.pick(SHOWS)}</show>`;
  }
  s += `<x xmlns='http://jabber.org/protocol/muc#user'><item${attr('affiliation', aff)}${attr('role', unavailable ? 'none' : role)}`;
  if (rng.chance(0.6)) s += attr('jid', fullJid(rng));
  s += '/>';
  if (self) s += `<status code='110'/>`;
  if (rng.chance(0.1)) s += `<status code='100'/>`;
  if (self && rng.chance(0.3)) s += `<status code='210'/>`;
  s += '</x>';
  s += `<occupant-id xmlns='urn:xmpp:occupant-id:0'${attr('id', rng.chars(24))}/>`;
  s += '</presence>';
  return { xml: s, kind: 'presence-muc' };
}

function ping(ctx: Ctx): Gen {
  return {
    xml: `<iq${attr('from', ctx.myDomain)}${attr('to', ctx.me)} type='get'${attr('id', nextId(ctx))}><ping xmlns='urn:xmpp:ping'/></iq>`,
    kind: 'iq-ping',
  };
}

function roster(ctx: Ctx, items: number): Gen {
  const { rng } = ctx;
  const parts: string[] = [
    `<iq${attr('to', ctx.me)} type='result' id='roster_1'><query xmlns='jabber:iq:roster' ver='ver${rng.int(1, 99999)}'>`,
  ];
  for (let i = 0; i < items; i++) {
    const local = `${rng.pick(USERS)}${i}`;
    const sub = rng.pick(['both', 'both', 'both', 'to', 'from', 'none']);
    let item = `<item${attr('jid', `${local}@${rng.pick(DOMAINS)}`)}`;
    if (rng.chance(0.85))
      item += attr('name', `${rng.pick([...ACCENTED, ...EN, ...CJK, ...NICKS])} ${rng.pick(USERS)}`);
    item += ` subscription='${sub}'`;
    if (sub === 'none' && rng.chance(0.5)) item += ` ask='subscribe'`;
    const groups = rng.int(0, 3);
    if (groups === 0) {
      item += '/>';
    } else {
      item += '>';
      for (let g = 0; g < groups; g++) item += `<group>${escapeAll(rng.pick(GROUPS))}</group>`;
      item += '</item>';
    }
    parts.push(item);
  }
  parts.push('</query></iq>');
  return { xml: parts.join(''), kind: 'iq-roster' };
}

/** Generate the corpus. Pure function of seed and target size. */
export function generateCorpus(
  seed = DEFAULT_SEED,
  targetBytes = DEFAULT_TARGET_BYTES,
): { bytes: Buffer; meta: CorpusMeta } {
  const rng = new Rng(seed);
  const ctx: Ctx = { rng, me: 'juliet@capulet.lit/balcony', myDomain: 'capulet.lit', idCounter: 0 };
  const parts: string[] = [];
  const bodies: string[] = [];
  const kinds: Record<string, number> = {};
  let bytes = 0;
  let stanzas = 0;
  let rosterBytes = 0;
  let largest = 0;
  const emit = (g: Gen): void => {
    parts.push(g.xml);
    const n = Buffer.byteLength(g.xml);
    bytes += n;
    if (n > largest) largest = n;
    stanzas++;
    kinds[g.kind] = (kinds[g.kind] ?? 0) + 1;
    if (g.body !== undefined) bodies.push(g.body);
    // whitespace keepalives (RFC 6120 §4.6.1) between some stanzas
    if (rng.chance(0.02)) {
      const ws = rng.pick([' ', '\n', '\r\n', '  ']);
      parts.push(ws);
      bytes += ws.length;
    }
  };

  const header =
    `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'` +
    ` from='capulet.lit' id='${rng.chars(20)}' to='juliet@capulet.lit' version='1.0' xml:lang='en'>`;
  parts.push(header);
  bytes += Buffer.byteLength(header);
  emit({
    xml:
      `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>` +
      `<sm xmlns='urn:xmpp:sm:3'/><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://prosody.im' ver='${rng.chars(27)}='/></stream:features>`,
    kind: 'features',
  });
  const r = roster(ctx, 5000);
  rosterBytes = Buffer.byteLength(r.xml);
  emit(r);
  // the initial presence flood after the roster
  for (let i = 0; i < 800; i++) emit(presence(ctx));
  // then ordinary traffic
  while (bytes < targetBytes) {
    const x = rng.next();
    if (x < 0.48) emit(chatMessage(ctx));
    else if (x < 0.53) emit(carbonMessage(ctx));
    else if (x < 0.6) emit(groupchatMessage(ctx));
    else if (x < 0.68) emit(xhtmlMessage(ctx));
    else if (x < 0.82) emit(presence(ctx));
    else if (x < 0.98) emit(mucPresence(ctx));
    else emit(ping(ctx));
  }
  parts.push('</stream:stream>');
  const buf = Buffer.from(parts.join(''), 'utf8');
  return {
    bytes: buf,
    meta: {
      version: GENERATOR_VERSION,
      seed,
      targetBytes,
      bytes: buf.length,
      sha256: sha256(buf),
      stanzas,
      kinds,
      rosterBytes,
      largestStanzaBytes: largest,
      bodies,
    },
  };
}

/**
 * Cut the bytes into random chunks of 1-4096 bytes, as TCP reads arrive: views into the buffer
 * (no copies), the same boundaries for every parser. Multibyte characters are split between chunks
 * wherever the boundary falls, which is the point.
 */
export function chunk(bytes: Buffer, seed: number, min = 1, max = 4096): Buffer[] {
  const rng = new Rng(seed);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = rng.int(min, max);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** Decoded text in the corpus's style (entities, accents, CJK, emoji), for other benchmarks' inputs. */
export function randomText(rng: Rng, minLen: number, maxLen: number): string {
  return body(rng, minLen, maxLen).text;
}
