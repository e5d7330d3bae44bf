/** Test helper: a storage that counts the calls made to it, by method name (`calls`, reset with `reset`). */
import type { ReadOnlyStorage } from '../data.js';

export interface Counted<S> {
  storage: S;
  calls: Record<string, number>;
  /** Forgets the counts so far. */
  reset(): void;
}

export function countCalls<S extends ReadOnlyStorage>(inner: S): Counted<S> {
  const calls: Record<string, number> = {};
  const storage = new Proxy(inner, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls[String(key)] = (calls[String(key)] ?? 0) + 1;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    storage,
    calls,
    reset: () => {
      for (const k of Object.keys(calls)) delete calls[k];
    },
  };
}
