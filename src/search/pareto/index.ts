export { toMinimization, dominates, nonDominatedSort, paretoFrontIndices, crowdingDistance } from './pareto.js';
export type { Points } from './pareto.js';
export { hypervolume, hypervolumeWithDirections, inferReferencePoint } from './hypervolume.js';
