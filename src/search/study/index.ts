/** The ask/tell Study over a Storage. */
export { Study, createStudy, loadStudy } from './study.js';
export type {
  CreateStudyOptions,
  EnqueueOptions,
  HeartbeatOptions,
  LoadStudyOptions,
  TellArg,
  WarmStartSource,
} from './study.js';
export { SamplerOutputError, StudyError, StudyMismatchError, StudyOptionsError, TellValuesError } from './errors.js';
