/** What a command may touch besides its arguments: where it writes. Tests pass buffers. */
export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream | NodeJS.WritableStream;
}
