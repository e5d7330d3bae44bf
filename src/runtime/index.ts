export {
  compileTraining,
  adamWUpdate,
  TrainingProgram,
  type AdamWConfig,
  type TrainingOptions,
  type StepResult,
  type TrainingState,
} from './training.js';
export { compileEval, EvalProgram } from './eval.js';
export { ParamStore, type NamedTensor } from './params.js';
export { createSession, tensor, ort, type SessionConfig } from './session.js';
export { FeedError } from './errors.js';
