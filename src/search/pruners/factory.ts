/** Builds a pruner by name (for the CLI and config files). */
import type { ObjectiveSpec } from '../types.js';
import { SearchSpaceError } from '../space/errors.js';
import { AshaPruner } from './asha.js';
import { NopPruner, type Pruner } from './types.js';

export type PrunerName = 'none' | 'asha';
export const PRUNER_NAMES: readonly PrunerName[] = ['none', 'asha'];

export function createPruner(
  name: string,
  options: { objectives: readonly ObjectiveSpec[]; rungs?: readonly number[]; eta?: number; minTrials?: number },
): Pruner {
  switch (name) {
    case 'none':
      return new NopPruner();
    case 'asha':
      if (!options.rungs || options.rungs.length === 0)
        throw new SearchSpaceError('pruner "asha" needs rungs: the steps (examples seen) at which trials are judged');
      return new AshaPruner({
        objectives: options.objectives,
        rungs: options.rungs,
        ...(options.eta !== undefined ? { eta: options.eta } : {}),
        ...(options.minTrials !== undefined ? { minTrials: options.minTrials } : {}),
      });
    default:
      throw new SearchSpaceError(`pruner "${name}" is unknown; use one of ${PRUNER_NAMES.join(', ')}`);
  }
}
