/**
 * Discrete acquisition optimisation, as the reference does (BoTorch's discrete local search over
 * ConfigSpace neighbours): score a pool of perturbed Pareto configs plus random valid configs, then
 * hill-climb (best improvement over all neighbours) from the best few; return the best config seen
 * that is not excluded (already evaluated or pending).
 */
import type { Config } from '../types.js';
import type { SearchSpace } from '../space/space.js';
import type { Rng } from '../../core/random.js';

export interface LocalSearchOptions {
  /** Random valid configs in the initial pool. */
  rawSamples?: number;
  /** Perturbed copies of each Pareto config in the pool (1-3 random neighbour moves each). */
  perturbationsPerParetoPoint?: number;
  /** Hill-climbs started from the best pool members. */
  localStarts?: number;
  /** Steps per hill-climb. */
  maxSteps?: number;
}

export interface LocalSearchArgs extends LocalSearchOptions {
  space: SearchSpace;
  /** The acquisition value (higher is better). */
  score: (config: Config) => number;
  /** Current Pareto-optimal configs (start points). */
  paretoConfigs: readonly Config[];
  /** Keys (space.key) that must not be returned. */
  exclude: ReadonlySet<string>;
  rng: Rng;
}

export interface LocalSearchResult {
  config: Config;
  value: number;
  /** Acquisition evaluations spent. */
  evaluations: number;
}

export function optimizeDiscrete(a: LocalSearchArgs): LocalSearchResult | null {
  const { space, rng } = a;
  const cache = new Map<string, { c: Config; v: number }>();
  const evalC = (c: Config): number => {
    const k = space.key(c);
    const hit = cache.get(k);
    if (hit) return hit.v;
    const v = a.score(c);
    cache.set(k, { c, v });
    return v;
  };
  const pool: Config[] = [];
  const per = a.perturbationsPerParetoPoint ?? 4;
  for (const p of a.paretoConfigs) {
    pool.push(p);
    for (let t = 0; t < per; t++) {
      let c = p;
      const moves = 1 + rng.int(3);
      for (let mv = 0; mv < moves; mv++) c = space.randomNeighbour(c, rng);
      pool.push(c);
    }
  }
  const raw = a.rawSamples ?? 100;
  for (let t = 0; t < raw; t++) pool.push(space.sample(rng));
  const scored = pool.map((c) => ({ c, v: evalC(c) }));
  scored.sort((x, y) => y.v - x.v);
  const starts: Config[] = [];
  const seen = new Set<string>();
  for (const s of scored) {
    const k = space.key(s.c);
    if (seen.has(k)) continue;
    seen.add(k);
    starts.push(s.c);
    if (starts.length >= (a.localStarts ?? 3)) break;
  }
  const maxSteps = a.maxSteps ?? 12;
  for (const s of starts) {
    let cur = s;
    let curV = evalC(cur);
    for (let step = 0; step < maxSteps; step++) {
      let best: Config | null = null;
      let bestV = curV;
      for (const nb of space.neighbours(cur)) {
        const v = evalC(nb);
        if (v > bestV) {
          bestV = v;
          best = nb;
        }
      }
      if (!best) break;
      cur = best;
      curV = bestV;
    }
  }
  let out: LocalSearchResult | null = null;
  for (const [k, { c, v }] of cache) {
    if (a.exclude.has(k)) continue;
    if (!out || v > out.value) out = { config: c, value: v, evaluations: cache.size };
  }
  return out;
}
