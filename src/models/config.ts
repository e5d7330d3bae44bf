/**
 * config.json parsing for BERT and RoBERTa checkpoints in the Hugging Face layout.
 *
 * Field names follow transformers' BertConfig / RobertaConfig; the parsed form is camelCase.
 * Required: model_type, vocab_size, hidden_size, num_hidden_layers, num_attention_heads,
 * intermediate_size, max_position_embeddings. Optional with transformers' defaults: hidden_act
 * ("gelu"), type_vocab_size (2), layer_norm_eps (1e-12), pad_token_id (0 for BERT, 1 for
 * RoBERTa), hidden_dropout_prob / attention_probs_dropout_prob (0.1).
 */
import { readFile } from 'node:fs/promises';
import { ModelConfigError } from './io/errors.js';

export type EncoderModelType = 'bert' | 'roberta';

/**
 * Activation of the FFN. NOTE: 'gelu' is the exact erf form; transformers' 'gelu_new',
 * 'gelu_fast' and 'gelu_pytorch_tanh' are all 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3))) and map
 * to 'gelu_tanh'; 'swish' maps to 'silu'.
 */
export type HiddenAct = 'gelu' | 'gelu_tanh' | 'relu' | 'silu';

export interface EncoderConfig {
  readonly modelType: EncoderModelType;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  /** hiddenSize / numAttentionHeads. */
  readonly headDim: number;
  readonly intermediateSize: number;
  readonly hiddenAct: HiddenAct;
  /** Rows of the position embedding table. */
  readonly maxPositionEmbeddings: number;
  /** Rows of the token type table (2 for BERT, 1 for RoBERTa). */
  readonly typeVocabSize: number;
  readonly layerNormEps: number;
  readonly padTokenId: number;
  readonly hiddenDropoutProb: number;
  readonly attentionProbsDropoutProb: number;
  /**
   * Position id of the first token. BERT: 0. RoBERTa: padTokenId + 1 (= 2), because fairseq
   * numbers positions from padding_idx + 1 and keeps rows 0..padding_idx unused; token i of a
   * sequence (0-based, no left padding) uses position row positionOffset + i.
   */
  readonly positionOffset: number;
  /** Longest sequence (special tokens included) the position table allows: 512 for both. */
  readonly maxSequenceLength: number;
}

const ACTS: Record<string, HiddenAct> = {
  gelu: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  relu: 'relu',
  silu: 'silu',
  swish: 'silu',
};

/** Parse a config.json object (already JSON-decoded). `file` names it in errors. */
export function parseEncoderConfig(json: unknown, file = 'config.json'): EncoderConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ModelConfigError(file, '', `${file}: must be a JSON object`);
  }
  const raw = json as Record<string, unknown>;
  const fail = (field: string, why: string): never => {
    throw new ModelConfigError(file, field, `${file}: ${field} ${why}`);
  };
  const modelType = raw['model_type'];
  if (modelType === undefined) fail('model_type', `is missing; set it to "bert" or "roberta"`);
  if (modelType !== 'bert' && modelType !== 'roberta') {
    fail('model_type', `is ${JSON.stringify(modelType)}; only "bert" and "roberta" encoders are supported`);
  }
  const mt = modelType as EncoderModelType;
  const int = (field: string, min: number, dflt?: number): number => {
    const v = raw[field] ?? dflt;
    if (v === undefined) return fail(field, `is missing; it is required for ${mt} configs`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
      return fail(field, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const prob = (field: string): number => {
    const v = raw[field] ?? 0.1;
    if (typeof v !== 'number' || !(v >= 0 && v < 1))
      return fail(field, `must be a number in [0, 1), got ${JSON.stringify(v)}`);
    return v;
  };
  const vocabSize = int('vocab_size', 1);
  const hiddenSize = int('hidden_size', 1);
  const numHiddenLayers = int('num_hidden_layers', 1);
  const numAttentionHeads = int('num_attention_heads', 1);
  if (hiddenSize % numAttentionHeads !== 0) {
    fail('num_attention_heads', `(${numAttentionHeads}) must divide hidden_size (${hiddenSize})`);
  }
  const intermediateSize = int('intermediate_size', 1);
  const maxPositionEmbeddings = int('max_position_embeddings', 1);
  const typeVocabSize = int('type_vocab_size', 1, 2);
  const padTokenId = int('pad_token_id', 0, mt === 'roberta' ? 1 : 0);
  if (padTokenId >= vocabSize) fail('pad_token_id', `(${padTokenId}) must be < vocab_size (${vocabSize})`);
  const actRaw = raw['hidden_act'] ?? 'gelu';
  if (typeof actRaw !== 'string' || !Object.hasOwn(ACTS, actRaw)) {
    fail('hidden_act', `is ${JSON.stringify(actRaw)}; supported: ${Object.keys(ACTS).join(', ')}`);
  }
  const eps = raw['layer_norm_eps'] ?? 1e-12;
  if (typeof eps !== 'number' || !(eps > 0 && eps < 1))
    fail('layer_norm_eps', `must be a number in (0, 1), got ${JSON.stringify(eps)}`);
  const pet = raw['position_embedding_type'];
  if (pet !== undefined && pet !== 'absolute') {
    fail('position_embedding_type', `is ${JSON.stringify(pet)}; only "absolute" position embeddings are supported`);
  }
  if (raw['is_decoder'] === true || raw['add_cross_attention'] === true) {
    fail(
      raw['is_decoder'] === true ? 'is_decoder' : 'add_cross_attention',
      'is true; only encoder-only checkpoints are supported',
    );
  }
  const positionOffset = mt === 'roberta' ? padTokenId + 1 : 0;
  if (maxPositionEmbeddings <= positionOffset) {
    fail(
      'max_position_embeddings',
      `(${maxPositionEmbeddings}) must exceed the RoBERTa position offset pad_token_id + 1 (${positionOffset})`,
    );
  }
  return {
    modelType: mt,
    vocabSize,
    hiddenSize,
    numHiddenLayers,
    numAttentionHeads,
    headDim: hiddenSize / numAttentionHeads,
    intermediateSize,
    hiddenAct: ACTS[actRaw as string]!,
    maxPositionEmbeddings,
    typeVocabSize,
    layerNormEps: eps as number,
    padTokenId,
    hiddenDropoutProb: prob('hidden_dropout_prob'),
    attentionProbsDropoutProb: prob('attention_probs_dropout_prob'),
    positionOffset,
    maxSequenceLength: maxPositionEmbeddings - positionOffset,
  };
}

/** Read and parse `<path>` (a config.json file). */
export async function readEncoderConfig(path: string): Promise<EncoderConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ModelConfigError(
      path,
      '',
      `${path}: cannot read config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); a checkpoint folder needs a config.json`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelConfigError(path, '', `${path}: not valid JSON (${(e as Error).message})`);
  }
  return parseEncoderConfig(json, path);
}

/** The config.json `hidden_act` written for each HiddenAct. */
export const HIDDEN_ACT_JSON: Readonly<Record<HiddenAct, string>> = {
  gelu: 'gelu',
  gelu_tanh: 'gelu_new',
  relu: 'relu',
  silu: 'silu',
};

/** The config.json object (snake_case, as transformers writes it) for an EncoderConfig. */
export function encoderConfigToJson(c: EncoderConfig): Record<string, unknown> {
  return {
    architectures: [c.modelType === 'bert' ? 'BertModel' : 'RobertaModel'],
    model_type: c.modelType,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads,
    intermediate_size: c.intermediateSize,
    hidden_act: HIDDEN_ACT_JSON[c.hiddenAct],
    hidden_dropout_prob: c.hiddenDropoutProb,
    attention_probs_dropout_prob: c.attentionProbsDropoutProb,
    max_position_embeddings: c.maxPositionEmbeddings,
    type_vocab_size: c.typeVocabSize,
    layer_norm_eps: c.layerNormEps,
    pad_token_id: c.padTokenId,
    position_embedding_type: 'absolute',
    ...(c.modelType === 'roberta' ? { bos_token_id: 0, eos_token_id: 2 } : {}),
  };
}
