/**
 * Plain (noise-free front) EHVI: the front is built from given latent values — the observed
 * (warped) targets for completed trials and the posterior mean for pending ones (Kriging believer) —
 * and the candidate's latent value is its marginal posterior N(μ(x), σ²(x)). Cheaper than the noisy
 * version (no joint sampling, no conditioning) and exact when observations are noise-free.
 */
import type { MaternGp } from '../gp/gp.js';
import { KnownFront } from './ehvi.js';

export interface PlainEhviArgs {
  gp: MaternGp;
  /** -1 when a larger latent is better (maximised metric), +1 when smaller is better. */
  sign: 1 | -1;
  /** Known coordinates (minimisation convention) and latent values of the front's points. */
  known: readonly (readonly number[])[];
  latent: ArrayLike<number>;
  ref: readonly number[];
}

export class PlainEhvi {
  private readonly gp: MaternGp;
  private readonly sign: number;
  private readonly front: KnownFront;
  private readonly v: Float64Array;

  constructor(a: PlainEhviArgs) {
    this.gp = a.gp;
    this.sign = a.sign;
    const vals = Float64Array.from({ length: a.known.length }, (_, i) => a.sign * a.latent[i]!);
    this.front = new KnownFront(a.known, vals, a.ref);
    this.v = new Float64Array(a.gp.n);
  }

  value(x: ArrayLike<number>, xo: number, known: ArrayLike<number>): number {
    const p = this.gp.predict(x, xo, this.v);
    return this.front.ehvi(known, this.sign * p.mean, Math.sqrt(p.variance));
  }
}
