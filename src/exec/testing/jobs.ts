/** Jobs used by the exec tests: real functions run in real worker processes. */
import type { Json, JobContext } from '../types.js';
import * as c from '../codec.js';
import { jobFunction, type JobType } from '../job.js';
import { DataError } from '../../data/errors.js';

export async function square(args: Json, ctx: JobContext): Promise<Json> {
  const x = (args as { x: number }).x;
  for (let i = 1; i <= 3; i++) ctx.progress({ step: i });
  return { y: x * x, pid: process.pid, threads: ctx.threads };
}

export async function userFailure(): Promise<Json> {
  throw new DataError('no such column "sentence"', { file: 'train.tsv', line: 1 });
}

export async function crash(): Promise<Json> {
  process.exit(3);
}

export async function waitForAbort(_args: Json, ctx: JobContext): Promise<Json> {
  await new Promise<void>((res) => ctx.signal.addEventListener('abort', () => res()));
  return 'aborted';
}

/** Counts ticks (reporting each) until asked to stop, then returns how far it got. */
export async function countUntilStopped(_args: Json, ctx: JobContext): Promise<Json> {
  let ticks = 0;
  while (!ctx.stop?.aborted && !ctx.signal.aborted && ticks < 10_000) {
    ticks++;
    ctx.progress({ tick: ticks });
    await new Promise((r) => setTimeout(r, 5));
  }
  return { ticks, stopped: ctx.stop?.aborted === true };
}

interface SquareArgs {
  x: number;
}
interface SquareResult {
  y: number;
  pid: number;
}
interface SquareEvent {
  step: number;
}

/** A typed job: codecs for its arguments, result and events (see ../job.ts). */
export const SQUARE_JOB: JobType<SquareArgs, SquareResult, SquareEvent> = {
  module: import.meta.url,
  fn: 'typedSquare',
  args: c.object<SquareArgs>({ x: c.number }),
  result: c.object<SquareResult>({ y: c.number, pid: c.number }),
  event: c.object<SquareEvent>({ step: c.number }),
};

export const typedSquare = jobFunction(SQUARE_JOB, async ({ x }, ctx) => {
  for (let step = 1; step <= 2; step++) ctx.progress({ step });
  return { y: x * x, pid: process.pid };
});
