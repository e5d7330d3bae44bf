/**
 * In-memory storage: for tests, notebooks and single-process searches that need no file.
 * Configs, values and attributes are kept as JSON text, exactly like the SQLite backend, so both
 * return identical snapshots for identical calls (the conformance suite compares them).
 */
import { countsTowardTarget, type AttrValue, type Direction } from '../trials/index.js';
import {
  DuplicateStudyError,
  StorageClosedError,
  TrialLimitError,
  TrialNotRunningError,
  UnknownStudyError,
  UnknownTrialError,
} from './errors.js';
import type {
  CreateTrialOptions,
  FailStaleOptions,
  FailStaleResult,
  InterruptOptions,
  InterruptResult,
  ListTrialsOptions,
  Storage,
  StorageOptions,
  StudyMarker,
  StudyRecord,
  StudySpec,
  TrialInit,
  TrialOutcome,
  TrialRecord,
} from './types.js';
import {
  checkAttrs,
  checkIntermediate,
  checkInterrupt,
  checkMaxTrials,
  checkOlderThan,
  checkOutcome,
  checkStudySpec,
  checkTrialInit,
  checkTrialNumber,
  checkWorkerId,
  deepFreeze,
} from './validate.js';
import { defaultReason, interruptRow, orphanReason, type RowWriter } from './interrupt.js';
import { checkImport, trialRowOf } from './copy.js';
import { newTrialRow, toTrialRecord, withIntermediate, type TrialRow as Row } from './rows.js';

interface StudyEntry {
  name: string;
  directions: Direction[];
  objectiveNames: string[];
  userAttrs: string;
  systemAttrs: string;
  createdAt: number;
  trials: Row[];
  /** Storage-wide creation number: a study deleted and created again gets new markers. */
  id: number;
  /** Write counters behind `studyMarkers`: `progress` counts trial creations, state changes and attribute writes; `version` every write. */
  progress: number;
  version: number;
}

export class MemoryStorage implements Storage {
  readonly location = 'memory';
  private readonly studies = new Map<string, StudyEntry>();
  private readonly now: () => number;
  private closed = false;
  private nextStudyId = 0;

  constructor(options: StorageOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  private open(): void {
    if (this.closed) throw new StorageClosedError(this.location);
  }

  /** Counts a write to `s` for its markers (`progress`: one that `StudyMarker.progress` must see). */
  private wrote(s: StudyEntry, progress: boolean): void {
    s.version++;
    if (progress) s.progress++;
  }

  private study(name: string): StudyEntry {
    this.open();
    const s = this.studies.get(name);
    if (!s) throw new UnknownStudyError(name, this.location, [...this.studies.keys()]);
    return s;
  }

  private row(study: string, number: number): { s: StudyEntry; row: Row } {
    const s = this.study(study);
    checkTrialNumber(number, `study "${study}"`);
    const row = s.trials[number];
    if (!row) throw new UnknownTrialError(study, number);
    return { s, row };
  }

  private record(s: StudyEntry): StudyRecord {
    return deepFreeze({
      name: s.name,
      directions: [...s.directions],
      objectiveNames: [...s.objectiveNames],
      userAttrs: JSON.parse(s.userAttrs) as Record<string, AttrValue>,
      systemAttrs: JSON.parse(s.systemAttrs) as Record<string, AttrValue>,
      createdAt: s.createdAt,
    });
  }

  async createStudy(spec: StudySpec): Promise<StudyRecord> {
    this.open();
    const names = checkStudySpec(spec);
    if (this.studies.has(spec.name)) throw new DuplicateStudyError(spec.name, this.location);
    const s: StudyEntry = {
      name: spec.name,
      directions: [...spec.directions],
      objectiveNames: names,
      userAttrs: JSON.stringify(spec.userAttrs ?? {}),
      systemAttrs: JSON.stringify(spec.systemAttrs ?? {}),
      createdAt: this.now(),
      trials: [],
      id: this.nextStudyId++,
      progress: 0,
      version: 0,
    };
    this.studies.set(spec.name, s);
    return this.record(s);
  }

  async getStudy(name: string): Promise<StudyRecord> {
    return this.record(this.study(name));
  }

  async findStudy(name: string): Promise<StudyRecord | undefined> {
    this.open();
    const s = this.studies.get(name);
    return s ? this.record(s) : undefined;
  }

  async listStudies(): Promise<StudyRecord[]> {
    this.open();
    return [...this.studies.values()].map((s) => this.record(s));
  }

  async studyMarkers(): Promise<StudyMarker[]> {
    this.open();
    return [...this.studies.values()].map((s) => ({
      name: s.name,
      progress: `${s.id}:${s.progress}`,
      version: `${s.id}:${s.version}`,
    }));
  }

  async deleteStudy(name: string): Promise<void> {
    this.study(name);
    this.studies.delete(name);
  }

  async setStudyUserAttrs(study: string, attrs: Record<string, AttrValue>): Promise<void> {
    const s = this.study(study);
    checkAttrs(attrs, `study "${study}" userAttrs`);
    s.userAttrs = JSON.stringify({ ...JSON.parse(s.userAttrs), ...attrs });
    this.wrote(s, true);
  }

  async setStudySystemAttrs(study: string, attrs: Record<string, AttrValue>): Promise<void> {
    const s = this.study(study);
    checkAttrs(attrs, `study "${study}" systemAttrs`);
    s.systemAttrs = JSON.stringify({ ...JSON.parse(s.systemAttrs), ...attrs });
    this.wrote(s, true);
  }

  /** Writes interrupted rows back and appends re-runs (the memory side of `interruptRow`). */
  private writer(s: StudyEntry): RowWriter {
    return {
      update: (row) => {
        s.trials[row.number] = row;
      },
      insert: (init, now, requeuedFrom) => {
        const row = newTrialRow(s.trials.length, init, now, requeuedFrom);
        s.trials.push(row);
        return row;
      },
    };
  }

  async createTrial(study: string, init: TrialInit, options: CreateTrialOptions = {}): Promise<TrialRecord> {
    const s = this.study(study);
    checkTrialInit(init, s.directions.length, s.objectiveNames, `study "${study}" new trial`);
    checkMaxTrials(options.maxTrials, `study "${study}" new trial`);
    if (options.maxTrials !== undefined && s.trials.filter(countsTowardTarget).length >= options.maxTrials)
      throw new TrialLimitError(study, options.maxTrials);
    const row = newTrialRow(s.trials.length, init, this.now());
    s.trials.push(row);
    this.wrote(s, true);
    return toTrialRecord(row);
  }

  async claimWaiting(study: string, workerId: string): Promise<TrialRecord | undefined> {
    const s = this.study(study);
    checkWorkerId(workerId, `study "${study}" claim`);
    const row = s.trials.find((t) => t.state === 'WAITING');
    if (!row) return undefined;
    const now = this.now();
    row.state = 'RUNNING';
    row.workerId = workerId;
    row.startedAt = now;
    row.heartbeatAt = now;
    this.wrote(s, true);
    return toTrialRecord(row);
  }

  async tellTrial(study: string, number: number, outcome: TrialOutcome): Promise<TrialRecord> {
    const { s, row } = this.row(study, number);
    checkOutcome(outcome, s.directions.length, s.objectiveNames, `study "${study}" trial #${number}`);
    if (row.state !== 'RUNNING') throw new TrialNotRunningError(study, number, row.state, 'tell');
    row.state = outcome.state;
    row.finishedAt = this.now();
    if (outcome.state === 'COMPLETE') row.values = JSON.stringify(outcome.values);
    else row.reason = outcome.reason ?? null;
    this.wrote(s, true);
    return toTrialRecord(row);
  }

  async setTrialUserAttrs(study: string, number: number, attrs: Record<string, AttrValue>): Promise<void> {
    const { s, row } = this.row(study, number);
    checkAttrs(attrs, `study "${study}" trial #${number} userAttrs`);
    row.userAttrs = JSON.stringify({ ...JSON.parse(row.userAttrs), ...attrs });
    this.wrote(s, false);
  }

  async reportIntermediate(study: string, number: number, step: number, value: number): Promise<void> {
    const { s, row } = this.row(study, number);
    checkIntermediate(step, value, `study "${study}" trial #${number}`);
    if (row.state !== 'RUNNING')
      throw new TrialNotRunningError(study, number, row.state, 'report an intermediate value of');
    row.intermediate = withIntermediate(row.intermediate, step, value);
    this.wrote(s, false);
  }

  async heartbeat(study: string, number: number): Promise<void> {
    const { s, row } = this.row(study, number);
    if (row.state !== 'RUNNING') throw new TrialNotRunningError(study, number, row.state, 'heartbeat');
    row.heartbeatAt = this.now();
    this.wrote(s, false);
  }

  async getTrial(study: string, number: number): Promise<TrialRecord> {
    return toTrialRecord(this.row(study, number).row);
  }

  async listTrials(study: string, options: ListTrialsOptions = {}): Promise<TrialRecord[]> {
    const s = this.study(study);
    const states = options.states;
    return s.trials.filter((t) => !states || states.includes(t.state)).map(toTrialRecord);
  }

  async interruptTrial(study: string, number: number, options: InterruptOptions): Promise<InterruptResult> {
    const { s, row } = this.row(study, number);
    checkInterrupt(options, `study "${study}" trial #${number}`);
    if (row.state !== 'RUNNING') throw new TrialNotRunningError(study, number, row.state, 'interrupt');
    const reason = options.reason ?? defaultReason(options.kind, row);
    this.wrote(s, true);
    return interruptRow(row, options.kind, reason, options.requeue === true, this.now(), this.writer(s));
  }

  async failStale(study: string, options: FailStaleOptions): Promise<FailStaleResult> {
    const s = this.study(study);
    checkOlderThan(options.olderThanMs, `study "${study}" failStale`);
    const now = this.now();
    const failed: TrialRecord[] = [];
    const requeued: TrialRecord[] = [];
    for (const row of s.trials.filter((t) => t.state === 'RUNNING')) {
      const why = orphanReason(row, now, options.olderThanMs, options.deadWorkers);
      if (why === undefined) continue;
      const r = interruptRow(row, why.kind, why.reason, options.requeue === true, now, this.writer(s));
      failed.push(r.failed);
      if (r.requeued) requeued.push(r.requeued);
    }
    if (failed.length > 0) this.wrote(s, true);
    return { failed, requeued };
  }

  async importStudy(study: StudyRecord, trials: readonly TrialRecord[]): Promise<void> {
    this.open();
    checkImport(study, trials);
    if (this.studies.has(study.name)) throw new DuplicateStudyError(study.name, this.location);
    this.studies.set(study.name, {
      name: study.name,
      directions: [...study.directions],
      objectiveNames: [...study.objectiveNames],
      userAttrs: JSON.stringify(study.userAttrs),
      systemAttrs: JSON.stringify(study.systemAttrs),
      createdAt: study.createdAt,
      trials: trials.map(trialRowOf),
      id: this.nextStudyId++,
      progress: 0,
      version: 0,
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A fresh in-memory storage. */
export function memoryStorage(options: StorageOptions = {}): MemoryStorage {
  return new MemoryStorage(options);
}
