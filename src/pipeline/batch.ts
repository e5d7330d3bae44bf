/** Runs a list of trial specs through an executor (inline or a process pool), in order of submission. */
import { runJob } from '../exec/job.js';
import { createExecutor } from '../exec/pool.js';
import type { TrialResult, TrialSpec } from '../train/trial.js';
import type { TrainEvent } from '../train/trainer.js';
import { TRIAL_JOB } from './jobs/trial.js';

export interface BatchEvents {
  onStart?: (i: number) => void;
  onProgress?: (i: number, e: TrainEvent) => void;
  onDone?: (i: number, r: TrialResult) => void;
  onFailed?: (i: number, err: Error) => void;
}

/** Results in the specs' order; a failed job gives its Error in its slot (the others still run). */
export async function runTrials(
  specs: readonly TrialSpec[],
  workers: number,
  ev: BatchEvents = {},
  threadsPerWorker?: number,
): Promise<(TrialResult | Error)[]> {
  const ex = createExecutor(Math.min(workers, Math.max(1, specs.length)), threadsPerWorker);
  try {
    return await Promise.all(
      specs.map((spec, i) => {
        ev.onStart?.(i);
        return runJob(ex, TRIAL_JOB, spec, (e) => ev.onProgress?.(i, e)).then(
          (r) => {
            ev.onDone?.(i, r);
            return r;
          },
          (e: Error) => {
            ev.onFailed?.(i, e);
            return e;
          },
        );
      }),
    );
  } finally {
    await ex.close();
  }
}
