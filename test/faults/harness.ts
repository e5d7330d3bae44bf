/**
 * Shared pieces of the fault suite: a tiny checkpoint and the toy task in a temp folder, a real
 * `autopeft search` process (fast trials: a 1-layer BERT, 16 tokens, a few steps), and the
 * invariants read back from the study database after each fault.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { writeTinyBert } from '../../src/models/testing/tiny.js';
import { openSqliteStorage } from '../../src/storage/sqlite.js';
import type { TrialRecord } from '../../src/trials/index.js';
import { writeToyTask } from '../helpers/toy-task.js';

export const BIN = join(import.meta.dirname, '../../bin/autopeft.mjs');

/** A temp folder holding `tiny/` (checkpoint) and `toy.json` (+ its TSV files). */
export async function faultFixture(): Promise<{ dir: string; model: string; task: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-faults-'));
  await writeTinyBert(join(dir, 'tiny'), { layers: 1, hidden: 16, heads: 2 });
  return { dir, model: join(dir, 'tiny'), task: writeToyTask(dir) };
}

/** `search` arguments for fast trials (about 0.2 s each on an idle core) on the fixture. */
export function searchArgs(
  f: { model: string; task: string },
  storage: string,
  study: string,
  trials: number,
  extra: string[] = [],
): string[] {
  return [
    'search',
    ...['--model', f.model, '--task', f.task, '--storage', storage, '--study', study],
    ...['--trials', String(trials), '--sampler', 'random', '--batch', '2', '--epochs', '1'],
    ...['--max-length', '16', '--batch-size', '16', '--max-steps', '6', '--threads', '1', '--quiet'],
    ...extra,
  ];
}

export interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or 128 + signal number) once the process has exited. */
  exit: Promise<number>;
  /** Resolves when stderr matches `re` (or the process exits first: false). */
  waitFor(re: RegExp): Promise<boolean>;
}

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGXFSZ: 25 };

/** Starts `node bin/autopeft.mjs <args>` (or `command` through bash) in `cwd`, capturing its output. */
export function start(args: string[], cwd: string, bash?: string): Run {
  const child = bash
    ? spawn('bash', ['-c', bash], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; done: (ok: boolean) => void }[] = [];
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
    for (const w of waiters.splice(0)) {
      if (w.re.test(err)) w.done(true);
      else waiters.push(w);
    }
  });
  const exit = new Promise<number>((resolve) =>
    child.on('close', (code, signal) => {
      for (const w of waiters.splice(0)) w.done(false);
      resolve(code ?? 128 + (SIGNALS[signal ?? ''] ?? 0));
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    waitFor: (re) =>
      re.test(err) || child.exitCode !== null
        ? Promise.resolve(re.test(err))
        : new Promise((done) => waiters.push({ re, done })),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The study's trials, read with the product's own SQLite storage (after checking the file's integrity). */
export async function readTrials(db: string, study: string): Promise<TrialRecord[]> {
  const raw = new Database(db);
  try {
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok', `${db}: integrity_check`);
  } finally {
    raw.close();
  }
  const s = openSqliteStorage(db);
  try {
    return (await s.findStudy(study)) ? await s.listTrials(study) : [];
  } finally {
    await s.close();
  }
}

/** Polls the study until `pred` holds (true) or `ms` pass / the run exits (false). */
export async function until(
  db: string,
  study: string,
  run: Run,
  pred: (t: TrialRecord[]) => boolean,
  ms = 120_000,
): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && run.child.exitCode === null) {
    try {
      if (pred(await readTrials(db, study))) return true;
    } catch {
      // Not created yet, or locked by the writer for a moment.
    }
    await sleep(50);
  }
  return false;
}

/** `trial   N  accuracy X ...` lines of a search's output: trial number -> printed metric. */
export function toldTrials(stderr: string): Map<number, number> {
  return new Map([...stderr.matchAll(/^trial +(\d+) +accuracy ([\d.]+)/gm)].map((m) => [Number(m[1]), Number(m[2])]));
}

/**
 * The invariants that hold after any fault: trial numbers 0..n-1 without gaps; every FAILED trial
 * an interrupt (the toy task never fails for real) whose config was re-queued exactly once, as a
 * trial pointing back at it with the same config; no config re-run twice for one interrupt.
 */
export function checkBookkeeping(trials: readonly TrialRecord[]): void {
  assert.deepEqual(
    trials.map((t) => t.number),
    trials.map((_, i) => i),
    'trial numbers are contiguous',
  );
  const reruns = new Map<number, number>();
  for (const t of trials)
    if (t.requeuedFrom !== undefined) reruns.set(t.requeuedFrom, (reruns.get(t.requeuedFrom) ?? 0) + 1);
  for (const t of trials) {
    if (t.state === 'PRUNED') assert.fail(`trial ${t.number} PRUNED`);
    if (t.state !== 'FAILED') continue;
    assert.ok(t.interrupted, `trial ${t.number} FAILED for real: ${t.reason}`);
    assert.ok(t.requeuedAs !== undefined, `interrupted trial ${t.number} was not re-queued`);
    const again = trials[t.requeuedAs];
    assert.ok(again, `trial ${t.number} re-queued as missing trial ${t.requeuedAs}`);
    assert.equal(again.requeuedFrom, t.number);
    assert.deepEqual(again.config, t.config, `re-run ${again.number} of ${t.number} has another config`);
    assert.equal(reruns.get(t.number), 1, `interrupted trial ${t.number} re-run ${reruns.get(t.number)} times`);
  }
}

/** After a run that ended normally: nothing RUNNING or WAITING, and every interrupt's chain of re-runs ends COMPLETE. */
export function checkSettled(trials: readonly TrialRecord[]): void {
  checkBookkeeping(trials);
  for (const t of trials) {
    assert.ok(t.state === 'COMPLETE' || t.state === 'FAILED', `trial ${t.number} left ${t.state}`);
    let end = t;
    while (end.state === 'FAILED' && end.requeuedAs !== undefined) end = trials[end.requeuedAs]!;
    assert.equal(end.state, 'COMPLETE', `trial ${t.number}'s re-runs end ${end.state}`);
  }
}

/** `complete` / `failed` of the last `N complete, M failed` in a search's closing line (stdout). */
export function searchCounts(text: string): { complete: number; failed: number } {
  const m = [...text.matchAll(/(\d+) complete, (\d+) failed/g)].at(-1);
  assert.ok(m, `no counts in:\n${text}`);
  return { complete: Number(m[1]), failed: Number(m[2]) };
}

/** The JSON document of `report --json` (stdout). */
export function reportJson(stdout: string): { trials: { complete: number; failed: number } } {
  const text = stdout.trim();
  const doc =
    text.startsWith('{') && text.endsWith('}')
      ? text
      : text
          .split('\n')
          .reverse()
          .find((l) => l.startsWith('{'));
  assert.ok(doc, `no JSON in report output:\n${stdout}`);
  return JSON.parse(doc) as { trials: { complete: number; failed: number } };
}
