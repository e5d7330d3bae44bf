import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { JobError, type Executor, type JobSpec, type Json } from '../exec/types.js';
import { createStudy, type Study } from '../search/study/index.js';
import type { Config, ObjectiveSpec, Sampler } from '../search/types.js';
import { memoryStorage } from '../storage/memory.js';
import { openSqliteStorage } from '../storage/sqlite.js';
import type { Storage } from '../storage/types.js';
import { AshaPruner } from '../search/pruners/index.js';
import { nextAskSize, resume, runStudy, studyCounts, type TrialJob } from './loop.js';

const dir = mkdtempSync(join(tmpdir(), 'autopeft-loop-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const OBJ: ObjectiveSpec[] = [
  { name: 'metric', direction: 'maximize' },
  { name: 'size', direction: 'minimize', known: (c: Config) => Number(c.x) },
];

/**
 * Proposes x = 0, 1, 2, ... (one more per config it has seen) after a few milliseconds, like a
 * GP fit: long enough for another loop to count and ask in between.
 */
const counter: Sampler = {
  name: 'counter',
  sample: async ({ complete, pending, n }) => {
    await new Promise((r) => setTimeout(r, 3));
    return Array.from({ length: n }, (_, i) => ({ x: complete.length + pending.length + i }));
  },
};

/**
 * Runs jobs in this process: each resolves with metric x / 100 after a few event-loop turns, or
 * rejects when its config says `fail`; `close()` aborts the running ones (like the pool).
 */
class FakeExecutor implements Executor {
  readonly started: number[] = [];
  private readonly aborts = new Set<(e: Error) => void>();
  private closed = false;
  constructor(readonly concurrency: number) {}
  run(job: JobSpec): Promise<Json> {
    const config = job.args as Config;
    if (this.closed) return Promise.reject(new Error('executor closed'));
    this.started.push(Number(config.x));
    return new Promise((resolve, reject) => {
      this.aborts.add(reject);
      let turns = 3;
      const tick = () => {
        if (!this.aborts.has(reject)) return;
        if (--turns > 0) return void setImmediate(tick);
        this.aborts.delete(reject);
        if (config.fail) reject(new Error('loss is NaN at step 3\nstack...'));
        else resolve({ metric: Number(config.x) / 100 });
      };
      setImmediate(tick);
    });
  }
  async close(): Promise<void> {
    this.closed = true;
    for (const reject of this.aborts) reject(new Error('executor closed'));
    this.aborts.clear();
  }
}

const jobFor = (t: { config: Config }): TrialJob<{ metric: number }> => ({
  run: async (ex) => (await ex.run({ module: 'fake', fn: 'score', args: t.config })) as { metric: number },
  tell: (r) => ({ values: [r.metric], userAttrs: { seen: r.metric } }),
});

async function open(storage: Storage, workerId: string, sampler: Sampler = counter): Promise<Study> {
  return createStudy({ storage, name: 's', objectives: OBJ, sampler, loadIfExists: true, workerId });
}

test('nextAskSize: enqueued trials plus what the target allows, at most a batch', () => {
  const target = { trials: 10, batch: 4 };
  assert.equal(nextAskSize({ counted: 0, waiting: 0 }, target), 4);
  assert.equal(nextAskSize({ counted: 8, waiting: 0 }, target), 2);
  assert.equal(nextAskSize({ counted: 10, waiting: 0 }, target), 0);
  assert.equal(nextAskSize({ counted: 12, waiting: 0 }, target), 0);
  // Enqueued trials already count, and must still be run.
  assert.equal(nextAskSize({ counted: 10, waiting: 1 }, target), 1);
  assert.equal(nextAskSize({ counted: 9, waiting: 2 }, target), 3);
});

test('runStudy runs the study to its target in batches and records each result', async () => {
  const storage = memoryStorage();
  const study = await open(storage, 'w');
  const ex = new FakeExecutor(2);
  const out = await runStudy(study, ex, jobFor, { trials: 7, batch: 3 });
  assert.deepEqual(out, { complete: 7, failed: 0, interrupted: false });
  const trials = await study.trials();
  assert.deepEqual(
    trials.map((t) => [t.number, t.state, t.values, t.userAttrs.seen]),
    trials.map((t) => [t.number, 'COMPLETE', [Number(t.config.x) / 100, Number(t.config.x)], Number(t.config.x) / 100]),
  );
  assert.equal(trials.length, 7);
  // A rerun with a higher target continues; with the same target it does nothing.
  assert.deepEqual(await runStudy(study, ex, jobFor, { trials: 7, batch: 3 }), out);
  assert.equal((await runStudy(study, ex, jobFor, { trials: 9, batch: 3 })).complete, 9);
  await study.close();
});

/**
 * A trial with a learning curve: reports (1 - x/10) * step/300 at steps 100, 200, 300, a few
 * event-loop turns apart, and stops early when asked (returning the last value it reached).
 */
const curveJob = (t: { config: Config }): TrialJob<{ metric: number; steps: number[]; stopped: boolean }> => ({
  run: async (_ex, control) => {
    const steps: number[] = [];
    let metric = 0;
    for (const step of [100, 200, 300]) {
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      if (control.stop.aborted) return { metric, steps, stopped: true };
      metric = (1 - Number(t.config.x) / 10) * (step / 300);
      steps.push(step);
      control.report(step, metric);
    }
    return { metric, steps, stopped: false };
  },
  tell: (r) => ({ values: [r.metric], userAttrs: { steps: r.steps }, stopped: r.stopped }),
});

test('a pruner judges each reported value: pruned trials stop early and are stored PRUNED with their values', async () => {
  for (const storage of [memoryStorage(), openSqliteStorage(join(dir, 'prune.db'))]) {
    const study = await open(storage, 'w');
    // Plain ASHA on the metric: x = 0 is best; every later trial is in the worse half at rung 100.
    const pruner = new AshaPruner({ objectives: [OBJ[0]!], rungs: [100, 200], eta: 2, minTrials: 2 });
    const pruned: [number, number][] = [];
    const out = await runStudy(
      study,
      new FakeExecutor(1),
      curveJob,
      { trials: 4, batch: 1, pruner },
      {
        pruned: (t, step) => pruned.push([t.number, step]),
      },
    );
    assert.deepEqual(out, { complete: 1, failed: 3, interrupted: false });
    const trials = await study.trials();
    assert.deepEqual(
      trials.map((t) => [t.number, t.state, t.reason ?? null, t.userAttrs.prunedAt ?? null]),
      [
        [0, 'COMPLETE', null, null],
        [1, 'PRUNED', 'pruned by asha at step 100', 100],
        [2, 'PRUNED', 'pruned by asha at step 100', 100],
        [3, 'PRUNED', 'pruned by asha at step 100', 100],
      ],
    );
    assert.deepEqual(pruned, [
      [1, 100],
      [2, 100],
      [3, 100],
    ]);
    // Every reported value is stored, and a pruned trial reported nothing after its verdict.
    assert.deepEqual(
      trials[0]!.intermediateValues?.map((p) => p.step),
      [100, 200, 300],
    );
    assert.deepEqual(trials[1]!.intermediateValues, [{ step: 100, value: 0.9 * (100 / 300) }]);
    assert.deepEqual(trials[1]!.userAttrs.steps, [100]);
    // Without a pruner the same jobs all complete, their curves stored.
    const s2 = await createStudy({ storage, name: 'nopruner', objectives: OBJ, sampler: counter, workerId: 'w' });
    assert.deepEqual(await runStudy(s2, new FakeExecutor(1), curveJob, { trials: 3, batch: 1 }), {
      complete: 3,
      failed: 0,
      interrupted: false,
    });
    assert.ok((await s2.trials()).every((t) => t.intermediateValues?.length === 3));
    await study.close();
    await s2.close();
    await storage.close();
  }
});

test('two loops on one study stop together at the target (the study counts, not each loop)', async () => {
  const storage = openSqliteStorage(join(dir, 'two.db'));
  const a = await open(storage, 'a');
  const b = await open(storage, 'b');
  const [ea, eb] = [new FakeExecutor(3), new FakeExecutor(3)];
  const target = { trials: 11, batch: 2 };
  const [oa, ob] = await Promise.all([runStudy(a, ea, jobFor, target), runStudy(b, eb, jobFor, target)]);
  const trials = await a.trials();
  assert.equal(trials.length, 11, trials.map((t) => `${t.number}:${t.state}:${t.workerId}`).join(' '));
  assert.ok(trials.every((t) => t.state === 'COMPLETE'));
  // Each loop reports the study as it found it when it ended; the last one to end sees all 11.
  assert.equal(Math.max(oa.complete, ob.complete), 11);
  assert.equal(ea.started.length + eb.started.length, 11);
  assert.ok(ea.started.length > 0 && eb.started.length > 0, 'both loops ran trials');
  await storage.close();
});

test('a failing job is a real failure that counts toward the target; its first line is the reason', async () => {
  const storage = memoryStorage();
  let sampled = 0;
  const failing: Sampler = {
    name: 'failing',
    sample: ({ n }) => Array.from({ length: n }, () => ({ x: sampled, fail: sampled++ === 1 })),
  };
  const study = await open(storage, 'w', failing);
  const failed: string[] = [];
  const out = await runStudy(
    study,
    new FakeExecutor(1),
    jobFor,
    { trials: 3, batch: 1 },
    { failed: (_, r) => failed.push(r) },
  );
  assert.deepEqual(out, { complete: 2, failed: 1, interrupted: false });
  assert.deepEqual(failed, ['loss is NaN at step 3']);
  const t1 = await study.trial(1);
  assert.deepEqual([t1.state, t1.reason, t1.interrupted], ['FAILED', 'loss is NaN at step 3', undefined]);
  await study.close();
});

/** Like the pool when a worker process is killed: the job of config x dies `deaths[x]` times, then runs. */
class DyingExecutor extends FakeExecutor {
  constructor(private readonly deaths: Map<number, number>) {
    super(1);
  }
  override run(job: JobSpec): Promise<Json> {
    const x = Number((job.args as Config).x);
    const left = this.deaths.get(x) ?? 0;
    if (left === 0) return super.run(job);
    this.deaths.set(x, left - 1);
    return Promise.reject(new JobError('worker process 4242 died running the job (SIGKILL)', 'WorkerDied'));
  }
}

test('a pool worker killed mid-trial: the trial is re-run once (interrupted, not failed); a second death fails it', async () => {
  const storage = memoryStorage();
  const fixed: Sampler = { name: 'fixed', sample: ({ n }) => Array.from({ length: n }, (_, i) => ({ x: i })) };
  const study = await open(storage, 'w', fixed);
  // x = 0 dies once (re-run completes); x = 1 dies on every run (the re-run is a real failure).
  const out = await runStudy(
    study,
    new DyingExecutor(
      new Map([
        [0, 1],
        [1, 9],
      ]),
    ),
    jobFor,
    { trials: 2, batch: 2 },
  );
  const all = await study.trials();
  const row = (n: number) => all.find((t) => t.number === n)!;
  const firstOf = (x: number) => all.find((t) => t.config.x === x && t.requeuedFrom === undefined)!;
  for (const x of [0, 1]) {
    const t = firstOf(x);
    assert.equal(t.state, 'FAILED');
    assert.equal(t.interrupted, 'worker-died');
    assert.match(t.reason ?? '', /^interrupted: worker process 4242 died/);
    const again = row(t.requeuedAs!);
    assert.equal(again.requeuedFrom, t.number);
    assert.deepEqual(again.config, t.config);
    if (x === 0) assert.equal(again.state, 'COMPLETE');
    else assert.deepEqual([again.state, again.interrupted, again.requeuedAs], ['FAILED', undefined, undefined]);
  }
  assert.deepEqual(out, { complete: 1, failed: 1, interrupted: false });
  await study.close();
});

test('an abort re-queues running and reserved trials as interrupted; a rerun finishes without failures', async () => {
  const storage = memoryStorage();
  const study = await open(storage, 'w');
  const controller = new AbortController();
  const events = { start: () => controller.abort() }; // abort as soon as the first job starts
  const out = await runStudy(
    study,
    new FakeExecutor(1),
    jobFor,
    { trials: 4, batch: 3, signal: controller.signal },
    events,
  );
  assert.deepEqual(out, { complete: 0, failed: 0, interrupted: true });
  const after = await study.trials();
  assert.deepEqual(
    after.map((t) => [t.number, t.state, t.interrupted ?? t.requeuedFrom]),
    [
      [0, 'FAILED', 'user'],
      [1, 'FAILED', 'never-started'],
      [2, 'FAILED', 'never-started'],
      [3, 'WAITING', 0],
      [4, 'WAITING', 1],
      [5, 'WAITING', 2],
    ],
  );
  const again = await runStudy(study, new FakeExecutor(2), jobFor, { trials: 4, batch: 3 });
  assert.deepEqual(again, { complete: 4, failed: 0, interrupted: false });
  const c = await studyCounts(study);
  assert.deepEqual([c.counted, c.failed, c.waiting], [4, 0, 0]);
  // The re-queued configs ran, in order, before anything new was sampled.
  assert.deepEqual(
    (await study.trials(['COMPLETE'])).map((t) => [t.number, t.requeuedFrom]),
    [
      [3, 0],
      [4, 1],
      [5, 2],
      [6, undefined],
    ],
  );
  await study.close();
});

test('resume re-queues the trials of a dead search process of this host', async () => {
  const storage = memoryStorage();
  const gone = Number(
    spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout,
  );
  await storage.createStudy({ name: 's', directions: ['maximize', 'minimize'], objectiveNames: ['metric', 'size'] });
  await storage.createTrial('s', { state: 'RUNNING', config: { x: 5 }, workerId: `${hostname()}:${gone}` });
  const study = await open(storage, 'w');
  assert.equal(await resume(study, { staleAfterMs: 60_000 }), 1);
  const [dead, rerun] = await study.trials();
  assert.deepEqual(
    [dead!.interrupted, rerun!.state, rerun!.config, rerun!.requeuedFrom],
    ['worker-died', 'WAITING', { x: 5 }, 0],
  );
  assert.equal(await resume(study, { staleAfterMs: 60_000 }), 0);
  await study.close();
});
