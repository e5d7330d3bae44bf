/**
 * `autopeft predict` throughput on SST-2 dev next to the USE-lite package's own tfjs graph, in the
 * same process and run: a USE-lite adapter (serial adapter D = 64 in both layers, the README's one
 * configuration; random weights: speed does not depend on them) classified
 *   - from the adapter (`predict --adapter`: evaluate's forward, one program per padded length),
 *   - from its transformers.js export (`predict --model-dir`: onnx/model.onnx + tokenizer.json),
 * vs the package's EmbeddingsModel graph (@energetic-ai/core's tfjs wasm backend) embedding the
 * same sentences. Ours include tokenization and the head; the peer gets pre-tokenized ids and
 * returns embeddings only (less work on its side).
 * Usage: npx tsx bench/predict.ts [--n 400] [--reps 3] [--batch 64] [--threads 2]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadUseLiteBackbone } from '../src/models/use-lite/backbone.js';
import { loadPackageOracle } from '../src/models/use-lite/oracle.js';
import { MISSING_DATA_MESSAGE, sst2Dev } from '../src/models/use-lite/test-sentences.js';
import { parsePeftConfig } from '../src/peft/config.js';
import { peftTensorSpecs } from '../src/peft/create.js';
import { initTensor } from '../src/peft/init.js';
import type { SavedAdapter } from '../src/peft/io.js';
import { exportAdapter } from '../src/pipeline/export.js';
import { predictWithAdapter, predictWithExport } from '../src/pipeline/predict.js';
import { median, numFlag } from './lib/flags.js';

const arg = numFlag;
const n = arg('n', 400);
const reps = arg('reps', 3);
const batchSize = arg('batch', 64);
const threads = arg('threads', 2);
const all = sst2Dev();
if (!all) {
  console.log(MISSING_DATA_MESSAGE);
  process.exit(0);
}
const sentences = all.slice(0, n);
const backbone = loadUseLiteBackbone();
const config = parsePeftConfig({ sa: 64 }, backbone.dims.numLayers);
const weights = new Map(
  peftTensorSpecs(config, backbone.dims).map((s) => [
    s.name,
    { data: initTensor(s, 1, 'float32') as Float32Array, shape: s.shape },
  ]),
);
const head = backbone.exportBackbone({ seqLen: 8, numLabels: 2 }).weights;
const adapter: SavedAdapter = {
  config,
  backbone: { id: 'use-lite', type: 'use-lite', dims: backbone.dims },
  head: { kind: 'classification', numLabels: 2, labels: ['negative', 'positive'] },
  task: 'sst2',
  weights,
  headWeights: new Map(
    [...head].filter(([k]) => k.startsWith('classifier')).map(([k, t]) => [k, { data: t.data, shape: [...t.shape] }]),
  ),
};
const dir = await mkdtemp(join(tmpdir(), 'autopeft-bench-predict-'));
await exportAdapter({ backbone, adapter, outDir: dir, maxLength: 128, checkTexts: sentences.slice(0, 4) });
const inputs = sentences.map((text) => ({ text }));
const oracle = await loadPackageOracle();
const ids = sentences.map((s) => backbone.tokenizer.encodeIds(s).slice(0, 128));

async function once(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}
const runAdapter = () => predictWithAdapter({ backbone, adapter, inputs, batchSize, threads });
const runExport = () => predictWithExport({ dir, inputs, batchSize, threads });
const runPeer = async () => {
  for (let i = 0; i < ids.length; i += batchSize) await oracle.embedIds(ids.slice(i, i + batchSize));
};
// Warm-up (program compilation, JIT, graph loading), then interleaved reps.
await once(runAdapter);
await once(runExport);
await once(runPeer);
const t = { adapter: [] as number[], export: [] as number[], peer: [] as number[] };
for (let r = 0; r < reps; r++) {
  t.adapter.push(await once(runAdapter));
  t.export.push(await once(runExport));
  t.peer.push(await once(runPeer));
}
const sps = (xs: number[]) => n / median(xs);
console.log(
  `predict, USE-lite + serial adapter D=64, ${n} SST-2 dev sentences, batch ${batchSize}, ${threads} threads, ${reps} interleaved reps (medians):`,
);
console.log(
  `  predict --adapter:   ${sps(t.adapter).toFixed(1)} sentences/s (tokenization + forward + head; programs compiled per padded length inside each call, as in one CLI run)`,
);
console.log(
  `  predict --model-dir: ${sps(t.export).toFixed(1)} sentences/s (exported onnx/model.onnx, tokenizer.json)`,
);
console.log(
  `  package tfjs graph (${oracle.backend}): ${sps(t.peer).toFixed(1)} sentences/s (embeddings only, ids given)`,
);
console.log(
  JSON.stringify({
    n,
    batchSize,
    threads,
    adapterSentencesPerSecond: sps(t.adapter),
    exportSentencesPerSecond: sps(t.export),
    tfjsSentencesPerSecond: sps(t.peer),
    ratioAdapterOverTfjs: sps(t.adapter) / sps(t.peer),
    ratioExportOverTfjs: sps(t.export) / sps(t.peer),
  }),
);
oracle.dispose();
await rm(dir, { recursive: true, force: true });
