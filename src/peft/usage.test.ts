/**
 * The usage example of docs/peft.md, run as a test (keep the two in sync): build a BERT graph with
 * PEFT hooks, train only PEFT + head, save, load, export, and check the exported logits.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ops from '../graph/ops/index.js';
import { buildBert, bertExportBackbone } from '../models/bert/index.js';
import { randomBertWeights } from '../models/bert/random.js';
import { compileTraining } from '../runtime/training.js';
import { createSession, tensor } from '../runtime/session.js';
import {
  backboneParamCount,
  createPeft,
  exportMergedOnnx,
  headParamCount,
  isHeadWeight,
  loadPeftAdapter,
  parsePeftConfig,
  peftParamCounts,
  savePeftAdapter,
} from './index.js';
import { TINY as config } from './testing.js';

it('docs/peft.md usage example', async () => {
  const out = await mkdtemp(join(tmpdir(), 'autopeft-usage-'));
  try {
    // --- docs/peft.md example starts ---
    const weights = randomBertWeights(config, 2, 0, 0.2); // or loadCheckpoint(dir).weights
    const dims = { numLayers: config.numLayers, hidden: config.hiddenSize, numHeads: config.numHeads };
    const cfg = parsePeftConfig({ sa: 4, pt: 2, lora: 2, layers: [1] }, dims.numLayers);

    // 1. Build: PEFT params are created by the hooks (active layers only); the head is trainable.
    const peft = createPeft(cfg, dims, { seed: 42 });
    const m = buildBert({ config, weights, seqLen: 8, numLabels: 2, hooks: peft.hooks, trainable: isHeadWeight });
    const labels = m.graph.input('labels', 'int64', ['batch']);
    const loss = ops.softmaxCrossEntropy(m.logits!, labels);

    // 2. Train: only g.params (PEFT + head) are updated.
    const prog = await compileTraining({
      loss,
      params: [...peft.params, ...m.params],
      optimizer: { weightDecay: 0.01 },
    });
    const ids = BigInt64Array.from({ length: 16 }, (_, i) => BigInt(i % 8 === 0 ? 1 : 2 + ((i * 7) % 30)));
    const batch = {
      input_ids: tensor('int64', ids, [2, 8]),
      attention_mask: tensor('int64', new BigInt64Array(16).fill(1n), [2, 8]),
      token_type_ids: tensor('int64', new BigInt64Array(16), [2, 8]),
      labels: tensor('int64', BigInt64Array.of(0n, 1n), [2]),
    };
    for (let step = 0; step < 3; step++) await prog.step(batch, 1e-2);
    const trained = prog.readParams();
    const evalProg = await prog.evalProgram({ logits: m.logits! });
    const evalLogits = (await evalProg.run(batch))['logits']!.data as Float32Array;

    // 3. Save: PEFT tensors + head tensors + autopeft_adapter.json.
    const pick = (f: (n: string) => boolean) => new Map([...trained].filter(([n]) => f(n)));
    await savePeftAdapter(out, {
      config: cfg,
      backbone: { id: 'bert-base-uncased', type: 'bert', dims },
      head: { kind: 'classification', numLabels: 2 },
      weights: pick((n) => n.startsWith('peft.')),
      headWeights: pick(isHeadWeight),
    });

    // 4. Load and export one ONNX model (PT folded, LoRA merged), run by onnxruntime.
    const adapter = await loadPeftAdapter(out);
    const backbone = bertExportBackbone(config, weights, { seqLen: 8, numLabels: 2 });
    const model = await exportMergedOnnx(backbone, adapter, { path: join(out, 'model.onnx') });
    const session = await createSession(model, {});
    const { input_ids, attention_mask, token_type_ids } = batch;
    const exported = (await session.run({ input_ids, attention_mask, token_type_ids }))['logits']!.data as Float32Array;

    // 5. Counts: the paper's % and the exact trainable count.
    const counts = peftParamCounts(cfg, dims, {
      backboneParams: backboneParamCount(weights),
      headParams: headParamCount(weights),
    });
    // --- docs/peft.md example ends ---
    await prog.release();
    await evalProg.release();
    await session.release();
    for (let i = 0; i < evalLogits.length; i++) assert.ok(Math.abs(exported[i]! - evalLogits[i]!) < 2e-5);
    assert.equal(counts.trainable, m.graph.paramCount());
    assert.equal(counts.paper, 2 * 16 * 4 + 2 * 16 * 2 + 4 * 16 * 2);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
