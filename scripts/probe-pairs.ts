/**
 * The frozen-feature probe for sentence-pair tasks (the floor a PEFT run on USE-lite must beat):
 * USE-lite embeddings u, v of each sentence (frozen, no training), features [u, v, |u - v|, u * v]
 * standardised, and a logistic regression (softmax, L2, full-batch Adam) trained on the task's
 * training split; the L2 strength is picked on a validation split carved from train (10%, at most
 * 1,000 examples: the same carve as `autopeft train`), then refit on all of train and scored on the
 * official dev set. Deterministic (convex problem, zero init): one run per task.
 *
 * Usage: npx tsx scripts/probe-pairs.ts [--data ../shared/data] [--tasks mrpc,rte] [--threads 1]
 * Prints one line per task and a JSON object on the last line.
 */
import { loadTask } from '../src/data/tasks/load.js';
import { computeMetrics, labelsOf } from '../src/data/metrics.js';
import type { Example } from '../src/data/tasks/types.js';
import { loadUseLiteBackbone } from '../src/models/use-lite/backbone.js';
import { buildUseLite } from '../src/models/use-lite/graph.js';
import { compileEval } from '../src/runtime/eval.js';
import { tensor } from '../src/runtime/session.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const dataDir = arg('data', '../shared/data');
const tasks = arg('tasks', 'mrpc,rte').split(',');
const threads = Number(arg('threads', '1'));

const bb = loadUseLiteBackbone();
const H = bb.model.config.hidden;

/** Unit-norm USE-lite embeddings of `texts` (n x 512), in batches of 64 sorted by length. */
async function embed(texts: readonly string[]): Promise<Float32Array> {
  // One program for every length: the sequence axis is symbolic.
  const built = buildUseLite({ model: bb.model, seqLen: 'sequence' });
  const ev = await compileEval(built.graph, { e: built.embedding! }, { threads });
  const ids = texts.map((t) => bb.tokenizer.encode(t, undefined, bb.maxLength).inputIds);
  const order = ids.map((_, i) => i).sort((a, b) => ids[a]!.length - ids[b]!.length);
  const out = new Float32Array(texts.length * H);
  try {
    for (let s = 0; s < order.length; s += 64) {
      const rows = order.slice(s, s + 64);
      const S = Math.max(1, ...rows.map((r) => ids[r]!.length));
      const x = new BigInt64Array(rows.length * S).fill(BigInt(bb.tokenizer.padId));
      const m = new BigInt64Array(rows.length * S);
      rows.forEach((r, b) => {
        ids[r]!.forEach((v, t) => {
          x[b * S + t] = BigInt(v);
          m[b * S + t] = 1n;
        });
      });
      const res = await ev.run({
        input_ids: tensor('int64', x, [rows.length, S]),
        attention_mask: tensor('int64', m, [rows.length, S]),
      });
      const e = res.e!.data as Float32Array;
      rows.forEach((r, b) => {
        out.set(e.subarray(b * H, (b + 1) * H), r * H);
      });
    }
  } finally {
    await ev.release();
  }
  return out;
}

/** n x 4H pair features [u, v, |u - v|, u * v]. */
async function features(examples: readonly Example[]): Promise<Float64Array> {
  const u = await embed(examples.map((e) => e.text));
  const v = await embed(examples.map((e) => e.pair ?? ''));
  const F = 4 * H;
  const x = new Float64Array(examples.length * F);
  for (let i = 0; i < examples.length; i++)
    for (let j = 0; j < H; j++) {
      const a = u[i * H + j]!;
      const b = v[i * H + j]!;
      const o = i * F;
      x[o + j] = a;
      x[o + H + j] = b;
      x[o + 2 * H + j] = Math.abs(a - b);
      x[o + 3 * H + j] = a * b;
    }
  return x;
}

/** Standardises columns in place with the statistics of `fit` (n x F). */
function standardiser(fit: Float64Array, n: number, F: number): (x: Float64Array) => void {
  const mean = new Float64Array(F);
  const sd = new Float64Array(F);
  for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) mean[j]! += fit[i * F + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) sd[j]! += (fit[i * F + j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < F; j++) sd[j] = Math.sqrt(sd[j]!) || 1;
  return (x) => {
    for (let k = 0; k < x.length; k++) x[k] = (x[k]! - mean[k % F]!) / sd[k % F]!;
  };
}

/** Softmax regression, mean cross-entropy + lambda/2 |W|^2, full-batch Adam (zero init). Returns W (C x (F+1)). */
function fitLogistic(x: Float64Array, y: ArrayLike<number>, F: number, C: number, lambda: number): Float64Array {
  const n = y.length;
  const D = F + 1;
  const w = new Float64Array(C * D);
  const m = new Float64Array(C * D);
  const s = new Float64Array(C * D);
  const g = new Float64Array(C * D);
  const p = new Float64Array(C);
  const lr = 0.01;
  for (let it = 1; it <= 300; it++) {
    g.fill(0);
    for (let i = 0; i < n; i++) {
      const o = i * F;
      let max = -Infinity;
      for (let c = 0; c < C; c++) {
        let z = w[c * D + F]!;
        for (let j = 0; j < F; j++) z += w[c * D + j]! * x[o + j]!;
        p[c] = z;
        max = Math.max(max, z);
      }
      let sum = 0;
      for (let c = 0; c < C; c++) sum += p[c] = Math.exp(p[c]! - max);
      for (let c = 0; c < C; c++) {
        const d = (p[c]! / sum - (y[i] === c ? 1 : 0)) / n;
        for (let j = 0; j < F; j++) g[c * D + j]! += d * x[o + j]!;
        g[c * D + F]! += d;
      }
    }
    for (let k = 0; k < w.length; k++) {
      const gk = g[k]! + ((k + 1) % D === 0 ? 0 : lambda * w[k]!);
      m[k] = 0.9 * m[k]! + 0.1 * gk;
      s[k] = 0.999 * s[k]! + 0.001 * gk * gk;
      w[k]! -= (lr * (m[k]! / (1 - 0.9 ** it))) / (Math.sqrt(s[k]! / (1 - 0.999 ** it)) + 1e-8);
    }
  }
  return w;
}

function predict(w: Float64Array, x: Float64Array, n: number, F: number, C: number): Float64Array {
  const D = F + 1;
  return Float64Array.from({ length: n }, (_, i) => {
    let best = 0;
    let bestZ = -Infinity;
    for (let c = 0; c < C; c++) {
      let z = w[c * D + F]!;
      for (let j = 0; j < F; j++) z += w[c * D + j]! * x[i * F + j]!;
      if (z > bestZ) [best, bestZ] = [c, z];
    }
    return best;
  });
}

const results: Record<string, Record<string, number>> = {};
for (const name of tasks) {
  const t0 = performance.now();
  const data = await loadTask(name, { dataDir, validation: { fraction: 0.1, maxCount: 1000, seed: 0 } });
  const { info } = data;
  if (info.regression) throw new Error(`${name}: the probe is for classification pair tasks`);
  const F = 4 * H;
  const C = info.numLabels;
  const tr = data.train;
  const va = data.validation ?? [];
  const dev = data.dev ?? [];
  const [xtr, xva, xdev] = [await features(tr), await features(va), await features(dev)];
  const all = Float64Array.from([...xtr, ...xva]);
  // Pick lambda on the validation carve (fit on the rest of train), then refit on all of train.
  const z1 = standardiser(xtr, tr.length, F);
  const [xtr1, xva1] = [xtr.slice(), xva.slice()];
  z1(xtr1);
  z1(xva1);
  let best = { lambda: 0, score: -Infinity };
  for (const lambda of [1e-4, 1e-3, 1e-2, 1e-1]) {
    const w = fitLogistic(xtr1, labelsOf(tr), F, C, lambda);
    const score = computeMetrics(info, predict(w, xva1, va.length, F, C), labelsOf(va)).main;
    if (score > best.score) best = { lambda, score };
  }
  const z = standardiser(all, tr.length + va.length, F);
  z(all);
  z(xdev);
  const w = fitLogistic(all, [...labelsOf(tr), ...labelsOf(va)], F, C, best.lambda);
  const r = computeMetrics(info, predict(w, xdev, dev.length, F, C), labelsOf(dev));
  results[name] = { ...(r.metrics as Record<string, number>), lambda: best.lambda };
  const fmt = Object.entries(r.metrics)
    .map(([k, v]) => `${k} ${(100 * v!).toFixed(1)}`)
    .join(', ');
  console.log(
    `${name}: dev ${fmt} (lambda ${best.lambda}, ${tr.length + va.length} train pairs, ${dev.length} dev; ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
}
console.log(JSON.stringify(results));
