/** The search room: space, Pareto/hypervolume, GP, acquisition, samplers and the ask/tell Study. */
export * from './types.js';
export * from './space/index.js';
export * from './pareto/index.js';
export * from './samplers/index.js';
export * from './study/index.js';
export * from './pruners/index.js';
export { SEARCH_DEFAULTS } from './defaults.js';
