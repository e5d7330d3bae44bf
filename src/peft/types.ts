/**
 * Types shared by the PEFT methods and `createPeft`. Methods depend only on the hook context types
 * of the backbone builder (BERT today, USE-lite later, same interface) and on `PeftDims`, never on
 * a backbone's weight names.
 */
import type { Graph, Value } from '../graph/ir.js';
import type { FfnHookContext, ProjectionHookContext } from '../models/bert/builder.js';
import type { PeftConfig } from './config.js';

export type PeftMethodId = 'sa' | 'pa' | 'pt' | 'lora';

/** The backbone dims a PEFT module needs. */
export interface PeftDims {
  numLayers: number;
  /** Hidden size H (the residual stream: SA/PA width, PT embedding width). */
  hidden: number;
  numHeads: number;
  /**
   * Width of each layer's attention (q/k/v projections: LoRA's A [r, w_l] and B [w_l, r]; prefix
   * rows [L, w_l]), one per layer. Default: `hidden` in every layer (BERT/RoBERTa). USE-lite: [256, 512].
   */
  attentionWidths?: readonly number[];
}

/** The attention width of `layer`: `dims.attentionWidths[layer]`, else `dims.hidden`. */
export function attentionWidth(dims: Pick<PeftDims, 'hidden' | 'attentionWidths'>, layer: number): number {
  return dims.attentionWidths?.[layer] ?? dims.hidden;
}

/** Every layer's attention width (`hidden` where `attentionWidths` is absent). */
export function attentionWidthsOf(dims: Pick<PeftDims, 'numLayers' | 'hidden' | 'attentionWidths'>): number[] {
  return Array.from({ length: dims.numLayers }, (_, l) => attentionWidth(dims, l));
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
  dims: PeftDims;
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
  tensors(cfg: PeftConfig, dims: PeftDims): TensorSpec[];
  /**
   * The paper's count for one active layer at size `size`; `attentionWidth` is that layer's
   * attention width (= `hidden` unless `PeftDims.attentionWidths` says otherwise): methods acting
   * inside attention (LoRA, PT) count with it, those on the residual stream (SA, PA) with `hidden`.
   */
  paperCountPerLayer(size: number, hidden: number, attentionWidth: number): number;
  /**
   * Tensors of the inference form (after `fold`); default: same as `tensors`.
   * PT: the folded key/value rows per active layer instead of the reparameterisation MLP.
   */
  foldedTensors?(cfg: PeftConfig, dims: PeftDims): TensorSpec[];
  /** Trained tensors -> inference tensors (pure math); absent means identity. */
  fold?(weights: ReadonlyMap<string, PeftTensor>, cfg: PeftConfig, dims: PeftDims): PeftWeights;
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
