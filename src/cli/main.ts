/**
 * `autopeft` command-line entry. Each subcommand lives in `commands/<name>.ts` and exports
 * `register(program, ctx)`; this file only wires them and turns errors into one-line messages.
 */
import { Command, CommanderError } from 'commander';
import { autopeftVersion } from '../peft/io.js';
import { reportError } from './errors.js';
import { stopPrintingWhenClosed, type CliContext } from './context.js';
import { COMMANDS } from './commands/index.js';
import { configureCommands } from './config-file.js';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('autopeft')
    .description(
      'Find the smallest parameter-efficient fine-tuning configuration that reaches your accuracy (AutoPEFT).',
    )
    .version(autopeftVersion())
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      // A usage error is one line like every other: `unknown option '--trails' (did you mean --trials?)`.
      outputError: (s) => ctx.stderr.write(`autopeft: ${usageLine(s)}\n`),
    })
    .exitOverride();
  for (const register of COMMANDS) register(program, ctx);
  // --config, AUTOPEFT_* variables and required options, the same way on every command.
  configureCommands(program);
  return program;
}

/**
 * Commander's error text (`error: unknown option '--trails'` + `(Did you mean --trials?)` on a
 * second line) as one line, with the pointer to --help.
 */
export function usageLine(text: string): string {
  const [first = '', ...rest] = text
    .trim()
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const hint = rest.map((l) => l.replace(/^\((.*)\)$/, '$1').replace(/^Did you mean/, 'did you mean')).join('; ');
  return `${first.replace(/\.$/, '')}${hint ? ` (${hint})` : ''}; run with --help for usage`;
}

/** The process streams whose closed-pipe handler is installed (once per process). */
const guarded = new Set<NodeJS.WriteStream>();

/** Runs the CLI on `argv` (process.argv shape) and returns the exit code. */
export async function main(
  argv: string[],
  ctx: CliContext = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  // `autopeft ... | head`: a closed pipe stops the printing, not the work (no EPIPE crash mid-trial).
  for (const s of [process.stdout, process.stderr])
    if ((ctx.stdout === s || ctx.stderr === s) && !guarded.has(s)) {
      guarded.add(s);
      stopPrintingWhenClosed(s);
    }
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv);
    return ctx.exitCode ?? 0;
  } catch (e) {
    if (e instanceof CommanderError)
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help'
        ? 0
        : 2;
    return reportError(e, (s) => ctx.stderr.write(s));
  }
}
