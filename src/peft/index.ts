/** The PEFT room: modules (SA, PA, PT, LoRA) as backbone hooks, parameter accounting, save/load, export. */
export {
  parsePeftConfig,
  readPeftArg,
  checkPeftBounds,
  peftBounds,
  emptyPeftConfig,
  describePeft,
  isNoop,
  PeftConfigError,
  DEFAULT_PEFT_OPTIONS,
  PEFT_OPTION_KEYS,
  PEFT_SIZE_KEYS,
  SA_FORMS,
  MAX_BOTTLENECK_FACTOR,
  type PeftConfig,
  type PeftOptions,
  type SerialAdapterForm,
  type PeftModelLimits,
  type PeftSizeKey,
} from './config.js';
export {
  createPeft,
  isHeadWeight,
  peftTensorSpecs,
  peftFoldedSpecs,
  foldPeftWeights,
  type CreatePeftOptions,
  type Peft,
} from './create.js';
export { peftMethod, peftMethods, registerPeftMethod } from './registry.js';
export {
  activeLayers,
  cacheableLayer,
  attentionWidth,
  attentionWidthsOf,
  type PeftDims,
  type PeftMethod,
  type PeftMethodId,
  type PeftTensor,
  type PeftWeights,
  type TensorSpec,
  type MethodContext,
} from './types.js';
export {
  paperParamCount,
  paperParamPct,
  exactPeftParamCount,
  inferencePeftParamCount,
  peftParamCounts,
  backboneParamCount,
  headParamCount,
  type PeftParamCounts,
  type PaperDims,
} from './params.js';
export {
  savePeftAdapter,
  loadPeftAdapter,
  checkAdapterBackbone,
  autopeftVersion,
  PeftFileError,
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  type SavedAdapter,
  type AdapterBackbone,
  type AdapterHead,
  type AdapterConfigJson,
} from './io.js';
export {
  buildMergedModel,
  exportMergedOnnx,
  withHeadWeights,
  type AdapterWeights,
  type MergeOptions,
  type ExportOptions,
} from './export.js';
export { mergeLoraWeight, loraScale } from './lora/index.js';
export { foldPrefix } from './prefix-tuning/index.js';
