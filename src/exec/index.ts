/** The exec room: run JSON-in/JSON-out jobs inline or in a pool of worker processes. */
export { InlineExecutor, loadJobFunction } from './inline.js';
export { ProcessPoolExecutor, createExecutor, type PoolOptions } from './pool.js';
export { JobError, type Executor, type JobSpec, type JobContext, type JobFunction, type Json } from './types.js';
