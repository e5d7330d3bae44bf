/** The ask/tell Study over a Storage. */
export { SAMPLER_STATE_KEY, Study, createStudy, loadStudy } from './study.js';
export { deadLocalWorkers, defaultWorkerId } from './workers.js';
export type {
  AskOptions,
  CreateStudyOptions,
  EnqueueOptions,
  HeartbeatOptions,
  LoadStudyOptions,
  WarmStartSource,
} from './study.js';
export type { TellArg } from './tell.js';
export { SamplerOutputError, StudyError, StudyMismatchError, StudyOptionsError, TellValuesError } from './errors.js';
