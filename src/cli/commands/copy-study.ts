import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import type { CliContext } from '../context.js';
import { UsageError } from '../../core/errors.js';
import { copyStudy, openStorage, storageFile } from '../../storage/index.js';

interface CopyFlags {
  from: string;
  to: string;
  study: string;
  as?: string;
}

/** `autopeft copy-study`: a study, losslessly, from one storage to another (SQLite <-> PostgreSQL). */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('copy-study')
    .description(
      'copy a study with all its trials, losslessly, between storages: SQLite -> PostgreSQL to add worker machines, and back to archive',
    )
    .requiredOption('--study <name>', 'study to copy')
    .requiredOption('--from <file.sqlite|postgres://...>', 'storage holding the study')
    .requiredOption('--to <file.sqlite|postgres://...>', 'storage to copy it into (must not hold a study of that name)')
    .option('--as <name>', 'name of the copy (default: the same)')
    .action(async (f: CopyFlags) => {
      const file = storageFile(f.from);
      if (file !== undefined && !existsSync(file))
        throw new UsageError(`--from ${f.from} does not exist; point it at the storage holding study "${f.study}"`);
      const from = openStorage(f.from);
      try {
        const to = openStorage(f.to);
        try {
          const n = await copyStudy(from, to, f.study, f.as ?? f.study);
          ctx.stdout.write(
            `copied study "${f.study}" (${n} trials) from ${from.location} to ${to.location}${f.as ? ` as "${f.as}"` : ''}\n`,
          );
        } finally {
          await to.close();
        }
      } finally {
        await from.close();
      }
    });
}
