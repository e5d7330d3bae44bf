/**
 * Export a trained adapter for use outside autopeft, in one of three layouts (each with a model
 * card, README.md, and autopeft's own adapter files so `autopeft predict --adapter` reads it too):
 *
 * - `transformers.js` (default): the merged model (backbone + PEFT + head, every weight a constant,
 *   prefix-tuning's MLP folded) as `onnx/model.onnx` with symbolic batch and sequence axes, plus
 *   `config.json` (model_type, id2label/label2id), `tokenizer.json` and `tokenizer_config.json`.
 *   BERT/RoBERTa folders load with `pipeline('text-classification', dir)`; USE-lite (model_type
 *   'use-lite', which transformers.js has no class for) with AutoModel + AutoTokenizer (README).
 *   The ONNX file is checked before it is reported: run by onnxruntime-node on padded inputs, its
 *   logits are compared with autopeft's forward.
 *   A siamese adapter (USE-lite pair tasks, `head.pairEncoding: 'siamese'`) exports the two-input
 *   pair model: `input_ids`, `attention_mask` (first texts), `input_ids_b`, `attention_mask_b`
 *   (second texts), each text tokenized on its own and both padded to one length; the folder
 *   keeps the layout (tokenizer.json loads in transformers.js) but no transformers.js pipeline
 *   takes two-input models: the card shows the onnxruntime-node call.
 * - `adapters`: AdapterHub's adapter_config.json + adapter.safetensors (src/peft/export.ts).
 * - `peft`: HF PEFT's adapter_config.json + adapter_model.safetensors (LoRA only).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Batcher } from '../data/batching.js';
import type { Backbone } from '../models/backbone.js';
import { type PairHead, SECOND_TEXT_INPUTS } from '../models/types.js';
import { resolveModel } from '../models/hub/resolve.js';
import { writeSafetensors } from '../models/io/safetensors.js';
import { byteLevelBpeTokenizerJson, parseMergesTxt } from '../models/tokenizers/bpe.js';
import { tokenText } from '../models/tokenizers/hf.js';
import { readVocabTxt, wordPieceTokenizerJson } from '../models/tokenizers/wordpiece.js';
import { parseUseLiteVocab } from '../models/use-lite/tokenizer.js';
import { useLiteTokenizerConfig, useLiteTokenizerJson } from '../models/use-lite/tokenizer-json.js';
import { describePeft } from '../peft/config.js';
import {
  adapterHubLayout,
  buildMergedModel,
  exportMergedOnnx,
  type LibraryLayout,
  peftLoraLayout,
} from '../peft/export.js';
import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  checkAdapterBackbone,
  savePeftAdapter,
  type SavedAdapter,
} from '../peft/io.js';
import { paperParamPct } from '../peft/params.js';
import { compileEval } from '../runtime/eval.js';
import { ort } from '../runtime/session.js';
import { tokenFeeds } from '../train/feeds.js';
import { UsageError } from '../core/errors.js';
import { nonDominatedSort, toMinimization } from '../search/pareto/index.js';
import type { Direction } from '../search/types.js';

export const EXPORT_FORMATS = ['transformers.js', 'adapters', 'peft'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Where the exported trial sits among the study's finished trials. */
export interface StudyPlacement {
  study: string;
  trial: number;
  objectives: string[];
  directions: Direction[];
  /** The trial's values in objective order. */
  values: number[];
  /** 0 = on the Pareto front; k = in the k-th front after removing the k before it. */
  frontRank: number;
  /** The front's trials, by the second objective (param %). */
  front: { trial: number; values: number[] }[];
  completeTrials: number;
}

/** The study placement of `trial` among `trials` (complete ones: number + values). */
export function studyPlacement(
  study: string,
  objectives: string[],
  directions: Direction[],
  trials: readonly { number: number; values: readonly number[] }[],
  trial: number,
): StudyPlacement | undefined {
  const idx = trials.findIndex((t) => t.number === trial);
  if (idx < 0) return undefined;
  const fronts = nonDominatedSort(
    toMinimization(
      trials.map((t) => t.values),
      directions,
    ),
  );
  const frontRank = fronts.findIndex((f) => f.includes(idx));
  const front = (fronts[0] ?? [])
    .map((i) => ({ trial: trials[i]!.number, values: [...trials[i]!.values] }))
    .sort((a, b) => (a.values[1] ?? 0) - (b.values[1] ?? 0));
  return {
    study,
    trial,
    objectives,
    directions,
    values: [...trials[idx]!.values],
    frontRank,
    front,
    completeTrials: trials.length,
  };
}

export interface ExportOptions {
  backbone: Backbone;
  adapter: SavedAdapter;
  outDir: string;
  format?: ExportFormat;
  /** Longest input in tokens (tokenizer_config.json model_max_length; capped at the backbone's). */
  maxLength: number;
  /**
   * Inputs the ONNX file is checked on (transformers.js layout): texts, or pairs for pair tasks.
   * A siamese adapter needs pairs (texts without one are refused).
   */
  checkTexts: readonly (string | CheckInput)[];
  /** Set when exported from a study: the card names the trial's place on the front. */
  study?: StudyPlacement;
}

/** One check input: a text and, for pair tasks, its second text. */
export interface CheckInput {
  text: string;
  pair?: string | undefined;
}

export interface ExportResult {
  format: ExportFormat;
  outDir: string;
  /** Files written, relative to outDir. */
  files: string[];
  maxLength: number;
  /** `siamese`: the ONNX file takes two texts (`input_ids_b`, `attention_mask_b` beside the first's). */
  pairEncoding: 'cross' | 'siamese';
  /** transformers.js layout: the ONNX file's inputs, size and check. */
  onnx?: {
    path: string;
    inputs: string[];
    bytes: number;
    /** Largest |logit difference| between the file (padded inputs) and autopeft's forward, on `checkTexts`. */
    maxAbsDiff: number;
  };
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

/** Label names in logit order (the head's, else LABEL_i as transformers names them). */
export function labelNames(adapter: SavedAdapter): string[] {
  const n = adapter.head?.numLabels ?? 2;
  const given = adapter.head?.labels;
  return Array.from({ length: n }, (_, i) => given?.[i] ?? `LABEL_${i}`);
}

/**
 * The siamese head of a two-text adapter (`head.pairEncoding: 'siamese'`), or undefined for a
 * one-sequence adapter (single texts, or pairs joined `cross`). Refused on a backbone that cannot
 * build siamese pairs.
 */
export function siamesePairHead(
  adapter: SavedAdapter,
  backbone: Pick<Backbone, 'kind' | 'pairEncodings'>,
): PairHead | undefined {
  if (adapter.head?.pairEncoding !== 'siamese') return undefined;
  if (!(backbone.pairEncodings ?? ['cross']).includes('siamese'))
    throw new UsageError(
      `the adapter encodes sentence pairs as 'siamese', which ${backbone.kind} backbones cannot build; use it with the backbone it was trained on (--model)`,
    );
  return adapter.head.pairHead ?? 'linear';
}

/** The inputs of a siamese export, in feed order. */
export const SIAMESE_INPUTS = ['input_ids', 'attention_mask', SECOND_TEXT_INPUTS.ids, SECOND_TEXT_INPUTS.mask] as const;

/** Tokenizer files of a BERT/RoBERTa checkpoint folder, as tokenizer.json (built as the loader builds it). */
async function hfTokenizerFiles(
  dir: string,
): Promise<{ tokenizer: Record<string, unknown>; config: Record<string, unknown> }> {
  const cfgPath = join(dir, 'tokenizer_config.json');
  const config = existsSync(cfgPath) ? (JSON.parse(await readFile(cfgPath, 'utf8')) as Record<string, unknown>) : {};
  const tjPath = join(dir, 'tokenizer.json');
  if (existsSync(tjPath))
    return { tokenizer: JSON.parse(await readFile(tjPath, 'utf8')) as Record<string, unknown>, config };
  const bool = (k: string): boolean | undefined =>
    typeof config[k] === 'boolean' ? (config[k] as boolean) : undefined;
  if (existsSync(join(dir, 'vocab.txt'))) {
    const tokenizer = wordPieceTokenizerJson(await readVocabTxt(join(dir, 'vocab.txt')), {
      file: join(dir, 'vocab.txt'),
      lowercase: bool('do_lower_case'),
      stripAccents: bool('strip_accents'),
      tokenizeChineseChars: bool('tokenize_chinese_chars'),
      unkToken: tokenText(config['unk_token']),
      clsToken: tokenText(config['cls_token']),
      sepToken: tokenText(config['sep_token']),
      padToken: tokenText(config['pad_token']),
      maskToken: tokenText(config['mask_token']),
    });
    return { tokenizer, config };
  }
  const vocabPath = join(dir, 'vocab.json');
  const tokenizer = byteLevelBpeTokenizerJson(
    JSON.parse(await readFile(vocabPath, 'utf8')) as Record<string, number>,
    parseMergesTxt(await readFile(join(dir, 'merges.txt'), 'utf8')),
    {
      file: vocabPath,
      bosToken: tokenText(config['bos_token']),
      eosToken: tokenText(config['eos_token']),
      unkToken: tokenText(config['unk_token']) ?? '<unk>',
      padToken: tokenText(config['pad_token']),
      maskToken: tokenText(config['mask_token']),
      addPrefixSpace: bool('add_prefix_space'),
    },
  );
  return { tokenizer, config };
}

/** Token text of `id` in a tokenizer.json (model vocab or added tokens). */
function tokenOf(tj: Record<string, unknown>, id: number): string | undefined {
  const added = (tj['added_tokens'] as { id: number; content: string }[] | undefined)?.find((t) => t.id === id);
  if (added) return added.content;
  const vocab = (tj['model'] as { vocab?: unknown } | undefined)?.vocab;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab))
    return Object.entries(vocab as Record<string, number>).find(([, v]) => v === id)?.[0];
  return undefined;
}

/** config.json (+ tokenizer files) of the transformers.js layout. */
async function transformersFiles(
  o: ExportOptions,
  maxLength: number,
): Promise<Record<string, Record<string, unknown>>> {
  const { backbone, adapter } = o;
  const labels = labelNames(adapter);
  const regression = adapter.head?.kind === 'regression';
  const id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
  const label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
  const pairHead = siamesePairHead(adapter, backbone);
  const autopeft = {
    task: adapter.task ?? null,
    peft: describePeft(adapter.config),
    backbone: adapter.backbone.id,
    adapter: ADAPTER_CONFIG_FILE,
    pairEncoding: pairHead ? 'siamese' : 'cross',
    ...(pairHead ? { pairHead, inputs: [...SIAMESE_INPUTS] } : {}),
  };
  if (backbone.kind === 'use-lite') {
    const vocab = parseUseLiteVocab(
      JSON.parse(readFileSync(join(backboneDir(backbone), 'vocab.json'), 'utf8')),
      'vocab.json',
    );
    const d = backbone.dims;
    return {
      'config.json': {
        // transformers.js has no class for this type: load with AutoModel (README.md).
        model_type: 'use-lite',
        architectures: ['UseLiteForSequenceClassification'],
        id2label,
        label2id,
        num_labels: labels.length,
        problem_type: regression ? 'regression' : 'single_label_classification',
        hidden_size: d.hidden,
        num_hidden_layers: d.numLayers,
        num_attention_heads: d.numHeads,
        attention_widths: [...(d.attentionWidths ?? [])],
        vocab_size: backbone.tokenizer.vocabSize,
        max_position_embeddings: backbone.maxLength,
        pad_token_id: backbone.tokenizer.padId,
        // Siamese: two texts, each tokenized on its own, both padded to one length (README.md).
        ...(pairHead ? { pair_encoding: 'siamese', input_names: [...SIAMESE_INPUTS] } : {}),
        autopeft,
      },
      'tokenizer.json': useLiteTokenizerJson(vocab),
      'tokenizer_config.json': { ...useLiteTokenizerConfig(vocab), model_max_length: maxLength },
    };
  }
  const dir = await resolveModel(adapter.backbone.id);
  const base = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const { tokenizer, config } = await hfTokenizerFiles(dir);
  const pad = tokenOf(tokenizer, backbone.tokenizer.padId);
  const flavour = backbone.kind === 'roberta' ? 'Roberta' : 'Bert';
  return {
    'config.json': {
      ...base,
      architectures: [`${flavour}ForSequenceClassification`],
      id2label,
      label2id,
      problem_type: regression ? 'regression' : 'single_label_classification',
      autopeft,
    },
    'tokenizer.json': tokenizer,
    'tokenizer_config.json': {
      tokenizer_class: `${flavour}Tokenizer`,
      ...config,
      ...(pad !== undefined && config['pad_token'] === undefined ? { pad_token: pad } : {}),
      model_max_length: maxLength,
    },
  };
}

function backboneDir(backbone: Backbone): string {
  const dir = (backbone as { model?: { dir?: unknown } }).model?.dir;
  if (typeof dir !== 'string') throw new UsageError(`export: cannot find the files of backbone '${backbone.id}'`);
  return dir;
}

/** The merged ONNX file under onnx/, checked against autopeft's forward. */
async function writeOnnx(o: ExportOptions, maxLength: number): Promise<NonNullable<ExportResult['onnx']>> {
  const { backbone, adapter } = o;
  const exportBackbone = backbone.exportBackbone?.bind(backbone);
  if (!exportBackbone)
    throw new UsageError(`export: the ${backbone.kind} backbone '${backbone.id}' has no merged export`);
  const numLabels = adapter.head?.numLabels ?? 2;
  const pairHead = siamesePairHead(adapter, backbone);
  const pair = pairHead ? { pairEncoding: 'siamese' as const, pairHead } : {};
  // NOTE: LoRA stays a branch (mergeLora: false), as this export has always written it.
  const merge = { mergeLora: false };
  await mkdir(join(o.outDir, 'onnx'), { recursive: true });
  const path = join(o.outDir, 'onnx', 'model.onnx');
  const model = await exportMergedOnnx(exportBackbone({ seqLen: 'sequence', numLabels, ...pair }), adapter, {
    ...merge,
    path,
  });
  const inputs = model.inputs.map((v) => v.name);

  // Check: the file on inputs padded to maxLength (padding and the symbolic axis exercised)
  // against autopeft's forward built at the batch's own length.
  const examples = o.checkTexts.map((c) => {
    const x = typeof c === 'string' ? { text: c } : c;
    return { text: x.text, ...(x.pair !== undefined ? { pair: x.pair } : {}), label: 0 };
  });
  if (pairHead && examples.some((e) => e.pair === undefined))
    throw new UsageError('export: the adapter takes sentence pairs (siamese); check it on pairs, not single texts');
  const batchOptions = {
    batchSize: examples.length,
    maxLength,
    shuffle: false,
    ...(pairHead ? { pairEncoding: 'siamese' as const } : {}),
  };
  const session = await ort.InferenceSession.create(path);
  const fixed = [...new Batcher(examples, backbone.tokenizer, { ...batchOptions, padding: 'fixed' }).batches()][0]!;
  const got = (await session.run(tokenFeeds(fixed, inputs))).logits!.data as Float32Array;
  await session.release();
  const db = [...new Batcher(examples, backbone.tokenizer, batchOptions).batches()][0]!;
  const ref = buildMergedModel(exportBackbone({ seqLen: db.seq, numLabels, ...pair }), adapter, merge);
  const prog = await compileEval(ref.graph, { logits: ref.logits });
  const want = (
    await prog.run(
      tokenFeeds(
        db,
        ref.graph.inputs.map((v) => v.name),
      ),
    )
  ).logits!.data as Float32Array;
  await prog.release();
  let maxAbsDiff = 0;
  // Batches are sorted by length: map rows back through `indices`.
  fixed.indices.forEach((ex, r) => {
    const r2 = db.indices.indexOf(ex);
    for (let j = 0; j < numLabels; j++)
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[r * numLabels + j]! - want[r2 * numLabels + j]!));
  });
  return { path, inputs, bytes: model.bytes!.length, maxAbsDiff };
}

function layoutModel(o: ExportOptions, format: ExportFormat) {
  const { backbone } = o;
  if (siamesePairHead(o.adapter, backbone))
    throw new UsageError(
      `export --format ${format}: the Python libraries have no siamese (two-text) sequence classifier to load this adapter into; use --format transformers.js (a two-input ONNX model)`,
    );
  if (backbone.kind === 'use-lite')
    throw new UsageError(
      `export --format ${format}: the Python libraries have no USE-lite model to load this adapter into; use --format transformers.js`,
    );
  return {
    flavour: backbone.kind,
    modelId: o.adapter.backbone.id,
    hidden: backbone.dims.hidden,
    numLayers: backbone.dims.numLayers,
  };
}

async function writeLayout(outDir: string, l: LibraryLayout, configFile: string, weightsFile: string): Promise<void> {
  await writeFile(join(outDir, configFile), json(l.config));
  await writeSafetensors(join(outDir, weightsFile), l.tensors, { format: 'pt' });
}

export async function exportAdapter(o: ExportOptions): Promise<ExportResult> {
  const { backbone, adapter } = o;
  const format = o.format ?? 'transformers.js';
  checkAdapterBackbone(adapter, backbone.dims);
  const maxLength = Math.min(o.maxLength, backbone.maxLength);
  // A layout that cannot hold this adapter is refused before anything is written.
  const libraryModel = format === 'transformers.js' ? undefined : layoutModel(o, format);
  await mkdir(o.outDir, { recursive: true });
  const files: string[] = [];
  let onnx: ExportResult['onnx'];
  let notes: string[] = [];
  if (format === 'transformers.js') {
    onnx = await writeOnnx(o, maxLength);
    files.push('onnx/model.onnx');
    for (const [name, content] of Object.entries(await transformersFiles(o, maxLength))) {
      await writeFile(join(o.outDir, name), json(content));
      files.push(name);
    }
  } else if (format === 'adapters') {
    const l = adapterHubLayout(adapter, libraryModel!, adapter.task ?? 'autopeft');
    await writeLayout(o.outDir, l, 'adapter_config.json', 'adapter.safetensors');
    // The head under its transformers names (<Flavour>ForSequenceClassification), BERT's pooler included.
    await writeSafetensors(
      join(o.outDir, 'head.safetensors'),
      new Map([...adapter.headWeights].map(([n, t]) => [n, { data: Float32Array.from(t.data), shape: [...t.shape] }])),
      { format: 'pt' },
    );
    files.push('adapter_config.json', 'adapter.safetensors', 'head.safetensors');
    notes = l.notes;
  } else {
    const l = peftLoraLayout(adapter, libraryModel!, [...adapter.headWeights.keys()]);
    await writeLayout(o.outDir, l, 'adapter_config.json', 'adapter_model.safetensors');
    files.push('adapter_config.json', 'adapter_model.safetensors');
    notes = l.notes;
  }
  // autopeft's own files (read by `predict --adapter`); the library layouts use the names PEFT owns, ours differ.
  await savePeftAdapter(o.outDir, adapter);
  files.push(ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE);
  await writeFile(join(o.outDir, 'README.md'), modelCard(o, format, maxLength, notes));
  files.push('README.md');
  const pairEncoding = siamesePairHead(adapter, backbone) ? 'siamese' : 'cross';
  return { format, outDir: o.outDir, files, maxLength, pairEncoding, ...(onnx ? { onnx } : {}) };
}

const pct = (x: number): string => `${x < 0.1 ? x.toPrecision(2) : x.toFixed(2)}%`;
const num = (x: unknown): string => (typeof x === 'number' ? (Math.abs(x) < 1 ? x.toFixed(4) : x.toFixed(2)) : '—');

/** README.md: task, dev metrics, configuration, param %, place on the study's front, how to load. */
export function modelCard(o: ExportOptions, format: ExportFormat, maxLength: number, notes: readonly string[]): string {
  const { adapter, backbone } = o;
  const extra = (adapter.extra ?? {}) as Record<string, unknown>;
  const dev = (extra['devMetrics'] ?? null) as Record<string, unknown> | null;
  const val = (extra['metrics'] ?? null) as Record<string, unknown> | null;
  const paramPct =
    typeof extra['paramPct'] === 'number'
      ? (extra['paramPct'] as number)
      : paperParamPct(adapter.config, backbone.dims, backbone.backboneParams);
  const c = adapter.config;
  const active = c.layers.flatMap((on, l) => (on ? [l] : []));
  const pairHead = siamesePairHead(adapter, backbone);
  const lines: string[] = [
    '---',
    `library_name: ${format === 'peft' ? 'peft' : format === 'adapters' ? 'adapter-transformers' : 'transformers.js'}`,
    `base_model: ${adapter.backbone.id}`,
    'pipeline_tag: text-classification',
    'tags: [autopeft]',
    '---',
    '',
    `# ${adapter.task ?? 'text classification'}: ${describePeft(c)} on ${adapter.backbone.id}`,
    '',
    `Exported by autopeft ${'`'}export --format ${format}${'`'}.`,
    '',
    '## Task and metrics',
    '',
    `- task: ${adapter.task ?? 'unknown'}; labels: ${labelNames(adapter).join(', ')}`,
    dev
      ? `- official dev set: ${Object.entries(dev)
          .map(([k, v]) => `${k} ${num(v)}`)
          .join(', ')}`
      : '- official dev set: not measured at training time (`autopeft evaluate --adapter <dir>` scores it)',
    ...(val
      ? [
          `- validation split (carved from train): ${Object.entries(val)
            .map(([k, v]) => `${k} ${num(v)}`)
            .join(', ')}`,
        ]
      : []),
    '',
    '## Configuration',
    '',
    `- PEFT: ${describePeft(c)} — serial adapter ${c.sa}, parallel adapter ${c.pa} (scaling ${c.options.paScaling}), prefix length ${c.pt} (MLP bottleneck ${c.options.ptBottleneck}), LoRA rank ${c.lora} (alpha ${c.options.loraAlpha})`,
    `- layers with modules: ${active.length ? active.join(', ') : 'none'} of ${c.layers.length}`,
    `- tunable parameters: ${pct(paramPct)} of the backbone${extra['paramDenominator'] === 'with-pooler' ? ' with its pooler' : ''} (AutoPEFT's count, head excluded)`,
    ...(extra['head'] === 'fresh'
      ? [
          "- classification head: fresh (dropout, dense + tanh, dropout, linear on [CLS], trained from N(0, 0.02)); its dense is stored in the pooler's place",
        ]
      : []),
    ...(typeof extra['metricName'] === 'string' ? [`- selected on: validation ${extra['metricName']}`] : []),
    `- backbone: ${adapter.backbone.id} (${backbone.kind}, ${backbone.dims.numLayers} layers, hidden ${backbone.dims.hidden})`,
    pairHead
      ? `- input: sentence pairs, encoded **siamese**: each text on its own through the same encoder and PEFT modules, the ${pairHead} head over both sentence vectors (${pairHead === 'cosine' ? 'w cos(u, v) + b' : '[u, v, |u − v|, u ⊙ v]'})`
      : adapter.head?.pairEncoding === 'cross'
        ? '- input: one text, or a sentence pair joined into one sequence (cross encoding)'
        : '- input: one text',
    `- longest input: ${maxLength} tokens${pairHead ? ' per text' : ''}`,
    ...(extra['hyper'] ? [`- training: ${JSON.stringify(extra['hyper'])}`] : []),
  ];
  if (o.study) {
    const s = o.study;
    lines.push(
      '',
      '## Place in the search',
      '',
      `Trial ${s.trial} of study \`${s.study}\` (${s.completeTrials} finished trials; objectives ${s.objectives
        .map((n, i) => `${n} (${s.directions[i]})`)
        .join(
          ', ',
        )}): ${s.frontRank === 0 ? '**on the Pareto front**' : `front ${s.frontRank + 1} (dominated; ${s.frontRank} front(s) above it)`}, values ${s.values.map((v) => num(v)).join(', ')} (low-fidelity search values).`,
      '',
      `| trial | ${s.objectives.join(' | ')} |`,
      `|---|${s.objectives.map(() => '---').join('|')}|`,
      ...s.front.map(
        (f) => `| ${f.trial === s.trial ? `**${f.trial}**` : f.trial} | ${f.values.map((v) => num(v)).join(' | ')} |`,
      ),
    );
  }
  lines.push('', '## Files and how to load them', '');
  if (format === 'transformers.js' && pairHead) {
    lines.push(
      `- \`onnx/model.onnx\`: backbone + PEFT modules + head merged into one graph (standard ONNX opset 17 ops) that takes **two texts**: inputs \`${SIAMESE_INPUTS.join('`, `')}\`, all int64 \`[batch, sequence]\` (the first texts, then the second texts, each tokenized on its own and both padded to one length), output \`logits\` \`[batch, ${adapter.head?.numLabels ?? 2}]\``,
      '- `config.json`, `tokenizer.json`, `tokenizer_config.json`: the transformers.js layout (`config.json` says `"pair_encoding": "siamese"` and lists `input_names`)',
      '',
      "No transformers.js pipeline takes a two-input model; tokenize with the folder's tokenizer and run the file with onnxruntime-node (or onnxruntime-web):",
      '',
      '```js',
      '// dir: the path of this folder',
      "import { join } from 'node:path';",
      "import * as ort from 'onnxruntime-node';",
      "import { AutoTokenizer } from '@huggingface/transformers';",
      'const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });',
      "const session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'));",
      "const a = ['The company said profits rose.'];",
      "const b = ['Profits went up, the company said.'];",
      '// Each text on its own; tokenizing both lists in one call pads them to one length.',
      `const enc = tokenizer([...a, ...b], { padding: true, truncation: true, max_length: ${maxLength} });`,
      'const [n, S] = [a.length, enc.input_ids.dims[1]];',
      "const half = (t, i) => new ort.Tensor('int64', t.data.slice(i * n * S, (i + 1) * n * S), [n, S]);",
      'const { logits } = await session.run({',
      '  input_ids: half(enc.input_ids, 0),',
      '  attention_mask: half(enc.attention_mask, 0),',
      '  input_ids_b: half(enc.input_ids, 1),',
      '  attention_mask_b: half(enc.attention_mask, 1),',
      '});',
      '```',
      '',
      adapter.head?.kind === 'regression'
        ? '`logits.data[i]` is the predicted value of pair i.'
        : `\`logits\` holds one row of ${adapter.head?.numLabels ?? 2} scores per pair (labels ${labelNames(adapter).join(', ')} in that order; softmax for probabilities). \`autopeft predict --model-dir <dir> --text A --pair B\` does the same.`,
    );
  } else if (format === 'transformers.js') {
    lines.push(
      '- `onnx/model.onnx`: backbone + PEFT modules + head merged into one graph (standard ONNX opset 17 ops), inputs `[batch, sequence]`, output `logits`',
      '- `config.json`, `tokenizer.json`, `tokenizer_config.json`: the transformers.js layout',
      '',
    );
    if (backbone.kind === 'use-lite') {
      lines.push(
        "USE-lite has no transformers.js model class, so `pipeline('text-classification', dir)` refuses its `model_type`; load the model with the base class and build the pipeline:",
        '',
        '```js',
        "import { AutoModel, AutoTokenizer, TextClassificationPipeline } from '@huggingface/transformers';",
        'const model = await AutoModel.from_pretrained(dir, { local_files_only: true, dtype: "fp32" });',
        'const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });',
        "const classify = new TextClassificationPipeline({ task: 'text-classification', model, tokenizer });",
        '```',
        '',
        "`tokenizer.json` is a Unigram model that reproduces USE-lite's own tokenizer (tested on the GLUE dev sentences); it differs only on a text that starts with ':' or spells out a reserved piece such as '<s>'.",
      );
    } else {
      lines.push(
        '```js',
        "import { pipeline } from '@huggingface/transformers';",
        "const classify = await pipeline('text-classification', dir, { local_files_only: true, dtype: 'fp32' });",
        '```',
      );
    }
  } else if (format === 'adapters') {
    lines.push(
      '- `adapter_config.json` + `adapter.safetensors`: AdapterHub `adapters` (1.2) layout; load with `model.load_adapter(dir)` on `AutoModelForSequenceClassification` after `adapters.init(model)`',
      "- `head.safetensors`: the trained head (and BERT's pooler) under the transformers names; load it with `model.load_state_dict(..., strict=False)`",
      ...notes.map((n) => `- difference from the library's class: ${n}`),
    );
  } else {
    lines.push(
      '- `adapter_config.json` + `adapter_model.safetensors`: HF PEFT `LoraConfig` (task SEQ_CLS); `PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(base), dir)`',
    );
  }
  lines.push(
    `- \`${ADAPTER_CONFIG_FILE}\` + \`${ADAPTER_WEIGHTS_FILE}\`: autopeft's own adapter files (\`autopeft predict --adapter <dir>\`)`,
    '',
  );
  return `${lines.join('\n')}\n`;
}
