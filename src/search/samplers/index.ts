export { RandomSampler } from './random.js';
export type { RandomSamplerOptions } from './random.js';
export { Nsga2Sampler } from './nsga2.js';
export type { Nsga2Options } from './nsga2.js';
export { BoSampler } from './bo.js';
export type { BoOptions, BoDiagnostics } from './bo.js';
export type { SamplerOptions } from './common.js';
export { minimizationMatrix, objectiveValue } from './common.js';
