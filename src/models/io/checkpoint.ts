/**
 * Load a BERT / RoBERTa checkpoint folder in the Hugging Face layout:
 *   config.json, model.safetensors (or model.safetensors.index.json + shards), and
 *   tokenizer.json | vocab.txt | vocab.json + merges.txt (+ optional tokenizer_config.json).
 * Weights come back under canonical names (see ./weights.ts), checked against the config.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readEncoderConfig, type EncoderConfig } from '../config.js';
import { loadTokenizer } from '../tokenizers/load.js';
import type { HfTokenizer } from '../tokenizers/hf.js';
import { CheckpointError, ModelFileError } from './errors.js';
import { SafetensorsFile, type FloatTensor } from './safetensors.js';
import { checkEncoderWeights, encoderWeightShapes, normalizeWeightName } from './weights.js';

export interface Checkpoint {
  dir: string;
  config: EncoderConfig;
  /** Canonical name -> float32 tensor (row-major, PyTorch layout: Linear weights are [out, in]). */
  weights: Map<string, FloatTensor>;
  tokenizer: HfTokenizer;
  /** Tensors in the files that are not encoder weights (task heads, position_ids buffers): not loaded. */
  skipped: string[];
}

/** The weight files of a folder: one model.safetensors, or the shards an index names. */
export async function weightFiles(dir: string): Promise<string[]> {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return [single];
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (existsSync(indexPath)) {
    let index: unknown;
    try {
      index = JSON.parse(await readFile(indexPath, 'utf8'));
    } catch (e) {
      throw new CheckpointError(indexPath, `${indexPath}: not valid JSON (${(e as Error).message})`);
    }
    const wm = (index as { weight_map?: unknown } | null)?.weight_map;
    if (wm === null || typeof wm !== 'object' || Array.isArray(wm)) {
      throw new CheckpointError(indexPath, `${indexPath}: weight_map must be an object of tensor name -> shard file`);
    }
    const files = [...new Set(Object.values(wm as Record<string, unknown>))];
    for (const f of files) {
      if (typeof f !== 'string' || basename(f) !== f || !f.endsWith('.safetensors')) {
        throw new CheckpointError(
          indexPath,
          `${indexPath}: weight_map names shard ${JSON.stringify(f)}; shards must be .safetensors files in the same folder`,
        );
      }
      if (!existsSync(join(dir, f)))
        throw new CheckpointError(indexPath, `${indexPath}: shard ${f} is missing from ${dir}; download it`);
    }
    return files.map((f) => join(dir, f as string));
  }
  const other = ['pytorch_model.bin', 'tf_model.h5', 'model.onnx', 'flax_model.msgpack'].find((f) =>
    existsSync(join(dir, f)),
  );
  if (other) {
    throw new CheckpointError(
      join(dir, other),
      `${join(dir, other)}: only safetensors weights are supported; convert the checkpoint to model.safetensors (e.g. transformers' save_pretrained(safe_serialization=True))`,
    );
  }
  throw new CheckpointError(
    dir,
    `${dir}: no model.safetensors or model.safetensors.index.json; the folder is not a checkpoint`,
  );
}

/**
 * Read the encoder weights of the given safetensors files for `config`; tensors outside the
 * encoder are listed in `skipped`. Tensors are read one at a time (peak memory ~ the result).
 */
export async function loadEncoderWeights(
  files: readonly string[],
  config: EncoderConfig,
  label: string,
): Promise<{ weights: Map<string, FloatTensor>; skipped: string[] }> {
  const { required, optional } = encoderWeightShapes(config);
  const weights = new Map<string, FloatTensor>();
  const origin = new Map<string, string>();
  const skipped: string[] = [];
  for (const path of files) {
    const f = await SafetensorsFile.open(path);
    try {
      for (const name of f.names()) {
        const canon = normalizeWeightName(name);
        if (!required.has(canon) && !optional.has(canon)) {
          skipped.push(name);
          continue;
        }
        if (weights.has(canon)) {
          throw new CheckpointError(
            path,
            `${path}: tensors '${origin.get(canon)}' and '${name}' both map to '${canon}'; the checkpoint holds two encoders`,
            name,
          );
        }
        const t = await f.readFloat(name);
        // NaN/Inf in a checkpoint would surface much later as a "diverged" loss: name the tensor now.
        const bad = t.data.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0)
          throw new CheckpointError(
            path,
            `${path}: tensor '${name}' holds a non-finite value (${t.data[bad]}) at index ${bad}; the checkpoint is corrupt, download or export it again`,
            name,
          );
        weights.set(canon, t);
        origin.set(canon, name);
      }
    } finally {
      await f.close();
    }
  }
  checkEncoderWeights(weights, config, label);
  return { weights, skipped };
}

export interface LoadCheckpointOptions {
  /** Load the tokenizer too (default true). */
  tokenizer?: boolean;
}

/** Load config, encoder weights and tokenizer of a checkpoint folder. */
export async function loadCheckpoint(
  dir: string,
  opts: LoadCheckpointOptions & { tokenizer: false },
): Promise<Omit<Checkpoint, 'tokenizer'>>;
export async function loadCheckpoint(dir: string, opts?: LoadCheckpointOptions): Promise<Checkpoint>;
export async function loadCheckpoint(
  dir: string,
  opts: LoadCheckpointOptions = {},
): Promise<Checkpoint | Omit<Checkpoint, 'tokenizer'>> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelFileError(
      dir,
      `${dir}: not a directory; pass a checkpoint folder (config.json + model.safetensors + tokenizer files) or a hub model id`,
    );
  }
  const config = await readEncoderConfig(join(dir, 'config.json'));
  const files = await weightFiles(dir);
  const label = files.length === 1 ? files[0]! : join(dir, 'model.safetensors.index.json');
  const { weights, skipped } = await loadEncoderWeights(files, config, label);
  if (opts.tokenizer === false) return { dir, config, weights, skipped };
  // vocabSize: the embedding rows, which may exceed the tokenizer's own ids (padded vocabularies).
  const tokenizer = await loadTokenizer(dir, {
    padId: config.padTokenId,
    typeVocabSize: config.typeVocabSize,
    vocabSize: config.vocabSize,
  });
  return { dir, config, weights, tokenizer, skipped };
}
