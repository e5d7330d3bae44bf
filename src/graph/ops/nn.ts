/** Fused NN ops ORT has kernels for (Softmax, LogSoftmax, LayerNormalization, SoftmaxCrossEntropyLoss, Dropout, Gelu) and composite losses. */
import { GraphError } from '../errors.js';
import { attr, type Dim, type Value } from '../ir.js';
import { mul, sub, where } from './elementwise.js';
import { reduceMean } from './reduce.js';
import { normAxis, requireFloat, sameDtype } from './util.js';

export function softmax(x: Value, axis = -1): Value {
  requireFloat('Softmax', x);
  return x.graph.node('Softmax', [x], { axis: attr.int(normAxis('Softmax', axis, x.rank)) }, [
    { dtype: x.dtype, shape: x.shape },
  ])[0]!;
}

export function logSoftmax(x: Value, axis = -1): Value {
  requireFloat('LogSoftmax', x);
  return x.graph.node('LogSoftmax', [x], { axis: attr.int(normAxis('LogSoftmax', axis, x.rank)) }, [
    { dtype: x.dtype, shape: x.shape },
  ])[0]!;
}

/**
 * LayerNormalization over the last dim: (x - mean) * invStd * gamma + beta.
 * The node also outputs Mean and InvStdDev ([..., 1]) which its gradient rule reuses.
 * NOTE: eps is inside the sqrt (as in PyTorch and Hugging Face BERT).
 */
export function layerNorm(x: Value, gamma: Value, beta: Value, eps = 1e-12): Value {
  requireFloat('LayerNormalization', x);
  sameDtype('LayerNormalization', x, gamma, beta);
  const h = x.shape[x.rank - 1]!;
  if (gamma.rank !== 1 || beta.rank !== 1 || gamma.shape[0] !== h || beta.shape[0] !== h) {
    throw new GraphError(`LayerNormalization: gamma ${gamma} and beta ${beta} must be [${h}] for ${x}`);
  }
  const stat: Dim[] = [...x.shape.slice(0, -1), 1];
  // stash_type follows the input so float64 gradchecks stay float64.
  const stash = x.dtype === 'float64' ? 11 : 1;
  return x.graph.node(
    'LayerNormalization',
    [x, gamma, beta],
    { axis: attr.int(-1), epsilon: attr.float(eps), stash_type: attr.int(stash) },
    [
      { dtype: x.dtype, shape: x.shape },
      { dtype: x.dtype, shape: stat },
      { dtype: x.dtype, shape: stat },
    ],
  )[0]!;
}

/**
 * Mean (or sum) softmax cross-entropy of logits [N, C] against int64 labels [N]. Scalar result.
 */
export function softmaxCrossEntropy(logits: Value, labels: Value, reduction: 'mean' | 'sum' = 'mean'): Value {
  requireFloat('SoftmaxCrossEntropyLoss', logits);
  if (logits.rank !== 2) throw new GraphError(`SoftmaxCrossEntropyLoss: logits ${logits} must be [N, C]`);
  if (labels.dtype !== 'int64' || labels.rank !== 1)
    throw new GraphError(`SoftmaxCrossEntropyLoss: labels ${labels} must be int64 [N]`);
  return logits.graph.node('SoftmaxCrossEntropyLoss', [logits, labels], { reduction: attr.string(reduction) }, [
    { dtype: logits.dtype, shape: [] },
    { dtype: logits.dtype, shape: logits.shape },
  ])[0]!;
}

/** Mean squared error (regression heads, e.g. STS-B), built from primitives. */
export function mseLoss(pred: Value, target: Value): Value {
  const d = sub(pred, target);
  return reduceMean(mul(d, d));
}

/**
 * Inverted dropout with ratio p, only active in training programs (eval programs emit it as
 * identity). The mask comes from ORT's Dropout kernel seeded by `seed` (an attribute): a session's
 * sequence of masks is the same on every run from the same seed, so training is reproducible.
 */
export function dropout(x: Value, p: number, seed: number): Value {
  requireFloat('Dropout', x);
  if (!(p >= 0 && p < 1)) throw new GraphError(`Dropout: ratio ${p} must be in [0, 1)`);
  if (p === 0) return x;
  return x.graph.node('Dropout', [x], { ratio: attr.float(p), seed: attr.int(seed) }, [
    { dtype: x.dtype, shape: x.shape },
    { dtype: 'bool', shape: x.shape },
  ])[0]!;
}

/**
 * Inverted dropout with a caller-supplied keep mask (bool, broadcastable to x), e.g. fed per step
 * from a seeded generator: x * mask / (1 - p). Built from Where + Mul, so it is differentiable.
 */
export function dropoutWithMask(x: Value, mask: Value, p: number): Value {
  if (mask.dtype !== 'bool') throw new GraphError(`dropoutWithMask: mask ${mask} must be bool`);
  if (!(p >= 0 && p < 1)) throw new GraphError(`dropoutWithMask: ratio ${p} must be in [0, 1)`);
  return where(mask, mul(x, 1 / (1 - p)), 0);
}

/** Exact GELU x * Phi(x) (erf form). Lowered to com.microsoft.Gelu or to Erf primitives. */
export function gelu(x: Value): Value {
  requireFloat('Gelu', x);
  return x.graph.node('Gelu', [x], {}, [{ dtype: x.dtype, shape: x.shape }])[0]!;
}
