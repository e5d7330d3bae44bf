/** Progress for a list of trainings (retrain, baselines, transfer): one bar over runs, a line per run. */
import { createProgress, fmtDuration, fmtNum } from './progress.js';
import type { BatchEvents } from '../pipeline/batch.js';
import type { CliContext } from './context.js';

export function batchProgress(
  ctx: CliContext,
  label: string,
  total: number,
  describe: (i: number) => string,
  quiet = false,
): BatchEvents & { stop(): void } {
  const bar = createProgress({ label, total, quiet, stream: ctx.stderr as NodeJS.WriteStream, plainEverySec: 30 });
  let done = 0;
  return {
    onProgress: (i, e) => {
      if (e.kind === 'step') bar.update(done, { run: `${i + 1}/${total} step ${e.step}/${e.totalSteps}` });
    },
    onDone: (i, r) => {
      done++;
      const dev =
        r.devMetric !== undefined
          ? `dev ${r.metricName} ${fmtNum(r.devMetric)}`
          : `validation ${r.metricName} ${fmtNum(r.metric)}`;
      bar.log(`${describe(i)}: ${dev}  (${fmtDuration(r.trainSeconds)})`);
      bar.update(done);
    },
    onFailed: (i, err) => {
      done++;
      bar.log(`${describe(i)}: FAILED ${err.message.split('\n')[0]}`);
      bar.update(done);
    },
    stop: () => bar.stop(),
  };
}
