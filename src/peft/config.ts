/**
 * The AutoPEFT configuration: which layers get modules, one size per module type, and the options
 * of the modules. This one structured form travels from the CLI (or the search space's encoding,
 * src/search/space/autopeft.ts) through the trial to the saved adapter and the results.
 *
 *   { layers: boolean[L], sa: D, pa: D, pt: L_prefix, lora: r, options: { paScaling, ptBottleneck, loraAlpha, saForm } }
 *
 * sa = serial adapter bottleneck (after the FFN), pa = parallel adapter bottleneck (beside the FFN),
 * pt = prefix length (prefix-tuning keys/values), lora = LoRA rank on query and value; 0 = off.
 * Single-method baselines are special cases (e.g. all layers, only `sa`).
 *
 * Every size is bounded by the model (`peftBounds`), so a typo cannot allocate gigabytes; every
 * key a user gives is either honoured or rejected with one line naming it (docs/peft.md).
 */
import { readFileSync, existsSync } from 'node:fs';

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

/**
 * Where the serial adapter reads and how it starts (docs/peft.md, "Serial adapter forms"):
 * - `houlsby` (default): transforms the FFN output h before the residual add and LayerNorm,
 *   LN(x + h' + A(h')) with h' the FFN output after the other FFN modules; no-op at init;
 * - `pfeiffer`: the reference implementation's (adapter-transformers' AutoPEFTConfig,
 *   original_ln_before=True): reads the frozen LayerNorm of (FFN output + residual) and is summed in
 *   parallel with the parallel adapter, LN(h + A_sa(LN(h + x)) + s·A_pa(x) + x); N(0, 0.02) init.
 */
export type SerialAdapterForm = 'houlsby' | 'pfeiffer';
export const SA_FORMS: readonly SerialAdapterForm[] = ['houlsby', 'pfeiffer'];

export interface PeftOptions {
  /** Parallel adapter output scaling (reference: 4.0). */
  paScaling: number;
  /** Hidden size of prefix-tuning's reparameterisation MLP (reference: 800; 0 = learn the rows directly). */
  ptBottleneck: number;
  /** LoRA alpha (scaling = alpha / r). */
  loraAlpha: number;
  /** The serial adapter's form (default 'houlsby'; the reference's is 'pfeiffer'). */
  saForm: SerialAdapterForm;
}

/** The numeric options (one rule each in OPTION_RULES). */
type NumericOptionKey = Exclude<keyof PeftOptions, 'saForm'>;

export type PeftSizeKey = 'sa' | 'pa' | 'pt' | 'lora';
export const PEFT_SIZE_KEYS: readonly PeftSizeKey[] = ['sa', 'pa', 'pt', 'lora'];

interface OptionRule {
  default: number;
  /** The allowed values, as the error message says them. */
  allowed: string;
  ok(x: number): boolean;
}

/** One row per option: a new option is a new row here (plus its use in the method). */
const OPTION_RULES: { readonly [K in NumericOptionKey]: OptionRule } = {
  paScaling: { default: 4, allowed: 'a finite number > 0', ok: (x) => Number.isFinite(x) && x > 0 },
  ptBottleneck: {
    default: 800,
    allowed: 'an integer >= 0 (0 = no reparameterisation MLP)',
    ok: (x) => Number.isInteger(x) && x >= 0,
  },
  loraAlpha: { default: 16, allowed: 'a finite number > 0', ok: (x) => Number.isFinite(x) && x > 0 },
};

const NUMERIC_OPTION_KEYS = Object.keys(OPTION_RULES) as readonly NumericOptionKey[];
export const PEFT_OPTION_KEYS: readonly (keyof PeftOptions)[] = [...NUMERIC_OPTION_KEYS, 'saForm'];

export const DEFAULT_PEFT_OPTIONS: Readonly<PeftOptions> = Object.freeze({
  paScaling: OPTION_RULES.paScaling.default,
  ptBottleneck: OPTION_RULES.ptBottleneck.default,
  loraAlpha: OPTION_RULES.loraAlpha.default,
  saForm: 'houlsby',
});

/** Widest serial/parallel adapter bottleneck, as a multiple of the hidden size (BERT's FFN is 4·H wide). */
export const MAX_BOTTLENECK_FACTOR = 4;
/** Widest prefix-tuning MLP: MAX_BOTTLENECK_FACTOR·H, or the reference 800 where that is larger. */
export const MIN_PT_BOTTLENECK_CAP = 800;

/** What the bounds of a config depend on: the backbone's dims and its longest input. */
export interface PeftModelLimits {
  numLayers: number;
  /** Hidden size H (the residual stream). */
  hidden: number;
  /** Attention width of each layer (LoRA and prefix rows live there); default H everywhere. */
  attentionWidths?: readonly number[] | undefined;
  /** Longest input the model takes, in tokens (special tokens included). */
  maxLength: number;
}

/**
 * The largest size each key may take on this model:
 * - sa, pa <= 4·H (a bottleneck as wide as BERT's FFN);
 * - pt <= max(H, maxLength) (a prefix no longer than the longest input, or than the search space's
 *   largest prefix H);
 * - lora <= the narrowest attention width among the active layers (a rank above the width is no
 *   low-rank update);
 * - ptBottleneck <= max(4·H, 800).
 */
export function peftBounds(
  m: PeftModelLimits,
  layers?: readonly boolean[],
): Record<PeftSizeKey | 'ptBottleneck', number> {
  const widths = Array.from({ length: m.numLayers }, (_, l) => m.attentionWidths?.[l] ?? m.hidden);
  const active = widths.filter((_, l) => layers === undefined || layers[l] === true);
  return {
    sa: MAX_BOTTLENECK_FACTOR * m.hidden,
    pa: MAX_BOTTLENECK_FACTOR * m.hidden,
    pt: Math.max(m.hidden, m.maxLength),
    lora: Math.min(...(active.length > 0 ? active : widths)),
    ptBottleneck: Math.max(MAX_BOTTLENECK_FACTOR * m.hidden, MIN_PT_BOTTLENECK_CAP),
  };
}

const BOUND_WHY: Record<PeftSizeKey | 'ptBottleneck', string> = {
  sa: `${MAX_BOTTLENECK_FACTOR} x the hidden size`,
  pa: `${MAX_BOTTLENECK_FACTOR} x the hidden size`,
  pt: "the larger of the hidden size and the model's longest input",
  lora: 'the attention width of the active layers',
  ptBottleneck: `the larger of ${MAX_BOTTLENECK_FACTOR} x the hidden size and ${MIN_PT_BOTTLENECK_CAP}`,
};

const SIZE_TEXT: Record<PeftSizeKey, string> = {
  sa: 'serial adapter bottleneck',
  pa: 'parallel adapter bottleneck',
  pt: 'prefix length',
  lora: 'LoRA rank',
};

const KNOWN_KEYS: readonly string[] = ['layers', ...PEFT_SIZE_KEYS, ...PEFT_OPTION_KEYS, 'options'];

const shown = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

function size(v: unknown, key: PeftSizeKey, where: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new PeftConfigError(
      `${where}: "${key}" must be a non-negative integer (${SIZE_TEXT[key]}; 0 = off), got ${shown(v)}`,
    );
  }
  return v;
}

function saForm(v: unknown, where: string): SerialAdapterForm {
  if (v === undefined) return DEFAULT_PEFT_OPTIONS.saForm;
  if (typeof v !== 'string' || !(SA_FORMS as readonly string[]).includes(v))
    throw new PeftConfigError(`${where}: "saForm" must be one of ${SA_FORMS.join(', ')}, got ${shown(v)}`);
  return v as SerialAdapterForm;
}

function option(v: unknown, key: NumericOptionKey, where: string): number {
  const rule = OPTION_RULES[key];
  if (v === undefined) return rule.default;
  if (typeof v !== 'number' || !rule.ok(v))
    throw new PeftConfigError(`${where}: "${key}" must be ${rule.allowed}, got ${shown(v)}`);
  return v;
}

function parseLayers(l: unknown, numLayers: number, where: string): boolean[] {
  if (l === undefined || l === 'all') return Array.from({ length: numLayers }, () => true);
  // [] is an empty list of indices (no layer), not a list of 0 flags.
  if (Array.isArray(l) && l.length > 0 && l.every((x) => typeof x === 'boolean')) {
    if (l.length !== numLayers)
      throw new PeftConfigError(`${where}: "layers" has ${l.length} flags but the model has ${numLayers} layers`);
    return [...(l as boolean[])];
  }
  if (Array.isArray(l) && l.every((x) => typeof x === 'number')) {
    const layers = Array.from({ length: numLayers }, () => false);
    for (const i of l as number[]) {
      if (!Number.isInteger(i) || i < 0 || i >= numLayers)
        throw new PeftConfigError(`${where}: "layers": layer index ${i} is out of range 0..${numLayers - 1}`);
      layers[i] = true;
    }
    return layers;
  }
  throw new PeftConfigError(`${where}: "layers" must be "all", a list of layer indices, or ${numLayers} booleans`);
}

/** The options given flat (`{"loraAlpha": 32}`) or nested (`{"options": {"loraAlpha": 32}}`, the recorded form). */
function optionsOf(o: Record<string, unknown>, where: string): Record<string, unknown> {
  const nested = o.options;
  if (nested === undefined) return o;
  if (typeof nested !== 'object' || nested === null || Array.isArray(nested))
    throw new PeftConfigError(`${where}: "options" must be an object with keys ${PEFT_OPTION_KEYS.join(', ')}`);
  const n = nested as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(n)) {
    if (!(PEFT_OPTION_KEYS as readonly string[]).includes(k))
      throw new PeftConfigError(`${where}: unknown option "options.${k}" (known: ${PEFT_OPTION_KEYS.join(', ')})`);
    if (o[k] !== undefined) throw new PeftConfigError(`${where}: "${k}" is given both flat and in "options"; keep one`);
    out[k] = n[k];
  }
  for (const k of PEFT_OPTION_KEYS) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/**
 * Checks a config's sizes against the model (`peftBounds`); one line naming the key and its bound.
 * Every trial runs it, whatever built the config.
 */
export function checkPeftBounds(cfg: PeftConfig, m: PeftModelLimits, where = '--peft'): void {
  const b = peftBounds(m, cfg.layers);
  for (const k of [...PEFT_SIZE_KEYS, 'ptBottleneck'] as const) {
    const v = k === 'ptBottleneck' ? cfg.options.ptBottleneck : cfg[k];
    if (v > b[k])
      throw new PeftConfigError(
        `${where}: "${k}" is ${v}, above this model's limit ${b[k]} (${BOUND_WHY[k]}); choose a value in 0..${b[k]}`,
      );
  }
}

/**
 * Parses a PEFT config from a JSON object. `layers` may be a boolean array of length `numLayers`,
 * a list of layer indices, or "all" (the default); sizes default to 0 (off), options to the
 * reference values. Given the model's limits (not just its layer count), sizes are bounded too.
 * Accepts its own output (options nested under "options"), so a recorded config can be re-run.
 */
export function parsePeftConfig(raw: unknown, model: number | PeftModelLimits, where = '--peft'): PeftConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new PeftConfigError(`${where}: expected a JSON object like {"sa": 16, "layers": "all"}, got ${shown(raw)}`);
  }
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KNOWN_KEYS.includes(k))
      throw new PeftConfigError(`${where}: unknown field "${k}" (known: ${KNOWN_KEYS.join(', ')})`);
  }
  const numLayers = typeof model === 'number' ? model : model.numLayers;
  const opts = optionsOf(o, where);
  const cfg: PeftConfig = {
    layers: parseLayers(o.layers, numLayers, where),
    sa: size(o.sa, 'sa', where),
    pa: size(o.pa, 'pa', where),
    pt: size(o.pt, 'pt', where),
    lora: size(o.lora, 'lora', where),
    options: {
      paScaling: option(opts.paScaling, 'paScaling', where),
      ptBottleneck: option(opts.ptBottleneck, 'ptBottleneck', where),
      loraAlpha: option(opts.loraAlpha, 'loraAlpha', where),
      saForm: saForm(opts.saForm, where),
    },
  };
  if (typeof model !== 'number') checkPeftBounds(cfg, model, where);
  return cfg;
}

/** Reads `--peft` given as inline JSON or as a path to a JSON file. */
export function readPeftArg(arg: string, model: number | PeftModelLimits): PeftConfig {
  const trimmed = arg.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let raw: unknown;
    try {
      raw = JSON.parse(trimmed);
    } catch (e) {
      throw new PeftConfigError(
        `--peft: not valid JSON (${(e as Error).message}); quote it in the shell, e.g. --peft '{"sa":16}'`,
      );
    }
    return parsePeftConfig(raw, model);
  }
  if (!existsSync(trimmed)) throw new PeftConfigError(`--peft: ${trimmed} is neither inline JSON nor an existing file`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(trimmed, 'utf8'));
  } catch (e) {
    throw new PeftConfigError(`${trimmed}: not valid JSON (${(e as Error).message})`);
  }
  return parsePeftConfig(raw, model, trimmed);
}

/** A config with no module (full fine-tuning trains the backbone instead). */
export function emptyPeftConfig(numLayers: number): PeftConfig {
  return parsePeftConfig({}, numLayers);
}

/** True when no module is active anywhere (the frozen backbone + head). */
export function isNoop(cfg: PeftConfig): boolean {
  return !cfg.layers.some(Boolean) || (cfg.sa === 0 && cfg.pa === 0 && cfg.pt === 0 && cfg.lora === 0);
}

/** Options that differ from the defaults and belong to an active module. */
function changedOptions(cfg: PeftConfig): string[] {
  const owner: Record<keyof PeftOptions, PeftSizeKey> = {
    paScaling: 'pa',
    ptBottleneck: 'pt',
    loraAlpha: 'lora',
    saForm: 'sa',
  };
  return PEFT_OPTION_KEYS.filter((k) => cfg[owner[k]] > 0 && cfg.options[k] !== DEFAULT_PEFT_OPTIONS[k]).map(
    (k) => `${k} ${cfg.options[k]}`,
  );
}

/** Compact human form, e.g. "SA16 PT8 @ layers 0,2,3" or "LoRA8 @ all layers (loraAlpha 64)". */
export function describePeft(cfg: PeftConfig): string {
  const on = cfg.layers.flatMap((b, i) => (b ? [i] : []));
  const mods = [
    cfg.sa && `SA${cfg.sa}`,
    cfg.pa && `PA${cfg.pa}`,
    cfg.pt && `PT${cfg.pt}`,
    cfg.lora && `LoRA${cfg.lora}`,
  ].filter(Boolean);
  const layers = on.length === cfg.layers.length ? 'all layers' : `layers ${on.join(',')}`;
  const opts = changedOptions(cfg);
  return `${mods.join(' ') || 'no modules'} @ ${layers}${opts.length > 0 ? ` (${opts.join(', ')})` : ''}`;
}
