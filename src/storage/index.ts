/** Trial storage: the interface, its backends and the conformance suite's types. */
export type {
  CreateTrialOptions,
  FailStaleOptions,
  FailStaleResult,
  InterruptOptions,
  InterruptResult,
  ListTrialsOptions,
  Storage,
  StorageOptions,
  StudyRecord,
  StudyMarker,
  StudySpec,
  TrialInit,
  TrialOutcome,
  TrialRecord,
} from './types.js';
export {
  DuplicateStudyError,
  InvalidInputError,
  NotAutopeftDatabaseError,
  SchemaTooNewError,
  StorageBusyError,
  StorageClosedError,
  StorageError,
  TrialLimitError,
  TrialNotRunningError,
  UnknownStudyError,
  UnknownTrialError,
} from './errors.js';
export { MemoryStorage, memoryStorage } from './memory.js';
export { SqliteStorage, openSqliteStorage, type SqliteStorageOptions } from './sqlite.js';
export { MIGRATIONS, type Migration } from './migrations.js';
export { copyStudy } from './copy.js';
export {
  PostgresStorage,
  openPostgresStorage,
  isPostgresUrl,
  StorageUnavailableError,
  PG_MIGRATIONS,
  type PgMigration,
  type PostgresStorageOptions,
} from './postgres.js';

import { memoryStorage } from './memory.js';
import { isPostgresUrl, openPostgresStorage, type PostgresStorageOptions } from './postgres.js';
import { openSqliteStorage, type SqliteStorageOptions } from './sqlite.js';
import type { Storage } from './types.js';

/**
 * Opens a storage from a CLI-style string: `memory` for an in-memory one,
 * `postgres://user[:password]@host[:port]/database[?schema=name]` (or `postgresql://`) for a
 * PostgreSQL database (connected on the first call), `sqlite:<path>` or just a file path for an
 * SQLite file (created if absent).
 */
export function openStorage(spec: string, options: SqliteStorageOptions & PostgresStorageOptions = {}): Storage {
  if (spec === 'memory') return memoryStorage(options);
  if (isPostgresUrl(spec)) return openPostgresStorage(spec, options);
  return openSqliteStorage(spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : spec, options);
}

/** The file an SQLite storage spec names (what a command checks exists); undefined for memory and servers. */
export function storageFile(spec: string): string | undefined {
  if (spec === 'memory' || isPostgresUrl(spec)) return undefined;
  return spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : spec;
}
