/**
 * The merged inference model: backbone + PEFT + head, every weight a constant, emitted as ONNX
 * through the engine's emitter. Prefix-tuning's MLP is folded into its key/value rows; LoRA is
 * optionally merged into W_q / W_v (W' = W + alpha/r · B A, then no LoRA nodes at all). The backbone
 * side is the models room's export capability (`ExportBackbone`: its weights and a builder taking
 * hooks); this module composes it with the adapter.
 *
 *   const bb = backbone.exportBackbone({ seqLen: 128, numLabels: 2 }); // or bertExportBackbone(config, weights, ...)
 *   const model = await exportMergedOnnx(bb, loaded, { path: 'out/model.onnx' });
 *
 * The exported graph has inputs input_ids, attention_mask (and token_type_ids for BERT), shape
 * [batch, seqLen] (batch symbolic, seqLen fixed at export), and one output `logits` [batch, labels].
 */
import { writeFile } from 'node:fs/promises';
import type { Graph, Value } from '../graph/ir.js';
import { emitOnnx, type EmittedModel } from '../graph/onnx/emit.js';
import type { ExportBackbone, WeightMap } from '../models/types.js';
import { PeftConfigError, type PeftConfig } from './config.js';
import { createPeft, type Peft } from './create.js';
import { LORA_TARGETS, loraScale, loraSpecs, mergeLoraWeight } from './lora/index.js';
import { activeLayers, attentionWidth, type PeftTensor } from './types.js';

export interface AdapterWeights {
  config: PeftConfig;
  /** PEFT tensors, training form (or already folded). */
  weights: ReadonlyMap<string, PeftTensor>;
  /** Head tensors replacing the backbone's (e.g. `classifier.weight`). */
  headWeights: ReadonlyMap<string, PeftTensor>;
}

export interface MergeOptions {
  /** Merge LoRA into W_q / W_v (default true). */
  mergeLora?: boolean;
}

/**
 * `weights` with the trained head tensors in place of the backbone's (a new map; the backbone's
 * arrays are shared, not copied). A head of another shape is a user error (another label count).
 */
export function withHeadWeights(
  weights: WeightMap,
  headWeights: ReadonlyMap<string, PeftTensor>,
): Map<string, { data: Float32Array; shape: readonly number[] }> {
  const out = new Map<string, { data: Float32Array; shape: readonly number[] }>(weights);
  for (const [n, t] of headWeights) {
    const prev = weights.get(n);
    if (!prev)
      throw new PeftConfigError(
        `adapter head weight '${n}' is not a weight of this backbone; was the adapter trained on another model type?`,
      );
    if (prev.shape.join() !== t.shape.join())
      throw new PeftConfigError(
        `adapter head weight '${n}' has shape [${t.shape}], the model's is [${prev.shape}]; build the model with the adapter's number of labels`,
      );
    out.set(n, { data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data), shape: t.shape });
  }
  return out;
}

/** The merged graph (all constants). */
export function buildMergedModel(
  bb: ExportBackbone,
  a: AdapterWeights,
  opts: MergeOptions = {},
): { graph: Graph; logits: Value; peft: Peft } {
  const mergeLora = (opts.mergeLora ?? true) && a.config.lora > 0;
  const weights = withHeadWeights(bb.weights, a.headWeights);
  let cfg = a.config;
  if (mergeLora) {
    const r = cfg.lora;
    const scale = loraScale(cfg.options.loraAlpha, r);
    for (const l of activeLayers(cfg)) {
      const w = attentionWidth(bb.dims, l);
      for (const t of LORA_TARGETS) {
        const [sa, sb] = loraSpecs(l, t, r, w);
        const A = a.weights.get(sa.name);
        const B = a.weights.get(sb.name);
        if (!A || !B) throw new Error(`export: missing LoRA tensor '${A ? sb.name : sa.name}'`);
        const wn = bb.projectionWeightName(l, t);
        const W = weights.get(wn);
        if (!W) throw new Error(`export: backbone has no '${wn}' to merge LoRA into`);
        weights.set(wn, { data: mergeLoraWeight(W.data, A.data, B.data, w, r, scale), shape: W.shape });
      }
    }
    cfg = { ...cfg, lora: 0 };
  }
  const peft = createPeft(cfg, bb.dims, { mode: 'frozen', weights: a.weights });
  const { graph, logits } = bb.build(weights, peft.hooks);
  peft.assertBuilt();
  if (graph.params.length > 0)
    throw new Error(
      `export: the merged graph still has trainable params (${graph.params[0]!.name}); the backbone's build must freeze everything`,
    );
  return { graph, logits, peft };
}

export interface ExportOptions extends MergeOptions {
  /** Write the model here. */
  path?: string;
  /** Write model.onnx + weights.bin here instead (needed above 2 GB). */
  externalDataDir?: string;
  /**
   * Use ORT's com.microsoft contrib ops (FusedMatMul, Gelu). Default false: the file holds only
   * standard ONNX opset-17 ops so any ONNX runtime can run it.
   */
  contribOps?: boolean;
}

/** Emits the merged model as ONNX; writes it to `path` when given. */
export async function exportMergedOnnx(
  bb: ExportBackbone,
  a: AdapterWeights,
  opts: ExportOptions = {},
): Promise<EmittedModel> {
  const { logits } = buildMergedModel(bb, a, opts);
  const model = emitOnnx({
    outputs: [['logits', logits]],
    training: false,
    externalDataDir: opts.externalDataDir,
    contribOps: opts.contribOps ?? false,
  });
  if (opts.path && model.bytes) await writeFile(opts.path, model.bytes);
  return model;
}
