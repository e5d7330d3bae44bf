/**
 * Dense Float64Array linear algebra for the GP: row-major n x n matrices, lower Cholesky factors.
 * Inner loops run over contiguous rows (dot products and axpys) and write into caller buffers.
 */

/**
 * In-place lower Cholesky of the symmetric positive definite A (n x n, row-major; only the lower
 * triangle is read). On success L overwrites the lower triangle, the strict upper triangle is
 * zeroed and true is returned; false when a pivot is not positive (A is left partly overwritten).
 */
export function choleskyInPlace(A: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      // NOTE: 4 partial sums break the floating-point add dependency chain (~1.5-2x faster in V8).
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      let k = 0;
      for (; k + 3 < j; k += 4) {
        s0 += A[ri + k]! * A[rj + k]!;
        s1 += A[ri + k + 1]! * A[rj + k + 1]!;
        s2 += A[ri + k + 2]! * A[rj + k + 2]!;
        s3 += A[ri + k + 3]! * A[rj + k + 3]!;
      }
      for (; k < j; k++) s0 += A[ri + k]! * A[rj + k]!;
      const s = A[ri + j]! - (s0 + s1 + s2 + s3);
      if (j === i) {
        if (!(s > 0) || !Number.isFinite(s)) return false;
        A[ri + i] = Math.sqrt(s);
      } else {
        A[ri + j] = s / A[rj + j]!;
      }
    }
    for (let j = i + 1; j < n; j++) A[ri + j] = 0;
  }
  return true;
}

export interface CholeskyResult {
  /** Lower factor, n x n. */
  L: Float64Array;
  /** Diagonal jitter that was added (0 when none was needed). */
  jitter: number;
}

/**
 * Cholesky of A + jitter I with retries: jitter 0, then 1e-9, 1e-8, ... 1e-3 times the mean
 * diagonal. Writes the factor into `out` (allocated when absent); A is not modified.
 * Returns null when even the largest jitter fails.
 */
export function choleskyJitter(A: Float64Array, n: number, out?: Float64Array): CholeskyResult | null {
  const L = out ?? new Float64Array(n * n);
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += A[i * n + i]!;
  meanDiag = n > 0 ? Math.abs(meanDiag / n) : 1;
  // NOTE: relative jitter ladder; 1e-3 of the diagonal is the most we accept before calling it failed.
  for (let t = -1; t <= 6; t++) {
    const jitter = t < 0 ? 0 : meanDiag * 10 ** (t - 9);
    L.set(A.subarray(0, n * n));
    if (jitter > 0) for (let i = 0; i < n; i++) L[i * n + i]! += jitter;
    if (choleskyInPlace(L, n)) return { L, jitter };
  }
  return null;
}

/** Solves L x = b (forward substitution); x may alias b. L lower n x n. */
export function solveLower(L: Float64Array, n: number, b: ArrayLike<number>, x: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    let k = 0;
    for (; k + 3 < i; k += 4) {
      s0 += L[ri + k]! * x[k]!;
      s1 += L[ri + k + 1]! * x[k + 1]!;
      s2 += L[ri + k + 2]! * x[k + 2]!;
      s3 += L[ri + k + 3]! * x[k + 3]!;
    }
    for (; k < i; k++) s0 += L[ri + k]! * x[k]!;
    x[i] = (b[i]! - (s0 + s1 + s2 + s3)) / L[ri + i]!;
  }
  return x;
}

/** Solves L^T x = b (back substitution with the lower factor); x may alias b. */
export function solveLowerT(L: Float64Array, n: number, b: ArrayLike<number>, x: Float64Array): Float64Array {
  if (x !== b) for (let i = 0; i < n; i++) x[i] = b[i]!;
  for (let i = n - 1; i >= 0; i--) {
    const v = x[i]! / L[i * n + i]!;
    x[i] = v;
    // subtract column i of L^T (= row i of L) from the entries above
    const ri = i * n;
    for (let k = 0; k < i; k++) x[k]! -= L[ri + k]! * v;
  }
  return x;
}

/** Solves (L L^T) x = b. */
export function cholSolve(L: Float64Array, n: number, b: ArrayLike<number>, x: Float64Array): Float64Array {
  solveLower(L, n, b, x);
  return solveLowerT(L, n, x, x);
}

/** L^{-1} (lower, n x n) written into `out`, by rows: X_i = (e_i - Σ_{k<i} L_ik X_k) / L_ii. */
export function invertLower(L: Float64Array, n: number, out: Float64Array): Float64Array {
  out.fill(0, 0, n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let k = 0; k < i; k++) {
      const l = L[ri + k]!;
      if (l === 0) continue;
      const rk = k * n;
      let j = 0;
      for (; j + 3 <= k; j += 4) {
        out[ri + j]! -= l * out[rk + j]!;
        out[ri + j + 1]! -= l * out[rk + j + 1]!;
        out[ri + j + 2]! -= l * out[rk + j + 2]!;
        out[ri + j + 3]! -= l * out[rk + j + 3]!;
      }
      for (; j <= k; j++) out[ri + j]! -= l * out[rk + j]!;
    }
    const inv = 1 / L[ri + i]!;
    for (let j = 0; j < i; j++) out[ri + j]! *= inv;
    out[ri + i] = inv;
  }
  return out;
}

/**
 * (L L^T)^{-1} = L^{-T} L^{-1}, full symmetric n x n into `out`; `work` (n x n) receives L^{-1}.
 */
export function cholInverse(L: Float64Array, n: number, out: Float64Array, work: Float64Array): Float64Array {
  const X = invertLower(L, n, work);
  out.fill(0, 0, n * n);
  // (K^-1)_ij = Σ_{k >= max(i,j)} X_ki X_kj: accumulate row k's outer product into the lower triangle
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let i = 0; i <= k; i++) {
      const xi = X[rk + i]!;
      if (xi === 0) continue;
      const ri = i * n;
      let j = 0;
      for (; j + 3 <= i; j += 4) {
        out[ri + j]! += xi * X[rk + j]!;
        out[ri + j + 1]! += xi * X[rk + j + 1]!;
        out[ri + j + 2]! += xi * X[rk + j + 2]!;
        out[ri + j + 3]! += xi * X[rk + j + 3]!;
      }
      for (; j <= i; j++) out[ri + j]! += xi * X[rk + j]!;
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) out[j * n + i] = out[i * n + j]!;
  return out;
}

/** Σ log L_ii = ½ log det(L L^T). */
export function halfLogDet(L: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(L[i * n + i]!);
  return s;
}
