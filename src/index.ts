/**
 * autopeft's public API: what a library user needs to run a search, or one piece of it.
 *
 *   import { createStudy, autopeftSpace, autopeftObjectives, BoSampler, openStorage } from 'autopeft';
 *
 * - the ask/tell Study and its trial types;
 * - search spaces (the AutoPEFT space or your own) and the samplers (random, NSGA-II, BO);
 * - storages (in memory, SQLite, PostgreSQL) and the whole search loop (`runSearch`);
 * - one training run (`runTrial`), scoring (`evaluateAdapter`) and export (`exportAdapter`) of an
 *   adapter, PEFT configurations, tasks, backbones;
 * - the errors a user can cause (`UserError`) and the command line (`cli`).
 * The building blocks below it (graph engine, model and PEFT builders, batching, report rendering)
 * are 'autopeft/advanced' (./advanced.ts). Everything else is internal and may change.
 */

// The ask/tell Study and the trial/study types.
export { Study, createStudy, loadStudy } from './search/study/index.js';
export type {
  AskOptions,
  CreateStudyOptions,
  EnqueueOptions,
  HeartbeatOptions,
  LoadStudyOptions,
  TellArg,
} from './search/study/index.js';
export type {
  AttrValue,
  Config,
  Direction,
  FrozenTrial,
  ObjectiveSpec,
  ParamValue,
  Sampler,
  TrialState,
} from './search/types.js';
export type { StudyRecord, TrialRecord } from './trials/index.js';

// Search spaces.
export {
  SearchSpace,
  autopeftObjectives,
  autopeftSizes,
  autopeftSpace,
  paramPct,
  peftFromSearch,
  searchFromPeft,
} from './search/space/index.js';
export type { AutopeftModel, AutopeftSpaceOptions, ParamDef, SpaceOptions } from './search/space/index.js';

// Samplers and the Pareto tools they rest on.
export { BoSampler, Nsga2Sampler, RandomSampler, SAMPLER_NAMES, createSampler } from './search/samplers/index.js';
export type { BoOptions, Nsga2Options, RandomSamplerOptions, SamplerName } from './search/samplers/index.js';
export { hypervolume, paretoFrontIndices } from './search/pareto/index.js';

// Storages.
export { memoryStorage, openPostgresStorage, openSqliteStorage, openStorage } from './storage/index.js';
export type { Storage } from './storage/index.js';

// The search loop and its summary.
export { runSearch, summarizeStudy } from './pipeline/index.js';
export type { SearchEvent, SearchOptions, SearchOutcome, StudySummary } from './pipeline/index.js';

// One training run, scoring and export of a saved adapter.
export { runTrial } from './train/trial.js';
export type { Fidelity, TrialResult, TrialSpec } from './train/trial.js';
export type { TrainEvent } from './train/trainer.js';
export { evaluateAdapter } from './train/evaluate.js';
export type { EvaluateOptions } from './train/evaluate.js';
export { exportAdapter } from './pipeline/export.js';
export type { ExportResult } from './pipeline/export.js';

// PEFT configurations, tasks, backbones.
export { describePeft, parsePeftConfig } from './peft/config.js';
export type { PeftConfig } from './peft/config.js';
export { loadTask, taskNames } from './data/index.js';
export type { Example, TaskData, TaskSpec } from './data/index.js';
export { loadBackbone } from './models/backbone.js';
export type { Backbone, BackboneDims } from './models/backbone.js';

// Errors a user can cause (bad paths, flags, configs: one-line messages), and the command line.
export { UserError, isUserError } from './core/errors.js';
export { main as cli } from './cli/main.js';
