/**
 * Gradient check: autodiff gradients (run by ORT) against central finite differences of the same
 * ORT forward pass.
 *
 * NOTE: float64 cases use eps 1e-6 and tolerance 1e-7 + 1e-5 |g|. Ops whose ORT CPU kernel is
 * float32-only (Erf, com.microsoft Gelu, LayerNormalization) are checked in float32 with eps 1e-2 and tolerance
 * 2e-3 + 2e-2 |g|: float32 round-off in the loss (~1e-7 relative) divided by 2 eps dominates.
 */
import { gradients } from '../graph/autodiff.js';
import { Graph, type DType, type Value } from '../graph/ir.js';
import { mul } from '../graph/ops/elementwise.js';
import { reduceSum } from '../graph/ops/reduce.js';
import { emitOnnx } from '../graph/onnx/emit.js';
import { createSession, type ort, tensor } from '../runtime/session.js';
import { Rng } from './random.js';

export interface GradcheckBuild {
  /** Output to check (a random weighting makes it a scalar loss). */
  out: Value;
  /** Params (g.param) to differentiate with respect to. */
  wrt: Value[];
  /** Feeds for graph inputs, if any. */
  feeds?: Record<string, ort.Tensor>;
}

export interface GradcheckOptions {
  dtype?: 'float32' | 'float64';
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
}

export interface GradcheckResult {
  /** Largest |analytic - numeric| / (atol + rtol |numeric|): <= 1 passes. */
  worst: number;
  maxAbsErr: number;
  checked: number;
  failures: string[];
}

export async function gradcheck(
  build: (g: Graph, dtype: DType, rng: Rng) => GradcheckBuild,
  opts: GradcheckOptions = {},
): Promise<GradcheckResult> {
  const dtype = opts.dtype ?? 'float64';
  const f64 = dtype === 'float64';
  const eps = opts.eps ?? (f64 ? 1e-6 : 1e-2);
  const atol = opts.atol ?? (f64 ? 1e-7 : 2e-3);
  const rtol = opts.rtol ?? (f64 ? 1e-5 : 2e-2);
  const rng = new Rng(opts.seed ?? 1234);
  const g = new Graph();
  const { out, wrt, feeds = {} } = build(g, dtype, rng);
  let loss = out;
  if (out.size !== 1) {
    const n = out.size;
    if (n === undefined) throw new Error(`gradcheck: output ${out} needs a static shape`);
    const r = out.dtype === 'float64' ? rng.float64(n) : rng.float32(n);
    loss = reduceSum(mul(out, g.constant(r, out.shape)));
  }
  const grads = gradients(loss, wrt);
  const contribOps = !f64;
  const gradModel = emitOnnx({
    outputs: [['loss', loss], ...wrt.filter((w) => grads.has(w)).map((w, i) => [`grad_${i}`, grads.get(w)!] as const)],
    paramInputs: wrt,
    contribOps,
  });
  const fwdModel = emitOnnx({ outputs: [['loss', loss]], paramInputs: wrt, contribOps });
  const cfg = { threads: 1, optimization: 'all' as const };
  const [gs, fs] = await Promise.all([createSession(gradModel, cfg), createSession(fwdModel, cfg)]);
  const base = wrt.map((w) => g.data.get(w) as Float64Array | Float32Array);
  const mk = (vals: (Float64Array | Float32Array)[]) => {
    const f: Record<string, ort.Tensor> = { ...feeds };
    wrt.forEach((w, i) => {
      f[w.name] = tensor(dtype, vals[i]!, w.shape as number[]);
    });
    return f;
  };
  const res = await gs.run(mk(base));
  const failures: string[] = [];
  let worst = 0;
  let maxAbsErr = 0;
  let checked = 0;
  let gi = 0;
  for (let i = 0; i < wrt.length; i++) {
    const w = wrt[i]!;
    if (!grads.has(w)) {
      failures.push(`${w.name}: no gradient (the loss does not depend on it)`);
      continue;
    }
    const analytic = res[`grad_${gi++}`]!.data as Float64Array | Float32Array;
    for (let k = 0; k < base[i]!.length; k++) {
      const vals = base.map((b) => b.slice());
      vals[i]![k] = base[i]![k]! + eps;
      const lp = Number((await fs.run(mk(vals)))['loss']!.data[0]);
      vals[i]![k] = base[i]![k]! - eps;
      const lm = Number((await fs.run(mk(vals)))['loss']!.data[0]);
      const numeric = (lp - lm) / (2 * eps);
      const err = Math.abs(analytic[k]! - numeric);
      const ratio = err / (atol + rtol * Math.abs(numeric));
      worst = Math.max(worst, ratio);
      maxAbsErr = Math.max(maxAbsErr, err);
      checked++;
      if (ratio > 1 && failures.length < 5)
        failures.push(`${w.name}[${k}]: analytic ${analytic[k]} vs numeric ${numeric}`);
    }
  }
  await Promise.all([gs.release(), fs.release()]);
  return { worst, maxAbsErr, checked, failures };
}

/** A float param of the given dtype with N(0, scale^2) entries (or uniform in [lo, hi] when lo is set). */
export function randParam(
  g: Graph,
  rng: Rng,
  name: string,
  dtype: DType,
  shape: number[],
  scale = 1,
  lo?: number,
): Value {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = lo !== undefined ? Float64Array.from({ length: n }, () => rng.uniform(lo, scale)) : rng.float64(n, scale);
  return g.param(name, dtype === 'float64' ? d : Float32Array.from(d), shape);
}
