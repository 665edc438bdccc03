/**
 * A tiny typed event emitter, browser-safe (no `node:events`).
 *
 * Why not EventTarget: its listeners receive an Event wrapper, not the payload, and
 * typing `addEventListener` per event name is clumsy. Why not Node's EventEmitter:
 * it is not in browsers, and an `error` event without a listener throws, which would
 * turn a stanza error into a crashed bot. Here each event carries one typed payload,
 * `on` returns its own teardown, and a throwing listener never breaks the emitter
 * (nor the session that emits): the throw goes to `onListenerError`.
 */
import { ConfabError } from './errors.ts';

/** A listener for an event whose payload type is `T`. */
export type Listener<T> = (payload: T) => void;

/**
 * Typed emitter over an event map `{ name: payloadType }`.
 *
 * @example
 * const e = new Emitter<{ tick: number }>();
 * const off = e.on('tick', (n) => console.log(n));
 * e.emit('tick', 1);
 * off();
 */
export class Emitter<Events extends object> {
  // One Set per event name: insertion order is call order, and removing during an
  // emit is safe because emit iterates a snapshot.
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #onListenerError: (err: unknown, event: keyof Events) => void;

  /** @param onListenerError where a throwing listener's error goes (default: rethrown on a later tick). */
  constructor(onListenerError?: (err: unknown, event: keyof Events) => void) {
    this.#onListenerError =
      onListenerError ??
      ((err) => {
        queueMicrotask(() => {
          throw err;
        });
      });
  }

  /** Add a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  /** Add a listener called at most once; returns a function that removes it. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** Remove a listener added with `on`. */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    set.delete(listener as Listener<never>);
    if (set.size === 0) this.#listeners.delete(event);
  }

  /** Number of listeners for an event. */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Call every listener of `event` with `payload`, in the order they were added. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<Events[K]>)(payload);
      } catch (err) {
        this.#onListenerError(err, event);
      }
    }
  }

  /** Remove every listener (teardown). */
  clear(): void {
    this.#listeners.clear();
  }
}

/** Report an error on a later tick (an uncaught error there, like Node's default), never inline. */
export function rethrowLater(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}

/**
 * A feature's emitter: a listener that throws becomes an `ERR_HANDLER` ConfabError naming the
 * feature and event, handed to `onError` (the client's `error` event in the composition root).
 */
export function featureEmitter<Events extends object>(
  feature: string,
  onError: (err: ConfabError) => void,
): Emitter<Events> {
  return new Emitter<Events>((err, event) =>
    onError(
      err instanceof ConfabError
        ? err
        : new ConfabError(
            'ERR_HANDLER',
            `A ${feature} '${String(event)}' listener threw: ${err instanceof Error ? err.message : String(err)}`,
            { cause: err },
          ),
    ),
  );
}
