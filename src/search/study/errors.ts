import { UserError } from '../../core/errors.js';

/** Typed errors a Study user can cause; one line naming the study/trial and the fix. */
export class StudyError extends UserError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The stored study's objectives differ from the ones the caller declared. */
export class StudyMismatchError extends StudyError {
  constructor(message: string) {
    super('STUDY_MISMATCH', message);
  }
}

/** A tell whose values cannot be matched to the study's objectives. */
export class TellValuesError extends StudyError {
  constructor(message: string) {
    super('INVALID_TELL', message);
  }
}

/** The sampler returned the wrong number of configs. */
export class SamplerOutputError extends StudyError {
  constructor(message: string) {
    super('SAMPLER_OUTPUT', message);
  }
}

/** A Study option out of range (heartbeat timings, batch size). */
export class StudyOptionsError extends StudyError {
  constructor(message: string) {
    super('STUDY_OPTIONS', message);
  }
}
