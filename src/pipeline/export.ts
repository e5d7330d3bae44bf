/**
 * Export a trained adapter for inference outside autopeft: the merged model (backbone + PEFT
 * modules + head, every weight a constant, prefix-tuning's MLP folded into its rows) as one ONNX
 * file that onnxruntime (node, web) or transformers.js-style pipelines run, plus the adapter's own
 * safetensors + config. The export is checked before it is reported: the ONNX file is loaded by
 * onnxruntime-node and its logits are compared with autopeft's own forward program.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Batcher } from '../data/batching.js';
import type { Backbone } from '../models/backbone.js';
import { buildMergedModel, exportMergedOnnx } from '../peft/export.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, checkAdapterBackbone, type SavedAdapter } from '../peft/io.js';
import { compileEval } from '../runtime/eval.js';
import { ort } from '../runtime/session.js';
import { tokenFeeds } from '../train/feeds.js';
import { UsageError } from '../core/errors.js';

export interface ExportResult {
  onnxPath: string;
  files: string[];
  seqLen: number;
  inputs: string[];
  bytes: number;
  /** Largest |logit difference| between the exported file and autopeft's forward, on `checkTexts`. */
  maxAbsDiff: number;
}

export async function exportAdapter(o: {
  backbone: Backbone;
  adapter: SavedAdapter;
  adapterDir: string;
  outDir: string;
  seqLen: number;
  checkTexts: readonly string[];
}): Promise<ExportResult> {
  const { backbone, adapter } = o;
  // The models room's export capability; a backbone without it cannot be merged into one file.
  const exportBackbone = backbone.exportBackbone?.bind(backbone);
  if (!exportBackbone)
    throw new UsageError(`export: the ${backbone.kind} backbone '${backbone.id}' has no merged export`);
  checkAdapterBackbone(adapter, backbone.dims);
  const numLabels = adapter.head?.numLabels ?? 2;
  const seqLen = Math.min(o.seqLen, backbone.maxLength);
  // The peft room's merged export (head shape checks, prefix MLP folded). NOTE: LoRA stays a
  // branch (mergeLora: false), as this export has always written it; merging is one flag away.
  const merge = { mergeLora: false };
  await mkdir(o.outDir, { recursive: true });
  const onnxPath = join(o.outDir, 'model.onnx');
  const model = await exportMergedOnnx(exportBackbone({ seqLen, numLabels }), adapter, {
    ...merge,
    path: onnxPath,
  });
  const inputNames = model.inputs.map((v) => v.name);
  await copyFile(join(o.adapterDir, ADAPTER_CONFIG_FILE), join(o.outDir, ADAPTER_CONFIG_FILE));
  await copyFile(join(o.adapterDir, ADAPTER_WEIGHTS_FILE), join(o.outDir, ADAPTER_WEIGHTS_FILE));
  const meta = {
    model: 'model.onnx',
    backbone: adapter.backbone,
    task: adapter.task ?? null,
    head: adapter.head ?? null,
    inputs: inputNames.map((n) => ({ name: n, dtype: 'int64', shape: ['batch', seqLen] })),
    outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', numLabels] }],
    note: `inputs are padded to exactly ${seqLen} tokens (attention_mask 0 on padding); tokenize with the backbone's tokenizer`,
  };
  await writeFile(join(o.outDir, 'export.json'), `${JSON.stringify(meta, null, 2)}\n`);

  // Check: the file, run by onnxruntime-node, against autopeft's forward at the texts' own length.
  const session = await ort.InferenceSession.create(onnxPath);
  const examples = o.checkTexts.map((text) => ({ text, label: 0 }));
  const fixed = new Batcher(examples, backbone.tokenizer, {
    batchSize: examples.length,
    maxLength: seqLen,
    padding: 'fixed',
    shuffle: false,
  });
  const b = [...fixed.batches()][0]!;
  const got = (await session.run(tokenFeeds(b, inputNames))).logits!.data as Float32Array;
  await session.release();
  const dyn = new Batcher(examples, backbone.tokenizer, {
    batchSize: examples.length,
    maxLength: seqLen,
    shuffle: false,
  });
  const db = [...dyn.batches()][0]!;
  const ref = buildMergedModel(exportBackbone({ seqLen: db.seq, numLabels }), adapter, merge);
  const prog = await compileEval(ref.graph, { logits: ref.logits });
  const want = (
    await prog.run(
      tokenFeeds(
        db,
        ref.graph.inputs.map((v) => v.name),
      ),
    )
  ).logits!.data as Float32Array;
  await prog.release();
  let maxAbsDiff = 0;
  // Batches are sorted by length: map rows back through `indices`.
  b.indices.forEach((ex, r) => {
    const r2 = db.indices.indexOf(ex);
    for (let j = 0; j < numLabels; j++)
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[r * numLabels + j]! - want[r2 * numLabels + j]!));
  });
  return {
    onnxPath,
    files: ['model.onnx', 'export.json', ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE],
    seqLen,
    inputs: inputNames,
    bytes: model.bytes!.length,
    maxAbsDiff,
  };
}
