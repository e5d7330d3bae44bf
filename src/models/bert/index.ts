export {
  buildBert,
  allButEmbeddings,
  type BertBuildOptions,
  type BertGraph,
  type BertHooks,
  type FfnHookContext,
  type ProjectionHookContext,
  type WeightMap,
} from './builder.js';
export { bertConfigFromHf, BertConfigError, type BertConfig } from './config.js';
export { randomBertWeights } from './random.js';
