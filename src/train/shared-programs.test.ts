import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTraining } from '../runtime/training.js';
import { tokenFeeds } from './feeds.js';
import { buildLoss, lossFeeds } from './loss.js';
import { SharedTrainingPrograms } from './shared-programs.js';
import { makeBatch } from './testing/batch.js';
import { sumLogits, sumModel } from './testing/sum-model.js';

test('programs of two lengths continue one AdamW run; forward uses the current weights at any length', async () => {
  const compiled: number[] = [];
  const programs = new SharedTrainingPrograms(async (seq) => {
    compiled.push(seq);
    const m = sumModel(seq, 2, [0.2, -0.4], [0.1, 0]);
    const train = await compileTraining({ loss: buildLoss(m.logits, false), params: m.graph.params, threads: 1 });
    return { train, inputNames: m.inputNames, logits: m.logits };
  });
  try {
    await assert.rejects(programs.forward([], 0, 2), /no training step/);
    const short = makeBatch([[1, 2], [3]], 4, [0, 1], [1, 0]);
    const long = makeBatch([[1, 1, 1, 1, 1, 1]], 8, [2], [1]);
    for (const b of [short, long, short]) {
      const p = await programs.use(b.seq);
      await p.train.step({ ...tokenFeeds(b, p.inputNames), ...lossFeeds(b, false) }, 0.1);
    }
    assert.deepEqual(compiled, [4, 8]);
    const p4 = await programs.use(4);
    assert.equal(p4.train.stepsTaken, 3, 'the 4-token program took over the step count of the 8-token one');
    const { w, b } = Object.fromEntries([...programs.readParams()].map(([k, t]) => [k, t.data]));
    assert.ok(Math.abs(w![0]! - 0.2) > 0.1, 'three steps of lr 0.1 moved the weights');
    // Examples 0..2 scored at lengths 4 and 16 (compiled on demand with the current weights).
    const rows = [[1, 2], [3], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]];
    const out = await programs.forward(
      [makeBatch(rows.slice(0, 2), 4, [0, 1], [0, 0]), makeBatch(rows.slice(2), 16, [2], [0])],
      3,
      2,
    );
    const want = sumLogits(rows, w!, b!);
    for (const [i, x] of out.entries()) assert.ok(Math.abs(x - want[i]!) < 1e-5, `logit ${i}: ${x} vs ${want[i]}`);
    assert.deepEqual(compiled, [4, 8, 16]);
    // setParams swaps the weights and keeps the step count.
    const before = programs.params();
    await programs.use(8);
    programs.setParams(before);
    assert.equal(programs.params(), before);
    assert.equal((await programs.use(8)).train.stepsTaken, 3);
  } finally {
    await programs.release();
  }
});

test('symbolic: one program serves every length, and trains as one program per length does', async () => {
  const run = async (symbolic: boolean) => {
    const compiled: number[] = [];
    const programs = new SharedTrainingPrograms(async (seq) => {
      compiled.push(seq);
      const m = sumModel(symbolic ? 'seq' : seq, 2, [0.2, -0.4], [0.1, 0]);
      const train = await compileTraining({ loss: buildLoss(m.logits, false), params: m.graph.params, threads: 1 });
      return { train, inputNames: m.inputNames, logits: m.logits };
    }, symbolic);
    try {
      const short = makeBatch([[1, 2], [3]], 4, [0, 1], [1, 0]);
      const long = makeBatch([[1, 1, 1, 1, 1, 1]], 8, [2], [1]);
      for (const b of [short, long, short]) {
        const p = await programs.use(b.seq);
        await p.train.step({ ...tokenFeeds(b, p.inputNames), ...lossFeeds(b, false) }, 0.1);
      }
      const rows = [
        [1, 2],
        [2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
      ];
      const out = await programs.forward(
        [makeBatch(rows.slice(0, 1), 4, [0], [0]), makeBatch(rows.slice(1), 16, [1], [0])],
        2,
        2,
      );
      return { compiled, count: programs.compiled, params: programs.readParams(), out };
    } finally {
      await programs.release();
    }
  };
  const one = await run(true);
  const per = await run(false);
  assert.deepEqual(one.compiled, [4], 'compiled once, for the first length seen');
  assert.equal(one.count, 1);
  assert.deepEqual(per.compiled, [4, 8, 16]);
  for (const [k, t] of per.params) assert.deepEqual(one.params.get(k)!.data, t.data, k);
  assert.deepEqual(one.out, per.out);
});

test('a forward pass at other lengths hands the AdamW buffers back: the next step still updates them in place', async () => {
  const programs = new SharedTrainingPrograms(async (seq) => {
    const m = sumModel(seq, 2, [0.2, -0.4], [0.1, 0]);
    const train = await compileTraining({ loss: buildLoss(m.logits, false), params: m.graph.params, threads: 1 });
    return { train, inputNames: m.inputNames, logits: m.logits };
  });
  try {
    const b4 = makeBatch([[1, 2], [3]], 4, [0, 1], [1, 0]);
    const step = async () => {
      const p = await programs.use(4);
      await p.train.step({ ...tokenFeeds(b4, p.inputNames), ...lossFeeds(b4, false) }, 0.1);
      return p.train;
    };
    await step();
    const train = await step();
    const peek = train as unknown as { store: { current: { data: unknown } }; m: { data: unknown } };
    const [p0, m0] = [peek.store.current.data, peek.m.data];
    await programs.forward([makeBatch([[1]], 4, [0], [0]), makeBatch([[2, 2, 2, 2, 2, 2]], 8, [1], [0])], 2, 2);
    await step();
    assert.equal(peek.store.current.data, p0, 'params updated in place after the forward pass');
    assert.equal(peek.m.data, m0, 'moments updated in place after the forward pass');
    // params() is a snapshot: the next step writes the params elsewhere, the moments stay in place.
    const snap = programs.params();
    const copy = Array.from(snap.data as Float32Array);
    await step();
    assert.deepEqual(Array.from(snap.data as Float32Array), copy);
    assert.equal(peek.m.data, m0);
  } finally {
    await programs.release();
  }
});
