export { normalCopula } from './copula.js';
export type { Copula } from './copula.js';
export { GpObjective, MaternGp, fitGp, DEFAULT_PRIOR, NOISE_FLOOR, thetaSize } from './gp.js';
export type { GpPrior, GpFitOptions } from './gp.js';
