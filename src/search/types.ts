/**
 * The contract between the search room's parts: samplers (random, NSGA-II, BO) propose configs,
 * a Study glues a sampler to a storage behind an ask/tell API.
 *
 * The trial and study types live below both search and storage, in `src/trials/`; they are
 * re-exported here so that `search` stays the one import a library user needs.
 */
import type { AttrValue, Config, FrozenTrial } from '../trials/index.js';

export type {
  AttrValue,
  Config,
  Direction,
  FrozenTrial,
  ObjectiveSpec,
  ParamValue,
  TrialState,
} from '../trials/index.js';

/** What a sampler is shown: the study's history and how many configs to propose. */
export interface SampleArgs {
  complete: readonly FrozenTrial[];
  pending: readonly Config[];
  /**
   * Trials a pruner stopped early. Samplers do not propose their configurations again: without this
   * a sampler that learns only from complete trials (BO) keeps re-proposing what the pruner keeps
   * stopping (measured on the recorded SST-2 table: 24 distinct configs in 100 ASHA trials).
   */
  pruned?: readonly FrozenTrial[];
  n: number;
}

/**
 * A sampler proposes `n` new configs given the study's history.
 * `pending` are configs already handed out (WAITING/RUNNING) whose results are unknown: BO treats
 * them as fantasies, others may use them to avoid duplicates.
 * Samplers are deterministic given their seed and the history they are shown.
 */
export interface Sampler {
  readonly name: string;
  sample(args: SampleArgs): Promise<Config[]> | Config[];
  /**
   * Plain-JSON state that a restarted sampler needs to propose what an uninterrupted one would
   * (BO: the last GP hyperparameters). The Study stores it as a study system attribute after
   * every sampling call and hands it back through `importState` before the next one, so a resumed
   * run (or another worker on the same study) continues from it. Stateless samplers omit both.
   */
  exportState?(): AttrValue;
  /** Restores what `exportState` returned; throws on a malformed state. */
  importState?(state: AttrValue): void;
}
