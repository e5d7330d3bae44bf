/**
 * End to end through the real CLI process: `autopeft search --pruner asha` stores every trial's
 * intermediate values and prunes some trials at a rung (PRUNED, with the step they reached); the
 * default search stores every trial's learning curve; `report --json` and the dashboard's data
 * show both; a resumed search keeps the stored pruner; unusable settings are one-line exit-2 errors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBert } from '../../src/models/testing/tiny.js';
import { openSqliteStorage } from '../../src/storage/sqlite.js';
import { studyDetail } from '../../src/dashboard/data.js';
import type { SearchSetup } from '../../src/pipeline/attrs.js';
import { CURVE_POINTS } from '../../src/pipeline/search.js';
import { writeToyTask } from '../helpers/toy-task.js';

const BIN = join(import.meta.dirname, '../../bin/autopeft.mjs');
let dir: string;
let db: string;
let common: string[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-prune-'));
  await writeTinyBert(join(dir, 'tiny'), { layers: 2, hidden: 32, heads: 2, std: 0.1 });
  db = join(dir, 'studies.sqlite');
  common = [
    '--model',
    join(dir, 'tiny'),
    '--task',
    writeToyTask(dir),
    '--sampler',
    'random',
    '--epochs',
    '2',
    '--max-length',
    '24',
    '--batch-size',
    '16',
    '--storage',
    db,
    '--threads',
    '1',
    '--quiet',
  ];
});
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

interface JsonTrial {
  number: number;
  state: string;
  reason?: string;
  intermediateValues?: { step: number; value: number }[];
  prunedAt?: number;
}

test('search --pruner asha stores intermediate values on every trial and PRUNED trials with their step', async () => {
  // The pruner's settings as --config keys (the same rules as the flags).
  const config = join(dir, 'asha.json');
  writeFileSync(config, JSON.stringify({ pruner: 'asha', ashaMinTrials: 2 }));
  const run = cli(['search', ...common, '--study', 'asha', '--trials', '8', '--config', config, '--json']);
  assert.equal(run.status, 0, run.stderr);
  const outcome = JSON.parse(run.stdout) as { complete: number; pruned: number; failed: number };
  assert.match(run.stderr, /trial +\d+ {2}pruned at \d+ examples: accuracy /);
  const s = openSqliteStorage(db);
  try {
    const setup = (await s.getStudy('asha')).systemAttrs.autopeft as unknown as SearchSetup;
    const grid = setup.hyper.checkpoints!;
    assert.equal(grid.length, CURVE_POINTS);
    assert.deepEqual(setup.pruner, { name: 'asha', rungs: grid.slice(0, -1), eta: 2, minTrials: 2 });
    assert.equal(setup.noise, 'learned');
    const trials = await s.listTrials('asha');
    assert.equal(trials.length, 8);
    const pruned = trials.filter((t) => t.state === 'PRUNED');
    assert.ok(pruned.length >= 1, trials.map((t) => `${t.number}:${t.state}`).join(' '));
    assert.equal(trials.filter((t) => t.state === 'COMPLETE').length + pruned.length, 8);
    assert.deepEqual(outcome, { ...outcome, complete: 8 - pruned.length, pruned: pruned.length, failed: 0 });
    for (const t of trials) {
      const steps = t.intermediateValues?.map((p) => p.step) ?? [];
      assert.ok(steps.length >= 1 && steps.every((x) => grid.includes(x)), `trial ${t.number}: ${steps}`);
      assert.ok((t.userAttrs.validationExamples as number) > 0);
    }
    for (const t of pruned) {
      const at = t.userAttrs.prunedAt as number;
      assert.ok(setup.pruner!.rungs!.includes(at), `pruned at ${at}`);
      assert.equal(t.reason, `pruned by asha at step ${at}`);
      assert.equal(t.intermediateValues!.at(-1)!.step, at);
      assert.ok((t.userAttrs.stoppedAt as number) < grid.at(-1)!);
    }
    for (const t of trials.filter((x) => x.state === 'COMPLETE'))
      assert.deepEqual(
        t.intermediateValues!.map((p) => p.step),
        grid,
      );
    // The dashboard draws the stored values as each trial's learning curve.
    const detail = (await studyDetail(s, 'asha'))!;
    for (const t of detail.trials)
      assert.deepEqual(
        t.curve.map((p) => [p.step, p.metric]),
        trials[t.number]!.intermediateValues!.map((p) => [p.step, p.value]),
      );
  } finally {
    await s.close();
  }

  const rep = cli(['report', '--study', 'asha', '--storage', db, '--out', join(dir, 'report'), '--json']);
  assert.equal(rep.status, 0, rep.stderr);
  const json = JSON.parse(rep.stdout.trim().split('\n').pop()!) as { allTrials: JsonTrial[] };
  assert.equal(json.allTrials.length, 8);
  assert.ok(json.allTrials.every((t) => (t.intermediateValues?.length ?? 0) >= 1));
  const prunedJson = json.allTrials.filter((t) => t.state === 'PRUNED');
  assert.ok(prunedJson.length >= 1);
  for (const t of prunedJson) {
    assert.equal(t.reason, `pruned by asha at step ${t.prunedAt}`);
    assert.equal(t.intermediateValues!.at(-1)!.step, t.prunedAt);
  }

  // Resumed without --pruner: the stored one; another pruner is refused (exit 2, one line).
  const more = cli(['search', ...common, '--study', 'asha', '--trials', '9']);
  assert.equal(more.status, 0, more.stderr);
  const other = cli(['search', ...common, '--study', 'asha', '--trials', '10', '--pruner', 'none']);
  assert.equal(other.status, 2);
  assert.match(
    other.stderr,
    /^autopeft: study "asha" exists with other settings \(pruner asha \(eta 2, min trials 2\) \(stored\) vs none \(now\)\);.*\n$/,
  );
});

test('the default search stores every trial its learning curve; bad pruner settings exit 2', async () => {
  const run = cli(['search', ...common, '--study', 'plain', '--trials', '3', '--json']);
  assert.equal(run.status, 0, run.stderr);
  const s = openSqliteStorage(db);
  try {
    const setup = (await s.getStudy('plain')).systemAttrs.autopeft as unknown as SearchSetup;
    assert.deepEqual(setup.pruner, { name: 'none' });
    const trials = await s.listTrials('plain');
    assert.equal(trials.length, 3);
    for (const t of trials) {
      assert.equal(t.state, 'COMPLETE');
      assert.deepEqual(
        t.intermediateValues?.map((p) => p.step),
        setup.hyper.checkpoints,
      );
      assert.equal(t.intermediateValues!.length, CURVE_POINTS);
    }
  } finally {
    await s.close();
  }
  const badConfig = join(dir, 'bad.json');
  writeFileSync(badConfig, JSON.stringify({ pruner: 'hyperband' }));
  const bad: [string[], RegExp][] = [
    [['--pruner', 'hyperband'], /^autopeft: --pruner must be one of none, asha, got "hyperband"\n$/],
    [['--config', badConfig], /^autopeft: .*bad\.json: "pruner" must be one of none, asha, got "hyperband"\n$/],
    [['--pruner', 'asha', '--asha-eta', '1'], /^autopeft: --asha-eta must be > 1 .*\n$/],
    [['--pruner', 'asha', '--trial-cmd', 'true'], /^autopeft: --pruner asha needs live intermediate values.*\n$/],
  ];
  for (const [args, re] of bad) {
    const r = cli(['search', ...common, '--study', 'bad', '--trials', '1', ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});
