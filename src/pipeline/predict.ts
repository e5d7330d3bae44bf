/**
 * Classify new texts with a trained adapter (`autopeft predict --adapter DIR`) or an exported
 * transformers.js folder (`--model-dir EXPORT`), batched.
 *
 * - adapter: the same forward as `autopeft evaluate` (the PEFT modules and the head built as
 *   constants into one program per padded length, train/evaluate.ts), so a prediction's label is
 *   the one evaluation scores;
 * - export: `onnx/model.onnx` in onnxruntime-node, tokenized by the folder's own `tokenizer.json`
 *   (+ tokenizer_config.json: pad token, model_max_length) and labelled by config.json's id2label,
 *   exactly what another runtime loading the folder sees.
 * Sentence pairs: a siamese adapter (`head.pairEncoding: 'siamese'`) or a two-input export
 * (`input_ids_b` among its inputs) encodes each text on its own (both padded to one length), and
 * every input must then be a pair; any other model joins a pair into one sequence (cross).
 * Scores are softmax probabilities (classification) or the raw output (regression, label null).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Batcher } from '../data/batching.js';
import type { Example } from '../data/tasks/types.js';
import type { Backbone } from '../models/backbone.js';
import { loadTokenizer } from '../models/tokenizers/load.js';
import type { Tokenizer } from '../models/tokenizers/types.js';
import { createPeft } from '../peft/create.js';
import { checkAdapterBackbone, type SavedAdapter } from '../peft/io.js';
import { compileEval } from '../runtime/eval.js';
import { ort } from '../runtime/session.js';
import { tokenFeeds } from '../train/feeds.js';
import { gatherLogits, ProgramsByLength } from '../train/programs.js';
import { UsageError } from '../core/errors.js';
import { labelNames, siamesePairHead } from './export.js';
import { SECOND_TEXT_INPUTS } from '../models/types.js';

/** One input: a text, or a pair for pair tasks. */
export interface PredictInput {
  text: string;
  pair?: string;
}

export interface Prediction {
  /** Label name of the highest score; null for regression. */
  label: string | null;
  /** Probability of `label` (classification), or the predicted value (regression). */
  score: number;
  /** Probability per label, in logit order (classification); [value] for regression. */
  scores: number[];
}

export interface PredictResult {
  labels: string[];
  regression: boolean;
  predictions: Prediction[];
}

export interface PredictOptions {
  inputs: readonly PredictInput[];
  /** Longest input in tokens (default 128, capped at the model's). */
  maxLength?: number;
  /** Inputs per forward (default 64). */
  batchSize?: number;
  threads?: number;
}

/** Softmax rows of `logits` [n, k] -> predictions (argmax label, its probability, all probabilities). */
export function toPredictions(
  logits: Float32Array,
  n: number,
  labels: readonly string[],
  regression: boolean,
): Prediction[] {
  const k = regression ? 1 : labels.length;
  return Array.from({ length: n }, (_, i) => {
    const row = Array.from(logits.subarray(i * k, (i + 1) * k));
    if (regression) return { label: null, score: row[0]!, scores: row };
    const m = Math.max(...row);
    const e = row.map((x) => Math.exp(x - m));
    const z = e.reduce((a, b) => a + b, 0);
    const p = e.map((x) => x / z);
    let best = 0;
    for (let j = 1; j < k; j++) if (p[j]! > p[best]!) best = j;
    return { label: labels[best]!, score: p[best]!, scores: p };
  });
}

const asExamples = (inputs: readonly PredictInput[]): Example[] =>
  inputs.map((x) => ({ text: x.text, ...(x.pair !== undefined ? { pair: x.pair } : {}), label: 0 }));

function batcher(o: PredictOptions, tokenizer: Tokenizer, maxLength: number, pad16: boolean, siamese: boolean) {
  return new Batcher(asExamples(o.inputs), tokenizer, {
    batchSize: o.batchSize ?? 64,
    maxLength,
    ...(pad16 ? { padToMultipleOf: 16 } : {}),
    shuffle: false,
    ...(siamese ? { pairEncoding: 'siamese' as const } : {}),
  });
}

/** A two-text model gives no answer for one text: every input must carry its second text. */
function requirePairs(inputs: readonly PredictInput[], what: string): void {
  const i = inputs.findIndex((x) => x.pair === undefined);
  if (i >= 0)
    throw new UsageError(
      `input ${i + 1} has no second text, but ${what} takes sentence pairs (siamese); give each --text its --pair, or two tab-separated columns in --input`,
    );
}

/** Predictions of a saved adapter on its backbone (evaluate's forward). */
export async function predictWithAdapter(
  o: PredictOptions & { backbone: Backbone; adapter: SavedAdapter },
): Promise<PredictResult> {
  const { backbone, adapter } = o;
  checkAdapterBackbone(adapter, backbone.dims);
  const regression = adapter.head?.kind === 'regression';
  const labels = labelNames(adapter);
  const numLabels = regression ? 1 : labels.length;
  if (o.inputs.length === 0) return { labels, regression, predictions: [] };
  const maxLength = Math.min(o.maxLength ?? 128, backbone.maxLength);
  const pairHead = siamesePairHead(adapter, backbone);
  if (pairHead) requirePairs(o.inputs, 'the adapter');
  const headWeights = new Map(
    [...adapter.headWeights].map(([k, t]) => [
      k,
      { data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) },
    ]),
  );
  const programs = new ProgramsByLength(
    async (seqLen: number) => {
      const peft = createPeft(adapter.config, backbone.dims, { mode: 'frozen', weights: adapter.weights });
      const built = backbone.buildClassifier({
        seqLen,
        numLabels,
        hooks: peft.hooks,
        seed: 0,
        dropout: false,
        headWeights,
        ...(pairHead ? { pairEncoding: 'siamese' as const, pairHead } : {}),
      });
      peft.assertBuilt();
      const threads = o.threads !== undefined ? { threads: o.threads } : {};
      return { prog: await compileEval(built.graph, { logits: built.logits }, threads), inputs: built.inputNames };
    },
    (p) => p.prog.release(),
  );
  try {
    const logits = await gatherLogits(
      batcher(o, backbone.tokenizer, maxLength, true, pairHead !== undefined).batches(),
      o.inputs.length,
      numLabels,
      async (b) => {
        const p = await programs.get(b.seq);
        return (await p.prog.run(tokenFeeds(b, p.inputs))).logits!.data as Float32Array;
      },
    );
    return { labels, regression, predictions: toPredictions(logits, o.inputs.length, labels, regression) };
  } finally {
    await programs.release();
  }
}

async function readJson(path: string, what: string): Promise<Record<string, unknown>> {
  if (!existsSync(path))
    throw new UsageError(`${path}: not found; --model-dir must be a folder written by 'autopeft export' (${what})`);
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Predictions of an exported transformers.js folder (onnx/model.onnx + config.json + tokenizer files). */
export async function predictWithExport(o: PredictOptions & { dir: string }): Promise<PredictResult> {
  const config = await readJson(join(o.dir, 'config.json'), 'the transformers.js layout');
  const modelPath = join(o.dir, 'onnx', 'model.onnx');
  if (!existsSync(modelPath))
    throw new UsageError(
      `${modelPath}: not found; --model-dir needs the transformers.js layout (export --format transformers.js)`,
    );
  const tokConfig = existsSync(join(o.dir, 'tokenizer_config.json'))
    ? await readJson(join(o.dir, 'tokenizer_config.json'), 'tokenizer')
    : {};
  const id2label = (config['id2label'] ?? {}) as Record<string, string>;
  const n = Object.keys(id2label).length;
  const labels = Array.from({ length: n }, (_, i) => id2label[String(i)] ?? `LABEL_${i}`);
  const regression = config['problem_type'] === 'regression';
  const tokenizer = await loadTokenizer(o.dir);
  const modelMax = typeof tokConfig['model_max_length'] === 'number' ? tokConfig['model_max_length'] : 128;
  const maxLength = Math.min(o.maxLength ?? modelMax, modelMax);
  if (o.inputs.length === 0) return { labels, regression, predictions: [] };
  const session = await ort.InferenceSession.create(modelPath, {
    ...(o.threads !== undefined ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}),
  });
  try {
    const siamese = session.inputNames.includes(SECOND_TEXT_INPUTS.ids);
    if (siamese) requirePairs(o.inputs, `${modelPath}`);
    const width = regression ? 1 : labels.length;
    const logits = await gatherLogits(
      batcher(o, tokenizer, maxLength, false, siamese).batches(),
      o.inputs.length,
      width,
      async (b) => (await session.run(tokenFeeds(b, [...session.inputNames]))).logits!.data as Float32Array,
    );
    return { labels, regression, predictions: toPredictions(logits, o.inputs.length, labels, regression) };
  } finally {
    await session.release();
  }
}
