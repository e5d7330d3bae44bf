/**
 * Builds the report's input from a stored search study: trials, Pareto front, hypervolume after
 * each completed trial (all on one reference point), retrain results and baselines.
 */
import type { Storage } from '../storage/types.js';
import {
  hypervolumeWithDirections,
  inferReferencePoint,
  paretoFrontIndices,
  toMinimization,
} from '../search/pareto/index.js';
import { countsTowardTarget, type FrozenTrial } from '../trials/index.js';
import { reportTrialsFromFrozen } from '../report/index.js';
import type { BaselinePoint, ReportData } from '../report/types.js';
import { getTaskSpec } from '../data/tasks/registry.js';
import { readSetup, setupPairEncoding, setupProtocol, type BaselineRecord, type RetrainRecord } from './attrs.js';
import type { TransferRecord } from './followup.js';
import { UsageError } from '../core/errors.js';

export interface StudySummary {
  data: ReportData;
  complete: FrozenTrial[];
  front: FrozenTrial[];
}

/**
 * Reference point in the objectives' natural orientation [metric, paramPct]: given, or inferred
 * from every complete trial (nadir with a 10% margin, as BoTorch's infer_reference_point).
 */
export function referencePoint(complete: readonly FrozenTrial[], given?: readonly [number, number]): [number, number] {
  if (given) return [given[0], given[1]];
  const dirs = ['maximize', 'minimize'] as const;
  const mins = toMinimization(
    complete.map((t) => t.values!),
    [...dirs],
  );
  const ref = inferReferencePoint(mins);
  return [-ref[0]!, ref[1]!];
}

export function hypervolumeOf(trials: readonly FrozenTrial[], ref: readonly [number, number]): number {
  if (trials.length === 0) return 0;
  return hypervolumeWithDirections(
    trials.map((t) => t.values!),
    ['maximize', 'minimize'],
    ref,
  );
}

export async function summarizeStudy(
  storage: Storage,
  study: string,
  opts: { refPoint?: readonly [number, number] } = {},
): Promise<StudySummary> {
  const record = await storage.getStudy(study);
  const setup = readSetup(record);
  // Interrupted trials (Ctrl-C, kill -9, stale) are re-queue bookkeeping, not failures: their
  // configs appear as their re-runs.
  const trials = (await storage.listTrials(study)).filter(countsTowardTarget);
  const complete = trials.filter((t) => t.state === 'COMPLETE' && t.values && t.values.every(Number.isFinite));
  if (complete.length === 0)
    throw new UsageError(`study "${study}" has no complete trials yet; run \`autopeft search --study ${study}\` first`);
  // --ref of `report`, else the one the search fixed (--ref-point), else inferred.
  const ref = referencePoint(complete, opts.refPoint ?? setup.refPoint);
  const byFinish = [...complete].sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0) || a.number - b.number);
  const hv: number[] = [];
  for (let k = 1; k <= byFinish.length; k++) hv.push(hypervolumeOf(byFinish.slice(0, k), ref));
  const mins = toMinimization(
    complete.map((t) => t.values!),
    ['maximize', 'minimize'],
  );
  const front = paretoFrontIndices(mins).map((i) => complete[i]!);
  const attrs = record.systemAttrs;
  const retrain = (attrs['retrain'] ?? null) as unknown as RetrainRecord[] | null;
  const baselines = (attrs['baselines'] ?? null) as unknown as BaselineRecord[] | null;
  const transfer = (attrs['transfer'] ?? {}) as unknown as Record<string, TransferRecord[]>;
  const points: BaselinePoint[] = [];
  for (const b of baselines ?? []) {
    points.push({ method: b.method, metric: b.metric, paramPct: b.paramPct, split: 'search' });
    if (b.devValues && b.devValues.length > 0) {
      const m = b.devValues.reduce((a, x) => a + x, 0) / b.devValues.length;
      const sd =
        b.devValues.length > 1
          ? Math.sqrt(b.devValues.reduce((a, x) => a + (x - m) ** 2, 0) / (b.devValues.length - 1))
          : 0;
      points.push({
        method: b.method,
        metric: m,
        metricStd: sd,
        seeds: b.devValues.length,
        paramPct: b.paramPct,
        split: 'dev',
      });
    }
  }
  const data: ReportData = {
    study,
    task: setup.task,
    model: setup.model,
    // Pair tasks only (a known single-text task has no pairs to encode); absent in older setups: cross.
    ...(getTaskSpec(setup.task)?.textColumns.length === 1 ? {} : { pairEncoding: setupPairEncoding(setup) }),
    objectives: [
      {
        name: record.objectiveNames[0] ?? 'metric',
        direction: 'maximize',
        label: `validation ${complete[0]!.userAttrs['metricName'] ?? 'metric'}`,
      },
      { name: 'paramPct', direction: 'minimize', label: 'tunable parameters (% of backbone)' },
    ],
    trials: reportTrialsFromFrozen(trials),
    front: front.map((t) => t.number),
    hypervolume: hv,
    refPoint: ref,
    ...(points.length > 0 ? { baselines: points } : {}),
    ...(retrain && retrain.length > 0
      ? {
          retrain: {
            split: 'dev',
            metricLabel: retrain[0]!.metricName,
            results: retrain.map((r) => ({
              trial: r.trial,
              mean: r.mean,
              std: r.std,
              seeds: r.values.length,
              values: r.values,
            })),
          },
        }
      : {}),
    ...(Object.keys(transfer).length > 0
      ? {
          transfer: Object.entries(transfer).map(([task, rs]) => ({
            task,
            metricLabel: rs[0]?.metricName ?? 'metric',
            split: 'official dev set',
            results: rs.map((r) => ({
              trial: r.trial,
              paramPct: r.paramPct,
              mean: r.mean,
              std: r.std,
              seeds: r.values.length,
              values: r.values,
              sourceMetric: r.sourceMetric,
            })),
          })),
        }
      : {}),
    settings: {
      sampler: setup.sampler,
      seed: setup.seed,
      epochs: setup.fidelity?.epochs ?? setup.hyper.epochs,
      ...(setup.fidelity?.trainCount !== undefined ? { 'train examples': setup.fidelity.trainCount } : {}),
      ...(setup.fidelity?.trainFraction !== undefined ? { 'train fraction': setup.fidelity.trainFraction } : {}),
      ...(setup.fidelity?.maxSteps !== undefined ? { 'max steps': setup.fidelity.maxSteps } : {}),
      lr: setup.hyper.lr,
      'batch size': setup.hyper.batchSize,
      'max length': setup.hyper.maxLength,
      ...(setup.metric !== undefined ? { metric: setup.metric } : {}),
      'param % denominator': setupProtocol(setup).paramDenominator,
      head: setupProtocol(setup).head,
      ...(setup.saForm !== undefined ? { 'serial adapter': setup.saForm } : {}),
      ...(setup.refPoint ? { 'reference point': setup.refPoint.join(', ') } : {}),
    },
  };
  return { data, complete, front };
}
