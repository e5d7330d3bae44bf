/**
 * How the CLI reports failures: errors a user can cause (bad paths, formats, configs, flags; any
 * `UserError` of src/core/errors.ts, from any room or from a pool worker) print one line
 * `autopeft: <message>` and exit 2; anything else is a bug and prints its stack (exit 1).
 */
import { isUserError } from '../core/errors.js';

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
