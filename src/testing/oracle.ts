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
  const B = manifest.batch;
  const S = manifest.seq;
  const i64 = (k: string) => BigInt64Array.from((manifest.inputs[k] as number[][]).flat(), (x) => BigInt(x));
  return {
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
 * Largest |a - b| relative to max(|b|) of the tensor (scale-free, so small gradients are judged
 * fairly), the denominator floored at 1e-2 for tensors that are (near) zero in exact arithmetic.
 * NOTE: the key-projection bias gets an exactly-zero gradient (softmax ignores a per-row shift),
 * so both sides hold float32 round-off (~1e-9) there; the floor covers that.
 */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  let e = 0;
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(b[i]!));
    e = Math.max(e, Math.abs(a[i]! - b[i]!));
  }
  return e / Math.max(m, 1e-2);
}
