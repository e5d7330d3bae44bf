/** What a command may touch besides its arguments: where it writes. Tests pass buffers. */
export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Set by a command that ends without an error but not in success (e.g. 130 when interrupted). */
  exitCode?: number;
}
