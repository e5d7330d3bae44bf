/**
 * What the dashboard's JSON endpoints return, computed from a storage through its read methods
 * only: study summaries, one study's trials with the Pareto front, hypervolume history, parameter
 * importance and the follow-up results (retrain / baselines / transfer) with dominance statements.
 */
import type { Storage, StudyRecord, TrialRecord } from '../storage/index.js';
import type { AttrValue, Config, Direction, TrialState } from '../search/index.js';
import { hypervolumeWithDirections, inferReferencePoint, paretoFrontIndices, toMinimization } from '../search/index.js';
import {
  meanStd,
  readSetup,
  type BaselineRecord,
  type RetrainRecord,
  type SearchSetup,
  type TransferRecord,
} from '../pipeline/index.js';

/** The read-only slice of a storage the dashboard is given: no method here can change a study. */
export type ReadOnlyStorage = Pick<
  Storage,
  'location' | 'listStudies' | 'studyMarkers' | 'findStudy' | 'listTrials' | 'close'
>;

/** A study as read once: its record and its trials (what every view is computed from). */
export interface LoadedStudy {
  record: StudyRecord;
  trials: TrialRecord[];
}

const TRIAL_STATES: readonly TrialState[] = ['COMPLETE', 'RUNNING', 'WAITING', 'FAILED', 'PRUNED'];

export interface StudySummary {
  name: string;
  task: string | null;
  model: string | null;
  sampler: string | null;
  directions: Direction[];
  objectiveNames: string[];
  createdAt: number;
  counts: Record<TrialState, number>;
  total: number;
  /** Hypervolume of the complete trials on the study's own inferred reference point (null: none complete). */
  hypervolume: number | null;
  bestMetric: number | null;
  /** Latest creation/finish time of any trial (ms), for "last activity". */
  lastActivity: number | null;
}

/** One point of a learning curve: the trainer's per-epoch (or per-step) validation metric and loss. */
export interface CurvePoint {
  step: number;
  metric?: number;
  loss?: number;
}

export interface DashTrial {
  number: number;
  state: TrialState;
  config: Config;
  /** Objective 0 (the task metric) and objective 1 (param %), COMPLETE trials only. */
  metric?: number;
  paramPct?: number;
  reason?: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  heartbeatAt?: number;
  workerId?: string;
  durationMs?: number;
  /** Trial user attributes the search stores (description, metrics, trainSeconds, epochs, ...). */
  attrs: Record<string, AttrValue>;
  /** From the `intermediateValues` or `history` user attribute, when the trainer stored one. */
  curve: CurvePoint[];
}

export interface HypervolumePoint {
  /** Number of complete trials so far. */
  complete: number;
  trial: number;
  finishedAt: number | null;
  value: number;
}

export interface Importance {
  method: string;
  target: string;
  params: { name: string; importance: number; levels: number }[];
}

export interface Dominance {
  split: 'search' | 'dev';
  baseline: string;
  baselinePct: number;
  baselineMetric: number;
  baselineStd?: number;
  dominated: { trial: number; paramPct: number; metric: number; std?: number }[];
}

export interface StudyDetail extends StudySummary {
  metricName: string;
  numLayers: number;
  refPoint: [number, number] | null;
  trials: DashTrial[];
  front: number[];
  hypervolumeHistory: HypervolumePoint[];
  importance: Importance;
  retrain: RetrainRecord[];
  baselines: BaselineRecord[];
  transfer: Record<string, TransferRecord[]>;
  dominance: Dominance[];
  /** One sentence per split saying which baselines dominate which front configurations. */
  statements: string[];
}

function setupOf(record: StudyRecord): SearchSetup | null {
  try {
    return readSetup(record);
  } catch {
    return null;
  }
}

const isObj = (v: AttrValue | undefined): v is { [k: string]: AttrValue } =>
  v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
const num = (v: AttrValue | undefined): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

/**
 * The learning curve a trial stored, in either shape: `intermediateValues` (optuna's step -> value,
 * an object or an array) or `history` (the trainer's per-epoch records `{epoch, metric, loss}`).
 */
export function curveOf(attrs: Record<string, AttrValue>): CurvePoint[] {
  const iv = attrs['intermediateValues'];
  const out: CurvePoint[] = [];
  if (Array.isArray(iv)) {
    for (const [i, v] of iv.entries()) if (num(v) !== undefined) out.push({ step: i + 1, metric: num(v)! });
  } else if (isObj(iv))
    for (const [k, v] of Object.entries(iv))
      if (Number.isFinite(Number(k)) && num(v) !== undefined) out.push({ step: Number(k), metric: num(v)! });
  const h = attrs['history'];
  if (out.length === 0 && Array.isArray(h))
    h.forEach((r, i) => {
      if (!isObj(r)) return;
      const p: CurvePoint = { step: num(r['epoch']) ?? num(r['step']) ?? i + 1 };
      const m = num(r['metric']);
      const l = num(r['loss']);
      if (m !== undefined) p.metric = m;
      if (l !== undefined) p.loss = l;
      if (m !== undefined || l !== undefined) out.push(p);
    });
  return out.sort((a, b) => a.step - b.step);
}

export function dashTrial(t: TrialRecord): DashTrial {
  const d: DashTrial = {
    number: t.number,
    state: t.state,
    config: { ...t.config },
    createdAt: t.createdAt,
    attrs: { ...t.userAttrs },
    // The values the trial reported while it ran (stored by the storage), else what its attributes hold.
    curve: t.intermediateValues?.length
      ? t.intermediateValues.map((p) => ({ step: p.step, metric: p.value }))
      : curveOf(t.userAttrs),
  };
  if (t.state === 'COMPLETE' && t.values) {
    d.metric = t.values[0]!;
    if (t.values.length > 1) d.paramPct = t.values[1]!;
  }
  if (t.reason !== undefined) d.reason = t.reason;
  if (t.startedAt !== undefined) d.startedAt = t.startedAt;
  if (t.finishedAt !== undefined) d.finishedAt = t.finishedAt;
  if (t.heartbeatAt !== undefined) d.heartbeatAt = t.heartbeatAt;
  if (t.workerId !== undefined) d.workerId = t.workerId;
  if (t.startedAt !== undefined && t.finishedAt !== undefined && t.finishedAt >= t.startedAt)
    d.durationMs = t.finishedAt - t.startedAt;
  return d;
}

const completeOf = (trials: readonly TrialRecord[]) =>
  trials.filter((t) => t.state === 'COMPLETE' && t.values && t.values.length >= 2 && t.values.every(Number.isFinite));

/** Reference point in natural orientation: the Pareto front's nadir plus 10% of its range (as the report's). */
function inferRef(values: readonly (readonly number[])[], dirs: readonly Direction[]): number[] {
  const ref = inferReferencePoint(toMinimization(values as number[][], [...dirs]));
  return ref.map((r, j) => (dirs[j] === 'maximize' ? -r : r));
}

/**
 * Hypervolume after each completed trial (in finish order) on `ref`. A set's hypervolume is its
 * Pareto front's (the 2-D sweep adds the same strips in the same order), so each step only updates
 * the front so far: a point no better than one on it leaves the value as it was, any other joins it
 * and drops the points it matches or beats. O(n·front) rather than O(n² log n), the same numbers.
 */
export function hypervolumeHistory(
  complete: readonly TrialRecord[],
  dirs: readonly Direction[],
  ref: readonly number[],
): HypervolumePoint[] {
  const byFinish = [...complete].sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0) || a.number - b.number);
  const two = dirs.slice(0, 2);
  const out: HypervolumePoint[] = [];
  /** The front so far: natural values and the same in minimization orientation. */
  let front: { v: number[]; m: number[] }[] = [];
  let value = 0;
  for (const [k, t] of byFinish.entries()) {
    const v = t.values!.slice(0, 2);
    const [m] = toMinimization([v], two);
    const noBetter = (a: number[], b: number[]) => a[0]! <= b[0]! && a[1]! <= b[1]!;
    if (!front.some((f) => noBetter(f.m, m!))) {
      front = [...front.filter((f) => !noBetter(m!, f.m)), { v, m: m! }];
      value = hypervolumeWithDirections(
        front.map((f) => f.v),
        two,
        ref,
      );
    }
    out.push({ complete: k + 1, trial: t.number, finishedAt: t.finishedAt ?? null, value });
  }
  return out;
}

function counts(trials: readonly TrialRecord[]): Record<TrialState, number> {
  const c = Object.fromEntries(TRIAL_STATES.map((s) => [s, 0])) as Record<TrialState, number>;
  for (const t of trials) c[t.state]++;
  return c;
}

export function summaryOf(record: StudyRecord, trials: readonly TrialRecord[]): StudySummary {
  const setup = setupOf(record);
  const dirs = [...record.directions];
  const complete = completeOf(trials);
  let hv: number | null = null;
  let best: number | null = null;
  if (complete.length > 0 && dirs.length >= 2) {
    const vals = complete.map((t) => t.values!.slice(0, 2));
    hv = hypervolumeWithDirections(vals, dirs.slice(0, 2), inferRef(vals, dirs.slice(0, 2)));
    const ms = complete.map((t) => t.values![0]!);
    best = dirs[0] === 'maximize' ? Math.max(...ms) : Math.min(...ms);
  }
  const times = trials.flatMap((t) => [t.createdAt, t.finishedAt ?? 0]);
  return {
    name: record.name,
    task: setup?.task ?? null,
    model: setup?.model ?? null,
    sampler: setup?.sampler ?? null,
    directions: dirs,
    objectiveNames: [...record.objectiveNames],
    createdAt: record.createdAt,
    counts: counts(trials),
    total: trials.length,
    hypervolume: hv,
    bestMetric: best,
    lastActivity: times.length > 0 ? Math.max(...times) : null,
  };
}

export async function listStudySummaries(storage: ReadOnlyStorage): Promise<StudySummary[]> {
  const out: StudySummary[] = [];
  for (const r of await storage.listStudies()) out.push(summaryOf(r, await storage.listTrials(r.name)));
  return out;
}

/**
 * Parameter importance as the share of the metric's variance explained by each parameter alone:
 * the main-effect terms of a functional ANOVA over the observed trials, estimated by ε² (the
 * bias-corrected correlation ratio, so a parameter unrelated to the metric scores ~0 even with few
 * trials). Numeric parameters with more than 6 distinct values are cut into 5 quantile bins.
 */
export function parameterImportance(configs: readonly Config[], ys: readonly number[], target: string): Importance {
  const method = 'functional-ANOVA main effects (ε², bias-corrected share of metric variance per parameter)';
  const n = ys.length;
  const keys = [...new Set(configs.flatMap((c) => Object.keys(c)))].sort();
  const mean = ys.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const ssT = ys.reduce((a, y) => a + (y - mean) ** 2, 0);
  const params = keys.map((name) => {
    const raw = configs.map((c) => c[name]);
    const distinct = [...new Set(raw.map((v) => String(v)))];
    let group: (i: number) => string = (i) => String(raw[i]);
    if (distinct.length > 6 && raw.every((v) => typeof v === 'number')) {
      const sorted = (raw as number[]).slice().sort((a, b) => a - b);
      const cuts = [1, 2, 3, 4].map((q) => sorted[Math.floor((q * n) / 5)]!);
      group = (i) => String(cuts.filter((c) => (raw[i] as number) >= c).length);
    }
    const groups = new Map<string, number[]>();
    ys.forEach((y, i) => {
      const g = group(i);
      const arr = groups.get(g);
      if (arr) arr.push(y);
      else groups.set(g, [y]);
    });
    const k = groups.size;
    let importance = 0;
    if (k >= 2 && n > k && ssT > 0) {
      let ssB = 0;
      for (const g of groups.values()) {
        const m = g.reduce((a, b) => a + b, 0) / g.length;
        ssB += g.length * (m - mean) ** 2;
      }
      const msW = (ssT - ssB) / (n - k);
      importance = Math.max(0, (ssB - (k - 1) * msW) / (ssT + msW));
    }
    return { name, importance, levels: k };
  });
  params.sort((a, b) => b.importance - a.importance || a.name.localeCompare(b.name));
  return { method, target, params };
}

const better = (dir: Direction, a: number, b: number) => (dir === 'maximize' ? a >= b : a <= b);

/**
 * Baselines that dominate front configurations at matched param %: a baseline with no more
 * parameters and at least as good a metric (one of the two strictly). On the search split the
 * front's search scores face the baselines' search scores; on the dev set the re-trained means face
 * the baselines' dev means.
 */
export function dominanceOf(
  dir: Direction,
  front: readonly { trial: number; paramPct: number; metric: number; std?: number }[],
  baselines: readonly { method: string; paramPct: number; metric: number; std?: number }[],
  split: 'search' | 'dev',
): Dominance[] {
  const out: Dominance[] = [];
  for (const b of baselines) {
    const dominated = front.filter(
      (f) =>
        b.paramPct <= f.paramPct &&
        better(dir, b.metric, f.metric) &&
        (b.paramPct < f.paramPct || b.metric !== f.metric),
    );
    if (dominated.length === 0) continue;
    out.push({
      split,
      baseline: b.method,
      baselinePct: b.paramPct,
      baselineMetric: b.metric,
      ...(b.std !== undefined ? { baselineStd: b.std } : {}),
      dominated: dominated.map((f) => ({ ...f })),
    });
  }
  return out;
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Number(x.toPrecision(3)).toString());
const fmtPct = (x: number) => `${x >= 1 ? x.toFixed(2) : Number(x.toPrecision(2)).toString()} %`;
const withStd = (m: number, s?: number) => (s === undefined ? fmt(m) : `${fmt(m)} ± ${fmt(s)}`);

/** Plain sentences for the dominance results of one split (one when nothing dominates). */
export function dominanceStatements(
  doms: readonly Dominance[],
  split: 'search' | 'dev',
  baselineCount: number,
): string[] {
  const where = split === 'dev' ? 'on the official dev set (re-trained means)' : 'on the search validation split';
  if (baselineCount === 0) return [];
  const mine = doms.filter((d) => d.split === split);
  if (mine.length === 0) return [`No baseline dominates a front configuration ${where}.`];
  return mine.map((d) => {
    const list = d.dominated.map((f) => `#${f.trial} (${fmtPct(f.paramPct)}, ${withStd(f.metric, f.std)})`).join(', ');
    const within = d.dominated.every((f) => f.std !== undefined && d.baselineStd !== undefined)
      ? d.dominated.every((f) => Math.abs(d.baselineMetric - f.metric) <= Math.max(f.std!, d.baselineStd!))
        ? '; every gap is within one standard deviation'
        : ''
      : '';
    return `${where[0]!.toUpperCase()}${where.slice(1)}: baseline ${d.baseline} (${fmtPct(d.baselinePct)}, ${withStd(d.baselineMetric, d.baselineStd)}) dominates front configuration${d.dominated.length > 1 ? 's' : ''} ${list}${within}.`;
  });
}

/** Everything one study's page shows; `undefined` when the study does not exist. */
export async function studyDetail(storage: ReadOnlyStorage, name: string): Promise<StudyDetail | undefined> {
  const record = await storage.findStudy(name);
  return record ? detailOf(record, await storage.listTrials(name)) : undefined;
}

/** Everything one study's page shows, from the study as read. */
export function detailOf(record: StudyRecord, trials: readonly TrialRecord[]): StudyDetail {
  const summary = summaryOf(record, trials);
  const setup = setupOf(record);
  const dirs = record.directions.slice(0, 2) as Direction[];
  const complete = completeOf(trials);
  let ref: [number, number] | null = null;
  let front: TrialRecord[] = [];
  let history: HypervolumePoint[] = [];
  if (complete.length > 0 && dirs.length === 2) {
    const vals = complete.map((t) => t.values!.slice(0, 2));
    const r = inferRef(vals, dirs);
    ref = [r[0]!, r[1]!];
    front = paretoFrontIndices(toMinimization(vals, dirs))
      .map((i) => complete[i]!)
      .sort((a, b) => a.values![1]! - b.values![1]! || a.number - b.number);
    history = hypervolumeHistory(complete, dirs, ref);
  }
  const attrs = record.systemAttrs;
  const retrain = (Array.isArray(attrs['retrain']) ? attrs['retrain'] : []) as unknown as RetrainRecord[];
  const baselines = (Array.isArray(attrs['baselines']) ? attrs['baselines'] : []) as unknown as BaselineRecord[];
  const transfer = (isObj(attrs['transfer']) ? attrs['transfer'] : {}) as unknown as Record<string, TransferRecord[]>;
  const metricName =
    (complete.map((t) => t.userAttrs['metricName']).find((m) => typeof m === 'string') as string | undefined) ??
    record.objectiveNames[0] ??
    'metric';
  const dir = dirs[0] ?? 'maximize';
  const searchDom = dominanceOf(
    dir,
    front.map((t) => ({ trial: t.number, paramPct: t.values![1]!, metric: t.values![0]! })),
    baselines.map((b) => ({ method: b.method, paramPct: b.paramPct, metric: b.metric })),
    'search',
  );
  const devBaselines = baselines
    .filter((b) => b.devValues && b.devValues.length > 0)
    .map((b) => {
      const { mean, std } = meanStd(b.devValues!);
      return { method: b.method, paramPct: b.paramPct, metric: mean, std };
    });
  const devDom = dominanceOf(
    dir,
    retrain.map((r) => ({ trial: r.trial, paramPct: r.paramPct, metric: r.mean, std: r.std })),
    devBaselines,
    'dev',
  );
  const dominance = [...searchDom, ...devDom];
  return {
    ...summary,
    metricName,
    numLayers: setup?.numLayers ?? Object.keys(trials[0]?.config ?? {}).filter((k) => /^layer_\d+$/.test(k)).length,
    refPoint: ref,
    trials: trials.map(dashTrial),
    front: front.map((t) => t.number),
    hypervolumeHistory: history,
    importance: parameterImportance(
      complete.map((t) => t.config),
      complete.map((t) => t.values![0]!),
      metricName,
    ),
    retrain,
    baselines,
    transfer,
    dominance,
    statements: [
      ...dominanceStatements(dominance, 'search', baselines.length),
      ...(retrain.length > 0 ? dominanceStatements(dominance, 'dev', devBaselines.length) : []),
    ],
  };
}

export interface HypervolumeOverlay {
  /** One reference point for every study, inferred from all their complete trials together. */
  refPoint: [number, number] | null;
  series: { study: string; sampler: string | null; points: HypervolumePoint[] }[];
}

/**
 * Hypervolume histories of several studies on one shared reference point, so their curves compare
 * (each study's own inferred point would differ). Studies must share the objective directions;
 * unknown names are skipped.
 */
export async function hypervolumeOverlay(
  storage: ReadOnlyStorage,
  names: readonly string[],
): Promise<HypervolumeOverlay> {
  const studies: LoadedStudy[] = [];
  for (const n of names) {
    const record = await storage.findStudy(n);
    if (record && record.directions.length >= 2) studies.push({ record, trials: await storage.listTrials(n) });
  }
  return overlayOf(studies);
}

/** `hypervolumeOverlay` of studies as read (in the order given; ones with fewer than 2 objectives are skipped). */
export function overlayOf(studies: readonly LoadedStudy[]): HypervolumeOverlay {
  const loaded = studies
    .filter((l) => l.record.directions.length >= 2)
    .map((l) => ({ record: l.record, complete: completeOf(l.trials) }));
  const dirs = (loaded[0]?.record.directions.slice(0, 2) ?? []) as Direction[];
  const same = loaded.filter((l) => l.record.directions[0] === dirs[0] && l.record.directions[1] === dirs[1]);
  const all = same.flatMap((l) => l.complete.map((t) => t.values!.slice(0, 2)));
  if (all.length === 0)
    return {
      refPoint: null,
      series: same.map((l) => ({ study: l.record.name, sampler: setupOf(l.record)?.sampler ?? null, points: [] })),
    };
  const r = inferRef(all, dirs);
  const ref: [number, number] = [r[0]!, r[1]!];
  return {
    refPoint: ref,
    series: same.map((l) => ({
      study: l.record.name,
      sampler: setupOf(l.record)?.sampler ?? null,
      points: hypervolumeHistory(l.complete, dirs, ref),
    })),
  };
}
