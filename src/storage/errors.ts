/**
 * Typed errors a storage user can cause. Each message is one line naming the study/trial/file and
 * the fix, so a CLI can print it as is.
 */
import { UserError } from '../core/errors.js';
import type { TrialState } from '../trials/index.js';

export class StorageError extends UserError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UnknownStudyError extends StorageError {
  constructor(
    readonly study: string,
    location: string,
    known: readonly string[],
  ) {
    const list =
      known.length === 0
        ? 'it has no studies'
        : `it has: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', ...' : ''}`;
    super('UNKNOWN_STUDY', `no study named "${study}" in ${location} (${list}); create it first or fix the name`);
  }
}

export class DuplicateStudyError extends StorageError {
  constructor(
    readonly study: string,
    location: string,
  ) {
    super(
      'DUPLICATE_STUDY',
      `a study named "${study}" already exists in ${location}; resume it or pick another study name`,
    );
  }
}

export class UnknownTrialError extends StorageError {
  constructor(
    readonly study: string,
    readonly number: number,
  ) {
    super(
      'UNKNOWN_TRIAL',
      `study "${study}" has no trial #${number}; use the number of one of its trials (autopeft report lists them)`,
    );
  }
}

export class TrialNotRunningError extends StorageError {
  constructor(
    readonly study: string,
    readonly number: number,
    readonly state: TrialState,
    action: string,
  ) {
    const why =
      state === 'FAILED'
        ? ' (a stale-trial sweep may have failed it: heartbeat more often or raise the stale timeout)'
        : '';
    super(
      'TRIAL_NOT_RUNNING',
      `cannot ${action} trial #${number} of study "${study}": it is ${state}, not RUNNING${why}`,
    );
  }
}

/** Wrong number of objectives or values, bad objective names, non-finite values, non-JSON configs/attrs. */
export class InvalidInputError extends StorageError {
  constructor(message: string) {
    super('INVALID_INPUT', message);
  }
}

export class NotAutopeftDatabaseError extends StorageError {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(
      'NOT_AUTOPEFT_DB',
      `${path} is not an autopeft study database (${detail}); point --storage at a new file or an autopeft .db`,
    );
  }
}

export class SchemaTooNewError extends StorageError {
  constructor(
    readonly path: string,
    readonly fileVersion: number,
    readonly codeVersion: number,
  ) {
    super(
      'SCHEMA_TOO_NEW',
      `${path} has storage schema v${fileVersion} but this autopeft knows only up to v${codeVersion}; upgrade autopeft to open it`,
    );
  }
}

export class StorageClosedError extends StorageError {
  constructor(location: string) {
    super('STORAGE_CLOSED', `storage ${location} is closed; open it again before using it`);
  }
}

export class StorageBusyError extends StorageError {
  constructor(location: string, timeoutMs: number) {
    super(
      'STORAGE_BUSY',
      `${location} stayed locked by another process for more than ${timeoutMs} ms; retry, or raise busyTimeoutMs`,
    );
  }
}

/** `createTrial` with `maxTrials` on a study that already holds that many trials counting toward its target. */
export class TrialLimitError extends StorageError {
  constructor(
    readonly study: string,
    readonly limit: number,
  ) {
    super(
      'TRIAL_LIMIT',
      `study "${study}" already holds ${limit} trials counting toward its target; raise the target to add more`,
    );
  }
}
