import type { Command } from 'commander';
import { join } from 'node:path';
import type { CliContext } from '../context.js';
import { fmtNum } from '../progress.js';
import { int } from '../options.js';
import { UsageError } from '../../core/errors.js';
import { loadPeftAdapter } from '../../peft/io.js';
import { peftFromSearch } from '../../search/space/autopeft.js';
import { getBackbone, getTask, runTrial } from '../../train/trial.js';
import {
  EXPORT_FORMATS,
  exportAdapter,
  type ExportFormat,
  type StudyPlacement,
  studyPlacement,
} from '../../pipeline/export.js';
import { openStudy } from '../study.js';
import { DEFAULT_STORAGE } from './search.js';
import { addTrainingFlags, checkOutDir, fidelityOf, hyperOf, type TrainFlags } from './train.js';

interface ExportFlags extends Partial<TrainFlags> {
  adapter?: string;
  study?: string;
  trial?: number;
  storage: string;
  out: string;
  seqLen: number;
  format: string;
  json?: boolean;
}

/**
 * `autopeft export`: a saved adapter or a study's trial in the transformers.js layout (merged ONNX +
 * config + tokenizer files), AdapterHub's or HF PEFT's layout; always with a model card.
 */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('export')
    .description(
      'export an adapter for transformers.js (merged ONNX + config + tokenizer), AdapterHub or HF PEFT, with a model card; from --adapter, or --study/--trial (trained first)',
    )
    .option('--adapter <dir>', 'a saved adapter folder (from `train --out`)')
    .option('--study <name>', 'a search study: train trial --trial at full fidelity, then export it')
    .option('--trial <n>', 'trial number in --study', int('--trial', 0))
    .option('--storage <file.sqlite>', 'SQLite file holding the studies', DEFAULT_STORAGE)
    .requiredOption('--out <dir>', 'output folder')
    .option('--format <name>', `layout: ${EXPORT_FORMATS.join(' | ')}`, 'transformers.js')
    .option(
      '--seq-len <n>',
      'longest input in tokens (tokenizer_config.json model_max_length)',
      int('--seq-len', 4),
      128,
    )
    .option('--json', 'stdout: one JSON document {format, dir, files, onnx}; human text to stderr');
  addTrainingFlags(cmd).action(async (f: ExportFlags) => {
    if (!(EXPORT_FORMATS as readonly string[]).includes(f.format))
      throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got "${f.format}"`);
    const format = f.format as ExportFormat;
    checkOutDir('--out', f.out);
    const human = f.json ? ctx.stderr : ctx.stdout;
    let adapterDir = f.adapter;
    let placement: StudyPlacement | undefined;
    if (!adapterDir) {
      if (!f.study || f.trial === undefined)
        throw new UsageError('pass --adapter <dir>, or --study <name> with --trial <n>');
      const { storage, setup } = await openStudy({ study: f.study, storage: f.storage });
      let spec: Parameters<typeof runTrial>[0];
      try {
        const trial = await storage.getTrial(f.study, f.trial);
        const rec = await storage.getStudy(f.study);
        const done = (await storage.listTrials(f.study)).filter((t) => t.state === 'COMPLETE' && t.values);
        placement = studyPlacement(
          f.study,
          [...rec.objectiveNames],
          [...rec.directions],
          done.map((t) => ({ number: t.number, values: t.values! })),
          f.trial,
        );
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
      outDir: f.out,
      format,
      maxLength: f.seqLen,
      checkTexts: texts,
      ...(placement ? { study: placement } : {}),
    });
    human.write(`exported (${format}) to ${f.out}/: ${r.files.join(', ')}\n`);
    if (r.onnx) {
      human.write(
        `onnx/model.onnx ${(r.onnx.bytes / 1e6).toFixed(1)} MB, inputs ${r.onnx.inputs.join(', ')} [batch, sequence <= ${r.maxLength}]\n`,
      );
      human.write(
        `checked: onnxruntime logits match autopeft's forward to ${r.onnx.maxAbsDiff.toExponential(1)} (max abs diff on ${texts.length} inputs)\n`,
      );
    }
    if (f.json) {
      const onnx = r.onnx
        ? { path: r.onnx.path, inputs: r.onnx.inputs, bytes: r.onnx.bytes, maxAbsDiff: r.onnx.maxAbsDiff }
        : null;
      ctx.stdout.write(`${JSON.stringify({ format, dir: f.out, files: r.files, maxLength: r.maxLength, onnx })}\n`);
    }
  });
}
