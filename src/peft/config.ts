/**
 * The AutoPEFT configuration: which layers get modules, and one size per module type.
 *
 *   { layers: boolean[L], sa: D, pa: D, pt: L_prefix, lora?: r }
 *
 * sa = serial adapter bottleneck (after the FFN), pa = parallel adapter bottleneck (beside the FFN),
 * pt = prefix length (prefix-tuning keys/values), lora = LoRA rank on query and value; 0 = off.
 * Single-method baselines are special cases (e.g. all layers, only `sa`).
 *
 * The search room works on flat configs (`layer_0..layer_{L-1}`, `sa`, `pa`, `pt`, `lora`); the
 * functions below convert both ways.
 */
import { readFileSync, existsSync } from 'node:fs';
import type { Config } from '../search/types.js';

/** A PEFT configuration the user or the search got wrong: one line naming the field and the fix. */
export class PeftConfigError extends Error {
  override name = 'PeftConfigError';
  readonly userFacing = true;
}

export interface PeftConfig {
  /** One flag per transformer layer: does it get the modules? */
  layers: boolean[];
  /** Serial adapter bottleneck (0 = off). */
  sa: number;
  /** Parallel adapter bottleneck (0 = off). */
  pa: number;
  /** Prefix length (0 = off). */
  pt: number;
  /** LoRA rank on query and value (0 = off). */
  lora: number;
  /** Options of the modules (defaults as in the reference implementation). */
  options: PeftOptions;
}

export interface PeftOptions {
  /** Parallel adapter output scaling (reference: 4.0). */
  paScaling: number;
  /** Hidden size of prefix-tuning's reparameterisation MLP (reference: 800). */
  ptBottleneck: number;
  /** LoRA alpha (scaling = alpha / r). */
  loraAlpha: number;
}

export const DEFAULT_PEFT_OPTIONS: PeftOptions = { paScaling: 4, ptBottleneck: 800, loraAlpha: 16 };

const KNOWN_KEYS = new Set(['layers', 'sa', 'pa', 'pt', 'lora', 'paScaling', 'ptBottleneck', 'loraAlpha']);

function size(v: unknown, field: string, where: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new PeftConfigError(
      `${where}: "${field}" must be a non-negative integer (0 = off), got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/**
 * Parses a PEFT config from a JSON object. `layers` may be a boolean array of length `numLayers`,
 * a list of layer indices, or "all" (the default).
 */
export function parsePeftConfig(raw: unknown, numLayers: number, where = '--peft'): PeftConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new PeftConfigError(`${where}: expected a JSON object like {"sa": 16, "layers": "all"}`);
  }
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KNOWN_KEYS.has(k))
      throw new PeftConfigError(`${where}: unknown field "${k}" (known: ${[...KNOWN_KEYS].join(', ')})`);
  }
  let layers: boolean[];
  const l = o.layers;
  if (l === undefined || l === 'all') layers = Array.from({ length: numLayers }, () => true);
  else if (Array.isArray(l) && l.every((x) => typeof x === 'boolean')) {
    if (l.length !== numLayers)
      throw new PeftConfigError(`${where}: "layers" has ${l.length} flags but the model has ${numLayers} layers`);
    layers = l as boolean[];
  } else if (Array.isArray(l) && l.every((x) => typeof x === 'number')) {
    layers = Array.from({ length: numLayers }, () => false);
    for (const i of l as number[]) {
      if (!Number.isInteger(i) || i < 0 || i >= numLayers)
        throw new PeftConfigError(`${where}: layer index ${i} is out of range 0..${numLayers - 1}`);
      layers[i] = true;
    }
  } else
    throw new PeftConfigError(`${where}: "layers" must be "all", a list of layer indices, or ${numLayers} booleans`);
  const cfg: PeftConfig = {
    layers,
    sa: size(o.sa, 'sa', where),
    pa: size(o.pa, 'pa', where),
    pt: size(o.pt, 'pt', where),
    lora: size(o.lora, 'lora', where),
    options: {
      paScaling: typeof o.paScaling === 'number' ? o.paScaling : DEFAULT_PEFT_OPTIONS.paScaling,
      ptBottleneck:
        o.ptBottleneck === undefined ? DEFAULT_PEFT_OPTIONS.ptBottleneck : size(o.ptBottleneck, 'ptBottleneck', where),
      loraAlpha: typeof o.loraAlpha === 'number' ? o.loraAlpha : DEFAULT_PEFT_OPTIONS.loraAlpha,
    },
  };
  return cfg;
}

/** Reads `--peft` given as inline JSON or as a path to a JSON file. */
export function readPeftArg(arg: string, numLayers: number): PeftConfig {
  const trimmed = arg.trim();
  if (trimmed.startsWith('{')) {
    let raw: unknown;
    try {
      raw = JSON.parse(trimmed);
    } catch (e) {
      throw new PeftConfigError(
        `--peft: not valid JSON (${(e as Error).message}); quote it in the shell, e.g. --peft '{"sa":16}'`,
      );
    }
    return parsePeftConfig(raw, numLayers);
  }
  if (!existsSync(trimmed)) throw new PeftConfigError(`--peft: ${trimmed} is neither inline JSON nor an existing file`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(trimmed, 'utf8'));
  } catch (e) {
    throw new PeftConfigError(`${trimmed}: not valid JSON (${(e as Error).message})`);
  }
  return parsePeftConfig(raw, numLayers, trimmed);
}

/** True when no module is active anywhere (the frozen backbone + head). */
export function isNoop(cfg: PeftConfig): boolean {
  return !cfg.layers.some(Boolean) || (cfg.sa === 0 && cfg.pa === 0 && cfg.pt === 0 && cfg.lora === 0);
}

/** Flat search-space config -> PeftConfig. */
export function fromSearchConfig(
  c: Config,
  numLayers: number,
  options: PeftOptions = DEFAULT_PEFT_OPTIONS,
): PeftConfig {
  const num = (k: string) => (typeof c[k] === 'number' ? (c[k] as number) : 0);
  return {
    layers: Array.from({ length: numLayers }, (_, l) => c[`layer_${l}`] === true),
    sa: num('sa'),
    pa: num('pa'),
    pt: num('pt'),
    lora: num('lora'),
    options: { ...options },
  };
}

/** PeftConfig -> flat search-space config (`lora` only when on, so LoRA-less spaces match). */
export function toSearchConfig(cfg: PeftConfig): Config {
  const c: Config = {};
  cfg.layers.forEach((on, l) => {
    c[`layer_${l}`] = on;
  });
  c.sa = cfg.sa;
  c.pa = cfg.pa;
  c.pt = cfg.pt;
  if (cfg.lora > 0) c.lora = cfg.lora;
  return c;
}

/** Compact human form, e.g. "SA16 PA0 PT8 @ layers 0,2,3". */
export function describePeft(cfg: PeftConfig): string {
  const on = cfg.layers.flatMap((b, i) => (b ? [i] : []));
  const mods = [
    cfg.sa && `SA${cfg.sa}`,
    cfg.pa && `PA${cfg.pa}`,
    cfg.pt && `PT${cfg.pt}`,
    cfg.lora && `LoRA${cfg.lora}`,
  ].filter(Boolean);
  const layers = on.length === cfg.layers.length ? 'all layers' : `layers ${on.join(',')}`;
  return `${mods.join(' ') || 'no modules'} @ ${layers}`;
}
