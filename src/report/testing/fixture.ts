/**
 * A small deterministic study for the report tests: 4 layers, a handful of COMPLETE trials spread
 * over three orders of magnitude of param %, two FAILED, one PRUNED, one RUNNING. The front and the
 * hypervolume trace are computed here by brute force so the renderer is fed consistent input.
 * Test data only: these are not results of any run.
 */
import type { Config, ReportData, ReportTrial } from '../types.js';

const cfg = (mask: string, sa: number, pa: number, pt: number, extra: Config = {}): Config => {
  const c: Config = {};
  [...mask].forEach((b, l) => {
    c[`layer_${l}`] = b === '1';
  });
  return { ...c, sa, pa, pt, ...extra };
};

/** [metric, paramPct, config] of the COMPLETE trials, in trial order. */
const COMPLETE: [number, number, Config][] = [
  [0.71, 0.012, cfg('1000', 1, 0, 0)],
  [0.78, 0.35, cfg('1100', 0, 12, 0)],
  [0.74, 0.9, cfg('0011', 24, 0, 0)],
  [0.83, 2.4, cfg('1110', 48, 0, 6)],
  [0.8, 0.05, cfg('1111', 0, 0, 3)],
  [0.86, 11.5, cfg('1111', 192, 96, 0)],
  [0.79, 4.1, cfg('0110', 0, 96, 0)],
  [0.8, 0.5, cfg('1010', 6, 6, 0)], // ties metric with trial 5 at higher param %: dominated
];

const dominates = (a: [number, number], b: [number, number]): boolean =>
  a[0] >= b[0] && a[1] <= b[1] && (a[0] > b[0] || a[1] < b[1]);

/** Brute-force 2-D hypervolume (metric max, paramPct min) of `pts` w.r.t. `ref`. */
export function hv2d(pts: [number, number][], ref: [number, number]): number {
  const inside = pts.filter((p) => p[0] > ref[0] && p[1] < ref[1]);
  const front = inside.filter((p) => !inside.some((q) => dominates(q, p))).sort((a, b) => a[1] - b[1]);
  let area = 0;
  for (let i = 0; i < front.length; i++) {
    const next = i + 1 < front.length ? front[i + 1][1] : ref[1];
    area += (next - front[i][1]) * (front[i][0] - ref[0]);
  }
  return area;
}

export function fixtureStudy(): ReportData {
  const trials: ReportTrial[] = [];
  let n = 0;
  const done: [number, number][] = [];
  const hypervolume: number[] = [];
  const refPoint: [number, number] = [0.5, 20];
  COMPLETE.forEach(([metric, paramPct, config], i) => {
    trials.push({ number: n++, state: 'COMPLETE', metric, paramPct, config, durationMs: 30_000 + 1000 * i });
    done.push([metric, paramPct]);
    hypervolume.push(hv2d(done, refPoint));
    if (i === 2)
      trials.push({
        number: n++,
        state: 'FAILED',
        config: cfg('0001', 0, 3, 0),
        reason: 'loss is NaN | diverged at step 12',
        durationMs: 4000,
      });
    if (i === 5)
      trials.push({ number: n++, state: 'PRUNED', config: cfg('0100', 0, 0, 12), reason: 'below median at epoch 1' });
  });
  trials.push({ number: n++, state: 'FAILED', config: cfg('1001', 3, 0, 0), reason: 'out of memory' });
  trials.push({ number: n++, state: 'RUNNING', config: cfg('1100', 3, 0, 3) });
  const complete = trials.filter((t) => t.state === 'COMPLETE') as (ReportTrial & {
    metric: number;
    paramPct: number;
  })[];
  const front = complete
    .filter((t) => !complete.some((o) => dominates([o.metric, o.paramPct], [t.metric, t.paramPct])))
    .map((t) => t.number);
  return {
    study: 'fixture <study> & co',
    task: 'SST-2',
    model: 'tiny-bert (4 layers)',
    objectives: [
      { name: 'accuracy', direction: 'maximize' },
      { name: 'paramPct', direction: 'minimize' },
    ],
    trials,
    front,
    hypervolume,
    refPoint,
    settings: { sampler: 'random', seed: 3 },
  };
}
