/**
 * Pins the reading of USE-lite's graph (model.json) that reference.ts encodes, on the wiring itself:
 * a different model version, or a misreading, fails here with the node at fault named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readTfjsModelJson } from '../io/tfjs.js';
import { useLitePackageDir } from './load.js';

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
}

const topology = readTfjsModelJson(join(useLitePackageDir(), 'model.json')).modelTopology as { node: GraphNode[] };
const nodes = new Map(topology.node.map((n) => [n.name, n]));
const P = 'module_apply_default/Encoder_en/KonaTransformer/';
const S = `${P}Encode/TransformerStack/`;

function inputs(name: string): string[] {
  const n = nodes.get(name);
  assert.ok(n, `node ${name} not in the graph`);
  return n.input ?? [];
}

test('op inventory: 317 nodes, 4 attention convs, 2 softmax, 2 ReLU FFNs, 1 tanh, 1 sin/cos pair', () => {
  const count = new Map<string, number>();
  for (const n of topology.node) count.set(n.op, (count.get(n.op) ?? 0) + 1);
  assert.equal(topology.node.length, 317);
  const want: Record<string, number> = {
    Placeholder: 2,
    Const: 61,
    Conv2D: 4,
    BatchMatMul: 4,
    Softmax: 2,
    Relu: 2,
    Tanh: 1,
    Sin: 1,
    Cos: 1,
    Rsqrt: 5,
    SparseToDense: 1,
    ScatterNd: 5,
    GatherNd: 4,
  };
  for (const [op, n] of Object.entries(want)) assert.equal(count.get(op), n, op);
  // 5 Rsqrt = 4 layer norms + the L2 normalisation: no final layer norm after layer 1.
});

test('layer-0 input is 2 E + timing: the embedding scatter is added to (its own gather + timing)', () => {
  assert.deepEqual(inputs(`${S}Layer_0/add`), [
    `${P}Encode/Scatter/ScatterNd`,
    `${S}Layer_0/AddTimingSignal/Scatter/ScatterNd`,
  ]);
  assert.equal(inputs(`${S}Layer_0/AddTimingSignal/Scatter/ScatterNd`)[1], `${S}Layer_0/AddTimingSignal/add`);
  assert.deepEqual(inputs(`${S}Layer_0/AddTimingSignal/add`), [
    `${S}Layer_0/AddTimingSignal/Gather/GatherNd`,
    `${S}Layer_0/AddTimingSignal/TimingSignal/concat`,
  ]);
  assert.equal(inputs(`${S}Layer_0/AddTimingSignal/Gather/GatherNd`)[0], `${P}Encode/Scatter/ScatterNd`);
  assert.equal(inputs(`${P}Encode/Scatter/ScatterNd`)[1], `${P}Encode/embedding_lookup`);
  // sin first, then cos, concatenated on the last axis; no sqrt(d) multiplier on the lookup.
  assert.deepEqual(inputs(`${S}Layer_0/AddTimingSignal/TimingSignal/concat`).slice(0, 2), [
    `${S}Layer_0/AddTimingSignal/TimingSignal/Sin`,
    `${S}Layer_0/AddTimingSignal/TimingSignal/Cos`,
  ]);
  assert.equal(nodes.get(`${P}Encode/embedding_lookup`)?.op, 'GatherV2');
});

test('layer 0: the residual projection reads the raw layer input; the attention output adds to it', () => {
  assert.equal(inputs(`${S}Layer_0/TransformerLayer/AdjustResidualInput/Gather/GatherNd`)[0], `${S}Layer_0/add`);
  assert.deepEqual(inputs(`${S}Layer_0/TransformerLayer/layer_postprocess/add`), [
    `${S}Layer_0/TransformerLayer/MultiheadAttention/Squeeze_1`,
    `${S}Layer_0/TransformerLayer/AdjustResidualInput/Scatter/ScatterNd`,
  ]);
  // Pre-norm: the qkv conv reads LN(x0).
  assert.equal(
    inputs(`${S}Layer_0/TransformerLayer/MultiheadAttention/ExpandDims`)[0],
    `${S}Layer_0/TransformerLayer/layer_prepostprocess/layer_norm/add_1`,
  );
  assert.equal(inputs(`${S}Layer_0/TransformerLayer/layer_prepostprocess/layer_norm/Mean`)[0], `${S}Layer_0/add`);
});

test('each layer: queries (split:0) are scaled, padded keys get the additive bias, FFN is pre-norm + residual', () => {
  for (const l of [0, 1]) {
    const L = `${S}Layer_${l}/TransformerLayer/`;
    assert.equal(inputs(`${L}MultiheadAttention/mul`)[0], `${L}MultiheadAttention/split_heads/transpose`);
    assert.equal(
      inputs(`${L}MultiheadAttention/split_heads/split_last_dimension/Reshape`)[0],
      `${L}MultiheadAttention/split`,
    );
    assert.equal(
      inputs(`${L}MultiheadAttention/split_heads_1/split_last_dimension/Reshape`)[0],
      `${L}MultiheadAttention/split:1`,
    );
    assert.equal(
      inputs(`${L}MultiheadAttention/split_heads_2/split_last_dimension/Reshape`)[0],
      `${L}MultiheadAttention/split:2`,
    );
    assert.equal(
      inputs(`${L}MultiheadAttention/DotProductAttention/BaseDotProductAttention/add`)[1],
      `${S}Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/ExpandDims_1`,
    );
    assert.equal(inputs(`${L}FFN/layer_prepostprocess/layer_norm/Mean`)[0], `${L}layer_postprocess/add`);
    assert.deepEqual(inputs(`${L}FFN/layer_postprocess/add`), [
      `${L}FFN/Scatter/ScatterNd`,
      `${L}layer_postprocess/add`,
    ]);
  }
  // Layer 1's residual is layer 0's output, unprojected.
  assert.equal(
    inputs(`${S}Layer_1/TransformerLayer/layer_postprocess/add`)[1],
    `${S}Layer_0/TransformerLayer/FFN/layer_postprocess/add`,
  );
});

test('pooling reads layer 1 output directly (no final norm), masked mean, then tanh and L2 norm', () => {
  assert.equal(inputs(`${P}mul`)[0], `${S}Layer_1/TransformerLayer/FFN/layer_postprocess/add`);
  assert.deepEqual(inputs(`${P}div`), [`${P}Sum`, `${P}ExpandDims_1`]);
  assert.equal(inputs(`${P}ExpandDims_1`)[0], `${P}ToFloat_1`);
  assert.equal(inputs(`${P}ToFloat_1`)[0], `${P}Maximum`);
  assert.equal(inputs('module_apply_default/Encoder_en/hidden_layers/tanh_layer_0/MatMul')[0], `${P}div`);
  assert.deepEqual(inputs('module_apply_default/Encoder_en/hidden_layers/l2_normalize'), [
    'module_apply_default/Encoder_en/hidden_layers/tanh_layer_0/Tanh',
    'module_apply_default/Encoder_en/hidden_layers/l2_normalize/Rsqrt',
  ]);
});
