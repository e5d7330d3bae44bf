import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { commandOutput } from '../json.js';
import { fmtNum } from '../progress.js';
import { flagParser, int, protocolRules } from '../options.js';
import { UsageError } from '../../core/errors.js';
import { loadPeftAdapter } from '../../peft/io.js';
import { getBackbone, getTask } from '../../train/trial.js';
import { evaluateAdapter } from '../../train/evaluate.js';
import { describePeft } from '../../peft/config.js';
import { selectMetric } from '../../data/metrics.js';

/** `autopeft evaluate`: score a saved adapter on a task split. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('evaluate')
    .description('score a saved adapter (from `train --out`) on the official dev set or another split')
    .requiredOption('--adapter <dir>', 'adapter folder (autopeft_adapter.json + autopeft_adapter.safetensors)')
    .option('--task <name|spec.json>', 'task (default: the one it was trained on)')
    .option('--data <dir>', 'folder holding the task files')
    .option('--model <name|dir|hub id>', 'backbone (default: the one it was trained on)')
    .option('--split <dev|validation>', 'which split to score', 'dev')
    .option('--max-length <n>', 'longest input in tokens', int('--max-length', 4), 128)
    .option('--threads <n>', 'intra-op threads', int('--threads', 1))
    .option('--pair-encoding <cross|siamese>', "must match the adapter's (recorded in its config); a check only")
    .option(
      '--metric <name>',
      'the metric reported as "metric", one of the task\'s (default: the one the adapter was selected on, else the task\'s main metric)',
      flagParser('--metric', protocolRules.metric),
    )
    .option(
      '--json',
      'stdout: one JSON document {"task","split","metric","metricName","metrics","examples"}; human text to stderr',
    )
    .action(
      async (f: {
        adapter: string;
        task?: string;
        data?: string;
        model?: string;
        split: string;
        maxLength: number;
        threads?: number;
        pairEncoding?: string;
        metric?: string;
        json?: boolean;
      }) => {
        if (f.split !== 'dev' && f.split !== 'validation')
          throw new UsageError(`--split must be dev or validation, got "${f.split}"`);
        const adapter = await loadPeftAdapter(f.adapter);
        const task = f.task ?? adapter.task;
        if (!task) throw new UsageError(`${f.adapter} does not record its task; pass --task`);
        const backbone = await getBackbone(f.model ?? adapter.backbone.id);
        const recorded = adapter.head?.pairEncoding ?? 'cross';
        if (f.pairEncoding !== undefined && f.pairEncoding !== recorded)
          throw new UsageError(
            `--pair-encoding ${f.pairEncoding}: ${f.adapter} was trained with pair encoding ${recorded}; drop the flag`,
          );
        const data = await getTask(task, f.data, 0);
        const examples = f.split === 'dev' ? data.dev : data.validation;
        if (!examples || examples.length === 0)
          throw new UsageError(`task ${task} has no ${f.split} split${f.data ? ` under ${f.data}` : '; pass --data'}`);
        // The adapter records the metric it was selected on (train --metric); on its own task that is the default.
        const selectedOn = adapter.extra?.metricName;
        const own = task === adapter.task && typeof selectedOn === 'string' ? selectedOn : undefined;
        const info = selectMetric(data.info, f.metric ?? own);
        const r = await evaluateAdapter({
          backbone,
          adapter,
          task: info,
          examples,
          maxLength: f.maxLength,
          ...(f.threads !== undefined ? { threads: f.threads } : {}),
        });
        const { human, json } = commandOutput(ctx, f.json);
        human.write(
          `${task} ${f.split} (${r.n} examples) · ${describePeft(adapter.config)}: ${Object.entries(r.metrics)
            .map(([k, v]) => `${k} ${fmtNum(v!)}`)
            .join(', ')}\n`,
        );
        json({ task, split: f.split, metric: r.main, metricName: r.mainMetric, metrics: r.metrics, examples: r.n });
      },
    );
}
