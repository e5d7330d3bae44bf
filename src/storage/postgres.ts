/**
 * PostgreSQL storage (node-postgres): one database serves any number of `autopeft worker`
 * processes on any number of machines (optuna's RDB model). Same contract, same conformance
 * suite and the same schema versions as the SQLite backend.
 *
 * Concurrency (every guarantee is the server's, none relies on clocks or on one process):
 * - numbering and `maxTrials`: `createTrial` locks the study's row (`SELECT ... FOR UPDATE`), so
 *   trial numbers stay dense and a target is never overshot, whatever the number of writers;
 * - claims: one `UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED)`: concurrent claimers
 *   skip each other's rows instead of queueing on them, and a trial is claimed once;
 * - tell / heartbeat / interrupt / stale sweep: a row lock on the trial (the sweep and interrupts
 *   lock the study row first, as they insert re-runs), always in the order study -> trial;
 * - sampling: `withStudyLock` holds a session-level advisory lock per study around a sampler's
 *   read-state -> propose -> write-state -> insert, so concurrent asks never see the same history
 *   and never propose the same configuration, and each sees the others' pending trials.
 *
 * Time: unless a test injects `now`, timestamps come from the SERVER's clock (the local clock plus
 * an offset measured at connect and every minute), so heartbeats written from machines with
 * skewed clocks are judged on one time line.
 *
 * Lost connections: a call that meets a dropped connection (server restart, network blip) retries
 * with exponential backoff for `retryForMs`, then fails with `StorageUnavailableError`. A retried
 * `createTrial` / `claimWaiting` whose COMMIT may have landed first looks for its own row (same
 * worker, same timestamp) before trying again, so a blip never creates or claims twice.
 */
import pg from 'pg';
import type { AttrValue } from '../trials/index.js';
import {
  DuplicateStudyError,
  NotAutopeftDatabaseError,
  SchemaTooNewError,
  StorageClosedError,
  StorageError,
  TrialLimitError,
  TrialNotRunningError,
  UnknownStudyError,
  UnknownTrialError,
} from './errors.js';
import { checkImport, trialRowOf } from './copy.js';
import { defaultReason, interruptRow, orphanReason, type RowWriter } from './interrupt.js';
import { splitV1Attrs } from './migrations.js';
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

/** What queries run on: a pooled connection inside a transaction, or the pool itself. */
type Db = Pick<pg.ClientBase, 'query'>;

/** A schema step on PostgreSQL: the same versions and descriptions as the SQLite `MIGRATIONS`. */
export interface PgMigration {
  version: number;
  description: string;
  up(db: Db): Promise<void>;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: 'studies and trials',
    async up(db) {
      await db.query(`
        CREATE TABLE studies (
          id BIGSERIAL PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          directions TEXT NOT NULL,
          objective_names TEXT NOT NULL,
          user_attrs TEXT NOT NULL DEFAULT '{}',
          created_at BIGINT NOT NULL
        );
        CREATE TABLE trials (
          id BIGSERIAL PRIMARY KEY,
          study_id BIGINT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
          number INTEGER NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('WAITING', 'RUNNING', 'COMPLETE', 'FAILED', 'PRUNED')),
          config TEXT NOT NULL,
          values_json TEXT,
          reason TEXT,
          user_attrs TEXT NOT NULL DEFAULT '{}',
          worker_id TEXT,
          created_at BIGINT NOT NULL,
          started_at BIGINT,
          finished_at BIGINT,
          heartbeat_at BIGINT,
          UNIQUE (study_id, number)
        );
        CREATE INDEX trials_by_state ON trials (study_id, state, number);
      `);
    },
  },
  {
    version: 2,
    description: 'system attributes apart from user attributes; typed interrupt and re-queue fields',
    async up(db) {
      await db.query(`
        ALTER TABLE studies ADD COLUMN system_attrs TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE trials ADD COLUMN interrupted TEXT
          CHECK (interrupted IN ('user', 'worker-died', 'stale', 'never-started'));
        ALTER TABLE trials ADD COLUMN requeued_from INTEGER;
        ALTER TABLE trials ADD COLUMN requeued_as INTEGER;
      `);
      // The same data moves as SQLite's v2 (see migrations.ts), done in JS so the JSON text keeps
      // JSON.stringify's form on both backends.
      const studies = await db.query<{ id: number; user_attrs: string }>(`SELECT id, user_attrs FROM studies`);
      for (const r of studies.rows) {
        const split = splitV1Attrs(r.user_attrs);
        if (split)
          await db.query(`UPDATE studies SET user_attrs = $1, system_attrs = $2 WHERE id = $3`, [
            split.user,
            split.system,
            r.id,
          ]);
      }
      await db.query(`
        UPDATE trials SET interrupted = CASE
            WHEN reason LIKE 'stale:%' THEN 'stale'
            WHEN reason LIKE 'interrupted by the user%' THEN 'user'
            WHEN reason LIKE 'interrupted: never started%' THEN 'never-started'
            WHEN reason LIKE 'interrupted: its process%' THEN 'worker-died'
          END
          WHERE state = 'FAILED'`);
      const tagged = await db.query<{ id: number; user_attrs: string }>(
        `SELECT id, user_attrs FROM trials WHERE user_attrs LIKE '%"requeuedFrom"%'`,
      );
      for (const r of tagged.rows) {
        const attrs = JSON.parse(r.user_attrs) as Record<string, unknown>;
        if (!Number.isInteger(attrs.requeuedFrom)) continue;
        const from = attrs.requeuedFrom as number;
        delete attrs.requeuedFrom;
        await db.query(`UPDATE trials SET requeued_from = $1, user_attrs = $2 WHERE id = $3`, [
          from,
          JSON.stringify(attrs),
          r.id,
        ]);
      }
      await db.query(`
        UPDATE trials AS t SET requeued_as = (
            SELECT MIN(r.number) FROM trials AS r WHERE r.study_id = t.study_id AND r.requeued_from = t.number)
          WHERE t.interrupted IS NOT NULL`);
    },
  },
  {
    version: 3,
    description: 'intermediate values of trials',
    async up(db) {
      await db.query(`ALTER TABLE trials ADD COLUMN intermediate TEXT`);
    },
  },
];

// PG_MIGRATIONS mirrors the SQLite MIGRATIONS (same versions and descriptions): postgres.test.ts checks it.

/** First key of every autopeft advisory lock ("APFT"); the second is 0 (migrations) or a study id. */
const LOCK_CLASS = 0x41504654;

export interface PostgresStorageOptions extends StorageOptions {
  /** Schema (namespace) holding autopeft's tables; created if absent. Default `autopeft`, or `?schema=` in the URL. */
  schema?: string;
  /** Connections per process. Default 4 (at least 2: the ask lock holds one while the ask uses another). */
  poolSize?: number;
  /** How long a call keeps retrying a lost connection, with backoff, before it fails. Default 120 000 ms. */
  retryForMs?: number;
  /** How long the FIRST connection is retried (0: fail at once with one line). Default 0. */
  connectRetryMs?: number;
  /** Told about each retry (the worker logs them). */
  onRetry?: (info: { error: string; attempt: number; delayMs: number }) => void;
  /** The schema migrations to apply; only tests of the migration machinery pass their own. */
  migrations?: readonly PgMigration[];
}

/** The database stayed unreachable (refused, reset, restarting) for longer than the retry window. */
export class StorageUnavailableError extends StorageError {
  constructor(location: string, why: string, retriedMs: number) {
    super(
      'STORAGE_UNAVAILABLE',
      `cannot reach ${location} (${why})${retriedMs > 0 ? ` after retrying for ${(retriedMs / 1000).toFixed(1)} s` : ''}; check that the PostgreSQL server runs and that host, port, user and database in --storage are right`,
    );
  }
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** `postgres://` / `postgresql://` URLs go to this backend. */
export function isPostgresUrl(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec);
}

/** The URL without its password, for messages. */
function redact(url: URL): string {
  const u = new URL(url.href);
  if (u.password) u.password = '***';
  return u.href;
}

function errorText(e: unknown): string {
  const m = (e as { message?: string }).message ?? String(e);
  const code = (e as { code?: string }).code;
  const line = m.split('\n')[0] || String(code);
  return code && !line.includes(code) ? `${code}: ${line}` : line;
}

/** A lost or refused connection, a server restarting, a conflict to retry: worth trying again. */
function isTransient(e: unknown): boolean {
  if (e instanceof StorageError) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code))
      return true;
    // 08: connection exceptions; 57P01-3: admin shutdown, crash shutdown, cannot connect now;
    // 53300: too many connections; 40001/40P01: serialization failure, deadlock (retry the transaction).
    if (code.startsWith('08') || ['57P01', '57P02', '57P03', '53300', '40001', '40P01'].includes(code)) return true;
  }
  const m = (e as { message?: unknown }).message;
  return (
    typeof m === 'string' &&
    /Connection terminated|connection error|timeout exceeded when trying to connect|Client has encountered|not queryable|the database system is (starting|shutting) up/i.test(
      m,
    )
  );
}

/** Errors that no retry fixes, as one line naming the URL and the fix. */
function fatalConnectError(location: string, e: unknown): StorageError | undefined {
  const code = (e as { code?: string }).code;
  const why = errorText(e);
  if (code === '28P01' || code === '28000')
    return new StorageError(
      'PG_AUTH',
      `${location}: authentication failed (${why}); fix the user/password in --storage or the server's pg_hba.conf`,
    );
  if (code === '3D000')
    return new StorageError(
      'PG_NO_DATABASE',
      `${location}: ${why}; create it first (createdb <name>) or name an existing database in --storage`,
    );
  if (code === 'ENOTFOUND')
    return new StorageError('PG_NO_HOST', `${location}: unknown host (${why}); fix the host name in --storage`);
  return undefined;
}

const SELECT_TRIAL = `SELECT ${TRIAL_COLUMNS} FROM trials`;
const INSERT_TRIAL = `INSERT INTO trials (study_id, ${TRIAL_INSERT_COLUMNS})
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`;

/** int8 (BIGINT, COUNT) as a JS number: millisecond times and counts fit in 2^53. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** A failure at COMMIT: the transaction may or may not have landed. */
class AmbiguousCommit extends Error {
  constructor(override readonly cause: unknown) {
    super(errorText(cause));
  }
}

export class PostgresStorage implements Storage {
  readonly location: string;
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly injectedNow: (() => number) | undefined;
  private readonly retryForMs: number;
  private readonly connectRetryMs: number;
  private readonly onRetry: PostgresStorageOptions['onRetry'];
  private readonly migrations: readonly PgMigration[];
  private ready: Promise<void> | undefined;
  private connectedOnce = false;
  private closed = false;
  /** Server clock minus local clock (ms), and when it was measured (local ms). */
  private offset = 0;
  private offsetAt = 0;
  /** Schema version after opening (0 until the first call connects). */
  schemaVersion = 0;
  /** One ask lock per study per process: a second local asker waits here, not on a pooled connection. */
  private readonly localLocks = new Map<string, Promise<void>>();

  constructor(url: string, options: PostgresStorageOptions = {}) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new StorageError(
        'PG_URL',
        `--storage ${url} is not a valid URL; use postgres://user[:password]@host[:port]/database`,
      );
    }
    const schema = options.schema ?? u.searchParams.get('schema') ?? 'autopeft';
    u.searchParams.delete('schema');
    if (!SCHEMA_NAME.test(schema))
      throw new StorageError(
        'PG_SCHEMA',
        `schema "${schema}" in ${redact(u)}: use lower-case letters, digits and _ (at most 63, not starting with a digit)`,
      );
    this.schema = schema;
    this.location = `${redact(u)}${schema === 'autopeft' ? '' : `${u.search ? '&' : '?'}schema=${schema}`}`;
    this.injectedNow = options.now;
    this.retryForMs = options.retryForMs ?? 120_000;
    this.connectRetryMs = options.connectRetryMs ?? 0;
    this.onRetry = options.onRetry;
    this.migrations = options.migrations ?? PG_MIGRATIONS;
    this.pool = new pg.Pool({
      connectionString: u.href,
      max: Math.max(2, options.poolSize ?? 4),
      types: TYPES,
      options: `-c search_path=${schema}`,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'autopeft',
    });
    // An idle pooled connection that the server drops (restart) must not crash the process: the
    // pool discards it and the next call reconnects.
    this.pool.on('error', () => undefined);
    // A checked-out connection (the study lock's, or one inside a transaction) that the server drops
    // between queries emits 'error' on its client, which the pool does not listen to: without a
    // listener Node throws it and the worker dies. Ignore the event; the connection's next query
    // fails and is retried like any lost connection.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  // ---- plumbing ----------------------------------------------------------------------------

  private open(): void {
    if (this.closed) throw new StorageClosedError(this.location);
  }

  /** Milliseconds since the epoch on the server's clock (or the injected test clock). */
  private now(): number {
    return this.injectedNow ? this.injectedNow() : Date.now() + this.offset;
  }

  /** Connects, migrates and measures the clock offset once; a failed attempt is tried again by the next call. */
  private async ensureReady(): Promise<void> {
    this.ready ??= this.init().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    await this.ready;
    if (!this.injectedNow && Date.now() - this.offsetAt > 60_000) {
      this.offsetAt = Date.now(); // one refresh in flight at a time
      void this.measureOffset().catch(() => undefined);
    }
  }

  private async init(): Promise<void> {
    await this.measureOffset();
    const c = await this.pool.connect();
    try {
      this.schemaVersion = await this.migrate(c);
    } finally {
      c.release();
    }
    this.connectedOnce = true;
  }

  private async measureOffset(): Promise<void> {
    const t0 = Date.now();
    const r = await this.pool.query<{ ms: number }>(
      `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`,
    );
    const t1 = Date.now();
    this.offset = Math.round(r.rows[0]!.ms - (t0 + t1) / 2);
    this.offsetAt = t1;
  }

  private async migrate(c: pg.PoolClient): Promise<number> {
    const ordered = [...this.migrations].sort((a, b) => a.version - b.version);
    ordered.forEach((m, i) => {
      if (m.version !== i + 1)
        throw new Error(
          `internal: migrations must be numbered 1..n without gaps, found v${m.version} at position ${i + 1}`,
        );
    });
    const latest = ordered.length;
    await c.query('BEGIN');
    try {
      // Two processes opening a fresh database: the second waits here, then finds it migrated.
      await c.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_CLASS]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      const tables = (
        await c.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1`, [
          this.schema,
        ])
      ).rows.map((r) => r.t);
      if (!tables.includes('autopeft_schema')) {
        const clash = tables.filter((t) => t === 'studies' || t === 'trials');
        if (clash.length > 0)
          throw new NotAutopeftDatabaseError(
            `${this.location} (schema ${this.schema})`,
            `tables ${clash.join(', ')} of another application`,
          );
        await c.query(
          `CREATE TABLE autopeft_schema (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
        );
      }
      const current = (await c.query<{ v: number | null }>(`SELECT MAX(version) AS v FROM autopeft_schema`)).rows[0]!.v;
      if ((current ?? 0) > latest) throw new SchemaTooNewError(this.location, current ?? 0, latest);
      for (const m of ordered) {
        if (m.version <= (current ?? 0)) continue;
        await m.up(c);
        await c.query(`INSERT INTO autopeft_schema (version, description, applied_at) VALUES ($1, $2, $3)`, [
          m.version,
          m.description,
          Date.now(),
        ]);
      }
      await c.query('COMMIT');
      return latest;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /**
   * Runs `op` (after connecting), retrying transient failures with backoff within the retry window.
   * After a failure at COMMIT, `recover` looks for the row the lost transaction may have written.
   */
  private async call<T>(op: () => Promise<T>, recover?: () => Promise<T | undefined>): Promise<T> {
    this.open();
    const start = Date.now();
    let ambiguous = false;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ensureReady();
        if (ambiguous && recover) {
          const found = await recover();
          if (found !== undefined) return found;
        }
        return await op();
      } catch (err) {
        const e = err instanceof AmbiguousCommit ? err.cause : err;
        if (err instanceof AmbiguousCommit) ambiguous = true;
        if (this.closed) throw new StorageClosedError(this.location);
        if (!isTransient(e)) throw fatalConnectError(this.location, e) ?? e;
        const window = this.connectedOnce ? this.retryForMs : this.connectRetryMs;
        const waited = Date.now() - start;
        if (waited >= window) throw new StorageUnavailableError(this.location, errorText(e), window > 0 ? waited : 0);
        // NOTE: exponential backoff from 50 ms to 5 s with +-50% jitter, so restarted workers do not reconnect in step.
        const delayMs = Math.min(5000, 50 * 2 ** Math.min(attempt, 7)) * (0.5 + Math.random());
        this.onRetry?.({ error: errorText(e), attempt: attempt + 1, delayMs });
        await new Promise((r) => setTimeout(r, Math.min(delayMs, Math.max(0, window - waited))));
      }
    }
  }

  /** `fn` inside one transaction on one pooled connection (READ COMMITTED + explicit row locks). */
  private async tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await c.query('BEGIN');
      let out: T;
      try {
        out = await fn(c);
      } catch (e) {
        if (isTransient(e)) broken = e as Error;
        else await c.query('ROLLBACK');
        throw e;
      }
      try {
        await c.query('COMMIT');
      } catch (e) {
        broken = e as Error;
        throw isTransient(e) ? new AmbiguousCommit(e) : e;
      }
      return out;
    } catch (e) {
      broken ??= isTransient(e) ? (e as Error) : undefined;
      throw e;
    } finally {
      // A connection that failed mid-transaction is dropped, never handed to the next caller.
      c.release(broken);
    }
  }

  private async knownStudies(db: Db): Promise<string[]> {
    return (await db.query<{ name: string }>(`SELECT name FROM studies ORDER BY id`)).rows.map((r) => r.name);
  }

  private async studyRow(db: Db, name: string, lock = false): Promise<StudyRow> {
    const r = await db.query<StudyRow>(`SELECT * FROM studies WHERE name = $1${lock ? ' FOR UPDATE' : ''}`, [name]);
    if (r.rows[0]) return r.rows[0];
    throw new UnknownStudyError(name, this.location, await this.knownStudies(db));
  }

  private async trialRow(db: Db, studyId: number, study: string, number: number, lock = false): Promise<TrialRow> {
    checkTrialNumber(number, `study "${study}"`);
    const r = await db.query<TrialRow>(
      `${SELECT_TRIAL} WHERE study_id = $1 AND number = $2${lock ? ' FOR UPDATE' : ''}`,
      [studyId, number],
    );
    if (!r.rows[0]) throw new UnknownTrialError(study, number);
    return r.rows[0];
  }

  private async insertTrial(db: Db, studyId: number, row: TrialRow): Promise<void> {
    await db.query(INSERT_TRIAL, [studyId, ...trialValues(row)]);
  }

  private async nextNumber(db: Db, studyId: number): Promise<number> {
    const r = await db.query<{ n: number }>(
      `SELECT COALESCE(MAX(number), -1) + 1 AS n FROM trials WHERE study_id = $1`,
      [studyId],
    );
    return r.rows[0]!.n;
  }

  /**
   * `interruptRow` decides synchronously; here it records the writes, numbered from the study's
   * next number (the study row is locked), and `flush` performs them.
   */
  private collectingWriter(next: number): RowWriter & { flush(db: Db, studyId: number): Promise<void> } {
    const ops: ({ kind: 'update'; row: TrialRow } | { kind: 'insert'; row: TrialRow })[] = [];
    let n = next;
    return {
      update: (row) => {
        ops.push({ kind: 'update', row });
      },
      insert: (init, now, requeuedFrom) => {
        const row = newTrialRow(n++, init, now, requeuedFrom);
        ops.push({ kind: 'insert', row });
        return row;
      },
      flush: async (db, studyId) => {
        for (const op of ops) {
          if (op.kind === 'insert') await this.insertTrial(db, studyId, op.row);
          else
            await db.query(
              `UPDATE trials SET state = $1, reason = $2, finished_at = $3, interrupted = $4, requeued_as = $5
               WHERE study_id = $6 AND number = $7`,
              [
                op.row.state,
                op.row.reason,
                op.row.finishedAt,
                op.row.interrupted,
                op.row.requeuedAs,
                studyId,
                op.row.number,
              ],
            );
        }
      },
    };
  }

  // ---- studies -------------------------------------------------------------------------------

  async createStudy(spec: StudySpec): Promise<StudyRecord> {
    this.open();
    const names = checkStudySpec(spec);
    return this.call(() =>
      this.tx(async (db) => {
        // ON CONFLICT: two creators at once get one study and one DuplicateStudyError, never a raw error.
        const r = await db.query<StudyRow>(
          `INSERT INTO studies (name, directions, objective_names, user_attrs, system_attrs, created_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING *`,
          [
            spec.name,
            JSON.stringify(spec.directions),
            JSON.stringify(names),
            JSON.stringify(spec.userAttrs ?? {}),
            JSON.stringify(spec.systemAttrs ?? {}),
            this.now(),
          ],
        );
        if (!r.rows[0]) throw new DuplicateStudyError(spec.name, this.location);
        return studyRecord(r.rows[0]);
      }),
    );
  }

  async getStudy(name: string): Promise<StudyRecord> {
    return this.call(async () => studyRecord(await this.studyRow(this.pool, name)));
  }

  async findStudy(name: string): Promise<StudyRecord | undefined> {
    return this.call(async () => {
      const r = await this.pool.query<StudyRow>(`SELECT * FROM studies WHERE name = $1`, [name]);
      return r.rows[0] ? studyRecord(r.rows[0]) : undefined;
    });
  }

  async listStudies(): Promise<StudyRecord[]> {
    return this.call(async () =>
      (await this.pool.query<StudyRow>(`SELECT * FROM studies ORDER BY id`)).rows.map(studyRecord),
    );
  }

  async studyMarkers(): Promise<StudyMarker[]> {
    // Per study: trial count and per-state counts (every state change moves one count: a trial
    // only moves WAITING -> RUNNING -> done), the newest creation and finish times, and a hash of
    // the attributes. `version` adds the row versions: every UPDATE gives a row the writing
    // transaction's id (xmin), so their sum moves on any write to the study's rows.
    const r = await this.call(() =>
      this.pool.query<{ name: string; progress: string; writes: string }>(
        `SELECT s.name,
           concat_ws(':', s.id, s.created_at, COALESCE(t.n, 0), COALESCE(t.counts, ''), COALESCE(t.last, ''),
             md5(s.user_attrs || ' ' || s.system_attrs)) AS progress,
           s.xmin::text || '.' || COALESCE(t.xs, 0) AS writes
         FROM studies s LEFT JOIN (
           SELECT study_id, COUNT(*) AS n,
             concat_ws('.', COUNT(*) FILTER (WHERE state = 'WAITING'), COUNT(*) FILTER (WHERE state = 'RUNNING'),
               COUNT(*) FILTER (WHERE state = 'COMPLETE'), COUNT(*) FILTER (WHERE state = 'FAILED'),
               COUNT(*) FILTER (WHERE state = 'PRUNED')) AS counts,
             concat_ws('.', MAX(number), MAX(created_at), COALESCE(MAX(finished_at)::text, '')) AS last,
             SUM(xmin::text::bigint) AS xs
           FROM trials GROUP BY study_id) t ON t.study_id = s.id
         ORDER BY s.id`,
      ),
    );
    return r.rows.map((x) => ({ name: x.name, progress: x.progress, version: `${x.progress}|${x.writes}` }));
  }

  async deleteStudy(name: string): Promise<void> {
    await this.call(() =>
      this.tx(async (db) => {
        const s = await this.studyRow(db, name, true);
        await db.query(`DELETE FROM trials WHERE study_id = $1`, [s.id]);
        await db.query(`DELETE FROM studies WHERE id = $1`, [s.id]);
      }),
    );
  }

  private async mergeStudyAttrs(
    study: string,
    column: 'user_attrs' | 'system_attrs',
    attrs: Record<string, AttrValue>,
  ) {
    await this.call(() =>
      this.tx(async (db) => {
        const s = await this.studyRow(db, study, true);
        const merged = { ...(JSON.parse(s[column]) as Record<string, AttrValue>), ...attrs };
        await db.query(`UPDATE studies SET ${column} = $1 WHERE id = $2`, [JSON.stringify(merged), s.id]);
      }),
    );
  }

  async setStudyUserAttrs(study: string, attrs: Record<string, AttrValue>): Promise<void> {
    this.open();
    checkAttrs(attrs, `study "${study}" userAttrs`);
    await this.mergeStudyAttrs(study, 'user_attrs', attrs);
  }

  async setStudySystemAttrs(study: string, attrs: Record<string, AttrValue>): Promise<void> {
    this.open();
    checkAttrs(attrs, `study "${study}" systemAttrs`);
    await this.mergeStudyAttrs(study, 'system_attrs', attrs);
  }

  /**
   * Runs `fn` while holding the study's ask lock: one asker at a time per study across every
   * process and machine (a session-level advisory lock; the server drops it if this process dies).
   */
  async withStudyLock<T>(study: string, fn: () => Promise<T>): Promise<T> {
    this.open();
    // In-process queue first, so local askers never hold several pooled connections waiting.
    const prev = this.localLocks.get(study) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const chained = prev.then(() => mine);
    this.localLocks.set(study, chained);
    await prev;
    try {
      const { id } = await this.call(() => this.studyRow(this.pool, study));
      const c = await this.call(async () => {
        const client = await this.pool.connect();
        try {
          await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, id]);
          return client;
        } catch (e) {
          client.release(e as Error);
          throw e;
        }
      });
      try {
        return await fn();
      } finally {
        // If the unlock fails the connection is dropped, and the server releases the lock with it.
        await c.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, id]).then(
          () => c.release(),
          (e: Error) => c.release(e),
        );
      }
    } finally {
      release();
      if (this.localLocks.get(study) === chained) this.localLocks.delete(study);
    }
  }

  // ---- trials --------------------------------------------------------------------------------

  async createTrial(study: string, init: TrialInit, options: CreateTrialOptions = {}): Promise<TrialRecord> {
    this.open();
    const now = this.now();
    let validated = false;
    const op = () =>
      this.tx(async (db) => {
        const s = await this.studyRow(db, study, true);
        if (!validated) {
          const names = JSON.parse(s.objective_names) as string[];
          checkTrialInit(init, names.length, names, `study "${study}" new trial`);
          checkMaxTrials(options.maxTrials, `study "${study}" new trial`);
          validated = true;
        }
        // One round trip for the count toward the target and the next number (under the study's row lock).
        const { counted, next } = (
          await db.query<{ counted: number; next: number }>(
            `SELECT COUNT(*) FILTER (WHERE ${COUNTED}) AS counted, COALESCE(MAX(number), -1) + 1 AS next
             FROM trials WHERE study_id = $1`,
            [s.id],
          )
        ).rows[0]!;
        if (options.maxTrials !== undefined && counted >= options.maxTrials)
          throw new TrialLimitError(study, options.maxTrials);
        const row = newTrialRow(next, init, now);
        await this.insertTrial(db, s.id, row);
        return toTrialRecord(row);
      });
    // A lost COMMIT reply: the row is ours if one with our config, state, worker and timestamp exists.
    const recover = async (): Promise<TrialRecord | undefined> => {
      const workerId = init.state === 'RUNNING' ? init.workerId : null;
      const r = await this.pool.query<TrialRow>(
        `${SELECT_TRIAL} WHERE study_id = (SELECT id FROM studies WHERE name = $1) AND created_at = $2
           AND config = $3 AND state = $4 AND worker_id IS NOT DISTINCT FROM $5 ORDER BY number DESC LIMIT 1`,
        [study, now, JSON.stringify(init.config), init.state, workerId],
      );
      return r.rows[0] ? toTrialRecord(r.rows[0]) : undefined;
    };
    return this.call(op, recover);
  }

  async claimWaiting(study: string, workerId: string): Promise<TrialRecord | undefined> {
    this.open();
    let now = 0;
    const op = async (): Promise<TrialRecord | undefined> => {
      const s = await this.studyRow(this.pool, study);
      checkWorkerId(workerId, `study "${study}" claim`);
      now = this.now();
      // One statement, no explicit transaction: SKIP LOCKED lets concurrent claimers pass each other.
      const r = await this.pool.query<TrialRow>(
        `UPDATE trials SET state = 'RUNNING', worker_id = $2, started_at = $3, heartbeat_at = $3
         WHERE id = (SELECT id FROM trials WHERE study_id = $1 AND state = 'WAITING' ORDER BY number
                     LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING ${TRIAL_COLUMNS}`,
        [s.id, workerId, now],
      );
      return r.rows[0] ? toTrialRecord(r.rows[0]) : undefined;
    };
    // An autocommitted UPDATE whose reply was lost: ours if RUNNING for us since exactly `now`.
    const recover = async (): Promise<TrialRecord | undefined> => {
      if (now === 0) return undefined;
      const r = await this.pool.query<TrialRow>(
        `${SELECT_TRIAL} WHERE study_id = (SELECT id FROM studies WHERE name = $1) AND state = 'RUNNING'
           AND worker_id = $2 AND started_at = $3 ORDER BY number LIMIT 1`,
        [study, workerId, now],
      );
      return r.rows[0] ? toTrialRecord(r.rows[0]) : undefined;
    };
    // A lost reply of the UPDATE is as ambiguous as a lost COMMIT.
    return this.call(async () => {
      try {
        return await op();
      } catch (e) {
        throw now !== 0 && isTransient(e) ? new AmbiguousCommit(e) : e;
      }
    }, recover);
  }

  async tellTrial(study: string, number: number, outcome: TrialOutcome): Promise<TrialRecord> {
    this.open();
    return this.call(() =>
      this.tx(async (db) => {
        const s = await this.studyRow(db, study);
        const names = JSON.parse(s.objective_names) as string[];
        const r = await this.trialRow(db, s.id, study, number, true);
        checkOutcome(outcome, names.length, names, `study "${study}" trial #${number}`);
        if (r.state !== 'RUNNING') throw new TrialNotRunningError(study, number, r.state, 'tell');
        const now = this.now();
        const values = outcome.state === 'COMPLETE' ? JSON.stringify(outcome.values) : null;
        const reason = outcome.state === 'COMPLETE' ? null : (outcome.reason ?? null);
        await db.query(
          `UPDATE trials SET state = $1, values_json = $2, reason = $3, finished_at = $4 WHERE study_id = $5 AND number = $6`,
          [outcome.state, values, reason, now, s.id, number],
        );
        return toTrialRecord({ ...r, state: outcome.state, values, reason, finishedAt: now });
      }),
    );
  }

  async setTrialUserAttrs(study: string, number: number, attrs: Record<string, AttrValue>): Promise<void> {
    this.open();
    await this.call(() =>
      this.tx(async (db) => {
        const s = await this.studyRow(db, study);
        const r = await this.trialRow(db, s.id, study, number, true);
        checkAttrs(attrs, `study "${study}" trial #${number} userAttrs`);
        const merged = { ...(JSON.parse(r.userAttrs) as Record<string, AttrValue>), ...attrs };
        await db.query(`UPDATE trials SET user_attrs = $1 WHERE study_id = $2 AND number = $3`, [
          JSON.stringify(merged),
          s.id,
          number,
        ]);
      }),
    );
  }

  async reportIntermediate(study: string, number: number, step: number, value: number): Promise<void> {
    this.open();
    await this.call(() =>
      this.tx(async (db) => {
        const s = await this.studyRow(db, study);
        const r = await this.trialRow(db, s.id, study, number, true);
        checkIntermediate(step, value, `study "${study}" trial #${number}`);
        if (r.state !== 'RUNNING')
          throw new TrialNotRunningError(study, number, r.state, 'report an intermediate value of');
        await db.query(`UPDATE trials SET intermediate = $1 WHERE study_id = $2 AND number = $3`, [
          withIntermediate(r.intermediate, step, value),
          s.id,
          number,
        ]);
      }),
    );
  }

  async heartbeat(study: string, number: number): Promise<void> {
    this.open();
    await this.call(async () => {
      const db = this.pool;
      const s = await this.studyRow(db, study);
      checkTrialNumber(number, `study "${study}"`);
      // One conditional UPDATE: atomic on its own, no transaction on the hot path.
      const r = await this.pool.query(
        `UPDATE trials SET heartbeat_at = $1 WHERE study_id = $2 AND number = $3 AND state = 'RUNNING'`,
        [this.now(), s.id, number],
      );
      if (r.rowCount === 0) {
        const t = await this.trialRow(db, s.id, study, number);
        throw new TrialNotRunningError(study, number, t.state, 'heartbeat');
      }
    });
  }

  async getTrial(study: string, number: number): Promise<TrialRecord> {
    return this.call(async () => {
      const db = this.pool;
      const s = await this.studyRow(db, study);
      return toTrialRecord(await this.trialRow(db, s.id, study, number));
    });
  }

  async listTrials(study: string, options: ListTrialsOptions = {}): Promise<TrialRecord[]> {
    return this.call(async () => {
      const s = await this.studyRow(this.pool, study);
      const states = options.states;
      if (states && states.length === 0) return [];
      const r = states
        ? await this.pool.query<TrialRow>(`${SELECT_TRIAL} WHERE study_id = $1 AND state = ANY($2) ORDER BY number`, [
            s.id,
            [...states],
          ])
        : await this.pool.query<TrialRow>(`${SELECT_TRIAL} WHERE study_id = $1 ORDER BY number`, [s.id]);
      return r.rows.map(toTrialRecord);
    });
  }

  async interruptTrial(study: string, number: number, options: InterruptOptions): Promise<InterruptResult> {
    this.open();
    return this.call(() =>
      this.tx(async (db) => {
        const s = await this.studyRow(db, study, true);
        checkInterrupt(options, `study "${study}" trial #${number}`);
        const r = await this.trialRow(db, s.id, study, number, true);
        if (r.state !== 'RUNNING') throw new TrialNotRunningError(study, number, r.state, 'interrupt');
        const reason = options.reason ?? defaultReason(options.kind, r);
        const w = this.collectingWriter(await this.nextNumber(db, s.id));
        const out = interruptRow(r, options.kind, reason, options.requeue === true, this.now(), w);
        await w.flush(db, s.id);
        return out;
      }),
    );
  }

  async failStale(study: string, options: FailStaleOptions): Promise<FailStaleResult> {
    this.open();
    // Every ask sweeps: look without locks first, and lock the study only when something is stale.
    const candidates = await this.call(async () => {
      const s = await this.studyRow(this.pool, study);
      checkOlderThan(options.olderThanMs, `study "${study}" failStale`);
      const now = this.now();
      const running = await this.pool.query<TrialRow>(`${SELECT_TRIAL} WHERE study_id = $1 AND state = 'RUNNING'`, [
        s.id,
      ]);
      return running.rows.filter((r) => orphanReason(r, now, options.olderThanMs, options.deadWorkers) !== undefined)
        .length;
    });
    if (candidates === 0) return { failed: [], requeued: [] };
    return this.call(() =>
      this.tx(async (db): Promise<FailStaleResult> => {
        const s = await this.studyRow(db, study, true);
        const now = this.now();
        const running = (
          await db.query<TrialRow>(
            `${SELECT_TRIAL} WHERE study_id = $1 AND state = 'RUNNING' ORDER BY number FOR UPDATE`,
            [s.id],
          )
        ).rows;
        const w = this.collectingWriter(await this.nextNumber(db, s.id));
        const failed: TrialRecord[] = [];
        const requeued: TrialRecord[] = [];
        for (const row of running) {
          const why = orphanReason(row, now, options.olderThanMs, options.deadWorkers);
          if (why === undefined) continue;
          const r = interruptRow(row, why.kind, why.reason, options.requeue === true, now, w);
          failed.push(r.failed);
          if (r.requeued) requeued.push(r.requeued);
        }
        await w.flush(db, s.id);
        return { failed, requeued };
      }),
    );
  }

  async importStudy(study: StudyRecord, trials: readonly TrialRecord[]): Promise<void> {
    this.open();
    checkImport(study, trials);
    await this.call(() =>
      this.tx(async (db) => {
        const r = await db.query<{ id: number }>(
          `INSERT INTO studies (name, directions, objective_names, user_attrs, system_attrs, created_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING id`,
          [
            study.name,
            JSON.stringify(study.directions),
            JSON.stringify(study.objectiveNames),
            JSON.stringify(study.userAttrs),
            JSON.stringify(study.systemAttrs),
            study.createdAt,
          ],
        );
        if (!r.rows[0]) throw new DuplicateStudyError(study.name, this.location);
        const id = r.rows[0].id;
        for (const t of trials) await this.insertTrial(db, id, trialRowOf(t));
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/** A PostgreSQL storage; it connects (and migrates) on its first call. */
export function openPostgresStorage(url: string, options: PostgresStorageOptions = {}): PostgresStorage {
  return new PostgresStorage(url, options);
}
