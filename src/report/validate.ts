/**
 * Consistency checks on ReportData before anything is drawn: a report that silently drops a front
 * point or plots a NaN is worse than an error.
 */
import { ReportError } from './errors.js';
import { PAIR_ENCODING_VALUES, type ReportData, type ReportTrial } from './types.js';

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Throws ReportError on the first inconsistency; returns the trials by number. */
export function validateReportData(data: ReportData): Map<number, ReportTrial> {
  if (typeof data.study !== 'string' || data.study === '') throw new ReportError('study', 'must be a non-empty string');
  if (!Array.isArray(data.objectives) || data.objectives.length !== 2) {
    throw new ReportError('objectives', 'must list exactly two objectives: [metric, paramPct]');
  }
  data.objectives.forEach((o, i) => {
    if (o.direction !== 'maximize' && o.direction !== 'minimize') {
      throw new ReportError(
        `objectives[${i}].direction`,
        `must be "maximize" or "minimize", got ${JSON.stringify(o.direction)}`,
      );
    }
  });
  const byNumber = new Map<number, ReportTrial>();
  data.trials.forEach((t, i) => {
    const f = `trials[${i}]`;
    if (!Number.isInteger(t.number) || t.number < 0)
      throw new ReportError(`${f}.number`, `must be a non-negative integer, got ${t.number}`);
    if (byNumber.has(t.number))
      throw new ReportError(`${f}.number`, `trial ${t.number} appears twice; pass each trial once`);
    byNumber.set(t.number, t);
    if (t.state === 'COMPLETE') {
      if (!finite(t.metric))
        throw new ReportError(`${f}.metric`, `COMPLETE trial ${t.number} needs a finite metric, got ${t.metric}`);
      if (!finite(t.paramPct))
        throw new ReportError(`${f}.paramPct`, `COMPLETE trial ${t.number} needs a finite paramPct, got ${t.paramPct}`);
    }
    if (t.durationMs !== undefined && !(finite(t.durationMs) && t.durationMs >= 0)) {
      throw new ReportError(`${f}.durationMs`, `must be a non-negative number of milliseconds, got ${t.durationMs}`);
    }
  });
  const seen = new Set<number>();
  data.front.forEach((n, i) => {
    const t = byNumber.get(n);
    if (!t) throw new ReportError(`front[${i}]`, `trial ${n} is not in trials; pass the front's trials too`);
    if (t.state !== 'COMPLETE')
      throw new ReportError(`front[${i}]`, `trial ${n} is ${t.state}, only COMPLETE trials can be on the front`);
    if (seen.has(n)) throw new ReportError(`front[${i}]`, `trial ${n} is listed twice`);
    seen.add(n);
  });
  // A front member dominated by a complete trial means the front was computed with other
  // directions or values than the ones given here: the staircase would be wrong.
  const [mDir, pDir] = [data.objectives[0].direction, data.objectives[1].direction];
  const better = (a: number, b: number, dir: string): boolean => (dir === 'maximize' ? a > b : a < b);
  const noWorse = (a: number, b: number, dir: string): boolean => a === b || better(a, b, dir);
  const completeTrials = data.trials.filter((t) => t.state === 'COMPLETE') as (ReportTrial & {
    metric: number;
    paramPct: number;
  })[];
  data.front.forEach((n, i) => {
    const f = byNumber.get(n) as ReportTrial & { metric: number; paramPct: number };
    const d = completeTrials.find(
      (o) =>
        noWorse(o.metric, f.metric, mDir) &&
        noWorse(o.paramPct, f.paramPct, pDir) &&
        (better(o.metric, f.metric, mDir) || better(o.paramPct, f.paramPct, pDir)),
    );
    if (d) {
      throw new ReportError(
        `front[${i}]`,
        `trial ${n} is dominated by trial ${d.number}; compute the front with the objectives' directions (${mDir}, ${pDir})`,
      );
    }
  });
  const complete = completeTrials.length;
  if (data.hypervolume.length !== complete) {
    throw new ReportError(
      'hypervolume',
      `has ${data.hypervolume.length} values but there are ${complete} COMPLETE trials; pass one value per completed trial`,
    );
  }
  data.hypervolume.forEach((v, i) => {
    if (!finite(v) || v < 0) throw new ReportError(`hypervolume[${i}]`, `must be a finite number >= 0, got ${v}`);
  });
  if (!Array.isArray(data.refPoint) || data.refPoint.length !== 2 || !data.refPoint.every(finite)) {
    throw new ReportError(
      'refPoint',
      `must be two finite numbers [metric, paramPct], got ${JSON.stringify(data.refPoint)}`,
    );
  }
  if (data.pairEncoding !== undefined && !(PAIR_ENCODING_VALUES as readonly string[]).includes(data.pairEncoding))
    throw new ReportError(
      'pairEncoding',
      `must be ${PAIR_ENCODING_VALUES.map((e) => `"${e}"`).join(' or ')}, got ${JSON.stringify(data.pairEncoding)}`,
    );
  (data.baselines ?? []).forEach((b, i) => {
    const f = `baselines[${i}]`;
    if (typeof b.method !== 'string' || b.method === '')
      throw new ReportError(`${f}.method`, 'must be a non-empty string');
    if (!finite(b.metric)) throw new ReportError(`${f}.metric`, `must be a finite number, got ${b.metric}`);
    if (!finite(b.paramPct)) throw new ReportError(`${f}.paramPct`, `must be a finite number, got ${b.paramPct}`);
    if (b.metricStd !== undefined && !(finite(b.metricStd) && b.metricStd >= 0)) {
      throw new ReportError(`${f}.metricStd`, `must be a finite number >= 0, got ${b.metricStd}`);
    }
    if (b.split !== 'search' && b.split !== 'dev')
      throw new ReportError(`${f}.split`, `must be "search" or "dev", got ${JSON.stringify(b.split)}`);
  });
  const checkSeeded = (r: { trial: number; mean: number; std: number }, f: string): void => {
    if (byNumber.get(r.trial)?.state !== 'COMPLETE')
      throw new ReportError(`${f}.trial`, `trial ${r.trial} is not a COMPLETE trial of this study`);
    if (!finite(r.mean)) throw new ReportError(`${f}.mean`, `must be a finite number, got ${r.mean}`);
    if (!(finite(r.std) && r.std >= 0)) throw new ReportError(`${f}.std`, `must be a finite number >= 0, got ${r.std}`);
  };
  data.retrain?.results.forEach((r, i) => {
    const f = `retrain.results[${i}]`;
    checkSeeded(r, f);
    if (!Number.isInteger(r.seeds) || r.seeds < 1)
      throw new ReportError(`${f}.seeds`, `must be a positive integer, got ${r.seeds}`);
  });
  (data.transfer ?? []).forEach((d, k) => {
    d.results.forEach((r, i) => {
      const f = `transfer[${k}].results[${i}]`;
      checkSeeded(r, f);
      if (!finite(r.paramPct)) throw new ReportError(`${f}.paramPct`, `must be a finite number, got ${r.paramPct}`);
    });
  });
  return byNumber;
}
