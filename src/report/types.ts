/**
 * Inputs and outputs of the study report renderer. The CLI computes everything here (front,
 * hypervolume trace, reference point) with the search room and hands it over: the renderer only
 * draws and formats, it never re-derives search results.
 */
import type { Config, Direction, TrialState } from '../search/types.js';

export type { Config, Direction, TrialState } from '../search/types.js';

/** One of the two objectives, in the study's objective order: [metric, paramPct]. */
export interface ReportObjective {
  /** Stored objective name, e.g. "accuracy" or "paramPct". */
  name: string;
  direction: Direction;
  /** Axis/column label, e.g. "dev accuracy (validation split)"; defaults to `name`. */
  label?: string;
}

/** One trial as the report shows it. `metric`/`paramPct` are present iff `state` is COMPLETE. */
export interface ReportTrial {
  number: number;
  state: TrialState;
  /** Task metric on the search's validation split (objective 0). */
  metric?: number;
  /** 100 x PEFT params / backbone params (objective 1). */
  paramPct?: number;
  /**
   * The configuration. AutoPEFT configs use `layer_0..layer_{L-1}` (booleans, the layer mask),
   * `sa`, `pa`, `pt` (sizes, 0 = off) and optionally `lora` (rank); other keys are shown as is.
   */
  config: Config;
  /** Wall-clock training time of the trial in milliseconds. */
  durationMs?: number;
  /** Why the trial FAILED or was PRUNED. */
  reason?: string;
  /** The learning curve the trial reported while it ran (objective 0 after `step`, e.g. examples seen). */
  intermediateValues?: { step: number; value: number }[];
  /** PRUNED trials: the step (rung) at which the pruner stopped it. */
  prunedAt?: number;
}

/**
 * A single-method baseline (serial adapter, LoRA r=8, full fine-tuning, ...).
 * `split` says which chart it belongs on: `search` = the same validation split and fidelity as the
 * trials (scatter chart), `dev` = the official dev set at full fidelity (retrain chart).
 */
export interface BaselinePoint {
  /** Family, one marker shape per family, e.g. "serial adapter", "LoRA", "full fine-tuning". */
  method: string;
  /** The variant within the family, e.g. "r=8" or "D=48". */
  label?: string;
  metric: number;
  /** Standard deviation over seeds, drawn as an error bar. */
  metricStd?: number;
  seeds?: number;
  paramPct: number;
  split: 'search' | 'dev';
}

/** A front configuration re-trained at full fidelity with several seeds. */
export interface RetrainResult {
  /** Trial number of the front configuration. */
  trial: number;
  mean: number;
  std: number;
  /** Number of seeds the mean/std are over. */
  seeds: number;
  /** The per-seed scores, when kept. */
  values?: number[];
}

export interface RetrainData {
  /** Where the scores come from, e.g. "SST-2 official dev set". */
  split: string;
  /** Name of the re-trained metric (default: the first objective's label). */
  metricLabel?: string;
  results: RetrainResult[];
}

/** One front configuration trained on another task (`autopeft transfer`), mean ± std over seeds. */
export interface TransferResult {
  /** Trial number of the source study's front configuration. */
  trial: number;
  paramPct: number;
  mean: number;
  std: number;
  seeds: number;
  values?: number[];
  /** The configuration's search score on the source task. */
  sourceMetric?: number;
}

/** Transfer results on one target task. */
export interface TransferData {
  task: string;
  /** Name of the target task's metric, e.g. "accuracy". */
  metricLabel?: string;
  /** Where the scores come from, e.g. "official dev set". */
  split?: string;
  results: TransferResult[];
}

/** Everything one report shows. Plain JSON. */
export interface ReportData {
  study: string;
  task: string;
  model: string;
  /** Exactly two: [metric (usually maximize), paramPct (usually minimize)]. */
  objectives: [ReportObjective, ReportObjective];
  trials: ReportTrial[];
  /** Trial numbers of the Pareto front (each a COMPLETE trial). */
  front: number[];
  /** Hypervolume of the front after each completed trial, in completion order (length = #COMPLETE). */
  hypervolume: number[];
  /** Reference point of the hypervolume, in objective order [metric, paramPct]. */
  refPoint: [number, number];
  baselines?: BaselinePoint[];
  retrain?: RetrainData;
  /** The front transferred to other tasks, one entry per target task. */
  transfer?: TransferData[];
  /**
   * How the study encodes sentence pairs (its search setup's `pairEncoding`; older setups recorded
   * none: `cross`): `cross` = one sequence `a </s> b`, `siamese` = each text on its own through the
   * shared encoder and PEFT modules, the head over both vectors. Absent: not shown (single-text tasks).
   */
  pairEncoding?: PairEncoding;
  /** Free key/value lines for the summary (sampler, fidelity, seed, generated-at ...). */
  settings?: Record<string, string | number>;
}

export const PAIR_ENCODING_VALUES = ['cross', 'siamese'] as const;
export type PairEncoding = (typeof PAIR_ENCODING_VALUES)[number];

/** Rendering choices that are not data. */
export interface ReportOptions {
  /**
   * Log-scale x axis (param %) in the scatter and retrain charts. `auto` (default) uses log when
   * every x is > 0 and max/min >= 30, since param % often spans orders of magnitude.
   */
  logX?: boolean | 'auto';
  /**
   * SVG -> PNG rasteriser. When given, writeReport also writes `<chart>.png` beside each SVG (the
   * renderer itself stays dependency-free; e.g. pass `(svg) => new Resvg(svg).render().asPng()`
   * from @resvg/resvg-js).
   */
  rasterize?: (svg: string) => Uint8Array;
}

/** The machine-readable summary (report.json, and the last line of `autopeft report --json`). */
export interface ReportJson {
  study: string;
  trials: { complete: number; failed: number };
  /** Hypervolume after the last completed trial (0 when there is none). */
  hypervolume: number;
  refPoint: [number, number];
  /** The front, sorted by paramPct ascending then trial number. */
  front: { trial: number; metric: number; paramPct: number; config: Config }[];
  /** Every trial, whatever its state, in trial-number order. */
  allTrials: ReportTrial[];
  /** Hypervolume after each completed trial, in completion order (on `refPoint`). */
  hypervolumeHistory: number[];
  /** The study's pair encoding (pair tasks only; see ReportData.pairEncoding). */
  pairEncoding?: PairEncoding;
  /** Present when the study has them. */
  baselines?: BaselinePoint[];
  retrain?: RetrainData;
  transfer?: TransferData[];
}
