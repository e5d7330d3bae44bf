/**
 * `autopeft worker` processes against a real PostgreSQL server (a throwaway cluster): the load
 * test (8 workers, 200 trials of a millisecond external command), the shared BO sampler, and the
 * faults: kill -9 mid-trial, a stalled worker (SIGSTOP: heartbeat stops), SIGTERM, and the server
 * stopped and restarted in the middle of a search. Every process is the real CLI.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/testing.js';
import { writeTinyBert } from '../../src/models/testing/tiny.js';
import { openPostgresStorage } from '../../src/storage/postgres.js';
import type { TrialRecord } from '../../src/storage/types.js';
import { PG_SKIP, startCluster, type PgCluster } from './cluster.js';

const BIN = join(import.meta.dirname, '../../bin/autopeft.mjs');
const EXAMPLE = join(import.meta.dirname, '../../examples/external-trial.mjs');
const TRIAL_CMD = `${JSON.stringify(process.execPath)} ${JSON.stringify(EXAMPLE)}`;
const FAST_CMD = `cat > /dev/null; echo '{"metric": 0.5, "intermediate": [0.5]}'`;

let dir: string;
let cluster: PgCluster;
let model: string;

interface Proc {
  child: ChildProcess;
  log(): string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function worker(url: string, study: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(
    process.execPath,
    [BIN, 'worker', '--storage', url, '--study', study, '--trial-dir', join(dir, 'trials'), ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })),
  );
  return { child, log: () => stderr, done };
}

/** `autopeft search --workers 0`: the study and its plan, no trial run here. */
async function create(url: string, study: string, flags: string[], trialCmd = TRIAL_CMD): Promise<void> {
  const r = await runCli([
    'search',
    '--storage',
    url,
    '--study',
    study,
    '--model',
    model,
    '--task',
    'toy',
    '--workers',
    '0',
    '--trial-cmd',
    trialCmd,
    '--quiet',
    ...flags,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /0 worker\(s\) here: start `autopeft worker` processes to run it/);
}

async function trials(url: string, study: string): Promise<TrialRecord[]> {
  const s = openPostgresStorage(url);
  try {
    return await s.listTrials(study);
  } finally {
    await s.close();
  }
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const key = (t: TrialRecord) =>
  JSON.stringify(
    Object.keys(t.config)
      .sort()
      .map((k) => [k, t.config[k]]),
  );

/** The study ended well: `target` trials count, all COMPLETE, numbers gapless, configs of the complete ones unique. */
function assertDone(all: TrialRecord[], target: number): TrialRecord[] {
  assert.deepEqual(
    all.map((t) => t.number),
    all.map((_, i) => i),
    'numbers must be gapless',
  );
  const counted = all.filter((t) => !(t.state === 'FAILED' && t.interrupted));
  assert.equal(counted.length, target, all.map((t) => `${t.number}:${t.state}:${t.interrupted ?? ''}`).join(' '));
  assert.ok(
    counted.every((t) => t.state === 'COMPLETE'),
    counted.map((t) => `${t.number}:${t.state}:${t.reason ?? ''}`).join(' '),
  );
  assert.equal(new Set(counted.map(key)).size, target, 'a configuration ran twice');
  for (const t of counted) assert.equal(t.values!.length, 2);
  return counted;
}

describe('autopeft worker on PostgreSQL', { skip: PG_SKIP }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autopeft-workers-'));
    model = join(dir, 'tiny');
    await writeTinyBert(model, { layers: 2, hidden: 32, heads: 2, std: 0.1 });
    cluster = await startCluster();
  });
  after(() => {
    cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('load: 8 workers run exactly 200 trials of one study; no duplicate number or configuration', async () => {
    const url = `${cluster.url}?schema=load`;
    // The fast job type: a shell one-liner (milliseconds), so the test measures the coordination.
    await create(url, 'load', ['--trials', '200', '--batch', '1', '--sampler', 'random', '--n-init', '5'], FAST_CMD);
    const t0 = Date.now();
    const procs = Array.from({ length: 8 }, (_, i) =>
      worker(url, 'load', ['--worker-id', `w${i}`, '--heartbeat', '1']),
    );
    const outs = await Promise.all(procs.map((p) => p.done));
    const seconds = (Date.now() - t0) / 1000;
    for (const o of outs) assert.equal(o.code, 0, o.stderr.slice(-2000));
    const all = await trials(url, 'load');
    assert.equal(all.length, 200);
    assertDone(all, 200);
    const ran = outs.map((o) => Number(/this worker ran (\d+) trial/.exec(o.stdout)?.[1]));
    assert.equal(
      ran.reduce((a, b) => a + b, 0),
      200,
    );
    assert.ok(ran.filter((n) => n > 0).length >= 4, `work spread over too few workers: ${ran}`);
    // Each trial is recorded with its external result and the study's own param %.
    assert.ok(all.every((t) => t.values![0] === 0.5 && t.userAttrs.trialCmd === FAST_CMD && t.values![1]! >= 0));
    console.log(`# load: 200 trials, 8 workers in ${seconds.toFixed(1)} s (per worker: ${ran.join(', ')})`);
  });

  test('BO shared through the study: 3 workers propose no repeats and keep one sampler state', async () => {
    const url = `${cluster.url}?schema=bo`;
    await create(url, 'bo', ['--trials', '14', '--batch', '1', '--sampler', 'bo', '--n-init', '4']);
    const outs = await Promise.all(
      [0, 1, 2].map((i) => worker(url, 'bo', ['--worker-id', `b${i}`, '--heartbeat', '1']).done),
    );
    for (const o of outs) assert.equal(o.code, 0, o.stderr.slice(-2000));
    assertDone(await trials(url, 'bo'), 14);
    const s = openPostgresStorage(url);
    const sampler = (await s.getStudy('bo')).systemAttrs.sampler as { name: string; state: unknown };
    await s.close();
    assert.equal(sampler.name, 'bo');
    assert.ok(sampler.state !== null, 'BO stored no state after its GP fits');
  });

  test('kill -9 mid-trial: another worker re-runs it after the heartbeat timeout; nothing lost or doubled', async () => {
    const url = `${cluster.url}?schema=kill`;
    await create(url, 'kill', ['--trials', '5', '--batch', '1', '--sampler', 'random', '--n-init', '5']);
    // A worker id without this host's pid: the survivor cannot see it died, only that it went silent.
    const slow = { EXAMPLE_TRIAL_MS: '1500' };
    const a = worker(url, 'kill', ['--worker-id', 'machine-a', '--heartbeat', '0.3', '--stale-after', '2'], slow);
    const victim = await waitFor('a running trial of machine-a', async () =>
      (await trials(url, 'kill')).find((t) => t.state === 'RUNNING' && t.workerId === 'machine-a'),
    );
    a.child.kill('SIGKILL');
    await a.done;
    const b = worker(url, 'kill', ['--worker-id', 'machine-b', '--heartbeat', '0.3', '--stale-after', '2'], slow);
    const out = await b.done;
    assert.equal(out.code, 0, out.stderr);
    const all = await trials(url, 'kill');
    const dead = all[victim.number]!;
    assert.deepEqual([dead.state, dead.interrupted], ['FAILED', 'stale']);
    assert.match(dead.reason!, /^stale: no heartbeat for \d+ ms from worker machine-a$/);
    const rerun = all[dead.requeuedAs!]!;
    assert.deepEqual([rerun.state, rerun.workerId, rerun.config], ['COMPLETE', 'machine-b', dead.config]);
    assertDone(all, 5);
  });

  test('a stalled worker (SIGSTOP: no heartbeat) loses its trial to another; its late result is refused', async () => {
    const url = `${cluster.url}?schema=stall`;
    await create(url, 'stall', ['--trials', '4', '--batch', '1', '--sampler', 'random', '--n-init', '4']);
    const slow = { EXAMPLE_TRIAL_MS: '2500' };
    const a = worker(url, 'stall', ['--worker-id', 'stalled', '--heartbeat', '0.3', '--stale-after', '2'], slow);
    const held = await waitFor('a running trial of the staller', async () =>
      (await trials(url, 'stall')).find((t) => t.state === 'RUNNING' && t.workerId === 'stalled'),
    );
    a.child.kill('SIGSTOP');
    const b = worker(url, 'stall', ['--worker-id', 'healthy', '--heartbeat', '0.3', '--stale-after', '2'], slow);
    await waitFor('the stalled trial re-queued', async () => {
      const t = (await trials(url, 'stall'))[held.number]!;
      return t.state === 'FAILED' ? t : undefined;
    });
    a.child.kill('SIGCONT');
    const [oa, ob] = await Promise.all([a.done, b.done]);
    assert.equal(ob.code, 0, ob.stderr);
    assert.equal(oa.code, 0, oa.stderr);
    assert.match(
      oa.stderr,
      new RegExp(`trial +${held.number} +FAILED: cannot tell trial #${held.number} .* it is FAILED`),
    );
    const all = await trials(url, 'stall');
    assert.equal(all[held.number]!.interrupted, 'stale');
    assert.equal(all[all[held.number]!.requeuedAs!]!.state, 'COMPLETE');
    assertDone(all, 4);
  });

  test('SIGTERM re-queues the running trial at once and exits 143', async () => {
    const url = `${cluster.url}?schema=term`;
    await create(url, 'term', ['--trials', '2', '--batch', '1', '--sampler', 'random', '--n-init', '2']);
    const a = worker(url, 'term', ['--worker-id', 'leaving'], { EXAMPLE_TRIAL_MS: '30000' });
    const running = await waitFor('a running trial', async () =>
      (await trials(url, 'term')).find((t) => t.state === 'RUNNING'),
    );
    const t0 = Date.now();
    a.child.kill('SIGTERM');
    const out = await a.done;
    assert.equal(out.code, 143, out.stderr);
    assert.ok(Date.now() - t0 < 10_000, 'the trial command was not stopped');
    assert.match(out.stderr, /SIGTERM: stopping; the running trial is re-queued/);
    const all = await trials(url, 'term');
    assert.deepEqual(
      [all[running.number]!.state, all[running.number]!.interrupted, all[all[running.number]!.requeuedAs!]!.state],
      ['FAILED', 'user', 'WAITING'],
    );
    const b = await worker(url, 'term', ['--worker-id', 'next']).done;
    assert.equal(b.code, 0, b.stderr);
    assertDone(await trials(url, 'term'), 2);
  });

  test('PostgreSQL stopped and restarted mid-search: workers retry with backoff and finish, nothing lost', async () => {
    const url = `${cluster.url}?schema=restart`;
    await create(url, 'restart', ['--trials', '10', '--batch', '1', '--sampler', 'random', '--n-init', '10']);
    const env = { EXAMPLE_TRIAL_MS: '300' };
    const procs = [0, 1].map((i) => worker(url, 'restart', ['--worker-id', `r${i}`, '--stale-after', '60'], env));
    await waitFor('3 complete trials', async () =>
      (await trials(url, 'restart')).filter((t) => t.state === 'COMPLETE').length >= 3 ? true : undefined,
    );
    cluster.stop();
    await new Promise((r) => setTimeout(r, 2000));
    cluster.start();
    const outs = await Promise.all(procs.map((p) => p.done));
    for (const o of outs) assert.equal(o.code, 0, o.stderr.slice(-2000));
    assert.ok(
      outs.some((o) => /database unreachable \(.*\); retry \d+ in/.test(o.stderr)),
      'no worker reported a retry',
    );
    assertDone(await trials(url, 'restart'), 10);
  });

  test('worker errors a user can cause: one line, exit 2', async () => {
    const url = `${cluster.url}?schema=errors`;
    const none = await runCli(['worker', '--storage', url, '--study', 'nope']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^autopeft: no study named "nope" in postgres:.*; create it first or fix the name\n$/);
    const bad = await runCli(['worker', '--storage', url, '--study', 'x', '--heartbeat', '5', '--stale-after', '2']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--stale-after \(2\) must exceed --heartbeat \(5\)/);
    const down = await runCli([
      'worker',
      '--storage',
      'postgres://autopeft@127.0.0.1:1/db',
      '--study',
      'x',
      '--db-retry',
      '0.5',
    ]);
    assert.equal(down.code, 2);
    assert.match(down.stderr, /cannot reach postgres:\/\/autopeft@127\.0\.0\.1:1\/db \(connect ECONNREFUSED/);
  });
});
