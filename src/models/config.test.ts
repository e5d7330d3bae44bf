import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encoderConfigToJson, parseEncoderConfig } from './config.js';
import { ModelConfigError } from './io/errors.js';
import { normalizeWeightName, encoderWeightShapes } from './io/weights.js';

// The published config.json files of bert-base-uncased and roberta-base.
const BERT_BASE = {
  architectures: ['BertForMaskedLM'],
  attention_probs_dropout_prob: 0.1,
  gradient_checkpointing: false,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  model_type: 'bert',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
  transformers_version: '4.6.0.dev0',
  type_vocab_size: 2,
  use_cache: true,
  vocab_size: 30522,
};
const ROBERTA_BASE = {
  architectures: ['RobertaForMaskedLM'],
  attention_probs_dropout_prob: 0.1,
  bos_token_id: 0,
  eos_token_id: 2,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  layer_norm_eps: 1e-5,
  max_position_embeddings: 514,
  model_type: 'roberta',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 1,
  type_vocab_size: 1,
  vocab_size: 50265,
};

test('parses bert-base-uncased and roberta-base configs', () => {
  const b = parseEncoderConfig(BERT_BASE);
  assert.equal(b.modelType, 'bert');
  assert.equal(b.hiddenSize, 768);
  assert.equal(b.headDim, 64);
  assert.equal(b.hiddenAct, 'gelu');
  assert.equal(b.positionOffset, 0);
  assert.equal(b.maxSequenceLength, 512);
  assert.equal(b.typeVocabSize, 2);
  const r = parseEncoderConfig(ROBERTA_BASE);
  assert.equal(r.modelType, 'roberta');
  assert.equal(r.padTokenId, 1);
  assert.equal(r.positionOffset, 2);
  assert.equal(r.maxSequenceLength, 512);
  assert.equal(r.layerNormEps, 1e-5);
  // Round trip through the writer.
  assert.deepEqual(parseEncoderConfig(encoderConfigToJson(r)), r);
  assert.deepEqual(parseEncoderConfig(encoderConfigToJson(b)), b);
});

test('defaults: hidden_act, type_vocab_size, eps, pad id, dropouts; gelu variants map', () => {
  const min = {
    model_type: 'roberta',
    vocab_size: 10,
    hidden_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 16,
    max_position_embeddings: 20,
  };
  const c = parseEncoderConfig(min);
  assert.equal(c.hiddenAct, 'gelu');
  assert.equal(c.typeVocabSize, 2);
  assert.equal(c.layerNormEps, 1e-12);
  assert.equal(c.padTokenId, 1);
  assert.equal(c.hiddenDropoutProb, 0.1);
  assert.equal(parseEncoderConfig({ ...min, hidden_act: 'gelu_new' }).hiddenAct, 'gelu_tanh');
  assert.equal(parseEncoderConfig({ ...min, hidden_act: 'gelu_pytorch_tanh' }).hiddenAct, 'gelu_tanh');
  assert.equal(parseEncoderConfig({ ...min, hidden_act: 'swish' }).hiddenAct, 'silu');
});

test('typed errors name the field', () => {
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ ...BERT_BASE, model_type: 'gpt2' }, 'model_type', /only "bert" and "roberta"/],
    [{ ...BERT_BASE, model_type: undefined }, 'model_type', /missing/],
    [{ ...BERT_BASE, hidden_size: undefined }, 'hidden_size', /missing/],
    [{ ...BERT_BASE, hidden_size: 770 }, 'num_attention_heads', /must divide hidden_size \(770\)/],
    [{ ...BERT_BASE, num_hidden_layers: 1.5 }, 'num_hidden_layers', /integer >= 1/],
    [{ ...BERT_BASE, hidden_act: 'mish' }, 'hidden_act', /"mish"; supported/],
    [{ ...BERT_BASE, layer_norm_eps: 0 }, 'layer_norm_eps', /\(0, 1\)/],
    [{ ...BERT_BASE, pad_token_id: 40000 }, 'pad_token_id', /< vocab_size/],
    [{ ...BERT_BASE, position_embedding_type: 'relative_key' }, 'position_embedding_type', /only "absolute"/],
    [{ ...BERT_BASE, hidden_dropout_prob: 1 }, 'hidden_dropout_prob', /\[0, 1\)/],
    [{ ...ROBERTA_BASE, max_position_embeddings: 2 }, 'max_position_embeddings', /position offset/],
    [{ ...BERT_BASE, is_decoder: true }, 'is_decoder', /encoder-only/],
  ];
  for (const [json, field, re] of cases) {
    assert.throws(
      () => parseEncoderConfig(json, 'm/config.json'),
      (e: unknown) => {
        assert.ok(e instanceof ModelConfigError);
        assert.equal(e.field, field);
        assert.match(e.message, re);
        assert.ok(e.message.startsWith(`m/config.json: ${field}`), e.message);
        return true;
      },
    );
  }
  assert.throws(() => parseEncoderConfig([1]), /must be a JSON object/);
});

test('weight names: prefixes stripped, gamma/beta renamed; shape table counts', () => {
  assert.equal(normalizeWeightName('bert.encoder.layer.0.output.dense.weight'), 'encoder.layer.0.output.dense.weight');
  assert.equal(normalizeWeightName('roberta.embeddings.LayerNorm.weight'), 'embeddings.LayerNorm.weight');
  assert.equal(normalizeWeightName('bert.embeddings.LayerNorm.gamma'), 'embeddings.LayerNorm.weight');
  assert.equal(
    normalizeWeightName('bert.encoder.layer.11.attention.output.LayerNorm.beta'),
    'encoder.layer.11.attention.output.LayerNorm.bias',
  );
  assert.equal(normalizeWeightName('embeddings.word_embeddings.weight'), 'embeddings.word_embeddings.weight');
  assert.equal(
    normalizeWeightName('cls.predictions.transform.LayerNorm.gamma'),
    'cls.predictions.transform.LayerNorm.weight',
  );
  // bert-base: 5 embedding tensors + 16 per layer; the published parameter count without pooler.
  const { required, optional } = encoderWeightShapes(parseEncoderConfig(BERT_BASE));
  assert.equal(required.size, 5 + 16 * 12);
  const count = (m: Map<string, number[]>): number =>
    [...m.values()].reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
  assert.equal(count(required) + count(optional), 109_482_240); // BertModel(bert-base-uncased) parameters
});
