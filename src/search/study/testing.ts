/**
 * A tiny deterministic sampler for tests of the Study and of storages (not a real search).
 * Given a seed and the history it is shown, it always returns the same configs, and it records
 * every call so tests can check what the Study passed it.
 */
import type { Config, FrozenTrial, ObjectiveSpec, Sampler } from '../types.js';

export interface SamplerCall {
  /** Numbers of the COMPLETE trials shown. */
  complete: number[];
  pending: Config[];
  n: number;
}

export interface CountingSampler extends Sampler {
  readonly calls: SamplerCall[];
}

/**
 * Config k of a call (k = completes + pendings shown + index in the batch) is
 * `{ x: (seed * 7919 + 31 * k) mod 101, tag: "<prefix><k>" }`.
 */
export function countingSampler(seed = 1, prefix = 's'): CountingSampler {
  const calls: SamplerCall[] = [];
  return {
    name: 'counting',
    calls,
    sample({
      complete,
      pending,
      n,
    }: {
      complete: readonly FrozenTrial[];
      pending: readonly Config[];
      n: number;
    }): Config[] {
      calls.push({ complete: complete.map((t) => t.number), pending: pending.map((c) => ({ ...c })), n });
      const base = complete.length + pending.length;
      return Array.from({ length: n }, (_, i) => {
        const k = base + i;
        return { x: (seed * 7919 + 31 * k) % 101, tag: `${prefix}${k}` };
      });
    },
  };
}

/** Objectives of the two-process test: score (max, told) and size = config.x (min, known). */
export const TWO_PROCESS_OBJECTIVES: ObjectiveSpec[] = [
  { name: 'score', direction: 'maximize' },
  { name: 'size', direction: 'minimize', known: (c: Config) => Number(c.x) },
];
