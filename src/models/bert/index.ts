export { buildBert, allButEmbeddings, type BertBuildOptions, type BertGraph } from './builder.js';
export type { EncoderHooks, FfnHookContext, ProjectionHookContext, WeightMap } from '../types.js';
export { bertConfigFromHf, BertConfigError, type BertConfig } from './config.js';
export { bertExportBackbone } from './export.js';
export { randomBertWeights } from './random.js';
