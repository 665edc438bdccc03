/**
 * Loads confab's XML layer for the benchmarks, tolerating modules that do not exist yet (or fail to
 * load while being written): the harness then reports 'n/a' for confab instead of failing.
 *
 * The modules are imported by computed URL, so the type-check does not depend on them existing;
 * the shapes below are the contract of notes/XMLAPI.md, checked structurally at run time.
 */

import { existsSync } from 'node:fs';
import type { Element } from '../packages/confab/src/xml/element.ts';

export interface ConfabXmlError extends Error {
  code?: string;
}

export interface ConfabStreamParserHandlers {
  streamStart(header: Element): void;
  element(el: Element): void;
  streamEnd(): void;
  error(err: ConfabXmlError): void;
}

export interface ConfabParserLimits {
  maxStanzaBytes: number;
  maxDepth: number;
  maxAttributes: number;
  maxTextBytes: number;
  maxNameLength: number;
}

export interface ConfabStreamParser {
  write(chunk: Uint8Array | string): void;
  end(): void;
  reset(): void;
  readonly bufferedBytes: number;
}

export type ConfabStreamParserClass = new (
  handlers: ConfabStreamParserHandlers,
  options?: {
    limits?: Partial<ConfabParserLimits>;
    framing?: 'stream' | 'fragments';
    /** Per-stanza limit (a larger one for a pending roster result); undefined keeps the default. */
    stanzaLimit?: (open: {
      name: string;
      xmlns: string;
      attrs: Record<string, string>;
    }) => number | undefined;
  },
) => ConfabStreamParser;

export interface ConfabParserModule {
  StreamParser: ConfabStreamParserClass;
  DEFAULT_LIMITS?: ConfabParserLimits;
}

export interface ConfabSerializerModule {
  serialize(el: Element, parentNs?: string): string;
}

/** A loaded module, or why it is not available. */
export type Loaded<T> = { ok: true; mod: T } | { ok: false; reason: string };

const XML_DIR = new URL('../packages/confab/src/xml/', import.meta.url);

async function load<T>(
  file: string,
  check: (m: Record<string, unknown>) => string | null,
): Promise<Loaded<T>> {
  const url = new URL(file, XML_DIR);
  if (!existsSync(url)) return { ok: false, reason: `${file} does not exist yet` };
  let m: Record<string, unknown>;
  try {
    m = (await import(url.href)) as Record<string, unknown>;
  } catch (err) {
    return {
      ok: false,
      reason: `${file} failed to load: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const problem = check(m);
  return problem === null ? { ok: true, mod: m as T } : { ok: false, reason: `${file}: ${problem}` };
}

export function loadConfabParser(): Promise<Loaded<ConfabParserModule>> {
  return load<ConfabParserModule>('parser.ts', (m) =>
    typeof m.StreamParser === 'function' ? null : 'no StreamParser export',
  );
}

export function loadConfabSerializer(): Promise<Loaded<ConfabSerializerModule>> {
  return load<ConfabSerializerModule>('serializer.ts', (m) =>
    typeof m.serialize === 'function' ? null : 'no serialize export',
  );
}
