/** Uniform random search over the valid configs, avoiding configs already tried or pending. */
import type { Config, Sampler, SampleArgs } from '../types.js';
import { Rng, mixSeed } from '../../core/random.js';
import type { SearchSpace } from '../space/space.js';
import { sampleUnique, takenKeys } from './common.js';

export interface RandomSamplerOptions {
  space: SearchSpace;
  seed?: number;
}

export class RandomSampler implements Sampler {
  readonly name = 'random';
  private readonly space: SearchSpace;
  private readonly seed: number;

  constructor(opts: RandomSamplerOptions) {
    this.space = opts.space;
    this.seed = opts.seed ?? 0;
  }

  sample(args: SampleArgs): Config[] {
    const rng = new Rng(mixSeed(this.seed, args.complete.length, args.pending.length, args.n));
    return sampleUnique(this.space, rng, args.n, takenKeys(this.space, args));
  }
}
