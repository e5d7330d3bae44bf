/** A minimal in-memory ask/tell loop for tests and benchmarks (the real one is the Study). */
import type { Config, FrozenTrial, ObjectiveSpec, Sampler } from '../types.js';
import type { Rng } from '../../core/random.js';

export interface LoopArgs {
  sampler: Sampler;
  objectives: readonly ObjectiveSpec[];
  /** Observes the unknown objectives: returns the full values row (known ones may be anything, samplers recompute them). */
  evaluate: (config: Config, rng: Rng) => number[];
  budget: number;
  /** Proposals per round. */
  batch?: number;
  rng: Rng;
  /** Called after every round with the trials so far. */
  onRound?: (complete: readonly FrozenTrial[]) => void;
}

export async function runLoop(a: LoopArgs): Promise<FrozenTrial[]> {
  const complete: FrozenTrial[] = [];
  const q = a.batch ?? 1;
  while (complete.length < a.budget) {
    const n = Math.min(q, a.budget - complete.length);
    const configs = await a.sampler.sample({ complete, pending: [], n });
    for (const config of configs) {
      complete.push({
        number: complete.length,
        state: 'COMPLETE',
        config,
        values: a.evaluate(config, a.rng),
        userAttrs: {},
        createdAt: complete.length,
      });
    }
    a.onRound?.(complete);
  }
  return complete;
}
