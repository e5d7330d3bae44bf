/**
 * copy-study carries each trial's intermediate values (the learning curve a search stores and a
 * pruner judges), in step order, for finished, pruned and still-running trials alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyStudy, trialRowOf } from './copy.js';
import { memoryStorage } from './memory.js';
import { toTrialRecord } from './rows.js';
import { openSqliteStorage } from './sqlite.js';

test('trialRowOf and copyStudy keep intermediate values (memory -> SQLite -> memory)', async () => {
  const a = memoryStorage();
  await a.createStudy({ name: 's', directions: ['maximize'], objectiveNames: ['metric'] });
  for (const sa of [3, 6, 12]) await a.createTrial('s', { state: 'RUNNING', config: { sa }, workerId: 'w' });
  // Reported out of order and one step twice: stored sorted, the later report of a step wins.
  for (const [n, step, value] of [
    [0, 200, 0.6],
    [0, 100, 0.5],
    [0, 400, 0.7],
    [1, 100, 0.4],
    [1, 100, 0.45],
    [2, 100, 0.55],
  ] as const)
    await a.reportIntermediate('s', n, step, value);
  await a.setTrialUserAttrs('s', 1, { prunedAt: 100 });
  await a.tellTrial('s', 0, { state: 'COMPLETE', values: [0.7] });
  await a.tellTrial('s', 1, { state: 'PRUNED', reason: 'pruned by asha at step 100' });
  const source = await a.listTrials('s');
  const curves = source.map((t) => t.intermediateValues);
  assert.deepEqual(curves, [
    [
      { step: 100, value: 0.5 },
      { step: 200, value: 0.6 },
      { step: 400, value: 0.7 },
    ],
    [{ step: 100, value: 0.45 }],
    [{ step: 100, value: 0.55 }],
  ]);
  for (const t of source) assert.deepEqual(toTrialRecord(trialRowOf(t)).intermediateValues, t.intermediateValues);

  const dir = mkdtempSync(join(tmpdir(), 'autopeft-copy-iv-'));
  try {
    const b = openSqliteStorage(join(dir, 'b.sqlite'));
    assert.equal(await copyStudy(a, b, 's'), 3);
    assert.deepEqual(
      (await b.listTrials('s')).map((t) => t.intermediateValues),
      curves,
    );
    const c = memoryStorage();
    await copyStudy(b, c, 's', 'back');
    assert.deepEqual(await c.listTrials('back'), source);
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
