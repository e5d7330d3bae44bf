/**
 * How the CLI reports failures: errors a user can cause (bad paths, formats, configs, flags) print
 * one line `autopeft: <message>` and exit 2; anything else is a bug and prints its stack (exit 1).
 */
import { DataError } from '../data/errors.js';
import { ModelFileError } from '../models/io/errors.js';
import { SearchSpaceError } from '../search/space/errors.js';
import { StorageError } from '../storage/errors.js';
import { ReportError } from '../report/errors.js';

import { UsageError } from '../errors.js';

export { UsageError };

/** Classes whose messages are written for users (one line, names the file/field and the fix). */
const USER_ERRORS: readonly (abstract new (...args: never[]) => Error)[] = [
  UsageError,
  DataError,
  ModelFileError,
  SearchSpaceError,
  StorageError,
  ReportError,
];

export function registerUserError(cls: abstract new (...args: never[]) => Error): void {
  (USER_ERRORS as (abstract new (...args: never[]) => Error)[]).push(cls);
}

export function isUserError(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  if ((e as { userFacing?: unknown }).userFacing === true) return true;
  return USER_ERRORS.some((cls) => e instanceof cls);
}

/** Prints an error the way the CLI promises and returns the exit code. */
export function reportError(e: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (isUserError(e)) {
    write(`autopeft: ${e.message.split('\n')[0]}\n`);
    return 2;
  }
  if (e instanceof Error && e.name === 'CommanderError') return (e as Error & { exitCode?: number }).exitCode ?? 2;
  write(
    `autopeft: internal error (please report it with the command you ran):\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  return 1;
}
