import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBert } from '../models/testing/tiny.js';
import { memoryStorage } from '../storage/memory.js';
import { writeToyTask } from '../../test/helpers/toy-task.js';
import { SAMPLER_STATE_KEY } from '../search/study/index.js';
import { runSearch, type SearchOptions } from './search.js';
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
