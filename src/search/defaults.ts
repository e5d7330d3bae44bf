/**
 * The search's switchable defaults in one place, to be chosen from the recorded-trials benchmark's
 * evidence (`npm run bench:search-real`, docs/search.md). The samplers and pruners read them here;
 * `autopeft search`'s flags should default to them too.
 */
export const SEARCH_DEFAULTS = {
  /** BO's observation noise model ('learned' | 'binomial'; `BoOptions.noise`). */
  noise: 'learned' as 'learned' | 'binomial',
  /** Pruner of the study loop ('none' | 'asha'; `createPruner`). */
  pruner: 'none' as 'none' | 'asha',
  /** ASHA's reduction factor η (the recorded checkpoints double, so 2 replays exactly). */
  ashaEta: 2,
};
