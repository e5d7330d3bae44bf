/**
 * autopeft's public API, one namespace per room (see README "How it is built"):
 *
 *   import { search, train, peft } from 'autopeft';
 *   const space = search.autopeftSpace({ numLayers: 12, hidden: 768 });
 */
export * as graph from './graph/index.js';
export * as runtime from './runtime/index.js';
export * as bert from './models/bert/index.js';
export * as io from './models/io/index.js';
export * as tokenizers from './models/tokenizers/index.js';
export * as hub from './models/hub/index.js';
export * as peft from './peft/index.js';
export * as data from './data/index.js';
export * as train from './train/index.js';
export * as search from './search/index.js';
export * as storage from './storage/index.js';
export * as exec from './exec/index.js';
export * as pipeline from './pipeline/index.js';
export * as report from './report/index.js';
export { loadBackbone, type Backbone, type BackboneDims } from './models/backbone.js';
export { main as cli } from './cli/main.js';
