/**
 * The AdamW update of a TrainingProgram, applied in JS to the flat param and moment vectors in
 * place (one pass over p, g, m, v) instead of as ~14 ORT ops whose outputs the binding copies into
 * fresh buffers every step. In float32 every intermediate is rounded as the op-by-op graph
 * (`adamWUpdate` in ./training.ts) rounds it, so both give the same bits (tested).
 */

import { adamWSegment32Simd } from './adamw-simd.js';

export type FloatArray = Float32Array | Float64Array;

/** Per-step scalars, already in the program's dtype (see `adamWScalars`). */
export interface AdamWScalars {
  /** 1 - beta1, 1 - beta2. */
  c1: number;
  c2: number;
  eps: number;
  /** 1 - beta2^t. */
  bc2: number;
  /** lr / (1 - beta1^t). */
  stepSize: number;
  /** lr * weightDecay: the masked form p - p (mask lr wd). */
  lw: number;
  /** 1 - lr * weightDecay: the unmasked form p (1 - lr wd). */
  keep: number;
  /** Gradient scale from global-norm clipping (1 when not clipped). */
  gradScale: number;
}

/** How a param segment is decayed: not at all (wd = 0), `p - p (mask lr wd)`, or `p (1 - lr wd)`. */
export type DecayForm = 'none' | 'masked-on' | 'masked-off' | 'scaled';

export interface AdamWSettings {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  maxGradNorm?: number | undefined;
}

/** The step's scalars computed as the graph computes them (each op rounded to the dtype). */
export function adamWScalars(
  s: AdamWSettings,
  lr: number,
  step: number,
  gradNorm: number | undefined,
  f32: boolean,
): AdamWScalars {
  const F = f32 ? Math.fround : (x: number) => x;
  const lrT = F(lr);
  const bc1 = F(1 - F(F(s.beta1) ** F(step)));
  const bc2 = F(1 - F(F(s.beta2) ** F(step)));
  const lw = F(lrT * F(s.weightDecay));
  let gradScale = 1;
  if (s.maxGradNorm !== undefined && gradNorm !== undefined) {
    const c = F(s.maxGradNorm);
    if (gradNorm > c) gradScale = F(c / gradNorm);
  }
  return {
    c1: F(1 - s.beta1),
    c2: F(1 - s.beta2),
    eps: F(s.eps),
    bc2,
    stepSize: F(lrT / bc1),
    lw,
    keep: F(1 - lw),
    gradScale,
  };
}

/** Sum of squares of the gradients (float64 accumulation); a missing gradient counts as zeros. */
export function sumOfSquares(grads: readonly (FloatArray | null)[]): number {
  let s = 0;
  for (const g of grads) {
    if (!g) continue;
    for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  }
  return s;
}

/** Zeros for a param without a gradient: one buffer per type, grown as needed and never written to. */
const zeroBuffers = new Map<unknown, FloatArray>();
function zeros<T extends FloatArray>(n: number, type: { new (n: number): T }): T {
  let z = zeroBuffers.get(type) as T | undefined;
  if (!z || z.length < n) zeroBuffers.set(type, (z = new type(n)));
  return z;
}

/**
 * One AdamW update of the segment [off, off + n) of the flat vectors (g indexed from 0; null = a
 * zero gradient). Reads p, m, v and writes pOut, mOut, vOut, which may be the same arrays (in
 * place: every element is read before it is written). Math.fround after every op is what makes
 * the bits match the float32 graph; it is called directly (not through an alias), which V8 turns
 * into one instruction. The unscaled gradient is multiplied by 1 (exact), and 'none' and
 * 'masked-off' run as the masked form with lr wd = 0 (p - p 0 = p, up to the sign of a zero).
 */
export function adamWSegment32(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  pOut: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
  grad: Float32Array | null,
  off: number,
  n: number,
  s: AdamWScalars,
  decay: DecayForm,
): void {
  const { c1, c2, eps, bc2, stepSize, gradScale, keep } = s;
  const g = grad ?? zeros(n, Float32Array);
  if (decay === 'scaled') {
    for (let i = 0, j = off; i < n; i++, j++) {
      const gi = Math.fround(g[i]! * gradScale);
      const mi = m[j]!;
      const vi = v[j]!;
      const m2 = Math.fround(mi + Math.fround(Math.fround(gi - mi) * c1));
      const v2 = Math.fround(vi + Math.fround(Math.fround(Math.fround(gi * gi) - vi) * c2));
      const d = Math.fround(Math.fround(Math.sqrt(Math.fround(v2 / bc2))) + eps);
      const upd = Math.fround(Math.fround(m2 / d) * stepSize);
      mOut[j] = m2;
      vOut[j] = v2;
      pOut[j] = Math.fround(Math.fround(p[j]! * keep) - upd);
    }
    return;
  }
  const lw = decay === 'masked-on' ? s.lw : 0;
  for (let i = 0, j = off; i < n; i++, j++) {
    const gi = Math.fround(g[i]! * gradScale);
    const mi = m[j]!;
    const vi = v[j]!;
    const m2 = Math.fround(mi + Math.fround(Math.fround(gi - mi) * c1));
    const v2 = Math.fround(vi + Math.fround(Math.fround(Math.fround(gi * gi) - vi) * c2));
    const d = Math.fround(Math.fround(Math.sqrt(Math.fround(v2 / bc2))) + eps);
    const upd = Math.fround(Math.fround(m2 / d) * stepSize);
    const pi = p[j]!;
    mOut[j] = m2;
    vOut[j] = v2;
    pOut[j] = Math.fround(Math.fround(pi - Math.fround(pi * lw)) - upd);
  }
}

/** `adamWSegment32` for float64 programs (no intermediate rounding: float64 is the working type). */
export function adamWSegment64(
  p: Float64Array,
  m: Float64Array,
  v: Float64Array,
  pOut: Float64Array,
  mOut: Float64Array,
  vOut: Float64Array,
  grad: Float64Array | null,
  off: number,
  n: number,
  s: AdamWScalars,
  decay: DecayForm,
): void {
  const { c1, c2, eps, bc2, stepSize, gradScale, keep, lw } = s;
  const g = grad ?? zeros(n, Float64Array);
  const mode = decay === 'scaled' ? 1 : decay === 'masked-on' ? 2 : 0;
  for (let i = 0, j = off; i < n; i++, j++) {
    const gi = g[i]! * gradScale;
    const mi = m[j]!;
    const vi = v[j]!;
    const m2 = mi + (gi - mi) * c1;
    const v2 = vi + (gi * gi - vi) * c2;
    const upd = (m2 / (Math.sqrt(v2 / bc2) + eps)) * stepSize;
    const pi = p[j]!;
    const decayed = mode === 0 ? pi : mode === 1 ? pi * keep : pi - pi * lw;
    mOut[j] = m2;
    vOut[j] = v2;
    pOut[j] = decayed - upd;
  }
}

/**
 * `adamWSegment32` (by its WebAssembly SIMD form, ./adamw-simd.ts, where available: same bits, several
 * times faster) or `adamWSegment64` by dtype, over [p, m, v, pOut, mOut, vOut] given as ORT tensors
 * of one dtype (the program's).
 */
export function adamWSegment(
  t: readonly [Tensorish, Tensorish, Tensorish, Tensorish, Tensorish, Tensorish],
  g: FloatArray | null,
  off: number,
  n: number,
  s: AdamWScalars,
  decay: DecayForm,
): void {
  const [p, m, v, pOut, mOut, vOut] = t.map((x) => x.data);
  if (p instanceof Float32Array) {
    const args = [
      p,
      m as Float32Array,
      v as Float32Array,
      pOut as Float32Array,
      mOut as Float32Array,
      vOut as Float32Array,
      g as Float32Array | null,
      off,
      n,
      s,
      decay,
    ] as const;
    if (!adamWSegment32Simd(...args)) adamWSegment32(...args);
  } else
    adamWSegment64(
      p as Float64Array,
      m as Float64Array,
      v as Float64Array,
      pOut as Float64Array,
      mOut as Float64Array,
      vOut as Float64Array,
      g as Float64Array | null,
      off,
      n,
      s,
      decay,
    );
}

/** What adamWSegment reads of an ORT tensor. */
interface Tensorish {
  readonly data: unknown;
}
