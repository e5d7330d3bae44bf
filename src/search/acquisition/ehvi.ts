/**
 * Expected hypervolume improvement when exactly one objective is uncertain and the others are
 * known exactly (AutoPEFT: the dev metric is modelled by a GP, the parameter % is computed).
 * Minimisation convention throughout: known coordinates c (k of them), uncertain value V ~ N(m, s²).
 *
 * For a fixed candidate c, adding the point (c, v) to a front P with reference point (r_c, r_v)
 * adds the region { (x, u) : c <= x < r_c, v <= u < h(x) } where h(x) = min(r_v, min{p_v : p_c <= x})
 * is the front's staircase above x. h is piecewise constant over cells of total size w_j, so
 *   HVI(v) = Σ_j w_j (h_j - v)_+   and   EHVI = Σ_j w_j E[(h_j - V)_+]
 *          = Σ_j w_j [(h_j - m) Φ(z_j) + s φ(z_j)],  z_j = (h_j - m) / s.
 * k = 1: the cells are the staircase's steps between c and r_c (O(|P|)); k = 0: one cell (this is
 * plain expected improvement); k >= 2: the grid of the front's coordinates inside [c, r_c]
 * (O(|P|^k) cells, fine for small k and fronts).
 */
import { normExpectedPositivePart } from '../linalg/normal.js';

/** E[(h - V)_+] for V ~ N(m, s²). */
export function expectedPositivePart(h: number, m: number, s: number): number {
  if (!(s > 0)) return Math.max(0, h - m);
  return normExpectedPositivePart(h, m, s);
}

/** Cells whose height is this many sd below the mean add < 1e-30 relative: skipped. */
const CUTOFF_SD = 12;

/** A front in the "k known + 1 uncertain" layout (minimisation), clipped to the reference box. */
export class KnownFront {
  readonly k: number;
  /** Known coordinates of the kept front points, row-major (size x k). */
  private readonly pc: Float64Array;
  private readonly pv: Float64Array;
  readonly size: number;
  readonly refKnown: Float64Array;
  readonly refValue: number;
  // k = 1 staircase: sorted by c ascending, v strictly decreasing
  private readonly sc: Float64Array;
  private readonly sv: Float64Array;

  /**
   * known: size n x k (rows), values: n (the uncertain objective's value for each point),
   * ref: k known reference coordinates followed by the uncertain one.
   */
  constructor(known: readonly (readonly number[])[], values: ArrayLike<number>, ref: readonly number[]) {
    const k = ref.length - 1;
    this.k = k;
    this.refKnown = Float64Array.from(ref.slice(0, k));
    this.refValue = ref[k]!;
    const keep: number[] = [];
    for (let i = 0; i < values.length; i++) {
      let inside = values[i]! < this.refValue;
      for (let j = 0; j < k && inside; j++) inside = known[i]![j]! < this.refKnown[j]!;
      if (inside) keep.push(i);
    }
    this.size = keep.length;
    this.pc = new Float64Array(keep.length * k);
    this.pv = new Float64Array(keep.length);
    keep.forEach((i, t) => {
      for (let j = 0; j < k; j++) this.pc[t * k + j] = known[i]![j]!;
      this.pv[t] = values[i]!;
    });
    if (k === 1) {
      const order = keep.map((_, t) => t).sort((a, b) => this.pc[a]! - this.pc[b]! || this.pv[a]! - this.pv[b]!);
      const sc: number[] = [],
        sv: number[] = [];
      let best = Infinity;
      for (const t of order) {
        if (this.pv[t]! < best) {
          sc.push(this.pc[t]!);
          sv.push(this.pv[t]!);
          best = this.pv[t]!;
        }
      }
      this.sc = Float64Array.from(sc);
      this.sv = Float64Array.from(sv);
    } else {
      this.sc = new Float64Array(0);
      this.sv = new Float64Array(0);
    }
  }

  /**
   * Calls visit(w, h) for each cell of the improvement region's decomposition for a candidate with
   * known coordinates c: the cell has size w and the staircase height there is h.
   */
  cells(c: ArrayLike<number>, visit: (w: number, h: number) => void): void {
    const k = this.k;
    for (let j = 0; j < k; j++) if (!(c[j]! < this.refKnown[j]!)) return;
    if (k === 0) {
      let h = this.refValue;
      for (let t = 0; t < this.size; t++) h = Math.min(h, this.pv[t]!);
      visit(1, h);
      return;
    }
    if (k === 1) {
      const cc = c[0]!;
      const rc = this.refKnown[0]!;
      const sc = this.sc,
        sv = this.sv;
      let h = this.refValue;
      let t = 0;
      while (t < sc.length && sc[t]! <= cc) {
        h = sv[t]!;
        t++;
      }
      let x = cc;
      for (; t < sc.length; t++) {
        visit(sc[t]! - x, h);
        x = sc[t]!;
        h = sv[t]!;
      }
      visit(rc - x, h);
      return;
    }
    this.gridCells(c, visit);
  }

  private gridCells(c: ArrayLike<number>, visit: (w: number, h: number) => void): void {
    const k = this.k;
    const bps: number[][] = [];
    for (let j = 0; j < k; j++) {
      const s = new Set<number>([c[j]!]);
      for (let t = 0; t < this.size; t++) {
        const v = this.pc[t * k + j]!;
        if (v > c[j]! && v < this.refKnown[j]!) s.add(v);
      }
      const arr = [...s].sort((a, b) => a - b);
      arr.push(this.refKnown[j]!);
      bps.push(arr);
    }
    const idx = new Array<number>(k).fill(0);
    for (;;) {
      let w = 1;
      for (let j = 0; j < k; j++) w *= bps[j]![idx[j]! + 1]! - bps[j]![idx[j]!]!;
      let h = this.refValue;
      for (let t = 0; t < this.size; t++) {
        let dom = true;
        for (let j = 0; j < k && dom; j++) dom = this.pc[t * k + j]! <= bps[j]![idx[j]!]!;
        if (dom && this.pv[t]! < h) h = this.pv[t]!;
      }
      visit(w, h);
      let j = 0;
      while (j < k && ++idx[j]! >= bps[j]!.length - 1) {
        idx[j] = 0;
        j++;
      }
      if (j === k) return;
    }
  }

  /** Closed-form EHVI for known coordinates c and V ~ N(mean, sd²). */
  ehvi(c: ArrayLike<number>, mean: number, sd: number): number {
    if (this.k === 1) return this.ehvi1(c[0]!, mean, sd);
    let total = 0;
    this.cells(c, (w, h) => {
      if (w > 0 && h > mean - CUTOFF_SD * sd) total += w * expectedPositivePart(h, mean, sd);
    });
    return total;
  }

  /** The k = 1 staircase walk of `cells` without a callback (the acquisition's hot loop). */
  private ehvi1(cc: number, mean: number, sd: number): number {
    const rc = this.refKnown[0]!;
    if (!(cc < rc)) return 0;
    const sc = this.sc,
      sv = this.sv;
    // NOTE: cells more than CUTOFF_SD sd below the mean contribute E < sd·1e-33: skipped.
    const floor = mean - CUTOFF_SD * sd;
    let h = this.refValue;
    let t = 0;
    while (t < sc.length && sc[t]! <= cc) {
      h = sv[t]!;
      t++;
    }
    let x = cc;
    let total = 0;
    for (; t < sc.length; t++) {
      if (h <= floor) return total; // heights only decrease from here
      const w = sc[t]! - x;
      if (w > 0) total += w * expectedPositivePart(h, mean, sd);
      x = sc[t]!;
      h = sv[t]!;
    }
    if (h > floor && rc > x) total += (rc - x) * expectedPositivePart(h, mean, sd);
    return total;
  }

  /** Exact HVI of adding the point (c, v). */
  hvi(c: ArrayLike<number>, v: number): number {
    let total = 0;
    this.cells(c, (w, h) => {
      if (w > 0 && h > v) total += w * (h - v);
    });
    return total;
  }
}
