/**
 * The generic study loop: ask the study for trials (batches of q, so BO proposes q at once),
 * run each as a job on an executor, tell the results, until the STUDY holds its target number of
 * trials. `autopeft search` is one use; any job type and any number of loops (processes, machines)
 * may share a study:
 * - the target counts the study's trials, not this loop's: every trial but the interrupted ones
 *   (`countsTowardTarget`), enforced atomically by the storage (`askBatch(n, { maxTrials })`),
 *   so two loops on one study never overshoot it;
 * - `resume` first re-queues the trials of crashed workers (dead processes of this host at once,
 *   others once their heartbeat is stale);
 * - an abort (Ctrl-C) stops the running jobs and re-queues their trials, and those reserved but
 *   not started, as interrupted (typed, not failures), so a rerun continues where this one stopped.
 */
import { JobError, type Executor } from '../exec/types.js';
import type { Pruner } from '../search/pruners/index.js';
import type { AskOptions, Study, TellArg } from '../search/study/index.js';
import { TrialNotRunningError } from '../storage/errors.js';
import { type AttrValue, countsTowardTarget, isRealFailure, type TrialRecord } from '../trials/index.js';

/** What a running job may use to report its progress and be stopped by the pruner. */
export interface TrialControl {
  /** Reports an intermediate value (e.g. the metric after `step` examples seen): stored, then judged by the pruner. */
  report(step: number, value: number): void;
  /** Aborted when the pruner stops the trial: pass it to `runJob`'s `stop` so the job ends early with what it has. */
  readonly stop: AbortSignal;
}

/** One trial's job: how to run it, and what to record from its result. */
export interface TrialJob<R> {
  /** Runs the job on the executor; `executor.close()` aborts it (the loop does that on abort). */
  run(executor: Executor, control: TrialControl): Promise<R>;
  /**
   * What to tell the study, and user attributes to record on the trial first. `stopped`: the job
   * ended early on the pruner's request (the trial is stored PRUNED, not COMPLETE).
   */
  tell(result: R): { values: TellArg; userAttrs?: Record<string, AttrValue>; stopped?: boolean };
}

export interface StudyTarget {
  /** Trials the study should hold in the end (all loops together; interrupted ones do not count). */
  trials: number;
  /** Trials asked per sampler call (q). */
  batch: number;
  /** Aborting stops the loop: running and reserved trials are re-queued as interrupted. */
  signal?: AbortSignal;
  /**
   * Judges each intermediate value a job reports (after it is stored) against the study's trials;
   * a trial it prunes is asked to stop and is stored PRUNED with the step it reached. Default none.
   */
  pruner?: Pruner;
}

/** The study's trials, as the loop counts them. */
export interface StudyCounts {
  complete: TrialRecord[];
  /** FAILED through their config, or PRUNED (interrupted trials are not failures). */
  failed: number;
  /** Trials counting toward the target (`countsTowardTarget`). */
  counted: number;
  waiting: number;
}

export interface LoopEvents<R> {
  start?(trial: TrialRecord): void;
  done?(trial: TrialRecord, result: R, counts: StudyCounts & { running: number }): void;
  failed?(trial: TrialRecord, reason: string, counts: StudyCounts & { running: number }): void;
  /** The pruner stopped the trial at `step` (stored PRUNED); `result` is what the job reached. */
  pruned?(trial: TrialRecord, step: number, result: R, counts: StudyCounts & { running: number }): void;
}

export interface LoopOutcome {
  complete: number;
  failed: number;
  interrupted: boolean;
}

export async function studyCounts(study: Study): Promise<StudyCounts> {
  const all = await study.trials();
  return {
    complete: all.filter((t) => t.state === 'COMPLETE'),
    failed: all.filter(isRealFailure).length,
    counted: all.filter(countsTowardTarget).length,
    waiting: all.filter((t) => t.state === 'WAITING').length,
  };
}

/**
 * How many trials to ask for next: enqueued ones (they already count) plus what the target still
 * allows, at most `batch`; 0 when there is nothing to ask for.
 */
export function nextAskSize(counts: Pick<StudyCounts, 'counted' | 'waiting'>, target: StudyTarget): number {
  const room = Math.max(0, target.trials - counts.counted);
  return Math.min(target.batch, counts.waiting + room);
}

/**
 * Re-queues the trials of crashed workers before a loop starts: those of dead processes of this
 * host at once, any other worker's once silent for `staleAfterMs`. Returns how many were re-queued.
 */
export async function resume(study: Study, options: { staleAfterMs: number }): Promise<number> {
  return (await study.requeueOrphans({ staleAfterMs: options.staleAfterMs, requeue: true })).requeued.length;
}

/**
 * Runs trials of `study` on `executor` until the study holds `target.trials` counting trials and
 * this loop's jobs are done, or until `target.signal` aborts. The caller owns (and closes) both.
 */
export async function runStudy<R>(
  study: Study,
  executor: Executor,
  jobFor: (trial: TrialRecord) => TrialJob<R>,
  target: StudyTarget,
  events: LoopEvents<R> = {},
): Promise<LoopOutcome> {
  if (!(Number.isInteger(target.trials) && target.trials >= 1))
    throw new RangeError(`target.trials must be an integer >= 1, got ${target.trials}`);
  if (!(Number.isInteger(target.batch) && target.batch >= 1))
    throw new RangeError(`target.batch must be an integer >= 1, got ${target.batch}`);
  const loop = new StudyLoop(study, executor, jobFor, target, events);
  return loop.run();
}

class StudyLoop<R> {
  /** This loop's jobs, by trial number. */
  private readonly running = new Map<number, Promise<void>>();
  /** Asked in a batch but not started yet (RUNNING in the study, kept alive by its heartbeat). */
  private readonly reserved: TrialRecord[] = [];
  private aborted = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly study: Study,
    private readonly executor: Executor,
    private readonly jobFor: (trial: TrialRecord) => TrialJob<R>,
    private readonly target: StudyTarget,
    private readonly events: LoopEvents<R>,
  ) {}

  async run(): Promise<LoopOutcome> {
    const onAbort = () => {
      this.aborted = true;
      // Abort the running jobs now: their trials are re-queued as interrupted.
      this.closing ??= this.executor.close();
    };
    if (this.target.signal?.aborted) onAbort();
    this.target.signal?.addEventListener('abort', onAbort);
    try {
      while (!this.aborted) {
        if (this.running.size < this.executor.concurrency) {
          const trial = await this.next();
          if (trial) {
            this.start(trial);
            continue;
          }
        }
        if (this.running.size === 0) break;
        await Promise.race(this.running.values());
      }
      await this.drain();
    } finally {
      this.target.signal?.removeEventListener('abort', onAbort);
    }
    const c = await studyCounts(this.study);
    return { complete: c.complete.length, failed: c.failed, interrupted: this.aborted };
  }

  /** A reserved trial, else a new batch from the study within the target; undefined when none is due. */
  private async next(): Promise<TrialRecord | undefined> {
    if (this.reserved.length === 0) {
      const n = nextAskSize(await studyCounts(this.study), this.target);
      if (n === 0) return undefined;
      const ask: AskOptions = { maxTrials: this.target.trials };
      this.reserved.push(...(await this.study.askBatch(n, ask)));
    }
    return this.reserved.shift();
  }

  private start(trial: TrialRecord): void {
    this.events.start?.(trial);
    const job = this.jobFor(trial);
    const reports = new Reports(this.study, trial.number, this.target.pruner);
    const done = job.run(this.executor, reports.control).then(
      async (r) => this.finish(trial, job, r, await reports.settled()),
      async (e: unknown) => {
        await reports.settled();
        return this.fail(trial, e);
      },
    );
    this.running.set(trial.number, done);
  }

  private async finish(trial: TrialRecord, job: TrialJob<R>, result: R, prunedAt: number | undefined): Promise<void> {
    const { values, userAttrs, stopped } = job.tell(result);
    // Pruned: the job stopped on the pruner's request (one that finished anyway is COMPLETE).
    const pruned = stopped && prunedAt !== undefined ? prunedAt : undefined;
    try {
      if (userAttrs || pruned !== undefined)
        await this.study.setTrialUserAttrs(trial.number, {
          ...userAttrs,
          ...(pruned !== undefined ? { prunedAt: pruned } : {}),
        });
      if (pruned !== undefined)
        await this.study.tell(trial.number, {
          state: 'PRUNED',
          reason: `pruned by ${this.target.pruner?.name ?? 'the pruner'} at step ${pruned}`,
        });
      else await this.study.tell(trial.number, values);
    } catch (e) {
      // Failed as stale by another worker while it ran (its config was re-queued there).
      if (!(e instanceof TrialNotRunningError)) throw e;
      this.running.delete(trial.number);
      this.events.failed?.(trial, e.message, await this.counts());
      return;
    }
    this.running.delete(trial.number);
    if (pruned !== undefined) this.events.pruned?.(trial, pruned, result, await this.counts());
    else this.events.done?.(trial, result, await this.counts());
  }

  private async fail(trial: TrialRecord, error: unknown): Promise<void> {
    let reason = (error instanceof Error ? error.message : String(error)).split('\n')[0] || 'unknown error';
    try {
      if (this.aborted)
        reason = (await this.study.interrupt(trial.number, 'user', { requeue: true })).failed.reason ?? reason;
      else if (await this.workerDiedFirstTime(trial, error))
        reason =
          (await this.study.interrupt(trial.number, 'worker-died', { reason: `interrupted: ${reason}`, requeue: true }))
            .failed.reason ?? reason;
      else await this.study.tell(trial.number, { state: 'FAILED', reason });
    } catch (e) {
      // Failed as stale by another worker while it ran (its config was re-queued there).
      if (!(e instanceof TrialNotRunningError)) throw e;
      reason = e.message;
    }
    this.running.delete(trial.number);
    this.events.failed?.(trial, reason, await this.counts());
  }

  /**
   * A pool worker process died running the trial (killed, crashed): not the config's fault, so the
   * trial is re-run once, like a kill -9 of the whole search. A re-run whose worker dies again
   * (e.g. the config runs out of memory every time) is a real failure, so it cannot loop forever.
   */
  private async workerDiedFirstTime(trial: TrialRecord, error: unknown): Promise<boolean> {
    if (!(error instanceof JobError && error.causeName === 'WorkerDied')) return false;
    if (trial.requeuedFrom === undefined) return true;
    return (await this.study.trial(trial.requeuedFrom)).interrupted !== 'worker-died';
  }

  /** After an abort: waits for the aborted jobs, then re-queues the trials never started. */
  private async drain(): Promise<void> {
    if (this.aborted) {
      const waits = [...this.running.values()];
      await (this.closing ?? this.executor.close());
      await Promise.all(waits);
    }
    for (const t of this.reserved.splice(0)) await this.study.interrupt(t.number, 'never-started', { requeue: true });
  }

  private async counts(): Promise<StudyCounts & { running: number }> {
    return { ...(await studyCounts(this.study)), running: this.running.size };
  }
}

/**
 * One running trial's intermediate values: stored in report order (one at a time), each judged by
 * the pruner against the study's trials as stored; a prune verdict aborts `control.stop`.
 */
class Reports {
  private chain: Promise<void> = Promise.resolve();
  private readonly stopper = new AbortController();
  /** The step at which the pruner stopped the trial. */
  private prunedAt: number | undefined;
  readonly control: TrialControl;

  constructor(
    private readonly study: Study,
    private readonly number: number,
    private readonly pruner: Pruner | undefined,
  ) {
    this.control = { report: (step, value) => this.report(step, value), stop: this.stopper.signal };
  }

  private report(step: number, value: number): void {
    this.chain = this.chain.then(async () => {
      if (this.prunedAt !== undefined) return;
      try {
        await this.study.reportIntermediate(this.number, step, value);
        if (!this.pruner) return;
        const [trial, trials] = await Promise.all([this.study.trial(this.number), this.study.trials()]);
        if (this.pruner.shouldPrune(trial, trials)) {
          this.prunedAt = step;
          this.stopper.abort();
        }
      } catch (e) {
        // Failed as stale by another worker while it ran: its end is handled where the job ends.
        if (!(e instanceof TrialNotRunningError)) throw e;
      }
    });
  }

  /** Waits for the reports made so far; the step the trial was pruned at, if it was. */
  async settled(): Promise<number | undefined> {
    await this.chain;
    return this.prunedAt;
  }
}
