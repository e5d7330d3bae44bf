/**
 * Tiny random BERT / RoBERTa checkpoints for tests across the project: a folder in the Hugging
 * Face layout (config.json, model.safetensors or shards + index, tokenizer files) with the exact
 * HF tensor names and shapes, seeded so the same options give the same bytes.
 *
 *   const ck = await writeTinyBert(dir, { layers: 2, hidden: 16, heads: 2, intermediate: 32, seed: 1 });
 *   ck.weights.get('encoder.layer.0.attention.self.query.weight') // {data, shape: [16, 16]}
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededNormal, seededUniform } from '../../core/random.js';
import {
  encoderConfigToJson,
  HIDDEN_ACT_JSON,
  parseEncoderConfig,
  type EncoderConfig,
  type HiddenAct,
} from '../config.js';
import { encoderWeightShapes } from '../io/weights.js';
import { writeSafetensors, type FloatTensor, type WritableTensor } from '../io/safetensors.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../io/half.js';
import { wordPieceTokenizerJson } from '../tokenizers/wordpiece.js';
import { byteLevelBpeTokenizerJson, bytesToUnicode } from '../tokenizers/bpe.js';

export interface TinyCheckpointOptions {
  modelType?: 'bert' | 'roberta';
  /** Default 2. */
  layers?: number;
  /** Default 16. */
  hidden?: number;
  /** Default 2. */
  heads?: number;
  /** Default 4 * hidden. */
  intermediate?: number;
  /**
   * BERT: the vocab.txt tokens, or a size (the built-in tiny vocab, cut or padded with
   * [unusedN]). RoBERTa: a size >= the tiny BPE vocab pads with <unusedN> tokens; a token list
   * is not accepted (a BPE needs merges). Default: the built-in tiny vocab.
   */
  vocab?: readonly string[] | number;
  /** Default 0. */
  seed?: number;
  /** Rows of the position table; default 64 (+2 for RoBERTa's offset). */
  maxPositions?: number;
  hiddenAct?: HiddenAct;
  /** Std of the random normal weights (default 0.02, as HF's initializer_range). */
  std?: number;
  /** Storage dtype of the float tensors (default F32); returned weights hold the stored values. */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Prefix tensor names with `bert.` / `roberta.` as task checkpoints do (default false). */
  prefix?: boolean;
  /** Write the pooler (default true). */
  pooler?: boolean;
  /** Also write the I64 `embeddings.position_ids` buffer old checkpoints carry (default false). */
  positionIdsBuffer?: boolean;
  /** Also write an MLM head tensor (cls.predictions.bias / lm_head.bias) that loaders must skip. */
  mlmHead?: boolean;
  /** Old TF-style LayerNorm names gamma/beta (default false). */
  gammaBeta?: boolean;
  /** Split the weights over this many shards with model.safetensors.index.json (default 1 file). */
  shards?: number;
  /**
   * Tokenizer files: BERT 'vocab.txt' (default) or 'tokenizer.json'; RoBERTa 'tokenizer.json'
   * (default) or 'vocab.json+merges.txt'.
   */
  tokenizerFiles?: 'vocab.txt' | 'tokenizer.json' | 'vocab.json+merges.txt';
  /** BERT: write tokenizer_config.json with this do_lower_case (default: no file = lowercase). */
  doLowerCase?: boolean;
}

export interface TinyCheckpoint {
  dir: string;
  config: EncoderConfig;
  configJson: Record<string, unknown>;
  /** Canonical names (no prefix) -> values exactly as stored (after F16/BF16 rounding). */
  weights: Map<string, FloatTensor>;
  /** Token of each id. */
  vocab: string[];
  /** Files written, relative to dir. */
  files: string[];
}

export { seededNormal, seededUniform };

const TINY_WORDS = [
  'the',
  'a',
  'is',
  'it',
  'movie',
  'film',
  'good',
  'bad',
  'not',
  'and',
  'of',
  'to',
  'was',
  'great',
  'this',
  'that',
  'i',
  'you',
  'he',
  'she',
  'hello',
  'world',
  'un',
  'fun',
  'story',
  'plot',
];

/** The built-in tiny BERT vocabulary (116 distinct tokens; ids 0-4 are [PAD] [UNK] [CLS] [SEP] [MASK]). */
export function tinyBertVocab(size?: number): string[] {
  const v = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  for (const c of ".,!?'-:;()") v.push(c);
  const letters = 'abcdefghijklmnopqrstuvwxyz0123456789';
  for (const c of letters) v.push(c);
  for (const c of letters) v.push(`##${c}`);
  for (const w of [...TINY_WORDS, '##able', '##ing', '##ed', '##ly', '##er']) if (!v.includes(w)) v.push(w);
  if (size === undefined) return v;
  if (size < 5) throw new RangeError(`tiny BERT vocab needs >= 5 tokens (the specials), got ${size}`);
  if (size <= v.length) return v.slice(0, size);
  for (let k = 0; v.length < size; k++) v.push(`[unused${k}]`);
  return v;
}

/** Plain BPE: merge the lowest-ranked adjacent pair until none is left. Symbols in, pieces out. */
export function simpleBpe(symbols: readonly string[], ranks: ReadonlyMap<string, number>): string[] {
  let w = [...symbols];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < w.length; i++) {
      const r = ranks.get(`${w[i]} ${w[i + 1]}`);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = i;
      }
    }
    if (best < 0) return w;
    const [a, b] = [w[best]!, w[best + 1]!];
    const out: string[] = [];
    for (let i = 0; i < w.length; i++) {
      if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
        out.push(a + b);
        i++;
      } else out.push(w[i]!);
    }
    w = out;
  }
}

/**
 * The tiny RoBERTa byte-level BPE: <s>=0 <pad>=1 </s>=2 <unk>=3, the 256 byte symbols, whole-word
 * tokens for a few words with and without the leading "Ġ" (space), then `<mask>`. Merges are
 * added so that each listed word becomes one token.
 */
export function tinyBpe(size?: number): { vocab: Record<string, number>; merges: string[] } {
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  const byteChars = bytesToUnicode();
  let next = 4;
  for (const c of byteChars) vocab[c] = next++;
  const merges: string[] = [];
  const ranks = new Map<string, number>();
  const enc = new TextEncoder();
  const words = TINY_WORDS.flatMap((w) => [w, ` ${w}`]);
  for (const word of words) {
    const symbols = Array.from(enc.encode(word), (b) => byteChars[b]!);
    for (;;) {
      const pieces = simpleBpe(symbols, ranks);
      if (pieces.length <= 1) break;
      const m = `${pieces[0]} ${pieces[1]}`;
      ranks.set(m, merges.length);
      merges.push(m);
      const merged = pieces[0]! + pieces[1]!;
      if (vocab[merged] === undefined) vocab[merged] = next++;
    }
  }
  if (size !== undefined) {
    if (size < next + 1) throw new RangeError(`tiny RoBERTa vocab needs >= ${next + 1} tokens, got ${size}`);
    for (let k = 0; next < size - 1; k++) vocab[`<unused${k}>`] = next++;
  }
  vocab['<mask>'] = next++;
  return { vocab, merges };
}

function roundTo(dtype: 'F32' | 'F16' | 'BF16', x: Float32Array): Float32Array {
  if (dtype === 'F16') return f16ToF32(f32ToF16(x));
  if (dtype === 'BF16') return bf16ToF32(f32ToBf16(x));
  return x;
}

/** Write a tiny random checkpoint into `dir` (created if needed). */
export async function writeTinyCheckpoint(dir: string, opts: TinyCheckpointOptions = {}): Promise<TinyCheckpoint> {
  const modelType = opts.modelType ?? 'bert';
  const roberta = modelType === 'roberta';
  const hidden = opts.hidden ?? 16;
  let vocabTokens: string[];
  let bpe: { vocab: Record<string, number>; merges: string[] } | undefined;
  if (roberta) {
    if (Array.isArray(opts.vocab))
      throw new TypeError('writeTinyCheckpoint: a RoBERTa vocab must be a size, not a token list');
    bpe = tinyBpe(typeof opts.vocab === 'number' ? opts.vocab : undefined);
    vocabTokens = [];
    for (const [t, id] of Object.entries(bpe.vocab)) vocabTokens[id] = t;
  } else {
    vocabTokens = Array.isArray(opts.vocab)
      ? [...(opts.vocab as string[])]
      : tinyBertVocab(opts.vocab as number | undefined);
  }
  const padTokenId = roberta ? 1 : Math.max(0, vocabTokens.indexOf('[PAD]'));
  const offset = roberta ? padTokenId + 1 : 0;
  const configJson = encoderConfigToJson(
    parseEncoderConfig({
      model_type: modelType,
      vocab_size: vocabTokens.length,
      hidden_size: hidden,
      num_hidden_layers: opts.layers ?? 2,
      num_attention_heads: opts.heads ?? 2,
      intermediate_size: opts.intermediate ?? 4 * hidden,
      hidden_act: HIDDEN_ACT_JSON[opts.hiddenAct ?? 'gelu'],
      max_position_embeddings: opts.maxPositions ?? 64 + offset,
      type_vocab_size: roberta ? 1 : 2,
      layer_norm_eps: roberta ? 1e-5 : 1e-12,
      pad_token_id: padTokenId,
    }),
  );
  const config = parseEncoderConfig(configJson);
  const dtype = opts.dtype ?? 'F32';
  const std = opts.std ?? 0.02;
  const normal = seededNormal(opts.seed ?? 0);
  const weights = new Map<string, FloatTensor>();
  const { required, optional } = encoderWeightShapes(config);
  const all = new Map([...required, ...(opts.pooler === false ? [] : optional)]);
  for (const [name, shape] of all) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    // NOTE: LayerNorm scales are 1 + 0.1 N(0,1) (not exactly 1) and biases non-zero, so a
    // transposed or misplaced parameter changes outputs and tests can see it.
    const isLnWeight = name.endsWith('LayerNorm.weight');
    const isLnBias = name.endsWith('LayerNorm.bias');
    for (let i = 0; i < n; i++) data[i] = isLnWeight ? 1 + 0.1 * normal() : isLnBias ? 0.1 * normal() : std * normal();
    weights.set(name, { data: roundTo(dtype, data), shape });
  }
  const prefix = opts.prefix ? (roberta ? 'roberta.' : 'bert.') : '';
  const stored = new Map<string, WritableTensor>();
  for (const [name, t] of weights) {
    let fileName = prefix + name;
    if (opts.gammaBeta)
      fileName = fileName
        .replace(/LayerNorm\.weight$/, 'LayerNorm.gamma')
        .replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    stored.set(fileName, { data: t.data, shape: t.shape, dtype });
  }
  if (opts.positionIdsBuffer) {
    const ids = new BigInt64Array(config.maxPositionEmbeddings);
    for (let i = 0; i < ids.length; i++) ids[i] = BigInt(i);
    stored.set(`${prefix}embeddings.position_ids`, { data: ids, shape: [1, ids.length] });
  }
  if (opts.mlmHead) {
    stored.set(roberta ? 'lm_head.bias' : 'cls.predictions.bias', {
      data: new Float32Array(vocabTokens.length),
      shape: [vocabTokens.length],
    });
  }
  await mkdir(dir, { recursive: true });
  const files: string[] = ['config.json'];
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(configJson, null, 2)}\n`);
  const shards = opts.shards ?? 1;
  if (shards <= 1) {
    await writeSafetensors(join(dir, 'model.safetensors'), stored, { format: 'pt' });
    files.push('model.safetensors');
  } else {
    const names = [...stored.keys()];
    const per = Math.ceil(names.length / shards);
    const weightMap: Record<string, string> = {};
    let totalSize = 0;
    for (let s = 0; s < shards; s++) {
      const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const part = new Map(names.slice(s * per, (s + 1) * per).map((n) => [n, stored.get(n)!]));
      for (const [n, t] of part) {
        weightMap[n] = file;
        totalSize += t.data.byteLength;
      }
      await writeSafetensors(join(dir, file), part, { format: 'pt' });
      files.push(file);
    }
    await writeFile(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2),
    );
    files.push('model.safetensors.index.json');
  }
  const tokFiles = opts.tokenizerFiles ?? (roberta ? 'tokenizer.json' : 'vocab.txt');
  if (roberta) {
    if (tokFiles === 'vocab.txt')
      throw new TypeError('writeTinyCheckpoint: RoBERTa has no vocab.txt; use tokenizer.json or vocab.json+merges.txt');
    if (tokFiles === 'tokenizer.json') {
      await writeFile(
        join(dir, 'tokenizer.json'),
        JSON.stringify(byteLevelBpeTokenizerJson(bpe!.vocab, bpe!.merges, { unkToken: '<unk>' })),
      );
      files.push('tokenizer.json');
    } else {
      await writeFile(join(dir, 'vocab.json'), JSON.stringify(bpe!.vocab));
      await writeFile(join(dir, 'merges.txt'), `#version: 0.2\n${bpe!.merges.join('\n')}\n`);
      files.push('vocab.json', 'merges.txt');
    }
  } else {
    if (tokFiles === 'vocab.json+merges.txt')
      throw new TypeError('writeTinyCheckpoint: BERT uses vocab.txt or tokenizer.json');
    if (tokFiles === 'vocab.txt') {
      await writeFile(join(dir, 'vocab.txt'), `${vocabTokens.join('\n')}\n`);
      files.push('vocab.txt');
    } else {
      await writeFile(
        join(dir, 'tokenizer.json'),
        JSON.stringify(wordPieceTokenizerJson(vocabTokens, { lowercase: opts.doLowerCase ?? true })),
      );
      files.push('tokenizer.json');
    }
    if (opts.doLowerCase !== undefined) {
      await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: opts.doLowerCase }));
      files.push('tokenizer_config.json');
    }
  }
  return { dir, config, configJson, weights, vocab: vocabTokens, files };
}

export function writeTinyBert(
  dir: string,
  opts: Omit<TinyCheckpointOptions, 'modelType'> = {},
): Promise<TinyCheckpoint> {
  return writeTinyCheckpoint(dir, { ...opts, modelType: 'bert' });
}

export function writeTinyRoberta(
  dir: string,
  opts: Omit<TinyCheckpointOptions, 'modelType'> = {},
): Promise<TinyCheckpoint> {
  return writeTinyCheckpoint(dir, { ...opts, modelType: 'roberta' });
}
