/**
 * Limited-memory BFGS (Nocedal & Wright 2006, Alg. 7.4/7.5) with a strong-Wolfe line search
 * (Alg. 3.5/3.6, safeguarded cubic interpolation in the zoom). Unconstrained: callers optimise
 * log-parameters and keep them in range with priors.
 */

/** f(x) -> value, writing ∇f(x) into grad. May return a non-finite value for points outside the domain. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  /** Iteration cap. */
  maxIter?: number;
  /** History size. */
  memory?: number;
  /** Stop when max |∇f| <= gtol. */
  gtol?: number;
  /** Stop when the relative decrease of f over an iteration is <= ftol (scipy's factr idea). */
  ftol?: number;
  /** Cap on objective evaluations (all line searches together). */
  maxEval?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  evaluations: number;
  /** Why it stopped. */
  reason: 'gtol' | 'ftol' | 'maxIter' | 'maxEval' | 'lineSearch';
}

const C1 = 1e-4;
const C2 = 0.9;

export function lbfgs(fn: Objective, x0: ArrayLike<number>, opts: LbfgsOptions = {}): LbfgsResult {
  const maxIter = opts.maxIter ?? 100;
  const mem = opts.memory ?? 10;
  const gtol = opts.gtol ?? 1e-5;
  const ftol = opts.ftol ?? 1e-9;
  const maxEval = opts.maxEval ?? maxIter * 4;
  const n = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let evals = 1;
  let f = fn(x, g);
  if (!Number.isFinite(f)) throw new RangeError('lbfgs: objective is not finite at the starting point');
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alphaBuf = new Float64Array(mem);
  const d = new Float64Array(n);
  let xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  let iter = 0;
  let reason: LbfgsResult['reason'] = 'maxIter';
  if (maxAbs(g) <= gtol) return { x, f, iterations: 0, evaluations: evals, reason: 'gtol' };

  while (iter < maxIter) {
    // two-loop recursion: d = -H g
    for (let i = 0; i < n; i++) d[i] = -g[i]!;
    const k = S.length;
    for (let j = k - 1; j >= 0; j--) {
      const a = rho[j]! * dotv(S[j]!, d);
      alphaBuf[j] = a;
      axpy(-a, Y[j]!, d);
    }
    if (k > 0) {
      const gamma = dotv(S[k - 1]!, Y[k - 1]!) / dotv(Y[k - 1]!, Y[k - 1]!);
      for (let i = 0; i < n; i++) d[i]! *= gamma;
    }
    for (let j = 0; j < k; j++) {
      const b = rho[j]! * dotv(Y[j]!, d);
      axpy(alphaBuf[j]! - b, S[j]!, d);
    }
    let dg = dotv(d, g);
    if (!(dg < 0)) {
      // not a descent direction (numerical trouble): restart from steepest descent
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      dg = dotv(d, g);
    }
    const step0 = k === 0 ? Math.min(1, 1 / Math.max(1e-12, Math.sqrt(dotv(g, g)))) : 1;
    const ls = wolfe(fn, x, f, d, dg, step0, xNew, gNew, maxEval - evals);
    evals += ls.evals;
    if (ls.alpha === 0) {
      reason = evals >= maxEval ? 'maxEval' : 'lineSearch';
      break;
    }
    iter++;
    // s = xNew - x, y = gNew - g
    const s = new Float64Array(n),
      y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    const sy = dotv(s, y);
    const fOld = f;
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    f = ls.f;
    // NOTE: skip the update when curvature is not safely positive (keeps H positive definite).
    if (sy > 1e-10 * Math.sqrt(dotv(s, s) * dotv(y, y))) {
      if (S.length === mem) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    if (maxAbs(g) <= gtol) {
      reason = 'gtol';
      break;
    }
    if ((fOld - f) / Math.max(Math.abs(fOld), Math.abs(f), 1) <= ftol) {
      reason = 'ftol';
      break;
    }
    if (evals >= maxEval) {
      reason = 'maxEval';
      break;
    }
  }
  return { x, f, iterations: iter, evaluations: evals, reason };
}

interface LineSearchResult {
  alpha: number;
  f: number;
  evals: number;
}

/**
 * Strong-Wolfe line search along d from x. On success writes the accepted point and its gradient
 * into xOut/gOut and returns alpha > 0; returns alpha = 0 when no acceptable step was found (then
 * it still returns the best sufficient-decrease point if one was seen).
 */
function wolfe(
  fn: Objective,
  x: Float64Array,
  f0: number,
  d: Float64Array,
  dg0: number,
  alpha1: number,
  xOut: Float64Array,
  gOut: Float64Array,
  budget: number,
): LineSearchResult {
  const n = x.length;
  const xt = new Float64Array(n);
  const gt = new Float64Array(n);
  let evals = 0;
  let bestA = 0,
    bestF = f0;
  const bestX = new Float64Array(n),
    bestG = new Float64Array(n);
  const phi = (a: number): { f: number; dg: number } => {
    for (let i = 0; i < n; i++) xt[i] = x[i]! + a * d[i]!;
    evals++;
    const fv = fn(xt, gt);
    const ok = Number.isFinite(fv);
    if (ok && fv < bestF && fv <= f0 + C1 * a * dg0) {
      bestA = a;
      bestF = fv;
      bestX.set(xt);
      bestG.set(gt);
    }
    return { f: ok ? fv : Infinity, dg: ok ? dotv(gt, d) : NaN };
  };
  const accept = (a: number, fv: number): LineSearchResult => {
    xOut.set(xt);
    gOut.set(gt);
    return { alpha: a, f: fv, evals };
  };
  const fallback = (): LineSearchResult => {
    if (bestA > 0) {
      xOut.set(bestX);
      gOut.set(bestG);
      return { alpha: bestA, f: bestF, evals };
    }
    return { alpha: 0, f: f0, evals };
  };

  let aPrev = 0,
    fPrev = f0,
    dgPrev = dg0;
  let a = alpha1;
  const maxLs = Math.min(25, Math.max(1, budget));
  for (let i = 0; i < maxLs; i++) {
    const p = phi(a);
    if (p.f > f0 + C1 * a * dg0 || (i > 0 && p.f >= fPrev)) {
      return zoom(aPrev, fPrev, dgPrev, a, p.f, p.dg);
    }
    if (Math.abs(p.dg) <= -C2 * dg0) return accept(a, p.f);
    if (p.dg >= 0) return zoom(a, p.f, p.dg, aPrev, fPrev, dgPrev);
    aPrev = a;
    fPrev = p.f;
    dgPrev = p.dg;
    a *= 2;
  }
  return fallback();

  function zoom(lo: number, fLo: number, dgLo: number, hi: number, fHi: number, dgHi: number): LineSearchResult {
    for (let j = 0; j < 20 && evals < maxLs + 20; j++) {
      let a2 = cubicMin(lo, fLo, dgLo, hi, fHi, dgHi);
      const left = Math.min(lo, hi),
        right = Math.max(lo, hi),
        w = right - left;
      if (!Number.isFinite(a2) || a2 < left + 0.1 * w || a2 > right - 0.1 * w) a2 = 0.5 * (lo + hi);
      if (w < 1e-14 * Math.max(1, right)) break;
      const p = phi(a2);
      if (p.f > f0 + C1 * a2 * dg0 || p.f >= fLo) {
        hi = a2;
        fHi = p.f;
        dgHi = p.dg;
      } else {
        if (Math.abs(p.dg) <= -C2 * dg0) return accept(a2, p.f);
        if (p.dg * (hi - lo) >= 0) {
          hi = lo;
          fHi = fLo;
          dgHi = dgLo;
        }
        lo = a2;
        fLo = p.f;
        dgLo = p.dg;
      }
    }
    return fallback();
  }
}

/** Minimiser of the cubic through (a, fa, da), (b, fb, db) (Nocedal & Wright eq. 3.59); NaN if undefined. */
function cubicMin(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  if (!Number.isFinite(fa) || !Number.isFinite(fb) || !Number.isFinite(da) || !Number.isFinite(db)) return NaN;
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - da * db;
  if (disc < 0) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2);
}

function dotv(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i]! += a * x[i]!;
}
function maxAbs(g: Float64Array): number {
  let m = 0;
  for (let i = 0; i < g.length; i++) m = Math.max(m, Math.abs(g[i]!));
  return m;
}
