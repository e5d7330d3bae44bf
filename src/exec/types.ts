/**
 * The exec room runs jobs (one trial's training = one job) inline or in child processes.
 * A job names a module and one of its exported async functions; arguments and results are JSON,
 * so the same job runs in-process, in a process pool, or (later) on a queue worker.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface JobSpec {
  /** Absolute path or file URL of the module that exports `fn`. */
  module: string;
  /** Name of the exported function: `(args, ctx: JobContext) => Promise<Json>`. */
  fn: string;
  args: Json;
}

/** What a running job may use besides its arguments. */
export interface JobContext {
  /** Intra-op threads this job may use (its share of the machine). */
  threads: number;
  /** Report progress (shown by the parent; rate-limited by it). */
  progress(event: Json): void;
  /** Aborted when the user interrupts or the pool shuts down. */
  signal: AbortSignal;
  /**
   * Aborted when the caller asks the job to stop early and return what it has (e.g. a pruned
   * trial); unlike `signal`, the job still returns a result. Absent where the caller cannot ask.
   */
  stop?: AbortSignal;
}

export interface RunOptions {
  /** Aborting it asks the running job to stop early and return what it has (`JobContext.stop`). */
  stop?: AbortSignal;
}

/** A module's exported job function; typed jobs make one with `jobFunction` (./job.ts). */
export type JobFunction = (args: Json, ctx: JobContext) => Promise<Json>;

export interface Executor {
  /** How many jobs run at once. */
  readonly concurrency: number;
  /** Runs a job; rejects with the job's error (message preserved) if it throws or its process dies. */
  run(job: JobSpec, onProgress?: (event: Json) => void, options?: RunOptions): Promise<Json>;
  /** Stops accepting jobs, aborts running ones and ends child processes. */
  close(): Promise<void>;
}

/**
 * A job failed inside the worker: carries the worker's message (and stack for bugs), and the
 * `userFacing` brand of src/core/errors.ts when the original error was a user error, so the CLI
 * prints it as one line as it would have in-process.
 */
export class JobError extends Error {
  override name = 'JobError';
  /** The worker-side stack (for bugs). */
  readonly causeStack: string | undefined;
  readonly userFacing: boolean;
  constructor(
    message: string,
    /** The original error's class name, e.g. 'DataError'. */
    readonly causeName: string,
    options: { stack?: string; userFacing?: boolean } = {},
  ) {
    super(message);
    this.causeStack = options.stack;
    this.userFacing = options.userFacing ?? false;
  }
}
