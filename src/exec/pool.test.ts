import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ProcessPoolExecutor } from './pool.js';
import { InlineExecutor } from './inline.js';
import { JobError, type Json } from './types.js';
import * as c from './codec.js';
import { CodecError } from './codec.js';
import { runJob } from './job.js';
import { SQUARE_JOB } from './testing/jobs.js';

const JOBS = fileURLToPath(new URL('./testing/jobs.ts', import.meta.url));

test('process pool runs jobs in W worker processes with a per-worker thread budget', async () => {
  const pool = new ProcessPoolExecutor({ workers: 2, threadsPerWorker: 1 });
  try {
    const progress: Json[] = [];
    const results = (await Promise.all(
      [1, 2, 3, 4, 5].map((x) => pool.run({ module: JOBS, fn: 'square', args: { x } }, (e) => progress.push(e))),
    )) as { y: number; pid: number; threads: number }[];
    assert.deepEqual(
      results.map((r) => r.y),
      [1, 4, 9, 16, 25],
    );
    const pids = new Set(results.map((r) => r.pid));
    assert.ok(pids.size >= 1 && pids.size <= 2, `jobs ran in ${pids.size} processes`);
    assert.ok(!pids.has(process.pid), 'jobs must not run in the parent');
    assert.ok(results.every((r) => r.threads === 1));
    assert.equal(progress.length, 15);
  } finally {
    await pool.close();
  }
});

test('a job error keeps its message and whether the user caused it; a dead worker is replaced', async () => {
  const pool = new ProcessPoolExecutor({ workers: 1 });
  try {
    await assert.rejects(pool.run({ module: JOBS, fn: 'userFailure', args: null }), (e: unknown) => {
      assert.ok(e instanceof JobError);
      assert.equal(e.causeName, 'DataError');
      assert.match(e.message, /train\.tsv:1: no such column/);
      assert.equal(e.userFacing, true);
      return true;
    });
    await assert.rejects(pool.run({ module: JOBS, fn: 'crash', args: null }), /died running the job \(exit code 3\)/);
    const r = (await pool.run({ module: JOBS, fn: 'square', args: { x: 7 } })) as { y: number };
    assert.equal(r.y, 49);
    await assert.rejects(pool.run({ module: JOBS, fn: 'nope', args: null }), /has no exported function 'nope'/);
  } finally {
    await pool.close();
  }
});

test('closing the pool aborts running jobs and ends the workers', async () => {
  const pool = new ProcessPoolExecutor({ workers: 1 });
  const running = pool.run({ module: JOBS, fn: 'waitForAbort', args: null });
  await new Promise((r) => setTimeout(r, 1500));
  await pool.close();
  // The job either answered its abort before the worker exited or the worker's exit failed it.
  const outcome = await running.then(
    (v) => v,
    (e: Error) => e.message,
  );
  assert.ok(outcome === 'aborted' || /died|closed/.test(String(outcome)), String(outcome));
});

test('a stop request ends that job early with its result, in the pool and inline; other jobs run on', async () => {
  for (const ex of [new ProcessPoolExecutor({ workers: 2 }), new InlineExecutor(1)]) {
    const stop = new AbortController();
    const run = ex.run(
      { module: JOBS, fn: 'countUntilStopped', args: null },
      (e) => {
        if ((e as { tick: number }).tick === 3) stop.abort();
      },
      { stop: stop.signal },
    );
    const r = (await run) as { ticks: number; stopped: boolean };
    assert.equal(r.stopped, true);
    assert.ok(r.ticks >= 3 && r.ticks < 10_000, String(r.ticks));
    // A stop asked before the job starts reaches it too.
    const early = new AbortController();
    early.abort();
    const r2 = (await ex.run({ module: JOBS, fn: 'countUntilStopped', args: null }, undefined, {
      stop: early.signal,
    })) as {
      ticks: number;
      stopped: boolean;
    };
    assert.deepEqual([r2.stopped, r2.ticks < 10], [true, true]);
    assert.deepEqual(
      await ex.run({ module: JOBS, fn: 'square', args: { x: 2 } }).then((v) => (v as { y: number }).y),
      4,
    );
    await ex.close();
  }
});

test('a stop signal shared by many jobs keeps no listener once each job settles (done, failed or stopped)', async () => {
  const pool = new ProcessPoolExecutor({ workers: 1 });
  try {
    const run = new AbortController();
    const listeners = () => getEventListeners(run.signal, 'abort').length;
    const opts = { stop: run.signal };
    const ys = await Promise.all(
      [1, 2, 3, 4].map((x) => pool.run({ module: JOBS, fn: 'square', args: { x } }, undefined, opts)),
    );
    assert.deepEqual(
      ys.map((r) => (r as { y: number }).y),
      [1, 4, 9, 16],
    );
    assert.equal(listeners(), 0);
    await assert.rejects(pool.run({ module: JOBS, fn: 'userFailure', args: null }, undefined, opts));
    await assert.rejects(pool.run({ module: JOBS, fn: 'crash', args: null }, undefined, opts), /died/);
    assert.equal(listeners(), 0);
    // While a job runs its listener is there (so the count above is a real one), and it goes with the job.
    let during = -1;
    const r = (await pool.run(
      { module: JOBS, fn: 'countUntilStopped', args: null },
      (e) => {
        if ((e as { tick: number }).tick === 3) {
          during = listeners();
          run.abort();
        }
      },
      opts,
    )) as { stopped: boolean };
    assert.deepEqual([r.stopped, during, listeners()], [true, 1, 0]);
  } finally {
    await pool.close();
  }
});

test('the inline executor runs the same job functions in-process', async () => {
  const ex = new InlineExecutor(3);
  const events: Json[] = [];
  const r = (await ex.run({ module: JOBS, fn: 'square', args: { x: 3 } }, (e) => events.push(e))) as {
    y: number;
    pid: number;
    threads: number;
  };
  assert.deepEqual([r.y, r.pid, r.threads], [9, process.pid, 3]);
  assert.equal(events.length, 3);
  await ex.close();
});

test('typed jobs: payloads go through their codecs, in the pool and inline', async () => {
  const pool = new ProcessPoolExecutor({ workers: 1 });
  const inline = new InlineExecutor(1);
  try {
    for (const ex of [pool, inline]) {
      const steps: number[] = [];
      const r = await runJob(ex, SQUARE_JOB, { x: 6 }, (e) => steps.push(e.step));
      assert.equal(r.y, 36);
      assert.deepEqual(steps, [1, 2]);
    }
    // Arguments the worker's codec rejects: the job fails naming the key (a bug, not a user error).
    const wrongArgs = { ...SQUARE_JOB, args: c.object<{ x: string }>({ x: c.string }) };
    await assert.rejects(runJob(pool, wrongArgs, { x: '6' }), (e: unknown) => {
      assert.ok(e instanceof JobError);
      assert.equal(e.causeName, 'CodecError');
      assert.equal(e.message, 'typedSquare args.x: expected a number, got "6"');
      assert.equal(e.userFacing, false);
      return true;
    });
    // Events or results the caller's codec rejects fail the job on the caller's side.
    const wrongEvent = { ...SQUARE_JOB, event: c.object<{ step: string }>({ step: c.string }) };
    await assert.rejects(
      runJob(pool, wrongEvent, { x: 2 }, () => undefined),
      (e: unknown) => {
        assert.ok(e instanceof CodecError);
        assert.equal(e.message, 'typedSquare event.step: expected a string, got 1');
        return true;
      },
    );
    const wrongResult = { ...SQUARE_JOB, result: c.object<{ y: number }>({ y: c.number }) };
    await assert.rejects(runJob(inline, wrongResult, { x: 2 }), /typedSquare result\.pid: expected no such key/);
  } finally {
    await pool.close();
    await inline.close();
  }
});
