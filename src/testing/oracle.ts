/**
 * The PyTorch oracle fixture of a tiny BERT (test/fixtures/oracle/bert_tiny.json + .bin, written by
 * scripts/oracle/bert_oracle.py): the manifest, its float32 tensors by key, the batch as ORT feeds,
 * and the scale-free error the oracle tests judge by.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BertConfig } from '../models/bert/config.js';
import { tensor, type ort } from '../runtime/session.js';

export interface BertOracleManifest {
  config: Record<string, number>;
  batch: number;
  seq: number;
  prefix: number;
  bottleneck: number;
  rank: number;
  loraScale: number;
  lr: number;
  weightDecay: number;
  steps: number;
  inputs: Record<string, number[][] | number[]>;
  /** The module cases (`pa`, `ptmlp`, `sahoulsby_pa`, `sapfeiffer`, `sapfeiffer_pa`): sizes and which modules each has. */
  modules: {
    bottleneck: number;
    prefix: number;
    ptBottleneck: number;
    paScaling: number;
    cases: Record<string, string[]>;
  };
  /** The tiny RoBERTa case: its config (HF names), token ids (pads = pad_token_id) and labels. */
  roberta: { config: Record<string, number>; input_ids: number[][]; labels: number[] };
  tensors: Record<string, { offset: number; shape: number[] }>;
}

export interface OracleTensor {
  data: Float32Array;
  shape: number[];
}

export interface BertOracle {
  manifest: BertOracleManifest;
  /** The fixture's model as a BertConfig (dropout off: every oracle case is deterministic). */
  config: BertConfig;
  /** The tensor stored under `key` (a copy); throws when the fixture lacks it. */
  T(key: string): OracleTensor;
  /** Every tensor whose key starts with `prefix`, keyed by the rest of the key. */
  prefixed(prefix: string): Map<string, OracleTensor>;
  /** The fixture's batch: input_ids, attention_mask, token_type_ids [batch, seq] and labels [batch]. */
  feeds(): Record<string, ort.Tensor>;
  /** The tiny RoBERTa (case `roberta`) as a BertConfig, dropout off. */
  robertaConfig: BertConfig;
  /** The RoBERTa case's batch: input_ids, attention_mask [batch, seq] and labels [batch]. */
  robertaFeeds(): Record<string, ort.Tensor>;
}

export function loadBertOracle(): BertOracle {
  const dir = fileURLToPath(new URL('../../test/fixtures/oracle/', import.meta.url));
  const manifest = JSON.parse(readFileSync(`${dir}bert_tiny.json`, 'utf8')) as BertOracleManifest;
  const blob = readFileSync(`${dir}bert_tiny.bin`);
  const all = new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
  const T = (key: string): OracleTensor => {
    const t = manifest.tensors[key];
    if (!t) throw new Error(`fixture has no ${key}`);
    return { data: all.slice(t.offset, t.offset + t.shape.reduce((a, b) => a * b, 1)), shape: t.shape };
  };
  const c = manifest.config;
  const config: BertConfig = {
    vocabSize: c['vocab_size']!,
    hiddenSize: c['hidden_size']!,
    numLayers: c['num_hidden_layers']!,
    numHeads: c['num_attention_heads']!,
    intermediateSize: c['intermediate_size']!,
    maxPositions: c['max_position_embeddings']!,
    typeVocabSize: c['type_vocab_size']!,
    layerNormEps: c['layer_norm_eps']!,
    hiddenDropout: 0,
    attentionDropout: 0,
    flavour: 'bert',
    padTokenId: 0,
  };
  const r = manifest.roberta.config;
  const robertaConfig: BertConfig = {
    vocabSize: r['vocab_size']!,
    hiddenSize: r['hidden_size']!,
    numLayers: r['num_hidden_layers']!,
    numHeads: r['num_attention_heads']!,
    intermediateSize: r['intermediate_size']!,
    maxPositions: r['max_position_embeddings']!,
    typeVocabSize: r['type_vocab_size']!,
    layerNormEps: r['layer_norm_eps']!,
    hiddenDropout: 0,
    attentionDropout: 0,
    flavour: 'roberta',
    padTokenId: r['pad_token_id']!,
  };
  const B = manifest.batch;
  const S = manifest.seq;
  const i64 = (k: string) => BigInt64Array.from((manifest.inputs[k] as number[][]).flat(), (x) => BigInt(x));
  return {
    robertaConfig,
    robertaFeeds: () => ({
      input_ids: tensor(
        'int64',
        BigInt64Array.from(manifest.roberta.input_ids.flat(), (x) => BigInt(x)),
        [B, S],
      ),
      attention_mask: tensor('int64', i64('attention_mask'), [B, S]),
      labels: tensor(
        'int64',
        BigInt64Array.from(manifest.roberta.labels, (x) => BigInt(x)),
        [B],
      ),
    }),
    manifest,
    config,
    T,
    prefixed: (p) =>
      new Map(
        Object.keys(manifest.tensors)
          .filter((k) => k.startsWith(p))
          .map((k) => [k.slice(p.length), T(k)]),
      ),
    feeds: () => ({
      input_ids: tensor('int64', i64('input_ids'), [B, S]),
      attention_mask: tensor('int64', i64('attention_mask'), [B, S]),
      token_type_ids: tensor('int64', i64('token_type_ids'), [B, S]),
      labels: tensor(
        'int64',
        BigInt64Array.from(manifest.inputs['labels'] as number[], (x) => BigInt(x)),
        [B],
      ),
    }),
  };
}

/**
 * Tensors whose exact value is 0, so that both sides hold only float32 round-off: the key
 * projection's bias gets an exactly-zero gradient (softmax ignores a per-row shift).
 */
export const ZERO_IN_EXACT_ARITHMETIC = /\.attention\.self\.key\.bias$/;

/** The denominator floor of `relErr` for the tensor `name`: 1e-2 where its exact value is 0, else none. */
export function floorFor(name: string): number {
  return ZERO_IN_EXACT_ARITHMETIC.test(name) ? 1e-2 : 0;
}

/**
 * Largest |a - b| relative to max(|b|) of the tensor (scale-free, so small gradients are judged
 * fairly). The denominator is floored at `floor` (default none): pass `floorFor(name)`, which is
 * 1e-2 only for tensors that are zero in exact arithmetic (the key bias), where max(|b|) is itself
 * round-off (~1e-9). A tensor that is exactly 0 on both sides has error 0.
 */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 0): number {
  assert.equal(a.length, b.length);
  let m = 0;
  let e = 0;
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(b[i]!));
    e = Math.max(e, Math.abs(a[i]! - b[i]!));
  }
  if (e === 0) return 0;
  return e / Math.max(m, floor);
}
