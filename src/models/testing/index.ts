export {
  writeTinyCheckpoint,
  writeTinyBert,
  writeTinyRoberta,
  tinyBertVocab,
  tinyBpe,
  simpleBpe,
  seededNormal,
  seededUniform,
  type TinyCheckpoint,
  type TinyCheckpointOptions,
} from './tiny.js';
