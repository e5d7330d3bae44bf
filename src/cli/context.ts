/** What a command may touch besides its arguments: where it writes. Tests pass buffers. */
export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Set by a command that ends without an error but not in success (e.g. 130 when interrupted). */
  exitCode?: number;
}

/**
 * When the reader of `stream` goes away (`autopeft tasks | head -1`, `search 2>&1 | head -2`), stop
 * printing to it and carry on: the command finishes its work (a search keeps training and storing
 * trials) instead of dying on an unhandled EPIPE mid-trial. Other stream errors still throw.
 */
export function stopPrintingWhenClosed(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
    // Every later write is a silent no-op (a destroyed stream would report each one again).
    stream.write = ((_chunk: unknown, enc?: unknown, cb?: unknown) => {
      const done = typeof enc === 'function' ? enc : cb;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    }) as typeof stream.write;
  });
}
