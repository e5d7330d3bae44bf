import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { register as tasks } from './tasks.js';
import { register as train } from './train.js';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

/** Subcommands in the order `--help` lists them. */
export const COMMANDS: readonly RegisterCommand[] = [train, tasks];
