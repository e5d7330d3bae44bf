export { choleskyInPlace, choleskyJitter, solveLower, solveLowerT, cholSolve, invertLower, cholInverse, halfLogDet, dot } from './linalg.js';
export type { CholeskyResult } from './linalg.js';
export { normPdf, normCdf, normQuantile } from './normal.js';
export { lbfgs } from './lbfgs.js';
export type { Objective, LbfgsOptions, LbfgsResult } from './lbfgs.js';
