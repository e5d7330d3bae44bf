/**
 * Typed jobs on top of the JSON-in/JSON-out executors: a `JobType` names the job's function and
 * module and carries the codecs of its arguments, result and progress events; `jobFunction` wraps
 * a typed implementation for the worker side and `runJob` runs it from the caller's side.
 *
 * A job module names itself with `import.meta.url`: under tsx that is the `.ts` source, under
 * `dist/` the emitted `.js`, so the same `JobType` resolves from sources and from the build.
 */
import type { Codec } from './codec.js';
import type { Executor, JobContext, JobFunction, RunOptions } from './types.js';

export interface JobType<A, R, E> {
  /** File URL (or absolute path) of the module exporting `fn`: the job module's `import.meta.url`. */
  readonly module: string;
  /** Name of the module's export made by `jobFunction(thisType, ...)`. */
  readonly fn: string;
  readonly args: Codec<A>;
  readonly result: Codec<R>;
  readonly event: Codec<E>;
}

/** A job's context with typed progress events. */
export interface TypedJobContext<E> extends Omit<JobContext, 'progress'> {
  progress(event: E): void;
}

/** The worker side: decodes the arguments, runs `impl`, encodes its events and result. */
export function jobFunction<A, R, E>(
  type: JobType<A, R, E>,
  impl: (args: A, ctx: TypedJobContext<E>) => Promise<R>,
): JobFunction {
  return async (args, ctx) => {
    const value = await impl(type.args.decode(args, `${type.fn} args`), {
      threads: ctx.threads,
      signal: ctx.signal,
      ...(ctx.stop ? { stop: ctx.stop } : {}),
      progress: (e) => ctx.progress(type.event.encode(e)),
    });
    return type.result.encode(value);
  };
}

/** The caller side: runs a typed job on an executor (inline or a process pool). */
export async function runJob<A, R, E>(
  executor: Executor,
  type: JobType<A, R, E>,
  args: A,
  onEvent?: (event: E) => void,
  options: RunOptions = {},
): Promise<R> {
  // An event that does not decode must not throw inside the pool's message handler: the job fails
  // with it once it ends.
  let badEvent: Error | undefined;
  const value = await executor.run(
    { module: type.module, fn: type.fn, args: type.args.encode(args) },
    onEvent &&
      ((e) => {
        if (badEvent) return;
        let decoded: E;
        try {
          decoded = type.event.decode(e, `${type.fn} event`);
        } catch (err) {
          badEvent = err as Error;
          return;
        }
        onEvent(decoded);
      }),
    options,
  );
  if (badEvent) throw badEvent;
  return type.result.decode(value, `${type.fn} result`);
}
