import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBert } from '../models/testing/tiny.js';
import type { Example, TaskInfo } from '../data/tasks/types.js';
import { loadBackbone, type Backbone } from '../models/backbone.js';
import { trainClassifier, type TrainEvent } from './trainer.js';
import { DivergedError } from './errors.js';
import { linearWarmupDecay } from './schedule.js';

let dir: string;
let backbone: Backbone;

/** Sentences of 2..14 words; label 1 iff "good" occurs (so padded lengths span two buckets). */
function examples(n: number, seed: number): Example[] {
  const words = ['the', 'movie', 'film', 'was', 'bad', 'not', 'fun', 'story', 'plot', 'great', 'this', 'it'];
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, (_, i) => {
    const len = 2 + Math.floor(rnd() * 13);
    const toks = Array.from({ length: len }, () => words[Math.floor(rnd() * words.length)]!);
    const label = i % 2;
    if (label === 1) toks[Math.floor(rnd() * len)] = 'good';
    return { text: toks.join(' '), label };
  });
}

const cls: TaskInfo = {
  name: 'toy',
  numLabels: 2,
  regression: false,
  labelNames: ['no', 'yes'],
  metrics: ['accuracy'],
  mainMetric: 'accuracy',
  positiveLabel: 1,
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-train-'));
  await writeTinyBert(dir, { layers: 2, hidden: 32, heads: 2, seed: 3, std: 0.1 });
  backbone = await loadBackbone(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('linear warm-up then decay to zero', () => {
  assert.equal(linearWarmupDecay(1, 1, 4, 10), 0.25);
  assert.equal(linearWarmupDecay(4, 1, 4, 10), 1);
  assert.ok(Math.abs(linearWarmupDecay(5, 1, 4, 10) - 1) < 1e-12);
  assert.ok(Math.abs(linearWarmupDecay(10, 1, 4, 10) - 1 / 6) < 1e-12);
  assert.equal(linearWarmupDecay(3, 2, 0, 3), 2 / 3);
});

test('full fine-tuning learns a keyword task across sequence buckets; best weights are kept', async () => {
  const train = examples(96, 1);
  const events: TrainEvent[] = [];
  const out = await trainClassifier({
    backbone,
    task: cls,
    train,
    eval: train,
    fullFineTune: true,
    epochs: 10,
    lr: 1e-2,
    weightDecay: 0,
    batchSize: 16,
    maxLength: 24,
    seqBucket: 8,
    seed: 0,
    threads: 1,
    onEvent: (e) => events.push(e),
  });
  try {
    const losses = out.history.map((h) => h.loss);
    assert.ok(losses[losses.length - 1]! < losses[0]! * 0.7, `loss ${losses.join(' -> ')}`);
    assert.ok(out.best.metric >= 0.85, `train accuracy ${out.best.metric}`);
    assert.equal(out.best.metric, Math.max(...out.history.map((h) => h.metric)));
    // The returned weights are the best epoch's: re-scoring reproduces its metric.
    const again = await out.evaluate(train);
    assert.equal(again.main, out.best.metric);
    const steps = events.filter((e) => e.kind === 'step');
    assert.equal(steps.length, out.steps);
    assert.equal(out.steps, 10 * 6);
    assert.ok(
      out.trainableParams > 0 &&
        out.trainableParams === [...out.params.values()].reduce((a, t) => a + t.data.length, 0),
    );
  } finally {
    await out.release();
  }
});

test('head-only training changes only the head; early stopping honours patience', async () => {
  const train = examples(32, 2);
  const out = await trainClassifier({
    backbone,
    task: cls,
    train,
    eval: examples(16, 9),
    epochs: 30,
    lr: 1e-6,
    batchSize: 16,
    maxLength: 24,
    seed: 1,
    threads: 1,
    patience: 2,
  });
  try {
    assert.ok(
      [...out.params.keys()].every((k) => k.startsWith('classifier') || k.includes('pooler')),
      [...out.params.keys()].join(','),
    );
    assert.ok(out.history.length < 30, `ran ${out.history.length} epochs`);
    assert.equal(out.history.length - out.best.epoch, 2);
  } finally {
    await out.release();
  }
});

test('regression head trains with MSE and reports Pearson/Spearman', async () => {
  const train = examples(32, 4).map((e) => ({ text: e.text, label: e.label * 4 + 0.5 }));
  const task: TaskInfo = {
    name: 'toyreg',
    numLabels: 1,
    regression: true,
    labelNames: [],
    metrics: ['pearson', 'spearman'],
    mainMetric: 'pearson',
    positiveLabel: 1,
  };
  const out = await trainClassifier({
    backbone,
    task,
    train,
    eval: train,
    fullFineTune: true,
    epochs: 4,
    lr: 3e-3,
    batchSize: 16,
    maxLength: 24,
    seed: 0,
    threads: 1,
  });
  try {
    assert.ok(Number.isFinite(out.best.metrics.pearson!) && Number.isFinite(out.best.metrics.spearman!));
    assert.ok(out.history[out.history.length - 1]!.loss < out.history[0]!.loss);
  } finally {
    await out.release();
  }
});

test('a diverging run stops with a typed error naming the fix', async () => {
  await assert.rejects(
    trainClassifier({
      backbone,
      task: cls,
      train: examples(16, 5),
      eval: examples(8, 6),
      fullFineTune: true,
      epochs: 3,
      lr: 1e38,
      batchSize: 8,
      maxLength: 24,
      seed: 0,
      threads: 1,
      maxGradNorm: 1e30,
      warmupRatio: 0,
    }),
    (e: unknown) => e instanceof DivergedError && /lower --lr/.test(e.message),
  );
});

// Issue 10, defect 2: a learning rate 1e6 x too large gave finite but exploding losses (9.9e6 at
// step 2) and the run was scored as a good result.
const diverging = (o: { lr: number; maxSteps: number; fullFineTune?: boolean }) =>
  trainClassifier({
    backbone,
    task: cls,
    train: examples(32, 5),
    eval: examples(16, 6),
    epochs: 2,
    batchSize: 8,
    maxLength: 24,
    seed: 0,
    threads: 1,
    warmupRatio: 0,
    ...o,
  });

test('an exploding finite loss is divergence (lr 1e6, 2 steps)', async () => {
  await assert.rejects(diverging({ lr: 1e6, maxSteps: 2, fullFineTune: true }), (e: unknown) => {
    assert.ok(e instanceof DivergedError, String(e));
    assert.match(e.message, /^training diverged: the loss at step 2 \S+ exceeds 100 x .*lower --lr/);
    assert.equal(e.step, 2);
    return true;
  });
});

test('a run that blew up on its last update is caught by the evaluation (lr 1e6, 1 step)', async () => {
  await assert.rejects(diverging({ lr: 1e6, maxSteps: 1 }), (e: unknown) => {
    assert.ok(e instanceof DivergedError, String(e));
    assert.match(e.message, /the evaluation loss after step 1 \S+ exceeds 100 x/);
    return true;
  });
});

test('non-finite weights are divergence even when no loss saw them (lr beyond float32, 1 step)', async () => {
  await assert.rejects(diverging({ lr: 1e39, maxSteps: 1 }), (e: unknown) => {
    assert.ok(e instanceof DivergedError, String(e));
    assert.match(e.message, /the weights are not finite after step 1 \(lr 1e\+39\)/);
    return true;
  });
});
