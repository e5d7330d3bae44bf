/** Saves a trained PEFT adapter (+ head) in the adapter format of src/peft/io.ts. */
import type { Backbone } from '../models/backbone.js';
import type { TaskInfo } from '../data/tasks/types.js';
import type { NamedTensor } from '../runtime/params.js';
import type { PeftConfig } from '../peft/config.js';
import { savePeftAdapter } from '../peft/io.js';
import type { PeftWeights } from '../peft/types.js';
import type { PairEncoding, PairHead } from '../models/types.js';

export interface SaveTrainedArgs {
  model: string;
  task: string;
  cfg: PeftConfig;
  backbone: Backbone;
  info: TaskInfo;
  params: ReadonlyMap<string, NamedTensor>;
  extra: Record<string, unknown>;
  /** Siamese adapters: the encoding and head they were trained with (recorded in the head). */
  pair?: { encoding: PairEncoding; head: PairHead } | undefined;
}

export async function saveTrained(dir: string, a: SaveTrainedArgs): Promise<void> {
  const weights: PeftWeights = new Map();
  const headWeights: PeftWeights = new Map();
  for (const [name, t] of a.params)
    (name.startsWith('peft.') ? weights : headWeights).set(name, { data: t.data, shape: [...t.shape] });
  // Backbones whose attention is narrower than the residual stream in some layers (USE-lite's
  // layer 0) size LoRA and prefix tensors per layer: the adapter must record those widths.
  const { numLayers, hidden, numHeads, attentionWidths } = a.backbone.dims;
  await savePeftAdapter(dir, {
    config: a.cfg,
    backbone: {
      id: a.model,
      type: a.backbone.kind,
      dims: { numLayers, hidden, numHeads, ...(attentionWidths ? { attentionWidths: [...attentionWidths] } : {}) },
    },
    head: {
      kind: a.info.regression ? 'regression' : 'classification',
      numLabels: a.info.regression ? 1 : a.info.numLabels,
      labels: a.info.labelNames,
      ...(a.pair
        ? { pairEncoding: a.pair.encoding, ...(a.pair.encoding === 'siamese' ? { pairHead: a.pair.head } : {}) }
        : {}),
    },
    task: a.task,
    weights,
    headWeights,
    extra: a.extra,
  });
}
