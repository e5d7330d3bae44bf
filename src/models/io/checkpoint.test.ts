import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync, readFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from './checkpoint.js';
import { writeTinyBert, writeTinyRoberta, writeTinyCheckpoint } from '../testing/tiny.js';
import { CheckpointError, SafetensorsError } from './errors.js';
import { encoderWeightShapes } from './weights.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'ckpt-test-'));
}

function assertSameWeights(
  a: Map<string, { data: Float32Array; shape: number[] }>,
  b: Map<string, { data: Float32Array; shape: number[] }>,
): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, t] of a) {
    assert.deepEqual(b.get(k)!.shape, t.shape, k);
    assert.deepEqual(b.get(k)!.data, t.data, k);
  }
}

test('tiny BERT: write -> load gives the same config, weights (HF names/shapes) and a working tokenizer', async () => {
  const dir = tmp();
  try {
    const ck = await writeTinyBert(dir, { layers: 2, hidden: 8, heads: 2, intermediate: 16, seed: 3 });
    const { required } = encoderWeightShapes(ck.config);
    assert.equal(ck.weights.size, required.size + 2);
    assert.deepEqual(ck.weights.get('encoder.layer.1.intermediate.dense.weight')!.shape, [16, 8]);
    const loaded = await loadCheckpoint(dir);
    assert.deepEqual(loaded.config, ck.config);
    assertSameWeights(ck.weights, loaded.weights);
    assert.deepEqual(loaded.skipped, []);
    const id = (t: string): number => ck.vocab.indexOf(t);
    assert.deepEqual(loaded.tokenizer.encode('The movie, unable!').inputIds, [
      id('[CLS]'),
      id('the'),
      id('movie'),
      id(','),
      id('un'),
      id('##able'),
      id('!'),
      id('[SEP]'),
    ]);
    assert.equal(loaded.tokenizer.padId, 0);
    assert.equal(loaded.tokenizer.vocabSize, ck.config.vocabSize);
    assert.equal(loaded.tokenizer.numTokens, ck.vocab.length);
    // Seeded: the same options give the same weights; another seed differs.
    const again = await writeTinyBert(join(dir, 'again'), {
      layers: 2,
      hidden: 8,
      heads: 2,
      intermediate: 16,
      seed: 3,
    });
    assertSameWeights(ck.weights, again.weights);
    const other = await writeTinyBert(join(dir, 'other'), {
      layers: 2,
      hidden: 8,
      heads: 2,
      intermediate: 16,
      seed: 4,
    });
    assert.notDeepEqual(
      other.weights.get('embeddings.word_embeddings.weight')!.data,
      ck.weights.get('embeddings.word_embeddings.weight')!.data,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tiny RoBERTa: prefixed names, gamma/beta, position_ids buffer, MLM head, F16 storage, shards', async () => {
  const dir = tmp();
  try {
    const ck = await writeTinyRoberta(dir, {
      layers: 1,
      hidden: 8,
      heads: 2,
      seed: 1,
      prefix: true,
      gammaBeta: true,
      positionIdsBuffer: true,
      mlmHead: true,
      dtype: 'F16',
      shards: 3,
    });
    assert.equal(ck.config.positionOffset, 2);
    assert.equal(ck.config.typeVocabSize, 1);
    assert.deepEqual(ck.weights.get('embeddings.position_embeddings.weight')!.shape, [66, 8]);
    const loaded = await loadCheckpoint(dir);
    assertSameWeights(ck.weights, loaded.weights);
    assert.deepEqual(loaded.skipped.sort(), ['lm_head.bias', 'roberta.embeddings.position_ids']);
    const e = loaded.tokenizer.encode('hello world', 'the movie');
    assert.equal(e.inputIds[0], 0);
    assert.deepEqual(e.tokenTypeIds, new Array(e.inputIds.length).fill(0));
    assert.equal(loaded.tokenizer.padId, 1);
    // F16 storage: values are exactly representable in F16 (round trip through the writer).
    const w = loaded.weights.get('encoder.layer.0.output.dense.weight')!.data;
    const { f16ToF32, f32ToF16 } = await import('./half.js');
    assert.deepEqual(f16ToF32(f32ToF16(w)), w);
    // vocab.json + merges.txt and BF16 load too.
    const ck2 = await writeTinyCheckpoint(join(dir, 'slow'), {
      modelType: 'roberta',
      layers: 1,
      hidden: 8,
      heads: 2,
      tokenizerFiles: 'vocab.json+merges.txt',
      dtype: 'BF16',
    });
    const l2 = await loadCheckpoint(ck2.dir);
    assertSameWeights(ck2.weights, l2.weights);
    assert.deepEqual(l2.tokenizer.encode('hello').inputIds, [0, ck2.vocab.indexOf('hello'), 2]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpoint errors: missing tensor, wrong shape, config/tokenizer mismatch, .bin only, truncated weights, shard missing', async () => {
  const dir = tmp();
  try {
    const base = { layers: 1, hidden: 8, heads: 2, intermediate: 16 };
    // Config says 2 layers, weights have 1.
    let ck = await writeTinyBert(join(dir, 'a'), base);
    const cfg = JSON.parse(readFileSync(join(ck.dir, 'config.json'), 'utf8'));
    writeFileSync(join(ck.dir, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 2 }));
    await assert.rejects(
      loadCheckpoint(ck.dir),
      (e: unknown) =>
        e instanceof CheckpointError &&
        /missing tensor 'encoder\.layer\.1\.attention\.self\.query\.weight'/.test(e.message),
    );
    // Config intermediate size differs from the weights.
    writeFileSync(join(ck.dir, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 12 }));
    await assert.rejects(
      loadCheckpoint(ck.dir),
      /'encoder\.layer\.0\.intermediate\.dense\.weight' has shape \[16, 8\] but config\.json implies \[12, 8\]/,
    );
    // Tokenizer larger than the embedding table.
    writeFileSync(join(ck.dir, 'config.json'), JSON.stringify(cfg));
    writeFileSync(join(ck.dir, 'vocab.txt'), [...ck.vocab, 'extra1', 'extra2'].join('\n'));
    await assert.rejects(
      loadCheckpoint(ck.dir),
      new RegExp(
        `vocab\\.txt: tokenizer has ${ck.vocab.length + 2} ids but the model's vocab_size is ${ck.vocab.length}`,
      ),
    );
    // Only a PyTorch .bin.
    ck = await writeTinyBert(join(dir, 'b'), base);
    unlinkSync(join(ck.dir, 'model.safetensors'));
    writeFileSync(join(ck.dir, 'pytorch_model.bin'), 'x');
    await assert.rejects(loadCheckpoint(ck.dir), /only safetensors weights are supported/);
    // Truncated weights file names the file and a tensor.
    ck = await writeTinyBert(join(dir, 'c'), base);
    const p = join(ck.dir, 'model.safetensors');
    truncateSync(p, statSync(p).size - 100);
    await assert.rejects(
      loadCheckpoint(ck.dir),
      (e: unknown) =>
        e instanceof SafetensorsError &&
        e.message.includes('model.safetensors is truncated: tensor') &&
        e.tensor !== undefined,
    );
    // A shard named by the index is missing.
    ck = await writeTinyBert(join(dir, 'd'), { ...base, shards: 2 });
    unlinkSync(join(ck.dir, 'model-00002-of-00002.safetensors'));
    await assert.rejects(loadCheckpoint(ck.dir), /shard model-00002-of-00002\.safetensors is missing/);
    await assert.rejects(loadCheckpoint(join(dir, 'nope')), /not a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
