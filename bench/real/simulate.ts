/**
 * Replays searches on the recorded-trials table (./table.ts): a sampler proposes configurations of
 * the table's reduced AutoPEFT space; an evaluation returns ONE recorded seed's validation accuracy
 * at the fidelity the strategy asks for (real noise: the seed is drawn per (run seed, config,
 * repeat)); quality is the hypervolume of the TRUE scores (official dev accuracy at the top fidelity,
 * mean over seeds, never shown to a sampler) of every configuration evaluated so far, divided by
 * the hypervolume of the table's own best front.
 *
 * Paired design: every strategy of run seed s starts from the same `nInit` configurations with the
 * same observations, and later evaluations of the same configuration draw the same recorded seed
 * in every strategy, so the differences between strategies are the strategies'.
 */
import type { Config, FrozenTrial, ObjectiveSpec, Sampler } from '../../src/search/types.js';
import { SearchSpace, type ParamDef } from '../../src/search/space/space.js';
import { layerName } from '../../src/search/space/autopeft.js';
import { mixSeed } from '../../src/core/random.js';
import { RandomSampler } from '../../src/search/samplers/random.js';
import { hypervolume } from '../../src/search/pareto/hypervolume.js';
import { AshaPruner } from '../../src/search/pruners/asha.js';
import { keyOfConfig, observe, type Table, type TableConfig } from './table.js';
import { median, quantile } from '../lib/flags.js';

/** A search strategy: a sampler factory and the fidelity (examples seen) its evaluations use. */
export interface Strategy {
  name: string;
  /** Examples seen per evaluation (one of the table's fidelities); default: the top one. */
  fidelity?: number;
  make(args: { space: SearchSpace; objectives: ObjectiveSpec[]; seed: number; nInit: number }): Sampler;
  /**
   * Multi-fidelity: every trial is trained up the table's fidelities (its recorded curve revealed
   * point by point) and judged at each lower one by MO-ASHA (the product's AshaPruner, rungs = the
   * lower fidelities); a pruned trial costs the examples it reached, and samplers see only the
   * trials that finished (at the top fidelity). `fidelity` is then ignored.
   */
  asha?: { eta: number; minTrials?: number };
}

export interface RunOptions {
  budget: number;
  nInit: number;
  batch: number;
}

export interface RunTrace {
  strategy: string;
  seed: number;
  /** hv[i] = normalised true hypervolume after i + 1 evaluations. */
  hv: number[];
  /** Cumulative training examples seen / training seconds after i + 1 evaluations. */
  examples: number[];
  seconds: number[];
  keys: string[];
}

/** The table's space: one bit per layer, sa / pa / pt from the sizes the table recorded. */
export function tableSpace(t: Table): SearchSpace {
  const params: ParamDef[] = [];
  for (let l = 0; l < t.numLayers; l++) params.push({ kind: 'bool', name: layerName(l) });
  for (const m of ['sa', 'pa', 'pt']) params.push({ kind: 'int', name: m, values: t.sizes });
  return new SearchSpace(params, {
    constraint: (c) => t.byKey.has(keyOfConfig(c, t.numLayers)),
    constraintText: 'a configuration recorded in the table',
  });
}

/** Objectives as the product states them: validation metric (max, observed), param % (min, known). */
export function tableObjectives(t: Table): ObjectiveSpec[] {
  return [
    { name: 'metric', direction: 'maximize' },
    { name: 'paramPct', direction: 'minimize', known: (c) => t.byKey.get(keyOfConfig(c, t.numLayers))!.paramPct },
  ];
}

/** The fixed reference point of the true-score hypervolume: the table's nadir (worst truth, largest param %). */
export function referencePoint(t: Table): [number, number] {
  let worst = Infinity;
  let maxPct = 0;
  for (const c of t.configs) {
    worst = Math.min(worst, c.truth);
    maxPct = Math.max(maxPct, c.paramPct);
  }
  return [worst, maxPct];
}

/** True-score hypervolume of a set of configurations (minimisation form: -truth, paramPct). */
export function trueHv(configs: readonly TableConfig[], ref: readonly [number, number]): number {
  return hypervolume(
    configs.map((c) => [-c.truth, c.paramPct]),
    [-ref[0], ref[1]],
  );
}

/** The normaliser: the hypervolume of every configuration in the table. */
export function bestHv(t: Table): number {
  return trueHv(t.configs, referencePoint(t));
}

/** Which recorded seed the `repeat`-th evaluation of `key` in run `seed` sees (same in every strategy). */
function drawRow(c: TableConfig, seed: number, repeat: number): number {
  let h = mixSeed(seed, repeat, 0x5eed);
  for (let i = 0; i < c.key.length; i++) h = mixSeed(h, c.key.charCodeAt(i));
  return h % c.rows.length;
}

/** The shared initial design of run `seed`: the first `nInit` configurations of a seeded random sampler. */
export function initialDesign(_t: Table, space: SearchSpace, seed: number, nInit: number): Config[] {
  const r = new RandomSampler({ space, seed: mixSeed(seed, 0x1417) });
  return r.sample({ complete: [], pending: [], n: nInit });
}

export async function runStrategy(t: Table, s: Strategy, seed: number, o: RunOptions): Promise<RunTrace> {
  const space = tableSpace(t);
  const objectives = tableObjectives(t);
  const ref = referencePoint(t);
  const norm = bestHv(t);
  const top = t.fidelities[t.fidelities.length - 1]!;
  const fidelity = s.asha ? top : (s.fidelity ?? top);
  const pruner = s.asha
    ? new AshaPruner({
        objectives,
        rungs: t.fidelities.slice(0, -1),
        eta: s.asha.eta,
        ...(s.asha.minTrials !== undefined ? { minTrials: s.asha.minTrials } : {}),
      })
    : undefined;
  const sampler = s.make({ space, objectives, seed, nInit: o.nInit });
  const complete: FrozenTrial[] = [];
  /** Every trial started (pruned ones too), as the pruner sees them. */
  const all: FrozenTrial[] = [];
  const repeats = new Map<string, number>();
  const seen = new Map<string, TableConfig>();
  const trace: RunTrace = { strategy: s.name, seed, hv: [], examples: [], seconds: [], keys: [] };
  const evaluate = (config: Config): void => {
    const key = keyOfConfig(config, t.numLayers);
    const c = t.byKey.get(key);
    if (!c) throw new Error(`${s.name} proposed ${key}, which the table does not hold`);
    const rep = repeats.get(key) ?? 0;
    repeats.set(key, rep + 1);
    const row = c.rows[drawRow(c, seed, rep)]!;
    const trial: FrozenTrial = {
      number: all.length,
      state: 'RUNNING',
      config,
      userAttrs: { fidelity, validationExamples: row.valN },
      createdAt: all.length,
      intermediateValues: [],
    };
    all.push(trial);
    let reached = fidelity;
    if (pruner) {
      for (const f of t.fidelities.slice(0, -1)) {
        (trial.intermediateValues as { step: number; value: number }[]).push({ step: f, value: observe(row, f).val });
        if (pruner.shouldPrune(trial, all)) {
          trial.state = 'PRUNED';
          reached = f;
          break;
        }
      }
    }
    const p = observe(row, reached);
    if (trial.state !== 'PRUNED') {
      trial.state = 'COMPLETE';
      trial.values = [p.val, c.paramPct];
      complete.push(trial);
      seen.set(key, c);
    }
    const n = trace.hv.length;
    trace.hv.push(seen.size === 0 ? 0 : trueHv([...seen.values()], ref) / norm);
    trace.examples.push((n > 0 ? trace.examples[n - 1]! : 0) + reached);
    trace.seconds.push((n > 0 ? trace.seconds[n - 1]! : 0) + p.sec);
    trace.keys.push(key);
  };
  for (const config of initialDesign(t, space, seed, Math.min(o.nInit, o.budget))) evaluate(config);
  while (trace.hv.length < o.budget) {
    const n = Math.min(o.batch, o.budget - trace.hv.length);
    const pruned = all.filter((t) => t.state === 'PRUNED');
    const configs = await sampler.sample({ complete, pending: [], pruned, n });
    if (configs.length === 0) break; // the space is exhausted
    for (const config of configs) evaluate(config);
  }
  return trace;
}

export { median, quantile };

/** Value of a trace after `n` evaluations (the last one if it stopped early). */
export const hvAt = (r: RunTrace, n: number): number => r.hv[Math.min(n, r.hv.length) - 1] ?? 0;

/** Smallest n whose median (over runs) hypervolume reaches `target`; null if never. */
export function evalsToReach(runs: readonly RunTrace[], target: number): number | null {
  const len = Math.max(...runs.map((r) => r.hv.length));
  for (let n = 1; n <= len; n++) if (median(runs.map((r) => hvAt(r, n))) >= target - 1e-12) return n;
  return null;
}

/**
 * Compute (training examples seen) at which the median run reaches `target`: for each run the
 * examples used when it first reaches the target (Infinity if never), then the median.
 */
export function computeToReach(runs: readonly RunTrace[], target: number): number {
  return median(
    runs.map((r) => {
      const i = r.hv.findIndex((h) => h >= target - 1e-12);
      return i < 0 ? Number.POSITIVE_INFINITY : r.examples[i]!;
    }),
  );
}

/** Fraction of paired seeds where `a` beats `b` after n evaluations (ties count half). */
export function winRate(a: readonly RunTrace[], b: readonly RunTrace[], n: number): number {
  const bySeed = new Map(b.map((r) => [r.seed, r]));
  let w = 0;
  let k = 0;
  for (const r of a) {
    const o = bySeed.get(r.seed);
    if (!o) continue;
    const x = hvAt(r, n);
    const y = hvAt(o, n);
    w += x > y + 1e-12 ? 1 : Math.abs(x - y) <= 1e-12 ? 0.5 : 0;
    k++;
  }
  return k === 0 ? Number.NaN : w / k;
}

/** Spearman rank correlation (average ranks for ties). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  const rx = ranks(x);
  const ry = ranks(y);
  const n = x.length;
  const mx = rx.reduce((a, b) => a + b, 0) / n;
  const my = ry.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i]! - mx) * (ry[i]! - my);
    sxx += (rx[i]! - mx) ** 2;
    syy += (ry[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

function ranks(v: readonly number[]): number[] {
  const idx = v.map((_, i) => i).sort((a, b) => v[a]! - v[b]!);
  const r = new Array<number>(v.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]!] === v[idx[i]!]) j++;
    for (let k = i; k <= j; k++) r[idx[k]!] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

/**
 * How each fidelity ranks configurations against the truth: Spearman of (a) one recorded seed's
 * validation accuracy (what one evaluation sees) and (b) the mean over seeds, with the truth.
 */
export function fidelitySpearman(t: Table): Record<string, { single: number; mean: number }> {
  const truth = t.configs.map((c) => c.truth);
  const out: Record<string, { single: number; mean: number }> = {};
  for (const f of t.fidelities) {
    const single = t.configs.map((c) => observe(c.rows[0]!, f).val);
    const mean = t.configs.map((c) => c.rows.reduce((s, r) => s + observe(r, f).val, 0) / c.rows.length);
    out[String(f)] = { single: spearman(single, truth), mean: spearman(mean, truth) };
  }
  return out;
}

/**
 * What the AutoPEFT space adds on this backbone: the true-score hypervolume of the single-method
 * configurations (one module type, every layer) and of all configurations, both normalised by the
 * latter (so the second entry is 1).
 */
export function spaceVsSingleMethod(t: Table): { singleMethod: number; space: number; singleMethodConfigs: number } {
  const ref = referencePoint(t);
  const single = t.configs.filter(
    (c) => c.layers.every((b) => b) && [c.sa, c.pa, c.pt].filter((x) => x > 0).length === 1,
  );
  const norm = bestHv(t);
  return { singleMethod: trueHv(single, ref) / norm, space: 1, singleMethodConfigs: single.length };
}

/**
 * How noisy the truth itself is: the Spearman of the configurations' official dev scores between
 * the first two recorded seeds (a split-half reliability; the ceiling for any fidelity's one-seed
 * correlation), the spread of the truth across configurations, and the mean seed-to-seed gap.
 */
export function truthNoise(t: Table): { seedVsSeed: number; truthSd: number; meanSeedGap: number } {
  const two = t.configs.filter((c) => c.rows.length >= 2);
  const d0 = two.map((c) => c.rows[0]!.dev);
  const d1 = two.map((c) => c.rows[1]!.dev);
  const truths = t.configs.map((c) => c.truth);
  const m = truths.reduce((a, b) => a + b, 0) / truths.length;
  const truthSd = Math.sqrt(truths.reduce((a, v) => a + (v - m) ** 2, 0) / Math.max(1, truths.length - 1));
  const meanSeedGap = d0.reduce((a, v, i) => a + Math.abs(v - d1[i]!), 0) / Math.max(1, d0.length);
  return { seedVsSeed: spearman(d0, d1), truthSd, meanSeedGap };
}
