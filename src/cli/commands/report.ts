import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { commandOutput } from '../json.js';
import { fmtNum } from '../progress.js';
import { UsageError } from '../../core/errors.js';
import { summarizeStudy } from '../../pipeline/report.js';
import { writeReport } from '../../report/index.js';
import { describePeft } from '../../peft/config.js';
import { peftFromSearch } from '../../search/space/autopeft.js';
import { openStudy } from '../study.js';
import { safeName } from '../options.js';
import { DEFAULT_STORAGE } from './search.js';

function parseRef(v: string): [number, number] {
  const parts = v.split(',').map(Number);
  if (parts.length !== 2 || parts.some((x) => !Number.isFinite(x)))
    throw new UsageError(`--ref must be "<metric>,<paramPct>", e.g. 0.5,10; got "${v}"`);
  return [parts[0]!, parts[1]!];
}

/** `autopeft report`: Markdown/HTML/JSON report with SVG charts of a study. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description('write a report of a study: Pareto front, all trials, charts (SVG), hypervolume')
    .requiredOption('--study <name>', 'study name')
    .option(
      '--storage <file.sqlite|postgres://...>',
      'SQLite file or PostgreSQL URL holding the studies',
      DEFAULT_STORAGE,
    )
    .option('--out <dir>', 'output folder (default: report-<study>)')
    .option(
      '--ref <metric,paramPct>',
      'hypervolume reference point (default: nadir of the trials with a 10% margin)',
      parseRef,
    )
    .option(
      '--json',
      'stdout: one JSON document {"study","trials","hypervolume","refPoint","front"}; human text to stderr',
    )
    .action(async (flags: { study: string; storage: string; out?: string; ref?: [number, number]; json?: boolean }) => {
      const { storage, setup } = await openStudy(flags);
      try {
        const { data, front } = await summarizeStudy(storage, flags.study, flags.ref ? { refPoint: flags.ref } : {});
        // A study written by an older version may have any name: the folder is derived from its safe form.
        const dir = flags.out ?? `report-${safeName(flags.study)}`;
        const { paths, json } = writeReport(dir, data);
        const { human: out, json: printJson } = commandOutput(ctx, flags.json);
        out.write(
          `study "${flags.study}" (${data.task}, ${data.model}): ${json.trials.complete} complete, ${json.trials.failed} failed; hypervolume ${fmtNum(json.hypervolume)} at ref [${json.refPoint.map(fmtNum).join(', ')}]\n`,
        );
        out.write(`Pareto front (${front.length}):\n`);
        for (const f of [...json.front]) {
          out.write(
            `  trial ${String(f.trial).padStart(3)}  metric ${fmtNum(f.metric)}  params ${fmtNum(f.paramPct)}%  ${describePeft(peftFromSearch(f.config, setup.numLayers))}\n`,
          );
        }
        out.write(`wrote ${paths.length} files to ${dir}/ (open ${dir}/report.html)\n`);
        printJson(json);
      } finally {
        await storage.close();
      }
    });
}
