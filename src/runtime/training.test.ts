import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Graph } from '../graph/ir.js';
import * as ops from '../graph/ops/index.js';
import { gradients } from '../graph/autodiff.js';
import { emitOnnx, OnnxSizeError } from '../graph/onnx/emit.js';
import { Rng } from '../testing/random.js';
import { compileTraining } from './training.js';
import { compileEval } from './eval.js';
import { createSession, tensor } from './session.js';
import { FeedError } from './errors.js';

/** Reference AdamW (PyTorch semantics) in float64. */
function adamwRef(
  p: number[],
  grads: (p: number[]) => number[],
  lrs: number[],
  cfg: { b1: number; b2: number; eps: number; wd: number[]; clip?: number | undefined },
): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  lrs.forEach((lr, s) => {
    let gr = grads(p);
    if (cfg.clip !== undefined) {
      const norm = Math.sqrt(gr.reduce((a, x) => a + x * x, 0));
      if (norm > cfg.clip) gr = gr.map((x) => (x * cfg.clip!) / norm);
    }
    const t = s + 1;
    for (let i = 0; i < p.length; i++) {
      m[i] = cfg.b1 * m[i]! + (1 - cfg.b1) * gr[i]!;
      v[i] = cfg.b2 * v[i]! + (1 - cfg.b2) * gr[i]! * gr[i]!;
      const mh = m[i]! / (1 - cfg.b1 ** t);
      const vh = v[i]! / (1 - cfg.b2 ** t);
      p[i] = p[i]! * (1 - lr * cfg.wd[i]!) - (lr * mh) / (Math.sqrt(vh) + cfg.eps);
    }
  });
  return p;
}

describe('TrainingProgram', () => {
  for (const clip of [undefined, 0.5]) {
    it(`AdamW update equals the formula (bias correction, decoupled decay, no-decay mask${clip ? ', grad clipping' : ''})`, async () => {
      // loss = 0.5 * sum((w - t)^2) + 0.5 * sum((b - u)^2): grad = (w - t, b - u).
      const g = new Graph();
      const w0 = [0.5, -1, 2, 0.25];
      const b0 = [1, -2];
      const tw = [0, 1, -1, 3];
      const tb = [0.5, 0.5];
      const w = g.param('w', Float32Array.from(w0), [2, 2]);
      const b = g.param('b.bias', Float32Array.from(b0), [2]);
      const dw = ops.sub(w, g.constant(Float32Array.from(tw), [2, 2]));
      const db = ops.sub(b, g.constant(Float32Array.from(tb), [2]));
      const loss = ops.mul(ops.add(ops.reduceSum(ops.mul(dw, dw)), ops.reduceSum(ops.mul(db, db))), 0.5);
      const cfg = {
        beta1: 0.8,
        beta2: 0.95,
        eps: 1e-6,
        weightDecay: 0.1,
        noDecay: (n: string) => n.endsWith('.bias'),
        maxGradNorm: clip,
      };
      const prog = await compileTraining({ loss, optimizer: cfg, threads: 1 });
      const lrs = [0.1, 0.05, 0.2, 0.1];
      const losses: number[] = [];
      for (const lr of lrs) losses.push((await prog.step({}, lr)).loss);
      const target = [...tw, ...tb];
      const ref = adamwRef([...w0, ...b0], (p) => p.map((x, i) => x - target[i]!), lrs, {
        b1: 0.8,
        b2: 0.95,
        eps: 1e-6,
        wd: [0.1, 0.1, 0.1, 0.1, 0, 0],
        clip,
      });
      const got = prog.readParams();
      const flat = [...got.get('w')!.data, ...got.get('b.bias')!.data];
      flat.forEach((x, i) => {
        assert.ok(Math.abs(x - ref[i]!) < 1e-5, `param ${i}: ${x} vs ${ref[i]}`);
      });
      assert.deepEqual(got.get('w')!.shape, [2, 2]);
      const st = prog.readOptimizerState();
      assert.equal(st.step, 4);
      // Resuming: a fresh program with the saved params and moments continues identically.
      if (clip === undefined) {
        const prog2 = await compileTraining({ loss, optimizer: cfg, threads: 1 });
        prog2.store.write(got);
        prog2.restoreOptimizerState(st);
        await prog.step({}, 0.1);
        await prog2.step({}, 0.1);
        const a = prog.readParams().get('w')!.data;
        const b = prog2.readParams().get('w')!.data;
        assert.deepEqual(Array.from(a), Array.from(b));
        await prog2.release();
      }
      assert.ok(losses[3]! < losses[0]!);
      await prog.release();
    });
  }

  it('trains a classifier with a symbolic batch, eval shares the updated params', async () => {
    const rng = new Rng(3);
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 4]);
    const y = g.input('y', 'int64', ['batch']);
    const w1 = g.constant(rng.float32(16, 0.5), [4, 4], 'frozen.weight');
    const w2 = g.param('head.weight', rng.float32(12, 0.1), [3, 4]);
    const b2 = g.param('head.bias', new Float32Array(3), [3]);
    const logits = ops.linear(ops.tanh(ops.linear(x, w1)), w2, b2);
    const loss = ops.softmaxCrossEntropy(logits, y);
    const prog = await compileTraining({ loss, threads: 1, outputs: { logits } });
    const n = 8;
    const xd = rng.float32(n * 4);
    const yd = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3));
    const feeds = { x: tensor('float32', xd, [n, 4]), y: tensor('int64', yd, [n]) };
    const first = (await prog.step(feeds, 0.05)).loss;
    let last = first;
    for (let i = 0; i < 60; i++) last = (await prog.step(feeds, 0.05)).loss;
    assert.ok(last < first * 0.7, `loss ${first} -> ${last}`);
    // Eval with the current params equals a JS forward pass from readParams().
    const ev = await prog.evalProgram({ logits });
    const out = (await ev.run({ x: feeds.x }))['logits']!.data as Float32Array;
    const p = prog.readParams();
    const W1 = g.data.get(w1) as Float32Array;
    const W2 = p.get('head.weight')!.data;
    const B2 = p.get('head.bias')!.data;
    for (let r = 0; r < n; r++) {
      const h = [0, 1, 2, 3].map((o) =>
        Math.tanh([0, 1, 2, 3].reduce((s, i) => s + xd[r * 4 + i]! * W1[o * 4 + i]!, 0)),
      );
      for (let c = 0; c < 3; c++) {
        const ref = B2[c]! + h.reduce((s, hv, i) => s + hv * W2[c * 4 + i]!, 0);
        assert.ok(Math.abs(out[r * 3 + c]! - ref) < 1e-5);
      }
    }
    await assert.rejects(ev.run({}), FeedError);
    await Promise.all([ev.release(), prog.release()]);
  });

  it('same dropout seed, same training run', async () => {
    const run = async () => {
      const rng = new Rng(5);
      const g = new Graph();
      const x = g.input('x', 'float32', [4, 8]);
      const w = g.param('w', rng.float32(8, 0.3), [1, 8]);
      const loss = ops.reduceMean(ops.linear(ops.dropout(x, 0.5, 11), w));
      const prog = await compileTraining({ loss, threads: 1 });
      const xs = tensor('float32', rng.float32(32), [4, 8]);
      const ls: number[] = [];
      for (let i = 0; i < 3; i++) ls.push((await prog.step({ x: xs }, 0.1)).loss);
      await prog.release();
      return ls;
    };
    const a = await run();
    const b = await run();
    assert.deepEqual(a, b);
    assert.notEqual(a[0], a[1], 'masks differ between steps');
  });
});

describe('autodiff structure', () => {
  const build = (trainW1: boolean) => {
    const rng = new Rng(9);
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 4]);
    const w1 = trainW1 ? g.param('w1', rng.float32(16), [4, 4]) : g.constant(rng.float32(16), [4, 4], 'w1');
    const w2 = g.param('w2', rng.float32(16), [4, 4]);
    const unused = g.param('unused', rng.float32(4), [4]);
    ops.exp(ops.mul(ops.relu(ops.matmul(x, w2)), unused)); // a branch that cannot reach the loss
    const loss = ops.reduceSum(ops.matmul(ops.tanh(ops.matmul(x, w1)), w2));
    return { g, loss, w1, w2, unused };
  };
  it('frozen weights pass gradients through but get none; unreachable work is skipped', () => {
    const a = build(false);
    const before = a.g.nodes.length;
    const ga = gradients(a.loss, [a.w2, a.unused]);
    const frozenNodes = a.g.nodes.length - before;
    assert.ok(ga.has(a.w2));
    assert.ok(!ga.has(a.unused));
    const b = build(true);
    const before2 = b.g.nodes.length;
    const gb = gradients(b.loss, [b.w1, b.w2]);
    assert.ok(gb.has(b.w1));
    assert.ok(b.g.nodes.length - before2 > frozenNodes, 'training w1 needs more backward nodes');
    // Only w2's gradient path: MatMul rule for w2 (a Gemm via flatten or MatMul) and nothing through tanh.
    const newOps = a.g.nodes.slice(before).map((n) => n.op);
    assert.ok(!newOps.includes('Tanh'), `no tanh backward needed: ${newOps.join(',')}`);
  });
});

describe('ONNX emission', () => {
  it('external data gives the same outputs; a model over the inline limit is a clear error', async () => {
    const rng = new Rng(1);
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 64]);
    const w = g.constant(rng.float32(64 * 64), [64, 64], 'big.weight');
    const y = ops.matmul(x, w);
    const xs = { x: tensor('float32', rng.float32(128), [2, 64]) };
    const inline = emitOnnx({ outputs: [['y', y]] });
    assert.throws(() => emitOnnx({ outputs: [['y', y]], maxInlineBytes: 1000 }), OnnxSizeError);
    const dir = mkdtempSync(join(tmpdir(), 'autopeft-ext-'));
    try {
      const ext = emitOnnx({ outputs: [['y', y]], externalDataDir: dir, maxInlineBytes: 1000 });
      assert.ok(ext.path && existsSync(join(dir, 'weights.bin')));
      const [s1, s2] = await Promise.all([createSession(inline, { threads: 1 }), createSession(ext, { threads: 1 })]);
      const a = (await s1.run(xs))['y']!.data as Float32Array;
      const b = (await s2.run(xs))['y']!.data as Float32Array;
      assert.deepEqual(Array.from(a), Array.from(b));
      await Promise.all([s1.release(), s2.release()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('outputs: a value fetched twice, an input fetched back, a node output under a new name', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    const y = ops.exp(x);
    const z = ops.mul(y, 2); // consumes y, which is also an output under another name
    const model = emitOnnx({
      outputs: [
        ['first', y],
        ['again', y],
        ['echo', x],
        ['z', z],
      ],
    });
    assert.equal(model.outputNames.join(), 'first,again,echo,z');
    const s = await createSession(model, { threads: 1 });
    const out = await s.run({ x: tensor('float32', Float32Array.from([0, 1]), [2]) });
    assert.deepEqual(Array.from(out['first']!.data as Float32Array), Array.from(out['again']!.data as Float32Array));
    assert.deepEqual(Array.from(out['echo']!.data as Float32Array), [0, 1]);
    assert.ok(Math.abs((out['z']!.data as Float32Array)[1]! - 2 * Math.E) < 1e-5);
    await s.release();
  });
  it('compileEval without params freezes everything into the model', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1, 2]);
    const w = g.param('w', Float32Array.from([1, 2, 3, 4]), [2, 2]);
    const ev = await compileEval(g, { y: ops.matmul(x, w) }, { threads: 1 });
    const y = (await ev.run({ x: tensor('float32', Float32Array.from([1, 1]), [1, 2]) }))['y']!.data;
    assert.deepEqual(Array.from(y as Float32Array), [4, 6]);
    await ev.release();
  });
});
