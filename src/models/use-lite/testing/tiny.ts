/**
 * A tiny random USE-lite (the real architecture at toy widths) for gradient checks: `buildUseLite`
 * takes it as it takes the real model. Layer 0 widens embedDim -> hidden (with the residual
 * projection), like the real 256 -> 512.
 */
import { seededNormal } from '../../../core/random.js';
import type { Dense, Norm, UseLiteConfig, UseLiteLayerParams, UseLiteParams } from '../load.js';

export interface TinyUseLiteOptions {
  /** Default 6. */
  vocabSize?: number;
  /** Layer-0 width (default 4). */
  embedDim?: number;
  /** Width after layer 0 (default 8). */
  hidden?: number;
  /** Default 2. */
  heads?: number;
  /** Default 8. */
  ffn?: number;
  /** Default 2. */
  layers?: number;
  seed?: number;
}

export function tinyUseLite(o: TinyUseLiteOptions = {}): { params: UseLiteParams; config: UseLiteConfig } {
  const vocabSize = o.vocabSize ?? 6;
  const embedDim = o.embedDim ?? 4;
  const hidden = o.hidden ?? 8;
  const heads = o.heads ?? 2;
  const ffn = o.ffn ?? 8;
  const L = o.layers ?? 2;
  const rnd = seededNormal(o.seed ?? 3);
  const fill = (n: number, std: number, mean = 0) => Float32Array.from({ length: n }, () => mean + std * rnd());
  const dense = (rows: number, cols: number): Dense => ({
    kernel: fill(rows * cols, 1 / Math.sqrt(rows)),
    bias: fill(cols, 0.1),
    rows,
    cols,
  });
  const norm = (d: number): Norm => ({ scale: fill(d, 0.1, 1), bias: fill(d, 0.1) });
  const layers: UseLiteLayerParams[] = Array.from({ length: L }, (_, l) => {
    const inDim = l === 0 ? embedDim : hidden;
    return {
      inDim,
      outDim: hidden,
      heads,
      headDim: inDim / heads,
      attnScale: (inDim / heads) ** -0.5,
      attnNorm: norm(inDim),
      qkv: dense(inDim, 3 * inDim),
      out: dense(inDim, hidden),
      residual: inDim !== hidden ? dense(inDim, hidden) : null,
      ffnNorm: norm(hidden),
      ffn1: dense(hidden, ffn),
      ffn2: dense(ffn, hidden),
    };
  });
  const params: UseLiteParams = {
    embeddings: fill(vocabSize * embedDim, 1),
    invTimescales: Float32Array.from({ length: embedDim / 2 }, (_, j) => 1e-4 ** (j / Math.max(1, embedDim / 2 - 1))),
    layers,
    pool: dense(hidden, hidden),
  };
  const config: UseLiteConfig = {
    vocabSize,
    pieces: vocabSize,
    embedDim,
    hidden,
    layers: L,
    heads,
    ffn,
    maxLength: 16,
    layerNormEpsilon: 1e-6,
    attentionMaskBias: -1e9,
    l2Epsilon: 1e-12,
    embeddingMultiplier: 2,
    params: 0,
  };
  return { params, config };
}
