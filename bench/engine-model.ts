/**
 * The engine bench's BERT models at two shapes (tiny: L2 H128; base: BERT-base, L12 H768), random
 * weights, frozen embeddings: adapter and full fine-tuning training programs. bench/engine_torch.py
 * builds the same models in PyTorch from the same shape.
 */
import * as ops from '../src/graph/ops/index.js';
import type { Dim, Value } from '../src/graph/ir.js';
import { buildBert, allButEmbeddings, randomBertWeights, type BertConfig } from '../src/models/bert/index.js';
import { compileTraining, tensor, type SessionConfig, type TrainingProgram } from '../src/runtime/index.js';
import { Rng } from '../src/testing/random.js';

export interface BenchShape {
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  seq: number;
  batch: number;
  vocab: number;
  /** Serial adapter bottleneck. */
  bottleneck: number;
  labels: number;
  /** Untimed steps per model before timing (both sides). */
  warmup: number;
}

export const SHAPES = {
  tiny: {
    layers: 2,
    hidden: 128,
    heads: 2,
    ffn: 512,
    seq: 64,
    batch: 32,
    vocab: 30522,
    bottleneck: 16,
    labels: 2,
    warmup: 5,
  },
  // BERT-base at the paper's length; batch 8 keeps a full fine-tuning step at a few seconds on 2 cores.
  base: {
    layers: 12,
    hidden: 768,
    heads: 12,
    ffn: 3072,
    seq: 128,
    batch: 8,
    vocab: 30522,
    bottleneck: 64,
    labels: 2,
    warmup: 2,
  },
} satisfies Record<string, BenchShape>;
export type ShapeName = keyof typeof SHAPES;

/** The tiny shape (kept for bench/engine-profile.ts and bench/engine-settings.ts). */
export const BENCH: BenchShape = SHAPES.tiny;

export function bertConfigOf(s: BenchShape): BertConfig {
  return {
    vocabSize: s.vocab,
    hiddenSize: s.hidden,
    numLayers: s.layers,
    numHeads: s.heads,
    intermediateSize: s.ffn,
    maxPositions: 512,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
    flavour: 'bert',
    padTokenId: 0,
  };
}

export interface BuildOptions extends SessionConfig {
  /** Compute only the [CLS] row in the last layer (the product's exact shortcut). Default false: equal work with PyTorch. */
  clsOnly?: boolean;
  /** Sequence axis: the shape's length (default), another static length, or a symbolic name. */
  seqLen?: Dim;
}

export async function buildProgram(
  kind: 'adapter' | 'full',
  shape: BenchShape = BENCH,
  cfg: BuildOptions = {},
): Promise<TrainingProgram> {
  const config = bertConfigOf(shape);
  const weights = randomBertWeights(config, shape.labels, 1);
  const rng = new Rng(2);
  const adapterParams: Value[] = [];
  const m = buildBert({
    config,
    weights,
    seqLen: cfg.seqLen ?? shape.seq,
    numLabels: shape.labels,
    clsOnlyLastLayer: cfg.clsOnly ?? false,
    trainable: kind === 'full' ? allButEmbeddings : (n) => n.startsWith('classifier'),
    hooks:
      kind === 'adapter'
        ? {
            // Serial adapter after the FFN: out + up(relu(down(out))), up starts at 0 (a no-op).
            ffn: ({ layer, graph, output }) => {
              const p = (name: string, data: Float32Array, dims: number[]) => {
                const v = graph.param(`adapter.${layer}.${name}`, data, dims);
                adapterParams.push(v);
                return v;
              };
              const H = shape.hidden;
              const D = shape.bottleneck;
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

/** A batch of random token ids (all attended) and labels; `seq` defaults to the shape's length. */
export function benchFeeds(shape: BenchShape = BENCH, seed = 3, seq = shape.seq) {
  const rng = new Rng(seed);
  const B = shape.batch;
  const ids = BigInt64Array.from({ length: B * seq }, () => BigInt(rng.int(shape.vocab)));
  const mask = BigInt64Array.from({ length: B * seq }, () => 1n);
  const tt = new BigInt64Array(B * seq);
  const labels = BigInt64Array.from({ length: B }, () => BigInt(rng.int(shape.labels)));
  return {
    input_ids: tensor('int64', ids, [B, seq]),
    attention_mask: tensor('int64', mask, [B, seq]),
    token_type_ids: tensor('int64', tt, [B, seq]),
    labels: tensor('int64', labels, [B]),
  };
}
