/**
 * Pruners stop unpromising trials early, from the intermediate values the trials report while
 * they run (`FrozenTrial.intermediateValues`: the first objective after `step`, e.g. training
 * examples seen). A pruner is pure: the study loop asks it after every report, with the study's
 * trials as stored, and stops the trial when it says so; the trial is then stored PRUNED.
 */
import type { FrozenTrial } from '../types.js';

export interface Pruner {
  readonly name: string;
  /**
   * Whether `trial` (RUNNING; its last intermediate value is the one just reported) should stop
   * now, judged against `trials` (the study's trials in any state; `trial` may be among them).
   */
  shouldPrune(trial: FrozenTrial, trials: readonly FrozenTrial[]): boolean;
  /**
   * The steps at which the pruner decides, when it has fixed ones (successive halving's rungs):
   * trials must report there. The trainer's checkpoints are set from them.
   */
  readonly steps?: readonly number[];
}

/** Never prunes (the default). */
export class NopPruner implements Pruner {
  readonly name = 'none';
  shouldPrune(): boolean {
    return false;
  }
}
