/**
 * Test fixtures for the PEFT room: a tiny random BERT (2 layers, H 16, 2 heads), feeds, and the
 * table of configurations every test runs over; a tiny random USE-lite-shaped encoder whose
 * attention widths differ per layer (8, 16 on a 16-wide stream) for `BackboneDims.attentionWidths`.
 */
import type { Graph, Value } from '../graph/ir.js';
import { buildBert, type BertGraph } from '../models/bert/builder.js';
import type { WeightMap } from '../models/types.js';
import type { BertConfig } from '../models/bert/config.js';
import { randomBertWeights } from '../models/bert/random.js';
import { buildUseLite, type UseLiteGraph } from '../models/use-lite/graph.js';
import type { Dense, Norm, UseLiteConfig, UseLiteLayerParams, UseLiteParams } from '../models/use-lite/load.js';
import { compileEval } from '../runtime/eval.js';
import { tensor, type ort } from '../runtime/session.js';
import { Rng } from '../core/random.js';
import { parsePeftConfig, type PeftConfig } from './config.js';
import { createPeft, isHeadWeight, type CreatePeftOptions, type Peft } from './create.js';
import type { BackboneDims } from '../models/types.js';

export const TINY: BertConfig = {
  vocabSize: 40,
  hiddenSize: 16,
  numLayers: 2,
  numHeads: 2,
  intermediateSize: 32,
  maxPositions: 16,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenDropout: 0,
  attentionDropout: 0,
  flavour: 'bert',
  padTokenId: 0,
};
export const TINY_DIMS: BackboneDims = { numLayers: TINY.numLayers, hidden: TINY.hiddenSize, numHeads: TINY.numHeads };
export const SEQ = 6;
export const BATCH = 3;
export const LABELS = 3;

/** NOTE: std 0.2 (not HF's 0.02) so a tiny random model's logits depend visibly on its inputs. */
export const tinyWeights = (): WeightMap => randomBertWeights(TINY, LABELS, 7, 0.2);

/** A batch with padding in the last example. */
export function tinyFeeds(seed = 3): Record<string, ort.Tensor> {
  const r = new Rng(seed);
  const ids = BigInt64Array.from({ length: BATCH * SEQ }, (_, i) =>
    BigInt(i % SEQ === 0 ? 1 : 2 + r.int(TINY.vocabSize - 2)),
  );
  const mask = BigInt64Array.from({ length: BATCH * SEQ }, (_, i) =>
    Math.floor(i / SEQ) === BATCH - 1 && i % SEQ >= SEQ - 2 ? 0n : 1n,
  );
  const types = BigInt64Array.from({ length: BATCH * SEQ }, (_, i) => (i % SEQ >= SEQ / 2 ? 1n : 0n));
  return {
    input_ids: tensor('int64', ids, [BATCH, SEQ]),
    attention_mask: tensor('int64', mask, [BATCH, SEQ]),
    token_type_ids: tensor('int64', types, [BATCH, SEQ]),
  };
}

export const tinyLabels = (): ort.Tensor =>
  tensor(
    'int64',
    BigInt64Array.from({ length: BATCH }, (_, i) => BigInt(i % LABELS)),
    [BATCH],
  );

/** The configuration table: one row per method, PT in both forms, and a combined row. */
/**
 * `fit`: the loss ratio (last / first) that 40 AdamW steps at lr 5e-2 must beat on a fixed batch
 * with the head frozen. Flat prefix rows (N(0,1) init, moved ~lr per step) learn slowest; that is
 * the reason for PT's MLP reparameterisation.
 */
export const CASES: ReadonlyArray<{ name: string; raw: Record<string, unknown>; noopAtInit: boolean; fit?: number }> = [
  { name: 'sa', raw: { sa: 4 }, noopAtInit: true },
  // The reference's form: N(0, 0.02) weights on LN(h + x), so not a no-op at init.
  { name: 'sa (pfeiffer)', raw: { sa: 4, saForm: 'pfeiffer' }, noopAtInit: false },
  { name: 'sa (pfeiffer) + pa', raw: { sa: 3, pa: 2, saForm: 'pfeiffer' }, noopAtInit: false },
  { name: 'pa', raw: { pa: 3 }, noopAtInit: true },
  { name: 'lora', raw: { lora: 2, loraAlpha: 4 }, noopAtInit: true },
  { name: 'pt (MLP)', raw: { pt: 3, ptBottleneck: 8 }, noopAtInit: false },
  { name: 'pt (flat)', raw: { pt: 2, ptBottleneck: 0 }, noopAtInit: false, fit: 0.9 },
  { name: 'sa+pa+lora @ layer 1', raw: { sa: 2, pa: 3, lora: 2, layers: [1] }, noopAtInit: true },
  {
    name: 'combined @ layer 0',
    raw: { sa: 2, pa: 3, pt: 2, lora: 1, ptBottleneck: 5, layers: [0] },
    noopAtInit: false,
  },
];

export const caseConfig = (raw: Record<string, unknown>): PeftConfig => parsePeftConfig(raw, TINY.numLayers);

export interface Built {
  m: BertGraph;
  peft: Peft;
  logits: Value;
}

/** The tiny BERT with `cfg` woven in; the head is trainable unless `frozenHead`. */
export function buildTiny(
  cfg: PeftConfig,
  opts: CreatePeftOptions & { weights?: CreatePeftOptions['weights']; backbone?: WeightMap; frozenHead?: boolean } = {},
): Built {
  const peft = createPeft(cfg, TINY_DIMS, opts);
  const m = buildBert({
    config: TINY,
    weights: opts.backbone ?? tinyWeights(),
    seqLen: SEQ,
    numLabels: LABELS,
    hooks: peft.hooks,
    trainable: opts.frozenHead ? () => false : isHeadWeight,
    hiddenDropout: 0,
    attentionDropout: 0,
  });
  peft.assertBuilt();
  return { m, peft, logits: m.logits! };
}

/** Logits of a graph's eval program (params fed from their current graph data). */
async function graphLogits(graph: Graph, logits: Value, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const prog = await compileEval(graph, { logits }, { threads: 1, params: [...graph.params] });
  const out = await prog.run(feeds);
  await prog.release();
  return out['logits']!.data as Float32Array;
}

export const evalLogits = (b: Built, feeds = tinyFeeds()): Promise<Float32Array> =>
  graphLogits(b.m.graph, b.logits, feeds);

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// --- Per-layer attention widths: a tiny random USE-lite-shaped encoder ---------------------------

/** Layer 0 attends at 8 (then widens to the 16-wide stream, as USE-lite's 256 -> 512), layer 1 at 16. */
export const WIDE_DIMS: BackboneDims = { numLayers: 2, hidden: 16, numHeads: 2, attentionWidths: [8, 16] };

/** A random tiny USE-lite model (`buildUseLite`'s `model`): vocab 40, embed 8, hidden 16, FFN 24. */
export function tinyUseLite(seed = 11): { params: UseLiteParams; config: UseLiteConfig } {
  const r = new Rng(seed);
  // NOTE: std 0.3 weights, so a tiny random model's embedding depends visibly on its inputs.
  const rand = (n: number, std = 0.3) => Float32Array.from({ length: n }, () => std * r.normal());
  const dense = (rows: number, cols: number): Dense => ({
    kernel: rand(rows * cols),
    bias: rand(cols, 0.1),
    rows,
    cols,
  });
  const norm = (d: number): Norm => ({ scale: Float32Array.from(rand(d, 0.1), (v) => 1 + v), bias: rand(d, 0.1) });
  const [embed, hidden, ffn, heads] = [8, 16, 24, 2];
  const layer = (inDim: number): UseLiteLayerParams => ({
    inDim,
    outDim: hidden,
    heads,
    headDim: inDim / heads,
    attnScale: Math.fround((inDim / heads) ** -0.5),
    attnNorm: norm(inDim),
    qkv: dense(inDim, 3 * inDim),
    out: dense(inDim, hidden),
    residual: inDim === hidden ? null : dense(inDim, hidden),
    ffnNorm: norm(hidden),
    ffn1: dense(hidden, ffn),
    ffn2: dense(ffn, hidden),
  });
  const params: UseLiteParams = {
    embeddings: rand(40 * embed),
    invTimescales: Float32Array.from({ length: embed / 2 }, (_, j) => 1e-4 ** (j / (embed / 2 - 1))),
    layers: [layer(8), layer(16)],
    pool: dense(hidden, hidden),
  };
  const config: UseLiteConfig = {
    vocabSize: 40,
    pieces: 40,
    embedDim: embed,
    hidden,
    layers: 2,
    heads,
    ffn,
    maxLength: 16,
    layerNormEpsilon: 1e-6,
    attentionMaskBias: -1e9,
    l2Epsilon: 1e-12,
    embeddingMultiplier: 2,
    params: 0,
  };
  return { params, config };
}

export interface BuiltWide {
  u: UseLiteGraph;
  peft: Peft;
  logits: Value;
}

/** The tiny USE-lite with `cfg` woven in at native per-layer widths; the head is trainable unless `frozenHead`. */
export function buildTinyWide(cfg: PeftConfig, opts: CreatePeftOptions & { frozenHead?: boolean } = {}): BuiltWide {
  const peft = createPeft(cfg, WIDE_DIMS, opts);
  const u = buildUseLite({
    model: tinyUseLite(),
    seqLen: SEQ,
    hooks: peft.hooks,
    attentionHookWidth: 'native',
    head: { numLabels: LABELS, seed: 2, trainable: !opts.frozenHead },
  });
  peft.assertBuilt();
  return { u, peft, logits: u.logits! };
}

/** `tinyFeeds` without token types (USE-lite reads input_ids and attention_mask). */
export function tinyWideFeeds(seed = 3): Record<string, ort.Tensor> {
  const { input_ids, attention_mask } = tinyFeeds(seed);
  return { input_ids: input_ids!, attention_mask: attention_mask! };
}

export const evalWideLogits = (b: BuiltWide, feeds = tinyWideFeeds()): Promise<Float32Array> =>
  graphLogits(b.u.graph, b.logits, feeds);
