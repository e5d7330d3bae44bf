/**
 * The AutoPEFT search space (Zhou et al., TACL 2024) generalised to the model: one mask bit per
 * transformer layer (`layer_0 .. layer_{L-1}`) and one size per module: serial adapter bottleneck
 * `sa`, parallel adapter bottleneck `pa`, prefix length `pt`, each from {0, 1} ∪ {round(H / 2^k),
 * k = 0..8}; optionally a LoRA rank `lora` (q and v projections) from {0,1,2,4,8,16,32,64}.
 * 0 switches a module off. Valid iff at least one layer and at least one module is on.
 *
 * This file is the one place where the flat search encoding meets the PEFT room's structured
 * `PeftConfig` (`peftFromSearch` / `searchFromPeft`), and the known objective is the PEFT room's
 * one param-% function (`paperParamPct`).
 */
import { DEFAULT_PEFT_OPTIONS, type PeftConfig, type PeftOptions } from '../../peft/config.js';
import { paperParamPct, paramDenominatorOf, type ParamDenominator } from '../../peft/params.js';
import type { Config, ObjectiveSpec } from '../types.js';
import { SearchSpaceError } from './errors.js';
import { SearchSpace, type ParamDef } from './space.js';

export interface AutopeftModel {
  /** Number of transformer layers L. */
  numLayers: number;
  /** Hidden size H. */
  hidden: number;
}

export interface AutopeftSpaceOptions extends AutopeftModel {
  /** Add a LoRA rank dimension (q and v projections). */
  lora?: boolean;
  /** Attention width of each layer; LoRA ranks above the narrowest are left out (default: hidden). */
  attentionWidths?: readonly number[];
  /**
   * Restrict sa / pa / pt to these sizes (strictly increasing, each in `autopeftSizes(hidden)`; include
   * 0 to let a module be off), e.g. the reduced grid of the recorded-trials benchmark. Default: all.
   */
  sizes?: readonly number[];
}

export const LORA_RANKS: readonly number[] = [0, 1, 2, 4, 8, 16, 32, 64];

/** {0, 1} ∪ {round(H / 2^k), k = 0..8}, sorted, unique. For H = 768: 0,1,3,6,12,24,48,96,192,384,768. */
export function autopeftSizes(hidden: number): number[] {
  const s = new Set<number>([0, 1]);
  for (let k = 0; k <= 8; k++) s.add(Math.round(hidden / 2 ** k));
  return [...s].sort((a, b) => a - b);
}

export const layerName = (l: number): string => `layer_${l}`;
const MODULES = ['sa', 'pa', 'pt'] as const;

function checkModel(m: AutopeftModel & { attentionWidths?: readonly number[] | undefined }, where: string): void {
  if (!Number.isInteger(m.numLayers) || m.numLayers < 1) {
    throw new SearchSpaceError(`${where}: numLayers must be a positive integer, got ${m.numLayers}`);
  }
  if (!Number.isInteger(m.hidden) || m.hidden < 1) {
    throw new SearchSpaceError(`${where}: hidden must be a positive integer, got ${m.hidden}`);
  }
  const w = m.attentionWidths;
  if (w !== undefined && (w.length !== m.numLayers || !w.every((x) => Number.isInteger(x) && x > 0))) {
    throw new SearchSpaceError(
      `${where}: attentionWidths must list ${m.numLayers} positive integers (one per layer), got [${w.join(',')}]`,
    );
  }
}

function checkSizes(sizes: readonly number[], hidden: number): number[] {
  const allowed = autopeftSizes(hidden);
  const bad = sizes.find((v, i) => !allowed.includes(v) || (i > 0 && v <= sizes[i - 1]!));
  if (sizes.length === 0 || bad !== undefined)
    throw new SearchSpaceError(
      `autopeftSpace: sizes must be strictly increasing values from {${allowed.join(', ')}} (the AutoPEFT sizes for hidden ${hidden}), got [${sizes.join(', ')}]`,
    );
  return [...sizes];
}

/** The AutoPEFT space: L + 3 (+1 with LoRA) params; 15-dim for 12 layers, 27-dim for 24. */
export function autopeftSpace(opts: AutopeftSpaceOptions): SearchSpace {
  checkModel(opts, 'autopeftSpace');
  const sizes = opts.sizes ? checkSizes(opts.sizes, opts.hidden) : autopeftSizes(opts.hidden);
  const params: ParamDef[] = [];
  for (let l = 0; l < opts.numLayers; l++) params.push({ kind: 'bool', name: layerName(l) });
  for (const m of MODULES) params.push({ kind: 'int', name: m, values: sizes });
  // A rank above the attention width is no low-rank update (and `peftBounds` rejects it).
  const widest = Math.min(opts.hidden, ...(opts.attentionWidths ?? []));
  if (opts.lora) params.push({ kind: 'int', name: 'lora', values: LORA_RANKS.filter((r) => r <= widest) });
  const L = opts.numLayers;
  const withLora = !!opts.lora;
  return new SearchSpace(params, {
    constraint: (c) => {
      let anyLayer = false;
      for (let l = 0; l < L; l++)
        if (c[layerName(l)] === true) {
          anyLayer = true;
          break;
        }
      if (!anyLayer) return false;
      return (
        (c.sa as number) > 0 || (c.pa as number) > 0 || (c.pt as number) > 0 || (withLora && (c.lora as number) > 0)
      );
    },
    constraintText: 'the AutoPEFT rule (at least one layer_i true and at least one of sa/pa/pt/lora > 0)',
  });
}

export interface ParamPctModel extends AutopeftModel {
  /** Parameter count of the frozen backbone (the paper's denominator). */
  backboneParams: number;
  /**
   * Attention width of each layer (where PT rows and LoRA live), one per layer; default `hidden`
   * everywhere. USE-lite: [256, 512] (its layer 0 attends at 256 on a 512-wide stream).
   */
  attentionWidths?: readonly number[] | undefined;
  /** Parameters of the pooler outside `backboneParams` (BERT/RoBERTa: H·H + H); default none. */
  poolerParams?: number | undefined;
  /** `with-pooler` divides by backboneParams + poolerParams (the reference's); default `encoder`. */
  paramDenominator?: ParamDenominator | undefined;
}

/** Flat search config (`layer_i`, `sa`, `pa`, `pt`, `lora`) -> the structured PeftConfig trials train. */
export function peftFromSearch(
  c: Config,
  numLayers: number,
  options: Readonly<PeftOptions> = DEFAULT_PEFT_OPTIONS,
): PeftConfig {
  const num = (k: string): number => {
    const v = c[k];
    return typeof v === 'number' ? v : 0;
  };
  return {
    layers: Array.from({ length: numLayers }, (_, l) => c[layerName(l)] === true),
    sa: num('sa'),
    pa: num('pa'),
    pt: num('pt'),
    lora: num('lora'),
    options: { ...options },
  };
}

/** PeftConfig -> flat search config (`lora` only when on, so LoRA-less spaces match; options are not searched). */
export function searchFromPeft(cfg: PeftConfig): Config {
  const c: Config = {};
  cfg.layers.forEach((on, l) => {
    c[layerName(l)] = on;
  });
  c.sa = cfg.sa;
  c.pa = cfg.pa;
  c.pt = cfg.pt;
  if (cfg.lora > 0) c.lora = cfg.lora;
  return c;
}

/**
 * The paper's tunable-parameter percentage of a flat search config: the PEFT room's
 * `paperParamPct` (per active layer l: 2·H·D_sa + 2·H·D_pa + 2·w_l·L_pt + 4·w_l·r_lora, w_l = the
 * layer's attention width) over `backboneParams` (+ `poolerParams` with `paramDenominator: 'with-pooler'`,
 * the PEFT room's `paramDenominatorOf`, which trials use too). Biases and the PT MLP are not counted (as in the paper).
 */
export function paramPct(config: Config, model: ParamPctModel): number {
  checkModel(model, 'paramPct');
  if (!(model.backboneParams > 0)) throw new SearchSpaceError('paramPct: backboneParams must be > 0');
  return paperParamPct(
    peftFromSearch(config, model.numLayers),
    model,
    paramDenominatorOf(model, model.paramDenominator),
  );
}

/** The AutoPEFT objectives: the dev metric (maximised, unknown) and param % (minimised, known). */
export function autopeftObjectives(model: ParamPctModel, metricName = 'metric'): ObjectiveSpec[] {
  return [
    { name: metricName, direction: 'maximize' },
    { name: 'paramPct', direction: 'minimize', known: (c) => paramPct(c, model) },
  ];
}
