import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { UsageError } from '../../core/errors.js';
import { openStorage, storageFile } from '../../storage/index.js';
import { isLoopback, startDashboard, type Dashboard } from '../../dashboard/index.js';
import { DEFAULT_STORAGE } from './search.js';

export interface DashboardFlags {
  storage: string;
  port: string;
  host: string;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new UsageError(`--port must be an integer from 0 to 65535; got "${v}"`);
  return n;
}

/**
 * Opens the storage and starts the server (the command's action minus the wait for Ctrl-C, so
 * tests can drive it). Binding to an address other machines can reach prints a warning.
 */
export async function openDashboard(flags: DashboardFlags, ctx: CliContext): Promise<Dashboard> {
  const port = parsePort(flags.port);
  if (flags.host.trim() === '') throw new UsageError('--host must not be empty; omit it to bind 127.0.0.1');
  // Opening a missing SQLite file would create it: a read-only dashboard must not write anything.
  const file = storageFile(flags.storage);
  if (file !== undefined && !existsSync(file))
    throw new UsageError(
      `--storage ${flags.storage} does not exist; run \`autopeft search\` first or point --storage at your study file`,
    );
  const storage = openStorage(flags.storage);
  let dash: Dashboard;
  try {
    dash = await startDashboard({ storage, host: flags.host, port });
  } catch (e) {
    await storage.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UsageError(
        `--port ${port} is already in use on ${flags.host}; pass another --port (0 picks a free one)`,
      );
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES')
      throw new UsageError(
        `--host ${flags.host} --port ${port}: cannot listen there (${code}); pass another --host or --port`,
      );
    throw e;
  }
  if (!isLoopback(flags.host))
    ctx.stderr.write(
      `autopeft: warning: --host ${flags.host} makes the dashboard reachable from other machines; it has no login, so anyone who can reach ${dash.url} can read every study in ${storage.location}\n`,
    );
  const close = dash.close;
  return {
    ...dash,
    close: async () => {
      await close();
      await storage.close();
    },
  };
}

/** `autopeft dashboard`: a read-only local web app over the study storage, updating live. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('dashboard')
    .description('serve a live, read-only web dashboard of the studies in a storage (Pareto fronts, trials, charts)')
    .option(
      '--storage <file.sqlite|postgres://...>',
      'SQLite file or PostgreSQL URL holding the studies',
      DEFAULT_STORAGE,
    )
    .option('--port <n>', 'TCP port (0 picks a free one)', '8080')
    .option(
      '--host <address>',
      'address to bind; anything but a loopback address exposes the studies to the network (prints a warning)',
      '127.0.0.1',
    )
    .action(async (flags: DashboardFlags) => {
      const dash = await openDashboard(flags, ctx);
      ctx.stdout.write(`dashboard of ${flags.storage} at ${dash.url} (read-only; Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await dash.close();
    });
}
