export { KnownFront, expectedPositivePart } from './ehvi.js';
export { NoisyEhvi } from './nehvi.js';
export type { NoisyEhviArgs } from './nehvi.js';
export { optimizeDiscrete } from './optimize.js';
export type { LocalSearchArgs, LocalSearchOptions, LocalSearchResult } from './optimize.js';
export { PlainEhvi } from './plain.js';
export type { PlainEhviArgs } from './plain.js';
