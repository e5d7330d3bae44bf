import { UserError } from '../core/errors.js';

/** Training went wrong in a way the user can act on (e.g. a NaN loss: lower the learning rate). */
export class TrainingError extends UserError {
  override name = 'TrainingError';
}

/**
 * Training blew up (a NaN/inf loss, weight or output, or a loss far above its starting scale: the
 * rule is in ./divergence.ts). A diverged trial is FAILED with this message, never scored.
 */
export class DivergedError extends TrainingError {
  override name = 'DivergedError';
  constructor(
    readonly step: number,
    /** What blew up, e.g. "the loss at step 2 is NaN". */
    readonly detail: string,
    lr: number,
  ) {
    super(`training diverged: ${detail} (lr ${lr}); fix: lower --lr (e.g. divide it by 10)`);
  }
}
