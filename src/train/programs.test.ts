import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatherLogits, ProgramsByLength } from './programs.js';
import { makeBatch } from './testing/batch.js';

test('ProgramsByLength compiles once per length and releases every program', async () => {
  const compiled: number[] = [];
  const freed: number[] = [];
  const set = new ProgramsByLength(
    async (seq) => {
      compiled.push(seq);
      return { seq };
    },
    async (p) => {
      freed.push(p.seq);
    },
  );
  assert.equal((await set.get(16)).seq, 16);
  assert.equal(await set.get(16), await set.get(16));
  await set.get(32);
  assert.deepEqual(compiled, [16, 32]);
  assert.deepEqual(set.lengths(), [16, 32]);
  await set.release();
  assert.deepEqual(freed, [16, 32]);
  assert.deepEqual(set.lengths(), []);
  await set.get(16);
  assert.deepEqual(compiled, [16, 32, 16], 'a released length is compiled again');
});

test('gatherLogits puts every batch row back at its example', async () => {
  // Examples 0..3 in two length-sorted batches; each row's output is [10 x example, 10 x example + 1].
  const batches = [makeBatch([[1], [2]], 8, [2, 0], [0, 0]), makeBatch([[1, 2, 3], [4]], 16, [3, 1], [0, 0])];
  const seen: number[] = [];
  const out = await gatherLogits(batches, 4, 2, async (b) => {
    seen.push(b.seq);
    return Float32Array.from([...b.indices].flatMap((ex) => [10 * ex, 10 * ex + 1]));
  });
  assert.deepEqual([...out], [0, 1, 10, 11, 20, 21, 30, 31]);
  assert.deepEqual(seen, [8, 16]);
});
