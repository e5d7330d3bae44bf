/** The bench's tiny-BERT models (L2 H128, 2 heads, FFN 512, vocab 30522, frozen embeddings): adapter and full fine-tuning training programs. */
import * as ops from '../src/graph/ops/index.js';
import type { Value } from '../src/graph/ir.js';
import { buildBert, allButEmbeddings, randomBertWeights, type BertConfig } from '../src/models/bert/index.js';
import { compileTraining, tensor, type SessionConfig, type TrainingProgram } from '../src/runtime/index.js';
import { Rng } from '../src/testing/random.js';

export const BENCH = {
  layers: 2,
  hidden: 128,
  heads: 2,
  ffn: 512,
  seq: 64,
  batch: 32,
  vocab: 30522,
  bottleneck: 16,
  labels: 2,
};

export const benchConfig: BertConfig = {
  vocabSize: BENCH.vocab,
  hiddenSize: BENCH.hidden,
  numLayers: BENCH.layers,
  numHeads: BENCH.heads,
  intermediateSize: BENCH.ffn,
  maxPositions: 512,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
  flavour: 'bert',
  padTokenId: 0,
};

export async function buildProgram(
  kind: 'adapter' | 'full',
  cfg: SessionConfig & { clsOnly?: boolean } = {},
): Promise<TrainingProgram> {
  const weights = randomBertWeights(benchConfig, BENCH.labels, 1);
  const rng = new Rng(2);
  const adapterParams: Value[] = [];
  const m = buildBert({
    config: benchConfig,
    weights,
    seqLen: BENCH.seq,
    numLabels: BENCH.labels,
    clsOnlyLastLayer: cfg.clsOnly ?? true,
    trainable: kind === 'full' ? allButEmbeddings : (n) => n.startsWith('classifier'),
    hooks:
      kind === 'adapter'
        ? {
            // Serial adapter after the FFN: out + up(relu(down(out))), up starts at 0 (a no-op).
            ffn: ({ layer, graph, output }) => {
              const p = (name: string, data: Float32Array, shape: number[]) => {
                const v = graph.param(`adapter.${layer}.${name}`, data, shape);
                adapterParams.push(v);
                return v;
              };
              const H = BENCH.hidden;
              const D = BENCH.bottleneck;
              const d = ops.relu(
                ops.linear(
                  output,
                  p('down.weight', rng.float32(D * H, 0.02), [D, H]),
                  p('down.bias', new Float32Array(D), [D]),
                ),
              );
              return ops.add(
                output,
                ops.linear(d, p('up.weight', new Float32Array(H * D), [H, D]), p('up.bias', new Float32Array(H), [H])),
              );
            },
          }
        : undefined,
  });
  const labels = m.graph.input('labels', 'int64', ['batch']);
  const loss = ops.softmaxCrossEntropy(m.logits!, labels);
  return compileTraining({ loss, params: [...m.params, ...adapterParams], optimizer: { weightDecay: 0.01 }, ...cfg });
}

export function benchFeeds(seed = 3) {
  const rng = new Rng(seed);
  const { batch: B, seq: S } = BENCH;
  const ids = BigInt64Array.from({ length: B * S }, () => BigInt(rng.int(BENCH.vocab)));
  const mask = BigInt64Array.from({ length: B * S }, () => 1n);
  const tt = new BigInt64Array(B * S);
  const labels = BigInt64Array.from({ length: B }, () => BigInt(rng.int(2)));
  return {
    input_ids: tensor('int64', ids, [B, S]),
    attention_mask: tensor('int64', mask, [B, S]),
    token_type_ids: tensor('int64', tt, [B, S]),
    labels: tensor('int64', labels, [B]),
  };
}
