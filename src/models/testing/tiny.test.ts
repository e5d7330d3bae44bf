import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToUnicode } from '../tokenizers/bpe.js';
import { simpleBpe, tinyBertVocab, tinyBpe, writeTinyBert, writeTinyRoberta } from './tiny.js';

test('tiny vocabularies: sizes, specials, whole-word BPE tokens', () => {
  const v = tinyBertVocab();
  assert.deepEqual(v.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  assert.equal(new Set(v).size, v.length);
  assert.equal(tinyBertVocab(300).length, 300);
  assert.equal(tinyBertVocab(300)[299], `[unused${299 - v.length}]`);
  assert.throws(() => tinyBertVocab(3), /needs >= 5/);
  const { vocab, merges } = tinyBpe();
  const ids = Object.values(vocab).sort((a, b) => a - b);
  assert.deepEqual(
    ids,
    ids.map((_, i) => i),
  ); // dense ids
  const ranks = new Map(merges.map((m, i) => [m, i]));
  const b2u = bytesToUnicode();
  for (const w of ['movie', ' movie', 'hello', ' world']) {
    const symbols = Array.from(new TextEncoder().encode(w), (x) => b2u[x]!);
    assert.deepEqual(simpleBpe(symbols, ranks), [symbols.join('')], w);
  }
  assert.equal(Object.keys(tinyBpe(400).vocab).length, 400);
  assert.equal(tinyBpe(400).vocab['<mask>'], 399);
});

test('tiny checkpoints: HF config fields, file list, seeded bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tiny-test-'));
  try {
    const a = await writeTinyBert(join(dir, 'a'), { layers: 1, hidden: 8, heads: 2, seed: 9, doLowerCase: false });
    const _b = await writeTinyBert(join(dir, 'b'), { layers: 1, hidden: 8, heads: 2, seed: 9, doLowerCase: false });
    assert.deepEqual(a.files, ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json']);
    assert.deepEqual(
      readFileSync(join(dir, 'a', 'model.safetensors')),
      readFileSync(join(dir, 'b', 'model.safetensors')),
    );
    const cfg = JSON.parse(readFileSync(join(dir, 'a', 'config.json'), 'utf8'));
    assert.equal(cfg.model_type, 'bert');
    assert.equal(cfg.intermediate_size, 32);
    assert.equal(cfg.vocab_size, a.vocab.length);
    const r = await writeTinyRoberta(join(dir, 'r'), { layers: 1, hidden: 8, heads: 2 });
    assert.equal(r.configJson['max_position_embeddings'], 66);
    assert.equal(r.configJson['type_vocab_size'], 1);
    assert.equal(r.configJson['pad_token_id'], 1);
    assert.deepEqual(r.weights.get('embeddings.token_type_embeddings.weight')!.shape, [1, 8]);
    // LayerNorm scales are near 1, other weights small.
    const ln = r.weights.get('embeddings.LayerNorm.weight')!.data;
    assert.ok(ln.every((x) => Math.abs(x - 1) < 0.6) && ln.some((x) => x !== 1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
