import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBert } from '../models/testing/tiny.js';
import { memoryStorage } from '../storage/memory.js';
import { writeToyTask } from '../../test/helpers/toy-task.js';
import { SAMPLER_STATE_KEY } from '../search/study/index.js';
import { CURVE_POINTS, curveSteps, examplesPerTrial, runSearch, type SearchOptions } from './search.js';
import type { SearchSetup } from './attrs.js';
import { UsageError } from '../core/errors.js';

let dir: string;
let spec: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-search-'));
  await writeTinyBert(join(dir, 'tiny'), { layers: 2, hidden: 16, heads: 2, std: 0.1 });
  spec = writeToyTask(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const opts = (over: Partial<SearchOptions>): SearchOptions => ({
  storage: memoryStorage(),
  study: 's',
  model: join(dir, 'tiny'),
  task: spec,
  trials: 4,
  nInit: 2,
  batch: 1,
  sampler: 'bo',
  seed: 0,
  lora: false,
  hyper: { epochs: 1, lr: 1e-3, batchSize: 16, maxLength: 16, seed: 0, threads: 1 },
  workers: 1,
  ...over,
});

test('a BO search stores its warm-start state; resuming continues to the new target with it', async () => {
  const storage = memoryStorage();
  const first = await runSearch(opts({ storage }));
  assert.deepEqual([first.complete, first.failed, first.interrupted], [4, 0, false]);
  const record = await storage.getStudy('s');
  assert.deepEqual(record.userAttrs, {}, 'the search keeps its records out of the user attributes');
  const stored = record.systemAttrs[SAMPLER_STATE_KEY] as { name: string; state: { theta: number[] } | null };
  assert.equal(stored.name, 'bo');
  assert.ok(stored.state?.theta.every(Number.isFinite), JSON.stringify(stored));
  assert.equal((record.systemAttrs.autopeft as { sampler: string }).sampler, 'bo');
  const again = await runSearch(opts({ storage, trials: 6 }));
  assert.equal(again.complete, 6);
  const trials = await storage.listTrials('s', { states: ['COMPLETE'] });
  assert.deepEqual(
    trials.map((t) => t.number),
    [0, 1, 2, 3, 4, 5],
  );
  // paramPct is the known objective, filled in by the study from the config.
  assert.ok(trials.every((t) => t.values!.length === 2 && t.values![1]! > 0));
});

test('resuming with other settings is a one-line usage error', async () => {
  const storage = memoryStorage();
  await runSearch(opts({ storage, trials: 1, sampler: 'random' }));
  await assert.rejects(
    runSearch(opts({ storage, trials: 2, sampler: 'nsga2' })),
    (e: unknown) =>
      e instanceof UsageError &&
      /exists with other settings \(sampler "random" \(stored\) vs "nsga2" \(now\)\)/.test(e.message),
  );
});

test('examplesPerTrial and curveSteps: the learning-curve grid a trial reports at', () => {
  const h = { epochs: 2, batchSize: 16 };
  assert.equal(examplesPerTrial(100, h), 200);
  // A train limit slices first (count or fraction, never past the rows there are).
  assert.equal(examplesPerTrial(100, h, { trainCount: 40 }), 80);
  assert.equal(examplesPerTrial(100, h, { trainFraction: 0.25 }), 50);
  assert.equal(examplesPerTrial(30, h, { trainCount: 40 }), 60);
  // Max steps mid-epoch: 100 rows = 7 batches (the short one of 4 rows anywhere); 10 steps = 1 epoch + 3 batches,
  // at least 100 + 3*16 - 12 examples.
  assert.equal(examplesPerTrial(100, { ...h, maxSteps: 10 }), 136);
  assert.equal(examplesPerTrial(100, h, { maxSteps: 14, epochs: 5 }), 200);
  assert.deepEqual(curveSteps(8000, 2, 32), [1000, 2000, 4000, 8000]);
  assert.deepEqual(curveSteps(8100, 3, 32), [300, 900, 2700, 8100]);
  // Points below one batch are dropped, duplicates once.
  assert.deepEqual(curveSteps(40, 2, 16), [20, 40]);
  assert.deepEqual(curveSteps(10, 2, 16), [10]);
});

test('a search stores every trial’s learning curve and validation size; ASHA prunes and records the step', async () => {
  const storage = memoryStorage();
  const hyper = { epochs: 2, lr: 1e-3, batchSize: 16, maxLength: 16, seed: 0, threads: 1 };
  const plain = await runSearch(opts({ storage, study: 'plain', sampler: 'random', trials: 3, hyper, pruner: 'none' }));
  assert.equal(plain.complete, 3);
  const setup = (await storage.getStudy('plain')).systemAttrs.autopeft as unknown as SearchSetup;
  const grid = setup.hyper.checkpoints!;
  assert.equal(grid.length, CURVE_POINTS);
  assert.deepEqual(setup.pruner, { name: 'none' });
  for (const t of await storage.listTrials('plain')) {
    assert.deepEqual(
      t.intermediateValues?.map((p) => p.step),
      grid,
    );
    assert.equal(t.intermediateValues!.at(-1)!.value, t.values![0], 'the last point is the final score');
    assert.ok((t.userAttrs.validationExamples as number) > 0);
  }

  const asha = await runSearch(
    opts({ storage, study: 'asha', sampler: 'random', trials: 8, hyper, pruner: 'asha', ashaMinTrials: 2 }),
  );
  const trials = await storage.listTrials('asha');
  const pruned = trials.filter((t) => t.state === 'PRUNED');
  assert.equal(asha.complete + pruned.length, 8);
  assert.ok(pruned.length >= 1, trials.map((t) => `${t.number}:${t.state}`).join(' '));
  const stored = (await storage.getStudy('asha')).systemAttrs.autopeft as unknown as SearchSetup;
  assert.deepEqual(stored.pruner, { name: 'asha', rungs: grid.slice(0, -1), eta: 2, minTrials: 2 });
  for (const t of pruned) {
    const at = t.userAttrs.prunedAt as number;
    assert.ok(stored.pruner!.rungs!.includes(at));
    assert.equal(t.reason, `pruned by asha at step ${at}`);
    assert.equal(t.intermediateValues!.at(-1)!.step, at, 'no value reported after the verdict');
    assert.ok((t.userAttrs.stoppedAt as number) < grid.at(-1)!, 'stopped before the end of its training');
  }
  // A resumed search keeps the stored pruner unless told otherwise; another one is refused.
  const resumed = await runSearch(opts({ storage, study: 'asha', sampler: 'random', trials: 9, hyper }));
  assert.equal(resumed.complete + (await storage.listTrials('asha', { states: ['PRUNED'] })).length, 9);
  await assert.rejects(
    runSearch(opts({ storage, study: 'asha', sampler: 'random', trials: 10, hyper, pruner: 'none' })),
    /other settings \(pruner asha \(eta 2, min trials 2\) \(stored\) vs none \(now\)\)/,
  );
  await assert.rejects(
    runSearch(opts({ storage, study: 'plain', sampler: 'random', trials: 4, hyper, noise: 'binomial' })),
    /--noise binomial is the noise model of --sampler bo/,
  );
});

test('pruner and noise settings a search cannot use are one-line usage errors', async () => {
  const bad: [Partial<SearchOptions>, RegExp][] = [
    [{ pruner: 'asha', trialCmd: 'true' }, /--pruner asha needs live intermediate values/],
    [{ noise: 'binomial', trialCmd: 'true' }, /--noise binomial needs each trial's validation size/],
    [{ pruner: 'none', ashaEta: 3 }, /--asha-eta and --asha-min-trials apply to --pruner asha/],
    [{ pruner: 'asha', ashaEta: 1 }, /--asha-eta must be > 1/],
    [
      {
        pruner: 'asha',
        hyper: { epochs: 1, lr: 1e-3, batchSize: 16, maxLength: 16, seed: 0 },
        fidelity: { trainCount: 10 },
      },
      /--pruner asha: a trial sees 10 training examples, too few for a rung/,
    ],
  ];
  for (const [over, re] of bad)
    await assert.rejects(runSearch(opts(over)), (e: unknown) => e instanceof UsageError && re.test(e.message));
});
