/** The trials room: trial and study types shared by storages and samplers (below both). */
export type {
  AttrValue,
  Config,
  CreateTrialOptions,
  Direction,
  FailStaleOptions,
  FailStaleResult,
  FrozenTrial,
  IntermediateValue,
  InterruptKind,
  InterruptOptions,
  InterruptResult,
  ListTrialsOptions,
  ObjectiveSpec,
  ParamValue,
  StudyRecord,
  StudySpec,
  TrialInit,
  TrialOutcome,
  TrialRecord,
  TrialState,
} from './types.js';
export { INTERRUPT_KINDS, countsTowardTarget, isRealFailure } from './types.js';
