/** A BERT/RoBERTa checkpoint as a merged export takes it (`ExportBackbone`, ../types.ts). */
import type { Dim } from '../../graph/ir.js';
import type { ExportBackbone, WeightMap } from '../types.js';
import { buildBert } from './builder.js';
import type { BertConfig } from './config.js';

/**
 * `weights` (builder names, head included) at a static `seqLen`: dropout off, nothing trainable.
 * LoRA merges into `<flavour>.encoder.layer.<l>.attention.self.<query|value>.weight`.
 */
export function bertExportBackbone(
  config: BertConfig,
  weights: WeightMap,
  opts: { seqLen: Dim; numLabels: number },
): ExportBackbone {
  return {
    dims: { numLayers: config.numLayers, hidden: config.hiddenSize, numHeads: config.numHeads },
    weights,
    projectionWeightName: (l, t) => `${config.flavour}.encoder.layer.${l}.attention.self.${t}.weight`,
    build: (w, hooks) => {
      const m = buildBert({
        config,
        weights: w,
        seqLen: opts.seqLen,
        numLabels: opts.numLabels,
        hooks,
        hiddenDropout: 0,
        attentionDropout: 0,
      });
      return { graph: m.graph, logits: m.logits! };
    },
  };
}
