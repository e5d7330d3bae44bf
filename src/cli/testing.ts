/** Runs the CLI in-process with captured output (tests). */
import { Writable } from 'node:stream';
import { main } from './main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The last non-empty stdout line parsed as JSON (for --json). */
  json(): Record<string, unknown>;
}

export async function runCli(args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const sink = (f: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        f(chunk.toString());
        cb();
      },
    });
  const code = await main(['node', 'autopeft', ...args], {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
  });
  return {
    code,
    stdout,
    stderr,
    json() {
      const lines = stdout.trim().split('\n');
      return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
    },
  };
}
