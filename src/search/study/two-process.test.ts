/**
 * Two OS processes ask and tell on one SQLite file at the same time: afterwards no trial is lost or
 * duplicated and every enqueued config was claimed exactly once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSqliteStorage } from '../../storage/sqlite.js';
import { createStudy } from './study.js';
import { countingSampler, TWO_PROCESS_OBJECTIVES } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'autopeft-two-process-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface WorkerReport {
  worker: string;
  asked: number[];
  claimedIds: number[];
  failed: number[];
}

function runWorker(args: string[]): Promise<WorkerReport> {
  const script = fileURLToPath(new URL('./two-process.worker.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        reject(new Error(`worker ${args[1]} exited ${code}: ${err.trim().split('\n').slice(-5).join(' | ')}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!) as WorkerReport);
    });
  });
}

test('two processes on one SQLite file lose and duplicate nothing', { timeout: 120_000 }, async () => {
  const file = join(dir, 'duo.db');
  const ENQUEUED = 30;
  const ASKS = 30; // per worker: 60 trials in all, 30 enqueued + 30 sampled
  const setup = openSqliteStorage(file);
  const study = await createStudy({
    storage: setup,
    name: 'duo',
    objectives: TWO_PROCESS_OBJECTIVES,
    sampler: countingSampler(),
  });
  for (let id = 0; id < ENQUEUED; id++) await study.enqueue({ id, x: id + 1 });
  await setup.close();

  const workers = ['alpha', 'beta'];
  const running = workers.map((w) => runWorker([file, w, String(ASKS), dir]));
  // Release both at once, once both have opened the file.
  const ready = () => workers.every((w) => existsSync(join(dir, `ready-${w}`)));
  let failed: unknown;
  void Promise.all(running).catch((e: unknown) => (failed = e));
  while (!ready() && failed === undefined) await new Promise((r) => setTimeout(r, 10));
  writeFileSync(join(dir, 'go'), '');
  const reports = await Promise.all(running);

  const storage = openSqliteStorage(file);
  const trials = await storage.listTrials('duo');
  await storage.close();
  // Every ask gave exactly one trial (claimed or created): dense numbering, nothing left behind.
  assert.equal(trials.length, 2 * ASKS);
  assert.deepEqual(
    trials.map((t) => t.number),
    Array.from({ length: 2 * ASKS }, (_, i) => i),
  );
  assert.deepEqual(
    trials.filter((t) => t.state !== 'COMPLETE' && t.state !== 'FAILED'),
    [],
  );
  // Each trial was handed to exactly one worker, and that worker is the one recorded on it.
  const owner = new Map<number, string>();
  for (const r of reports) {
    assert.equal(r.asked.length, ASKS);
    for (const n of r.asked) {
      assert.ok(!owner.has(n), `trial #${n} handed to ${owner.get(n)} and ${r.worker}`);
      owner.set(n, r.worker);
    }
  }
  assert.equal(owner.size, 2 * ASKS);
  for (const t of trials) {
    assert.equal(t.workerId, owner.get(t.number), `trial #${t.number} workerId`);
    assert.equal(t.userAttrs.by, owner.get(t.number), `trial #${t.number} attrs`);
    if (t.number % 7 === 3) assert.equal(t.state, 'FAILED', `trial #${t.number}`);
    else assert.deepEqual(t.values, [Number(t.config.x) / 100, Number(t.config.x)], `trial #${t.number} values`);
  }
  // Every enqueued config claimed exactly once, by one worker, as one of the first trials.
  const claimed = reports.flatMap((r) => r.claimedIds).sort((a, b) => a - b);
  assert.deepEqual(
    claimed,
    Array.from({ length: ENQUEUED }, (_, i) => i),
  );
  for (let id = 0; id < ENQUEUED; id++) {
    const holders = trials.filter((t) => t.config.id === id);
    assert.equal(holders.length, 1, `enqueued config ${id} is in ${holders.length} trials`);
    assert.equal(holders[0]!.number, id);
  }
  // Report the interleaving (not asserted: the OS decides who runs when).
  console.log(
    `two-process: ${reports.map((r) => `${r.worker} ran ${r.asked.length} trials, claimed ${r.claimedIds.length} enqueued`).join('; ')}`,
  );
});

test('a worker killed with SIGKILL: its trial goes stale, is failed and its config re-queued', {
  timeout: 120_000,
}, async () => {
  const file = join(dir, 'kill.db');
  const setup = openSqliteStorage(file);
  const study = await createStudy({
    storage: setup,
    name: 'duo',
    objectives: TWO_PROCESS_OBJECTIVES,
    sampler: countingSampler(),
  });
  await study.enqueue({ id: 100, x: 5 });

  const script = fileURLToPath(new URL('./two-process.worker.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, file, 'crashy', 'hang', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.on('close', (code) => reject(new Error(`hanging worker exited ${code} early: ${err.trim()}`)));
  });
  const { trial } = JSON.parse(line) as { trial: number };
  assert.equal(trial, 0);
  // Its heartbeat timer runs: wait for a beat after the start.
  let t = await setup.getTrial('duo', 0);
  while (!(t.heartbeatAt! > t.startedAt!)) {
    await new Promise((r) => setTimeout(r, 10));
    t = await setup.getTrial('duo', 0);
  }
  child.kill('SIGKILL');
  await exited;
  const lastBeat = (await setup.getTrial('duo', 0)).heartbeatAt!;
  // Let it go silent for longer than the stale limit below (a wait, not a timing assertion).
  while (Date.now() - lastBeat <= 400) await new Promise((r) => setTimeout(r, 50));
  assert.equal((await setup.getTrial('duo', 0)).heartbeatAt, lastBeat, 'a killed worker must not beat');

  const survivor = await createStudy({
    storage: setup,
    name: 'duo',
    objectives: TWO_PROCESS_OBJECTIVES,
    sampler: countingSampler(),
    loadIfExists: true,
    workerId: 'survivor',
    heartbeat: { intervalMs: 100, staleAfterMs: 300 },
  });
  const again = await survivor.ask();
  assert.deepEqual(
    [again.number, again.config, again.userAttrs, again.requeuedFrom, again.workerId],
    [1, { id: 100, x: 5 }, {}, 0, 'survivor'],
  );
  const dead = await setup.getTrial('duo', 0);
  assert.deepEqual([dead.state, dead.interrupted, dead.requeuedAs], ['FAILED', 'stale', 1]);
  assert.match(dead.reason!, /^stale: no heartbeat for \d+ ms from worker crashy$/);
  assert.deepEqual((await survivor.tell(again.number, [0.5])).values, [0.5, 5]);
  await survivor.close();
  await setup.close();
});
