import { UserError } from '../core/errors.js';

/** Training went wrong in a way the user can act on (e.g. a NaN loss: lower the learning rate). */
export class TrainingError extends UserError {
  override name = 'TrainingError';
}

/** The loss became NaN or infinite. */
export class DivergedError extends TrainingError {
  override name = 'DivergedError';
  constructor(
    readonly step: number,
    readonly loss: number,
    lr: number,
  ) {
    super(`training diverged: loss is ${loss} at step ${step} (lr ${lr}); fix: lower --lr (e.g. divide it by 3)`);
  }
}
