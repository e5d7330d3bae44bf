/** The trials room: trial and study types shared by storages and samplers (below both). */
export type {
  AttrValue,
  Config,
  Direction,
  FailStaleOptions,
  FailStaleResult,
  FrozenTrial,
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
