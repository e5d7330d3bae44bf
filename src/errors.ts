/**
 * A wrong flag, a missing option, an invalid config file or a study that cannot serve the command:
 * one line naming the flag/field and the fix. Rooms with their own error classes (DataError,
 * ModelFileError, StorageError, ...) mark them user-facing the same way (see src/cli/errors.ts).
 */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly userFacing = true;
}
