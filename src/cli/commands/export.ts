import type { Command } from 'commander';
import { join } from 'node:path';
import type { CliContext } from '../context.js';
import { fmtNum } from '../progress.js';
import { int } from '../options.js';
import { UsageError } from '../../core/errors.js';
import { loadPeftAdapter } from '../../peft/io.js';
import { peftFromSearch } from '../../search/space/autopeft.js';
import { getBackbone, getTask, runTrial } from '../../train/trial.js';
import { exportAdapter } from '../../pipeline/export.js';
import { openStudy } from '../study.js';
import { DEFAULT_STORAGE } from './search.js';
import { addTrainingFlags, fidelityOf, hyperOf, type TrainFlags } from './train.js';

interface ExportFlags extends Partial<TrainFlags> {
  adapter?: string;
  study?: string;
  trial?: number;
  storage: string;
  out: string;
  seqLen: number;
}

/** `autopeft export`: ONNX (merged) + safetensors adapter, from a saved adapter or a study's trial. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('export')
    .description(
      'export an adapter as a merged ONNX model (backbone + PEFT + head) plus its safetensors; from --adapter, or --study/--trial (trained first)',
    )
    .option('--adapter <dir>', 'a saved adapter folder (from `train --out`)')
    .option('--study <name>', 'a search study: train trial --trial at full fidelity, then export it')
    .option('--trial <n>', 'trial number in --study', int('--trial', 0))
    .option('--storage <file.sqlite>', 'SQLite file holding the studies', DEFAULT_STORAGE)
    .requiredOption('--out <dir>', 'output folder')
    .option('--seq-len <n>', 'sequence length of the exported model', int('--seq-len', 4), 128);
  addTrainingFlags(cmd).action(async (f: ExportFlags) => {
    let adapterDir = f.adapter;
    if (!adapterDir) {
      if (!f.study || f.trial === undefined)
        throw new UsageError('pass --adapter <dir>, or --study <name> with --trial <n>');
      const { storage, setup } = await openStudy({ study: f.study, storage: f.storage });
      let spec: Parameters<typeof runTrial>[0];
      try {
        const trial = await storage.getTrial(f.study, f.trial);
        adapterDir = join(f.out, 'adapter');
        spec = {
          model: setup.model,
          task: setup.task,
          ...(setup.dataDir !== undefined ? { dataDir: setup.dataDir } : {}),
          peft: peftFromSearch(trial.config, setup.numLayers),
          hyper: { ...hyperOf(f as TrainFlags), ...(f.threads !== undefined ? { threads: f.threads } : {}) },
          ...(fidelityOf(f) ? { fidelity: fidelityOf(f)! } : {}),
          reportDev: true,
          saveDir: adapterDir,
        };
      } finally {
        await storage.close();
      }
      ctx.stderr.write(`training trial ${f.trial}'s configuration (${f.epochs} epochs) before export...\n`);
      const r = await runTrial(spec);
      ctx.stderr.write(
        `trained: dev ${Object.entries(r.devMetrics ?? {})
          .map(([k, v]) => `${k} ${fmtNum(v)}`)
          .join(', ')}\n`,
      );
    }
    const adapter = await loadPeftAdapter(adapterDir);
    const backbone = await getBackbone(adapter.backbone.id);
    // A few real inputs for the check when the task's files are at hand, else fixed sentences.
    let texts = ['a gripping, beautifully shot film.', 'the plot never comes together and the jokes fall flat.', 'ok.'];
    try {
      if (adapter.task)
        texts = (await getTask(adapter.task, undefined, 0)).dev?.slice(0, 8).map((e) => e.text) ?? texts;
    } catch {
      // The task's files are elsewhere: the fixed sentences check the export just as well.
    }
    const r = await exportAdapter({
      backbone,
      adapter,
      adapterDir,
      outDir: f.out,
      seqLen: f.seqLen,
      checkTexts: texts,
    });
    ctx.stdout.write(
      `exported to ${f.out}/: ${r.files.join(', ')} (model.onnx ${(r.bytes / 1e6).toFixed(1)} MB, inputs ${r.inputs.join(', ')} [batch, ${r.seqLen}])\n`,
    );
    ctx.stdout.write(
      `checked: onnxruntime logits match autopeft's forward to ${r.maxAbsDiff.toExponential(1)} (max abs diff on ${texts.length} inputs)\n`,
    );
  });
}
