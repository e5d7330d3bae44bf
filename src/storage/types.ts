/**
 * The storage contract: where studies and their trials live. Backends (memory, SQLite, ...) all
 * implement `Storage` and all pass the same conformance suite (`conformance.ts`).
 *
 * A storage never sees a sampler. It only persists the types of the trials room (`src/trials/`),
 * re-exported here for the storage's users.
 * Every method is async so that networked backends fit the same interface; the local backends
 * answer synchronously inside.
 */
import type {
  AttrValue,
  CreateTrialOptions,
  FailStaleOptions,
  FailStaleResult,
  InterruptOptions,
  InterruptResult,
  ListTrialsOptions,
  StudyRecord,
  StudySpec,
  TrialInit,
  TrialOutcome,
  TrialRecord,
} from '../trials/index.js';

export type {
  CreateTrialOptions,
  FailStaleOptions,
  FailStaleResult,
  InterruptOptions,
  InterruptResult,
  ListTrialsOptions,
  StudyRecord,
  StudySpec,
  TrialInit,
  TrialOutcome,
  TrialRecord,
} from '../trials/index.js';

/**
 * A study's change marker (`Storage.studyMarkers`): opaque tokens, only ever compared with the same
 * study's tokens from an earlier call on the same storage object.
 */
export interface StudyMarker {
  readonly name: string;
  /**
   * Changes when a trial is created or changes state (claimed, told, interrupted, failed as
   * stale), when the study's attributes change, and when the study is deleted and created again.
   * Heartbeats, intermediate values and trial attributes leave it as it is.
   */
  readonly progress: string;
  /**
   * Changes with `progress` and on every other write to the study too (heartbeats, intermediate
   * values, trial attributes). It may also change when the study did not (SQLite: any write to the
   * file), never the other way round.
   */
  readonly version: string;
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
  /**
   * Every study's change marker, in creation order, from one small query that reads no trial's
   * data: what a viewer polls to learn cheaply whether a study changed.
   */
  studyMarkers(): Promise<StudyMarker[]>;
  /** Deletes a study and all its trials; throws `UnknownStudyError` when absent. */
  deleteStudy(name: string): Promise<void>;
  /** Merges `attrs` into the study's user attributes. */
  setStudyUserAttrs(study: string, attrs: Record<string, AttrValue>): Promise<void>;
  /** Merges `attrs` into the study's system attributes (the library's own records; never mixed with user attributes). */
  setStudySystemAttrs(study: string, attrs: Record<string, AttrValue>): Promise<void>;

  /**
   * Creates a trial with the next dense number (0, 1, 2, ... per study). With `maxTrials`, throws
   * `TrialLimitError` instead when the study already holds that many trials counting toward a
   * target (checked atomically with the insert, so concurrent workers never overshoot it).
   */
  createTrial(study: string, init: TrialInit, options?: CreateTrialOptions): Promise<TrialRecord>;
  /**
   * Atomically moves the oldest WAITING trial to RUNNING for `workerId` and returns it;
   * `undefined` when none waits. Two concurrent callers (even in two processes) never get the same trial.
   */
  claimWaiting(study: string, workerId: string): Promise<TrialRecord | undefined>;
  /** Finishes a RUNNING trial; throws `TrialNotRunningError` for any other state. */
  tellTrial(study: string, number: number, outcome: TrialOutcome): Promise<TrialRecord>;
  /** Merges `attrs` into a trial's user attributes (any state). */
  setTrialUserAttrs(study: string, number: number, attrs: Record<string, AttrValue>): Promise<void>;
  /**
   * Records an intermediate value of a RUNNING trial (e.g. its validation metric after `step`
   * training examples seen), replacing an earlier one at the same step; read back as the trial's
   * `intermediateValues`. `TrialNotRunningError` for any other state.
   */
  reportIntermediate(study: string, number: number, step: number, value: number): Promise<void>;
  /** Records that the worker of a RUNNING trial is alive; throws `TrialNotRunningError` otherwise. */
  heartbeat(study: string, number: number): Promise<void>;
  /** Throws `UnknownTrialError` when absent. */
  getTrial(study: string, number: number): Promise<TrialRecord>;
  /** Trials sorted by number. */
  listTrials(study: string, options?: ListTrialsOptions): Promise<TrialRecord[]>;
  /**
   * Fails a RUNNING trial that stopped through no fault of its config (`interrupted` = the kind)
   * and, with `requeue`, enqueues its config again, atomically; `TrialNotRunningError` otherwise.
   */
  interruptTrial(study: string, number: number, options: InterruptOptions): Promise<InterruptResult>;
  /**
   * Fails RUNNING trials without a recent heartbeat (`stale`) or held by a listed dead worker
   * (`worker-died`), optionally re-queueing their configs, atomically (the same mechanism as `interruptTrial`).
   */
  failStale(study: string, options: FailStaleOptions): Promise<FailStaleResult>;

  /**
   * Optional: runs `fn` while holding the study's exclusive ask lock, across every process and
   * machine using the backend (PostgreSQL: an advisory lock), so that a sampler's
   * read-history -> propose -> store-state -> create-trials runs for one asker at a time. Backends
   * without it leave concurrent asks unserialized.
   */
  withStudyLock?<T>(study: string, fn: () => Promise<T>): Promise<T>;

  /**
   * Optional: stores a study and its trials exactly as given (creation times, numbers, states,
   * worker ids, interrupt links), atomically: what a lossless copy between backends needs
   * (`copyStudy`). Throws `DuplicateStudyError` when the name is taken.
   */
  importStudy?(study: StudyRecord, trials: readonly TrialRecord[]): Promise<void>;

  /** Releases the backend; later calls throw `StorageClosedError`. Idempotent. */
  close(): Promise<void>;
}

/** Options every local backend accepts. */
export interface StorageOptions {
  /** Clock in milliseconds since the epoch (tests inject a fake one). Default `Date.now`. */
  now?: () => number;
}
