import type { Command } from 'commander';
import { fmtDuration, fmtNum } from '../progress.js';
import { int, positive } from '../options.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../../core/errors.js';
import { openStorage } from '../../storage/index.js';
import { runWorker, type WorkerEvent } from '../../pipeline/worker.js';
import { DEFAULT_STORAGE } from './search.js';

interface WorkerFlags {
  storage: string;
  study: string;
  trialCmd?: string;
  trialTimeout?: number;
  trialDir?: string;
  jobs: number;
  heartbeat: number;
  staleAfter: number;
  dbRetry: number;
  workerId?: string;
}

/** `autopeft worker`: runs trials of a study made by `autopeft search` until it is done (any number, any machine). */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('worker')
    .description(
      'run trials of a study made by `autopeft search` (e.g. with --workers 0) until it is done; start any number, on any machine that reaches its --storage',
    )
    .requiredOption('--study <name>', 'study name')
    .option(
      '--storage <file.sqlite|postgres://...>',
      'SQLite file or PostgreSQL URL holding the study (PostgreSQL for several machines)',
      DEFAULT_STORAGE,
    )
    .option('--trial-cmd <command>', "run trials with this command instead of the study's (see docs/distributed.md)")
    .option('--trial-timeout <seconds>', 'time limit of one --trial-cmd run', positive('--trial-timeout'))
    .option('--trial-dir <dir>', 'where external trials get their output folders', 'autopeft-trials')
    .option('--jobs <n>', 'trials at once in this worker (each in its own process when > 1)', int('--jobs', 1), 1)
    .option('--heartbeat <seconds>', 'how often a running trial reports that it is alive', positive('--heartbeat'), 5)
    .option(
      '--stale-after <seconds>',
      "re-run another worker's trial silent for this long (its worker died)",
      positive('--stale-after'),
      60,
    )
    .option(
      '--db-retry <seconds>',
      'how long to keep retrying a lost database connection before giving up',
      positive('--db-retry'),
      600,
    )
    .option('--worker-id <id>', 'name of this worker in the trials it runs (default host:pid:random)')
    .action(async (f: WorkerFlags) => {
      if (!(f.staleAfter > f.heartbeat))
        throw new UsageError(
          `--stale-after (${f.staleAfter}) must exceed --heartbeat (${f.heartbeat}) or live trials get re-run`,
        );
      const log = (s: string) => ctx.stderr.write(`${s}\n`);
      const storage = openStorage(f.storage, {
        retryForMs: f.dbRetry * 1000,
        connectRetryMs: f.dbRetry * 1000,
        onRetry: (r) =>
          log(`database unreachable (${r.error}); retry ${r.attempt} in ${(r.delayMs / 1000).toFixed(1)} s`),
      });
      const controller = new AbortController();
      let stopSignal: NodeJS.Signals | undefined;
      const onSignal = (sig: NodeJS.Signals) => {
        if (stopSignal) process.exit(sig === 'SIGINT' ? 130 : 143);
        stopSignal = sig;
        log(`${sig}: stopping; the running trial is re-queued for another worker (again to quit at once)`);
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const onEvent = (e: WorkerEvent) => {
        switch (e.kind) {
          case 'worker-start':
            log(
              `worker ${e.workerId} on study "${f.study}" in ${storage.location}: ${e.complete} complete, ${e.failed} failed of ${e.plan.trials}${e.requeued ? `, ${e.requeued} orphaned trial(s) re-queued` : ''}`,
            );
            break;
          case 'trial-start':
            log(`trial ${String(e.number).padStart(3)}  started: ${e.description}`);
            break;
          case 'trial-log':
            log(`trial ${String(e.number).padStart(3)}  | ${e.line}`);
            break;
          case 'trial-done':
            log(
              `trial ${String(e.number).padStart(3)}  ${e.result.metricName} ${fmtNum(e.result.metric)}  params ${fmtNum(e.result.paramPct)}%  (${fmtDuration(e.result.trainSeconds)})  [${e.complete} complete]`,
            );
            break;
          case 'external-done':
            log(
              `trial ${String(e.number).padStart(3)}  metric ${fmtNum(e.metric)}  params ${fmtNum(e.paramPct)}%  (${fmtDuration(e.seconds)})  [${e.complete} complete]`,
            );
            break;
          case 'trial-failed':
            log(`trial ${String(e.number).padStart(3)}  FAILED: ${e.reason}`);
            break;
          case 'trial-pruned':
            log(
              `trial ${String(e.number).padStart(3)}  pruned at ${e.step} examples: ${e.result.metricName} ${fmtNum(e.result.metric)}  params ${fmtNum(e.result.paramPct)}%`,
            );
            break;
          case 'worker-wait':
            log(`target reached; waiting for ${e.running} trial(s) of other workers`);
            break;
          case 'worker-requeued':
            log(`re-queued trial(s) ${e.trials.join(', ')} of silent workers`);
            break;
          default:
            break;
        }
      };
      try {
        const out = await runWorker({
          storage,
          study: f.study,
          ...(f.trialCmd !== undefined ? { trialCmd: f.trialCmd } : {}),
          ...(f.trialTimeout !== undefined ? { trialTimeoutMs: f.trialTimeout * 1000 } : {}),
          ...(f.trialDir !== undefined ? { trialDir: f.trialDir } : {}),
          jobs: f.jobs,
          heartbeatMs: f.heartbeat * 1000,
          staleAfterMs: f.staleAfter * 1000,
          ...(f.workerId !== undefined ? { workerId: f.workerId } : {}),
          signal: controller.signal,
          onEvent,
        });
        ctx.stdout.write(
          `${out.interrupted ? 'stopped' : 'done'}: this worker ran ${out.ran} trial(s); study "${f.study}": ${out.complete} complete, ${out.failed} failed\n`,
        );
        if (out.interrupted) ctx.exitCode = stopSignal === 'SIGTERM' ? 143 : 130;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await storage.close();
      }
    });
}
