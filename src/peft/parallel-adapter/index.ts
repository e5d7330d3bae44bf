/**
 * Parallel adapter (He et al. 2022, "Towards a unified view of PEFT"), beside the FFN:
 *
 *   out = ffnOut + s * up(relu(down(ffnIn)))      ffnIn, ffnOut [B, S, H]
 *
 * summed before the residual + LayerNorm; s = options.paScaling (4.0 as in the reference
 * ParallelConfig). Bottleneck D = cfg.pa; up = 0 at init (no-op).
 */
import { add, mul } from '../../graph/ops/index.js';
import { bottleneck, bottleneckTensors } from '../bottleneck.js';
import { registerPeftMethod } from '../registry.js';
import type { PeftMethod } from '../types.js';

export const parallelAdapter: PeftMethod = {
  id: 'pa',
  title: 'parallel adapter',
  order: 10,
  tensors: (cfg, dims) => bottleneckTensors('pa', cfg, dims.hidden),
  paperCountPerLayer: (D, H) => 2 * H * D,
  ffn: (ctx, m) => {
    const branch = bottleneck('pa', ctx.layer, ctx.graph, ctx.input, m);
    const s = m.cfg.options.paScaling;
    return add(ctx.output, s === 1 ? branch : mul(branch, s));
  },
};

registerPeftMethod(parallelAdapter);
