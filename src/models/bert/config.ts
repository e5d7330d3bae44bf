/** BERT / RoBERTa encoder hyperparameters (the fields of a Hugging Face config.json we use). */
export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenDropout: number;
  attentionDropout: number;
  /** 'bert': names under `bert.`, pooler + `classifier`; 'roberta': names under `roberta.`, `classifier.dense` + `classifier.out_proj`, positions offset by padding_idx + 1. */
  flavour: 'bert' | 'roberta';
  /** RoBERTa's padding_idx (positions start at padIdx + 1). */
  padTokenId: number;
  /** FFN activation (default 'gelu', the exact erf form; 'gelu_tanh' is HF's gelu_new / gelu_pytorch_tanh). */
  hiddenAct?: 'gelu' | 'gelu_tanh' | 'relu' | 'silu' | undefined;
}

/** Reads the fields we need from a Hugging Face config.json object. */
export function bertConfigFromHf(json: Record<string, unknown>): BertConfig {
  const num = (k: string, d?: number): number => {
    const v = json[k];
    if (typeof v === 'number') return v;
    if (d !== undefined) return d;
    throw new BertConfigError(`config.json: missing numeric field '${k}'; is this a BERT/RoBERTa config?`);
  };
  const roberta = json['model_type'] === 'roberta' || json['model_type'] === 'xlm-roberta';
  return {
    vocabSize: num('vocab_size'),
    hiddenSize: num('hidden_size'),
    numLayers: num('num_hidden_layers'),
    numHeads: num('num_attention_heads'),
    intermediateSize: num('intermediate_size'),
    maxPositions: num('max_position_embeddings', 512),
    typeVocabSize: num('type_vocab_size', 2),
    layerNormEps: num('layer_norm_eps', 1e-12),
    hiddenDropout: num('hidden_dropout_prob', 0.1),
    attentionDropout: num('attention_probs_dropout_prob', 0.1),
    flavour: roberta ? 'roberta' : 'bert',
    padTokenId: num('pad_token_id', roberta ? 1 : 0),
    hiddenAct: activation(json['hidden_act']),
  };
}

function activation(v: unknown): BertConfig['hiddenAct'] {
  if (v === undefined || v === 'gelu') return 'gelu';
  if (v === 'gelu_new' || v === 'gelu_pytorch_tanh' || v === 'gelu_fast') return 'gelu_tanh';
  if (v === 'relu') return 'relu';
  if (v === 'silu' || v === 'swish') return 'silu';
  throw new BertConfigError(`config.json: hidden_act "${String(v)}" is not supported (gelu, gelu_new, relu, silu)`);
}

export class BertConfigError extends Error {
  override name = 'BertConfigError';
}
