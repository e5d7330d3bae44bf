/** Builds a sampler by name (for the CLI and config files). */
import type { Sampler } from '../types.js';
import { SearchSpaceError } from '../space/errors.js';
import { RandomSampler } from './random.js';
import { Nsga2Sampler, type Nsga2Options } from './nsga2.js';
import { BoSampler, type BoOptions } from './bo.js';

export type SamplerName = 'random' | 'nsga2' | 'bo';
export const SAMPLER_NAMES: readonly SamplerName[] = ['random', 'nsga2', 'bo'];

/** `options` carries the space, objectives and seed plus the chosen sampler's own options. */
export function createSampler(name: string, options: BoOptions & Nsga2Options): Sampler {
  switch (name) {
    case 'random':
      return new RandomSampler(options);
    case 'nsga2':
      return new Nsga2Sampler(options);
    case 'bo':
      return new BoSampler(options);
    default:
      throw new SearchSpaceError(`sampler "${name}" is unknown; use one of ${SAMPLER_NAMES.join(', ')}`);
  }
}
