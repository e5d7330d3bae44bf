import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../graph/ir.js';
import * as ops from '../graph/ops/index.js';
import { Rng } from '../testing/random.js';
import { type DecayForm, adamWScalars, adamWSegment, adamWSegment32 } from './adamw.js';
import { adamWSegment32Simd } from './adamw-simd.js';
import { compileEval } from './eval.js';
import { tensor } from './session.js';
import { adamWUpdate, compileTraining } from './training.js';

const N = 4096;

/** The graph form (adamWUpdate) run by ORT: the specification the JS update must match bit for bit. */
async function graphAdamW(cfg: { weightDecay: number }, mask: Float32Array | undefined) {
  const g = new Graph();
  const p = g.input('p', 'float32', [N]);
  const gr = g.input('g', 'float32', [N]);
  const m = g.input('m', 'float32', [N]);
  const v = g.input('v', 'float32', [N]);
  const lr = g.input('lr', 'float32', []);
  const step = g.input('step', 'float32', []);
  const maskV = mask ? g.constant(mask, [N]) : undefined;
  const u = adamWUpdate(p, gr, m, v, lr, step, { beta1: 0.8, beta2: 0.95, eps: 1e-6, ...cfg }, maskV);
  return compileEval(g, { p2: u.p, m2: u.m, v2: u.v }, { threads: 1 });
}

describe('AdamW in JS', () => {
  const cases: [string, number, boolean][] = [
    ['no decay (wd 0)', 0, false],
    ['decay p (1 - lr wd)', 0.1, false],
    ['decay with a no-decay mask', 0.1, true],
  ];
  for (const [label, wd, masked] of cases) {
    it(`gives the graph's bits over 5 steps: ${label}`, async () => {
      const rng = new Rng(4);
      const mask = masked ? Float32Array.from({ length: N }, (_, i) => (i < N / 2 ? 1 : 0)) : undefined;
      const ev = await graphAdamW({ weightDecay: wd }, mask);
      let gp: Float32Array = rng.float32(N, 1);
      let gm: Float32Array = new Float32Array(N);
      let gv: Float32Array = new Float32Array(N);
      const init = gp.slice();
      const jp = gp.slice();
      const jm = new Float32Array(N);
      const jv = new Float32Array(N);
      const settings = { beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: wd };
      for (let t = 1; t <= 5; t++) {
        const grad = rng.float32(N, 10 ** (t - 3)); // from tiny to large gradients
        const lr = 0.037 * t;
        const out = await ev.run({
          p: tensor('float32', gp, [N]),
          g: tensor('float32', grad, [N]),
          m: tensor('float32', gm, [N]),
          v: tensor('float32', gv, [N]),
          lr: tensor('float32', Float32Array.of(lr), []),
          step: tensor('float32', Float32Array.of(t), []),
        });
        [gp, gm, gv] = ['p2', 'm2', 'v2'].map((k) => out[k]!.data as Float32Array) as [
          Float32Array,
          Float32Array,
          Float32Array,
        ];
        const s = adamWScalars(settings, lr, t, undefined, true);
        const ts = [jp, jm, jv, jp, jm, jv].map((data) => ({ data })) as [
          { data: Float32Array },
          { data: Float32Array },
          { data: Float32Array },
          { data: Float32Array },
          { data: Float32Array },
          { data: Float32Array },
        ];
        // Two segments, as a program with two params applies it (the second half undecayed when masked).
        const forms: DecayForm[] =
          wd === 0 ? ['none', 'none'] : masked ? ['masked-on', 'masked-off'] : ['scaled', 'scaled'];
        adamWSegment(ts, grad.subarray(0, N / 2), 0, N / 2, s, forms[0]!);
        adamWSegment(ts, grad.subarray(N / 2), N / 2, N / 2, s, forms[1]!);
      }
      assert.deepEqual(Array.from(jp), Array.from(gp));
      assert.deepEqual(Array.from(jm), Array.from(gm));
      assert.deepEqual(Array.from(jv), Array.from(gv));
      assert.ok(
        jp.some((x, i) => x !== init[i]),
        'the params moved',
      );
      await ev.release();
    });
  }
});

describe('AdamW SIMD kernel', () => {
  it("gives the scalar JS update's bits: every decay form, chunk and lane tails, no gradient, clipping, out of place", () => {
    const rng = new Rng(9);
    const n = 8192 * 2 + 13; // two full chunks and a tail that is not a multiple of 4
    const off = 5;
    const len = n + off + 3;
    const p = rng.float32(len, 1);
    const m = rng.float32(len, 0.01);
    const v = Float32Array.from(rng.float32(len, 1e-3), Math.abs);
    p[off] = 0;
    p[off + 1] = -0;
    const grad = rng.float32(n, 0.1);
    grad[2] = 0;
    const settings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };
    for (const decay of ['none', 'masked-on', 'masked-off', 'scaled'] as DecayForm[]) {
      for (const [g, norm] of [
        [grad, undefined],
        [grad, 7.5],
        [null, undefined],
      ] as const) {
        const s = adamWScalars(settings, 3e-3, 4, norm, true);
        const js = [p, m, v].map((a) => a.slice()) as [Float32Array, Float32Array, Float32Array];
        adamWSegment32(js[0], js[1], js[2], js[0], js[1], js[2], g, off, n, s, decay);
        // Out of place: the inputs stay as they were, the outputs get the same bits.
        const ins = [p, m, v].map((a) => a.slice()) as [Float32Array, Float32Array, Float32Array];
        const outs = [p, m, v].map((a) => a.slice()) as [Float32Array, Float32Array, Float32Array];
        assert.ok(adamWSegment32Simd(...ins, ...outs, g, off, n, s, decay), 'WebAssembly SIMD is available');
        for (let k = 0; k < 3; k++) {
          assert.deepEqual(new Uint32Array(outs[k]!.buffer), new Uint32Array(js[k]!.buffer), `${decay} array ${k}`);
          assert.deepEqual(ins[k], [p, m, v][k], 'inputs untouched');
        }
        assert.notDeepEqual(outs[0], p, 'the params moved');
      }
    }
  });
});

describe('TrainingProgram state', () => {
  const program = async () => {
    const g = new Graph();
    const w = g.param('w', Float32Array.of(0.5, -1, 2), [3]);
    const x = g.input('x', 'float32', [3]);
    const d = ops.sub(w, x);
    return compileTraining({ loss: ops.reduceSum(ops.mul(d, d)), optimizer: { weightDecay: 0.1 }, threads: 1 });
  };
  const x = { x: tensor('float32', Float32Array.of(1, 2, 3), [3]) };

  it('updates params and moments in place between steps (no new buffers)', async () => {
    const prog = await program();
    await prog.step(x, 0.1); // the first step writes into buffers of its own (the store's may be held)
    const before = prog.getState();
    prog.setState(before); // handed out and taken back: the next step allocates once more
    await prog.step(x, 0.1);
    const owned = (prog as unknown as { store: { current: { data: Float32Array } } }).store.current.data;
    assert.notEqual(owned, before.params.data);
    await prog.step(x, 0.1);
    await prog.step(x, 0.1);
    assert.equal(prog.store.current.data, owned, 'params updated in place');
    await prog.release();
  });

  it('handOver moves the buffers to the program that steps next, which keeps updating them in place', async () => {
    const [a, b, ref] = await Promise.all([program(), program(), program()]);
    await a.step(x, 0.1);
    const owned = a.store.current.data;
    a.handOver(b);
    await b.step(x, 0.1);
    assert.equal(b.store.current.data, owned, 'no new buffers after the hand-over');
    const snap = b.getState();
    const copy = Array.from(snap.params.data as Float32Array);
    b.handOver(a);
    await a.step(x, 0.1);
    assert.deepEqual(Array.from(snap.params.data as Float32Array), copy, 'a snapshot stays intact');
    for (let i = 0; i < 3; i++) await ref.step(x, 0.1);
    assert.equal(a.stepsTaken, 3);
    assert.deepEqual(Array.from(a.readParams().get('w')!.data), Array.from(ref.readParams().get('w')!.data));
    await Promise.all([a.release(), b.release(), ref.release()]);
  });

  it('never changes tensors handed out by getState (snapshots stay valid) and continues the same run', async () => {
    const a = await program();
    const b = await program();
    for (let i = 0; i < 2; i++) {
      await a.step(x, 0.1);
      await b.step(x, 0.1);
    }
    const snap = a.getState();
    const copy = Array.from(snap.params.data as Float32Array);
    const mCopy = Array.from(snap.m.data as Float32Array);
    await a.step(x, 0.1);
    await a.step(x, 0.1);
    assert.deepEqual(Array.from(snap.params.data as Float32Array), copy, 'snapshot params unchanged');
    assert.deepEqual(Array.from(snap.m.data as Float32Array), mCopy, 'snapshot moments unchanged');
    await b.step(x, 0.1);
    await b.step(x, 0.1);
    assert.deepEqual(Array.from(a.readParams().get('w')!.data), Array.from(b.readParams().get('w')!.data));
    assert.notDeepEqual(Array.from(a.readParams().get('w')!.data), copy);
    // Restoring the snapshot (best-epoch weights) keeps it intact across further steps too.
    a.setState({ ...a.getState(), params: snap.params });
    await a.step(x, 0.1);
    assert.deepEqual(Array.from(snap.params.data as Float32Array), copy);
    await Promise.all([a.release(), b.release()]);
  });

  it('snapshotParams gives up only the params: the moments stay updated in place; setParams restores', async () => {
    const a = await program();
    const b = await program();
    await a.step(x, 0.1);
    await b.step(x, 0.1);
    // Each param is an input of its own (a view into the flat vector), not a slice of one split inside the graph.
    assert.deepEqual([...a.session.inputNames].sort(), ['w', 'x']);
    const m = (a as unknown as { m: { data: Float32Array } }).m.data;
    const snap = a.snapshotParams();
    const copy = Array.from(snap.data as Float32Array);
    await a.step(x, 0.1);
    await a.step(x, 0.1);
    assert.deepEqual(Array.from(snap.data as Float32Array), copy, 'snapshot unchanged');
    assert.equal((a as unknown as { m: { data: Float32Array } }).m.data, m, 'moments still in place');
    for (let i = 0; i < 2; i++) await b.step(x, 0.1);
    assert.deepEqual(Array.from(a.readParams().get('w')!.data), Array.from(b.readParams().get('w')!.data));
    a.setParams(snap);
    assert.deepEqual(Array.from(a.readParams().get('w')!.data), copy);
    await a.step(x, 0.1);
    assert.deepEqual(Array.from(snap.data as Float32Array), copy, 'a restored snapshot stays intact');
    assert.throws(() => a.setParams(tensor('float32', new Float32Array(2), [2])), /setParams: 2 values given/);
    await Promise.all([a.release(), b.release()]);
  });
});
