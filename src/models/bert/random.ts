/** Random BERT/RoBERTa weights in the Hugging Face layout (init as HF: N(0, 0.02), LayerNorm 1/0, biases 0), for tests and benches. */
import { Rng } from '../../core/random.js';
import type { BertConfig } from './config.js';
import type { WeightMap } from '../types.js';

export function randomBertWeights(cfg: BertConfig, numLabels: number, seed = 0, std = 0.02): WeightMap {
  const rng = new Rng(seed);
  const m = new Map<string, { data: Float32Array; shape: number[] }>();
  const H = cfg.hiddenSize;
  const pre = cfg.flavour;
  const normal = (name: string, shape: number[]) =>
    m.set(name, {
      data: rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), std),
      shape,
    });
  const fill = (name: string, shape: number[], v: number) =>
    m.set(name, { data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v), shape });
  const lin = (name: string, o: number, i: number) => {
    normal(`${name}.weight`, [o, i]);
    fill(`${name}.bias`, [o], 0);
  };
  const ln = (name: string) => {
    fill(`${name}.weight`, [H], 1);
    fill(`${name}.bias`, [H], 0);
  };
  normal(`${pre}.embeddings.word_embeddings.weight`, [cfg.vocabSize, H]);
  normal(`${pre}.embeddings.position_embeddings.weight`, [cfg.maxPositions, H]);
  normal(`${pre}.embeddings.token_type_embeddings.weight`, [cfg.typeVocabSize, H]);
  ln(`${pre}.embeddings.LayerNorm`);
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `${pre}.encoder.layer.${l}`;
    for (const n of ['query', 'key', 'value']) lin(`${p}.attention.self.${n}`, H, H);
    lin(`${p}.attention.output.dense`, H, H);
    ln(`${p}.attention.output.LayerNorm`);
    lin(`${p}.intermediate.dense`, cfg.intermediateSize, H);
    lin(`${p}.output.dense`, H, cfg.intermediateSize);
    ln(`${p}.output.LayerNorm`);
  }
  if (pre === 'bert') {
    lin(`${pre}.pooler.dense`, H, H);
    lin('classifier', numLabels, H);
  } else {
    lin('classifier.dense', H, H);
    lin('classifier.out_proj', numLabels, H);
  }
  return m;
}
