/**
 * Encoder weight names: normalisation of checkpoint tensor names to one canonical form, and the
 * expected name -> shape table for a config.
 *
 * Canonical names are the Hugging Face BertModel / RobertaModel state-dict keys WITHOUT the
 * `bert.` / `roberta.` prefix that task models (BertForMaskedLM, ...) add, e.g.
 *   embeddings.word_embeddings.weight            [vocab, H]
 *   encoder.layer.3.attention.self.query.weight  [H, H]   (PyTorch Linear: [out, in], y = x W^T + b)
 *   encoder.layer.3.intermediate.dense.weight    [I, H]
 *   pooler.dense.weight                          [H, H]   (optional)
 * Old TF-converted checkpoints name LayerNorm parameters gamma/beta: they become weight/bias.
 */
import type { EncoderConfig } from '../config.js';
import { CheckpointError } from './errors.js';
import type { FloatTensor } from './safetensors.js';

/** name -> shape of every encoder tensor a config needs; the pooler is listed separately. */
export function encoderWeightShapes(c: EncoderConfig): {
  required: Map<string, number[]>;
  optional: Map<string, number[]>;
} {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const required = new Map<string, number[]>([
    ['embeddings.word_embeddings.weight', [c.vocabSize, H]],
    ['embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, H]],
    ['embeddings.token_type_embeddings.weight', [c.typeVocabSize, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ]);
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const proj of ['query', 'key', 'value']) {
      required.set(`${p}attention.self.${proj}.weight`, [H, H]);
      required.set(`${p}attention.self.${proj}.bias`, [H]);
    }
    required.set(`${p}attention.output.dense.weight`, [H, H]);
    required.set(`${p}attention.output.dense.bias`, [H]);
    required.set(`${p}attention.output.LayerNorm.weight`, [H]);
    required.set(`${p}attention.output.LayerNorm.bias`, [H]);
    required.set(`${p}intermediate.dense.weight`, [I, H]);
    required.set(`${p}intermediate.dense.bias`, [I]);
    required.set(`${p}output.dense.weight`, [H, I]);
    required.set(`${p}output.dense.bias`, [H]);
    required.set(`${p}output.LayerNorm.weight`, [H]);
    required.set(`${p}output.LayerNorm.bias`, [H]);
  }
  const optional = new Map<string, number[]>([
    ['pooler.dense.weight', [H, H]],
    ['pooler.dense.bias', [H]],
  ]);
  return { required, optional };
}

/**
 * Canonical name of a checkpoint tensor: strips a leading `bert.` / `roberta.`, renames
 * LayerNorm gamma/beta to weight/bias. Returns the name unchanged otherwise (callers decide
 * what to keep by looking it up in `encoderWeightShapes`).
 */
export function normalizeWeightName(name: string): string {
  let n = name;
  if (n.startsWith('bert.')) n = n.slice(5);
  else if (n.startsWith('roberta.')) n = n.slice(8);
  if (/LayerNorm\.gamma$/.test(n)) n = `${n.slice(0, -5)}weight`;
  else if (/LayerNorm\.beta$/.test(n)) n = `${n.slice(0, -4)}bias`;
  return n;
}

/**
 * Check that `weights` (canonical names) holds every required tensor with the config's shape,
 * and optional ones (pooler) with the right shape when present. `file` names the checkpoint.
 */
export function checkEncoderWeights(weights: ReadonlyMap<string, FloatTensor>, c: EncoderConfig, file: string): void {
  const { required, optional } = encoderWeightShapes(c);
  for (const [name, shape] of required) {
    const t = weights.get(name);
    if (!t) {
      throw new CheckpointError(
        file,
        `${file}: missing tensor '${name}' needed by a ${c.numHiddenLayers}-layer ${c.modelType} config; is config.json from the same checkpoint?`,
        name,
      );
    }
    checkShape(file, name, t, shape);
  }
  for (const [name, shape] of optional) {
    const t = weights.get(name);
    if (t) checkShape(file, name, t, shape);
  }
}

function checkShape(file: string, name: string, t: FloatTensor, shape: number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new CheckpointError(
      file,
      `${file}: tensor '${name}' has shape [${t.shape.join(', ')}] but config.json implies [${shape.join(', ')}]; config and weights do not match`,
      name,
    );
  }
}
