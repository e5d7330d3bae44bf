/**
 * `--json` on every command that has it: stdout carries exactly one JSON document (so
 * `autopeft train ... --json | jq .metric` works); the human lines a command prints go to stderr
 * instead. Without `--json`, the human lines go to stdout as before.
 */
import type { CliContext } from './context.js';

export interface CommandOutput {
  /** Where the human-readable lines go: stderr under --json, else stdout. */
  readonly human: NodeJS.WritableStream;
  /** Writes the one JSON document to stdout (one line), when --json is on; otherwise nothing. */
  json(value: unknown): void;
}

export function commandOutput(ctx: CliContext, json: boolean | undefined): CommandOutput {
  return {
    human: json ? ctx.stderr : ctx.stdout,
    json(value) {
      if (json) ctx.stdout.write(`${JSON.stringify(value)}\n`);
    },
  };
}
