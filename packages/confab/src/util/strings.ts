/**
 * Strings that long-lived models keep (presence per resource, roster items), made independent of
 * the text they were parsed from. No spec: a memory detail of JavaScript engines.
 *
 * Why: the stream parser slices attribute values and text out of the decoded read chunk (or the
 * whole WebSocket frame). V8 represents a slice of 13 characters or more as a "sliced string" that
 * points into its parent, so one status text kept in a model keeps its whole chunk alive: for a
 * presence that is the full stanza, for a roster item the whole roster result. The roster
 * benchmark (bench/roster.ts) measured the models at about twice their own size because of it.
 */

/**
 * A copy of `s` that no longer holds the text it was sliced from. Shorter strings are copied by
 * the engine already and come back as they are. A JSON round trip is the cheapest copy that is
 * flat (measured at about 0.3 us for a status text): `(' ' + s).slice(1)` is twice as fast but
 * gives a new sliced string (32 more bytes each, 0.9 MB over a 5,000-contact roster with
 * presence), and `TextDecoder` or `structuredClone` are slower.
 */
export function detach<S extends string | undefined>(s: S): S {
  return (s === undefined || s.length < 13 ? s : JSON.parse(JSON.stringify(s))) as S;
}

/**
 * One shared copy per distinct value (roster group names: 5,000 items usually share a few dozen
 * groups). The table lives with the model that uses it and only grows by distinct values.
 */
export class Interner {
  readonly #seen = new Map<string, string>();

  /** The one kept copy of `s`. */
  get(s: string): string {
    let v = this.#seen.get(s);
    if (v === undefined) {
      v = detach(s);
      this.#seen.set(v, v);
    }
    return v;
  }

  /** Forget every value (when the model is rebuilt, e.g. a full roster). */
  clear(): void {
    this.#seen.clear();
  }
}
