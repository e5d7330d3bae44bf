import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { CliContext } from '../context.js';
import { int } from '../options.js';
import { UsageError } from '../../core/errors.js';
import { loadPeftAdapter } from '../../peft/io.js';
import { getBackbone } from '../../train/trial.js';
import {
  type PredictInput,
  type PredictResult,
  predictWithAdapter,
  predictWithExport,
} from '../../pipeline/predict.js';

interface PredictFlags {
  adapter?: string;
  modelDir?: string;
  input?: string;
  text?: string[];
  pair?: string[];
  jsonl?: boolean;
  model?: string;
  maxLength?: number;
  batchSize: number;
  threads?: number;
  json?: boolean;
}

/**
 * Inputs from text: JSONL (one object a line with "text" and, for pairs, "pair" or "text_pair"),
 * or plain lines where a tab separates the two texts of a pair. `where` names the source in errors.
 */
export function parseInputs(content: string, jsonl: boolean, where: string): PredictInput[] {
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  const out: PredictInput[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    if (!jsonl) {
      const tab = line.indexOf('\t');
      out.push(tab < 0 ? { text: line } : { text: line.slice(0, tab), pair: line.slice(tab + 1) });
      return;
    }
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (e) {
      throw new UsageError(`${where}:${i + 1}: not valid JSON (${(e as Error).message}); one object a line`);
    }
    const r = o as Record<string, unknown>;
    const pair = r['pair'] ?? r['text_pair'];
    if (
      typeof o !== 'object' ||
      o === null ||
      typeof r['text'] !== 'string' ||
      (pair !== undefined && typeof pair !== 'string')
    )
      throw new UsageError(`${where}:${i + 1}: expected {"text": string, optional "pair": string}`);
    out.push(pair === undefined ? { text: r['text'] as string } : { text: r['text'] as string, pair: pair as string });
  });
  return out;
}

/** Inputs from repeated --text (and --pair: the i-th --pair is the second text of the i-th --text). */
export function flagInputs(texts: readonly string[], pairs: readonly string[] | undefined): PredictInput[] {
  if (pairs !== undefined && pairs.length !== texts.length)
    throw new UsageError(
      `--pair given ${pairs.length} time(s) for ${texts.length} --text: give each --text exactly one --pair, in the same order`,
    );
  return texts.map((text, i) => (pairs !== undefined ? { text, pair: pairs[i]! } : { text }));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `autopeft predict`: labels and scores for new texts from a saved adapter or an exported folder. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('predict')
    .description('classify texts with a saved adapter (--adapter) or an exported transformers.js folder (--model-dir)')
    .option('--adapter <dir>', 'adapter folder (from `train --out` or any `export`)')
    .option('--model-dir <dir>', 'exported folder (export --format transformers.js): onnx/model.onnx + tokenizer.json')
    .option('--input <file|->', 'texts, one a line (a tab separates a pair), or JSONL (*.jsonl or --jsonl); - = stdin')
    .option('--text <text>', 'a text to classify (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option(
      '--pair <text>',
      'the second text of a sentence pair, one per --text in the same order (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--jsonl', 'read --input as JSONL: {"text", optional "pair"} per line')
    .option('--model <name|dir|hub id>', 'backbone for --adapter (default: the one it was trained on)')
    .option(
      '--max-length <n>',
      'longest input in tokens (default 128, or the export model_max_length)',
      int('--max-length', 4),
    )
    .option('--batch-size <n>', 'texts per forward', int('--batch-size', 1), 64)
    .option('--threads <n>', 'intra-op threads', int('--threads', 1))
    .option('--json', 'stdout: one JSON document {"labels", "predictions": [{"text", "label", "score", "scores"}]}')
    .action(async (f: PredictFlags) => {
      if ((f.adapter === undefined) === (f.modelDir === undefined))
        throw new UsageError('pass exactly one of --adapter <dir> and --model-dir <dir>');
      const inputs = flagInputs(f.text ?? [], f.pair);
      if (f.input !== undefined) {
        const fromStdin = f.input === '-';
        if (!fromStdin && !existsSync(f.input)) throw new UsageError(`--input ${f.input}: no such file`);
        const content = fromStdin ? await readStdin() : await readFile(f.input, 'utf8');
        inputs.push(
          ...parseInputs(content, f.jsonl === true || f.input.endsWith('.jsonl'), fromStdin ? 'stdin' : f.input),
        );
      } else if (inputs.length === 0) {
        if (process.stdin.isTTY)
          throw new UsageError('no texts: pass --text <text>, --input <file>, or pipe texts on stdin');
        inputs.push(...parseInputs(await readStdin(), f.jsonl === true, 'stdin'));
      }
      if (inputs.length === 0) throw new UsageError('no texts to classify (the input is empty)');
      const common = {
        inputs,
        batchSize: f.batchSize,
        ...(f.maxLength !== undefined ? { maxLength: f.maxLength } : {}),
        ...(f.threads !== undefined ? { threads: f.threads } : {}),
      };
      const t0 = performance.now();
      let r: PredictResult;
      if (f.adapter !== undefined) {
        const adapter = await loadPeftAdapter(f.adapter);
        r = await predictWithAdapter({
          ...common,
          adapter,
          backbone: await getBackbone(f.model ?? adapter.backbone.id),
        });
      } else r = await predictWithExport({ ...common, dir: f.modelDir! });
      const seconds = (performance.now() - t0) / 1000;
      const rows = r.predictions.map((p, i) => ({ ...inputs[i]!, ...p }));
      if (f.json) {
        ctx.stdout.write(`${JSON.stringify({ labels: r.labels, regression: r.regression, predictions: rows })}\n`);
      } else {
        for (const row of rows)
          ctx.stdout.write(
            `${row.label ?? 'value'}\t${row.score.toFixed(4)}\t${row.text}${row.pair !== undefined ? `\t${row.pair}` : ''}\n`,
          );
      }
      ctx.stderr.write(`classified ${rows.length} text(s) in ${seconds.toFixed(2)} s\n`);
    });
}
