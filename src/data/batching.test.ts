import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher, paddingEfficiency, scatterRows, tokenizeExamples } from './batching.js';
import { WhitespaceTokenizer, hasSharedData, SHARED_DATA, SKIP_NO_DATA } from './test-helpers.js';
import { loadTask } from './tasks/load.js';
import type { Example } from './tasks/types.js';
import { DataError } from './errors.js';
import { Rng } from '../core/random.js';

function randomExamples(n: number, seed: number, pairs = false): Example[] {
  const rng = new Rng(seed);
  const words = (k: number): string => Array.from({ length: k }, () => `w${rng.int(50)}`).join(' ');
  return Array.from({ length: n }, (_, i) => ({
    text: words(1 + rng.int(30)),
    ...(pairs ? { pair: words(rng.int(20)) } : {}),
    label: i % 3,
  }));
}

test('whitespace tokenizer helper follows the contract (specials, longest-first truncation)', () => {
  const tok = new WhitespaceTokenizer();
  const e = tok.encode('a b c d e', 'x y', 6);
  assert.equal(e.inputIds.length, 6);
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 1, 1]);
  assert.deepEqual(e.inputIds, [1, tok.idOf('a'), tok.idOf('b'), 2, tok.idOf('x'), 2]);
});

test('batches: shapes, dtypes, padding, masks, labels; every example exactly once per epoch', () => {
  const ex = randomExamples(103, 1, true);
  const tok = new WhitespaceTokenizer();
  const b = new Batcher(ex, tok, { batchSize: 16, maxLength: 24, seed: 4, padToMultipleOf: 8 });
  assert.equal(b.numBatches, 7);
  const seen = new Int32Array(ex.length);
  for (const batch of b.batches(0)) {
    assert.ok(
      batch.inputIds instanceof BigInt64Array &&
        batch.attentionMask instanceof BigInt64Array &&
        batch.tokenTypeIds instanceof BigInt64Array,
    );
    assert.ok(batch.labels instanceof BigInt64Array);
    assert.equal(batch.inputIds.length, batch.batch * batch.seq);
    assert.ok(batch.seq % 8 === 0 && batch.seq <= 24);
    let longest = 0;
    for (let r = 0; r < batch.batch; r++) {
      const i = batch.indices[r];
      seen[i]++;
      const enc = tok.encode(ex[i].text, ex[i].pair, 24);
      longest = Math.max(longest, enc.inputIds.length);
      assert.equal(batch.labels[r], BigInt(ex[i].label));
      for (let t = 0; t < batch.seq; t++) {
        const real = t < enc.inputIds.length;
        assert.equal(batch.inputIds[r * batch.seq + t], BigInt(real ? enc.inputIds[t] : tok.padId));
        assert.equal(batch.attentionMask[r * batch.seq + t], real ? 1n : 0n);
        assert.equal(batch.tokenTypeIds[r * batch.seq + t], BigInt(real ? enc.tokenTypeIds[t] : 0));
      }
    }
    assert.equal(batch.seq, Math.min(24, Math.ceil(longest / 8) * 8)); // padded to the longest, multiple of 8
  }
  assert.ok(seen.every((c) => c === 1));
});

test('seeded order: same (seed, epoch) same batches; epochs differ; dropLast', () => {
  const ex = randomExamples(100, 2);
  const tok = new WhitespaceTokenizer();
  const a = new Batcher(ex, tok, { batchSize: 8, maxLength: 16, seed: 1 });
  const b = new Batcher(ex, tok, { batchSize: 8, maxLength: 16, seed: 1 });
  assert.deepEqual(a.plan(0), b.plan(0));
  assert.notDeepEqual(a.plan(0), a.plan(1));
  assert.notDeepEqual(a.plan(0), new Batcher(ex, tok, { batchSize: 8, maxLength: 16, seed: 2 }).plan(0));
  const d = new Batcher(ex, tok, { batchSize: 8, maxLength: 16, seed: 1, dropLast: true });
  assert.equal(d.numBatches, 12);
  assert.equal(d.plan(0).length, 12);
  assert.ok(d.plan(3).every((p) => p.length === 8));
});

test('within a bucket, batches are length-sorted; eval order is sorted by length', () => {
  const ex = randomExamples(64, 3);
  const tok = new WhitespaceTokenizer();
  const b = new Batcher(ex, tok, { batchSize: 8, maxLength: 64, bucketSize: 64, seed: 0 });
  const lengths = b.tokens.lengths;
  // one bucket: batch ranges do not overlap in length
  const ranges = b
    .plan(0)
    .map((p) => [Math.min(...Array.from(p, (i) => lengths[i])), Math.max(...Array.from(p, (i) => lengths[i]))])
    .sort((x, y) => x[0] - y[0]);
  for (let j = 1; j < ranges.length; j++) assert.ok(ranges[j][0] >= ranges[j - 1][1]);
  const ev = new Batcher(ex, tok, { batchSize: 8, maxLength: 64, shuffle: false });
  const order = ev.plan().flatMap((p) => Array.from(p));
  for (let j = 1; j < order.length; j++)
    assert.ok(
      lengths[order[j]] > lengths[order[j - 1]] ||
        (lengths[order[j]] === lengths[order[j - 1]] && order[j] > order[j - 1]),
    );
});

test('fixed padding, exact padding, regression labels as float32', () => {
  const ex: Example[] = [
    { text: 'a b', label: 0.25 },
    { text: 'a b c d e f g h i', label: 4.5 },
  ];
  const tok = new WhitespaceTokenizer();
  const fixed = [
    ...new Batcher(ex, tok, { batchSize: 2, maxLength: 32, padding: 'fixed', regression: true }).batches(),
  ];
  assert.equal(fixed[0].seq, 32);
  assert.ok(fixed[0].labels instanceof Float32Array);
  assert.deepEqual(Array.from(fixed[0].labels as Float32Array).sort(), [0.25, 4.5]);
  assert.throws(
    () => new Batcher(ex, tok, { batchSize: 2, maxLength: 32 }),
    (e: unknown) => e instanceof DataError && /not a class index/.test(e.message),
  );
  const exact = [...new Batcher(ex, tok, { batchSize: 2, maxLength: 32, shuffle: false, regression: true }).batches()]; // default: exact
  assert.equal(exact[0].seq, 11); // [CLS] + 9 words + [SEP]
  const capped = [
    ...new Batcher(ex, tok, {
      batchSize: 2,
      maxLength: 10,
      padToMultipleOf: 8,
      shuffle: false,
      regression: true,
    }).batches(),
  ];
  assert.equal(capped[0].seq, 10); // rounding to 8 is capped at maxLength
  assert.throws(() => new Batcher(ex, tok, { batchSize: 0, maxLength: 8 }), DataError);
  assert.throws(() => new Batcher(ex, tok, { batchSize: 2, maxLength: 0 }), DataError);
});

test('tokenization happens once per (examples, tokenizer, maxLength)', () => {
  const ex = randomExamples(20, 5);
  const tok = new WhitespaceTokenizer();
  const a = tokenizeExamples(ex, tok, 16);
  assert.equal(tok.calls, 20);
  const b = new Batcher(ex, tok, { batchSize: 4, maxLength: 16 });
  for (let e = 0; e < 3; e++) [...b.batches(e)];
  assert.equal(tok.calls, 20);
  assert.equal(b.tokens, a);
  tokenizeExamples(ex, tok, 8);
  assert.equal(tok.calls, 40);
});

test('scatterRows puts outputs back in example order', () => {
  const ex = randomExamples(10, 6);
  const b = new Batcher(ex, new WhitespaceTokenizer(), { batchSize: 3, maxLength: 16, shuffle: false });
  const out = new Float64Array(10 * 2);
  for (const batch of b.batches()) {
    const rows = Array.from(batch.indices).flatMap((i) => [i, -i]);
    scatterRows(out, 2, batch.indices, rows);
  }
  for (let i = 0; i < 10; i++) assert.deepEqual([out[2 * i], out[2 * i + 1]], [i, -i]);
});

test('length bucketing pads less than random batches on real SST-2 (deterministic counts)', {
  skip: hasSharedData('glue/sst2') ? false : SKIP_NO_DATA,
}, async () => {
  const d = await loadTask('sst2', { dataDir: SHARED_DATA, maxRows: 4000, validation: false, splits: ['train'] });
  const tok = new WhitespaceTokenizer();
  const eff = (o: object): number =>
    paddingEfficiency(new Batcher(d.train, tok, { batchSize: 32, maxLength: 64, seed: 0, ...o }).batches(0));
  const bucketed = eff({});
  const random = eff({ bucketSize: 32 });
  const mult8 = eff({ padToMultipleOf: 8 });
  const fixed = eff({ padding: 'fixed' });
  assert.ok(bucketed > mult8 && mult8 > random && random > fixed, `${bucketed} ${mult8} ${random} ${fixed}`);
  assert.ok(bucketed > random + 0.3, `bucketed ${bucketed} vs random ${random}`);
});
