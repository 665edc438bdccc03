/**
 * Serialization: 1M message stanzas (to, from, type, id, a ~70-130 character body, often with
 * characters that need escaping and multibyte text). Goal (issue 2): confab within 1.5x of the floor.
 *
 * Contestants:
 * - confab: `serialize(xml('message', {...}, xml('body', null, text)), 'jabber:client')`;
 * - @xmpp/xml: `xml('message', {...}, xml('body', {}, text)).toString()` (what @xmpp/client sends);
 * - stanza: `registry.export('message', {...}).toString()` with a full client's registry, on 100k
 *   messages per round (it is ~50x slower; the rate is scaled, not the work);
 * - the floor: one template string with regex-guarded escaping of attributes and text.
 *
 * Two tables:
 * - "build + serialize" (the headline): the timed region turns plain records into strings, tree
 *   building included, because that is the cost of sending a message and the floor has no tree to
 *   build either. The same records for everyone, made outside the timed region.
 * - "serialize only": each library's trees for 100k records are built outside the timed region and
 *   serialized 10 times (1M serializations); the floor repeats its template. Shows the serializer
 *   apart from the builder.
 */

import { type Element as XmppElement, xml as xmppXml } from '@xmpp/xml';
import { parse as ltxParse } from 'ltx';
import { createClient } from 'stanza';
import { type Element, xml } from '../packages/confab/src/xml/element.ts';
import { loadConfabSerializer } from './confab.ts';
import { randomText } from './corpus.ts';
import {
  type Contestant,
  MiB,
  type Row,
  roundRobin,
  type Suite,
  type SuiteContext,
  type Table,
  type Timing,
} from './harness.ts';
import { Rng } from './prng.ts';

const GOAL_CONFAB = 1.5;
const JABBER_CLIENT = 'jabber:client';

interface Rec {
  to: string;
  from: string;
  type: string;
  id: string;
  body: string;
}

function makeRecords(n: number): Rec[] {
  const rng = new Rng(0x5e1a11);
  const users = ['romeo', 'juliet', 'mercutio', 'zoë', 'jürgen', '李雷', "o'brien", 'nurse'];
  const domains = ['montague.lit', 'capulet.lit', 'example.org', 'jabber.de'];
  const resources = ['balcony', 'orchard', 'Conversations.xK3a', 'gajim.QW82PL', 'phone'];
  const jids: string[] = [];
  for (const u of users) for (const d of domains) for (const r of resources) jids.push(`${u}@${d}/${r}`);
  const bodies: string[] = [];
  for (let i = 0; i < 4096; i++) bodies.push(randomText(rng, 70, 130));
  const out: Rec[] = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      to: rng.pick(jids),
      from: rng.pick(jids),
      type: 'chat',
      id: `${rng.chars(8)}-${i.toString(36)}`,
      body: rng.pick(bodies),
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The floor: a template string and the minimum escaping (regex test first: most values need none).

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', "'": '&apos;', '"': '&quot;' };
const escChar = (c: string): string => ESC[c] as string;
const ATTR_TEST = /[&<'"]/;
const ATTR_ALL = /[&<'"]/g;
const TEXT_TEST = /[&<>]/;
const TEXT_ALL = /[&<>]/g;
const escAttr = (s: string): string => (ATTR_TEST.test(s) ? s.replace(ATTR_ALL, escChar) : s);
const escText = (s: string): string => (TEXT_TEST.test(s) ? s.replace(TEXT_ALL, escChar) : s);

function floorSerialize(r: Rec): string {
  return `<message to='${escAttr(r.to)}' from='${escAttr(r.from)}' type='${escAttr(r.type)}' id='${escAttr(r.id)}'><body>${escText(r.body)}</body></message>`;
}

// ---------------------------------------------------------------------------------------------

/** One contestant: how it builds a tree from a record and how it serializes one (or both at once). */
interface Lib<T> {
  name: string;
  /** Records per round in the build+serialize table (default: all). */
  count?: number;
  build(r: Rec): T;
  write(t: T): string;
  goal?: number;
}

/** Check a sample of outputs by parsing them back (ltx, lenient) and comparing with the records. */
function checkOutputs(name: string, outputs: string[], recs: Rec[]): string[] {
  let bad = 0;
  let first = '';
  for (let i = 0; i < outputs.length; i++) {
    const r = recs[i] as Rec;
    let ok = false;
    try {
      const el = ltxParse(outputs[i] as string);
      ok =
        el.name === 'message' &&
        el.attrs.to === r.to &&
        el.attrs.from === r.from &&
        el.attrs.type === r.type &&
        el.attrs.id === r.id &&
        el.getChildText('body') === r.body;
    } catch {
      ok = false;
    }
    if (!ok) {
      bad++;
      if (first === '') first = (outputs[i] as string).slice(0, 120);
    }
  }
  return bad === 0
    ? []
    : [`${name}: ${bad} of ${outputs.length} sampled outputs do not round-trip; first: ${first}`];
}

export const serializeSuite: Suite = {
  name: 'serialize',
  description: 'message stanza serialization, 1M stanzas',
  // a round is ~10 s of work on a 2-core machine; 3 rounds keep `npm run bench` within minutes
  defaultRounds: 3,
  async run(ctx: SuiteContext) {
    const N = ctx.quick ? 100_000 : 1_000_000;
    const PREBUILT = N / 10;
    const t0 = performance.now();
    const recs = makeRecords(N);
    ctx.log(`records: ${N.toLocaleString('en-US')} made in ${(performance.now() - t0).toFixed(0)} ms`);
    // the floor's output size gives MiB/s for everyone (the same logical stanzas)
    let floorBytes = 0;
    for (const r of recs) floorBytes += Buffer.byteLength(floorSerialize(r));

    const libs: Lib<unknown>[] = [];
    const floor: Lib<Rec> = { name: 'floor (template + escaping)', build: (r) => r, write: floorSerialize };
    libs.push(floor as Lib<unknown>);

    const confab = await loadConfabSerializer();
    if (confab.ok) {
      const { serialize } = confab.mod;
      const lib: Lib<Element> = {
        name: 'confab',
        goal: GOAL_CONFAB,
        build: (r) =>
          xml(
            'message',
            { xmlns: JABBER_CLIENT, to: r.to, from: r.from, type: r.type, id: r.id },
            xml('body', null, r.body),
          ),
        write: (el) => serialize(el, JABBER_CLIENT),
      };
      libs.push(lib as Lib<unknown>);
    }
    const xmpp: Lib<XmppElement> = {
      name: '@xmpp/xml (xml() + toString)',
      build: (r) =>
        xmppXml('message', { to: r.to, from: r.from, type: r.type, id: r.id }, xmppXml('body', {}, r.body)),
      write: (el) => el.toString(),
    };
    libs.push(xmpp as Lib<unknown>);
    const registry = createClient({}).stanzas;
    const stanza: Lib<{ toString(): string }> = {
      name: 'stanza (export + toString)',
      count: Math.min(N, 100_000),
      build: (r) => {
        const el = registry.export('message', {
          to: r.to,
          from: r.from,
          type: 'chat',
          id: r.id,
          body: r.body,
        });
        if (!el) throw new Error('stanza export returned nothing');
        return el;
      },
      write: (el) => el.toString(),
    };
    libs.push(stanza as Lib<unknown>);

    // checked sample (untimed)
    const flags = new Map<string, string[]>();
    const SAMPLE = 2000;
    for (const lib of libs) {
      try {
        const outs = recs.slice(0, SAMPLE).map((r) => lib.write(lib.build(r)));
        flags.set(lib.name, checkOutputs(lib.name, outs, recs));
      } catch (e) {
        flags.set(lib.name, [`threw: ${e instanceof Error ? e.message : String(e)}`]);
      }
    }

    const tables: Table[] = [];

    // --- build + serialize
    {
      const contestants: Contestant<number>[] = libs.map((lib) => {
        const n = lib.count ?? N;
        return {
          name: lib.name,
          run: () => {
            let len = 0;
            for (let i = 0; i < n; i++) len += lib.write(lib.build(recs[i] as Rec)).length;
            return len;
          },
        };
      });
      ctx.log(' build + serialize');
      const timings = roundRobin(contestants, ctx.rounds, ctx.log);
      tables.push(
        toTable(
          'Serialize: build + serialize message stanzas (trees built inside the timed region)',
          libs,
          timings,
        ),
      );
    }

    // --- serialize only, prebuilt trees
    {
      const prebuilt = libs.map((lib) => {
        const n = Math.min(lib.count ?? N, PREBUILT);
        const trees: unknown[] = new Array(n);
        for (let i = 0; i < n; i++) trees[i] = lib.build(recs[i] as Rec);
        return trees;
      });
      const contestants: Contestant<number>[] = libs.map((lib, k) => {
        const trees = prebuilt[k] as unknown[];
        const reps = lib.name === stanza.name ? 1 : N / PREBUILT;
        return {
          name: lib.name,
          run: () => {
            let len = 0;
            for (let rep = 0; rep < reps; rep++) for (const t of trees) len += lib.write(t).length;
            return len;
          },
        };
      });
      ctx.log(' serialize only');
      const timings = roundRobin(contestants, ctx.rounds, ctx.log);
      const counts = libs.map((lib, k) => (lib.name === stanza.name ? (prebuilt[k] as unknown[]).length : N));
      tables.push(
        toTable(
          `Serialize: serialize only (trees for ${PREBUILT.toLocaleString('en-US')} records built outside the timed region, each serialized ${N / PREBUILT}x)`,
          libs,
          timings,
          counts,
        ),
      );
      prebuilt.length = 0;
    }

    function toTable(title: string, ls: Lib<unknown>[], timings: Timing<number>[], counts?: number[]): Table {
      const floorT = timings[0];
      const perOp = (i: number): number => {
        const t = timings[i];
        const n = counts ? (counts[i] as number) : (ls[i]?.count ?? N);
        return t ? t.median / n : Number.NaN;
      };
      const floorPerOp = perOp(0);
      const rows: Row[] = ls.map((lib, i) => {
        const t = timings[i];
        const ok = t !== undefined && t.error === undefined && Number.isFinite(t.median);
        const op = perOp(i);
        const f = [...(flags.get(lib.name) ?? [])];
        if (t?.error !== undefined) f.push(`threw during timing: ${String(t.error)}`);
        const n = counts ? (counts[i] as number) : (lib.count ?? N);
        if (n !== N) f.push(`measured on ${n.toLocaleString('en-US')} stanzas per round, rate scaled`);
        return {
          name: lib.name,
          values: {
            mibs: ok ? ((floorBytes / N) * 1000) / op / MiB : null,
            stanzas: ok ? 1000 / op : null,
            ms: ok ? op * N : null,
          },
          ratio: ok && floorT ? op / floorPerOp : null,
          ...(lib.goal !== undefined ? { goal: lib.goal } : {}),
          flags: f,
          detail: { timesMs: t?.times ?? [], stanzasPerRound: n },
        };
      });
      if (!confab.ok) {
        rows.splice(1, 0, {
          name: 'confab',
          values: { mibs: null, stanzas: null, ms: null },
          ratio: null,
          goal: GOAL_CONFAB,
          flags: [`not measured: ${confab.reason}`],
        });
      }
      return {
        title,
        notes: [
          `${N.toLocaleString('en-US')} message stanzas (to, from, type, id, body with entities and multibyte text); median of ${ctx.rounds} interleaved rounds`,
          `MiB/s = the floor's output bytes (${(floorBytes / MiB).toFixed(1)} MiB for the same stanzas) / time; "ms per ${N.toLocaleString('en-US')}" scaled where fewer were run; outputs checked by parsing a ${SAMPLE}-stanza sample back`,
        ],
        columns: [
          { key: 'mibs', label: 'MiB/s', digits: 1 },
          { key: 'stanzas', label: 'stanzas/s', digits: 0 },
          { key: 'ms', label: `ms per ${N >= 1e6 ? `${N / 1e6}M` : `${N / 1e3}k`}`, digits: 0 },
        ],
        rows,
      };
    }

    return { config: { stanzas: N, floorBytes, rounds: ctx.rounds, sample: SAMPLE }, tables };
  },
};
