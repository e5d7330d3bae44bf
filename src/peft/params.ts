/**
 * Parameter accounting for a PEFT config.
 *
 * - The paper's formula (AutoPEFT): per active layer l
 *   2·H·D_sa + 2·H·D_pa + 2·w_l·L_pt + 4·w_l·r_lora (SA/PA: down + up weights; PT: the key and
 *   value rows; LoRA: A and B of query and value; w_l = the layer's attention width, H unless
 *   `PeftDims.attentionWidths` says otherwise), as a % of the backbone without head.
 * - The exact trainable count: every tensor `createPeft` makes trainable (adapter biases, the PT
 *   reparameterisation MLP and its embedding) plus the head, whose size the caller passes.
 * - The inference count: the tensors of the exported form (PT folded into its rows).
 * docs/peft.md works an example through at BERT-base dims.
 */
import type { PeftConfig } from './config.js';
import { isHeadWeight, peftFoldedSpecs, peftTensorSpecs } from './create.js';
import { peftMethods } from './registry.js';
import { activeLayers, attentionWidth, shapeSize, type PeftDims, type PeftMethod, type PeftMethodId } from './types.js';

/** What the paper formula needs: the hidden size, or dims with per-layer attention widths. */
export type PaperDims = number | Pick<PeftDims, 'hidden' | 'attentionWidths'>;

const asDims = (d: PaperDims): Pick<PeftDims, 'hidden' | 'attentionWidths'> =>
  typeof d === 'number' ? { hidden: d } : d;

/** One method's paper count summed over the active layers (each at its own attention width). */
function methodPaperCount(m: PeftMethod, cfg: PeftConfig, dims: PaperDims): number {
  if (!(cfg[m.id] > 0)) return 0;
  const d = asDims(dims);
  return activeLayers(cfg).reduce((s, l) => s + m.paperCountPerLayer(cfg[m.id], d.hidden, attentionWidth(d, l)), 0);
}

/** The paper's tunable-parameter count (no biases, no PT MLP, no head). */
export function paperParamCount(cfg: PeftConfig, dims: PaperDims): number {
  return peftMethods().reduce((s, m) => s + methodPaperCount(m, cfg, dims), 0);
}

/**
 * 100 · paperParamCount / backboneParams: THE param-% function. The search space's known objective
 * (`paramPct` in src/search/space/autopeft.ts), every trial's result and so the report use it.
 */
export function paperParamPct(cfg: PeftConfig, dims: PaperDims, backboneParams: number): number {
  if (!(backboneParams > 0)) throw new Error(`paperParamPct: backboneParams must be > 0, got ${backboneParams}`);
  return (100 * paperParamCount(cfg, dims)) / backboneParams;
}

/**
 * The param-% denominator: `encoder` = the backbone without any head (ours); `with-pooler` = plus the
 * pooler (the reference's `model.num_parameters()`: 109,482,240 for BERT-base, ours 108,891,648).
 */
export type ParamDenominator = 'encoder' | 'with-pooler';
export const PARAM_DENOMINATORS: readonly ParamDenominator[] = ['encoder', 'with-pooler'];

/** The parameter count `paperParamPct` divides by under `d` (a backbone without a pooler: its encoder). */
export function paramDenominatorOf(
  b: { backboneParams: number; poolerParams?: number | undefined },
  d: ParamDenominator = 'encoder',
): number {
  return b.backboneParams + (d === 'with-pooler' ? (b.poolerParams ?? 0) : 0);
}

/** Trainable PEFT elements (training form: biases and the PT MLP included), without the head. */
export function exactPeftParamCount(cfg: PeftConfig, dims: PeftDims): number {
  return peftTensorSpecs(cfg, dims).reduce((s, t) => s + shapeSize(t.shape), 0);
}

/** Elements of the PEFT tensors in the exported model (PT folded into key/value rows). */
export function inferencePeftParamCount(cfg: PeftConfig, dims: PeftDims): number {
  return peftFoldedSpecs(cfg, dims).reduce((s, t) => s + shapeSize(t.shape), 0);
}

export interface PeftParamCounts {
  /** The paper's formula. */
  paper: number;
  /** 100 · paper / backboneParams. */
  paperPct: number;
  /** Trainable PEFT elements (training form). */
  peft: number;
  /** The head (as passed). */
  head: number;
  /** Exact trainable count = peft + head. */
  trainable: number;
  /** 100 · trainable / backboneParams. */
  trainablePct: number;
  /** PEFT elements in the exported model (PT folded). */
  inference: number;
  /** Per method: paper formula and exact trainable elements. */
  byMethod: Partial<Record<PeftMethodId, { paper: number; exact: number }>>;
}

export function peftParamCounts(
  cfg: PeftConfig,
  dims: PeftDims,
  opts: { backboneParams: number; headParams: number },
): PeftParamCounts {
  const nA = activeLayers(cfg).length;
  const byMethod: PeftParamCounts['byMethod'] = {};
  for (const m of peftMethods()) {
    if (cfg[m.id] === 0 || nA === 0) continue;
    byMethod[m.id] = {
      paper: methodPaperCount(m, cfg, dims),
      exact: m.tensors(cfg, dims).reduce((s, t) => s + shapeSize(t.shape), 0),
    };
  }
  const paper = paperParamCount(cfg, dims);
  const peft = exactPeftParamCount(cfg, dims);
  return {
    paper,
    paperPct: paperParamPct(cfg, dims, opts.backboneParams),
    peft,
    head: opts.headParams,
    trainable: peft + opts.headParams,
    trainablePct: (100 * (peft + opts.headParams)) / opts.backboneParams,
    inference: inferencePeftParamCount(cfg, dims),
    byMethod,
  };
}

type Shapes = ReadonlyMap<string, { readonly shape: readonly number[] }>;

/** Elements of every weight that is not the head (the paper's denominator). */
export function backboneParamCount(weights: Shapes, isHead: (name: string) => boolean = isHeadWeight): number {
  let n = 0;
  for (const [k, w] of weights) if (!isHead(k)) n += shapeSize(w.shape);
  return n;
}

/** Elements of the head weights. */
export function headParamCount(weights: Shapes, isHead: (name: string) => boolean = isHeadWeight): number {
  let n = 0;
  for (const [k, w] of weights) if (isHead(k)) n += shapeSize(w.shape);
  return n;
}
