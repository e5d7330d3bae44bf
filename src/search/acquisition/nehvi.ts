/**
 * Noisy EHVI for one GP-modelled objective and k known objectives (minimisation convention).
 *
 * The incumbents' latent values are unknown (noisy observations), so the front itself is random.
 * We draw S joint posterior samples f^(s) of the incumbents (observed configs plus pending ones,
 * which makes pending trials "sampled fantasies": their values are drawn from the same joint
 * posterior, with no refit), build the front of each sample, and average the closed-form EHVI of
 * the candidate *conditioned on that sample*:
 *   f(x) | f_U = f_U^(s)  ~  N(μ_x + w^T ε^(s), σ_x² - |w|²),  w = L_U^{-1} Σ_{U,x},
 *   ε^(s) = L_U^{-1} (f_U^(s) - μ_U),
 * where U is the set of incumbents that are on the front of at least one sample (the others do not
 * change any sample's front, so conditioning on U only is exact for the same samples). Before
 * sampling, incumbents that are outside the reference box or dominated by another one even at
 * ±5 posterior sd are dropped (they would matter with probability < 1e-6).
 * This is qNEHVI (Daulton et al. 2021) for q = 1 with the inner expectation over the candidate done
 * in closed form instead of by Monte Carlo.
 */
import { choleskyJitter, solveLower } from '../linalg/linalg.js';
import type { MaternGp } from '../gp/gp.js';
import type { Rng } from '../../core/random.js';
import { paretoFrontIndices } from '../pareto/pareto.js';
import { KnownFront } from './ehvi.js';

export interface NoisyEhviArgs {
  gp: MaternGp;
  /** -1 when a larger latent is better (maximised metric), +1 when smaller is better. */
  sign: 1 | -1;
  /** Encoded incumbents (observed + pending), m x d row-major. */
  incumbentsX: Float64Array;
  /** Known objective values of the incumbents (minimisation convention), m rows of k. */
  incumbentsKnown: readonly (readonly number[])[];
  /** Reference point: k known coordinates then the uncertain one, minimisation convention, latent units. */
  ref: readonly number[];
  /** Posterior samples of the incumbents (S). */
  nSamples: number;
  rng: Rng;
}

/** Prune margin in posterior sd (two-sided 5 sd: each bound fails with probability 2.9e-7). */
const PRUNE_SD = 5;

export class NoisyEhvi {
  private readonly gp: MaternGp;
  private readonly sign: number;
  private readonly fronts: KnownFront[];
  /** Incumbents conditioned on: encoded rows (u x d). */
  private readonly uX: Float64Array;
  readonly u: number;
  /** Incumbents kept after pruning (sampled jointly). */
  readonly pruned: number;
  /** L^{-1} k(X, x_u) rows (u x n). */
  private readonly VU: Float64Array;
  /** Cholesky of the posterior covariance of f_U (u x u). */
  private readonly LU: Float64Array;
  /** Whitened samples ε^(s) (S x u). */
  private readonly eps: Float64Array;
  private readonly S: number;
  private readonly kbuf: Float64Array;
  private readonly cbuf: Float64Array;

  constructor(a: NoisyEhviArgs) {
    const { gp, incumbentsX, incumbentsKnown, ref } = a;
    const m = incumbentsKnown.length;
    const d = gp.d,
      n = gp.n;
    const S = a.nSamples;
    this.gp = gp;
    this.sign = a.sign;
    this.S = S;
    this.kbuf = new Float64Array(n);
    const k = ref.length - 1;
    // posterior marginals of every incumbent; predict leaves the V rows (L^{-1} k(X, x_i)) in Vall for reuse
    const Vall = new Float64Array(m * n);
    const mu = new Float64Array(m);
    const sd = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const p = gp.predict(incumbentsX, i * d, Vall.subarray(i * n, (i + 1) * n));
      mu[i] = p.mean;
      sd[i] = Math.sqrt(p.variance);
    }
    // NOTE: prune incumbents that can matter with probability < ~1e-6: outside the reference box
    // even at +5 sd, or dominated by another incumbent whose known coordinates are no worse and whose
    // value is better even at 5 sd against 5 sd. Sampling and conditioning then cost O(|P|^2..3).
    const lo = new Float64Array(m),
      hi = new Float64Array(m); // minimisation-convention value bounds
    for (let i = 0; i < m; i++) {
      const v = this.sign * mu[i]!;
      lo[i] = v - PRUNE_SD * sd[i]!;
      hi[i] = v + PRUNE_SD * sd[i]!;
    }
    const P: number[] = [];
    for (let i = 0; i < m; i++) {
      let alive = lo[i]! < ref[k]!;
      for (let j = 0; j < k && alive; j++) alive = incumbentsKnown[i]![j]! < ref[j]!;
      for (let o = 0; o < m && alive; o++) {
        if (o === i || !(hi[o]! < lo[i]!)) continue;
        let noWorse = true;
        for (let j = 0; j < k && noWorse; j++) noWorse = incumbentsKnown[o]![j]! <= incumbentsKnown[i]![j]!;
        if (noWorse) alive = false;
      }
      if (alive) P.push(i);
    }
    this.pruned = P.length;
    const p = P.length;
    // joint posterior samples of the kept incumbents
    const mean = Float64Array.from(P, (i) => mu[i]!);
    const cov = new Float64Array(p * p);
    for (let a1 = 0; a1 < p; a1++) {
      const ra = P[a1]! * n;
      for (let b = 0; b <= a1; b++) {
        const rb = P[b]! * n;
        let q = 0;
        for (let t = 0; t < n; t++) q += Vall[ra + t]! * Vall[rb + t]!;
        const c = gp.kernel(incumbentsX, P[a1]! * d, incumbentsX, P[b]! * d) - q;
        cov[a1 * p + b] = c;
        cov[b * p + a1] = c;
      }
    }
    const F = new Float64Array(S * p);
    const onFront = new Set<number>(); // positions in P
    if (p > 0) {
      const ch = choleskyJitter(cov, p);
      if (!ch) throw new RangeError('NoisyEhvi: incumbent posterior covariance is not positive definite');
      const Lm = ch.L;
      const z = new Float64Array(p);
      for (let s = 0; s < S; s++) {
        for (let i = 0; i < p; i++) z[i] = a.rng.normal();
        for (let i = 0; i < p; i++) {
          let v = mean[i]!;
          for (let j = 0; j <= i; j++) v += Lm[i * p + j]! * z[j]!;
          F[s * p + i] = v;
        }
      }
      // which kept incumbents are on some sample's front (inside the reference box)
      const pts: number[][] = [];
      const idx: number[] = [];
      for (let s = 0; s < S; s++) {
        pts.length = 0;
        idx.length = 0;
        for (let i = 0; i < p; i++) {
          const v = this.sign * F[s * p + i]!;
          let inside = v < ref[k]!;
          for (let j = 0; j < k && inside; j++) inside = incumbentsKnown[P[i]!]![j]! < ref[j]!;
          if (!inside) continue;
          pts.push([...incumbentsKnown[P[i]!]!, v]);
          idx.push(i);
        }
        for (const t of paretoFrontIndices(pts)) onFront.add(idx[t]!);
      }
    }
    const U = [...onFront].sort((x, y) => x - y); // positions in P
    const u = U.length;
    this.u = u;
    this.uX = new Float64Array(u * d);
    this.VU = new Float64Array(u * n);
    U.forEach((i, t) => {
      this.uX.set(incumbentsX.subarray(P[i]! * d, (P[i]! + 1) * d), t * d);
      this.VU.set(Vall.subarray(P[i]! * n, (P[i]! + 1) * n), t * n);
    });
    const covU = new Float64Array(u * u);
    for (let a1 = 0; a1 < u; a1++) for (let b = 0; b < u; b++) covU[a1 * u + b] = cov[U[a1]! * p + U[b]!]!;
    const chU = choleskyJitter(covU, u);
    if (!chU) throw new RangeError('NoisyEhvi: front posterior covariance is not positive definite');
    this.LU = chU.L;
    this.eps = new Float64Array(S * u);
    this.fronts = [];
    const resid = new Float64Array(u);
    const knownU = U.map((i) => incumbentsKnown[P[i]!]!);
    const vals = new Float64Array(u);
    for (let s = 0; s < S; s++) {
      for (let t = 0; t < u; t++) {
        resid[t] = F[s * p + U[t]!]! - mean[U[t]!]!;
        vals[t] = this.sign * F[s * p + U[t]!]!;
      }
      solveLower(this.LU, u, resid, this.eps.subarray(s * u, (s + 1) * u));
      this.fronts.push(new KnownFront(knownU, vals, ref));
    }
    this.cbuf = new Float64Array(u);
  }

  /** Noisy EHVI of the candidate with encoded row x[xo..xo+d) and known coordinates `known` (minimisation). */
  value(x: ArrayLike<number>, xo: number, known: ArrayLike<number>): number {
    const gp = this.gp,
      n = gp.n,
      d = gp.d,
      u = this.u;
    const v = this.kbuf;
    // v = L^{-1} k(X, x) after predict; the marginal variance is then reduced by conditioning on f_U
    const { mean: mu, variance } = gp.predict(x, xo, v);
    let varx = variance;
    const c = this.cbuf;
    for (let t = 0; t < u; t++) {
      let s = gp.kernel(this.uX, t * d, x, xo);
      const o = t * n;
      for (let i = 0; i < n; i++) s -= this.VU[o + i]! * v[i]!;
      c[t] = s;
    }
    solveLower(this.LU, u, c, c);
    for (let t = 0; t < u; t++) varx -= c[t]! * c[t]!;
    const sd = Math.sqrt(Math.max(0, varx));
    let total = 0;
    for (let s = 0; s < this.S; s++) {
      let cm = mu;
      const o = s * u;
      for (let t = 0; t < u; t++) cm += c[t]! * this.eps[o + t]!;
      total += this.fronts[s]!.ehvi(known, this.sign * cm, sd);
    }
    return total / this.S;
  }
}
