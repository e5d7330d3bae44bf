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

import { memoryStorage } from './memory.js';
import { openSqliteStorage, type SqliteStorageOptions } from './sqlite.js';
import type { Storage } from './types.js';

/**
 * Opens a storage from a CLI-style string: `memory` for an in-memory one, `sqlite:<path>` or
 * just a file path for an SQLite file (created if absent).
 */
export function openStorage(spec: string, options: SqliteStorageOptions = {}): Storage {
  if (spec === 'memory') return memoryStorage(options);
  return openSqliteStorage(spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : spec, options);
}
