/**
 * Serial adapter (Houlsby-style, placed after the FFN sublayer as in AutoPEFT / Pfeiffer):
 *
 *   out = h + up(relu(down(h)))      h = the FFN output [B, S, H] before residual + LayerNorm
 *
 * Bottleneck D = cfg.sa. up = 0 at init, so step 0 equals the frozen model.
 * When a parallel adapter is on in the same layer, h already includes its branch (PA order 10 <
 * SA order 20): the serial adapter sees the whole FFN-sublayer output.
 */
import { add } from '../../graph/ops/index.js';
import { bottleneck, bottleneckTensors } from '../bottleneck.js';
import { registerPeftMethod } from '../registry.js';
import type { PeftMethod } from '../types.js';

export const serialAdapter: PeftMethod = {
  id: 'sa',
  title: 'serial adapter',
  order: 20,
  tensors: (cfg, dims) => bottleneckTensors('sa', cfg, dims.hidden),
  paperCountPerLayer: (D, H) => 2 * H * D,
  ffn: (ctx, m) => add(ctx.output, bottleneck('sa', ctx.layer, ctx.graph, ctx.output, m)),
};

registerPeftMethod(serialAdapter);
