/**
 * The fresh classification head (`head: 'fresh'`, the AutoPEFT reference's add_classification_head):
 * dropout -> dense(H, H) -> tanh -> dropout -> linear on [CLS], N(0, 0.02) with zero biases, the
 * pretrained pooler unused. Its dense sits in the pooler's slot, so without dropout it is the pooler
 * graph with other weights (the PyTorch oracle checks that graph, scripts/oracle): checked here by
 * building both, plus its own init, its extra dropout site and its gradients (float32 gradcheck).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Graph, Value } from '../../graph/ir.js';
import { compileEval, tensor } from '../../runtime/index.js';
import { gradcheck } from '../../testing/gradcheck.js';
import { loadBackbone } from '../backbone.js';
import type { Backbone, ClassifierGraph } from '../types.js';
import { writeTinyBert, writeTinyRoberta } from '../testing/tiny.js';
import { buildBert } from './builder.js';
import { bertConfigFromHf } from './config.js';
import { randomBertWeights } from './random.js';

const H = 32;
const S = 8;
const B = 2;
let dir: string;
let bert: Backbone;
let roberta: Backbone;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-head-'));
  await writeTinyBert(join(dir, 'bert'), { layers: 2, hidden: H, heads: 2, std: 0.2, seed: 3 });
  await writeTinyRoberta(join(dir, 'roberta'), { layers: 1, hidden: H, heads: 2, seed: 3 });
  bert = await loadBackbone(join(dir, 'bert'));
  roberta = await loadBackbone(join(dir, 'roberta'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const ids = BigInt64Array.from({ length: B * S }, (_, i) => BigInt(5 + ((i * 7) % 20)));
const feedsFor = (c: ClassifierGraph) =>
  Object.fromEntries(
    c.inputNames.map((n) => [
      n,
      tensor('int64', n === 'input_ids' ? ids : n === 'attention_mask' ? ids.map(() => 1n) : ids.map(() => 0n), [B, S]),
    ]),
  );

async function logits(c: ClassifierGraph): Promise<Float32Array> {
  const ev = await compileEval(c.graph, { logits: c.logits }, { threads: 1 });
  try {
    return (await ev.run(feedsFor(c)))['logits']!.data as Float32Array;
  } finally {
    await ev.release();
  }
}

/** The initial value of each trainable head tensor, by name. */
const headInit = (c: ClassifierGraph) =>
  new Map(c.headParams.map((p) => [p.name, { data: c.graph.data.get(p) as Float32Array }]));

const dropouts = (c: ClassifierGraph) => c.graph.nodes.filter((n) => n.op === 'Dropout').length;

describe('fresh classification head', () => {
  it('BERT: the pooler dense is re-initialised N(0, 0.02) with a zero bias; the classifier too', () => {
    const fresh = bert.buildClassifier({ seqLen: S, numLabels: 3, seed: 5, dropout: false, head: 'fresh' });
    const pooler = bert.buildClassifier({ seqLen: S, numLabels: 3, seed: 5, dropout: false });
    const f = headInit(fresh);
    const p = headInit(pooler);
    assert.deepEqual([...f.keys()].sort(), [...p.keys()].sort(), 'the same trainable head tensors');
    const w = f.get('bert.pooler.dense.weight')!.data;
    const mean = w.reduce((a, x) => a + x, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, x) => a + (x - mean) ** 2, 0) / w.length);
    assert.ok(Math.abs(std - 0.02) < 0.002 && Math.abs(mean) < 0.003, `std ${std}, mean ${mean}`);
    assert.ok(
      f.get('bert.pooler.dense.bias')!.data.every((x) => x === 0),
      'zero bias',
    );
    // The pretrained pooler (std 0.2 in this checkpoint) is not what the fresh head starts from.
    const pw = p.get('bert.pooler.dense.weight')!.data;
    assert.ok(pw.some((x, i) => x !== w[i]));
    assert.ok(Math.sqrt(pw.reduce((a, x) => a + x * x, 0) / pw.length) > 0.1);
  });

  it('BERT: without dropout it is the pooler graph with the fresh weights (saved heads load there)', async () => {
    const fresh = bert.buildClassifier({ seqLen: S, numLabels: 3, seed: 5, dropout: false, head: 'fresh' });
    const asPooler = bert.buildClassifier({
      seqLen: S,
      numLabels: 3,
      seed: 0,
      dropout: false,
      headWeights: headInit(fresh),
    });
    const pretrained = bert.buildClassifier({ seqLen: S, numLabels: 3, seed: 5, dropout: false });
    const a = await logits(fresh);
    const b = await logits(asPooler);
    const c = await logits(pretrained);
    for (const [i, x] of a.entries()) assert.ok(Math.abs(x - b[i]!) < 1e-6, `[${i}] ${x} vs ${b[i]}`);
    assert.ok(
      a.some((x, i) => Math.abs(x - c[i]!) > 1e-4),
      'the pretrained pooler gives other logits',
    );
  });

  it('BERT: one more dropout site, before the dense (dropout -> dense -> tanh -> dropout -> linear)', () => {
    const fresh = bert.buildClassifier({ seqLen: S, numLabels: 2, seed: 1, dropout: true, head: 'fresh' });
    const pooler = bert.buildClassifier({ seqLen: S, numLabels: 2, seed: 1, dropout: true });
    assert.equal(dropouts(fresh), dropouts(pooler) + 1);
    // The dense reads the dropout's output.
    const dense = fresh.graph.nodes.find((n) => n.inputs.some((v) => v?.name === 'bert.pooler.dense.weight'))!;
    const producer = (v: Value | null) => fresh.graph.nodes.find((n) => v !== null && n.outputs.includes(v));
    assert.ok(
      dense.inputs.some((v) => producer(v)?.op === 'Dropout'),
      `the dense's inputs: ${dense.inputs.map((v) => producer(v)?.op ?? v?.name)}`,
    );
  });

  it('RoBERTa: the usual head already has that form; fresh and pooler build the same classifier', async () => {
    const fresh = roberta.buildClassifier({ seqLen: S, numLabels: 2, seed: 2, dropout: false, head: 'fresh' });
    const pooler = roberta.buildClassifier({ seqLen: S, numLabels: 2, seed: 2, dropout: false });
    assert.deepEqual(await logits(fresh), await logits(pooler));
    assert.equal(roberta.poolerParams, H * H + H);
    assert.equal(bert.poolerParams, H * H + H);
  });

  it('gradients of the fresh head (float32 gradcheck through the tiny BERT, dropout off)', async () => {
    const cfg = bertConfigFromHf({
      model_type: 'bert',
      vocab_size: 30,
      hidden_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 16,
      max_position_embeddings: 16,
      type_vocab_size: 2,
    });
    // Random pooler and classifier weights (std 0.3): tanh away from saturation, gradients non-trivial.
    const weights = randomBertWeights(cfg, 3, 3, 0.3);
    const isHead = (n: string) => n.startsWith('classifier') || n.includes('.pooler.');
    const res = await gradcheck(
      (g: Graph) => {
        const built = buildBert({
          config: cfg,
          weights,
          seqLen: 4,
          batch: 2,
          numLabels: 3,
          hiddenDropout: 0,
          attentionDropout: 0,
          head: 'fresh',
          graph: g,
          trainable: isHead,
        });
        assert.equal(built.params.length, 4);
        return {
          out: built.logits!,
          wrt: built.params,
          feeds: {
            input_ids: tensor('int64', BigInt64Array.from([1, 5, 7, 2, 1, 9, 3, 2], BigInt), [2, 4]),
            attention_mask: tensor('int64', BigInt64Array.from([1, 1, 1, 1, 1, 1, 1, 0], BigInt), [2, 4]),
            token_type_ids: tensor('int64', new BigInt64Array(8), [2, 4]),
          },
        };
      },
      { dtype: 'float32' },
    );
    assert.equal(res.checked > 0, true);
    assert.ok(res.worst <= 1, `worst ${res.worst}: ${res.failures.slice(0, 3).join('; ')}`);
  });
});
