import type { Command } from 'commander';
import { join } from 'node:path';
import type { CliContext } from '../context.js';
import { fmtNum } from '../progress.js';
import { int } from '../options.js';
import { UsageError } from '../../core/errors.js';
import { loadPeftAdapter } from '../../peft/io.js';
import { peftFromSearch } from '../../search/space/autopeft.js';
import { getBackbone, getTask, runTrial } from '../../train/trial.js';
import { setupPairEncoding } from '../../pipeline/attrs.js';
import {
  type CheckInput,
  EXPORT_FORMATS,
  exportAdapter,
  type ExportFormat,
  type StudyPlacement,
  studyPlacement,
} from '../../pipeline/export.js';
import { openStudy } from '../study.js';
import { DEFAULT_STORAGE } from './search.js';
import { addTrainingFlags, checkOutDir, fidelityOf, hyperOf, type TrainFlags } from './train.js';

/** Check inputs when the task's files are not at hand. */
const FIXED_CHECK: CheckInput[] = [
  { text: 'a gripping, beautifully shot film.' },
  { text: 'the plot never comes together and the jokes fall flat.' },
  { text: 'ok.' },
];

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
    .option(
      '--data <dir>',
      "folder holding the task's files: the ONNX check runs on its first dev examples (default: the study's, else fixed sentences)",
    )
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
    let dataDir = f.data;
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
          // The study's pair encoding (absent in older studies: cross), as retrain uses it.
          pairEncoding: setupPairEncoding(setup),
          hyper: { ...hyperOf(f as TrainFlags), ...(f.threads !== undefined ? { threads: f.threads } : {}) },
          ...(fidelityOf(f) ? { fidelity: fidelityOf(f)! } : {}),
          reportDev: true,
          saveDir: adapterDir,
        };
        dataDir ??= setup.dataDir;
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
    // A few real inputs (pairs for pair tasks) for the check when the task's files are at hand,
    // else fixed sentences (pairs for a two-text adapter).
    let texts: CheckInput[] = FIXED_CHECK;
    try {
      if (adapter.task) {
        const dev = (await getTask(adapter.task, dataDir, 0)).dev?.slice(0, 8);
        if (dev && dev.length > 0) texts = dev.map((e) => ({ text: e.text, pair: e.pair }));
      }
    } catch {
      // The task's files are elsewhere: the fixed sentences check the export just as well.
    }
    if (adapter.head?.pairEncoding === 'siamese' && texts.some((t) => t.pair === undefined))
      texts = FIXED_CHECK.map((t, i) => ({ text: t.text, pair: FIXED_CHECK[(i + 1) % FIXED_CHECK.length]!.text }));
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
        `onnx/model.onnx ${(r.onnx.bytes / 1e6).toFixed(1)} MB, inputs ${r.onnx.inputs.join(', ')} [batch, sequence <= ${r.maxLength}]${r.pairEncoding === 'siamese' ? ' (two texts, each tokenized on its own, both padded to one length)' : ''}\n`,
      );
      human.write(
        `checked: onnxruntime logits match autopeft's forward to ${r.onnx.maxAbsDiff.toExponential(1)} (max abs diff on ${texts.length} inputs)\n`,
      );
    }
    if (f.json) {
      const onnx = r.onnx
        ? { path: r.onnx.path, inputs: r.onnx.inputs, bytes: r.onnx.bytes, maxAbsDiff: r.onnx.maxAbsDiff }
        : null;
      ctx.stdout.write(
        `${JSON.stringify({ format, dir: f.out, files: r.files, maxLength: r.maxLength, pairEncoding: r.pairEncoding, onnx })}\n`,
      );
    }
  });
}
