/** Helpers shared by the samplers. */
import type { Config, FrozenTrial, ObjectiveSpec, SampleArgs } from '../types.js';
import type { SearchSpace } from '../space/space.js';
import { SearchSpaceError } from '../space/errors.js';
import type { Rng } from '../../core/random.js';

export interface SamplerOptions {
  space: SearchSpace;
  objectives: readonly ObjectiveSpec[];
  /** Base seed; each call derives its stream from it and the history's size. */
  seed?: number;
}

/** Objective value j of a trial: known objectives recomputed from the config, others from `values`. */
export function objectiveValue(t: FrozenTrial, o: ObjectiveSpec, j: number): number {
  if (o.known) return o.known(t.config);
  const v = t.values?.[j];
  if (v === undefined || !Number.isFinite(v)) {
    throw new SearchSpaceError(
      `trial ${t.number}: objective "${o.name}" has no finite value; tell a number or mark the trial failed`,
    );
  }
  return v;
}

/** n x m objective matrix in the minimisation convention. */
export function minimizationMatrix(trials: readonly FrozenTrial[], objectives: readonly ObjectiveSpec[]): number[][] {
  return trials.map((t) => objectives.map((o, j) => (o.direction === 'maximize' ? -1 : 1) * objectiveValue(t, o, j)));
}

export function checkObjectives(objectives: readonly ObjectiveSpec[], where: string): void {
  if (objectives.length === 0) throw new SearchSpaceError(`${where}: no objectives; give at least one`);
  for (const o of objectives) {
    if (o.direction !== 'maximize' && o.direction !== 'minimize') {
      throw new SearchSpaceError(`${where}: objective "${o.name}" direction must be "maximize" or "minimize"`);
    }
  }
}

/**
 * Up to `n` uniform valid configs whose keys are not in `taken` (updated). After many collisions
 * (a nearly exhausted space) duplicates are allowed rather than looping forever.
 */
export function sampleUnique(space: SearchSpace, rng: Rng, n: number, taken: Set<string>): Config[] {
  const out: Config[] = [];
  for (let i = 0; i < n; i++) {
    let c = space.sample(rng);
    for (let t = 0; t < 200 && taken.has(space.key(c)); t++) c = space.sample(rng);
    taken.add(space.key(c));
    out.push(c);
  }
  return out;
}

/** Keys of every configuration the study already has: complete, pending and pruned. */
export function takenKeys(space: SearchSpace, args: Omit<SampleArgs, 'n'>): Set<string> {
  const s = new Set<string>();
  for (const t of args.complete) s.add(space.key(t.config));
  for (const c of args.pending) s.add(space.key(c));
  for (const t of args.pruned ?? []) s.add(space.key(t.config));
  return s;
}
