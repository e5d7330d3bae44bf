/**
 * One way to mark an error a user can cause (a bad path, format, config, flag or option): its class
 * extends `UserError`, whose `userFacing` brand says the message is one line naming the
 * file/flag/key and the fix. The CLI prints such a message alone and exits 2 (src/cli/errors.ts);
 * a pool worker sends the brand back with the message (src/exec), so a user error raised in a
 * child process is still one. Every room's error classes keep their own names and fields and
 * extend this class.
 */
export class UserError extends Error {
  /** The brand `isUserError` checks; plain data, so it survives a process boundary. */
  readonly userFacing = true;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A wrong flag, a missing option, an invalid config file or a study that cannot serve the command. */
export class UsageError extends UserError {}

/** Whether `e`'s message is written for users (a `UserError`, or an error carrying its brand). */
export function isUserError(e: unknown): e is Error & { readonly userFacing: true } {
  return e instanceof Error && (e as { userFacing?: unknown }).userFacing === true;
}
