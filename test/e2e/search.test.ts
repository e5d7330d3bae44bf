/**
 * End to end through the real CLI process: a tiny search on a custom task, killed with SIGKILL in
 * the middle, resumed by rerunning the same command, then reported.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBert } from '../../src/models/testing/tiny.js';
import { openSqliteStorage } from '../../src/storage/sqlite.js';
import { writeToyTask } from '../helpers/toy-task.js';

const BIN = join(import.meta.dirname, '../../bin/autopeft.mjs');
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-e2e-'));
  await writeTinyBert(join(dir, 'tiny'), { layers: 2, hidden: 32, heads: 2, std: 0.1 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('search survives kill -9, resumes to the target, and reports', async () => {
  const spec = writeToyTask(dir);
  const db = join(dir, 'studies.sqlite');
  const args = [
    BIN,
    'search',
    '--model',
    join(dir, 'tiny'),
    '--task',
    spec,
    '--trials',
    '8',
    '--n-init',
    '4',
    '--batch',
    '2',
    '--epochs',
    '2',
    '--max-length',
    '24',
    '--batch-size',
    '8',
    '--storage',
    db,
    '--study',
    'e2e',
    '--threads',
    '1',
    '--quiet',
  ];
  const first = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  first.stderr.on('data', (d: Buffer) => (log += d.toString()));
  // Kill it once two trials are told and a third is running (read from the study file while it runs).
  const finishedBeforeKill = await new Promise<{ number: number; values: readonly number[] }[]>((resolve, reject) => {
    const timer = setInterval(async () => {
      if (!existsSync(db)) return;
      const s = openSqliteStorage(db);
      try {
        if (!(await s.findStudy('e2e'))) return;
        const done = await s.listTrials('e2e', { states: ['COMPLETE'] });
        const running = await s.listTrials('e2e', { states: ['RUNNING'] });
        if (done.length >= 2 && running.length >= 1) {
          clearInterval(timer);
          first.kill('SIGKILL');
          resolve(done.map((t) => ({ number: t.number, values: t.values! })));
        }
      } catch (e) {
        clearInterval(timer);
        reject(e);
      } finally {
        await s.close();
      }
    }, 100);
    first.on('exit', () => {
      clearInterval(timer);
      reject(new Error(`search exited before it could be killed:\n${log}`));
    });
  });
  await new Promise((r) => first.once('exit', r));

  const second = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stderr, /resuming study "e2e" .*: \d+ complete, 0 failed, \d+ interrupted trial\(s\) re-queued/);

  const s = openSqliteStorage(db);
  try {
    const all = await s.listTrials('e2e');
    const complete = all.filter((t) => t.state === 'COMPLETE');
    assert.equal(complete.length, 8, all.map((t) => `${t.number}:${t.state}:${t.reason ?? ''}`).join(' '));
    // Nothing finished before the kill was lost or changed.
    for (const f of finishedBeforeKill) assert.deepEqual(complete.find((t) => t.number === f.number)?.values, f.values);
    // A trial the kill interrupted was failed as interrupted and its config re-queued and run.
    const interrupted = all.filter((t) => t.state === 'FAILED' && t.interrupted !== undefined);
    assert.ok(interrupted.length >= 1, 'the kill interrupted a trial');
    assert.ok(
      interrupted.every((t) => t.interrupted === 'worker-died' && t.requeuedAs !== undefined),
      all.map((t) => `${t.number}:${t.state}:${t.interrupted ?? ''}`).join(' '),
    );
    // Only the re-queue bookkeeping rows failed: no trial failed through its config.
    assert.equal(all.filter((t) => t.state === 'FAILED').length, interrupted.length);
    for (const t of interrupted)
      assert.ok(
        complete.some((c) => JSON.stringify(c.config) === JSON.stringify(t.config)),
        `config of trial ${t.number} was not re-run`,
      );
    assert.equal(
      all.filter((t) => t.state === 'RUNNING' || t.state === 'WAITING').length,
      all.filter((t) => t.state === 'WAITING').length,
    );
  } finally {
    await s.close();
  }

  // Follow-ups store their results on the study; the report then shows them.
  const common = [
    '--study',
    'e2e',
    '--storage',
    db,
    '--epochs',
    '1',
    '--max-length',
    '24',
    '--batch-size',
    '8',
    '--threads',
    '1',
    '--quiet',
  ];
  const rt = spawnSync(process.execPath, [BIN, 'retrain', ...common, '--seeds', '2', '--json'], { encoding: 'utf8' });
  assert.equal(rt.status, 0, rt.stderr);
  const rtj = JSON.parse(rt.stdout.trim().split('\n').pop()!) as {
    results: { values: number[]; mean: number; std: number }[];
  };
  assert.ok(
    rtj.results.length >= 1 &&
      rtj.results.every((r) => r.values.length === 2 && Math.abs(r.mean - (r.values[0]! + r.values[1]!) / 2) < 1e-12),
  );
  const bl = spawnSync(process.execPath, [BIN, 'baselines', ...common, '--json'], { encoding: 'utf8' });
  assert.equal(bl.status, 0, bl.stderr);
  assert.equal((JSON.parse(bl.stdout.trim().split('\n').pop()!) as { baselines: unknown[] }).baselines.length, 8);

  const out = join(dir, 'report');
  const rep = spawnSync(process.execPath, [BIN, 'report', '--study', 'e2e', '--storage', db, '--out', out, '--json'], {
    encoding: 'utf8',
  });
  assert.equal(rep.status, 0, rep.stderr);
  const json = JSON.parse(rep.stdout.trim().split('\n').pop()!) as {
    trials: { complete: number; failed: number };
    front: { trial: number }[];
    hypervolume: number;
  };
  // The kill's re-queue bookkeeping rows are not failures.
  assert.deepEqual([json.trials.complete, json.trials.failed], [8, 0]);
  assert.ok(json.front.length >= 1 && json.hypervolume >= 0);
  for (const f of [
    'report.md',
    'report.html',
    'report.json',
    'scatter.svg',
    'hypervolume.svg',
    'placement.svg',
    'retrain.svg',
  ])
    assert.ok(existsSync(join(out, f)), f);
  assert.match(readFileSync(join(out, 'scatter.svg'), 'utf8'), /SA 4/);
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /Pareto front/i);
});

test('Ctrl-C stops a search cleanly and re-queues the running trial', async () => {
  const spec = writeToyTask(dir);
  const db = join(dir, 'sigint.sqlite');
  const args = [
    BIN,
    'search',
    '--model',
    join(dir, 'tiny'),
    '--task',
    spec,
    '--trials',
    '20',
    '--sampler',
    'random',
    '--epochs',
    '3',
    '--max-length',
    '24',
    '--batch-size',
    '8',
    '--storage',
    db,
    '--study',
    'int',
    '--threads',
    '1',
    '--quiet',
  ];
  const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (/trial +0 /.test(stderr) && !p.killed) p.kill('SIGINT');
  });
  const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  assert.equal(code, 130, stderr);
  assert.match(stdout, /interrupted: \d+ complete, 0 failed; rerun the same command to resume/);
  const s = openSqliteStorage(db);
  try {
    const all = await s.listTrials('int');
    assert.equal(all.filter((t) => t.state === 'RUNNING').length, 0);
    const interrupted = all.filter((t) => t.state === 'FAILED');
    const states = all.map((t) => `${t.number}:${t.state}:${t.reason ?? ''}`).join(' ');
    assert.ok(
      interrupted.length >= 1 &&
        interrupted.some((t) => t.interrupted === 'user' && /^interrupted by the user/.test(t.reason ?? '')) &&
        interrupted.every((t) => t.interrupted === 'user' || t.interrupted === 'never-started'),
      states,
    );
    const waiting = all.filter((t) => t.state === 'WAITING').map((t) => JSON.stringify(t.config));
    for (const t of interrupted) assert.ok(waiting.includes(JSON.stringify(t.config)));
  } finally {
    await s.close();
  }
});
