import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { BUILTIN_TASKS } from '../../data/tasks/registry.js';

/** `autopeft tasks`: the built-in tasks, their inputs, labels and metrics. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('tasks')
    .description('list the built-in tasks (GLUE, SuperGLUE, the spam demo) with their metrics')
    .option('--json', 'print one JSON array instead of a table')
    .action((opts: { json?: boolean }) => {
      const rows = BUILTIN_TASKS.map((t) => ({
        name: t.name,
        inputs: t.textColumns.length === 2 ? 'pair' : 'single',
        labels: t.regression ? 'regression' : (t.labelNames ?? t.labels ?? []).join('/'),
        metrics: t.metrics.join(', '),
        main: t.mainMetric,
        description: t.description ?? '',
      }));
      if (opts.json) {
        ctx.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const cols = ['name', 'inputs', 'labels', 'main', 'metrics'] as const;
      const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
      const line = (vals: string[]) =>
        `${vals
          .map((v, i) => v.padEnd(width[i]!))
          .join('  ')
          .trimEnd()}\n`;
      ctx.stdout.write(line([...cols]));
      for (const r of rows) ctx.stdout.write(line(cols.map((c) => String(r[c]))));
    });
}
