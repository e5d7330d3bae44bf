/**
 * SQLite storage (better-sqlite3): one file holds any number of studies; several processes may
 * ask and tell on it at once.
 *
 * Concurrency: WAL journal (readers never block the writer), a busy timeout (a writer waits for
 * the lock instead of failing), and every read-modify-write (claim, tell, numbering, attrs, stale
 * sweep) inside `BEGIN IMMEDIATE`, which takes the write lock up front, so two processes can never
 * both see the same WAITING trial as free or hand out the same trial number.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { AttrValue } from '../trials/index.js';
import {
  DuplicateStudyError,
  NotAutopeftDatabaseError,
  StorageBusyError,
  StorageClosedError,
  StorageError,
  TrialLimitError,
  TrialNotRunningError,
  UnknownStudyError,
  UnknownTrialError,
} from './errors.js';
import { checkIdentity, migrate, MIGRATIONS, type Migration } from './migrations.js';
import {
  COUNTED,
  newTrialRow,
  type StudyRow,
  studyRecord,
  TRIAL_COLUMNS,
  TRIAL_INSERT_COLUMNS,
  toTrialRecord,
  trialValues,
  withIntermediate,
  type TrialRow,
} from './rows.js';
import { defaultReason, interruptRow, orphanReason, type RowWriter } from './interrupt.js';
import { checkImport, trialRowOf } from './copy.js';
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
} from './validate.js';

export interface SqliteStorageOptions extends StorageOptions {
  /** How long a writer waits for another process's lock before failing. Default 30 000 ms. */
  busyTimeoutMs?: number;
  /** The schema migrations to apply; only tests of the migration machinery pass their own. */
  migrations?: readonly Migration[];
}

const SELECT_TRIAL = `SELECT ${TRIAL_COLUMNS} FROM trials`;
const INSERT_TRIAL = `INSERT INTO trials (study_id, ${TRIAL_INSERT_COLUMNS})
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

function isSqliteError(e: unknown): e is Error & { code: string } {
  return e instanceof Database.SqliteError;
}

/** Why a database file cannot be opened, as one line naming the path and the fix. */
function openError(path: string, e: unknown): StorageError {
  const why = (e as { message?: string }).message ?? String(e);
  let hint = 'point the storage at a writable .sqlite file';
  if (existsSync(path) && statSync(path).isDirectory()) hint = `${path} is a folder; name a file inside it`;
  else {
    // The nearest existing ancestor: a regular file there means the path goes "through" a file.
    let up = dirname(path);
    while (!existsSync(up) && dirname(up) !== up) up = dirname(up);
    if (existsSync(up) && !statSync(up).isDirectory()) hint = `${up} is a file, not a folder; choose another path`;
    else if ((e as { code?: string }).code?.startsWith('SQLITE_READONLY'))
      hint = 'the file or its folder is read-only; make both writable or copy the file elsewhere';
  }
  return new StorageError('SQLITE_CANTOPEN', `cannot open study database ${path} (${why.split('\n')[0]}): ${hint}`);
}

export class SqliteStorage implements Storage {
  readonly location: string;
  /** The resolved file path (or `:memory:`). */
  readonly path: string;
  /** The schema version of the file after opening. */
  readonly schemaVersion: number;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly busyTimeoutMs: number;
  private closed = false;

  constructor(path: string, options: SqliteStorageOptions = {}) {
    this.path = path === ':memory:' ? path : resolve(path);
    this.location = `sqlite:${this.path}`;
    this.now = options.now ?? Date.now;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 30_000;
    try {
      if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
      this.db = new Database(this.path, { timeout: this.busyTimeoutMs });
    } catch (e) {
      throw openError(this.path, e);
    }
    try {
      // Read-only look first: never turn someone else's file into WAL or add tables to it.
      checkIdentity(this.db, this.path);
      if (this.path !== ':memory:') this.db.pragma('journal_mode = WAL');
      // NOTE: NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commits).
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.schemaVersion = migrate(this.db, this.path, options.migrations ?? MIGRATIONS);
    } catch (e) {
      this.db.close();
      // A damaged file (SQLITE_CORRUPT: pages scrambled past a valid header) is told apart in `busy`.
      if (isSqliteError(e) && e.code === 'SQLITE_NOTADB') {
        throw new NotAutopeftDatabaseError(this.path, e.message);
      }
      if (isSqliteError(e) && (e.code.startsWith('SQLITE_READONLY') || e.code.startsWith('SQLITE_CANTOPEN'))) {
        throw openError(this.path, e);
      }
      throw this.busy(e);
    }
  }

  private open(): void {
    if (this.closed) throw new StorageClosedError(this.location);
  }

  /** Runs `fn` in a `BEGIN IMMEDIATE` transaction; a lock held past the busy timeout becomes `StorageBusyError`. */
  private immediate<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      throw this.busy(e);
    }
  }

  /**
   * An SQLite failure as one StorageError line naming the file and the fix: a lock held past the
   * busy timeout, a damaged file (pages scrambled past the header), a full disk or a file-size
   * limit, an I/O error, a file made read-only. Anything else (a bug) passes through.
   */
  private busy(e: unknown): unknown {
    if (!isSqliteError(e)) return e;
    const code = e.code;
    const why = e.message.split('\n')[0];
    if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_'))
      return new StorageBusyError(this.location, this.busyTimeoutMs);
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
      return new StorageError(
        'SQLITE_CORRUPT',
        `study database ${this.path} is damaged (${why}); restore it from a backup, or salvage what is readable with \`sqlite3 ${this.path} .recover | sqlite3 new.sqlite\` and use new.sqlite`,
      );
    if (code === 'SQLITE_FULL')
      return new StorageError(
        'SQLITE_FULL',
        `cannot write to study database ${this.path}: the disk is full (${why}); free some space and rerun (what was stored before is intact)`,
      );
    if (code.startsWith('SQLITE_IOERR'))
      return new StorageError(
        'SQLITE_IOERR',
        `cannot read or write study database ${this.path} (${why}, ${code}); check the disk, its free space and the file-size limit (ulimit -f), then rerun`,
      );
    if (code.startsWith('SQLITE_READONLY'))
      return new StorageError(
        'SQLITE_READONLY',
        `study database ${this.path} has become read-only (${why}); make the file and its folder writable and rerun`,
      );
    return e;
  }

  /** Runs a read; an SQLite failure becomes a StorageError line (see `busy`). */
  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw this.busy(e);
    }
  }

  private studyRow(name: string): StudyRow {
    this.open();
    const r = this.read(
      () => this.db.prepare(`SELECT * FROM studies WHERE name = ?`).get(name) as StudyRow | undefined,
    );
    if (!r) {
      const known = this.read(
        () => this.db.prepare(`SELECT name FROM studies ORDER BY id`).all() as { name: string }[],
      ).map((x) => x.name);
      throw new UnknownStudyError(name, this.location, known);
    }
    return r;
  }

  private trialRow(studyId: number, study: string, number: number): TrialRow {
    checkTrialNumber(number, `study "${study}"`);
    const r = this.read(
      () =>
        this.db.prepare(`${SELECT_TRIAL} WHERE study_id = ? AND number = ?`).get(studyId, number) as
          | TrialRow
          | undefined,
    );
    if (!r) throw new UnknownTrialError(study, number);
    return r;
  }

  private insertTrial(studyId: number, init: TrialInit, now: number, requeuedFrom: number | null = null): TrialRow {
    const { n } = this.db
      .prepare(`SELECT COALESCE(MAX(number), -1) + 1 AS n FROM trials WHERE study_id = ?`)
      .get(studyId) as { n: number };
    const row = newTrialRow(n, init, now, requeuedFrom);
    this.db.prepare(INSERT_TRIAL).run(studyId, ...trialValues(row));
    return row;
  }

  /**
   * Inserts a study row (DuplicateStudyError if the name is taken; created now unless `createdAt`
   * is given) and returns its id; inside `immediate`.
   */
  private insertStudy(
    s: Pick<StudyRecord, 'name' | 'directions' | 'objectiveNames'> & {
      createdAt?: number;
      userAttrs?: Readonly<Record<string, AttrValue>> | undefined;
      systemAttrs?: Readonly<Record<string, AttrValue>> | undefined;
    },
  ): number | bigint {
    if (this.db.prepare(`SELECT 1 FROM studies WHERE name = ?`).get(s.name))
      throw new DuplicateStudyError(s.name, this.location);
    return this.db
      .prepare(
        `INSERT INTO studies (name, directions, objective_names, user_attrs, system_attrs, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        s.name,
        JSON.stringify(s.directions),
        JSON.stringify(s.objectiveNames),
        JSON.stringify(s.userAttrs ?? {}),
        JSON.stringify(s.systemAttrs ?? {}),
        s.createdAt ?? this.now(),
      ).lastInsertRowid;
  }

  /** Writes interrupted rows back and inserts re-runs (the SQLite side of `interruptRow`). */
  private writer(studyId: number): RowWriter {
    return {
      update: (row) => {
        this.db
          .prepare(
            `UPDATE trials SET state = ?, reason = ?, finished_at = ?, interrupted = ?, requeued_as = ? WHERE study_id = ? AND number = ?`,
          )
          .run(row.state, row.reason, row.finishedAt, row.interrupted, row.requeuedAs, studyId, row.number);
      },
      insert: (init, now, requeuedFrom) => this.insertTrial(studyId, init, now, requeuedFrom),
    };
  }

  async createStudy(spec: StudySpec): Promise<StudyRecord> {
    this.open();
    const names = checkStudySpec(spec);
    const row = this.immediate(() => {
      this.insertStudy({ ...spec, objectiveNames: names });
      return this.studyRow(spec.name);
    });
    return studyRecord(row);
  }

  async getStudy(name: string): Promise<StudyRecord> {
    return studyRecord(this.studyRow(name));
  }

  async findStudy(name: string): Promise<StudyRecord | undefined> {
    this.open();
    const r = this.read(
      () => this.db.prepare(`SELECT * FROM studies WHERE name = ?`).get(name) as StudyRow | undefined,
    );
    return r ? studyRecord(r) : undefined;
  }

  async listStudies(): Promise<StudyRecord[]> {
    this.open();
    return this.read(() => this.db.prepare(`SELECT * FROM studies ORDER BY id`).all() as StudyRow[]).map(studyRecord);
  }

  async studyMarkers(): Promise<StudyMarker[]> {
    this.open();
    // Per study: its trials' count and newest number in each state, from the (study_id, state,
    // number) index alone (every state change moves a count: a trial only goes WAITING -> RUNNING
    // -> done), and a hash of the attributes. `version` adds the file's write counters:
    // PRAGMA data_version moves on every commit of another connection, total_changes() on this
    // connection's own writes. One read transaction: both statements see the same commit.
    const { studies, counts } = this.read(() =>
      this.db.transaction(() => ({
        studies: this.db
          .prepare(
            `SELECT id, name, created_at AS createdAt, user_attrs AS userAttrs, system_attrs AS systemAttrs,
               (SELECT data_version FROM pragma_data_version) || '.' || total_changes() AS writes
             FROM studies ORDER BY id`,
          )
          .all() as {
          id: number;
          name: string;
          createdAt: number;
          userAttrs: string;
          systemAttrs: string;
          writes: string;
        }[],
        counts: this.db
          .prepare(
            `SELECT study_id AS id, state, COUNT(*) AS n, MAX(number) AS last FROM trials GROUP BY study_id, state`,
          )
          .all() as { id: number; state: string; n: number; last: number }[],
      }))(),
    );
    const byStudy = new Map<number, string[]>();
    for (const c of counts) {
      const parts = byStudy.get(c.id) ?? [];
      parts.push(`${c.state[0]}${c.n}<${c.last}`);
      byStudy.set(c.id, parts);
    }
    return studies.map((r) => {
      const attrs = createHash('sha1').update(r.userAttrs).update('\0').update(r.systemAttrs).digest('base64url');
      const trials = (byStudy.get(r.id) ?? []).sort().join(',');
      const progress = `${r.id}:${r.createdAt}:${trials}:${attrs}`;
      return { name: r.name, progress, version: `${progress}|${r.writes}` };
    });
  }

  async deleteStudy(name: string): Promise<void> {
    this.open();
    this.immediate(() => {
      const s = this.studyRow(name);
      this.db.prepare(`DELETE FROM trials WHERE study_id = ?`).run(s.id);
      this.db.prepare(`DELETE FROM studies WHERE id = ?`).run(s.id);
    });
  }

  async setStudyUserAttrs(study: string, attrs: Record<string, AttrValue>): Promise<void> {
    this.open();
    checkAttrs(attrs, `study "${study}" userAttrs`);
    this.immediate(() => {
      const s = this.studyRow(study);
      const merged = { ...(JSON.parse(s.user_attrs) as Record<string, AttrValue>), ...attrs };
      this.db.prepare(`UPDATE studies SET user_attrs = ? WHERE id = ?`).run(JSON.stringify(merged), s.id);
    });
  }

  async setStudySystemAttrs(study: string, attrs: Record<string, AttrValue>): Promise<void> {
    this.open();
    checkAttrs(attrs, `study "${study}" systemAttrs`);
    this.immediate(() => {
      const s = this.studyRow(study);
      const merged = { ...(JSON.parse(s.system_attrs) as Record<string, AttrValue>), ...attrs };
      this.db.prepare(`UPDATE studies SET system_attrs = ? WHERE id = ?`).run(JSON.stringify(merged), s.id);
    });
  }

  async createTrial(study: string, init: TrialInit, options: CreateTrialOptions = {}): Promise<TrialRecord> {
    const s = this.studyRow(study);
    const names = JSON.parse(s.objective_names) as string[];
    checkTrialInit(init, names.length, names, `study "${study}" new trial`);
    const max = options.maxTrials;
    checkMaxTrials(max, `study "${study}" new trial`);
    return this.immediate(() => {
      if (max !== undefined) {
        const { n } = this.db
          .prepare(`SELECT COUNT(*) AS n FROM trials WHERE study_id = ? AND ${COUNTED}`)
          .get(s.id) as { n: number };
        if (n >= max) throw new TrialLimitError(study, max);
      }
      return toTrialRecord(this.insertTrial(s.id, init, this.now()));
    });
  }

  async claimWaiting(study: string, workerId: string): Promise<TrialRecord | undefined> {
    const s = this.studyRow(study);
    checkWorkerId(workerId, `study "${study}" claim`);
    return this.immediate((): TrialRecord | undefined => {
      const r = this.db
        .prepare(`${SELECT_TRIAL} WHERE study_id = ? AND state = 'WAITING' ORDER BY number LIMIT 1`)
        .get(s.id) as TrialRow | undefined;
      if (!r) return undefined;
      const now = this.now();
      this.db
        .prepare(
          `UPDATE trials SET state = 'RUNNING', worker_id = ?, started_at = ?, heartbeat_at = ? WHERE study_id = ? AND number = ?`,
        )
        .run(workerId, now, now, s.id, r.number);
      return toTrialRecord({ ...r, state: 'RUNNING', workerId, startedAt: now, heartbeatAt: now });
    });
  }

  async tellTrial(study: string, number: number, outcome: TrialOutcome): Promise<TrialRecord> {
    const s = this.studyRow(study);
    const names = JSON.parse(s.objective_names) as string[];
    return this.immediate(() => {
      const r = this.trialRow(s.id, study, number);
      checkOutcome(outcome, names.length, names, `study "${study}" trial #${number}`);
      if (r.state !== 'RUNNING') throw new TrialNotRunningError(study, number, r.state, 'tell');
      const now = this.now();
      const values = outcome.state === 'COMPLETE' ? JSON.stringify(outcome.values) : null;
      const reason = outcome.state === 'COMPLETE' ? null : (outcome.reason ?? null);
      this.db
        .prepare(
          `UPDATE trials SET state = ?, values_json = ?, reason = ?, finished_at = ? WHERE study_id = ? AND number = ?`,
        )
        .run(outcome.state, values, reason, now, s.id, number);
      return toTrialRecord({ ...r, state: outcome.state, values, reason, finishedAt: now });
    });
  }

  async setTrialUserAttrs(study: string, number: number, attrs: Record<string, AttrValue>): Promise<void> {
    const s = this.studyRow(study);
    this.immediate(() => {
      const r = this.trialRow(s.id, study, number);
      checkAttrs(attrs, `study "${study}" trial #${number} userAttrs`);
      const merged = { ...(JSON.parse(r.userAttrs) as Record<string, AttrValue>), ...attrs };
      this.db
        .prepare(`UPDATE trials SET user_attrs = ? WHERE study_id = ? AND number = ?`)
        .run(JSON.stringify(merged), s.id, number);
    });
  }

  async reportIntermediate(study: string, number: number, step: number, value: number): Promise<void> {
    const s = this.studyRow(study);
    this.immediate(() => {
      const r = this.trialRow(s.id, study, number);
      checkIntermediate(step, value, `study "${study}" trial #${number}`);
      if (r.state !== 'RUNNING')
        throw new TrialNotRunningError(study, number, r.state, 'report an intermediate value of');
      this.db
        .prepare(`UPDATE trials SET intermediate = ? WHERE study_id = ? AND number = ?`)
        .run(withIntermediate(r.intermediate, step, value), s.id, number);
    });
  }

  async heartbeat(study: string, number: number): Promise<void> {
    const s = this.studyRow(study);
    checkTrialNumber(number, `study "${study}"`);
    // One conditional UPDATE is atomic on its own: no explicit transaction needed on the hot path.
    let res: Database.RunResult;
    try {
      res = this.db
        .prepare(`UPDATE trials SET heartbeat_at = ? WHERE study_id = ? AND number = ? AND state = 'RUNNING'`)
        .run(this.now(), s.id, number);
    } catch (e) {
      throw this.busy(e);
    }
    if (res.changes === 0) {
      const r = this.trialRow(s.id, study, number);
      throw new TrialNotRunningError(study, number, r.state, 'heartbeat');
    }
  }

  async getTrial(study: string, number: number): Promise<TrialRecord> {
    const s = this.studyRow(study);
    return toTrialRecord(this.trialRow(s.id, study, number));
  }

  async listTrials(study: string, options: ListTrialsOptions = {}): Promise<TrialRecord[]> {
    const s = this.studyRow(study);
    const states = options.states;
    let rows: TrialRow[];
    if (states && states.length === 0) return [];
    if (states) {
      const marks = states.map(() => '?').join(', ');
      rows = this.read(
        () =>
          this.db
            .prepare(`${SELECT_TRIAL} WHERE study_id = ? AND state IN (${marks}) ORDER BY number`)
            .all(s.id, ...states) as TrialRow[],
      );
    } else {
      rows = this.read(
        () => this.db.prepare(`${SELECT_TRIAL} WHERE study_id = ? ORDER BY number`).all(s.id) as TrialRow[],
      );
    }
    return rows.map(toTrialRecord);
  }

  async interruptTrial(study: string, number: number, options: InterruptOptions): Promise<InterruptResult> {
    const s = this.studyRow(study);
    checkInterrupt(options, `study "${study}" trial #${number}`);
    return this.immediate(() => {
      const r = this.trialRow(s.id, study, number);
      if (r.state !== 'RUNNING') throw new TrialNotRunningError(study, number, r.state, 'interrupt');
      const reason = options.reason ?? defaultReason(options.kind, r);
      return interruptRow(r, options.kind, reason, options.requeue === true, this.now(), this.writer(s.id));
    });
  }

  async failStale(study: string, options: FailStaleOptions): Promise<FailStaleResult> {
    const s = this.studyRow(study);
    checkOlderThan(options.olderThanMs, `study "${study}" failStale`);
    return this.immediate((): FailStaleResult => {
      const now = this.now();
      const running = this.db
        .prepare(`${SELECT_TRIAL} WHERE study_id = ? AND state = 'RUNNING' ORDER BY number`)
        .all(s.id) as TrialRow[];
      const failed: TrialRecord[] = [];
      const requeued: TrialRecord[] = [];
      for (const row of running) {
        const why = orphanReason(row, now, options.olderThanMs, options.deadWorkers);
        if (why === undefined) continue;
        const r = interruptRow(row, why.kind, why.reason, options.requeue === true, now, this.writer(s.id));
        failed.push(r.failed);
        if (r.requeued) requeued.push(r.requeued);
      }
      return { failed, requeued };
    });
  }

  async importStudy(study: StudyRecord, trials: readonly TrialRecord[]): Promise<void> {
    this.open();
    checkImport(study, trials);
    this.immediate(() => {
      const id = this.insertStudy(study);
      const insert = this.db.prepare(INSERT_TRIAL);
      for (const t of trials) insert.run(id, ...trialValues(trialRowOf(t)));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

/** Opens (creating if needed, migrating if older) an autopeft SQLite file. */
export function openSqliteStorage(path: string, options: SqliteStorageOptions = {}): SqliteStorage {
  return new SqliteStorage(path, options);
}
