/**
 * NSGA-II (Deb et al. 2002) for mixed discrete spaces, in ask/tell form: the population is rebuilt
 * from the whole history on every call by elitist survival (non-dominated rank, then crowding
 * distance) down to `populationSize`; offspring come from binary tournaments, uniform crossover
 * (each param from either parent, i.e. uniform crossover on the encoded params), mutation by
 * neighbour moves (each param moved with probability 1/#params, at least one move), and repair to
 * validity. Until `populationSize` trials are complete it samples uniformly.
 */
import type { Config, FrozenTrial, Sampler, SampleArgs } from '../types.js';
import { Rng, mixSeed } from '../../core/random.js';
import { crowdingDistance, nonDominatedSort } from '../pareto/pareto.js';
import { checkObjectives, minimizationMatrix, sampleUnique, takenKeys, type SamplerOptions } from './common.js';
import type { SearchSpace } from '../space/space.js';

export interface Nsga2Options extends SamplerOptions {
  populationSize?: number;
  /** Probability that a child comes from crossover (else a copy of one parent, then mutation). */
  crossoverProb?: number;
}

interface Member {
  config: Config;
  rank: number;
  crowd: number;
}

export class Nsga2Sampler implements Sampler {
  readonly name = 'nsga2';
  private readonly o: Required<Pick<Nsga2Options, 'populationSize' | 'crossoverProb' | 'seed'>> & Nsga2Options;

  constructor(opts: Nsga2Options) {
    checkObjectives(opts.objectives, 'Nsga2Sampler');
    this.o = { populationSize: 20, crossoverProb: 0.9, seed: 0, ...opts };
  }

  sample(args: SampleArgs): Config[] {
    const { space } = this.o;
    const rng = new Rng(mixSeed(this.o.seed, args.complete.length, args.pending.length, args.n, 2));
    const taken = takenKeys(space, args);
    if (args.complete.length < this.o.populationSize) return sampleUnique(space, rng, args.n, taken);
    const pop = this.survivors(args.complete);
    const out: Config[] = [];
    for (let i = 0; i < args.n; i++) {
      let child: Config | null = null;
      for (let attempt = 0; attempt < 20 && child === null; attempt++) {
        const c = this.offspring(space, pop, rng);
        if (!taken.has(space.key(c))) child = c;
      }
      if (child === null) child = sampleUnique(space, rng, 1, taken)[0]!;
      taken.add(space.key(child));
      out.push(child);
    }
    return out;
  }

  private survivors(complete: readonly FrozenTrial[]): Member[] {
    const Y = minimizationMatrix(complete, this.o.objectives);
    return nsga2Survivors(Y, this.o.populationSize).map((s) => ({
      config: complete[s.index]!.config,
      rank: s.rank,
      crowd: s.crowd,
    }));
  }

  private tournament(pop: Member[], rng: Rng): Member {
    const a = pop[rng.int(pop.length)]!,
      b = pop[rng.int(pop.length)]!;
    if (a.rank !== b.rank) return a.rank < b.rank ? a : b;
    if (a.crowd !== b.crowd) return a.crowd > b.crowd ? a : b;
    return rng.float() < 0.5 ? a : b;
  }

  private offspring(space: SearchSpace, pop: Member[], rng: Rng): Config {
    const p1 = this.tournament(pop, rng).config;
    let child: Config = { ...p1 };
    if (rng.float() < this.o.crossoverProb) {
      const p2 = this.tournament(pop, rng).config;
      for (const p of space.params) if (rng.float() < 0.5) child[p.name] = p2[p.name]!;
    }
    const P = space.params.length;
    let moved = false;
    for (const p of space.params) {
      if (rng.float() < 1 / P) {
        child = space.mutateParam(child, p.name, rng);
        moved = true;
      }
    }
    if (!moved) child = space.mutateParam(child, space.params[rng.int(P)]!.name, rng);
    return space.repair(child, rng);
  }
}

/**
 * NSGA-II elitist survival: fill `size` slots front by front (minimisation rows of Y); the front
 * that does not fit entirely is cut by crowding distance (largest first, ties by index).
 */
export function nsga2Survivors(
  Y: readonly (readonly number[])[],
  size: number,
): { index: number; rank: number; crowd: number }[] {
  const fronts = nonDominatedSort(Y);
  const out: { index: number; rank: number; crowd: number }[] = [];
  for (let r = 0; r < fronts.length && out.length < size; r++) {
    const f = fronts[r]!;
    const cd = crowdingDistance(Y, f);
    const order = f.map((_, t) => t).sort((a, b) => cd[b]! - cd[a]! || f[a]! - f[b]!);
    for (const t of order) {
      if (out.length >= size) break;
      out.push({ index: f[t]!, rank: r, crowd: cd[t]! });
    }
  }
  return out;
}
