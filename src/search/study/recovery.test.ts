/** Study features shared by concurrent and resumed workers: sampler state, interrupts, orphans, trial limits. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { TrialNotRunningError } from '../../storage/errors.js';
import { memoryStorage } from '../../storage/memory.js';
import { openSqliteStorage } from '../../storage/sqlite.js';
import type { Storage } from '../../storage/types.js';
import type { AttrValue, Config, ObjectiveSpec, Sampler } from '../types.js';
import { createStudy, SAMPLER_STATE_KEY } from './study.js';
import { countingSampler } from './testing.js';
import { deadLocalWorkers } from './workers.js';

const dir = mkdtempSync(join(tmpdir(), 'autopeft-recovery-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

const OBJ: ObjectiveSpec[] = [
  { name: 'metric', direction: 'maximize' },
  { name: 'paramPct', direction: 'minimize', known: (c: Config) => Number(c.x) / 10 },
];

/** A sampler whose proposals depend on a call counter it keeps as its state. */
function statefulSampler(name = 'stateful'): Sampler & { imported: AttrValue[] } {
  let calls = 0;
  const imported: AttrValue[] = [];
  return {
    name,
    imported,
    sample: ({ n }) => Array.from({ length: n }, (_, i) => ({ x: i, call: calls++ })),
    exportState: () => ({ calls }),
    importState: (state) => {
      imported.push(state);
      calls = (state as { calls: number }).calls;
    },
  };
}

/** A pid that belonged to a process of this host that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

const backends: [string, () => Storage][] = [
  ['memory', () => memoryStorage()],
  ['sqlite', () => openSqliteStorage(join(dir, `r${counter++}.db`))],
];

for (const [backend, open] of backends) {
  describe(`Study recovery on ${backend}`, () => {
    test('samplers persist their state in the study system attributes and resume from it', async () => {
      const storage = open();
      const a = await createStudy({ storage, name: 's', objectives: OBJ, sampler: statefulSampler() });
      await a.askBatch(3);
      assert.deepEqual(await a.systemAttrs(), { [SAMPLER_STATE_KEY]: { name: 'stateful', state: { calls: 3 } } });
      assert.deepEqual(await a.userAttrs(), {});
      // A restarted worker (fresh sampler object) continues the counter instead of starting over.
      const fresh = statefulSampler();
      const b = await createStudy({ storage, name: 's', objectives: OBJ, sampler: fresh, loadIfExists: true });
      const [t] = await b.askBatch(1);
      assert.deepEqual([t!.config.call, fresh.imported], [3, [{ calls: 3 }]]);
      // Another sampler's state is not fed to this one; stateless samplers store nothing.
      const other = statefulSampler('other');
      const c = await createStudy({ storage, name: 's', objectives: OBJ, sampler: other, loadIfExists: true });
      await c.ask();
      assert.deepEqual(other.imported, []);
      const d = await createStudy({ storage, name: 'plain', objectives: OBJ, sampler: countingSampler() });
      await d.ask();
      assert.deepEqual(await d.systemAttrs(), {});
      await storage.close();
    });

    test('interrupt fails a trial with a typed kind and re-queues its config for the next ask', async () => {
      const storage = open();
      const study = await createStudy({ storage, name: 's', objectives: OBJ, sampler: countingSampler() });
      const [t0, t1] = await study.askBatch(2);
      const r = await study.interrupt(t0!.number, 'user', { requeue: true });
      assert.deepEqual(
        [r.failed.state, r.failed.interrupted, r.failed.reason, r.requeued?.requeuedFrom],
        ['FAILED', 'user', 'interrupted by the user', 0],
      );
      await study.interrupt(t1!.number, 'never-started', { reason: 'stopped first' });
      assert.deepEqual(study.runningTrials(), []);
      const again = await study.ask();
      assert.deepEqual([again.number, again.config, again.requeuedFrom], [2, t0!.config, 0]);
      await assert.rejects(study.interrupt(t0!.number, 'user'), TrialNotRunningError);
      await storage.close();
    });

    test('requeueOrphans re-queues the trials of dead processes of this host at once', async () => {
      const storage = open();
      const study = await createStudy({ storage, name: 's', objectives: OBJ, sampler: countingSampler() });
      const dead = `${hostname()}:${deadPid()}:abc`;
      const alive = `${hostname()}:${process.ppid}`;
      await storage.createTrial('s', { state: 'RUNNING', config: { x: 1 }, workerId: dead });
      await storage.createTrial('s', { state: 'RUNNING', config: { x: 2 }, workerId: alive });
      await storage.createTrial('s', { state: 'RUNNING', config: { x: 3 }, workerId: 'other-host:1' });
      const mine = await study.ask(); // this process: never dead
      const r = await study.requeueOrphans();
      assert.deepEqual(
        r.failed.map((t) => [t.number, t.interrupted, t.requeuedAs]),
        [[0, 'worker-died', 4]],
      );
      assert.deepEqual(
        r.requeued.map((t) => [t.config, t.state]),
        [[{ x: 1 }, 'WAITING']],
      );
      assert.deepEqual(
        (await study.trials(['RUNNING'])).map((t) => t.number),
        [1, 2, mine.number],
      );
      await storage.close();
    });

    test('askBatch with maxTrials: concurrent workers never overshoot; enqueued trials are still claimed', async () => {
      const storage = open();
      const slow: Sampler = {
        name: 'slow',
        // Yields between the count and the insert so the two workers interleave.
        sample: async ({ n, pending }) => {
          await new Promise((r) => setImmediate(r));
          return Array.from({ length: n }, (_, i) => ({ x: pending.length + i }));
        },
      };
      const a = await createStudy({ storage, name: 's', objectives: OBJ, sampler: slow, workerId: 'a' });
      const b = await createStudy({
        storage,
        name: 's',
        objectives: OBJ,
        sampler: slow,
        workerId: 'b',
        loadIfExists: true,
      });
      const got = await Promise.all([a.askBatch(3, { maxTrials: 4 }), b.askBatch(3, { maxTrials: 4 })]);
      assert.equal(got[0].length + got[1].length, 4);
      assert.equal((await a.trials()).length, 4);
      assert.deepEqual(await a.askBatch(2, { maxTrials: 4 }), []);
      // An interrupted trial no longer counts; its re-queued config does, and is claimed though the study is full.
      await a.interrupt(got[0][0]!.number, 'user', { requeue: true });
      const [rerun] = await b.askBatch(2, { maxTrials: 4 });
      assert.equal(rerun?.requeuedFrom, got[0][0]!.number);
      assert.deepEqual(await b.askBatch(1, { maxTrials: 4 }), []);
      await storage.close();
    });
  });
}

test('deadLocalWorkers: only ids of this host whose process is gone', () => {
  const gone = deadPid();
  assert.deepEqual(
    deadLocalWorkers([
      `${hostname()}:${gone}:x`,
      `${hostname()}:${gone}:x`,
      `${hostname()}:${process.pid}:y`,
      `${hostname()}:${process.ppid}`,
      `elsewhere:${gone}`,
      'free-form id',
    ]),
    [`${hostname()}:${gone}:x`],
  );
});
