export { Rng, mixSeed, hashString } from '../../core/random.js';
export { SearchSpaceError } from './errors.js';
export { SearchSpace } from './space.js';
export type { ParamDef, BoolParam, IntParam, CategoricalParam, FloatParam, SpaceOptions } from './space.js';
export {
  autopeftSpace,
  autopeftSizes,
  autopeftObjectives,
  paramPct,
  peftFromSearch,
  searchFromPeft,
  layerName,
  LORA_RANKS,
} from './autopeft.js';
export type { AutopeftModel, AutopeftSpaceOptions, ParamPctModel } from './autopeft.js';
