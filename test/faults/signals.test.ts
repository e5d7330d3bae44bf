/**
 * Faults other than kill -9 of the search itself, through the real CLI: a pool worker process
 * killed mid-trial, SIGINT and SIGTERM, and closed pipes (`tasks | head`, `report | head`,
 * `search 2>&1 | head -2`). Each ends with the study settled: nothing left RUNNING, every
 * interrupted trial re-queued once and re-run to COMPLETE.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIN,
  checkBookkeeping,
  checkSettled,
  faultFixture,
  readTrials,
  searchArgs,
  searchCounts,
  start,
  until,
} from './harness.js';

let f: Awaited<ReturnType<typeof faultFixture>>;
before(async () => {
  f = await faultFixture();
});
after(() => rmSync(f.dir, { recursive: true, force: true }));

/** Child process ids of `pid` (the pool's workers). */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
  );
}

test('a pool worker killed mid-trial: the trial is interrupted (worker-died), re-run once, and the search finishes', async () => {
  const db = join(f.dir, 'pool.sqlite');
  const r = start(searchArgs(f, db, 'pool', 6, ['--workers', '2', '--max-steps', '20']), f.dir);
  // Both workers busy: two trials RUNNING and both worker processes forked (each is handed its trial as it starts).
  const busy = (t: { state: string }[]) =>
    t.filter((x) => x.state === 'RUNNING').length === 2 && childrenOf(r.child.pid!).length === 2;
  assert.ok(await until(db, 'pool', r, busy), r.stderr());
  const workers = childrenOf(r.child.pid!);
  assert.equal(workers.length, 2, `pool workers: ${workers.join(' ')}`);
  process.kill(workers[0]!, 'SIGKILL');
  assert.equal(await r.exit, 0, r.stderr());
  const trials = await readTrials(db, 'pool');
  checkSettled(trials);
  const died = trials.filter((t) => t.interrupted === 'worker-died');
  assert.equal(died.length, 1, JSON.stringify(trials.map((t) => [t.number, t.state, t.reason])));
  assert.match(died[0]!.reason!, new RegExp(`worker process ${workers[0]} died`));
  assert.deepEqual(searchCounts(r.stdout()), { complete: 6, failed: 0 });
  assert.equal(trials.filter((t) => t.state === 'COMPLETE').length, 6);
});

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test(`${signal} mid-search: running and reserved trials re-queued as interrupted, exit ${code}; a rerun finishes`, async () => {
    const db = join(f.dir, `${signal}.sqlite`);
    const args = searchArgs(f, db, 'sig', 6, ['--max-steps', '20']);
    const r = start(args, f.dir);
    // Mid-search: one trial done and another running.
    const mid = (t: { state: string }[]) =>
      t.some((x) => x.state === 'COMPLETE') && t.some((x) => x.state === 'RUNNING');
    assert.ok(await until(db, 'sig', r, mid), r.stderr());
    r.child.kill(signal);
    assert.equal(await r.exit, code, r.stderr());
    assert.match(r.stdout(), /interrupted: \d+ complete, 0 failed; rerun the same command to resume/);
    assert.doesNotMatch(r.stderr(), /internal error|\n\s+at /);
    const stopped = await readTrials(db, 'sig');
    checkBookkeeping(stopped);
    assert.equal(stopped.filter((t) => t.state === 'RUNNING').length, 0, 'nothing left RUNNING');
    const interrupted = stopped.filter((t) => t.interrupted);
    assert.ok(interrupted.length >= 1);
    for (const t of interrupted) assert.ok(t.interrupted === 'user' || t.interrupted === 'never-started', t.reason);
    for (const t of interrupted) assert.equal(stopped[t.requeuedAs!]!.state, 'WAITING');

    const again = start(args, f.dir);
    assert.equal(await again.exit, 0, again.stderr());
    const done = await readTrials(db, 'sig');
    checkSettled(done);
    // What was COMPLETE before the signal is untouched.
    for (const t of stopped.filter((x) => x.state === 'COMPLETE')) assert.deepEqual(done[t.number], t);
    assert.deepEqual(searchCounts(again.stdout()), { complete: 6, failed: 0 });
  });
}

/** Runs `line` in bash (BIN and the fixture's paths substituted), returning autopeft's own exit status. */
async function piped(line: string): Promise<{ status: number; stderr: string }> {
  const r = start([], f.dir, `${line}; echo "status=\${PIPESTATUS[0]}" >&2`);
  assert.equal(await r.exit, 0, r.stderr());
  const m = /status=(\d+)\s*$/.exec(r.stderr());
  assert.ok(m, r.stderr());
  return { status: Number(m[1]), stderr: r.stderr().slice(0, m.index) };
}

test('closed pipes: tasks | head, report | head, search 2>&1 | head -2 (the search finishes its trials)', async () => {
  const node = `'${process.execPath}' '${BIN}'`;
  // `| true`: the reader is gone before the first write, so every write meets a closed pipe.
  for (const cmd of ['tasks', 'tasks --json']) {
    for (const reader of ['head -1', 'true']) {
      const r = await piped(`${node} ${cmd} | ${reader}`);
      assert.deepEqual(r, { status: 0, stderr: '' }, `${cmd} | ${reader}`);
    }
  }
  const db = join(f.dir, 'pipe.sqlite');
  const args = searchArgs(f, db, 'pipe', 6)
    .map((a) => `'${a}'`)
    .join(' ');
  // The search's own lines go to a reader that stops after two: it must go on training and storing.
  const s = await piped(`${node} ${args} 2>&1 | head -2 >/dev/null`);
  assert.deepEqual(s, { status: 0, stderr: '' });
  const trials = await readTrials(db, 'pipe');
  checkSettled(trials);
  assert.equal(trials.filter((t) => t.state === 'COMPLETE').length, 6);
  assert.equal(trials.length, 6, 'no trial interrupted by the closed pipe');
  for (const reader of ['head -1', 'true']) {
    const r = await piped(`${node} report --study pipe --storage '${db}' --out '${join(f.dir, 'rep')}' | ${reader}`);
    assert.deepEqual(r, { status: 0, stderr: '' }, `report | ${reader}`);
  }
});
