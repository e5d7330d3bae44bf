/**
 * The storage contract: where studies and their trials live. Backends (memory, SQLite, ...) all
 * implement `Storage` and all pass the same conformance suite (`conformance.ts`).
 *
 * A storage never sees a sampler. It only persists the types of `src/search/types.ts`.
 * Every method is async so that networked backends fit the same interface; the local backends
 * answer synchronously inside.
 */
import type { AttrValue, Config, Direction, FrozenTrial, TrialState } from '../search/types.js';

/** A study as stored. */
export interface StudyRecord {
  readonly name: string;
  /** One per objective, in objective order. */
  readonly directions: readonly Direction[];
  /** One per objective, unique, same order as `directions`. */
  readonly objectiveNames: readonly string[];
  readonly userAttrs: Readonly<Record<string, AttrValue>>;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** What `createStudy` needs. `objectiveNames` defaults to `objective_0`, `objective_1`, ... */
export interface StudySpec {
  name: string;
  directions: readonly Direction[];
  objectiveNames?: readonly string[];
  userAttrs?: Record<string, AttrValue>;
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

export interface FailStaleOptions {
  /** A RUNNING trial whose last heartbeat (or start, if it never beat) is older than this is stale. */
  olderThanMs: number;
  /** Also enqueue each stale trial's config again as a new WAITING trial. Default false. */
  requeue?: boolean;
}

export interface FailStaleResult {
  /** The stale trials, now FAILED. */
  failed: TrialRecord[];
  /** The new WAITING trials (one per failed trial, same order) when `requeue` was set. */
  requeued: TrialRecord[];
}

export interface Storage {
  /** A short human description for error messages, e.g. `memory` or `sqlite:/path/to.db`. */
  readonly location: string;

  /** Creates a study; throws `DuplicateStudyError` when the name is taken. */
  createStudy(spec: StudySpec): Promise<StudyRecord>;
  /** Throws `UnknownStudyError` when absent. */
  getStudy(name: string): Promise<StudyRecord>;
  /** `undefined` when absent. */
  findStudy(name: string): Promise<StudyRecord | undefined>;
  /** All studies, in creation order. */
  listStudies(): Promise<StudyRecord[]>;
  /** Deletes a study and all its trials; throws `UnknownStudyError` when absent. */
  deleteStudy(name: string): Promise<void>;
  /** Merges `attrs` into the study's user attributes. */
  setStudyUserAttrs(study: string, attrs: Record<string, AttrValue>): Promise<void>;

  /** Creates a trial with the next dense number (0, 1, 2, ... per study). */
  createTrial(study: string, init: TrialInit): Promise<TrialRecord>;
  /**
   * Atomically moves the oldest WAITING trial to RUNNING for `workerId` and returns it;
   * `undefined` when none waits. Two concurrent callers (even in two processes) never get the same trial.
   */
  claimWaiting(study: string, workerId: string): Promise<TrialRecord | undefined>;
  /** Finishes a RUNNING trial; throws `TrialNotRunningError` for any other state. */
  tellTrial(study: string, number: number, outcome: TrialOutcome): Promise<TrialRecord>;
  /** Merges `attrs` into a trial's user attributes (any state). */
  setTrialUserAttrs(study: string, number: number, attrs: Record<string, AttrValue>): Promise<void>;
  /** Records that the worker of a RUNNING trial is alive; throws `TrialNotRunningError` otherwise. */
  heartbeat(study: string, number: number): Promise<void>;
  /** Throws `UnknownTrialError` when absent. */
  getTrial(study: string, number: number): Promise<TrialRecord>;
  /** Trials sorted by number. */
  listTrials(study: string, options?: ListTrialsOptions): Promise<TrialRecord[]>;
  /** Fails RUNNING trials without a recent heartbeat, optionally re-queueing their configs, atomically. */
  failStale(study: string, options: FailStaleOptions): Promise<FailStaleResult>;

  /** Releases the backend; later calls throw `StorageClosedError`. Idempotent. */
  close(): Promise<void>;
}

/** Options every local backend accepts. */
export interface StorageOptions {
  /** Clock in milliseconds since the epoch (tests inject a fake one). Default `Date.now`. */
  now?: () => number;
}
