/**
 * Gradcheck of every gradient rule against central finite differences (src/testing/gradcheck.ts),
 * float64 where ORT's CPU kernels take doubles, float32 (looser, documented there) otherwise.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, type DType, type Value } from '../graph/ir.js';
import * as ops from '../graph/ops/index.js';
import { gradcheck, randParam, type GradcheckBuild, type GradcheckOptions } from '../testing/gradcheck.js';
import { Rng } from '../testing/random.js';
import { tensor } from './session.js';
import { gradRules } from '../graph/gradients/index.js';
import { gradients } from '../graph/autodiff.js';
import { emitOnnx } from '../graph/onnx/emit.js';
import { createSession } from './session.js';

type Build = (g: Graph, dt: DType, rng: Rng) => GradcheckBuild;
interface Case {
  op: string;
  name: string;
  build: Build;
  opts?: GradcheckOptions | undefined;
}

const P = (g: Graph, rng: Rng, dt: DType, name: string, shape: number[], scale = 1, lo?: number): Value =>
  randParam(g, rng, name, dt, shape, scale, lo);
const f32: GradcheckOptions = { dtype: 'float32' };

const unary = (op: string, f: (x: Value) => Value, lo?: number, hi?: number, opts?: GradcheckOptions): Case => ({
  op,
  name: `${op} [2,3]`,
  build: (g, dt, r) => {
    const x = P(g, r, dt, 'x', [2, 3], hi ?? 1, lo);
    return { out: f(x), wrt: [x] };
  },
  opts,
});

const cases: Case[] = [
  {
    op: 'Add',
    name: 'Add [2,3] + [3]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3]);
      const b = P(g, r, dt, 'b', [3]);
      return { out: ops.add(a, b), wrt: [a, b] };
    },
  },
  {
    op: 'Add',
    name: 'Add fan-out a + a*a',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3]);
      return { out: ops.add(a, ops.mul(a, a)), wrt: [a] };
    },
  },
  {
    op: 'Sub',
    name: 'Sub [2,1,3] - [4,1]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 1, 3]);
      const b = P(g, r, dt, 'b', [4, 1]);
      return { out: ops.sub(a, b), wrt: [a, b] };
    },
  },
  {
    op: 'Mul',
    name: 'Mul [2,3] * [1,3]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3]);
      const b = P(g, r, dt, 'b', [1, 3]);
      return { out: ops.mul(a, b), wrt: [a, b] };
    },
  },
  {
    op: 'Div',
    name: 'Div [2,3] / [3]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3]);
      const b = P(g, r, dt, 'b', [3], 2, 1);
      return { out: ops.div(a, b), wrt: [a, b] };
    },
  },
  {
    op: 'Pow',
    name: 'Pow [2,3] ^ [3]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3], 1.5, 0.5);
      const b = P(g, r, dt, 'b', [3], 2, 0.5);
      return { out: ops.pow(a, b), wrt: [a, b] };
    },
  },
  unary('Pow', (x) => ops.pow(x, 3)),
  unary('Neg', ops.neg),
  unary('Identity', ops.identity),
  unary('Exp', ops.exp),
  unary('Log', ops.log, 0.5, 2),
  unary('Sqrt', ops.sqrt, 0.5, 2),
  unary('Tanh', ops.tanh),
  unary('Sigmoid', ops.sigmoid),
  unary('Relu', ops.relu),
  unary('Erf', ops.erf, undefined, undefined, f32),
  unary('Gelu', ops.gelu, undefined, undefined, f32),
  {
    op: 'Where',
    name: 'Where(c [2,3], a [2,3], b [3])',
    build: (g, dt, r) => {
      const c = g.constant(Uint8Array.from([1, 0, 1, 0, 0, 1]), [2, 3]);
      const a = P(g, r, dt, 'a', [2, 3]);
      const b = P(g, r, dt, 'b', [3]);
      return { out: ops.where(c, a, b), wrt: [a, b] };
    },
  },
  {
    op: 'Cast',
    name: 'Cast float32 -> float64',
    build: (g, _dt, r) => {
      const a = P(g, r, 'float32', 'a', [2, 3]);
      return { out: ops.exp(ops.cast(a, 'float64')), wrt: [a] };
    },
    opts: f32,
  },
  {
    op: 'MatMul',
    name: 'MatMul [2,3,4] @ [4,5] (weight path)',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3, 4]);
      const b = P(g, r, dt, 'b', [4, 5]);
      return { out: ops.matmul(a, b), wrt: [a, b] };
    },
  },
  {
    op: 'MatMul',
    name: 'MatMul [2,3,4] @ [5,4]^T alpha 0.5 (linear)',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3, 4]);
      const b = P(g, r, dt, 'b', [5, 4]);
      return { out: ops.matmul(a, b, { transB: true, alpha: 0.5 }), wrt: [a, b] };
    },
  },
  {
    op: 'MatMul',
    name: 'MatMul broadcast [2,1,3,4] @ [3,4,2]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 1, 3, 4]);
      const b = P(g, r, dt, 'b', [3, 4, 2]);
      return { out: ops.matmul(a, b), wrt: [a, b] };
    },
  },
  {
    op: 'MatMul',
    name: 'MatMul transA [2,4,3]^T @ [2,4,2]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 4, 3]);
      const b = P(g, r, dt, 'b', [2, 4, 2]);
      return { out: ops.matmul(a, b, { transA: true }), wrt: [a, b] };
    },
  },
  {
    op: 'MatMul',
    name: 'MatMul transA transB [4,3]^T @ [2,4]^T',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [4, 3]);
      const b = P(g, r, dt, 'b', [2, 4]);
      return { out: ops.matmul(a, b, { transA: true, transB: true }), wrt: [a, b] };
    },
  },
  {
    op: 'MatMul',
    name: 'MatMul float32 via FusedMatMul transB',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3, 4]);
      const b = P(g, r, dt, 'b', [2, 5, 4]);
      return { out: ops.matmul(a, b, { transB: true, alpha: 0.7 }), wrt: [a, b] };
    },
    opts: f32,
  },
  {
    op: 'ReduceSum',
    name: 'ReduceSum [2,3,4] axes [1]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3, 4]);
      return { out: ops.reduceSum(a, [1]), wrt: [a] };
    },
  },
  {
    op: 'ReduceSum',
    name: 'ReduceSum keepdims axes [0,2]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3, 4]);
      return { out: ops.reduceSum(a, [0, 2], true), wrt: [a] };
    },
  },
  {
    op: 'ReduceMean',
    name: 'ReduceMean [2,3,4] axes [-1]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3, 4]);
      return { out: ops.reduceMean(a, [-1]), wrt: [a] };
    },
  },
  {
    op: 'ReduceMean',
    name: 'mseLoss over a symbolic batch (run-time count)',
    build: (g, dt, r) => {
      const w = P(g, r, dt, 'w', [3, 2]);
      const x = g.input('x', dt, ['batch', 3]);
      const t = g.input('t', dt, ['batch', 2]);
      const xd = r.float64(12);
      const td = r.float64(8);
      const feeds = {
        x: tensor(dt, dt === 'float64' ? xd : Float32Array.from(xd), [4, 3]),
        t: tensor(dt, dt === 'float64' ? td : Float32Array.from(td), [4, 2]),
      };
      return {
        out: ops.add(ops.mseLoss(ops.matmul(x, w), t), ops.reduceSum(ops.reduceMean(ops.matmul(x, w), [0]))),
        wrt: [w],
        feeds,
      };
    },
  },
  {
    op: 'ReduceMax',
    name: 'ReduceMax [2,3,4] axes [1]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3, 4]);
      return { out: ops.reduceMax(a, [1]), wrt: [a] };
    },
  },
  {
    op: 'Softmax',
    name: 'Softmax [2,3,4] axis -1',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3, 4]);
      return { out: ops.softmax(a, -1), wrt: [a] };
    },
  },
  {
    op: 'LogSoftmax',
    name: 'LogSoftmax [2,3,4] axis 1',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3, 4]);
      return { out: ops.logSoftmax(a, 1), wrt: [a] };
    },
  },
  {
    op: 'LayerNormalization',
    name: 'LayerNormalization [2,3,5]',
    build: (g, dt, r) => {
      const x = P(g, r, dt, 'x', [2, 3, 5]);
      const ga = P(g, r, dt, 'gamma', [5]);
      const be = P(g, r, dt, 'beta', [5]);
      return { out: ops.layerNorm(x, ga, be, 1e-5), wrt: [x, ga, be] };
    },
    // NOTE: ORT has no float64 LayerNormalization CPU kernel; the oracle test checks it tightly in float32.
    opts: f32,
  },
  {
    op: 'SoftmaxCrossEntropyLoss',
    name: 'SoftmaxCrossEntropyLoss mean [4,5]',
    build: (g, dt, r) => {
      const x = P(g, r, dt, 'x', [4, 5]);
      const y = g.input('labels', 'int64', [4]);
      return {
        out: ops.softmaxCrossEntropy(x, y),
        wrt: [x],
        feeds: { labels: tensor('int64', BigInt64Array.from([0n, 3n, 4n, 3n]), [4]) },
      };
    },
  },
  {
    op: 'SoftmaxCrossEntropyLoss',
    name: 'SoftmaxCrossEntropyLoss sum, symbolic batch',
    build: (g, dt, r) => {
      // Logits with a symbolic batch, so the mean's 1/N comes from the run-time shape.
      const w = P(g, r, dt, 'w', [4, 4]);
      const x = g.input('x', dt, ['batch', 4]);
      const y = g.input('labels', 'int64', ['batch']);
      const xd = r.float64(12);
      const feeds = {
        x: tensor(dt, dt === 'float64' ? xd : Float32Array.from(xd), [3, 4]),
        labels: tensor('int64', BigInt64Array.from([1n, 2n, 0n]), [3]),
      };
      const logits = ops.matmul(x, w);
      return {
        out: ops.add(ops.softmaxCrossEntropy(logits, y, 'sum'), ops.softmaxCrossEntropy(logits, y)),
        wrt: [w],
        feeds,
      };
    },
  },
  {
    op: 'Transpose',
    name: 'Transpose [2,3,4] perm [2,0,1]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3, 4]);
      return { out: ops.transpose(a, [2, 0, 1]), wrt: [a] };
    },
  },
  {
    op: 'Reshape',
    name: 'Reshape [2,3,4] -> [4,-1]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3, 4]);
      return { out: ops.reshape(a, [4, -1]), wrt: [a] };
    },
  },
  {
    op: 'Reshape',
    name: 'Reshape [b, s, 3] -> [-1, 3] -> back, two symbolic dims',
    build: (g, dt, r) => {
      const w = P(g, r, dt, 'w', [3, 3]);
      const x = g.input('x', dt, ['b', 's', 3]);
      const xd = r.float64(18);
      const flat = ops.reshape(ops.matmul(x, w), [-1, 3]);
      const out = ops.reduceSum(ops.mul(ops.tanh(flat), flat), [0]);
      return { out, wrt: [w], feeds: { x: tensor(dt, dt === 'float64' ? xd : Float32Array.from(xd), [2, 3, 3]) } };
    },
  },
  {
    op: 'Concat',
    name: 'Concat [2,3] ++ [2,2] axis 1',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3]);
      const b = P(g, r, dt, 'b', [2, 2]);
      return { out: ops.concat([a, b, a], 1), wrt: [a, b] };
    },
  },
  {
    op: 'Slice',
    name: 'Slice [4,5][1:3, 0:-1]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [4, 5]);
      return { out: ops.slice(a, [1, 0], [3, -1], [0, 1]), wrt: [a] };
    },
  },
  {
    op: 'Gather',
    name: 'Gather table [6,3] by [2,2] ids (repeats accumulate)',
    build: (g, dt, r) => {
      const t = P(g, r, dt, 'table', [6, 3]);
      const ids = g.constant(BigInt64Array.from([1n, 4n, 1n, 5n]), [2, 2]);
      return { out: ops.gather(t, ids), wrt: [t] };
    },
  },
  {
    op: 'Expand',
    name: 'Expand [3,1] -> [2,3,4]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [3, 1]);
      return { out: ops.expandLike(a, [2, 3, 4]), wrt: [a] };
    },
  },
  {
    op: 'Unsqueeze',
    name: 'Unsqueeze [2,3] axes [0,2]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3]);
      return { out: ops.mul(ops.unsqueeze(a, [0, 2]), P(g, r, dt, 'b', [2, 2, 4, 3])), wrt: [a] };
    },
  },
  {
    op: 'Squeeze',
    name: 'Squeeze [2,1,3] axes [1]',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 1, 3]);
      return { out: ops.squeeze(a, [1]), wrt: [a] };
    },
  },
  {
    op: 'Split',
    name: 'Split [2,5] into [2,3] on axis 1, one part unused',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 5]);
      const [p0] = ops.split(a, 1, [2, 3]);
      return { out: ops.exp(p0!), wrt: [a] };
    },
  },
  {
    op: 'Split',
    name: 'Concat + Split with a symbolic size (prefix rows), Slice on a symbolic axis',
    build: (g, dt, r) => {
      const w = P(g, r, dt, 'w', [3, 3]);
      const pre = P(g, r, dt, 'prefix', [2, 3]);
      const x = g.input('x', dt, ['n', 3]);
      const xd = r.float64(12);
      const h = ops.tanh(ops.matmul(x, w));
      const c = ops.concat([pre, h], 0);
      const [p0, p1] = ops.split(ops.sigmoid(c), 0, [2, 'n'], h);
      const first = ops.slice(h, [0], [1], [0]);
      const out = ops.add(
        ops.add(ops.reduceSum(ops.mul(p1!, p1!), [0]), ops.reduceSum(p0!, [0])),
        ops.reshape(first, [3]),
      );
      return { out, wrt: [w, pre], feeds: { x: tensor(dt, dt === 'float64' ? xd : Float32Array.from(xd), [4, 3]) } };
    },
  },
  {
    op: 'Pad',
    name: 'Pad [2,3] by (1,0),(0,2)',
    build: (g, dt, r) => {
      const a = P(g, r, dt, 'a', [2, 3]);
      return { out: ops.pad(a, [1, 0, 0, 2]), wrt: [a] };
    },
  },
];

describe('gradcheck: every gradient rule against finite differences', () => {
  it('every op with a rule has a case', () => {
    const covered = new Set([...cases.map((c) => c.op), 'Dropout']);
    const missing = [...gradRules.keys()].filter((op) => !covered.has(op));
    assert.deepEqual(missing, []);
  });
  for (const c of cases) {
    it(`${c.name} (${c.opts?.dtype ?? 'float64'})`, async () => {
      const r = await gradcheck(c.build, c.opts);
      assert.deepEqual(r.failures, [], `worst ratio ${r.worst}`);
      assert.ok(r.checked > 0);
    });
  }
  it('dropoutWithMask: gradcheck through Where + Mul with a fed mask', async () => {
    const r = await gradcheck((g, dt, rng) => {
      const x = P(g, rng, dt, 'x', [2, 4]);
      const m = g.input('mask', 'bool', [2, 4]);
      return {
        out: ops.dropoutWithMask(x, m, 0.25),
        wrt: [x],
        feeds: { mask: tensor('bool', Uint8Array.from([1, 0, 1, 1, 0, 0, 1, 0]), [2, 4]) },
      };
    });
    assert.deepEqual(r.failures, []);
  });
  it('Dropout: dx = dy * mask / (1 - p) with the mask of the same run', async () => {
    const g = new Graph();
    const rng = new Rng(7);
    const n = 64;
    const x = g.param(
      'x',
      Float32Array.from({ length: n }, () => 1 + rng.next()),
      [n],
    );
    const w = g.constant(rng.float32(n), [n]);
    const y = ops.dropout(x, 0.25, 42);
    const loss = ops.reduceSum(ops.mul(y, w));
    const dx = gradients(loss, [x]).get(x)!;
    const model = emitOnnx({
      outputs: [
        ['y', y],
        ['dx', dx],
      ],
      paramInputs: [x],
      training: true,
    });
    const s = await createSession(model, { threads: 1 });
    const out = await s.run({ x: tensor('float32', g.data.get(x) as Float32Array, [n]) });
    const yd = out['y']!.data as Float32Array;
    const dxd = out['dx']!.data as Float32Array;
    const xd = g.data.get(x) as Float32Array;
    const wd = g.data.get(w) as Float32Array;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const keep = yd[i] !== 0;
      kept += keep ? 1 : 0;
      if (keep) assert.ok(Math.abs(yd[i]! - xd[i]! / 0.75) < 1e-5);
      assert.ok(Math.abs(dxd[i]! - (keep ? wd[i]! / 0.75 : 0)) < 1e-5, `dx[${i}]`);
    }
    assert.ok(kept > 0 && kept < n, 'some but not all units dropped');
    await s.release();
  });
});
