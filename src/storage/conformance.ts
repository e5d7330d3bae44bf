/**
 * The storage conformance suite: every backend must pass it. Call it from a backend's test file:
 *
 *   runStorageConformance('sqlite', (opts) => openSqliteStorage(tmpFile(), opts));
 *
 * It registers node:test tests; the factory gets a fake clock so staleness is tested without sleeping.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Config } from '../trials/index.js';
import {
  DuplicateStudyError,
  InvalidInputError,
  StorageClosedError,
  TrialLimitError,
  TrialNotRunningError,
  UnknownStudyError,
  UnknownTrialError,
} from './errors.js';
import type { Storage, StorageOptions } from './types.js';

export type StorageFactory = (options: StorageOptions) => Storage | Promise<Storage>;

/** A settable clock for the factory. */
interface FakeClock {
  t: number;
  now: () => number;
}

function fakeClock(start = 1_000_000): FakeClock {
  const c: FakeClock = { t: start, now: () => c.t };
  return c;
}

async function withStorage(
  factory: StorageFactory,
  body: (s: Storage, clock: FakeClock) => Promise<void>,
): Promise<void> {
  const clock = fakeClock();
  const s = await factory({ now: clock.now });
  try {
    await body(s, clock);
  } finally {
    await s.close();
  }
}

const TWO = { directions: ['maximize', 'minimize'] as const, objectiveNames: ['metric', 'paramPct'] };

export function runStorageConformance(backend: string, factory: StorageFactory): void {
  const it = (name: string, body: (s: Storage, clock: FakeClock) => Promise<void>) =>
    test(name, () => withStorage(factory, body));

  describe(`storage conformance: ${backend}`, () => {
    it('creates, gets, finds, lists and deletes studies', async (s, clock) => {
      const a = await s.createStudy({ name: 'a', ...TWO, userAttrs: { task: 'sst2', nested: { k: [1, 'x', null] } } });
      assert.deepEqual(a, {
        name: 'a',
        directions: ['maximize', 'minimize'],
        objectiveNames: ['metric', 'paramPct'],
        userAttrs: { task: 'sst2', nested: { k: [1, 'x', null] } },
        systemAttrs: {},
        createdAt: clock.t,
      });
      clock.t += 5;
      const b = await s.createStudy({ name: 'b', directions: ['minimize'] });
      assert.deepEqual(b.objectiveNames, ['objective_0']);
      assert.deepEqual(await s.getStudy('a'), a);
      assert.equal(await s.findStudy('zzz'), undefined);
      assert.deepEqual(
        (await s.listStudies()).map((x) => x.name),
        ['a', 'b'],
      );
      await assert.rejects(s.createStudy({ name: 'a', directions: ['minimize'] }), DuplicateStudyError);
      await assert.rejects(
        s.getStudy('zzz'),
        (e: unknown) => e instanceof UnknownStudyError && /"zzz"/.test(e.message) && /a, b/.test(e.message),
      );
      await s.createTrial('a', { state: 'WAITING', config: { x: 1 } });
      await s.deleteStudy('a');
      assert.equal(await s.findStudy('a'), undefined);
      await assert.rejects(s.listTrials('a'), UnknownStudyError);
      await assert.rejects(s.deleteStudy('a'), UnknownStudyError);
      // A re-created study starts numbering from 0 again.
      await s.createStudy({ name: 'a', directions: ['minimize'] });
      assert.equal((await s.createTrial('a', { state: 'WAITING', config: {} })).number, 0);
    });

    it('rejects malformed study specs', async (s) => {
      await assert.rejects(s.createStudy({ name: '', directions: ['minimize'] }), InvalidInputError);
      await assert.rejects(s.createStudy({ name: 'x', directions: [] }), InvalidInputError);
      await assert.rejects(s.createStudy({ name: 'x', directions: ['up' as 'maximize'] }), InvalidInputError);
      await assert.rejects(
        s.createStudy({ name: 'x', directions: ['maximize', 'minimize'], objectiveNames: ['m'] }),
        InvalidInputError,
      );
      await assert.rejects(
        s.createStudy({ name: 'x', directions: ['maximize', 'minimize'], objectiveNames: ['m', 'm'] }),
        InvalidInputError,
      );
      await assert.rejects(
        s.createStudy({ name: 'x', directions: ['maximize'], userAttrs: { bad: Number.NaN } }),
        InvalidInputError,
      );
      assert.deepEqual(await s.listStudies(), []);
    });

    it('merges study user attributes', async (s) => {
      await s.createStudy({ name: 'a', ...TWO, userAttrs: { keep: 1, over: 'old' } });
      await s.setStudyUserAttrs('a', { over: 'new', added: [true, { deep: 2.5 }] });
      assert.deepEqual((await s.getStudy('a')).userAttrs, { keep: 1, over: 'new', added: [true, { deep: 2.5 }] });
      await assert.rejects(s.setStudyUserAttrs('a', { bad: Infinity }), InvalidInputError);
      await assert.rejects(s.setStudyUserAttrs('nope', { x: 1 }), UnknownStudyError);
    });

    it('numbers trials densely per study and records creation states', async (s, clock) => {
      await s.createStudy({ name: 'a', ...TWO });
      await s.createStudy({ name: 'b', ...TWO });
      const w = await s.createTrial('a', {
        state: 'WAITING',
        config: { sa: 3, on: true, act: 'relu' },
        userAttrs: { by: 'hand' },
      });
      assert.deepEqual(w, {
        number: 0,
        state: 'WAITING',
        config: { sa: 3, on: true, act: 'relu' },
        userAttrs: { by: 'hand' },
        createdAt: clock.t,
      });
      clock.t += 10;
      const r = await s.createTrial('a', { state: 'RUNNING', config: { sa: 6 }, workerId: 'w1' });
      assert.deepEqual(r, {
        number: 1,
        state: 'RUNNING',
        config: { sa: 6 },
        userAttrs: {},
        createdAt: clock.t,
        startedAt: clock.t,
        heartbeatAt: clock.t,
        workerId: 'w1',
      });
      assert.equal((await s.createTrial('b', { state: 'WAITING', config: {} })).number, 0);
      const c = await s.createTrial('a', {
        state: 'COMPLETE',
        config: { sa: 12 },
        values: [0.5, 1.25],
        startedAt: 3,
        finishedAt: 4,
      });
      assert.deepEqual(c, {
        number: 2,
        state: 'COMPLETE',
        config: { sa: 12 },
        values: [0.5, 1.25],
        userAttrs: {},
        createdAt: clock.t,
        startedAt: 3,
        finishedAt: 4,
      });
      const f = await s.createTrial('a', { state: 'FAILED', config: { sa: 24 }, reason: 'oom' });
      assert.deepEqual([f.number, f.state, f.reason, f.finishedAt], [3, 'FAILED', 'oom', clock.t]);
      const p = await s.createTrial('a', { state: 'PRUNED', config: { sa: 48 } });
      assert.deepEqual([p.number, p.state, p.reason], [4, 'PRUNED', undefined]);
      assert.deepEqual(
        (await s.listTrials('a')).map((t) => t.number),
        [0, 1, 2, 3, 4],
      );
      assert.deepEqual(await s.getTrial('a', 1), r);
    });

    it('rejects malformed trials', async (s) => {
      await s.createStudy({ name: 'a', ...TWO });
      await assert.rejects(s.createTrial('nope', { state: 'WAITING', config: {} }), UnknownStudyError);
      await assert.rejects(s.createTrial('a', { state: 'WAITING', config: { x: Number.NaN } }), InvalidInputError);
      await assert.rejects(
        s.createTrial('a', { state: 'WAITING', config: { x: [1] as unknown as number } }),
        InvalidInputError,
      );
      await assert.rejects(s.createTrial('a', { state: 'RUNNING', config: {}, workerId: '' }), InvalidInputError);
      await assert.rejects(
        s.createTrial('a', { state: 'COMPLETE', config: {}, values: [1] }),
        (e: unknown) => e instanceof InvalidInputError && /2 objectives \(metric, paramPct\)/.test(e.message),
      );
      await assert.rejects(
        s.createTrial('a', { state: 'COMPLETE', config: {}, values: [1, Infinity] }),
        InvalidInputError,
      );
      await assert.rejects(
        s.createTrial('a', { state: 'WAITING', config: {}, userAttrs: { f: (() => 1) as unknown as number } }),
        InvalidInputError,
      );
      assert.deepEqual(await s.listTrials('a'), []);
      await assert.rejects(s.getTrial('a', 0), UnknownTrialError);
      await assert.rejects(s.getTrial('a', -1), InvalidInputError);
      await assert.rejects(s.getTrial('a', 0.5), InvalidInputError);
    });

    it('claims the oldest WAITING trial, once', async (s, clock) => {
      await s.createStudy({ name: 'a', ...TWO });
      assert.equal(await s.claimWaiting('a', 'w1'), undefined);
      await s.createTrial('a', { state: 'WAITING', config: { i: 0 } });
      await s.createTrial('a', { state: 'RUNNING', config: { i: 1 }, workerId: 'w0' });
      await s.createTrial('a', { state: 'WAITING', config: { i: 2 } });
      clock.t += 7;
      const c0 = await s.claimWaiting('a', 'w1');
      assert.deepEqual(c0, {
        number: 0,
        state: 'RUNNING',
        config: { i: 0 },
        userAttrs: {},
        createdAt: clock.t - 7,
        startedAt: clock.t,
        heartbeatAt: clock.t,
        workerId: 'w1',
      });
      assert.deepEqual(await s.getTrial('a', 0), c0);
      const c2 = await s.claimWaiting('a', 'w2');
      assert.deepEqual([c2?.number, c2?.workerId], [2, 'w2']);
      assert.equal(await s.claimWaiting('a', 'w3'), undefined);
      await assert.rejects(s.claimWaiting('nope', 'w'), UnknownStudyError);
      await s.createTrial('a', { state: 'WAITING', config: { i: 3 } });
      await assert.rejects(s.claimWaiting('a', ''), InvalidInputError);
      assert.equal((await s.getTrial('a', 3)).state, 'WAITING');
    });

    it('never hands one WAITING trial to two concurrent claims', async (s) => {
      await s.createStudy({ name: 'a', ...TWO });
      for (let i = 0; i < 20; i++) await s.createTrial('a', { state: 'WAITING', config: { i } });
      const claims = await Promise.all(Array.from({ length: 30 }, (_, k) => s.claimWaiting('a', `w${k}`)));
      const got = claims.filter((c) => c !== undefined).map((c) => c!.number);
      assert.equal(got.length, 20);
      assert.equal(new Set(got).size, 20);
      assert.deepEqual(await s.listTrials('a', { states: ['WAITING'] }), []);
    });

    it('tells RUNNING trials COMPLETE, FAILED or PRUNED, and only RUNNING ones', async (s, clock) => {
      await s.createStudy({ name: 'a', ...TWO });
      for (let i = 0; i < 4; i++) await s.createTrial('a', { state: 'RUNNING', config: { i }, workerId: 'w' });
      await s.createTrial('a', { state: 'WAITING', config: { i: 4 } });
      clock.t += 100;
      // Exact round trip of awkward doubles.
      const vals = [0.1 + 0.2, -1e-300];
      const done = await s.tellTrial('a', 0, { state: 'COMPLETE', values: vals });
      assert.deepEqual([done.state, done.values, done.finishedAt, done.reason], ['COMPLETE', vals, clock.t, undefined]);
      assert.ok(Object.is(done.values![0], 0.1 + 0.2), 'values must round-trip bit-exactly');
      const failed = await s.tellTrial('a', 1, { state: 'FAILED', reason: 'loss is NaN at step 3' });
      assert.deepEqual([failed.state, failed.reason, failed.values], ['FAILED', 'loss is NaN at step 3', undefined]);
      const pruned = await s.tellTrial('a', 2, { state: 'PRUNED' });
      assert.deepEqual([pruned.state, pruned.reason], ['PRUNED', undefined]);
      const pruned2 = await s.tellTrial('a', 3, { state: 'PRUNED', reason: 'below median' });
      assert.equal(pruned2.reason, 'below median');
      assert.deepEqual(await s.getTrial('a', 0), done);
      assert.deepEqual(await s.getTrial('a', 1), failed);
      // Already finished, or never started.
      await assert.rejects(
        s.tellTrial('a', 0, { state: 'COMPLETE', values: [1, 2] }),
        (e: unknown) => e instanceof TrialNotRunningError && e.state === 'COMPLETE',
      );
      await assert.rejects(
        s.tellTrial('a', 4, { state: 'FAILED', reason: 'x' }),
        (e: unknown) => e instanceof TrialNotRunningError && e.state === 'WAITING',
      );
      await assert.rejects(s.tellTrial('a', 9, { state: 'PRUNED' }), UnknownTrialError);
      // Bad outcomes leave the trial RUNNING.
      await s.createTrial('a', { state: 'RUNNING', config: {}, workerId: 'w' });
      await assert.rejects(s.tellTrial('a', 5, { state: 'COMPLETE', values: [1] }), InvalidInputError);
      await assert.rejects(s.tellTrial('a', 5, { state: 'COMPLETE', values: [1, Number.NaN] }), InvalidInputError);
      await assert.rejects(
        s.tellTrial('a', 5, { state: 'FAILED' } as unknown as { state: 'FAILED'; reason: string }),
        InvalidInputError,
      );
      await assert.rejects(
        s.tellTrial('a', 5, { state: 'RUNNING' } as unknown as { state: 'PRUNED' }),
        InvalidInputError,
      );
      assert.equal((await s.getTrial('a', 5)).state, 'RUNNING');
    });

    it('merges trial user attributes in any state', async (s) => {
      await s.createStudy({ name: 'a', ...TWO });
      await s.createTrial('a', { state: 'RUNNING', config: {}, workerId: 'w', userAttrs: { fidelity: { epochs: 1 } } });
      await s.setTrialUserAttrs('a', 0, { seconds: 12.5, curve: [0.5, 0.6] });
      await s.tellTrial('a', 0, { state: 'COMPLETE', values: [0.6, 1] });
      await s.setTrialUserAttrs('a', 0, { seconds: 13, note: null });
      assert.deepEqual((await s.getTrial('a', 0)).userAttrs, {
        fidelity: { epochs: 1 },
        seconds: 13,
        curve: [0.5, 0.6],
        note: null,
      });
      await assert.rejects(s.setTrialUserAttrs('a', 0, { x: -Infinity }), InvalidInputError);
      await assert.rejects(s.setTrialUserAttrs('a', 0, { x: new Date() as unknown as string }), InvalidInputError);
      await assert.rejects(s.setTrialUserAttrs('a', 3, { x: 1 }), UnknownTrialError);
    });

    it('records heartbeats of RUNNING trials only', async (s, clock) => {
      await s.createStudy({ name: 'a', ...TWO });
      await s.createTrial('a', { state: 'RUNNING', config: {}, workerId: 'w' });
      await s.createTrial('a', { state: 'WAITING', config: {} });
      clock.t += 42;
      await s.heartbeat('a', 0);
      assert.equal((await s.getTrial('a', 0)).heartbeatAt, clock.t);
      await assert.rejects(
        s.heartbeat('a', 1),
        (e: unknown) => e instanceof TrialNotRunningError && e.state === 'WAITING',
      );
      await assert.rejects(s.heartbeat('a', 2), UnknownTrialError);
      await s.tellTrial('a', 0, { state: 'PRUNED' });
      await assert.rejects(s.heartbeat('a', 0), TrialNotRunningError);
    });

    it('keeps intermediate values of RUNNING trials, sorted by step, through the end of the trial', async (s) => {
      await s.createStudy({ name: 'a', ...TWO });
      await s.createTrial('a', { state: 'RUNNING', config: {}, workerId: 'w' });
      await s.createTrial('a', { state: 'WAITING', config: {} });
      assert.equal((await s.getTrial('a', 0)).intermediateValues, undefined);
      await s.reportIntermediate('a', 0, 1000, 0.7);
      await s.reportIntermediate('a', 0, 500, 0.6);
      await s.reportIntermediate('a', 0, 1000, 0.72); // a step reported again replaces the earlier value
      const want = [
        { step: 500, value: 0.6 },
        { step: 1000, value: 0.72 },
      ];
      assert.deepEqual((await s.getTrial('a', 0)).intermediateValues, want);
      assert.deepEqual((await s.listTrials('a'))[0]!.intermediateValues, want);
      assert.equal((await s.getTrial('a', 1)).intermediateValues, undefined);
      await assert.rejects(
        s.reportIntermediate('a', 1, 500, 0.5),
        (e: unknown) => e instanceof TrialNotRunningError && e.state === 'WAITING',
      );
      await assert.rejects(s.reportIntermediate('a', 0, 2000, Number.NaN), InvalidInputError);
      await assert.rejects(s.reportIntermediate('a', 0, -1, 0.5), InvalidInputError);
      await assert.rejects(s.reportIntermediate('a', 7, 500, 0.5), UnknownTrialError);
      await s.tellTrial('a', 0, { state: 'PRUNED', reason: 'pruned at step 1000' });
      const pruned = await s.getTrial('a', 0);
      assert.equal(pruned.state, 'PRUNED');
      assert.deepEqual(pruned.intermediateValues, want);
      assert.ok(Object.isFrozen(pruned.intermediateValues));
      await assert.rejects(s.reportIntermediate('a', 0, 2000, 0.8), TrialNotRunningError);
    });

    it('lists trials by state, sorted by number', async (s) => {
      await s.createStudy({ name: 'a', ...TWO });
      const states = ['WAITING', 'RUNNING', 'COMPLETE', 'WAITING', 'FAILED', 'RUNNING', 'PRUNED'] as const;
      for (const [i, st] of states.entries()) {
        if (st === 'WAITING') await s.createTrial('a', { state: st, config: { i } });
        else if (st === 'RUNNING') await s.createTrial('a', { state: st, config: { i }, workerId: 'w' });
        else if (st === 'COMPLETE') await s.createTrial('a', { state: st, config: { i }, values: [i, i] });
        else await s.createTrial('a', { state: st, config: { i } });
      }
      const nums = async (f?: readonly (typeof states)[number][]) =>
        (await s.listTrials('a', f ? { states: f } : {})).map((t) => t.number);
      assert.deepEqual(await nums(), [0, 1, 2, 3, 4, 5, 6]);
      assert.deepEqual(await nums(['WAITING']), [0, 3]);
      assert.deepEqual(await nums(['RUNNING', 'WAITING']), [0, 1, 3, 5]);
      assert.deepEqual(await nums(['COMPLETE', 'FAILED', 'PRUNED']), [2, 4, 6]);
      assert.deepEqual(await nums([]), []);
    });

    it('fails stale RUNNING trials and optionally re-queues their configs', async (s, clock) => {
      await s.createStudy({ name: 'a', ...TWO });
      const t0 = clock.t;
      await s.createTrial('a', { state: 'RUNNING', config: { i: 0 }, workerId: 'dead', userAttrs: { partial: 1 } }); // beats at t0
      await s.createTrial('a', { state: 'RUNNING', config: { i: 1 }, workerId: 'alive' });
      await s.createTrial('a', { state: 'WAITING', config: { i: 2 } });
      await s.createTrial('a', { state: 'RUNNING', config: { i: 3 }, workerId: 'dead' });
      clock.t = t0 + 150;
      await s.heartbeat('a', 1);
      clock.t = t0 + 200;
      // Nothing is older than 200 ms: the boundary is exclusive.
      assert.deepEqual(await s.failStale('a', { olderThanMs: 200 }), { failed: [], requeued: [] });
      const r = await s.failStale('a', { olderThanMs: 100, requeue: true });
      assert.deepEqual(
        r.failed.map((t) => [t.number, t.state, t.finishedAt]),
        [
          [0, 'FAILED', clock.t],
          [3, 'FAILED', clock.t],
        ],
      );
      assert.match(r.failed[0]!.reason ?? '', /^stale: no heartbeat for 200 ms from worker dead$/);
      assert.deepEqual(
        r.failed.map((t) => [t.interrupted, t.requeuedAs]),
        [
          ['stale', 4],
          ['stale', 5],
        ],
      );
      assert.deepEqual(r.requeued, [
        { number: 4, state: 'WAITING', config: { i: 0 }, userAttrs: {}, createdAt: clock.t, requeuedFrom: 0 },
        { number: 5, state: 'WAITING', config: { i: 3 }, userAttrs: {}, createdAt: clock.t, requeuedFrom: 3 },
      ]);
      assert.equal((await s.getTrial('a', 1)).state, 'RUNNING');
      assert.deepEqual(await s.getTrial('a', 0), r.failed[0]);
      assert.deepEqual((await s.getTrial('a', 0)).userAttrs, { partial: 1 });
      // The worker that went silent cannot tell its trial any more.
      await assert.rejects(
        s.tellTrial('a', 0, { state: 'COMPLETE', values: [1, 1] }),
        (e: unknown) => e instanceof TrialNotRunningError && /stale/.test(e.message),
      );
      // Re-queued configs are claimed like any WAITING trial, oldest first.
      assert.equal((await s.claimWaiting('a', 'w'))?.number, 2);
      assert.equal((await s.claimWaiting('a', 'w'))?.number, 4);
      clock.t += 1000;
      const r2 = await s.failStale('a', { olderThanMs: 100 });
      assert.deepEqual(
        r2.failed.map((t) => t.number),
        [1, 2, 4],
      );
      assert.deepEqual(r2.requeued, []);
      assert.deepEqual(
        r2.failed.map((t) => [t.interrupted, t.requeuedAs]),
        [
          ['stale', undefined],
          ['stale', undefined],
          ['stale', undefined],
        ],
      );
      assert.deepEqual(
        (await s.listTrials('a', { states: ['WAITING'] })).map((t) => t.number),
        [5],
      );
      await assert.rejects(s.failStale('a', { olderThanMs: -1 }), InvalidInputError);
    });

    it('fails the RUNNING trials of dead workers at once, fresh heartbeat or not', async (s, clock) => {
      await s.createStudy({ name: 'a', ...TWO });
      await s.createTrial('a', { state: 'RUNNING', config: { i: 0 }, workerId: 'host:1' });
      await s.createTrial('a', { state: 'RUNNING', config: { i: 1 }, workerId: 'host:2' });
      await s.createTrial('a', { state: 'RUNNING', config: { i: 2 }, workerId: 'host:3' });
      clock.t += 500;
      await s.heartbeat('a', 0);
      await s.heartbeat('a', 1);
      const r = await s.failStale('a', { olderThanMs: 400, requeue: true, deadWorkers: ['host:1', 'gone'] });
      assert.deepEqual(
        r.failed.map((t) => [t.number, t.interrupted, t.reason, t.requeuedAs]),
        [
          [0, 'worker-died', 'interrupted: worker host:1 died', 3],
          [2, 'stale', 'stale: no heartbeat for 500 ms from worker host:3', 4],
        ],
      );
      assert.deepEqual(
        r.requeued.map((t) => [t.number, t.state, t.config, t.requeuedFrom]),
        [
          [3, 'WAITING', { i: 0 }, 0],
          [4, 'WAITING', { i: 2 }, 2],
        ],
      );
      assert.equal((await s.getTrial('a', 1)).state, 'RUNNING');
    });

    it('interrupts RUNNING trials with a typed kind, re-queueing their configs on request', async (s, clock) => {
      await s.createStudy({ name: 'a', ...TWO });
      await s.createTrial('a', { state: 'RUNNING', config: { i: 0 }, workerId: 'w', userAttrs: { keep: 1 } });
      await s.createTrial('a', { state: 'RUNNING', config: { i: 1 }, workerId: 'w' });
      await s.createTrial('a', { state: 'WAITING', config: { i: 2 } });
      clock.t += 3;
      const r = await s.interruptTrial('a', 0, { kind: 'user', requeue: true });
      assert.deepEqual(r.failed, {
        number: 0,
        state: 'FAILED',
        config: { i: 0 },
        reason: 'interrupted by the user',
        userAttrs: { keep: 1 },
        createdAt: clock.t - 3,
        startedAt: clock.t - 3,
        heartbeatAt: clock.t - 3,
        finishedAt: clock.t,
        workerId: 'w',
        interrupted: 'user',
        requeuedAs: 3,
      });
      assert.deepEqual(r.requeued, {
        number: 3,
        state: 'WAITING',
        config: { i: 0 },
        userAttrs: {},
        createdAt: clock.t,
        requeuedFrom: 0,
      });
      assert.deepEqual(await s.getTrial('a', 0), r.failed);
      assert.deepEqual(await s.getTrial('a', 3), r.requeued);
      const n = await s.interruptTrial('a', 1, { kind: 'never-started', reason: 'reserved, not run' });
      assert.deepEqual(
        [n.failed.state, n.failed.interrupted, n.failed.reason, n.failed.requeuedAs, n.requeued],
        ['FAILED', 'never-started', 'reserved, not run', undefined, undefined],
      );
      // The re-run keeps the typed link after it is claimed and told.
      const claimed = await s.claimWaiting('a', 'w2');
      assert.equal(claimed?.number, 2);
      const rerun = await s.claimWaiting('a', 'w2');
      await s.tellTrial('a', 3, { state: 'COMPLETE', values: [1, 2] });
      assert.deepEqual([rerun?.requeuedFrom, (await s.getTrial('a', 3)).requeuedFrom], [0, 0]);
      await assert.rejects(
        s.interruptTrial('a', 0, { kind: 'user' }),
        (e: unknown) => e instanceof TrialNotRunningError && e.state === 'FAILED',
      );
      await assert.rejects(s.interruptTrial('a', 9, { kind: 'user' }), UnknownTrialError);
      await assert.rejects(s.interruptTrial('a', 2, { kind: 'oops' as 'user' }), InvalidInputError);
      assert.equal((await s.getTrial('a', 2)).state, 'RUNNING');
    });

    it('creates trials up to maxTrials counting all but interrupted ones, atomically', async (s) => {
      await s.createStudy({ name: 'a', ...TWO });
      await s.createTrial('a', { state: 'COMPLETE', config: { i: 0 }, values: [1, 1] });
      await s.createTrial('a', { state: 'FAILED', config: { i: 1 }, reason: 'oom' });
      await s.createTrial('a', { state: 'RUNNING', config: { i: 2 }, workerId: 'w' });
      await s.interruptTrial('a', 2, { kind: 'user', requeue: true }); // #2 no longer counts, its re-run #3 does
      assert.equal((await s.createTrial('a', { state: 'WAITING', config: { i: 4 } }, { maxTrials: 4 })).number, 4);
      await assert.rejects(
        s.createTrial('a', { state: 'RUNNING', config: { i: 5 }, workerId: 'w' }, { maxTrials: 4 }),
        (e: unknown) => e instanceof TrialLimitError && /already holds 4 trials/.test(e.message),
      );
      // Concurrent creators never overshoot the limit together.
      const tries = await Promise.allSettled(
        Array.from({ length: 8 }, (_, k) =>
          s.createTrial('a', { state: 'RUNNING', config: { k }, workerId: `w${k}` }, { maxTrials: 7 }),
        ),
      );
      assert.equal(tries.filter((t) => t.status === 'fulfilled').length, 3);
      assert.ok(tries.every((t) => t.status === 'fulfilled' || t.reason instanceof TrialLimitError));
      assert.equal((await s.listTrials('a')).length, 8);
      await assert.rejects(s.createTrial('a', { state: 'WAITING', config: {} }, { maxTrials: -1 }), InvalidInputError);
    });

    it('keeps system attributes apart from user attributes', async (s) => {
      const a = await s.createStudy({
        name: 'a',
        ...TWO,
        userAttrs: { note: 'mine' },
        systemAttrs: { setup: { L: 2 } },
      });
      assert.deepEqual([a.userAttrs, a.systemAttrs], [{ note: 'mine' }, { setup: { L: 2 } }]);
      await s.setStudySystemAttrs('a', { sampler: { name: 'bo', state: null }, note: 'system' });
      await s.setStudyUserAttrs('a', { setup: 'user value' });
      const b = await s.getStudy('a');
      assert.deepEqual(b.userAttrs, { note: 'mine', setup: 'user value' });
      assert.deepEqual(b.systemAttrs, { setup: { L: 2 }, sampler: { name: 'bo', state: null }, note: 'system' });
      await assert.rejects(s.setStudySystemAttrs('a', { bad: Number.NaN }), InvalidInputError);
      await assert.rejects(s.setStudySystemAttrs('nope', { x: 1 }), UnknownStudyError);
      await assert.rejects(
        s.createStudy({ name: 'x', directions: ['maximize'], systemAttrs: { f: (() => 1) as unknown as number } }),
        InvalidInputError,
      );
    });

    it('marks every change of a study: progress on trials and attributes, version on any write', async (s, clock) => {
      assert.deepEqual(await s.studyMarkers(), []);
      await s.createStudy({ name: 'a', ...TWO });
      await s.createStudy({ name: 'b', directions: ['minimize'] });
      const marks = async () => new Map((await s.studyMarkers()).map((m) => [m.name, m]));
      let last = await marks();
      assert.deepEqual([...last.keys()], ['a', 'b']);
      const b0 = last.get('b')!.progress;
      /** Runs a write; checks whether study a's progress moved as `progress` says (its version always moves). */
      const step = async (what: string, progress: boolean, write: () => Promise<unknown>) => {
        await write();
        const now = await marks();
        const [was, is] = [last.get('a')!, now.get('a')!];
        assert.equal(is.progress !== was.progress, progress, `${what}: progress ${progress ? 'kept' : 'moved'}`);
        assert.notEqual(is.version, was.version, `${what}: version kept`);
        assert.equal(now.get('b')!.progress, b0, `${what}: study b's progress moved`);
        last = now;
      };
      await step('a trial created', true, () => s.createTrial('a', { state: 'WAITING', config: { i: 0 } }));
      assert.deepEqual(await marks(), last, 'nothing written: the markers stay');
      await step('claimed', true, () => s.claimWaiting('a', 'w'));
      await step('heartbeat', false, () => s.heartbeat('a', 0));
      await step('intermediate value', false, () => s.reportIntermediate('a', 0, 100, 0.5));
      await step('trial attributes', false, () => s.setTrialUserAttrs('a', 0, { note: 'x' }));
      await step('trial attributes of the same length', false, () => s.setTrialUserAttrs('a', 0, { note: 'y' }));
      await step('told', true, () => s.tellTrial('a', 0, { state: 'COMPLETE', values: [0.5, 1] }));
      await step('study user attributes', true, () => s.setStudyUserAttrs('a', { k: 1 }));
      await step('study system attributes', true, () => s.setStudySystemAttrs('a', { retrain: [1] }));
      await step('system attributes of the same length', true, () => s.setStudySystemAttrs('a', { retrain: [2] }));
      await s.createTrial('a', { state: 'RUNNING', config: { i: 1 }, workerId: 'w' });
      await s.createTrial('a', { state: 'RUNNING', config: { i: 2 }, workerId: 'w' });
      last = await marks();
      await step('interrupted and re-queued', true, () => s.interruptTrial('a', 1, { kind: 'user', requeue: true }));
      clock.t += 10_000;
      await step('failed as stale', true, () => s.failStale('a', { olderThanMs: 1000 }));
      // Deleted and created again (the same name, no trials): new markers.
      await s.deleteStudy('a');
      assert.deepEqual([...(await marks()).keys()], ['b']);
      clock.t += 1;
      await s.createStudy({ name: 'a', ...TWO });
      const again = (await marks()).get('a')!;
      assert.notEqual(again.progress, last.get('a')!.progress);
      assert.deepEqual([...(await marks()).keys()], ['b', 'a']);
    });

    it('returns frozen snapshots detached from the stored data', async (s) => {
      await s.createStudy({ name: 'a', ...TWO });
      const config: Config = { x: 1 };
      const t = await s.createTrial('a', { state: 'WAITING', config, userAttrs: { a: { b: 1 } } });
      config.x = 2;
      assert.ok(Object.isFrozen(t) && Object.isFrozen(t.config) && Object.isFrozen(t.userAttrs), 'snapshot not frozen');
      assert.throws(() => {
        (t.config as Config).x = 3;
      }, TypeError);
      assert.deepEqual((await s.getTrial('a', 0)).config, { x: 1 });
      assert.ok(Object.isFrozen(await s.getStudy('a')), 'study snapshot not frozen');
    });

    it('keeps studies apart', async (s) => {
      await s.createStudy({ name: 'a', ...TWO });
      await s.createStudy({ name: 'b', directions: ['minimize'] });
      await s.createTrial('a', { state: 'WAITING', config: { s: 'a' } });
      await s.createTrial('b', { state: 'WAITING', config: { s: 'b' } });
      assert.deepEqual((await s.claimWaiting('b', 'w'))?.config, { s: 'b' });
      assert.equal(await s.claimWaiting('b', 'w'), undefined);
      assert.deepEqual(
        (await s.listTrials('a')).map((t) => t.state),
        ['WAITING'],
      );
      await assert.rejects(s.tellTrial('b', 0, { state: 'COMPLETE', values: [1, 2] }), InvalidInputError);
      await s.tellTrial('b', 0, { state: 'COMPLETE', values: [1] });
    });

    it('refuses calls after close', async (s) => {
      await s.createStudy({ name: 'a', ...TWO });
      await s.close();
      await s.close();
      await assert.rejects(s.getStudy('a'), StorageClosedError);
      await assert.rejects(s.createTrial('a', { state: 'WAITING', config: {} }), StorageClosedError);
      await assert.rejects(s.listStudies(), StorageClosedError);
    });
  });
}
