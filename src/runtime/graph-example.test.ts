/** The example of docs/engine.md, run as a test (keep the two in sync). */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, ops } from '../graph/index.js';
import { compileTraining, tensor } from './index.js';

it('docs/engine.md example: build, differentiate, train, read params, evaluate', async () => {
  // Toy data: the label is the index of the largest of 3 features.
  const xs = Float32Array.from({ length: 8 * 3 }, (_, i) => Math.sin(i * 1.7) * 2);
  const ys = BigInt64Array.from({ length: 8 }, (_, r) =>
    BigInt([0, 1, 2].reduce((a, c) => (xs[r * 3 + c]! > xs[r * 3 + a]! ? c : a), 0)),
  );

  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 3]);
  const y = g.input('y', 'int64', ['batch']);
  const frozen = g.constant(Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]), [4, 3], 'proj.weight'); // frozen: an initializer
  const w = g.param('head.weight', new Float32Array(3 * 4), [3, 4]); // trainable
  const b = g.param('head.bias', new Float32Array(3), [3]);
  const logits = ops.linear(ops.tanh(ops.linear(x, frozen)), w, b);
  const loss = ops.softmaxCrossEntropy(logits, y);

  const prog = await compileTraining({ loss, optimizer: { weightDecay: 0.01 }, outputs: { logits }, threads: 1 });
  const feeds = { x: tensor('float32', xs, [8, 3]), y: tensor('int64', ys, [8]) };
  let first = 0;
  let last = 0;
  for (let step = 0; step < 200; step++) {
    last = (await prog.step(feeds, 0.05)).loss; // lr is an input: schedules live outside
    if (step === 0) first = last;
  }
  const params = prog.readParams(); // Map: name -> { data, shape }
  const ev = await prog.evalProgram({ logits }); // forward only, same current weights
  const out = (await ev.run({ x: feeds.x }))['logits']!.data as Float32Array;

  assert.ok(last < first / 2, `loss ${first} -> ${last}`);
  assert.deepEqual([...params.keys()], ['head.weight', 'head.bias']);
  const pred = Array.from({ length: 8 }, (_, r) =>
    [0, 1, 2].reduce((a, c) => (out[r * 3 + c]! > out[r * 3 + a]! ? c : a), 0),
  );
  assert.deepEqual(pred, Array.from(ys, Number));
  await Promise.all([ev.release(), prog.release()]);
});
