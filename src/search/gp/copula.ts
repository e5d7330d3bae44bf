/**
 * Normal copula output warping: y -> Φ^{-1}((rank - ½) / n), ties sharing their average rank.
 * The GP then sees marginally standard-normal targets whatever the metric's scale or skew; the map
 * is monotone, so Pareto dominance in the metric is unchanged.
 */
import { normQuantile } from '../linalg/normal.js';

export interface Copula {
  /** Warped targets, aligned with the input (n). */
  z: Float64Array;
  /**
   * Maps any metric value into the warped scale: piecewise-linear between the observed (y, z)
   * pairs, extended linearly beyond them with the end segments' slopes (slope 1 when all y are equal).
   */
  toLatent(value: number): number;
}

export function normalCopula(y: ArrayLike<number>): Copula {
  const n = y.length;
  if (n === 0) throw new RangeError('normalCopula: no observations');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => y[a]! - y[b]!);
  const z = new Float64Array(n);
  const ux: number[] = [];
  const uz: number[] = [];
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && y[order[j + 1]!] === y[order[i]!]) j++;
    // ranks i+1..j+1 share their mean (i + j + 2) / 2
    const v = normQuantile(((i + j + 2) / 2 - 0.5) / n);
    for (let k = i; k <= j; k++) z[order[k]!] = v;
    ux.push(y[order[i]!]!);
    uz.push(v);
    i = j + 1;
  }
  const m = ux.length;
  const toLatent = (v: number): number => {
    if (m === 1) return uz[0]! + (v - ux[0]!);
    if (v <= ux[0]!) return uz[0]! + ((uz[1]! - uz[0]!) / (ux[1]! - ux[0]!)) * (v - ux[0]!);
    if (v >= ux[m - 1]!) return uz[m - 1]! + ((uz[m - 1]! - uz[m - 2]!) / (ux[m - 1]! - ux[m - 2]!)) * (v - ux[m - 1]!);
    let lo = 0,
      hi = m - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (ux[mid]! <= v) lo = mid;
      else hi = mid;
    }
    return uz[lo]! + ((uz[hi]! - uz[lo]!) / (ux[hi]! - ux[lo]!)) * (v - ux[lo]!);
  };
  return { z, toLatent };
}
