/**
 * `createPeft`: the combined PEFT modules of a config as backbone hooks.
 *
 *   const peft = createPeft(cfg, dims, { seed: 1 });             // trainable modules
 *   const m = buildBert({ config, weights, seqLen, hooks: peft.hooks, trainable: isHeadWeight });
 *   peft.params                                                   // the PEFT g.params just created
 *
 *   createPeft(cfg, dims, { mode: 'frozen', weights: saved })     // constants (eval / export)
 *
 * Params are created lazily when the backbone calls the hooks, only for active layers, with names
 * like `peft.layer.3.sa.down.weight` (shared prefix MLP: `peft.pt.*`). One `Peft` serves one graph.
 */
import type { Graph, Value } from '../graph/ir.js';
import type { EncoderHooks, FfnHookContext, ProjectionHookContext } from '../models/types.js';
import { describePeft, isNoop, PeftConfigError, type PeftConfig } from './config.js';
import { initTensor } from './init.js';
import './methods.js';
import { peftMethods } from './registry.js';
import {
  activeLayers,
  fitsSpec,
  type MethodContext,
  type PeftMethod,
  type PeftTensor,
  type PeftWeights,
  type TensorSpec,
} from './types.js';
import type { BackboneDims } from '../models/types.js';

export interface CreatePeftOptions {
  /** Seed of the fresh init (each tensor's stream also depends on its name). Default 0. */
  seed?: number;
  /** 'train' (default): g.params; 'frozen': constants from `weights` (folded if needed). */
  mode?: 'train' | 'frozen';
  /**
   * train: initial values that replace the fresh init for the names given (e.g. resuming);
   * frozen: required, the saved PEFT weights (training form, or already folded).
   */
  weights?: ReadonlyMap<string, PeftTensor>;
  /** Float dtype of the created tensors (default float32, the backbone's). */
  dtype?: 'float32' | 'float64';
}

export interface Peft {
  readonly config: PeftConfig;
  readonly dims: BackboneDims;
  readonly mode: 'train' | 'frozen';
  /** Hooks for the backbone builder (an empty object for a no-op config: the frozen graph). */
  readonly hooks: EncoderHooks;
  /** The tensors this Peft creates (train: trainable, in a fixed order; frozen: inference form). */
  readonly specs: readonly TensorSpec[];
  /** Names of `specs`. */
  readonly names: readonly string[];
  /** Values created on the graph so far, in creation order (train: g.params; frozen: constants). */
  readonly params: readonly Value[];
  /** The graph the hooks built into (after the build). */
  readonly graph: Graph | undefined;
  /** Throws unless every spec was created (a backbone that skipped a hook point). */
  assertBuilt(): void;
}

/** Trainable tensors of a config, every method, in registry order. */
export function peftTensorSpecs(cfg: PeftConfig, dims: BackboneDims): TensorSpec[] {
  return enabledMethods(cfg).flatMap((m) => m.tensors(cfg, dims));
}

/** Inference-form tensors (PT folded). */
export function peftFoldedSpecs(cfg: PeftConfig, dims: BackboneDims): TensorSpec[] {
  return enabledMethods(cfg).flatMap((m) => (m.foldedTensors ? m.foldedTensors(cfg, dims) : m.tensors(cfg, dims)));
}

/** Training-form weights -> inference-form weights (the PT MLP computed once into rows). */
export function foldPeftWeights(
  cfg: PeftConfig,
  dims: BackboneDims,
  weights: ReadonlyMap<string, PeftTensor>,
): PeftWeights {
  const all: PeftWeights = new Map(weights);
  for (const m of enabledMethods(cfg)) if (m.fold) for (const [k, v] of m.fold(weights, cfg, dims)) all.set(k, v);
  const out: PeftWeights = new Map();
  for (const s of peftFoldedSpecs(cfg, dims)) {
    const t = all.get(s.name);
    if (t) out.set(s.name, t);
  }
  return out;
}

function enabledMethods(cfg: PeftConfig): PeftMethod[] {
  if (isNoop(cfg)) return [];
  return peftMethods().filter((m) => cfg[m.id] > 0);
}

export function checkDims(cfg: PeftConfig, dims: BackboneDims): void {
  if (cfg.layers.length !== dims.numLayers) {
    throw new PeftConfigError(
      `peft config: "layers" has ${cfg.layers.length} flags but the backbone has ${dims.numLayers} layers; rebuild the config for this model`,
    );
  }
  const w = dims.attentionWidths;
  if (
    w !== undefined &&
    (!Array.isArray(w) || w.length !== dims.numLayers || !w.every((x) => Number.isInteger(x) && x > 0))
  ) {
    throw new PeftConfigError(
      `peft dims: "attentionWidths" must list ${dims.numLayers} positive integers (one per layer), got ${JSON.stringify(w)}`,
    );
  }
}

export function createPeft(cfg: PeftConfig, dims: BackboneDims, opts: CreatePeftOptions = {}): Peft {
  checkDims(cfg, dims);
  const mode = opts.mode ?? 'train';
  const dtype = opts.dtype ?? 'float32';
  const seed = opts.seed ?? 0;
  const methods = enabledMethods(cfg);
  const layers = activeLayers(cfg);
  const specs = mode === 'train' ? peftTensorSpecs(cfg, dims) : peftFoldedSpecs(cfg, dims);
  let source: ReadonlyMap<string, PeftTensor> = opts.weights ?? new Map();
  if (mode === 'frozen') {
    if (!opts.weights && specs.length > 0)
      throw new PeftConfigError('createPeft: mode "frozen" needs the saved PEFT weights (options.weights)');
    source = foldPeftWeights(cfg, dims, opts.weights ?? new Map());
  }
  const specNames = new Set(specs.map((s) => s.name));
  if (mode === 'train' && opts.weights) {
    for (const n of opts.weights.keys()) {
      if (n.startsWith('peft.') && !specNames.has(n))
        throw new PeftConfigError(
          `peft weights: '${n}' is not a tensor of this config (${describePeft(cfg)}); were they saved with another config?`,
        );
    }
  }
  for (const s of specs) {
    const t = source.get(s.name);
    if (!t) {
      if (mode === 'frozen')
        throw new PeftConfigError(`peft weights: missing '${s.name}'; were they saved with the same config?`);
      continue;
    }
    if (!fitsSpec(t, s)) {
      throw new PeftConfigError(
        `peft weights: '${s.name}' has shape [${t.shape.join(',')}], expected [${s.shape.join(',')}]; the weights belong to another config or model`,
      );
    }
  }

  const created = new Map<string, Value>();
  const params: Value[] = [];
  let graph: Graph | undefined;
  const tensor = (g: Graph, spec: TensorSpec): Value => {
    if (graph && graph !== g)
      throw new PeftConfigError(
        'createPeft: this Peft already built into another graph; call createPeft once per graph',
      );
    graph = g;
    const have = created.get(spec.name);
    if (have) return have;
    if (!specNames.has(spec.name))
      throw new Error(`createPeft: internal: '${spec.name}' is not a tensor of this config`);
    const given = source.get(spec.name);
    let data: Float32Array | Float64Array;
    if (given) data = dtype === 'float32' ? Float32Array.from(given.data) : Float64Array.from(given.data);
    else data = initTensor(spec, seed, dtype);
    const v = mode === 'train' ? g.param(spec.name, data, spec.shape) : g.constant(data, spec.shape, spec.name);
    created.set(spec.name, v);
    params.push(v);
    return v;
  };
  const ctxFor = (m: PeftMethod): MethodContext => ({ cfg, dims, size: cfg[m.id], mode, tensor, activeLayers: layers });
  const on = (l: number) => cfg.layers[l] === true;

  // Each method's fragment in turn on the sublayer's output; inactive layers pass it through.
  const chain =
    <C extends { layer: number; output: Value }>(
      ms: readonly PeftMethod[],
      step: (m: PeftMethod, ctx: C, mc: MethodContext) => Value,
    ) =>
    (ctx: C): Value =>
      on(ctx.layer) ? ms.reduce((out, m) => step(m, { ...ctx, output: out }, ctxFor(m)), ctx.output) : ctx.output;

  const hooks: EncoderHooks = {};
  const ffnMethods = methods.filter((m) => m.ffn);
  if (ffnMethods.length > 0) hooks.ffn = chain<FfnHookContext>(ffnMethods, (m, c, mc) => m.ffn!(c, mc));
  const projMethods = methods.filter((m) => m.projection);
  if (projMethods.length > 0)
    hooks.projection = chain<ProjectionHookContext>(projMethods, (m, c, mc) => m.projection!(c, mc));
  const prefixMethods = methods.filter((m) => m.prefix);
  if (prefixMethods.length > 1)
    throw new Error(`createPeft: two prefix methods (${prefixMethods.map((m) => m.id).join(', ')}) are not supported`);
  const pm = prefixMethods[0];
  if (pm) hooks.prefix = (layer: number, g: Graph) => (on(layer) ? pm.prefix!(layer, g, ctxFor(pm)) : undefined);

  return {
    config: cfg,
    dims,
    mode,
    hooks,
    specs,
    names: specs.map((s) => s.name),
    params,
    get graph() {
      return graph;
    },
    assertBuilt() {
      const missing = specs.filter((s) => !created.has(s.name)).map((s) => s.name);
      if (missing.length > 0)
        throw new Error(
          `createPeft: the backbone never created ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}: does it call every hook point?`,
        );
    },
  };
}

/**
 * The classification head of the BERT/RoBERTa builder (trained with the PEFT modules, as
 * adapter-transformers trains its prediction head): BERT `*.pooler.dense.*` + `classifier.*`,
 * RoBERTa `classifier.dense.*` + `classifier.out_proj.*`. Pass as `buildBert({trainable})`.
 * Also matches canonical (unprefixed) `pooler.*` names.
 */
export const isHeadWeight = (name: string): boolean =>
  name.startsWith('classifier') || /^((bert|roberta)\.)?pooler\./.test(name);
