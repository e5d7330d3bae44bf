/**
 * Trial and study types: the vocabulary that samplers (search room) and storages (storage room)
 * share, kept below both (as optuna keeps `FrozenTrial`/`TrialState` under samplers and storages).
 * A sampler never sees a storage and a storage never sees a sampler: both only see these types.
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

/** One intermediate value of a running trial: its first objective after `step` (e.g. examples seen). */
export interface IntermediateValue {
  step: number;
  value: number;
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
  /**
   * Values reported while it ran (e.g. the validation metric after `step` training examples seen),
   * sorted by step; absent when none was reported. A PRUNED trial's last one is where it stopped.
   */
  intermediateValues?: readonly IntermediateValue[];
  userAttrs: Record<string, AttrValue>;
  /** Milliseconds since the epoch. */
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Last heartbeat of the worker running it (RUNNING trials). */
  heartbeatAt?: number;
  /**
   * Set on a FAILED trial that stopped through no fault of its config (see `InterruptKind`): a
   * bookkeeping row, not a failure; its config is usually re-run as `requeuedAs`.
   */
  interrupted?: InterruptKind;
  /** The interrupted trial whose config this trial re-runs. */
  requeuedFrom?: number;
  /** The trial that re-runs this interrupted trial's config. */
  requeuedAs?: number;
}

/**
 * Why a RUNNING trial was stopped without a result of its own: `user` (Ctrl-C, SIGTERM),
 * `worker-died` (its process is gone), `stale` (no heartbeat for too long), `never-started`
 * (reserved by a worker that stopped before training it).
 */
export type InterruptKind = 'user' | 'worker-died' | 'stale' | 'never-started';

export const INTERRUPT_KINDS: readonly InterruptKind[] = ['user', 'worker-died', 'stale', 'never-started'];

/**
 * Whether a trial counts toward a study's trial target: every trial but the interrupted ones
 * (a re-queued config counts once, through its re-run).
 */
export function countsTowardTarget(t: InterruptedFields): boolean {
  return !(t.state === 'FAILED' && Boolean(t.interrupted));
}

/** A trial that ended badly because of its config: FAILED (not interrupted) or PRUNED. */
export function isRealFailure(t: InterruptedFields): boolean {
  return t.state === 'PRUNED' || (t.state === 'FAILED' && !t.interrupted);
}

/** What the two tests above read: a trial, or a stored row (which keeps null for "not interrupted"). */
interface InterruptedFields {
  state: TrialState;
  interrupted?: InterruptKind | null | undefined;
}

/** A study as stored. */
export interface StudyRecord {
  readonly name: string;
  /** One per objective, in objective order. */
  readonly directions: readonly Direction[];
  /** One per objective, unique, same order as `directions`. */
  readonly objectiveNames: readonly string[];
  readonly userAttrs: Readonly<Record<string, AttrValue>>;
  /**
   * What the library and its tools record about the study (search setup, sampler state,
   * retrain/baseline/transfer results), kept apart from the user's own attributes.
   */
  readonly systemAttrs: Readonly<Record<string, AttrValue>>;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** What `createStudy` needs. `objectiveNames` defaults to `objective_0`, `objective_1`, ... */
export interface StudySpec {
  name: string;
  directions: readonly Direction[];
  objectiveNames?: readonly string[];
  userAttrs?: Record<string, AttrValue>;
  systemAttrs?: Record<string, AttrValue>;
}

/** A trial snapshot from storage: a `FrozenTrial` plus the worker that claimed it, if any. */
export interface TrialRecord extends FrozenTrial {
  /** Who claimed or created it RUNNING (kept after it finishes, for the record). */
  readonly workerId?: string;
}

/**
 * How a new trial starts. WAITING = enqueued by hand, claimed later by `claimWaiting`;
 * RUNNING = created and claimed at once by `workerId`; COMPLETE/FAILED/PRUNED = copied in
 * finished (warm start from another study).
 */
export type TrialInit =
  | { state: 'WAITING'; config: Config; userAttrs?: Record<string, AttrValue> }
  | { state: 'RUNNING'; config: Config; workerId: string; userAttrs?: Record<string, AttrValue> }
  | {
      state: 'COMPLETE';
      config: Config;
      values: readonly number[];
      userAttrs?: Record<string, AttrValue>;
      startedAt?: number;
      finishedAt?: number;
    }
  | {
      state: 'FAILED' | 'PRUNED';
      config: Config;
      reason?: string;
      userAttrs?: Record<string, AttrValue>;
      startedAt?: number;
      finishedAt?: number;
    };

/** How a RUNNING trial ends. */
export type TrialOutcome =
  | { state: 'COMPLETE'; values: readonly number[] }
  | { state: 'FAILED'; reason: string }
  | { state: 'PRUNED'; reason?: string };

export interface ListTrialsOptions {
  /** Only trials in one of these states (all states when omitted). */
  states?: readonly TrialState[];
}

export interface CreateTrialOptions {
  /**
   * Create the trial only while the study holds fewer than this many trials that count toward a
   * target (`countsTowardTarget`), checked atomically with the insert; else `TrialLimitError`.
   */
  maxTrials?: number;
}

export interface InterruptOptions {
  kind: InterruptKind;
  /** Human text; default one line per kind, e.g. `interrupted by the user`. */
  reason?: string;
  /** Also enqueue its config again as a new WAITING trial (`requeuedFrom`), atomically. Default false. */
  requeue?: boolean;
}

export interface InterruptResult {
  /** The trial, now FAILED with `interrupted` set. */
  failed: TrialRecord;
  /** Its re-run, WAITING, when `requeue` was set. */
  requeued?: TrialRecord;
}

export interface FailStaleOptions {
  /** A RUNNING trial whose last heartbeat (or start, if it never beat) is older than this is stale. */
  olderThanMs: number;
  /** Also enqueue each failed trial's config again as a new WAITING trial. Default false. */
  requeue?: boolean;
  /** Workers known to be gone (e.g. dead processes of this host): their RUNNING trials fail at once (`worker-died`). */
  deadWorkers?: readonly string[];
}

export interface FailStaleResult {
  /** The stale trials, now FAILED (`interrupted`: `stale` or `worker-died`). */
  failed: TrialRecord[];
  /** The new WAITING trials (one per failed trial, same order) when `requeue` was set. */
  requeued: TrialRecord[];
}
