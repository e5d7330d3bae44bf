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
 * [batch, seqLen] (batch symbolic; seqLen static, or symbolic when the backbone is built with a
 * symbolic length), and one output `logits` [batch, labels].
 *
 * Also here: the adapter in the layouts of the two Python libraries (`adapterHubLayout`,
 * `peftLoraLayout`): config JSON + tensors under the libraries' names, for BERT/RoBERTa.
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

/** A tensor of a library layout (F32, row-major, PyTorch `[out, in]` for linear weights). */
export interface LayoutTensor {
  data: Float32Array;
  shape: number[];
}

/** Files of a Python-library layout: one config JSON and the tensors of one safetensors file. */
export interface LibraryLayout {
  config: Record<string, unknown>;
  tensors: Map<string, LayoutTensor>;
  /** Where the exported module computes something other than the library's default of that class (for the model card). */
  notes: string[];
}

export interface LayoutModel {
  /** 'bert' | 'roberta': the HF module prefix of the encoder (`bert.encoder.layer.<l>...`). */
  flavour: 'bert' | 'roberta';
  /** The base model as the user named it (hub id or folder). */
  modelId: string;
  hidden: number;
  numLayers: number;
}

/** The layout cannot express this configuration: a user error with one line. */
export class LayoutError extends PeftConfigError {
  override name = 'LayoutError';
}

const f32 = (t: PeftTensor): Float32Array => (t.data instanceof Float32Array ? t.data : Float32Array.from(t.data));

function take(a: AdapterWeights, name: string): LayoutTensor {
  const t = a.weights.get(name);
  if (!t) throw new LayoutError(`export: the adapter has no tensor '${name}'; the weights do not match its config`);
  return { data: f32(t), shape: [...t.shape] };
}

const leaveOut = (cfg: PeftConfig): number[] => cfg.layers.flatMap((on, l) => (on ? [] : [l]));

/**
 * AdapterHub `adapters` layout (adapter_config.json as `save_adapter` writes it, tensors as its
 * `model.state_dict()` names them for `<flavour>ForSequenceClassification` / `<Flavour>AdapterModel`):
 * - serial adapter, saForm houlsby -> a bottleneck config with SeqBnConfig's fields but
 *   `original_ln_before: false`: it reads the FFN output before the residual add and LayerNorm
 *   (out = LN(x + h + A(h))), BnConfig with original_ln_before false / residual_before_ln true;
 *   saForm pfeiffer -> SeqBnConfig itself (original_ln_before true: it reads LN(h + x));
 *   tensors `<flavour>.encoder.layer.<l>.output.adapters.<name>.adapter_down.0.*` / `adapter_up.*`;
 * - parallel adapter -> ParBnConfig (is_parallel, scaling = paScaling), same tensor names;
 * - prefix-tuning -> PrefixTuningConfig (one MLP shared by the active layers, tanh, bottleneck =
 *   ptBottleneck; `flat: true` with the rows when ptBottleneck is 0); tensors
 *   `<flavour>.prefix_tuning.prefix_tunings.<name>.self_prefix.{wte.weight, control_trans.{0,2}.*}`;
 * - LoRA -> LoRAConfig (selfattn_lora, attn_matrices q, v; r, alpha); tensors
 *   `<flavour>.encoder.layer.<l>.attention.self.<query|value>.loras.<name>.lora_A|lora_B`;
 * and `leave_out` = the layers without modules. Several methods: a ConfigUnion. AdapterHub allows
 * one bottleneck adapter per position, so a serial and a parallel adapter together are rejected.
 */
export function adapterHubLayout(a: AdapterWeights, m: LayoutModel, name: string): LibraryLayout {
  const cfg = a.config;
  const H = m.hidden;
  const lo = leaveOut(cfg);
  const layers = activeLayers(cfg);
  const p = m.flavour;
  const configs: Record<string, unknown>[] = [];
  const tensors = new Map<string, LayoutTensor>();
  const notes: string[] = [];
  if (layers.length === 0) throw new LayoutError('export --format adapters: the configuration has no active layer');
  if (cfg.sa > 0 && cfg.pa > 0)
    throw new LayoutError(
      'export --format adapters: AdapterHub allows one bottleneck adapter after the FFN per layer, and this configuration has both a serial and a parallel adapter; use --format transformers.js',
    );
  const reduction = (D: number): number => {
    const rf = H / D;
    // adapters computes down_sample = int(input_size // reduction_factor).
    if (Math.floor(H / rf) !== D)
      throw new LayoutError(
        `export --format adapters: bottleneck ${D} is not expressible as hidden ${H} // a reduction factor`,
      );
    return rf;
  };
  const bottleneck = (method: 'sa' | 'pa', D: number) => {
    for (const l of layers) {
      const at = `${p}.encoder.layer.${l}.output.adapters.${name}`;
      tensors.set(`${at}.adapter_down.0.weight`, take(a, `peft.layer.${l}.${method}.down.weight`));
      tensors.set(`${at}.adapter_down.0.bias`, take(a, `peft.layer.${l}.${method}.down.bias`));
      tensors.set(`${at}.adapter_up.weight`, take(a, `peft.layer.${l}.${method}.up.weight`));
      tensors.set(`${at}.adapter_up.bias`, take(a, `peft.layer.${l}.${method}.up.bias`));
    }
    return reduction(D);
  };
  const bnCommon = {
    architecture: 'bottleneck',
    mh_adapter: false,
    output_adapter: true,
    non_linearity: 'relu',
    original_ln_after: true,
    ln_before: false,
    ln_after: false,
    use_gating: false,
    adapter_residual_before_ln: false,
    inv_adapter: null,
    inv_adapter_reduction_factor: null,
    cross_adapter: false,
    phm_layer: false,
    leave_out: lo,
  };
  if (cfg.sa > 0) {
    const pfeiffer = cfg.options.saForm === 'pfeiffer';
    configs.push({
      ...bnCommon,
      reduction_factor: bottleneck('sa', cfg.sa),
      original_ln_before: pfeiffer,
      residual_before_ln: true,
      init_weights: 'bert',
      is_parallel: false,
      scaling: 1.0,
    });
    notes.push(
      pfeiffer
        ? 'serial adapter (saForm pfeiffer): SeqBnConfig — the adapter reads LN(h + x), the frozen LayerNorm of FFN output + residual (LN(x + h + A(LN(h + x))))'
        : "serial adapter (saForm houlsby): SeqBnConfig's fields except `original_ln_before: false` — the adapter reads the FFN output before the residual add and LayerNorm (LN(x + h + A(h))), Houlsby's output-adapter placement, not Pfeiffer's (after the LayerNorm)",
    );
  }
  if (cfg.pa > 0) {
    configs.push({
      ...bnCommon,
      reduction_factor: bottleneck('pa', cfg.pa),
      original_ln_before: false,
      residual_before_ln: true,
      init_weights: 'mam_adapter',
      is_parallel: true,
      scaling: cfg.options.paScaling,
    });
  }
  if (cfg.pt > 0) {
    const at = `${p}.prefix_tuning.prefix_tunings.${name}.self_prefix`;
    const flat = cfg.options.ptBottleneck === 0;
    if (flat) {
      // FlatPrefixTuning: control_trans viewed as [P, n_layers * 2, H] (key, value per active layer).
      const P = cfg.pt;
      const out = new Float32Array(P * layers.length * 2 * H);
      layers.forEach((l, k) => {
        (['key', 'value'] as const).forEach((kv, j) => {
          const rows = take(a, `peft.layer.${l}.pt.${kv}`).data;
          for (let r = 0; r < P; r++)
            out.set(rows.subarray(r * H, (r + 1) * H), (r * layers.length * 2 + 2 * k + j) * H);
        });
      });
      tensors.set(`${at}.control_trans`, { data: out, shape: [out.length] });
    } else {
      tensors.set(`${at}.wte.weight`, take(a, 'peft.pt.wte'));
      tensors.set(`${at}.control_trans.0.weight`, take(a, 'peft.pt.mlp.0.weight'));
      tensors.set(`${at}.control_trans.0.bias`, take(a, 'peft.pt.mlp.0.bias'));
      tensors.set(`${at}.control_trans.2.weight`, take(a, 'peft.pt.mlp.2.weight'));
      tensors.set(`${at}.control_trans.2.bias`, take(a, 'peft.pt.mlp.2.bias'));
    }
    configs.push({
      architecture: 'prefix_tuning',
      encoder_prefix: true,
      cross_prefix: true,
      leave_out: lo,
      flat,
      prefix_length: cfg.pt,
      bottleneck_size: flat ? 512 : cfg.options.ptBottleneck,
      non_linearity: 'tanh',
      dropout: 0.0,
      use_gating: false,
      shared_gating: true,
    });
  }
  if (cfg.lora > 0) {
    for (const l of layers) {
      for (const t of LORA_TARGETS) {
        const [sa, sb] = loraSpecs(l, t, cfg.lora, H);
        const at = `${p}.encoder.layer.${l}.attention.self.${t}.loras.${name}`;
        tensors.set(`${at}.lora_A`, take(a, sa.name));
        tensors.set(`${at}.lora_B`, take(a, sb.name));
      }
    }
    configs.push({
      architecture: 'lora',
      selfattn_lora: true,
      intermediate_lora: false,
      output_lora: false,
      leave_out: lo,
      r: cfg.lora,
      alpha: cfg.options.loraAlpha,
      dropout: 0.0,
      attn_matrices: ['q', 'v'],
      composition_mode: 'add',
      init_weights: 'lora',
      use_gating: false,
    });
  }
  if (configs.length === 0) throw new LayoutError('export --format adapters: the configuration has no PEFT module');
  const config = configs.length === 1 ? configs[0]! : { architecture: 'union', configs };
  return {
    config: {
      config,
      hidden_size: H,
      model_type: m.flavour,
      model_name: m.modelId,
      model_class: m.flavour === 'bert' ? 'BertForSequenceClassification' : 'RobertaForSequenceClassification',
      name,
      version: 'adapters.1.2.0',
    },
    tensors,
    notes,
  };
}

/**
 * HF PEFT layout for LoRA-only configurations: a `LoraConfig` (task SEQ_CLS, target_modules query
 * and value, layers_to_transform = the active layers, r, lora_alpha) and the state dict as
 * `PeftModel.save_pretrained` writes it (`base_model.model.<flavour>.encoder.layer.<l>.attention.
 * self.<query|value>.lora_A|lora_B.weight`; the trained head under `base_model.model.` + its HF
 * name, listed in modules_to_save). Other methods have no PEFT counterpart here: rejected.
 */
export function peftLoraLayout(a: AdapterWeights, m: LayoutModel, headNames: readonly string[]): LibraryLayout {
  const cfg = a.config;
  const others = (['sa', 'pa', 'pt'] as const).filter((k) => cfg[k] > 0);
  if (cfg.lora === 0 || others.length > 0)
    throw new LayoutError(
      `export --format peft: HF PEFT's LoraConfig holds LoRA only, and this configuration has ${others.length ? others.join(', ') : 'no LoRA'}; use --format adapters or transformers.js`,
    );
  const layers = activeLayers(cfg);
  const tensors = new Map<string, LayoutTensor>();
  for (const l of layers) {
    for (const t of LORA_TARGETS) {
      const [sa, sb] = loraSpecs(l, t, cfg.lora, m.hidden);
      const at = `base_model.model.${m.flavour}.encoder.layer.${l}.attention.self.${t}`;
      tensors.set(`${at}.lora_A.weight`, take(a, sa.name));
      tensors.set(`${at}.lora_B.weight`, take(a, sb.name));
    }
  }
  for (const n of headNames) {
    const t = a.headWeights.get(n);
    if (t) tensors.set(`base_model.model.${n}`, { data: f32(t), shape: [...t.shape] });
  }
  // The trained modules besides LoRA: the classifier, and BERT's pooler (trained with the head here).
  const modulesToSave = [...new Set(headNames.map((n) => (n.includes('.pooler.') ? 'pooler' : 'classifier')))];
  return {
    config: {
      peft_type: 'LORA',
      task_type: 'SEQ_CLS',
      base_model_name_or_path: m.modelId,
      revision: null,
      inference_mode: true,
      r: cfg.lora,
      lora_alpha: cfg.options.loraAlpha,
      lora_dropout: 0.0,
      target_modules: ['query', 'value'],
      layers_to_transform: layers,
      layers_pattern: null,
      bias: 'none',
      fan_in_fan_out: false,
      modules_to_save: modulesToSave,
      init_lora_weights: true,
      use_rslora: false,
      use_dora: false,
      rank_pattern: {},
      alpha_pattern: {},
    },
    tensors,
    notes: [],
  };
}
