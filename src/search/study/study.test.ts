import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  DuplicateStudyError,
  InvalidInputError,
  TrialNotRunningError,
  UnknownStudyError,
} from '../../storage/errors.js';
import { memoryStorage } from '../../storage/memory.js';
import { openSqliteStorage } from '../../storage/sqlite.js';
import type { Storage, StorageOptions } from '../../storage/types.js';
import type { Config, ObjectiveSpec } from '../types.js';
import { SamplerOutputError, StudyMismatchError, StudyOptionsError, TellValuesError } from './errors.js';
import { createStudy, loadStudy } from './study.js';
import { countingSampler } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'autopeft-study-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

/** metric (max, trained) and paramPct (min, known from the config). */
const OBJ: ObjectiveSpec[] = [
  { name: 'metric', direction: 'maximize' },
  { name: 'paramPct', direction: 'minimize', known: (c: Config) => Number(c.x) / 10 },
];

const backends: [string, (o?: StorageOptions) => Storage][] = [
  ['memory', (o) => memoryStorage(o)],
  ['sqlite', (o) => openSqliteStorage(join(dir, `t${counter++}.db`), o)],
];

for (const [backend, open] of backends) {
  describe(`Study on ${backend}`, () => {
    test('ask claims enqueued configs first, then samples; numbering is dense', async () => {
      const storage = open();
      const sampler = countingSampler(3);
      const study = await createStudy({ storage, name: 's', objectives: OBJ, sampler, workerId: 'me' });
      const e0 = await study.enqueue({ x: 50, tag: 'hand0' }, { userAttrs: { why: 'baseline' } });
      await study.enqueue({ x: 60, tag: 'hand1' });
      assert.equal(e0.state, 'WAITING');
      const a = await study.ask();
      assert.deepEqual(
        [a.number, a.state, a.config, a.workerId, a.userAttrs],
        [0, 'RUNNING', { x: 50, tag: 'hand0' }, 'me', { why: 'baseline' }],
      );
      assert.equal(sampler.calls.length, 0);
      // Batch of 3: one enqueued left, two sampled together with all pending configs shown.
      const batch = await study.askBatch(3);
      assert.deepEqual(
        batch.map((t) => t.number),
        [1, 2, 3],
      );
      assert.deepEqual(batch[0]!.config, { x: 60, tag: 'hand1' });
      assert.deepEqual(sampler.calls, [
        {
          complete: [],
          pending: [
            { x: 50, tag: 'hand0' },
            { x: 60, tag: 'hand1' },
          ],
          n: 2,
        },
      ]);
      assert.deepEqual(
        batch.slice(1).map((t) => t.config.tag),
        ['s2', 's3'],
      );
      assert.deepEqual(study.runningTrials(), [0, 1, 2, 3]);
      await study.tell(0, [0.8]);
      await study.tell(2, { state: 'FAILED', reason: 'NaN loss' });
      const next = await study.ask();
      assert.equal(next.number, 4);
      // Told trials leave the pending list: #0 is complete, #2 failed, #1 and #3 still run.
      assert.deepEqual(sampler.calls[1]!.complete, [0]);
      assert.deepEqual(
        sampler.calls[1]!.pending.map((c) => c.tag),
        ['hand1', 's3'],
      );
      assert.equal(next.config.tag, 's3');
      await storage.close();
    });

    test('tell fills known objectives, accepts every documented form, rejects the rest', async () => {
      const storage = open();
      const study = await createStudy({ storage, name: 's', objectives: OBJ, sampler: countingSampler() });
      for (let i = 0; i < 5; i++) await study.enqueue({ x: 10 * (i + 1) });
      const ts = await study.askBatch(5);
      assert.deepEqual((await study.tell(ts[0]!.number, [0.9])).values, [0.9, 1]);
      assert.deepEqual((await study.tell(ts[1]!.number, { metric: 0.7 })).values, [0.7, 2]);
      assert.deepEqual((await study.tell(ts[2]!.number, [0.6, 99])).values, [0.6, 99]);
      assert.deepEqual((await study.tell(ts[3]!.number, { state: 'COMPLETE', values: [0.5, 7] })).values, [0.5, 7]);
      await assert.rejects(study.tell(ts[4]!.number, []), TellValuesError);
      await assert.rejects(study.tell(ts[4]!.number, [1, 2, 3]), TellValuesError);
      await assert.rejects(
        study.tell(ts[4]!.number, { acc: 1 }),
        (e: unknown) => e instanceof TellValuesError && /"acc" is not an objective/.test(e.message),
      );
      await assert.rejects(
        study.tell(ts[4]!.number, { paramPct: 1 }),
        (e: unknown) => e instanceof TellValuesError && /"metric"/.test(e.message),
      );
      await assert.rejects(study.tell(ts[4]!.number, [Number.NaN]), InvalidInputError);
      // Still RUNNING after the bad tells, and still kept alive.
      assert.equal((await study.trial(ts[4]!.number)).state, 'RUNNING');
      assert.deepEqual(study.runningTrials(), [ts[4]!.number]);
      const pruned = await study.tell(ts[4]!.number, { state: 'PRUNED', reason: 'low' });
      assert.deepEqual([pruned.state, pruned.reason], ['PRUNED', 'low']);
      await assert.rejects(study.tell(ts[4]!.number, { state: 'PRUNED' }), TrialNotRunningError);
      // A known() that returns garbage is reported, not stored.
      const bad = await createStudy({
        storage,
        name: 'bad',
        objectives: [
          { name: 'm', direction: 'maximize' },
          { name: 'k', direction: 'minimize', known: () => Number.NaN },
        ],
        sampler: countingSampler(),
      });
      const t = await bad.ask();
      await assert.rejects(bad.tell(t.number, [1]), /known objective "k" computed NaN/);
      await storage.close();
    });

    test('bestTrials is the Pareto front of COMPLETE trials under the directions', async () => {
      const storage = open();
      const study = await createStudy({ storage, name: 's', objectives: OBJ, sampler: countingSampler() });
      // (metric up, paramPct down); front by hand: #0 (0.9, 5), #2 (0.8, 1), #4 (0.95, 9), #5 = #0's twin.
      const pts: [number, number][] = [
        [0.9, 5],
        [0.85, 6],
        [0.8, 1],
        [0.7, 1.5],
        [0.95, 9],
        [0.9, 5],
        [0.5, 9],
      ];
      for (const p of pts) {
        const t = await study.ask();
        await study.tell(t.number, p);
      }
      const extra = await study.ask();
      await study.tell(extra.number, { state: 'FAILED', reason: 'would dominate everything if counted' });
      assert.deepEqual(
        (await study.bestTrials()).map((t) => t.number),
        [0, 2, 4, 5],
      );
      const flipped = await createStudy({
        storage,
        name: 'flipped',
        objectives: [
          { name: 'metric', direction: 'minimize' },
          { name: 'paramPct', direction: 'maximize' },
        ],
        sampler: countingSampler(),
      });
      for (const p of pts) await flipped.tell((await flipped.ask()).number, p);
      // Minimise metric, maximise pct: (0.5, 9) has the lowest metric and the highest pct, so it dominates all.
      assert.deepEqual(
        (await flipped.bestTrials()).map((t) => t.number),
        [6],
      );
      await storage.close();
    });

    test('enqueue skipIfExists, user attributes, trials() filters', async () => {
      const storage = open();
      const study = await createStudy({
        storage,
        name: 's',
        objectives: OBJ,
        sampler: countingSampler(),
        userAttrs: { task: 'rte' },
      });
      const a = await study.enqueue({ x: 1, y: 'a' });
      const b = await study.enqueue({ y: 'a', x: 1 }, { skipIfExists: true });
      assert.equal(b.number, a.number);
      const t = await study.ask();
      await study.tell(t.number, { state: 'FAILED', reason: 'x' });
      // A FAILED config may be queued again.
      assert.equal((await study.enqueue({ x: 1, y: 'a' }, { skipIfExists: true })).number, 1);
      await study.setUserAttr('space', { layers: 12 });
      assert.deepEqual(await study.userAttrs(), { task: 'rte', space: { layers: 12 } });
      await study.setTrialUserAttr(0, 'seconds', 3.5);
      await study.setTrialUserAttrs(0, { fidelity: { epochs: 1 } });
      assert.deepEqual((await study.trial(0)).userAttrs, { seconds: 3.5, fidelity: { epochs: 1 } });
      assert.deepEqual(
        (await study.trials(['WAITING'])).map((x) => x.number),
        [1],
      );
      assert.deepEqual(
        (await study.trials()).map((x) => x.number),
        [0, 1],
      );
      await storage.close();
    });

    test('createStudy / loadStudy: loadIfExists, mismatches, unknown studies', async () => {
      const storage = open();
      const s1 = await createStudy({ storage, name: 's', objectives: OBJ, sampler: countingSampler() });
      await s1.tell((await s1.ask()).number, [0.5]);
      await assert.rejects(
        createStudy({ storage, name: 's', objectives: OBJ, sampler: countingSampler() }),
        DuplicateStudyError,
      );
      const s2 = await createStudy({
        storage,
        name: 's',
        objectives: OBJ,
        sampler: countingSampler(),
        loadIfExists: true,
      });
      assert.equal((await s2.ask()).number, 1);
      await assert.rejects(
        createStudy({
          storage,
          name: 's',
          objectives: [OBJ[0]!, { name: 'paramPct', direction: 'maximize' }],
          sampler: countingSampler(),
          loadIfExists: true,
        }),
        (e: unknown) => e instanceof StudyMismatchError && /metric:maximize, paramPct:minimize/.test(e.message),
      );
      // Without objectives, loadStudy uses the stored ones (none known).
      const s3 = await loadStudy({ storage, name: 's', sampler: countingSampler() });
      assert.deepEqual(s3.objectives, [
        { name: 'metric', direction: 'maximize' },
        { name: 'paramPct', direction: 'minimize' },
      ]);
      await assert.rejects(s3.tell(1, [0.5]), TellValuesError);
      await s3.tell(1, [0.5, 3]);
      await assert.rejects(loadStudy({ storage, name: 'nope', sampler: countingSampler() }), UnknownStudyError);
      await storage.close();
    });

    test('warmStartFrom copies COMPLETE trials once, and the sampler sees them', async () => {
      const storage = open();
      const other = memoryStorage();
      const src = await createStudy({ storage: other, name: 'rte', objectives: OBJ, sampler: countingSampler() });
      await src.tell((await src.ask()).number, [0.7]);
      await src.tell((await src.ask()).number, { state: 'FAILED', reason: 'oom' });
      const t2 = await src.ask();
      await src.setTrialUserAttr(t2.number, 'seconds', 9);
      await src.tell(t2.number, [0.8, 4]);
      const sampler = countingSampler();
      const dst = await createStudy({ storage, name: 'mrpc', objectives: OBJ, sampler });
      assert.equal(await dst.warmStartFrom(src), 2);
      assert.equal(await dst.warmStartFrom({ storage: other, name: 'rte' }), 0);
      const copied = await dst.trials();
      assert.deepEqual(
        copied.map((t) => [t.number, t.state, t.values, t.userAttrs]),
        [
          [0, 'COMPLETE', (await src.trial(0)).values, { warmStartFrom: { study: 'rte', trial: 0 } }],
          [1, 'COMPLETE', [0.8, 4], { seconds: 9, warmStartFrom: { study: 'rte', trial: 2 } }],
        ],
      );
      await src.tell((await src.ask()).number, [0.9]);
      assert.equal(await dst.warmStartFrom(src), 1);
      await dst.ask();
      assert.deepEqual(sampler.calls[0]!.complete, [0, 1, 2]);
      const wrong = await createStudy({
        storage: other,
        name: 'one',
        objectives: [OBJ[0]!],
        sampler: countingSampler(),
      });
      await assert.rejects(dst.warmStartFrom(wrong), StudyMismatchError);
      await assert.rejects(dst.warmStartFrom(dst), StudyMismatchError);
      await storage.close();
    });

    test('stale RUNNING trials are failed and re-queued by the next ask', async () => {
      const clock = { t: 1_000_000 };
      const storage = open({ now: () => clock.t });
      const dead = await createStudy({
        storage,
        name: 's',
        objectives: OBJ,
        sampler: countingSampler(1, 'dead'),
        workerId: 'dead',
      });
      const lost = await dead.ask();
      const alive = await createStudy({
        storage,
        name: 's',
        objectives: OBJ,
        sampler: countingSampler(2, 'alive'),
        workerId: 'alive',
        loadIfExists: true,
        heartbeat: { intervalMs: 60_000, staleAfterMs: 100_000 },
      });
      clock.t += 50_000;
      const mine = await alive.ask(); // nothing is stale yet: sampled
      assert.deepEqual([mine.number, mine.config.tag], [1, 'alive1']);
      clock.t += 60_000;
      await alive.heartbeat(mine.number); // alive beats, dead does not
      const again = await alive.ask();
      assert.deepEqual(
        [again.number, again.config, again.userAttrs, again.requeuedFrom, again.workerId],
        [2, lost.config, {}, 0, 'alive'],
      );
      const failed = await alive.trial(0);
      assert.deepEqual([failed.state, failed.interrupted, failed.requeuedAs], ['FAILED', 'stale', 2]);
      assert.match(failed.reason!, /^stale: no heartbeat for 110000 ms from worker dead$/);
      assert.equal((await alive.trial(1)).state, 'RUNNING');
      // The dead worker comes back: its tell is refused, and it stops beating that trial.
      await assert.rejects(dead.tell(lost.number, [0.9]), TrialNotRunningError);
      assert.deepEqual(dead.runningTrials(), []);
      await alive.close();
      await storage.close();
    });

    test('rejects a sampler that returns the wrong number of configs', async () => {
      const storage = open();
      const study = await createStudy({
        storage,
        name: 's',
        objectives: OBJ,
        sampler: { name: 'short', sample: () => [{ x: 1 }] },
      });
      await assert.rejects(
        study.askBatch(2),
        (e: unknown) => e instanceof SamplerOutputError && /"short" returned 1 configs/.test(e.message),
      );
      assert.deepEqual(await study.trials(), []);
      await storage.close();
    });
  });
}

test('the heartbeat timer keeps asked trials alive until told', async () => {
  const storage = memoryStorage();
  const study = await createStudy({
    storage,
    name: 's',
    objectives: OBJ,
    sampler: countingSampler(),
    heartbeat: { intervalMs: 5 },
  });
  const t = await study.ask();
  // Wait (event-driven, not timed) for a beat later than the start.
  for (let i = 0; i < 2000; i++) {
    const now = await study.trial(t.number);
    if (now.heartbeatAt! > now.startedAt!) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const beaten = await study.trial(t.number);
  assert.ok(beaten.heartbeatAt! > beaten.startedAt!, 'no heartbeat was recorded');
  await study.tell(t.number, [1]);
  assert.deepEqual(study.runningTrials(), []);
  await study.close();
  assert.throws(
    () =>
      new (study.constructor as typeof import('./study.js').Study)(
        {
          name: 's',
          directions: ['maximize', 'minimize'],
          objectiveNames: ['metric', 'paramPct'],
          userAttrs: {},
          systemAttrs: {},
          createdAt: 0,
        },
        {
          storage,
          name: 's',
          sampler: countingSampler(),
          objectives: OBJ,
          heartbeat: { intervalMs: 10, staleAfterMs: 5 },
        },
      ),
    (e: unknown) => e instanceof StudyOptionsError && /must exceed intervalMs/.test(e.message),
  );
  await assert.rejects(study.askBatch(0), StudyOptionsError);
});

test('resuming an SQLite study continues numbering and history', async () => {
  const file = join(dir, 'resume.db');
  const run = async (asks: number) => {
    const storage = openSqliteStorage(file);
    const sampler = countingSampler();
    const study = await createStudy({ storage, name: 'r', objectives: OBJ, sampler, loadIfExists: true });
    const nums: number[] = [];
    for (let i = 0; i < asks; i++) {
      const t = await study.ask();
      nums.push(t.number);
      if (i < asks - 1) await study.tell(t.number, [i / 10]);
    }
    await study.close();
    await storage.close();
    return { nums, sampler };
  };
  const first = await run(3); // last one left RUNNING: "killed"
  assert.deepEqual(first.nums, [0, 1, 2]);
  const second = await run(2);
  assert.deepEqual(second.nums, [3, 4]);
  assert.deepEqual(second.sampler.calls[0]!.complete, [0, 1]);
  assert.equal(second.sampler.calls[0]!.pending.length, 1);
  const storage = openSqliteStorage(file);
  assert.deepEqual(
    (await storage.listTrials('r')).map((t) => t.state),
    ['COMPLETE', 'COMPLETE', 'RUNNING', 'COMPLETE', 'RUNNING'],
  );
  await storage.close();
});
