/**
 * The plain-TS reference forward against the package's own tfjs graph (wasm backend of
 * @energetic-ai/core): embeddings on 50 SST-2 dev sentences, and every intermediate layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadUseLite } from './load.js';
import { cosine, loadPackageOracle, USE_LITE_NODES, type OracleTensor } from './oracle.js';
import { traceUseLite, type UseLiteTrace } from './reference.js';
import { MISSING_DATA_MESSAGE, rteDev, sst2Dev } from './test-sentences.js';

const model = loadUseLite();

/** Largest |ours - graph| over the real tokens of a dense `B x T x d` graph tensor, and max |graph|. */
function compareDense(
  traces: UseLiteTrace[],
  pick: (t: UseLiteTrace) => Float32Array,
  graph: OracleTensor,
): { err: number; scale: number } {
  const [B, T, d] = graph.shape;
  assert.equal(B, traces.length);
  let err = 0;
  let scale = 0;
  traces.forEach((tr, b) => {
    const ours = pick(tr);
    for (let t = 0; t < tr.length; t++) {
      for (let j = 0; j < d; j++) {
        const g = graph.data[(b * T + t) * d + j];
        err = Math.max(err, Math.abs(ours[t * d + j] - g));
        scale = Math.max(scale, Math.abs(g));
      }
    }
  });
  return { err, scale };
}

function compareRows(rows: Float32Array[], graph: OracleTensor): { err: number; scale: number } {
  const d = graph.shape[1];
  let err = 0;
  let scale = 0;
  rows.forEach((r, b) => {
    for (let j = 0; j < d; j++) {
      err = Math.max(err, Math.abs(r[j] - graph.data[b * d + j]));
      scale = Math.max(scale, Math.abs(graph.data[b * d + j]));
    }
  });
  return { err, scale };
}

test('reference embeddings match the package graph: cosine >= 0.9999 on 50 SST-2 dev sentences, every layer close', async (t) => {
  const sst2 = sst2Dev();
  if (!sst2) {
    t.skip(MISSING_DATA_MESSAGE);
    return;
  }
  const texts = sst2.slice(0, 50);
  const oracle = await loadPackageOracle();
  try {
    // End to end through the package (its tokenizer, its graph) vs our tokenizer + reference.
    const theirs = await oracle.embedTexts(texts);
    const ids = texts.map((s) => model.tokenizer.encodeIds(s));
    const traces = ids.map((x) => traceUseLite(model, x));
    let worst = 1;
    traces.forEach((tr, i) => {
      worst = Math.min(worst, cosine(tr.embedding, theirs[i]));
    });
    assert.ok(worst >= 0.9999, `worst cosine ${worst}`);

    // Layer by layer on the same batch: each intermediate within float32 noise of the graph's.
    const nodes = [
      USE_LITE_NODES.embedded,
      USE_LITE_NODES.attnOutput(0),
      USE_LITE_NODES.output(0),
      USE_LITE_NODES.attnOutput(1),
      USE_LITE_NODES.output(1),
      USE_LITE_NODES.pooled,
      USE_LITE_NODES.tanh,
      USE_LITE_NODES.embedding,
    ];
    const g = await oracle.run(ids, nodes);
    const checks: [string, { err: number; scale: number }][] = [
      ['embedded', compareDense(traces, (x) => x.embedded, g[0])],
      ['layer0 attention', compareDense(traces, (x) => x.layers[0].attnOutput, g[1])],
      ['layer0 output', compareDense(traces, (x) => x.layers[0].output, g[2])],
      ['layer1 attention', compareDense(traces, (x) => x.layers[1].attnOutput, g[3])],
      ['layer1 output', compareDense(traces, (x) => x.layers[1].output, g[4])],
      [
        'pooled',
        compareRows(
          traces.map((x) => x.pooled),
          g[5],
        ),
      ],
      [
        'tanh',
        compareRows(
          traces.map((x) => x.tanh),
          g[6],
        ),
      ],
      [
        'embedding',
        compareRows(
          traces.map((x) => x.embedding),
          g[7],
        ),
      ],
    ];
    for (const [name, { err, scale }] of checks) {
      // NOTE: 1e-5 of the tensor's largest magnitude. Observed: <= 3.6e-6 as read from the graph;
      // layer-norm eps 1e-5 instead of 1e-6 gives 3.5e-5, timing frequencies over 128 instead of
      // 127 give 1e-2 (its cosine, 0.99992, would pass the embedding check alone), embedding added
      // once 0.9.
      assert.ok(err <= 1e-5 * scale, `${name}: max abs error ${err} vs max |value| ${scale}`);
    }
    // Our ids fed to the graph give the package's own end-to-end embeddings (same tokenizer ids).
    const viaIds = compareRows(theirs, g[7]);
    assert.equal(viaIds.err, 0, 'package embed() and our-ids feed differ');
  } finally {
    oracle.dispose();
  }
});

test('texts past the 128-token clip and empty texts match the graph too', async (t) => {
  const rte = rteDev();
  if (!rte) {
    t.skip(MISSING_DATA_MESSAGE);
    return;
  }
  const long = rte.slice(0, 12).join(' ');
  const ids = [model.tokenizer.encodeIds(long), [], model.tokenizer.encodeIds('a gentle , moving film')];
  assert.ok(ids[0].length > 140, `long text has ${ids[0].length} tokens`);
  const oracle = await loadPackageOracle();
  try {
    const theirs = await oracle.embedIds(ids);
    ids.forEach((x, i) => {
      const ours = traceUseLite(model, x);
      assert.equal(ours.length, Math.min(x.length, 128));
      const c = cosine(ours.embedding, theirs[i]);
      assert.ok(c >= 0.9999, `text ${i}: cosine ${c}`);
    });
  } finally {
    oracle.dispose();
  }
});
