/**
 * A Store batch with its values checked and encoded as JSON text, ahead of any write: what a
 * Store implementation (MemoryStore, the CLI's SQLite store) applies, so a batch with a value
 * that is not JSON fails as a whole before anything changed (store/types.ts `apply`).
 */
import type { Json, StoreOp } from './types.ts';

export type EncodedOp =
  | { op: 'set'; ns: string; key: string; text: string }
  | { op: 'delete'; ns: string; key: string }
  | { op: 'drop'; ns: string }
  | { op: 'push'; list: string; key: string; text: string }
  | { op: 'remove'; list: string; key: string }
  | { op: 'clear'; list: string };

function encode(value: Json): string {
  const text = JSON.stringify(value);
  // JSON.stringify returns undefined (not a string) for undefined and functions.
  if (typeof text !== 'string') throw new TypeError('store values must be JSON');
  return text;
}

/** The batch with every value as JSON text; throws TypeError on a value that is not JSON. */
export function encodeOps(ops: readonly StoreOp[]): EncodedOp[] {
  return ops.map((o): EncodedOp => {
    switch (o.op) {
      case 'set':
        return { op: 'set', ns: o.ns, key: o.key, text: encode(o.value) };
      case 'push':
        return { op: 'push', list: o.list, key: o.key, text: encode(o.value) };
      case 'delete':
      case 'drop':
      case 'remove':
      case 'clear':
        return o;
      default:
        throw new TypeError(`unknown store op ${(o as { op: unknown }).op}`);
    }
  });
}
