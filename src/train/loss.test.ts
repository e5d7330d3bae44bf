import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTraining } from '../runtime/training.js';
import { batchLoss } from './divergence.js';
import { buildLoss, lossFeeds } from './loss.js';
import { makeBatch } from './testing/batch.js';
import { sumLogits, sumModel } from './testing/sum-model.js';
import { tokenFeeds } from './feeds.js';

const rows = [[1, 2], [3], [0, 1, 1]];

for (const regression of [false, true]) {
  test(`buildLoss + lossFeeds: the mean ${regression ? 'squared error' : 'cross-entropy'} of the logits`, async () => {
    const [w, b] = regression
      ? [[0.3], [-0.5]]
      : [
          [0.2, -0.4],
          [0.1, 0],
        ];
    const labels = regression ? [1.5, -2, 0.25] : [1, 0, 1];
    const m = sumModel(4, w.length, w, b);
    const loss = buildLoss(m.logits, regression);
    assert.deepEqual(
      m.graph.inputs.map((v) => `${v.name}:${v.dtype}`),
      ['input_ids:int64', regression ? 'labels:float32' : 'labels:int64', ...(regression ? ['inv_batch:float32'] : [])],
    );
    const prog = await compileTraining({ loss, params: m.graph.params, threads: 1 });
    try {
      const batch = makeBatch(rows, 4, [0, 1, 2], labels, regression);
      const feeds = { ...tokenFeeds(batch, m.inputNames), ...lossFeeds(batch, regression) };
      const got = (await prog.step(feeds, 0)).loss;
      const want = batchLoss(sumLogits(rows, w, b), labels, w.length, regression);
      assert.equal(want.rows, 3);
      assert.ok(Math.abs(got - want.sum / want.rows) < 1e-5, `${got} vs ${want.sum / want.rows}`);
    } finally {
      await prog.release();
    }
  });
}
