/** Runs a list of trial specs through an executor (inline or a process pool), in order of submission. */
import { fileURLToPath } from 'node:url';
import { createExecutor } from '../exec/pool.js';
import type { Json } from '../exec/types.js';
import type { TrialResult, TrialSpec } from '../train/trial.js';
import type { TrainEvent } from '../train/trainer.js';

const JOB_MODULE = fileURLToPath(new URL('../train/trial.ts', import.meta.url));

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
        return ex
          .run({ module: JOB_MODULE, fn: 'runTrialJob', args: spec as unknown as Json }, (e) =>
            ev.onProgress?.(i, e as unknown as TrainEvent),
          )
          .then(
            (r) => {
              ev.onDone?.(i, r as unknown as TrialResult);
              return r as unknown as TrialResult;
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
