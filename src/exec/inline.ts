import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { JobError, type Executor, type Json, type JobFunction, type JobSpec, type RunOptions } from './types.js';

export async function loadJobFunction(job: JobSpec): Promise<JobFunction> {
  const url = job.module.startsWith('file:') ? job.module : pathToFileURL(job.module).href;
  const mod = (await import(url)) as Record<string, unknown>;
  const fn = mod[job.fn];
  if (typeof fn !== 'function')
    throw new JobError(`job module ${job.module} has no exported function '${job.fn}'`, 'Error');
  return fn as JobFunction;
}

/** Runs jobs one at a time in this process (the default for `--workers 1`). */
export class InlineExecutor implements Executor {
  readonly concurrency = 1;
  private readonly controller = new AbortController();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly threads: number = availableParallelism()) {}

  run(job: JobSpec, onProgress?: (event: Json) => void, options: RunOptions = {}): Promise<Json> {
    const next = this.chain.then(async () => {
      if (this.controller.signal.aborted) throw new JobError('executor closed', 'AbortError');
      const fn = await loadJobFunction(job);
      return fn(job.args, {
        threads: this.threads,
        progress: (e) => onProgress?.(e),
        signal: this.controller.signal,
        ...(options.stop ? { stop: options.stop } : {}),
      });
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.chain;
  }
}
