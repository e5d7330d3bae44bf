/**
 * Asynchronous successive halving (ASHA, Li et al. 2020) with multi-objective promotion (MO-ASHA,
 * Schmucker et al. 2021): a trial that reaches a rung (a step such as 1,000 training examples
 * seen) goes on only if it is among the best 1/η of all trials that reached that rung so far,
 * "best" being the order of NSGA-II's survival: non-dominated rank of (its value at the rung, its
 * known objectives — e.g. param %, exact from the config), then crowding distance, then trial
 * number. With one objective (or none known) this is plain ASHA on the value.
 *
 * Asynchronous: a rung is judged with the trials that reached it so far, never waiting for a
 * cohort, so early trials are promoted more easily (as in ASHA); `minTrials` keeps the first few
 * at each rung from being pruned on too little evidence.
 */
import type { FrozenTrial, ObjectiveSpec } from '../types.js';
import { crowdingDistance, nonDominatedSort } from '../pareto/pareto.js';
import { SearchSpaceError } from '../space/errors.js';
import { SEARCH_DEFAULTS } from '../defaults.js';
import type { Pruner } from './types.js';

export interface AshaOptions {
  /** The study's objectives: the first is the reported one; `known` ones join the promotion. */
  objectives: readonly ObjectiveSpec[];
  /** Steps at which trials are judged, ascending (e.g. examples seen 500, 1000, 2000). */
  rungs: readonly number[];
  /** Reduction factor η: the best ⌈n/η⌉ of the n trials at a rung go on. Default `SEARCH_DEFAULTS.ashaEta`. */
  eta?: number;
  /** Trials that must have reached a rung before anyone is pruned there. Default η + 1. */
  minTrials?: number;
}

export class AshaPruner implements Pruner {
  readonly name = 'asha';
  readonly steps: readonly number[];
  private readonly eta: number;
  private readonly minTrials: number;

  constructor(private readonly o: AshaOptions) {
    if (o.objectives.length === 0 || o.objectives[0]!.known)
      throw new SearchSpaceError('AshaPruner: the first objective must be the one trials report (not a known one)');
    if (o.rungs.length === 0 || o.rungs.some((r, i) => !(r > 0) || (i > 0 && r <= o.rungs[i - 1]!)))
      throw new SearchSpaceError(`AshaPruner: rungs must be ascending positive steps, got [${o.rungs.join(', ')}]`);
    this.eta = o.eta ?? SEARCH_DEFAULTS.ashaEta;
    if (!(this.eta > 1)) throw new SearchSpaceError(`AshaPruner: eta must be > 1, got ${this.eta}`);
    this.minTrials = o.minTrials ?? Math.ceil(this.eta) + 1;
    this.steps = [...o.rungs];
  }

  shouldPrune(trial: FrozenTrial, trials: readonly FrozenTrial[]): boolean {
    const last = trial.intermediateValues?.at(-1);
    if (!last || !this.steps.includes(last.step)) return false;
    const rung = last.step;
    // Everyone at this rung, once each; this trial (with the value just reported) first, at row 0.
    const points: number[][] = [];
    const numbers: number[] = [];
    const seen = new Set<number>();
    for (const t of [trial, ...trials]) {
      if (seen.has(t.number)) continue;
      const v = t.intermediateValues?.find((p) => p.step === rung);
      if (v === undefined) continue;
      seen.add(t.number);
      numbers.push(t.number);
      points.push(this.point(t, v.value));
    }
    if (points.length < this.minTrials) return false;
    const keep = Math.max(1, Math.ceil(points.length / this.eta));
    return !promotionOrder(points, numbers).slice(0, keep).includes(0);
  }

  /** Minimisation form: the reported value, then each known objective from the config. */
  private point(t: FrozenTrial, value: number): number[] {
    const sign = (o: ObjectiveSpec) => (o.direction === 'maximize' ? -1 : 1);
    const p = [sign(this.o.objectives[0]!) * value];
    for (const o of this.o.objectives) if (o.known) p.push(sign(o) * o.known(t.config));
    return p;
  }
}

/** Row indices best first: non-dominated rank, then crowding distance (larger first), then `tiebreak` (smaller first). */
export function promotionOrder(points: readonly (readonly number[])[], tiebreak: readonly number[]): number[] {
  const out: number[] = [];
  for (const front of nonDominatedSort(points)) {
    const crowd = crowdingDistance(points, front);
    const order = front.map((i, k) => ({ i, c: crowd[k]! }));
    order.sort((a, b) => (b.c === a.c ? tiebreak[a.i]! - tiebreak[b.i]! : b.c - a.c));
    out.push(...order.map((x) => x.i));
  }
  return out;
}
