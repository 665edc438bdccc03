/**
 * Parse throughput: the ~20 MB stream corpus (bench/corpus.ts) cut into random chunks of 1-4096
 * bytes, fed as Buffers (Uint8Array) to each parser the way a TCP socket delivers them, with the same
 * chunk boundaries for everyone. Goal (issue 2): confab within 2.5x of the floor.
 *
 * Contestants, each at stream level (a stream header, then one event per top-level element):
 * - confab's StreamParser (packages/confab/src/xml/parser.ts), bytes in, Elements out;
 * - @xmpp/xml's Parser, the parser under @xmpp/client (ltx's SAX parser building ltx Elements;
 *   @xmpp/connection feeds it `data.toString('utf8')` per socket read, as a Buffer does here);
 * - stanza's jxt StreamParser (the one its transports use), with the registry of a full stanza
 *   client, so each stanza is also imported to stanza's JSON form as it is in an app;
 * - saxes (raw SAX with namespaces, counting top-level elements, fed through a streaming TextDecoder);
 * - ltx's own Parser (document-level: it builds the whole stream as one tree);
 * - the floor: a streaming TextDecoder plus a scan for '<' over the same bytes.
 *
 * Before timing, one checked pass per parser: stanza count against the corpus, and each top-level
 * message's <body> against the text the generator wrote. A parser that decodes each read on its own
 * corrupts characters split between reads; that shows here as differing bodies.
 */

import { type Element as XmppElement, Parser as XmppParser } from '@xmpp/xml';
import { type Element as LtxElement, Parser as LtxParser } from 'ltx';
import { SaxesParser } from 'saxes';
import { createClient, JXT } from 'stanza';
import type { Element } from '../packages/confab/src/xml/element.ts';
import { type ConfabParserModule, loadConfabParser } from './confab.ts';
import { chunk, loadCorpus } from './corpus.ts';
import {
  type Contestant,
  errText,
  MiB,
  type Row,
  roundRobin,
  type Suite,
  type SuiteContext,
} from './harness.ts';

const CHUNK_SEED = 0xc4a11e;
const GOAL_CONFAB = 2.5;

/** What one pass over the chunks produced. */
interface ParseOutcome {
  stanzas: number;
  /** Bodies of top-level messages, in order (checked pass only). */
  bodies: string[] | null;
  error?: string;
}

interface Adapter {
  name: string;
  /** Parse all chunks; collect bodies only when asked (the timed passes only count). */
  parse(chunks: Buffer[], collect: boolean): ParseOutcome;
}

const JABBER_CLIENT = 'jabber:client';

// ---------------------------------------------------------------------------------------------

function floorAdapter(): Adapter {
  return {
    name: 'floor (TextDecoder + scan for <)',
    parse(chunks) {
      const dec = new TextDecoder();
      let lt = 0;
      for (const c of chunks) {
        const s = dec.decode(c, { stream: true });
        for (let i = s.indexOf('<'); i !== -1; i = s.indexOf('<', i + 1)) lt++;
      }
      dec.decode();
      // the floor does not find stanzas; its '<' count only keeps the scan from being optimized away
      return { stanzas: lt, bodies: null };
    },
  };
}

/** As a session does for a roster request it sent: a larger limit for that one result stanza. */
const ROSTER_ID = 'roster_1';
function rosterLimit(bytes: number) {
  return (o: { name: string; xmlns: string; attrs: Record<string, string> }): number | undefined =>
    o.name === 'iq' && o.xmlns === JABBER_CLIENT && o.attrs.type === 'result' && o.attrs.id === ROSTER_ID
      ? bytes
      : undefined;
}

function confabAdapter(
  mod: ConfabParserModule,
  stanzaLimit:
    | ((o: { name: string; xmlns: string; attrs: Record<string, string> }) => number | undefined)
    | undefined,
  name = 'confab',
): Adapter {
  return {
    name,
    parse(chunks, collect) {
      let stanzas = 0;
      let error: string | undefined;
      const bodies: string[] | null = collect ? [] : null;
      const p = new mod.StreamParser(
        {
          streamStart() {},
          element(el: Element) {
            stanzas++;
            if (bodies !== null && el.name === 'message' && el.xmlns === JABBER_CLIENT) {
              const b = el.getChild('body', JABBER_CLIENT);
              if (b) bodies.push(b.text());
            }
          },
          streamEnd() {},
          error(err) {
            error ??= errText(err);
          },
        },
        stanzaLimit ? { stanzaLimit } : undefined,
      );
      for (const c of chunks) p.write(c);
      p.end();
      return error === undefined ? { stanzas, bodies } : { stanzas, bodies, error };
    },
  };
}

function xmppAdapter(): Adapter {
  return {
    name: '@xmpp/xml Parser (@xmpp/client)',
    parse(chunks, collect) {
      let stanzas = 0;
      let error: string | undefined;
      const bodies: string[] | null = collect ? [] : null;
      const p = new XmppParser();
      p.on('element', (el: XmppElement) => {
        stanzas++;
        if (bodies !== null && el.name === 'message') {
          const b = el.getChildText('body');
          if (b !== null) bodies.push(b);
        }
      });
      p.on('error', (e: unknown) => {
        error ??= errText(e);
      });
      // as @xmpp/connection does: each read decoded on its own (Buffer -> string inside ltx)
      for (const c of chunks) p.write(c);
      p.end();
      return error === undefined ? { stanzas, bodies } : { stanzas, bodies, error };
    },
  };
}

function stanzaAdapter(): Adapter {
  // a full client's registry (all of stanza's protocol definitions), as its transports use it
  const registry = createClient({}).stanzas;
  return {
    name: 'stanza jxt StreamParser',
    parse(chunks, collect) {
      let stanzas = 0;
      let error: string | undefined;
      const bodies: string[] | null = collect ? [] : null;
      const p = new JXT.StreamParser({
        registry,
        wrappedStream: true,
        rootKey: 'stream',
        allowComments: false,
      });
      p.on('data', (e: { event?: string; kind: string; stanza: { body?: string } }) => {
        if (e.event !== undefined) return; // stream-start / stream-end
        stanzas++;
        if (bodies !== null && e.kind === 'message' && e.stanza.body !== undefined)
          bodies.push(e.stanza.body);
      });
      p.on('error', (e: unknown) => {
        error ??= errText(e);
      });
      // its Transform calls chunk.toString() per write: each read decoded on its own
      for (const c of chunks) p.write(c);
      // (it ends itself at </stream:stream>; data events are delivered synchronously)
      return error === undefined ? { stanzas, bodies } : { stanzas, bodies, error };
    },
  };
}

function saxesAdapter(): Adapter {
  return {
    name: 'saxes (SAX, xmlns on)',
    parse(chunks, collect) {
      let stanzas = 0;
      let depth = 0;
      let error: string | undefined;
      const bodies: string[] | null = collect ? [] : null;
      // body tracking for the checked pass: inside a top-level message, its direct jabber:client <body>
      let inMessage = false;
      let inBody = false;
      let text = '';
      const p = new SaxesParser({ xmlns: true });
      if (bodies === null) {
        p.on('opentag', () => {
          depth++;
        });
        p.on('closetag', () => {
          if (--depth === 1) stanzas++;
        });
      } else {
        p.on('opentag', (t) => {
          depth++;
          if (depth === 2) inMessage = t.local === 'message' && t.uri === JABBER_CLIENT;
          else if (depth === 3 && inMessage && t.local === 'body' && t.uri === JABBER_CLIENT) {
            inBody = true;
            text = '';
          }
          // a self-closing tag gets its closetag right away
        });
        p.on('text', (t) => {
          if (inBody && depth === 3) text += t;
        });
        p.on('closetag', () => {
          if (depth === 3 && inBody) {
            bodies.push(text);
            inBody = false;
          }
          if (--depth === 1) stanzas++;
        });
      }
      p.on('error', (e) => {
        error ??= errText(e);
      });
      const dec = new TextDecoder();
      for (const c of chunks) p.write(dec.decode(c, { stream: true }));
      p.write(dec.decode());
      p.close();
      return error === undefined ? { stanzas, bodies } : { stanzas, bodies, error };
    },
  };
}

function ltxAdapter(): Adapter {
  return {
    name: 'ltx Parser (whole-document tree)',
    parse(chunks, collect) {
      let stanzas = 0;
      let error: string | undefined;
      const bodies: string[] | null = collect ? [] : null;
      const p = new LtxParser();
      p.on('tree', (root: LtxElement) => {
        for (const el of root.children) {
          if (typeof el === 'string') continue;
          stanzas++;
          if (bodies !== null && el.name === 'message') {
            const b = el.getChildText('body');
            if (b !== null) bodies.push(b);
          }
        }
      });
      p.on('error', (e: unknown) => {
        error ??= errText(e);
      });
      for (const c of chunks) p.write(c);
      p.end();
      return error === undefined ? { stanzas, bodies } : { stanzas, bodies, error };
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** Compare a checked pass against the corpus; returns human-readable flags. */
function check(
  out: ParseOutcome,
  expectedStanzas: number,
  expectedBodies: string[],
): { flags: string[]; corrupted: number } {
  const flags: string[] = [];
  if (out.error !== undefined) flags.push(`error: ${out.error}`);
  if (out.stanzas !== expectedStanzas) {
    flags.push(
      `${out.stanzas < expectedStanzas ? 'DROPPED' : 'EXTRA'} stanzas: ${out.stanzas.toLocaleString('en-US')} of ${expectedStanzas.toLocaleString('en-US')}`,
    );
  }
  let corrupted = 0;
  if (out.bodies !== null) {
    const got = out.bodies;
    if (got.length !== expectedBodies.length) {
      flags.push(`message bodies: ${got.length} found, ${expectedBodies.length} expected`);
    }
    let replacement = 0;
    let firstBad = -1;
    const n = Math.min(got.length, expectedBodies.length);
    for (let i = 0; i < n; i++) {
      if (got[i] !== expectedBodies[i]) {
        corrupted++;
        if (firstBad < 0) firstBad = i;
        if ((got[i] as string).includes('\uFFFD')) replacement++;
      }
    }
    if (corrupted > 0) {
      flags.push(
        `CORRUPTED text: ${corrupted} of ${n} message bodies differ (${replacement} contain U+FFFD: a character split between two reads, decoded alone); first: #${firstBad} ${JSON.stringify(got[firstBad]?.slice(0, 60))}`,
      );
    }
  }
  return { flags, corrupted };
}

export const parseSuite: Suite = {
  name: 'parse',
  description: 'stream parse throughput, random 1-4096 byte chunks',
  async run(ctx: SuiteContext) {
    const t0 = performance.now();
    const corpus = loadCorpus(ctx.quick ? { targetBytes: 2_000_000 } : {});
    const { meta } = corpus;
    ctx.log(
      `corpus: ${(meta.bytes / MiB).toFixed(1)} MiB, ${meta.stanzas} stanzas, ${corpus.cached ? 'cached' : 'generated'} in ${(performance.now() - t0).toFixed(0)} ms${corpus.path ? ` (${corpus.path})` : ''}`,
    );
    const chunks = chunk(corpus.bytes, CHUNK_SEED);
    const notes: string[] = [
      `corpus ${(meta.bytes / MiB).toFixed(1)} MiB, ${meta.stanzas.toLocaleString('en-US')} stanzas (${Object.entries(
        meta.kinds,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}); ${chunks.length.toLocaleString('en-US')} chunks of 1-4096 bytes (same boundaries for all), fed as Buffers`,
      `median of ${ctx.rounds} interleaved rounds; MiB/s over input bytes; stanzas/s over the corpus stanza count; "vs floor" = time / floor time`,
      'each run includes building the parser and all its output (Elements, or JSON for stanza); saxes builds nothing (SAX events only)',
    ];

    const adapters: Adapter[] = [floorAdapter()];
    const confab = await loadConfabParser();
    let confabLimit: number | undefined;
    if (confab.ok) {
      // The roster result is one stanza larger than the default maxStanzaBytes (256 KiB): confab
      // keeps its default limits and raises the limit for that one stanza with the `stanzaLimit`
      // hook, as a session does for the result of a roster request it sent.
      const d = confab.mod.DEFAULT_LIMITS;
      const need = Math.max(meta.largestStanzaBytes, 1);
      if (d === undefined || d.maxStanzaBytes < need || d.maxTextBytes < need) {
        confabLimit = Math.ceil(need / MiB) * MiB;
        notes.push(
          `confab runs with its default limits${d ? ` (maxStanzaBytes ${(d.maxStanzaBytes / 1024).toFixed(0)} KiB)` : ''}; its stanzaLimit hook allows ${confabLimit / MiB} MiB for the ${(meta.rosterBytes / 1024).toFixed(0)} KiB roster result (iq id ${ROSTER_ID}) only`,
        );
      }
      adapters.push(
        confabAdapter(confab.mod, confabLimit === undefined ? undefined : rosterLimit(confabLimit)),
      );
    }
    adapters.push(xmppAdapter(), stanzaAdapter(), saxesAdapter(), ltxAdapter());

    // checked pass (untimed)
    const checks = new Map<string, { flags: string[]; corrupted: number }>();
    for (const a of adapters) {
      if (a.name.startsWith('floor')) {
        checks.set(a.name, { flags: [], corrupted: 0 });
        continue;
      }
      let out: ParseOutcome;
      try {
        out = a.parse(chunks, true);
      } catch (e) {
        out = { stanzas: 0, bodies: null, error: `threw ${errText(e)}` };
      }
      const c = check(out, meta.stanzas, meta.bodies);
      checks.set(a.name, c);
      ctx.log(
        `  checked ${a.name}: ${out.stanzas} stanzas${c.flags.length ? `; ${c.flags.join('; ')}` : ', all bodies intact'}`,
      );
    }
    if (confab.ok && confabLimit !== undefined) {
      // without the hook, does confab's parser take the corpus? (it should not: the roster is too big)
      const out = confabAdapter(confab.mod, undefined, 'confab (default limits, no hook)').parse(
        chunks,
        false,
      );
      if (out.error === undefined) {
        checks.get('confab')?.flags.push('without the stanzaLimit hook it took the oversized roster result');
      }
    }

    const contestants: Contestant<number>[] = adapters.map((a) => ({
      name: a.name,
      run: () => a.parse(chunks, false).stanzas,
    }));
    const timings = roundRobin(contestants, ctx.rounds, ctx.log);
    const floor = timings[0];
    const rows: Row[] = [];
    for (const t of timings) {
      const ok = t.error === undefined && Number.isFinite(t.median);
      const sec = t.median / 1000;
      const c = checks.get(t.name);
      const flags = [...(c?.flags ?? [])];
      if (t.error !== undefined) flags.push(`threw during timing: ${errText(t.error)}`);
      rows.push({
        name: t.name,
        values: {
          mibs: ok ? meta.bytes / MiB / sec : null,
          stanzas: ok ? meta.stanzas / sec : null,
          ms: ok ? t.median : null,
        },
        ratio: ok && floor ? t.median / floor.median : null,
        ...(t.name === 'confab' ? { goal: GOAL_CONFAB } : {}),
        flags,
        detail: { timesMs: t.times, corruptedBodies: c?.corrupted ?? 0 },
      });
    }
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
      config: {
        corpus: { ...meta, bodies: undefined, path: corpus.path },
        chunks: chunks.length,
        chunkSeed: CHUNK_SEED,
        rounds: ctx.rounds,
        confabLimits:
          confabLimit === undefined ? 'defaults' : `defaults; roster result ${confabLimit} via stanzaLimit`,
      },
      tables: [
        {
          title: 'Parse: XMPP stream, random 1-4096 byte chunks',
          notes,
          columns: [
            { key: 'mibs', label: 'MiB/s', digits: 1 },
            { key: 'stanzas', label: 'stanzas/s', digits: 0 },
            { key: 'ms', label: 'median ms', digits: 1 },
          ],
          rows,
        },
      ],
    };
  },
};
