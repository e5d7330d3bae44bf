/**
 * Grid (enumeration) sampler: every valid configuration of a finite space exactly once, in a seeded
 * random order, skipping configurations already completed or pending. Used to record complete
 * tables of real trials (bench/record-trials.ts); any prefix of its order is a uniform random
 * subset of the grid, so a table recorded only in part is still an unbiased sample.
 */
import type { Config, Sampler, SampleArgs } from '../types.js';
import { SearchSpaceError } from '../space/errors.js';
import { Rng } from '../../core/random.js';
import type { ParamDef, SearchSpace } from '../space/space.js';
import { takenKeys } from './common.js';

export interface GridSamplerOptions {
  space: SearchSpace;
  seed?: number;
  /** Refuse spaces with more valid configurations than this (default 1,000,000). */
  maxConfigs?: number;
}

function valuesOf(p: ParamDef): readonly (number | boolean | string)[] {
  switch (p.kind) {
    case 'bool':
      return [false, true];
    case 'categorical':
      return p.choices;
    case 'int': {
      if (p.values) return p.values;
      const out: number[] = [];
      for (let v = p.low!; v <= p.high!; v++) out.push(v);
      return out;
    }
    case 'float':
      throw new SearchSpaceError(`grid sampler: param "${p.name}" is a float; a grid needs finite params only`);
  }
}

/** Every valid configuration of a finite space, in the params' declared order (odometer, last param fastest). */
export function enumerateSpace(space: SearchSpace, maxConfigs = 1_000_000): Config[] {
  const domains = space.params.map(valuesOf);
  const total = domains.reduce((n, d) => n * d.length, 1);
  if (total > maxConfigs)
    throw new SearchSpaceError(
      `grid sampler: the space has ${total} combinations, more than ${maxConfigs}; restrict the values`,
    );
  const out: Config[] = [];
  const idx = new Array<number>(domains.length).fill(0);
  for (let k = 0; k < total; k++) {
    const c: Config = {};
    space.params.forEach((p, j) => {
      c[p.name] = domains[j]![idx[j]!]!;
    });
    if (space.isValid(c)) out.push(c);
    for (let j = domains.length - 1; j >= 0; j--) {
      idx[j]!++;
      if (idx[j]! < domains[j]!.length) break;
      idx[j] = 0;
    }
  }
  return out;
}

export class GridSampler implements Sampler {
  readonly name = 'grid';
  private readonly space: SearchSpace;
  /** The whole grid in this sampler's order. */
  readonly order: readonly Config[];
  /** `space.key` of each config of `order` (computed once, not on every call). */
  private readonly keys: readonly string[];

  constructor(opts: GridSamplerOptions) {
    this.space = opts.space;
    this.order = new Rng(opts.seed ?? 0).shuffle(enumerateSpace(opts.space, opts.maxConfigs));
    this.keys = this.order.map((c) => opts.space.key(c));
  }

  /** The next `n` configurations of the order not yet completed or pending; fewer when the grid is done. */
  sample(args: SampleArgs): Config[] {
    const taken = takenKeys(this.space, args);
    const out: Config[] = [];
    for (let i = 0; i < this.order.length && out.length < args.n; i++)
      if (!taken.has(this.keys[i]!)) out.push(this.order[i]!);
    return out;
  }
}
