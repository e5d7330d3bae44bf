export {
  SafetensorsFile,
  readSafetensors,
  decodeSafetensors,
  encodeSafetensors,
  writeSafetensors,
  parseSafetensorsHeader,
  type FloatTensor,
  type LoadedTensor,
  type TensorInfo,
  type WritableTensor,
  type SafetensorsDtype,
  type ReadableDtype,
  type WritableDtype,
  type TensorData,
} from './safetensors.js';
export { f16ToF32, bf16ToF32, f32ToF16, f32ToBf16 } from './half.js';
export { ModelFileError, SafetensorsError, ModelConfigError, TokenizerError, CheckpointError } from './errors.js';
export { encoderWeightShapes, normalizeWeightName, checkEncoderWeights } from './weights.js';
export {
  loadCheckpoint,
  loadEncoderWeights,
  weightFiles,
  type Checkpoint,
  type LoadCheckpointOptions,
} from './checkpoint.js';
