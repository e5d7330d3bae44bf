/** The train room: the trainer, one trial as a job, adapter evaluation and saving. */
export {
  trainClassifier,
  type TrainHyper,
  type TrainEvent,
  type TrainerOptions,
  type TrainOutcome,
  type EpochRecord,
} from './trainer.js';
export {
  runTrial,
  getBackbone,
  getTask,
  type TrialSpec,
  type TrialResult,
  type Fidelity,
} from './trial.js';
export { evaluateAdapter, type EvaluateOptions } from './evaluate.js';
export { saveTrained } from './save.js';
export { cacheLayerFor } from './layer-cache.js';
export { linearWarmupDecay } from './schedule.js';
export { TrainingError, DivergedError } from './errors.js';
