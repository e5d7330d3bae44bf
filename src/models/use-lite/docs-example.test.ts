/** The usage example of docs/use-lite.md, with its printed values asserted. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadUseLite } from './load.js';
import { embedReference, traceUseLite } from './reference.js';

test('docs/use-lite.md usage example prints what the doc says', () => {
  const useLite = loadUseLite();
  assert.deepEqual([useLite.config.hidden, useLite.config.layers, useLite.config.params], [512, 2, 6975744]);
  assert.deepEqual(useLite.tokenizer.tokenize('hide new secretions'), ['▁hide', '▁new', '▁secret', 'ions']);
  assert.deepEqual(
    useLite.tokenizer.encode('A man is playing.', 'Someone plays.', 64).inputIds,
    [74, 337, 18, 970, 6, 2, 5925, 3676, 6],
  );
  const [a, b, c] = embedReference(useLite, ['a charming film', 'a delightful movie', 'the stock market fell']);
  const cos = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + v * y[i], 0);
  assert.equal(cos(a, b).toFixed(3), '0.680');
  assert.equal(cos(a, c).toFixed(3), '0.199');
  const trace = traceUseLite(useLite, useLite.tokenizer.encodeIds('hello world'));
  assert.equal(trace.layers[1].output.length, trace.length * 512);
});
