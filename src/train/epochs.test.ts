import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Batch } from '../data/batching.js';
import { type EpochEvent, type EpochLoop, runEpochs } from './epochs.js';
import { TrainingError } from './errors.js';
import { linearWarmupDecay } from './schedule.js';
import { makeBatch } from './testing/batch.js';

/** A fake run: `perEpoch` batches an epoch, step losses 1/step, epoch metrics from `metrics`. */
function fake(metrics: number[], perEpoch: number, over: Partial<EpochLoop<number>> = {}) {
  const steps: { step: number; lr: number }[] = [];
  const events: EpochEvent[] = [];
  let weights = 0;
  const loop: EpochLoop<number> = {
    epochs: metrics.length,
    totalSteps: metrics.length * perEpoch,
    lr: 1,
    warmupSteps: 2,
    batches: () => Array.from({ length: perEpoch }, (): Batch => makeBatch([[1]], 1, [0], [0])),
    step: async (_b, lr, step) => {
      steps.push({ step, lr });
      weights = step;
      return 1 / step;
    },
    evaluate: async (step) => {
      const m = metrics[Math.ceil(step / perEpoch) - 1]!;
      return { main: m, mainMetric: 'accuracy', metrics: { accuracy: m } };
    },
    snapshot: () => weights,
    onEvent: (e) => events.push(e),
    ...over,
  };
  return { loop, steps, events };
}

test('keeps the best epoch (ties keep the first), its weights, and scheduled learning rates', async () => {
  const { loop, steps, events } = fake([0.5, 0.7, 0.7, 0.6], 3);
  const r = await runEpochs(loop);
  assert.equal(r.steps, 12);
  assert.equal(r.best.epoch, 2);
  assert.equal(r.bestWeights, 6, 'the weights after epoch 2 (step 6)');
  assert.deepEqual(
    r.history.map((h) => [h.epoch, h.metric]),
    [
      [1, 0.5],
      [2, 0.7],
      [3, 0.7],
      [4, 0.6],
    ],
  );
  assert.equal(r.history[0]!.loss, (1 + 1 / 2 + 1 / 3) / 3, 'mean step loss of the epoch');
  assert.deepEqual(
    steps.map((s) => s.lr),
    steps.map((s) => linearWarmupDecay(s.step, 1, 2, 12)),
  );
  const evals = events.filter((e) => e.kind === 'eval');
  assert.deepEqual(
    evals.map((e) => e.kind === 'eval' && e.best),
    [true, true, false, false],
  );
  assert.equal(events.filter((e) => e.kind === 'step').length, 12);
});

test('early stopping after `patience` epochs without improvement; a number beats NaN', async () => {
  const { loop } = fake([Number.NaN, 0.4, 0.3, 0.2, 0.9], 2, { patience: 2 });
  const r = await runEpochs(loop);
  assert.equal(r.history.length, 4, 'epochs 3 and 4 did not improve on 2');
  assert.equal(r.best.epoch, 2);
  assert.equal(r.bestWeights, 4);
});

test('stops at totalSteps mid-epoch and still evaluates that epoch', async () => {
  const { loop, steps } = fake([0.1, 0.2, 0.3], 4, { totalSteps: 5 });
  const r = await runEpochs(loop);
  assert.equal(r.steps, 5);
  assert.equal(steps.length, 5);
  assert.deepEqual(
    r.history.map((h) => h.epoch),
    [1, 2],
  );
});

test('an aborted signal stops with a TrainingError', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(runEpochs(fake([0.5], 2, { signal: ac.signal }).loop), TrainingError);
});

test('checkpoints: scored once at the first step boundary past each, an epoch-end one reuses the epoch evaluation', async () => {
  let evaluations = 0;
  const { loop, events } = fake([0.5, 0.6], 4, {
    checkpoints: [6, 1, 2, 4, 100],
    evaluate: async (step) => {
      evaluations++;
      return { main: step / 10, mainMetric: 'accuracy', metrics: { accuracy: step / 10 } };
    },
  });
  const r = await runEpochs(loop);
  assert.equal(r.steps, 8);
  const cps = events.filter((e) => e.kind === 'checkpoint');
  assert.deepEqual(
    cps.map((e) => e.kind === 'checkpoint' && [e.examples, e.examplesSeen, e.step, e.metric]),
    [
      [1, 1, 1, 0.1],
      [2, 2, 2, 0.2],
      [4, 4, 4, 0.4],
      [6, 6, 6, 0.6],
    ],
  );
  // 2 epoch evaluations + 3 mid-epoch ones (the checkpoint at 4 is the end of epoch 1).
  assert.equal(evaluations, 5);
  assert.ok(cps.every((e) => e.kind === 'checkpoint' && e.trainSeconds >= 0));
  await assert.rejects(runEpochs(fake([0.5], 2, { checkpoints: [0] }).loop), TrainingError);
});

test('stop: a verdict after a checkpoint ends training there, reusing its evaluation; the best weights are kept', async () => {
  let evaluations = 0;
  let stopAsked = false;
  const { loop, events, steps } = fake([0.5, 0.6, 0.7], 4, {
    checkpoints: [2, 6],
    evaluate: async (step) => {
      evaluations++;
      return { main: step / 10, mainMetric: 'accuracy', metrics: { accuracy: step / 10 } };
    },
    // The pruner's verdict arrives with the checkpoint at 6 examples seen (mid-epoch 2).
    onEvent: (e) => {
      events.push(e);
      if (e.kind === 'checkpoint' && e.examples === 6) stopAsked = true;
    },
    stop: () => stopAsked,
  });
  const r = await runEpochs(loop);
  assert.deepEqual(r.stopped, { step: 6, examplesSeen: 6 });
  assert.equal(r.steps, 6);
  assert.equal(steps.length, 6, 'no step after the verdict');
  // Epoch 2 is the partial one, scored by the checkpoint's evaluation (no extra evaluation).
  assert.deepEqual(
    r.history.map((h) => [h.epoch, h.metric]),
    [
      [1, 0.4],
      [2, 0.6],
    ],
  );
  assert.equal(evaluations, 3, 'checkpoint at 2, epoch 1 end, checkpoint at 6');
  assert.equal(r.best.epoch, 2);
  assert.equal(r.bestWeights, 6);
  const evals = events.filter((e) => e.kind === 'eval');
  assert.equal(evals.length, 2);

  // A verdict at an epoch's end stops before the next epoch; without one, training runs on.
  let verdict = false;
  const atEnd = fake([0.5, 0.6], 4, {
    checkpoints: [4],
    onEvent: (e) => {
      if (e.kind === 'checkpoint') verdict = true;
    },
    stop: () => verdict,
  });
  const r2 = await runEpochs(atEnd.loop);
  assert.deepEqual(r2.stopped, { step: 4, examplesSeen: 4 });
  assert.equal(r2.history.length, 1);
  const never = await runEpochs(fake([0.5, 0.6], 4, { checkpoints: [4], stop: () => false }).loop);
  assert.equal(never.stopped, undefined);
  assert.equal(never.steps, 8);
});
