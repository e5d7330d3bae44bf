/**
 * What happens after a search: re-train the Pareto front at full fidelity with several seeds,
 * train single-method baselines the same ways, and transfer the front to other tasks. Results are
 * stored on the search study (system attrs `retrain`, `baselines`, `transfer`) so `report` shows them.
 */
import type { Storage } from '../storage/types.js';
import type { AttrValue, Config } from '../search/types.js';
import { paretoFrontIndices, toMinimization } from '../search/pareto/index.js';
import { parsePeftConfig, type PeftConfig, type SerialAdapterForm } from '../peft/config.js';
import type { ParamDenominator } from '../peft/params.js';
import type { MetricName } from '../data/tasks/types.js';
import type { TrialResult, TrialSpec } from '../train/trial.js';
import { UsageError } from '../core/errors.js';
import type { ClassifierHead, PairEncoding } from '../models/types.js';
import {
  meanStd,
  readSetup,
  setupPairEncoding,
  setupPeft,
  setupProtocol,
  type BaselineRecord,
  type RetrainRecord,
  type SearchSetup,
} from './attrs.js';
import { runTrials, type BatchEvents } from './batch.js';

export interface FollowupOptions {
  storage: Storage;
  study: string;
  /** Full-fidelity training (epochs, lr, ...; seed is replaced per run). */
  hyper: TrialSpec['hyper'];
  /** Training-set limit of these runs (default: the whole training split). */
  fidelity?: TrialSpec['fidelity'];
  seeds: number;
  workers: number;
  threadsPerWorker?: number;
  events?: BatchEvents;
  /** Overrides of the study's trial settings (each absent: the study's; the metric: see each function). */
  protocol?: FollowupProtocol;
}

export interface FollowupProtocol {
  metric?: MetricName;
  head?: ClassifierHead;
  paramDenominator?: ParamDenominator;
  saForm?: SerialAdapterForm;
}

/** How these runs score, build and count a trial: `over` where given, else the study's settings. */
function runProtocol(setup: SearchSetup, over: FollowupProtocol = {}, metric = over.metric ?? setup.metric) {
  const p = setupProtocol(setup);
  return {
    ...(metric !== undefined ? { metric } : {}),
    head: over.head ?? p.head,
    paramDenominator: over.paramDenominator ?? p.paramDenominator,
    saForm: over.saForm ?? p.saForm,
  };
}
type RunProtocol = ReturnType<typeof runProtocol>;

export async function frontTrials(storage: Storage, study: string, only?: readonly number[]) {
  const trials = (await storage.listTrials(study, { states: ['COMPLETE'] })).filter((t) =>
    t.values?.every(Number.isFinite),
  );
  if (trials.length === 0) throw new UsageError(`study "${study}" has no complete trials; run the search first`);
  if (only && only.length > 0) {
    return only.map((n) => {
      const t = trials.find((x) => x.number === n);
      if (!t) throw new UsageError(`--trials: trial ${n} is not a complete trial of study "${study}"`);
      return t;
    });
  }
  const idx = paretoFrontIndices(
    toMinimization(
      trials.map((t) => t.values!),
      ['maximize', 'minimize'],
    ),
  );
  return idx.map((i) => trials[i]!).sort((a, b) => a.values![1]! - b.values![1]!);
}

function specFor(
  setup: SearchSetup,
  protocol: RunProtocol,
  peft: PeftConfig,
  hyper: TrialSpec['hyper'],
  seed: number,
  fidelity?: TrialSpec['fidelity'],
  task = setup.task,
  dataDir = setup.dataDir,
  pairEncoding = setupPairEncoding(setup),
): TrialSpec {
  return {
    model: setup.model,
    task,
    ...(dataDir !== undefined ? { dataDir } : {}),
    peft,
    hyper: { ...hyper, seed },
    ...(fidelity ? { fidelity } : {}),
    reportDev: true,
    pairEncoding,
    ...(protocol.metric !== undefined ? { metric: protocol.metric } : {}),
    head: protocol.head,
    paramDenominator: protocol.paramDenominator,
  };
}

function collect(results: (TrialResult | Error)[], from: number, n: number, what: string): TrialResult[] {
  const out: TrialResult[] = [];
  for (let i = from; i < from + n; i++) {
    const r = results[i]!;
    if (r instanceof Error) throw new UsageError(`${what} failed: ${r.message.split('\n')[0]}`);
    out.push(r);
  }
  return out;
}

/** Re-trains front (or chosen) trials with `seeds` seeds; stores and returns mean ± std on dev. */
export async function retrainFront(o: FollowupOptions & { trials?: readonly number[] }): Promise<RetrainRecord[]> {
  const setup = readSetup(await o.storage.getStudy(o.study));
  const front = await frontTrials(o.storage, o.study, o.trials);
  const p = runProtocol(setup, o.protocol);
  const specs = front.flatMap((t) =>
    Array.from({ length: o.seeds }, (_, s) =>
      specFor(setup, p, setupPeft(setup, t.config, p.saForm), o.hyper, o.hyper.seed + s, o.fidelity),
    ),
  );
  const results = await runTrials(specs, o.workers, o.events, o.threadsPerWorker);
  const records = front.map((t, k) => {
    const rs = collect(results, k * o.seeds, o.seeds, `re-training trial ${t.number}`);
    const values = rs.map((r) => r.devMetric!);
    return { trial: t.number, metricName: rs[0]!.metricName, values, ...meanStd(values), paramPct: rs[0]!.paramPct };
  });
  await o.storage.setStudySystemAttrs(o.study, { retrain: records as unknown as AttrValue });
  return records;
}

export interface BaselineSpec {
  method: string;
  config: Record<string, AttrValue>;
  fullFineTune?: boolean;
}

/** Single-method baselines for a backbone of hidden size H: each method alone in every layer, at two sizes. */
export function defaultBaselines(hidden: number, full: boolean): BaselineSpec[] {
  const small = Math.max(1, Math.round(hidden / 64));
  const big = Math.max(2, Math.round(hidden / 8));
  const b: BaselineSpec[] = [
    { method: `SA ${small}`, config: { sa: small } },
    { method: `SA ${big}`, config: { sa: big } },
    { method: `PA ${small}`, config: { pa: small } },
    { method: `PA ${big}`, config: { pa: big } },
    { method: 'PT 4', config: { pt: 4 } },
    { method: 'PT 16', config: { pt: 16 } },
    { method: 'LoRA 2', config: { lora: 2 } },
    { method: 'LoRA 8', config: { lora: 8 } },
  ];
  if (full) b.push({ method: 'full FT', config: {}, fullFineTune: true });
  return b;
}

/**
 * Trains each baseline at the search's own fidelity (scored on the validation split, like the
 * trials: same chart) and, with `seeds` > 0, at full fidelity on the official dev set.
 */
export async function runBaselines(o: FollowupOptions & { baselines: BaselineSpec[] }): Promise<BaselineRecord[]> {
  const setup = readSetup(await o.storage.getStudy(o.study));
  // The search-fidelity runs share the study's chart: they train, score and count as its trials did;
  // the full-fidelity runs take the overrides.
  const asStudy = runProtocol(setup);
  const full_ = runProtocol(setup, o.protocol);
  // A baseline's config is the `--peft` JSON form ({"sa": 8}: every layer); checked like `--peft`.
  const peftOf = (b: BaselineSpec, saForm: SerialAdapterForm) =>
    parsePeftConfig({ ...b.config, saForm }, setup.numLayers, `baseline ${b.method}`);
  const low: TrialSpec[] = o.baselines.map((b) => ({
    ...specFor(setup, asStudy, peftOf(b, asStudy.saForm), setup.hyper, setup.seed, setup.fidelity),
    reportDev: false,
    ...(b.fullFineTune ? { fullFineTune: true } : {}),
  }));
  const full: TrialSpec[] = o.baselines.flatMap((b) =>
    Array.from({ length: o.seeds }, (_, s) => ({
      ...specFor(setup, full_, peftOf(b, full_.saForm), o.hyper, o.hyper.seed + s, o.fidelity),
      ...(b.fullFineTune ? { fullFineTune: true } : {}),
    })),
  );
  const results = await runTrials([...low, ...full], o.workers, o.events, o.threadsPerWorker);
  const records: BaselineRecord[] = o.baselines.map((b, k) => {
    const [lr] = collect(results, k, 1, `baseline ${b.method}`);
    const dev =
      o.seeds > 0
        ? collect(results, low.length + k * o.seeds, o.seeds, `baseline ${b.method}`).map((r) => r.devMetric!)
        : undefined;
    return {
      method: b.method,
      config: b.config,
      metricName: lr!.metricName,
      metric: lr!.metric,
      paramPct: lr!.paramPct,
      ...(dev ? { devValues: dev } : {}),
    };
  });
  await o.storage.setStudySystemAttrs(o.study, { baselines: records as unknown as AttrValue });
  return records;
}

export interface TransferRecord {
  trial: number;
  config: Config;
  sourceMetric: number;
  paramPct: number;
  metricName: string;
  values: number[];
  mean: number;
  std: number;
}

/** Trains the front of `study` on another task; stores the results under `transfer.<task>`. */
export async function transferFront(
  o: FollowupOptions & {
    task: string;
    dataDir?: string;
    trials?: readonly number[];
    /** The new task's pair encoding (default: the study's). */
    pairEncoding?: PairEncoding;
  },
): Promise<TransferRecord[]> {
  const record = await o.storage.getStudy(o.study);
  const setup = readSetup(record);
  const front = await frontTrials(o.storage, o.study, o.trials);
  // Another task: its own main metric unless one is given (the study's metric belongs to its task).
  const p = runProtocol(setup, o.protocol, o.protocol?.metric);
  const specs = front.flatMap((t) =>
    Array.from({ length: o.seeds }, (_, s) =>
      specFor(
        setup,
        p,
        setupPeft(setup, t.config, p.saForm),
        o.hyper,
        o.hyper.seed + s,
        o.fidelity,
        o.task,
        o.dataDir ?? setup.dataDir,
        o.pairEncoding ?? setupPairEncoding(setup),
      ),
    ),
  );
  const results = await runTrials(specs, o.workers, o.events, o.threadsPerWorker);
  const out = front.map((t, k) => {
    const rs = collect(results, k * o.seeds, o.seeds, `transferring trial ${t.number}`);
    const values = rs.map((r) => r.devMetric!);
    return {
      trial: t.number,
      config: t.config,
      sourceMetric: t.values![0]!,
      paramPct: rs[0]!.paramPct,
      metricName: rs[0]!.metricName,
      values,
      ...meanStd(values),
    };
  });
  const prev = (record.systemAttrs['transfer'] ?? {}) as Record<string, AttrValue>;
  await o.storage.setStudySystemAttrs(o.study, { transfer: { ...prev, [o.task]: out as unknown as AttrValue } });
  return out;
}
