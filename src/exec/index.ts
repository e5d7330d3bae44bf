/** The exec room: run jobs inline or in a pool of worker processes; typed jobs cross it as JSON through codecs. */
export { InlineExecutor, loadJobFunction } from './inline.js';
export { ProcessPoolExecutor, createExecutor, type PoolOptions } from './pool.js';
export { JobError, type Executor, type JobSpec, type JobContext, type JobFunction, type Json } from './types.js';
export { jobFunction, runJob, type JobType, type TypedJobContext } from './job.js';
export * as codec from './codec.js';
export { CodecError, type Codec } from './codec.js';
