/**
 * kill -9 of a real `autopeft search` at >= 20 random moments (seeded), all on one study: each
 * run is asked for 3 more trials and killed at a random point of its start-up or of its trials
 * (timed from a first calibration run, so the moments spread over the work whatever the machine's
 * speed). After every kill: the file passes integrity_check, no COMPLETE trial was lost or
 * changed, every trial the killed process printed as done is stored COMPLETE with that metric,
 * numbering is contiguous, and each trial left RUNNING is, once a later run has started, failed as
 * interrupted (`worker-died`) and re-queued exactly once with the same config. A last run finishes
 * the study: nothing left RUNNING or WAITING, and `report --json` counts what `search` printed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { seededUniform } from '../../src/core/random.js';
import { countsTowardTarget, type TrialRecord } from '../../src/trials/index.js';
import {
  checkBookkeeping,
  checkSettled,
  faultFixture,
  readTrials,
  reportJson,
  searchArgs,
  searchCounts,
  sleep,
  start,
  toldTrials,
} from './harness.js';

const KILLS = 20;
let cleanup = () => {};
after(() => cleanup());

test(`kill -9 at ${KILLS} random moments: nothing finished is lost or changed, every interrupted trial re-runs once`, async () => {
  const f = await faultFixture();
  cleanup = () => rmSync(f.dir, { recursive: true, force: true });
  const db = join(f.dir, 'kill.sqlite');
  const run = (trials: number) => start(searchArgs(f, db, 'k', trials), f.dir);

  // Calibration: 3 trials unkilled, timing the start-up (to the first line) and the trials.
  const t0 = Date.now();
  const first = run(3);
  assert.ok(await first.waitFor(/new study/), first.stderr());
  const startupMs = Date.now() - t0;
  assert.equal(await first.exit, 0, first.stderr());
  const workMs = Date.now() - t0 - startupMs;
  let before = await readTrials(db, 'k');
  assert.equal(before.filter((t) => t.state === 'COMPLETE').length, 3);

  const rand = seededUniform(20_261_204);
  /** Trials a kill left RUNNING: each must be interrupted and re-queued once a later run has started. */
  const orphans = new Set<number>();
  const everOrphaned = new Set<number>();
  let kills = 0;
  let midTrial = 0;
  for (let i = 0; kills < KILLS && i < 3 * KILLS; i++) {
    const target = before.filter(countsTowardTarget).length + 3;
    const r = run(target);
    // A quarter of the moments fall in start-up (opening the file, re-queueing orphans), the rest in the trials.
    if (rand() < 0.25) await sleep(rand() * startupMs);
    else {
      await r.waitFor(/new study|resuming/);
      await sleep(rand() * workMs);
    }
    const killed = r.child.kill('SIGKILL');
    const code = await r.exit;
    if (code !== 137) {
      assert.ok(code === 0 || !killed, `run ${i} exited ${code}:\n${r.stderr()}`);
      continue; // finished before the kill landed: not a kill
    }
    kills++;
    const now = await readTrials(db, 'k');
    checkBookkeeping(now);
    // No COMPLETE trial lost or changed.
    for (const t of before.filter((x) => x.state === 'COMPLETE')) {
      const same = now[t.number];
      assert.deepEqual(pick(same), pick(t), `kill ${kills}: COMPLETE trial ${t.number} changed`);
    }
    // What the killed process reported as done is stored, with the metric it printed.
    for (const [n, metric] of toldTrials(r.stderr())) {
      assert.equal(now[n]?.state, 'COMPLETE', `kill ${kills}: trial ${n} printed as done but ${now[n]?.state}`);
      assert.ok(Math.abs(now[n]!.values![0]! - metric) < 5e-4, `kill ${kills}: trial ${n} metric`);
    }
    // Orphans of earlier kills: once a run got past its start, each is an interrupt re-queued once.
    for (const n of orphans)
      if (now[n]!.state !== 'RUNNING') {
        assert.equal(now[n]!.interrupted, 'worker-died', `orphan ${n}: ${now[n]!.reason}`);
        orphans.delete(n);
      }
    const running = now.filter((t) => t.state === 'RUNNING');
    if (running.length > 0) midTrial++;
    for (const t of running) {
      orphans.add(t.number);
      everOrphaned.add(t.number);
    }
    before = now;
  }
  assert.equal(kills, KILLS, `only ${kills} runs were killed before finishing`);
  // Most moments must land while trials run, or the suite would test only start-up.
  assert.ok(midTrial >= KILLS / 4, `only ${midTrial} of ${kills} kills left a trial RUNNING`);

  const last = run(before.filter(countsTowardTarget).length + 2);
  assert.equal(await last.exit, 0, last.stderr());
  const final = await readTrials(db, 'k');
  checkSettled(final);
  // Every trial a kill left RUNNING (a run killed in its start-up leaves the same ones again) ended an interrupt.
  for (const n of everOrphaned) assert.equal(final[n]!.interrupted, 'worker-died', `orphan ${n}`);
  for (const t of before.filter((x) => x.state === 'COMPLETE')) assert.deepEqual(pick(final[t.number]), pick(t));
  const printed = searchCounts(last.stdout());
  const complete = final.filter((t) => t.state === 'COMPLETE').length;
  assert.deepEqual(printed, { complete, failed: 0 });

  const report = start(['report', '--study', 'k', '--storage', db, '--out', join(f.dir, 'rep'), '--json'], f.dir);
  assert.equal(await report.exit, 0, report.stderr());
  assert.deepEqual(reportJson(report.stdout()).trials, printed, 'report --json counts = search counts');
});

function pick(t: TrialRecord | undefined) {
  return t && { state: t.state, config: t.config, values: t.values, userAttrs: t.userAttrs, finishedAt: t.finishedAt };
}
