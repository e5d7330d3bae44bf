/**
 * Types shared by the PEFT methods and `createPeft`. Methods depend only on the models room's
 * backbone contract (src/models/types.ts: the `EncoderHooks` contexts and `BackboneDims`), never on
 * a backbone's weight names.
 */
import type { Graph, Value } from '../graph/ir.js';
import type { BackboneDims, FfnHookContext, ProjectionHookContext } from '../models/types.js';
import type { PeftConfig } from './config.js';

export type PeftMethodId = 'sa' | 'pa' | 'pt' | 'lora';

/**
 * The backbone dims a PEFT module needs: the models room's `BackboneDims` (one type; this name stays
 * for the modules that still spell it so).
 */
export type PeftDims = BackboneDims;

export { attentionWidth, attentionWidthsOf } from '../models/types.js';

/**
 * The layer whose input can be cached for `cfg` (frozen-prefix caching, `Backbone.layerCache`): the
 * lowest layer with a PEFT module (LoRA and prefix rows act inside that layer's attention, adapters
 * after its FFN: all above its input). A no-op config caches everything (numLayers: only the head
 * trains). No config (the head-only run has a no-op config, not none) or full fine-tuning: 0.
 */
export function cacheableLayer(cfg: PeftConfig | undefined, fullFineTune = false): number {
  if (fullFineTune || !cfg) return 0;
  const on = cfg.sa > 0 || cfg.pa > 0 || cfg.pt > 0 || cfg.lora > 0;
  if (!on) return cfg.layers.length;
  const k = cfg.layers.indexOf(true);
  return k < 0 ? cfg.layers.length : k;
}

/** How a fresh trainable tensor is initialised. */
export type TensorInit =
  | { kind: 'zeros' }
  | { kind: 'normal'; std: number }
  /** U(-bound, bound). */
  | { kind: 'uniform'; bound: number };

export interface TensorSpec {
  /** Full name, e.g. `peft.layer.3.sa.down.weight`. */
  name: string;
  shape: number[];
  init: TensorInit;
}

/** A tensor held in memory (row-major). */
export interface PeftTensor {
  data: Float32Array | Float64Array;
  shape: number[];
}

export type PeftWeights = Map<string, PeftTensor>;

/** What a method's hook fragment gets besides the backbone's hook context. */
export interface MethodContext {
  cfg: PeftConfig;
  dims: BackboneDims;
  /** The method's size in `cfg` (> 0: the method is only asked when on). */
  size: number;
  /** 'train': tensors are `g.param`s; 'frozen': constants from saved (folded) weights. */
  mode: 'train' | 'frozen';
  /** The tensor `spec` on `graph`: created on first use (param or constant per mode), then reused. */
  tensor(graph: Graph, spec: TensorSpec): Value;
  /** Active layers in increasing order. */
  activeLayers: readonly number[];
}

/**
 * One PEFT method. Registered once (each method folder calls `registerPeftMethod` on import).
 * `ffn` fragments compose in `order` (lower first) on the FFN output; `projection` fragments
 * wrap a projection's output; at most one method may provide `prefix`.
 */
export interface PeftMethod {
  id: PeftMethodId;
  title: string;
  /** Composition order of `ffn` fragments (lower = applied first). */
  order: number;
  /** Trainable tensors for the whole config (every active layer + shared ones), fresh init. */
  tensors(cfg: PeftConfig, dims: BackboneDims): TensorSpec[];
  /**
   * The paper's count for one active layer at size `size`; `attentionWidth` is that layer's
   * attention width (= `hidden` unless `BackboneDims.attentionWidths` says otherwise): methods acting
   * inside attention (LoRA, PT) count with it, those on the residual stream (SA, PA) with `hidden`.
   */
  paperCountPerLayer(size: number, hidden: number, attentionWidth: number): number;
  /**
   * Tensors of the inference form (after `fold`); default: same as `tensors`.
   * PT: the folded key/value rows per active layer instead of the reparameterisation MLP.
   */
  foldedTensors?(cfg: PeftConfig, dims: BackboneDims): TensorSpec[];
  /** Trained tensors -> inference tensors (pure math); absent means identity. */
  fold?(weights: ReadonlyMap<string, PeftTensor>, cfg: PeftConfig, dims: BackboneDims): PeftWeights;
  ffn?(ctx: FfnHookContext, m: MethodContext): Value;
  prefix?(layer: number, graph: Graph, m: MethodContext): { key: Value; value: Value } | undefined;
  projection?(ctx: ProjectionHookContext, m: MethodContext): Value;
}

export function activeLayers(cfg: PeftConfig): number[] {
  return cfg.layers.flatMap((on, l) => (on ? [l] : []));
}

/** `peft.layer.<l>.<method>.<rest>` */
export const layerTensorName = (layer: number, method: PeftMethodId, rest: string): string =>
  `peft.layer.${layer}.${method}.${rest}`;

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Whether `t` has exactly the shape of `spec` (and data to match). */
export function fitsSpec(t: PeftTensor, spec: TensorSpec): boolean {
  return (
    t.shape.length === spec.shape.length &&
    t.shape.every((d, i) => d === spec.shape[i]) &&
    t.data.length === shapeSize(spec.shape)
  );
}
