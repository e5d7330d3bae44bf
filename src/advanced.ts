/**
 * 'autopeft/advanced': the building blocks under the main API (./index.ts), for building your own
 * models and training loops: the graph engine (graph + autodiff + ONNX Runtime programs), the BERT
 * and USE-lite builders, checkpoints and the hub cache, PEFT modules and their files, batching and
 * metrics, report rendering. See docs/engine.md, docs/models.md, docs/peft.md, docs/data.md,
 * docs/report.md.
 */

// Graph engine: build a graph, differentiate it, run it as one training step in onnxruntime.
export { Graph, gradients, ops } from './graph/index.js';
export { compileEval, compileTraining, createSession, tensor } from './runtime/index.js';

// Models: checkpoints, the hub cache, the BERT/RoBERTa builder, USE-lite.
export { loadCheckpoint } from './models/io/index.js';
export { loadPretrained, resolveModel } from './models/hub/index.js';
export { bertExportBackbone, buildBert, randomBertWeights } from './models/bert/index.js';
export { loadUseLite } from './models/use-lite/load.js';
export { embedReference, traceUseLite } from './models/use-lite/reference.js';

// PEFT modules, their files and parameter counts.
export {
  backboneParamCount,
  cacheableLayer,
  createPeft,
  exportMergedOnnx,
  headParamCount,
  isHeadWeight,
  loadPeftAdapter,
  peftParamCounts,
  savePeftAdapter,
} from './peft/index.js';

// Data: batching and metrics.
export { Batcher, argmaxRows, computeMetrics } from './data/index.js';

// Reports.
export { renderReport, reportJsonLine, reportTrialsFromFrozen, writeReport } from './report/index.js';
export type { ReportData } from './report/index.js';
