import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchFeeds, predictionsOf } from './feeds.js';
import { makeBatch } from './testing/batch.js';

test('batchFeeds: token feeds and hidden_in rows of the batch examples, zero-padded', () => {
  const b = makeBatch([[5, 6], [7]], 3, [1, 0], [0, 1]);
  const hidden = { width: 2, rows: [Float32Array.of(1, 2), Float32Array.of(3, 4, 5, 6)] };
  const f = batchFeeds(b, ['hidden_in', 'attention_mask'], hidden);
  assert.deepEqual(Object.keys(f).sort(), ['attention_mask', 'hidden_in']);
  assert.deepEqual(f.hidden_in!.dims, [2, 3, 2]);
  // Row 0 is example 1 (2 tokens), row 1 example 0 (1 token).
  assert.deepEqual([...(f.hidden_in!.data as Float32Array)], [3, 4, 5, 6, 0, 0, 1, 2, 0, 0, 0, 0]);
  assert.deepEqual([...(f.attention_mask!.data as BigInt64Array)], [1n, 1n, 0n, 1n, 0n, 0n]);
  assert.deepEqual(batchFeeds(b, ['input_ids']).input_ids!.dims, [2, 3]);
  assert.throws(() => batchFeeds(b, ['hidden_in']), /no cached rows/);
});

test('predictionsOf: argmax classes, or the regression output', () => {
  assert.deepEqual([...predictionsOf(Float32Array.of(0, 1, 3, -1, 2, 2), 3, 2, false)], [1, 0, 0]);
  assert.deepEqual([...predictionsOf(Float32Array.of(0.5, -2), 2, 1, true)], [0.5, -2]);
});
