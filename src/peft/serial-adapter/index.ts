/**
 * Serial adapter, placed after the FFN sublayer, in one of two forms (`options.saForm`):
 *
 * - `houlsby` (default; Houlsby's output adapter, adapter-transformers' BnConfig with
 *   original_ln_before=false):
 *
 *     out = h + up(relu(down(h)))      h = the FFN output [B, S, H] before residual + LayerNorm
 *
 *   up = 0 at init, so step 0 equals the frozen model. With a parallel adapter in the same layer, h
 *   already includes its branch (PA order 10 < SA order 20): the adapter sees the whole FFN output.
 *
 * - `pfeiffer` (the reference implementation's: adapter-transformers' AutoPEFTConfig /
 *   modeling_sappa.py, original_ln_before=True, residual_before_ln=True):
 *
 *     out = h' + up(relu(down(LN(h + x))))      h' = h plus the other FFN modules' branches
 *
 *   LN = the layer's frozen output LayerNorm, x = the residual (the backbone's `frozenOutput`), so
 *   the layer computes LN(h + A_sa(LN(h + x)) + s·A_pa(x) + x): summed in parallel with the parallel
 *   adapter, which neither sees the other. Weights N(0, 0.02), biases 0 (init_bert_weights): not a
 *   no-op at step 0.
 */
import { add } from '../../graph/ops/index.js';
import { bottleneck, bottleneckTensors } from '../bottleneck.js';
import { PeftConfigError } from '../config.js';
import { registerPeftMethod } from '../registry.js';
import type { PeftMethod } from '../types.js';

export const serialAdapter: PeftMethod = {
  id: 'sa',
  title: 'serial adapter',
  order: 20,
  tensors: (cfg, dims) =>
    bottleneckTensors('sa', cfg, dims.hidden, cfg.options.saForm === 'pfeiffer' ? 'bert' : 'noop'),
  paperCountPerLayer: (D, H) => 2 * H * D,
  ffn: (ctx, m) => {
    if (m.cfg.options.saForm !== 'pfeiffer')
      return add(ctx.output, bottleneck('sa', ctx.layer, ctx.graph, ctx.output, m));
    if (!ctx.frozenOutput)
      throw new PeftConfigError(
        'saForm "pfeiffer": this backbone does not offer its frozen layer output to the serial adapter; use saForm "houlsby"',
      );
    return add(ctx.output, bottleneck('sa', ctx.layer, ctx.graph, ctx.frozenOutput(), m, 'bert'));
  },
};

registerPeftMethod(serialAdapter);
