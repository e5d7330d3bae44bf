/**
 * Exact hypervolume (minimisation convention): the Lebesgue measure of the region dominated by the
 * points and bounded above by the reference point r. Points not strictly better than r in every
 * objective contribute nothing.
 *
 * m = 1: max(0, r - min). m = 2: sort + sweep, O(n log n). m >= 3: WFG (While, Bradstreet, Barone
 * 2012): hv(S) = Σ_k exclusive(p_k | p_{k+1..}), exclusive = box(p_k) - hv(limit set), points
 * sorted by the last objective so that limit sets stay small; O(2^n) worst case, fast on fronts of
 * the sizes a search produces (tens to a few hundred).
 */
import type { Direction } from '../types.js';
import { paretoFrontIndices, toMinimization, type Points } from './pareto.js';

/** Hypervolume of `points` (n x m, minimisation) w.r.t. `ref` (m). */
export function hypervolume(points: Points, ref: readonly number[]): number {
  const m = ref.length;
  const pts: number[][] = [];
  for (const p of points) {
    if (p.length !== m) throw new RangeError(`hypervolume: point has ${p.length} values, reference point has ${m}`);
    let inside = true;
    for (let j = 0; j < m; j++)
      if (!(p[j]! < ref[j]!)) {
        inside = false;
        break;
      }
    if (inside) pts.push(p.slice());
  }
  if (pts.length === 0) return 0;
  if (m === 1) return ref[0]! - Math.min(...pts.map((p) => p[0]!));
  if (m === 2) return hv2d(pts, ref);
  const front = paretoFrontIndices(pts).map((i) => pts[i]!);
  return wfg(front, ref);
}

/** Hypervolume with objective directions: values in their natural orientation, ref likewise. */
export function hypervolumeWithDirections(
  values: Points,
  directions: readonly Direction[],
  ref: readonly number[],
): number {
  const flip = (v: number, j: number): number => (directions[j] === 'maximize' ? -v : v);
  return hypervolume(toMinimization(values, directions), ref.map(flip));
}

/** 2-D sweep: sort by x, keep a running minimum of y; points inside the reference box only. */
function hv2d(pts: number[][], ref: readonly number[]): number {
  pts.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let hv = 0;
  let yBest = ref[1]!;
  for (let i = 0; i < pts.length; i++) {
    const y = pts[i]![1]!;
    if (y < yBest) {
      // the strip from this point's x to the next improving point's x has height yBest - y
      let j = i + 1;
      while (j < pts.length && pts[j]![1]! >= y) j++;
      const xNext = j < pts.length ? pts[j]![0]! : ref[0]!;
      hv += (xNext - pts[i]![0]!) * (ref[1]! - y);
      yBest = y;
      i = j - 1;
    }
  }
  return hv;
}

function wfg(pts: number[][], ref: readonly number[]): number {
  const m = ref.length;
  if (pts.length === 0) return 0;
  if (m === 2)
    return hv2d(
      pts.map((p) => p.slice()),
      ref,
    );
  if (pts.length === 1) return box(pts[0]!, ref);
  // NOTE: sorting by the last objective (descending) makes each limit set small, WFG's key heuristic.
  pts.sort((a, b) => b[m - 1]! - a[m - 1]!);
  let hv = 0;
  for (let k = 0; k < pts.length; k++) {
    const p = pts[k]!;
    const limited: number[][] = [];
    for (let j = k + 1; j < pts.length; j++) {
      const q = pts[j]!;
      const w = new Array<number>(m);
      for (let t = 0; t < m; t++) w[t] = Math.max(p[t]!, q[t]!);
      limited.push(w);
    }
    const nd = nondominatedStrict(limited);
    hv += box(p, ref) - wfg(nd, ref);
  }
  return hv;
}

/** Non-dominated subset, dropping duplicates and weakly dominated points. */
function nondominatedStrict(pts: number[][]): number[][] {
  const out: number[][] = [];
  outer: for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!;
    for (let j = 0; j < pts.length; j++) {
      if (j === i) continue;
      const q = pts[j]!;
      let weak = true,
        equal = true;
      for (let t = 0; t < p.length; t++) {
        if (q[t]! > p[t]!) {
          weak = false;
          break;
        }
        if (q[t]! !== p[t]!) equal = false;
      }
      // q weakly dominates p: drop p (for equal points keep the first only)
      if (weak && (!equal || j < i)) continue outer;
    }
    out.push(p);
  }
  return out;
}

function box(p: readonly number[], ref: readonly number[]): number {
  let v = 1;
  for (let t = 0; t < p.length; t++) v *= ref[t]! - p[t]!;
  return v;
}

/**
 * Reference point inferred like BoTorch's `infer_reference_point` (here in the minimisation
 * convention): the nadir of the Pareto front plus `scale` times the front's range per objective;
 * where the range is 0, `scale * |nadir|` is used, and `scale` when the nadir is 0 too.
 */
export function inferReferencePoint(points: Points, scale = 0.1): number[] {
  if (points.length === 0) throw new RangeError('inferReferencePoint: no points');
  const front = paretoFrontIndices(points).map((i) => points[i]!);
  const m = points[0]!.length;
  const ref = new Array<number>(m);
  for (let j = 0; j < m; j++) {
    let lo = Infinity,
      hi = -Infinity;
    for (const p of front) {
      lo = Math.min(lo, p[j]!);
      hi = Math.max(hi, p[j]!);
    }
    let range = hi - lo;
    if (!(range > 0)) range = Math.abs(hi) > 0 ? Math.abs(hi) : 1;
    ref[j] = hi + scale * range;
  }
  return ref;
}
