/**
 * SQLite schema, versioned. Each migration runs once, in version order, inside one
 * `BEGIN IMMEDIATE` transaction with the version bump, so a crash never leaves a half-migrated file
 * and two processes opening a new file never both migrate it.
 *
 * To change the schema: append a migration with the next version; never edit a shipped one.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { NotAutopeftDatabaseError, SchemaTooNewError } from './errors.js';

export interface Migration {
  version: number;
  description: string;
  up(db: BetterSqlite3.Database): void;
}

/** `PRAGMA application_id` of autopeft files ("APFT"), so foreign SQLite files are recognised. */
export const APPLICATION_ID = 0x41504654;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'studies and trials',
    up(db) {
      db.exec(`
        CREATE TABLE studies (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          directions TEXT NOT NULL,        -- JSON array of 'maximize' | 'minimize'
          objective_names TEXT NOT NULL,   -- JSON array of strings, same length
          user_attrs TEXT NOT NULL DEFAULT '{}',
          created_at INTEGER NOT NULL
        );
        CREATE TABLE trials (
          id INTEGER PRIMARY KEY,
          study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
          number INTEGER NOT NULL,         -- dense per study, from 0
          state TEXT NOT NULL CHECK (state IN ('WAITING', 'RUNNING', 'COMPLETE', 'FAILED', 'PRUNED')),
          config TEXT NOT NULL,            -- JSON object
          values_json TEXT,                -- JSON array, iff COMPLETE
          reason TEXT,
          user_attrs TEXT NOT NULL DEFAULT '{}',
          worker_id TEXT,
          created_at INTEGER NOT NULL,
          started_at INTEGER,
          finished_at INTEGER,
          heartbeat_at INTEGER,
          UNIQUE (study_id, number)
        );
        CREATE INDEX trials_by_state ON trials (study_id, state, number);
      `);
    },
  },
  {
    version: 2,
    description: 'system attributes apart from user attributes; typed interrupt and re-queue fields',
    up(db) {
      db.exec(`
        ALTER TABLE studies ADD COLUMN system_attrs TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE trials ADD COLUMN interrupted TEXT
          CHECK (interrupted IN ('user', 'worker-died', 'stale', 'never-started'));
        ALTER TABLE trials ADD COLUMN requeued_from INTEGER;  -- the interrupted trial this one re-runs
        ALTER TABLE trials ADD COLUMN requeued_as INTEGER;    -- the trial that re-runs this one
      `);
      moveV1SystemAttrs(db);
      typeV1Interrupts(db);
    },
  },
  {
    version: 3,
    description: 'intermediate values of trials',
    up(db) {
      db.exec(`ALTER TABLE trials ADD COLUMN intermediate TEXT;  -- JSON array of {step, value}, sorted by step`);
    },
  },
];

/**
 * Study attributes that autopeft's own tools wrote among the user attributes before v2, moved to
 * the system attributes (only in studies made by `autopeft search`: they hold `autopeft`).
 * `boState` becomes the Study's sampler state record.
 */
const V1_SYSTEM_KEYS = ['autopeft', 'retrain', 'baselines', 'transfer'];

/**
 * A study's pre-v2 user attributes (JSON) split into user and system attributes (JSON), or
 * undefined when the study was not made by `autopeft search` and stays as it is. Shared with the
 * PostgreSQL v2 migration, so both backends write the same JSON text.
 */
export function splitV1Attrs(userAttrs: string): { user: string; system: string } | undefined {
  const user = JSON.parse(userAttrs) as Record<string, unknown>;
  if (!('autopeft' in user)) return undefined;
  const system: Record<string, unknown> = {};
  for (const k of V1_SYSTEM_KEYS) {
    if (!(k in user)) continue;
    system[k] = user[k];
    delete user[k];
  }
  if ('boState' in user) {
    system.sampler = { name: 'bo', state: user.boState };
    delete user.boState;
  }
  return { user: JSON.stringify(user), system: JSON.stringify(system) };
}

function moveV1SystemAttrs(db: BetterSqlite3.Database): void {
  const rows = db.prepare(`SELECT id, user_attrs FROM studies`).all() as { id: number; user_attrs: string }[];
  const update = db.prepare(`UPDATE studies SET user_attrs = ?, system_attrs = ? WHERE id = ?`);
  for (const r of rows) {
    const split = splitV1Attrs(r.user_attrs);
    if (split) update.run(split.user, split.system, r.id);
  }
}

/**
 * Before v2 a re-run carried `userAttrs.requeuedFrom` and an interrupted trial only its reason
 * text; both become typed columns.
 */
function typeV1Interrupts(db: BetterSqlite3.Database): void {
  db.exec(`
    UPDATE trials SET interrupted = CASE
        WHEN reason LIKE 'stale:%' THEN 'stale'
        WHEN reason LIKE 'interrupted by the user%' THEN 'user'
        WHEN reason LIKE 'interrupted: never started%' THEN 'never-started'
        WHEN reason LIKE 'interrupted: its process%' THEN 'worker-died'
      END
      WHERE state = 'FAILED';
    UPDATE trials SET
        requeued_from = json_extract(user_attrs, '$.requeuedFrom'),
        user_attrs = json_remove(user_attrs, '$.requeuedFrom')
      WHERE json_type(user_attrs, '$.requeuedFrom') = 'integer';
    UPDATE trials AS t SET requeued_as = (
        SELECT MIN(r.number) FROM trials AS r WHERE r.study_id = t.study_id AND r.requeued_from = t.number)
      WHERE t.interrupted IS NOT NULL;
  `);
}

function tableNames(db: BetterSqlite3.Database): string[] {
  return (
    db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as {
      name: string;
    }[]
  ).map((r) => r.name);
}

/**
 * Checks that `db` is an autopeft file (or an empty one) without writing to it.
 * Returns true when it is empty and must be initialised.
 */
export function checkIdentity(db: BetterSqlite3.Database, path: string): boolean {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const tables = tableNames(db);
  if (appId === APPLICATION_ID) {
    if (!tables.includes('autopeft_schema'))
      throw new NotAutopeftDatabaseError(path, 'autopeft id but no autopeft_schema table');
    return false;
  }
  if (appId !== 0) throw new NotAutopeftDatabaseError(path, `SQLite application_id 0x${appId.toString(16)}`);
  if (tables.length > 0)
    throw new NotAutopeftDatabaseError(path, `an SQLite file with other tables: ${tables.slice(0, 5).join(', ')}`);
  return true;
}

/**
 * Brings `db` to the newest version in `migrations` (sorted by version here) and returns it.
 * Throws `SchemaTooNewError` when the file is ahead of this code.
 */
export function migrate(
  db: BetterSqlite3.Database,
  path: string,
  migrations: readonly Migration[] = MIGRATIONS,
): number {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  ordered.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(
        `internal: migrations must be numbered 1..n without gaps, found v${m.version} at position ${i + 1}`,
      );
  });
  const latest = ordered.length;
  const run = db.transaction(() => {
    // Re-checked under the write lock: another process may have initialised the file meanwhile.
    const fresh = checkIdentity(db, path);
    if (fresh) {
      db.exec(
        `CREATE TABLE autopeft_schema (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
      );
      db.pragma(`application_id = ${APPLICATION_ID}`);
    }
    const row = db.prepare(`SELECT MAX(version) AS v FROM autopeft_schema`).get() as { v: number | null };
    const current = row.v ?? 0;
    if (current > latest) throw new SchemaTooNewError(path, current, latest);
    const insert = db.prepare(`INSERT INTO autopeft_schema (version, description, applied_at) VALUES (?, ?, ?)`);
    for (const m of ordered) {
      if (m.version <= current) continue;
      m.up(db);
      insert.run(m.version, m.description, Date.now());
    }
    return latest;
  });
  return run.immediate();
}
