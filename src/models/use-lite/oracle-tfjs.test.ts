/**
 * The @tensorflow/tfjs (cpu backend) oracle: the package's model.json and shards loaded through an
 * in-memory IOHandler agree with the reference. Own file (= own process): the package oracle's
 * bundled tfjs shares tfjs's global engine. Two short texts only: the cpu backend is slow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadUseLite } from './load.js';
import { loadTfjsOracle, USE_LITE_NODES } from './oracle.js';
import { traceUseLite } from './reference.js';

test('@tensorflow/tfjs cpu runs the package graph from memory and agrees with the reference', async () => {
  const model = loadUseLite();
  const oracle = await loadTfjsOracle();
  try {
    assert.match(oracle.backend, /cpu/);
    const ids = ['a gentle , moving film', 'unflinchingly bleak and desperate'].map((s) =>
      model.tokenizer.encodeIds(s),
    );
    const [embedded, emb] = await oracle.run(ids, [USE_LITE_NODES.embedded, USE_LITE_NODES.embedding]);
    assert.deepEqual(emb.shape, [2, 512]);
    ids.forEach((x, b) => {
      const tr = traceUseLite(model, x);
      let dot = 0;
      for (let j = 0; j < 512; j++) dot += tr.embedding[j] * emb.data[b * 512 + j];
      assert.ok(dot >= 0.9999, `text ${b}: cosine ${dot}`); // both unit-norm
      const T = embedded.shape[1];
      for (let p = 0; p < x.length; p++) {
        for (let j = 0; j < 256; j++)
          assert.ok(Math.abs(tr.embedded[p * 256 + j] - embedded.data[(b * T + p) * 256 + j]) < 1e-5);
      }
    });
  } finally {
    oracle.dispose();
  }
});
