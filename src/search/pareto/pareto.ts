/**
 * Pareto utilities. Internally everything is in the minimisation convention; `toMinimization`
 * flips maximised objectives (value -> -value).
 *
 * Points are `n x m` as arrays of rows (m objectives).
 */
import type { Direction } from '../types.js';

export type Points = readonly (readonly number[])[];

/** Flips maximised objectives so that smaller is better everywhere. */
export function toMinimization(values: Points, directions: readonly Direction[]): number[][] {
  return values.map((row) => {
    if (row.length !== directions.length)
      throw new RangeError(`toMinimization: row has ${row.length} values, expected ${directions.length}`);
    return row.map((v, j) => (directions[j] === 'maximize' ? -v : v));
  });
}

/** a dominates b (minimisation): a <= b everywhere and a < b somewhere. */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let strict = false;
  for (let j = 0; j < a.length; j++) {
    if (a[j]! > b[j]!) return false;
    if (a[j]! < b[j]!) strict = true;
  }
  return strict;
}

/**
 * Deb's fast non-dominated sort, O(m n^2). Returns the fronts as lists of row indices: front 0 is
 * the non-dominated set, front 1 is non-dominated once front 0 is removed, and so on. Equal points
 * share a front.
 */
export function nonDominatedSort(points: Points): number[][] {
  const n = points.length;
  const dominatedBy = new Int32Array(n);
  const dominating: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (dominates(points[i]!, points[j]!)) {
        dominating[i]!.push(j);
        dominatedBy[j]!++;
      } else if (dominates(points[j]!, points[i]!)) {
        dominating[j]!.push(i);
        dominatedBy[i]!++;
      }
    }
  }
  const fronts: number[][] = [];
  let cur: number[] = [];
  for (let i = 0; i < n; i++) if (dominatedBy[i] === 0) cur.push(i);
  while (cur.length > 0) {
    fronts.push(cur);
    const next: number[] = [];
    for (const i of cur) {
      for (const j of dominating[i]!) if (--dominatedBy[j]! === 0) next.push(j);
    }
    cur = next.sort((a, b) => a - b);
  }
  return fronts;
}

/** Indices of the non-dominated rows (minimisation). */
export function paretoFrontIndices(points: Points): number[] {
  const n = points.length;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let dom = false;
    for (let j = 0; j < n && !dom; j++) if (j !== i && dominates(points[j]!, points[i]!)) dom = true;
    if (!dom) out.push(i);
  }
  return out;
}

/**
 * NSGA-II crowding distance of the rows `indices` (one front). Boundary points per objective get
 * Infinity; the others the sum over objectives of the normalised gap between their neighbours.
 * Returns distances aligned with `indices`.
 */
export function crowdingDistance(points: Points, indices: readonly number[]): Float64Array {
  const k = indices.length;
  const d = new Float64Array(k);
  if (k === 0) return d;
  const m = points[indices[0]!]!.length;
  const order = Array.from({ length: k }, (_, i) => i);
  for (let j = 0; j < m; j++) {
    order.sort((a, b) => points[indices[a]!]![j]! - points[indices[b]!]![j]! || a - b);
    const lo = points[indices[order[0]!]!]![j]!;
    const hi = points[indices[order[k - 1]!]!]![j]!;
    d[order[0]!] = Infinity;
    d[order[k - 1]!] = Infinity;
    const range = hi - lo;
    if (!(range > 0)) continue;
    for (let t = 1; t < k - 1; t++) {
      const prev = points[indices[order[t - 1]!]!]![j]!;
      const next = points[indices[order[t + 1]!]!]![j]!;
      d[order[t]!]! += (next - prev) / range;
    }
  }
  return d;
}
