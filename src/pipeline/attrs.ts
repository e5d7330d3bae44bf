/**
 * What a search study records about itself, so `report`, `retrain`, `baselines`, `transfer` and
 * `export` can pick up where `search` left off. All of it lives in the study's SYSTEM attributes
 * (keys `autopeft`, `retrain`, `baselines`, `transfer`; the sampler's state under `sampler`),
 * apart from the user's own attributes.
 */
import type { AttrValue, StudyRecord } from '../trials/index.js';
import type { TrialSpec } from '../train/trial.js';
import { UsageError } from '../core/errors.js';
import type { ClassifierHead, PairEncoding } from '../models/types.js';
import type { MetricName } from '../data/tasks/types.js';
import type { ParamDenominator } from '../peft/params.js';
import { DEFAULT_PEFT_OPTIONS, type PeftConfig, type SerialAdapterForm } from '../peft/config.js';
import { peftFromSearch } from '../search/space/autopeft.js';
import type { Config } from '../search/types.js';

export interface SearchSetup {
  model: string;
  task: string;
  dataDir?: string;
  numLayers: number;
  hidden: number;
  backboneParams: number;
  sampler: 'bo' | 'nsga2' | 'random';
  seed: number;
  /** The low-fidelity training every trial gets. */
  hyper: TrialSpec['hyper'];
  fidelity?: TrialSpec['fidelity'];
  lora: boolean;
  /** How every trial encodes sentence pairs (absent in studies made before it was recorded: `cross`). */
  pairEncoding?: PairEncoding;
  /**
   * The pruner of the study's trials, with ASHA's rungs (examples seen) and settings as resolved
   * when the study was made (absent in studies made before pruning existed: none).
   */
  pruner?: SearchPruner;
  /** BO's observation noise model (absent in older studies: 'learned'). */
  noise?: 'learned' | 'binomial';
  /** The `--preset` the study was made with and the option keys it set (absent: none). */
  preset?: { name: string; applied: string[] };
  /** The search objective and model-selection metric (absent in older studies: the task's main metric). */
  metric?: MetricName;
  /** The trials' classification head (absent: `pooler`). */
  head?: ClassifierHead;
  /** What param % divides by (absent: `encoder`). */
  paramDenominator?: ParamDenominator;
  /** Fixed hypervolume reference point [metric, paramPct] (absent: inferred from the trials). */
  refPoint?: [number, number];
  /** The serial adapter form of every trial (absent: `houlsby`). */
  saForm?: SerialAdapterForm;
  /** `--frozen-dropout 0`: no dropout below each trial's lowest adapted layer (absent: the model's). */
  frozenDropout?: number;
}

/** The study's trial settings with their defaults filled in (older studies recorded none of them). */
export function setupProtocol(s: SearchSetup): {
  head: ClassifierHead;
  paramDenominator: ParamDenominator;
  saForm: SerialAdapterForm;
} {
  return {
    head: s.head ?? 'pooler',
    paramDenominator: s.paramDenominator ?? 'encoder',
    saForm: s.saForm ?? DEFAULT_PEFT_OPTIONS.saForm,
  };
}

/** A trial's flat search config as the PeftConfig it trains, with the study's serial adapter form. */
export function setupPeft(s: Pick<SearchSetup, 'numLayers' | 'saForm'>, config: Config, saForm = s.saForm): PeftConfig {
  return peftFromSearch(config, s.numLayers, {
    ...DEFAULT_PEFT_OPTIONS,
    saForm: saForm ?? DEFAULT_PEFT_OPTIONS.saForm,
  });
}

export interface SearchPruner {
  name: 'none' | 'asha';
  /** ASHA: the steps (training examples seen) at which trials are judged. */
  rungs?: number[];
  eta?: number;
  minTrials?: number;
}

/** The pair encoding of a study's trials (`cross` for studies that predate the setting). */
export const setupPairEncoding = (s: Pick<SearchSetup, 'pairEncoding'>): PairEncoding => s.pairEncoding ?? 'cross';

/** Mean ± std of a configuration re-trained with several seeds, on the official dev set. */
export interface RetrainRecord {
  trial: number;
  metricName: string;
  values: number[];
  mean: number;
  std: number;
  paramPct: number;
}

export interface BaselineRecord {
  method: string;
  config: Record<string, AttrValue>;
  metricName: string;
  /** Search-fidelity score on the validation split (same as the search trials). */
  metric: number;
  /** Official dev-set score(s) at full fidelity when retrained. */
  devValues?: number[];
  paramPct: number;
}

export const SETUP_KEY = 'autopeft';

/**
 * How the study's trials are run and how many it aims for: written by every `autopeft search`
 * (also `--workers 0`, which only creates the study), read by `autopeft worker`.
 */
export interface SearchPlan {
  /** Trials the study should hold in the end (all workers together). */
  trials: number;
  nInit: number;
  /** Configurations proposed per sampler call. */
  batch: number;
  /** Trials run by this shell command instead of our trainer (docs/distributed.md). */
  trialCmd?: string;
  trialTimeoutMs?: number;
}

export const PLAN_KEY = 'plan';

/** The plan of a search study; a usage error naming the fix when `search` never recorded one. */
export function readPlan(record: Pick<StudyRecord, 'name' | 'systemAttrs'>): SearchPlan {
  const p = record.systemAttrs[PLAN_KEY];
  if (p === undefined || p === null || typeof p !== 'object' || Array.isArray(p) || typeof p.trials !== 'number') {
    throw new UsageError(
      `study "${record.name}" has no run plan (trials, batch); create it with \`autopeft search ... --workers 0\` (or run a search on it once)`,
    );
  }
  return p as unknown as SearchPlan;
}

/** The search setup of a study made by `autopeft search` (a usage error for any other study). */
export function readSetup(record: Pick<StudyRecord, 'name' | 'systemAttrs'>): SearchSetup {
  const s = record.systemAttrs[SETUP_KEY];
  if (s === undefined || s === null || typeof s !== 'object' || Array.isArray(s)) {
    throw new UsageError(
      `study "${record.name}" was not created by \`autopeft search\` (no "${SETUP_KEY}" system attributes)`,
    );
  }
  return s as unknown as SearchSetup;
}

export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, n);
  // NOTE: sample standard deviation (n - 1), as papers report over seeds; 0 for one seed.
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std };
}
