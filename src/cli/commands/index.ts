import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { register as tasks } from './tasks.js';
import { register as train } from './train.js';
import { register as search } from './search.js';
import { register as report } from './report.js';
import { register as evaluate } from './evaluate.js';
import { register as exportCmd } from './export.js';
import { register as retrain } from './retrain.js';
import { register as baselines } from './baselines.js';
import { register as transfer } from './transfer.js';
import { register as dashboard } from './dashboard.js';
import { register as worker } from './worker.js';
import { register as copyStudy } from './copy-study.js';
import { register as predict } from './predict.js';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

/** Subcommands in the order `--help` lists them. */
export const COMMANDS: readonly RegisterCommand[] = [
  search,
  worker,
  report,
  retrain,
  baselines,
  transfer,
  exportCmd,
  predict,
  dashboard,
  copyStudy,
  train,
  evaluate,
  tasks,
];
