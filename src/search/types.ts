/**
 * The contract between the search room's parts: samplers (random, NSGA-II, BO) propose configs,
 * storages persist trials, a Study glues both behind an ask/tell API.
 *
 * A sampler never sees storage; a storage never sees a sampler. Both only see the types below.
 */

/** One parameter value of a configuration. Booleans for mask bits, numbers for ints/floats, strings for categoricals. */
export type ParamValue = number | boolean | string;

/** A configuration: parameter name -> value. Plain JSON so it can be stored and logged as is. */
export type Config = Record<string, ParamValue>;

export type Direction = 'maximize' | 'minimize';

/**
 * An objective. `known` objectives (e.g. the parameter % of a PEFT config) are computed exactly
 * from the config before training by `evaluate`; samplers must use that function, not a model.
 */
export interface ObjectiveSpec {
  name: string;
  direction: Direction;
  /** When present, the objective's value is a pure function of the config (no training needed). */
  known?: (config: Config) => number;
}

export type TrialState = 'WAITING' | 'RUNNING' | 'COMPLETE' | 'FAILED' | 'PRUNED';

/** JSON-serialisable attribute value stored with a trial (fidelity, timings, metrics, ...). */
export type AttrValue = null | boolean | number | string | AttrValue[] | { [key: string]: AttrValue };

/** A trial as read from storage: immutable snapshot. */
export interface FrozenTrial {
  /** Study-unique, dense, starting at 0, in creation order. */
  number: number;
  state: TrialState;
  config: Config;
  /** One value per objective, in the study's objective order; present iff state is COMPLETE. */
  values?: number[];
  /** Why a trial FAILED or was PRUNED. */
  reason?: string;
  userAttrs: Record<string, AttrValue>;
  /** Milliseconds since the epoch. */
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Last heartbeat of the worker running it (RUNNING trials). */
  heartbeatAt?: number;
}

/**
 * A sampler proposes `n` new configs given the study's history.
 * `pending` are configs already handed out (WAITING/RUNNING) whose results are unknown: BO treats
 * them as fantasies, others may use them to avoid duplicates.
 * Samplers are deterministic given their seed and the history they are shown.
 */
export interface Sampler {
  readonly name: string;
  sample(args: {
    complete: readonly FrozenTrial[];
    pending: readonly Config[];
    n: number;
  }): Promise<Config[]> | Config[];
}
