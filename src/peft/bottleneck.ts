/**
 * The bottleneck adapter block shared by the serial and parallel adapters:
 *
 *   adapter(x) = up(relu(down(x)))      x [B, S, H] -> [B, S, D] -> [B, S, H]
 *
 * with down [D, H] + bias [D], up [H, D] + bias [H] (PyTorch layout [out, in]).
 *
 * NOTE (init): as adapter-transformers' "mam_adapter" init (the one its ParallelConfig uses and
 * the one that makes the block a no-op): down.weight ~ Kaiming-uniform(a=sqrt(5)), i.e.
 * U(-1/sqrt(H), 1/sqrt(H)); down.bias, up.weight and up.bias = 0, so adapter(x) = 0 at step 0.
 */
import type { Graph, Value } from '../graph/ir.js';
import * as ops from '../graph/ops/index.js';
import { kaimingUniformBound } from './init.js';
import type { PeftConfig } from './config.js';
import { activeLayers, layerTensorName, type MethodContext, type PeftMethodId, type TensorSpec } from './types.js';

/**
 * 'noop': the init above. 'bert': adapter-transformers' "bert" init (the reference's serial adapter,
 * init_bert_weights): both weights N(0, 0.02), biases 0 — the block is not a no-op at step 0.
 */
export type BottleneckInit = 'noop' | 'bert';

export function bottleneckSpecs(
  method: PeftMethodId,
  layer: number,
  D: number,
  H: number,
  init: BottleneckInit = 'noop',
): TensorSpec[] {
  const n = (rest: string) => layerTensorName(layer, method, rest);
  const bert = { kind: 'normal', std: 0.02 } as const;
  return [
    {
      name: n('down.weight'),
      shape: [D, H],
      init: init === 'bert' ? bert : { kind: 'uniform', bound: kaimingUniformBound(H) },
    },
    { name: n('down.bias'), shape: [D], init: { kind: 'zeros' } },
    { name: n('up.weight'), shape: [H, D], init: init === 'bert' ? bert : { kind: 'zeros' } },
    { name: n('up.bias'), shape: [H], init: { kind: 'zeros' } },
  ];
}

/** up(relu(down(x))) for `layer`: x [..., H] -> [..., H]. */
export function bottleneck(
  method: PeftMethodId,
  layer: number,
  graph: Graph,
  x: Value,
  m: MethodContext,
  init: BottleneckInit = 'noop',
): Value {
  const [dw, db, uw, ub] = bottleneckSpecs(method, layer, m.size, m.dims.hidden, init).map((s) =>
    m.tensor(graph, s),
  ) as [Value, Value, Value, Value];
  return ops.linear(ops.relu(ops.linear(x, dw, db)), uw, ub);
}

/** Specs for every active layer of `cfg`, at bottleneck D = cfg[method] (none when 0). */
export function bottleneckTensors(
  method: 'sa' | 'pa',
  cfg: PeftConfig,
  H: number,
  init: BottleneckInit = 'noop',
): TensorSpec[] {
  const D = cfg[method];
  return D > 0 ? activeLayers(cfg).flatMap((l) => bottleneckSpecs(method, l, D, H, init)) : [];
}
