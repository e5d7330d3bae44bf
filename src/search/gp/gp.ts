/**
 * Gaussian process regression with an ARD Matérn-5/2 kernel on encoded configs ([0,1]^d), zero
 * mean (targets are copula-warped, see copula.ts), Gaussian noise, MAP hyperparameters.
 *
 * Kernel: k(x, x') = s² (1 + √5 r + 5/3 r²) exp(-√5 r), r² = Σ_d κ_d (x_d - x'_d)², with κ_d the
 * inverse squared lengthscales (the SAAS parametrisation).
 * Hyperparameters θ = [log κ_1..d, log s², log η] with noise variance σ² = 1e-6 + η.
 * Heteroscedastic option: known per-observation noise variances r_i (e.g. the binomial variance of
 * an accuracy on n examples) are added to the diagonal on top of σ²: K_ii = s² + σ² + r_i. They
 * are data, not hyperparameters, so the gradient keeps its form.
 * Priors (densities of θ, i.e. with the log-Jacobian):
 *   κ_d ~ HalfCauchy(τ) (SAAS-like: mass near 0 switches a dimension off, heavy tail lets the
 *     relevant ones grow);  log s² ~ N(0, 1);  log η ~ N(-4, 2²).
 */
import { choleskyJitter, cholInverse, cholSolve, halfLogDet, solveLower } from '../linalg/linalg.js';
import { lbfgs } from '../linalg/lbfgs.js';
import type { Rng } from '../../core/random.js';

export const NOISE_FLOOR = 1e-6;
const SQRT5 = Math.sqrt(5);
const LOG_2PI = Math.log(2 * Math.PI);

export interface GpPrior {
  /** Half-Cauchy scale τ of the inverse squared lengthscales. */
  tau: number;
  /** Normal prior on log s². */
  logOutputscaleMean: number;
  logOutputscaleSd: number;
  /** Normal prior on log η (noise variance above the floor). */
  logNoiseMean: number;
  logNoiseSd: number;
}

// NOTE: τ = 0.1 follows SAAS's global-shrinkage scale; inputs live in [0,1] so an unused dimension
// settles near κ = τ (lengthscale ~3): nearly flat. The noise prior's median 0.018 is ~2% of the
// warped targets' unit variance.
export const DEFAULT_PRIOR: GpPrior = {
  tau: 0.1,
  logOutputscaleMean: 0,
  logOutputscaleSd: 1,
  logNoiseMean: -4,
  logNoiseSd: 2,
};

/** Matérn-5/2 value for a given r² and outputscale s². */
function matern(r2: number, s2: number): number {
  const r = Math.sqrt(r2);
  return s2 * (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
}

/**
 * The negative log posterior -[log p(y | θ) + log p(θ)] and its gradient, with every buffer
 * allocated once per data set (n x n matrices, packed pairwise squared differences).
 */
export class GpObjective {
  readonly n: number;
  readonly d: number;
  private readonly y: Float64Array;
  /** Packed squared differences: pair p = (i, j), i > j, row-major over pairs, d contiguous: (n(n-1)/2) x d. */
  private readonly D: Float64Array;
  private readonly K: Float64Array;
  private readonly L: Float64Array;
  private readonly Kinv: Float64Array;
  private readonly work: Float64Array;
  private readonly alpha: Float64Array;
  private readonly gPair: Float64Array;
  private readonly kPair: Float64Array;
  private readonly acc: Float64Array;
  private readonly kap: Float64Array;
  readonly prior: GpPrior;

  private readonly fixedNoise: Float64Array | undefined;

  /** X: n x d row-major, y: n; `fixedNoise`: n known noise variances added to the diagonal. */
  constructor(
    X: Float64Array,
    n: number,
    d: number,
    y: Float64Array,
    prior: GpPrior = DEFAULT_PRIOR,
    fixedNoise?: Float64Array,
  ) {
    this.fixedNoise = fixedNoise;
    this.n = n;
    this.d = d;
    this.y = y;
    this.prior = prior;
    const pairs = (n * (n - 1)) / 2;
    this.D = new Float64Array(pairs * d);
    let p = 0;
    for (let i = 1; i < n; i++) {
      for (let j = 0; j < i; j++, p++) {
        for (let k = 0; k < d; k++) {
          const t = X[i * d + k]! - X[j * d + k]!;
          this.D[p * d + k] = t * t;
        }
      }
    }
    this.K = new Float64Array(n * n);
    this.L = new Float64Array(n * n);
    this.Kinv = new Float64Array(n * n);
    this.work = new Float64Array(n * n);
    this.alpha = new Float64Array(n);
    this.gPair = new Float64Array(pairs);
    this.kPair = new Float64Array(pairs);
    this.acc = new Float64Array(d);
    this.kap = new Float64Array(d);
  }

  /** Negative log posterior at θ; writes its gradient into `grad` (length d + 2). Infinity when K is not factorisable. */
  evaluate(theta: Float64Array, grad: Float64Array): number {
    const { n, d, D, K, gPair, kPair, prior } = this;
    const kappa = this.kap;
    for (let k = 0; k < d; k++) kappa[k] = Math.exp(theta[k]!);
    const s2 = Math.exp(theta[d]!);
    const eta = Math.exp(theta[d + 1]!);
    const noise = NOISE_FLOOR + eta;
    if (!Number.isFinite(s2) || !Number.isFinite(noise)) return Infinity;
    // kernel matrix (lower triangle) and per-pair k and dk/d(r²)
    let p = 0;
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      for (let j = 0; j < i; j++, p++) {
        let r2 = 0;
        const o = p * d;
        for (let k = 0; k < d; k++) r2 += kappa[k]! * D[o + k]!;
        const r = Math.sqrt(r2);
        const e = Math.exp(-SQRT5 * r);
        const kv = s2 * (1 + SQRT5 * r + (5 / 3) * r2) * e;
        K[ri + j] = kv;
        kPair[p] = kv;
        gPair[p] = (-5 / 6) * s2 * (1 + SQRT5 * r) * e;
      }
      K[ri + i] = s2 + noise + (this.fixedNoise?.[i] ?? 0);
    }
    const ch = choleskyJitter(K, n, this.L);
    if (!ch) return Infinity;
    const L = ch.L;
    const alpha = cholSolve(L, n, this.y, this.alpha);
    let yAlpha = 0;
    for (let i = 0; i < n; i++) yAlpha += this.y[i]! * alpha[i]!;
    const lml = -0.5 * yAlpha - halfLogDet(L, n) - 0.5 * n * LOG_2PI;
    const Kinv = cholInverse(L, n, this.Kinv, this.work);
    // W = α α^T - K^{-1}; d lml / dθ = ½ tr(W dK/dθ)
    const acc = this.acc;
    acc.fill(0);
    let gS = 0;
    p = 0;
    for (let i = 0; i < n; i++) {
      const ai = alpha[i]!;
      const ri = i * n;
      for (let j = 0; j < i; j++, p++) {
        const w = ai * alpha[j]! - Kinv[ri + j]!;
        gS += w * kPair[p]!;
        const m = w * gPair[p]!;
        if (m === 0) continue;
        const o = p * d;
        for (let k = 0; k < d; k++) acc[k]! += m * D[o + k]!;
      }
    }
    let trW = 0;
    for (let i = 0; i < n; i++) trW += alpha[i]! * alpha[i]! - Kinv[i * n + i]!;
    gS += 0.5 * trW * s2;
    const gN = 0.5 * trW * eta;
    // log prior (densities over θ)
    let lp = 0;
    const tau2 = prior.tau * prior.tau;
    for (let k = 0; k < d; k++) {
      const kv = kappa[k]!;
      lp += theta[k]! - Math.log1p((kv * kv) / tau2);
      // d lml/dθ_k = Σ_{i>j} W_ij g_ij κ_k D_k(ij); d prior/dθ_k = 1 - 2κ²/(τ² + κ²)
      grad[k] = -(kv * acc[k]! + 1 - (2 * kv * kv) / (tau2 + kv * kv));
    }
    const zs = (theta[d]! - prior.logOutputscaleMean) / prior.logOutputscaleSd;
    const zn = (theta[d + 1]! - prior.logNoiseMean) / prior.logNoiseSd;
    lp += -0.5 * zs * zs - 0.5 * zn * zn;
    grad[d] = -(gS - zs / prior.logOutputscaleSd);
    grad[d + 1] = -(gN - zn / prior.logNoiseSd);
    return -(lml + lp);
  }
}

/** A fitted GP: the Cholesky factor of K + σ²I and α = K^{-1} y are cached for predictions. */
export class MaternGp {
  readonly n: number;
  readonly d: number;
  /** Training inputs n x d. */
  readonly X: Float64Array;
  readonly y: Float64Array;
  /** θ = [log κ (d), log s², log η]. */
  readonly theta: Float64Array;
  readonly kappa: Float64Array;
  readonly outputscale: number;
  readonly noise: number;
  /** Lower Cholesky factor of K + σ² I (n x n). */
  readonly L: Float64Array;
  readonly alpha: Float64Array;
  private readonly buf: Float64Array;
  /** Objective evaluations spent by fitGp (0 when constructed directly). */
  fitEvaluations = 0;
  /** Known per-observation noise variances on the diagonal (heteroscedastic option), if any. */
  readonly fixedNoise: Float64Array | undefined;

  constructor(
    X: Float64Array,
    n: number,
    d: number,
    y: Float64Array,
    theta: ArrayLike<number>,
    fixedNoise?: Float64Array,
  ) {
    this.fixedNoise = fixedNoise;
    this.n = n;
    this.d = d;
    this.X = X;
    this.y = y;
    this.theta = Float64Array.from(theta);
    this.kappa = Float64Array.from({ length: d }, (_, k) => Math.exp(theta[k]!));
    this.outputscale = Math.exp(theta[d]!);
    this.noise = NOISE_FLOOR + Math.exp(theta[d + 1]!);
    const K = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) K[i * n + j] = this.kernel(X, i * d, X, j * d);
      K[i * n + i] = this.outputscale + this.noise + (fixedNoise?.[i] ?? 0);
    }
    const ch = choleskyJitter(K, n);
    if (!ch) throw new RangeError('MaternGp: kernel matrix is not positive definite even with jitter');
    this.L = ch.L;
    this.alpha = cholSolve(this.L, n, y, new Float64Array(n));
    this.buf = new Float64Array(n);
  }

  /** k(X, x) into out (n): the hot loop of the acquisition, written without calls. */
  kernelVector(x: ArrayLike<number>, xo: number, out: Float64Array): Float64Array {
    const { n, d, X, kappa } = this;
    const s2 = this.outputscale;
    for (let i = 0; i < n; i++) {
      const o = i * d;
      let r2 = 0;
      for (let k = 0; k < d; k++) {
        const t = X[o + k]! - x[xo + k]!;
        r2 += kappa[k]! * t * t;
      }
      const r = Math.sqrt(r2);
      out[i] = s2 * (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
    }
    return out;
  }

  /** Noise-free kernel between rows a[ao..ao+d) and b[bo..bo+d). */
  kernel(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): number {
    let r2 = 0;
    for (let k = 0; k < this.d; k++) {
      const t = a[ao + k]! - b[bo + k]!;
      r2 += this.kappa[k]! * t * t;
    }
    return matern(r2, this.outputscale);
  }

  /**
   * Posterior of the latent f at x (row of length d at offset xo): mean k^T α and variance
   * s² - |L^{-1} k|² (no observation noise), floored at 0. If `v` is given, L^{-1}k is left in it.
   */
  predict(x: ArrayLike<number>, xo = 0, v?: Float64Array): { mean: number; variance: number } {
    const k = this.kernelVector(x, xo, v ?? this.buf);
    let mean = 0;
    for (let i = 0; i < this.n; i++) mean += k[i]! * this.alpha[i]!;
    solveLower(this.L, this.n, k, k);
    let q = 0;
    for (let i = 0; i < this.n; i++) q += k[i]! * k[i]!;
    return { mean, variance: Math.max(0, this.outputscale - q) };
  }

  /**
   * Joint posterior of f at m points (m x d): mean (m) and covariance (m x m).
   */
  predictJoint(Xs: Float64Array, m: number): { mean: Float64Array; cov: Float64Array } {
    const { n, d } = this;
    const V = new Float64Array(m * n);
    const mean = new Float64Array(m);
    for (let a = 0; a < m; a++) {
      const row = V.subarray(a * n, (a + 1) * n);
      this.kernelVector(Xs, a * d, row);
      let mu = 0;
      for (let i = 0; i < n; i++) mu += row[i]! * this.alpha[i]!;
      mean[a] = mu;
      solveLower(this.L, n, row, row);
    }
    const cov = new Float64Array(m * m);
    for (let a = 0; a < m; a++) {
      for (let b = 0; b <= a; b++) {
        let q = 0;
        for (let i = 0; i < n; i++) q += V[a * n + i]! * V[b * n + i]!;
        const c = this.kernel(Xs, a * d, Xs, b * d) - q;
        cov[a * m + b] = c;
        cov[b * m + a] = c;
      }
    }
    return { mean, cov };
  }
}

export interface GpFitOptions {
  prior?: GpPrior;
  /** Random restarts besides the default start (and the warm start, if any). */
  restarts?: number;
  /** L-BFGS iterations per start. */
  maxIter?: number;
  /** Start here too (e.g. the previous fit's θ): makes refits after one new point cheap. */
  warmStart?: ArrayLike<number>;
  /** Needed when restarts > 0. */
  rng?: Rng;
  /** L-BFGS relative-decrease tolerance (default 1e-7). */
  ftol?: number;
  /**
   * Rows used to fit the hyperparameters (default: all). The returned GP conditions on all n rows;
   * fitting θ on a subset bounds the O(n³)-per-evaluation cost for large histories.
   */
  fitRows?: readonly number[];
  /**
   * Known noise variance of each of the n observations (in y's units), added to the learned
   * homoscedastic noise: heteroscedastic observations such as accuracies on different numbers of
   * examples. Default none.
   */
  noiseVariances?: ArrayLike<number>;
}

/**
 * MAP fit by multi-start L-BFGS on θ; returns the GP at the best optimum found.
 * X: n x d row-major in [0,1]; y: n (already warped).
 */
export function fitGp(X: Float64Array, n: number, d: number, y: Float64Array, opts: GpFitOptions = {}): MaternGp {
  if (n === 0) throw new RangeError('fitGp: no observations');
  const prior = opts.prior ?? DEFAULT_PRIOR;
  let obj: GpObjective;
  const nv = opts.noiseVariances;
  if (nv && (nv.length !== n || !Array.prototype.every.call(nv, (v: number) => v >= 0 && Number.isFinite(v))))
    throw new RangeError(`fitGp: noiseVariances must be ${n} finite numbers >= 0`);
  const fixed = nv ? Float64Array.from(nv) : undefined;
  if (opts.fitRows && opts.fitRows.length < n) {
    const m = opts.fitRows.length;
    const Xs = new Float64Array(m * d);
    const ys = new Float64Array(m);
    const fs = fixed ? new Float64Array(m) : undefined;
    opts.fitRows.forEach((r, i) => {
      Xs.set(X.subarray(r * d, (r + 1) * d), i * d);
      ys[i] = y[r]!;
      if (fs) fs[i] = fixed![r]!;
    });
    obj = new GpObjective(Xs, m, d, ys, prior, fs);
  } else obj = new GpObjective(X, n, d, y, prior, fixed);
  const starts: Float64Array[] = [];
  const base = new Float64Array(d + 2);
  // NOTE: default start: lengthscale 1 (κ = 1) everywhere, unit outputscale, noise at the prior median.
  base.fill(0, 0, d);
  base[d] = 0;
  base[d + 1] = prior.logNoiseMean;
  const warm = opts.warmStart && opts.warmStart.length === d + 2;
  if (warm) starts.push(Float64Array.from(opts.warmStart!));
  // the default start is skipped when a warm start is given (its basin was found before)
  if (!warm || (opts.restarts ?? 0) > 0) starts.push(base);
  const restarts = opts.restarts ?? 0;
  if (restarts > 0 && !opts.rng) throw new RangeError('fitGp: restarts need an rng');
  for (let r = 0; r < restarts; r++) {
    const t = new Float64Array(d + 2);
    for (let k = 0; k < d; k++) t[k] = Math.log(prior.tau) + 3 * opts.rng!.float();
    t[d] = prior.logOutputscaleMean + 0.5 * opts.rng!.normal();
    t[d + 1] = prior.logNoiseMean + opts.rng!.normal();
    starts.push(t);
  }
  const grad = new Float64Array(d + 2);
  let best: Float64Array = base;
  let bestF = Infinity;
  let evaluations = 0;
  for (const s of starts) {
    if (!Number.isFinite(obj.evaluate(s, grad))) continue;
    // NOTE: tolerances: 1e-7 relative in the log posterior (~2e-5 nats at n = 200) and 1e-3 in the
    // gradient are far below what changes the acquisition's ranking.
    const r = lbfgs((x, g) => obj.evaluate(x, g), s, {
      maxIter: opts.maxIter ?? 60,
      gtol: 1e-3,
      ftol: opts.ftol ?? 1e-7,
    });
    evaluations += r.evaluations;
    if (r.f < bestF) {
      bestF = r.f;
      best = r.x;
    }
  }
  const gp = new MaternGp(X, n, d, y, best, fixed);
  gp.fitEvaluations = evaluations;
  return gp;
}
