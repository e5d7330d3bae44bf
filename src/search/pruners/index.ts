export type { Pruner } from './types.js';
export { NopPruner } from './types.js';
export { AshaPruner, promotionOrder, type AshaOptions } from './asha.js';
export { createPruner, PRUNER_NAMES, type PrunerName } from './factory.js';
