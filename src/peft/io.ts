/**
 * Saving and loading a trained adapter: a folder with
 *   autopeft_adapter.safetensors   every PEFT tensor (training form, F32) + the head's weights
 *   autopeft_adapter.json          the PeftConfig, the backbone (id, dims), the head, versions
 * Loading returns the same tensors (bit-identical F32) and the parsed config; build with
 * `createPeft(config, dims, { mode: 'frozen', weights })` (or 'train' to continue training).
 * Folders written before the rename (`adapter_config.json` + `adapter_model.safetensors`, HF PEFT's
 * file names, which a PEFT loader then misread) still load; `--format peft` writes PEFT's own files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors, writeSafetensors, type WritableTensor } from '../models/io/safetensors.js';
import { parsePeftConfig, type PeftConfig } from './config.js';
import { checkDims, peftTensorSpecs } from './create.js';
import { activeLayers, attentionWidthsOf, fitsSpec, type PeftTensor, type PeftWeights } from './types.js';
import { type BackboneDims, PAIR_ENCODINGS, PAIR_HEADS, type PairEncoding, type PairHead } from '../models/types.js';

export const ADAPTER_CONFIG_FILE = 'autopeft_adapter.json';
export const ADAPTER_WEIGHTS_FILE = 'autopeft_adapter.safetensors';
/** The names used before the rename (they are HF PEFT's); read, never written. */
export const LEGACY_ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const LEGACY_ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
export const ADAPTER_FORMAT = 'autopeft-adapter';
export const ADAPTER_FORMAT_VERSION = 1;

/** A saved adapter folder is missing, malformed, or does not match its config: one line with the fix. */
export class PeftFileError extends Error {
  override name = 'PeftFileError';
  readonly userFacing = true;
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

export interface AdapterBackbone {
  /** Model id as the user gave it (hub id, folder, or 'use-lite'). */
  id: string;
  /** e.g. 'bert', 'roberta', 'use-lite'. */
  type?: string;
  dims: BackboneDims;
}

export interface AdapterHead {
  kind: 'classification' | 'regression';
  numLabels: number;
  /** Label names in logit order, when known. */
  labels?: string[];
  /** How the adapter encodes sentence pairs (absent: `cross`, one sequence). */
  pairEncoding?: PairEncoding;
  /** The siamese head over both texts' vectors (with `pairEncoding: 'siamese'`). */
  pairHead?: PairHead;
}

export interface AdapterConfigJson {
  format: typeof ADAPTER_FORMAT;
  formatVersion: number;
  autopeftVersion: string;
  peft: { layers: boolean[]; sa: number; pa: number; pt: number; lora: number; options: PeftConfig['options'] };
  backbone: AdapterBackbone;
  head?: AdapterHead;
  /** Names of the head tensors stored beside the PEFT tensors. */
  headWeights: string[];
  task?: string;
  /** Free-form extras (metrics, training args); kept as given. */
  extra?: Record<string, unknown>;
}

export interface SavedAdapter {
  config: PeftConfig;
  backbone: AdapterBackbone;
  head?: AdapterHead | undefined;
  task?: string | undefined;
  /** PEFT tensors (names `peft.*`). */
  weights: PeftWeights;
  /** Head tensors by backbone name (e.g. `classifier.weight`). */
  headWeights: PeftWeights;
  extra?: Record<string, unknown> | undefined;
}

let cachedVersion: string | undefined;
/** The version in autopeft's package.json (looked up from this file's folder upwards). */
export function autopeftVersion(): string {
  if (cachedVersion) return cachedVersion;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const j = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (j.name === 'autopeft' && j.version) return (cachedVersion = j.version);
    }
    dir = dirname(dir);
  }
  return (cachedVersion = 'unknown');
}

function checkTensors(
  file: string,
  cfg: PeftConfig,
  dims: BackboneDims,
  weights: ReadonlyMap<string, PeftTensor>,
): void {
  for (const s of peftTensorSpecs(cfg, dims)) {
    const t = weights.get(s.name);
    if (!t)
      throw new PeftFileError(
        file,
        `${file}: missing PEFT tensor '${s.name}' required by its config; the weights and ${ADAPTER_CONFIG_FILE} do not belong together`,
      );
    if (!fitsSpec(t, s)) {
      throw new PeftFileError(
        file,
        `${file}: '${s.name}' has shape [${t.shape.join(',')}], its config needs [${s.shape.join(',')}]`,
      );
    }
  }
}

/** Writes `dir/autopeft_adapter.safetensors` + `dir/autopeft_adapter.json` (creates `dir`). */
export async function savePeftAdapter(dir: string, a: SavedAdapter): Promise<void> {
  checkDims(a.config, a.backbone.dims);
  checkTensors(join(dir, ADAPTER_WEIGHTS_FILE), a.config, a.backbone.dims, a.weights);
  const names = new Set(peftTensorSpecs(a.config, a.backbone.dims).map((s) => s.name));
  const tensors = new Map<string, WritableTensor>();
  // NOTE: stored as F32 (the training dtype); float64 values are rounded once here.
  const f32 = (t: PeftTensor) => ({
    data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data),
    shape: t.shape,
  });
  for (const n of names) tensors.set(n, f32(a.weights.get(n)!));
  for (const [n, t] of a.headWeights) {
    if (n.startsWith('peft.'))
      throw new PeftFileError(dir, `savePeftAdapter: head weight '${n}' uses the reserved 'peft.' prefix`);
    tensors.set(n, f32(t));
  }
  const json: AdapterConfigJson = {
    format: ADAPTER_FORMAT,
    formatVersion: ADAPTER_FORMAT_VERSION,
    autopeftVersion: autopeftVersion(),
    peft: {
      layers: [...a.config.layers],
      sa: a.config.sa,
      pa: a.config.pa,
      pt: a.config.pt,
      lora: a.config.lora,
      options: { ...a.config.options },
    },
    backbone: a.backbone,
    ...(a.head ? { head: a.head } : {}),
    headWeights: [...a.headWeights.keys()],
    ...(a.task ? { task: a.task } : {}),
    ...(a.extra ? { extra: a.extra } : {}),
  };
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, ADAPTER_WEIGHTS_FILE), tensors, { format: 'pt', autopeft: ADAPTER_FORMAT });
  await writeFile(join(dir, ADAPTER_CONFIG_FILE), `${JSON.stringify(json, null, 2)}\n`);
}

const isPosInt = (x: unknown): boolean => typeof x === 'number' && Number.isInteger(x) && x > 0;

function isDims(d: unknown): d is BackboneDims {
  if (typeof d !== 'object' || d === null) return false;
  const o = d as Record<string, unknown>;
  if (![o.numLayers, o.hidden, o.numHeads].every(isPosInt)) return false;
  // Optional per-layer attention widths (absent: `hidden` in every layer).
  return (
    o.attentionWidths === undefined ||
    (Array.isArray(o.attentionWidths) && o.attentionWidths.length === o.numLayers && o.attentionWidths.every(isPosInt))
  );
}

/**
 * Throws unless the adapter was trained on a backbone with these dims (one line for the CLI).
 * Per-layer attention widths are compared when the adapter records them, or when its config has
 * LoRA or prefix-tuning (whose tensors are sized by them); an SA/PA adapter does not depend on them.
 */
export function checkAdapterBackbone(
  a: Pick<SavedAdapter, 'backbone'> & { config?: PeftConfig },
  dims: BackboneDims,
  where = ADAPTER_CONFIG_FILE,
): void {
  const d = a.backbone.dims;
  if (d.numLayers !== dims.numLayers || d.hidden !== dims.hidden || d.numHeads !== dims.numHeads) {
    throw new PeftFileError(
      where,
      `${where}: the adapter was trained on '${a.backbone.id}' (${d.numLayers} layers, hidden ${d.hidden}, ${d.numHeads} heads) but the model has ${dims.numLayers} layers, hidden ${dims.hidden}, ${dims.numHeads} heads; use the same --model`,
    );
  }
  const cfg = a.config;
  const sized =
    d.attentionWidths !== undefined || !cfg || ((cfg.lora > 0 || cfg.pt > 0) && activeLayers(cfg).length > 0);
  const aw = attentionWidthsOf(d);
  const mw = attentionWidthsOf(dims);
  if (sized && aw.some((w, l) => w !== mw[l])) {
    // Name the first tensor that does not fit, when the config is known.
    const want = cfg ? new Map(peftTensorSpecs(cfg, dims).map((t) => [t.name, t.shape])) : new Map<string, number[]>();
    const bad = cfg ? peftTensorSpecs(cfg, d).find((t) => want.get(t.name)?.join() !== t.shape.join()) : undefined;
    const tensor = bad
      ? ` ('${bad.name}' is [${bad.shape.join(',')}], the model needs [${want.get(bad.name)?.join(',')}])`
      : '';
    throw new PeftFileError(
      where,
      `${where}: the adapter (trained on '${a.backbone.id}') has attention widths [${aw.join(',')}] per layer but the model attends at [${mw.join(',')}]${tensor}; adapters saved before per-layer widths must be retrained`,
    );
  }
}

/** The config and weights files of an adapter folder: the current names, else the pre-rename ones. */
export function adapterFiles(dir: string): { config: string; weights: string } {
  const current = { config: join(dir, ADAPTER_CONFIG_FILE), weights: join(dir, ADAPTER_WEIGHTS_FILE) };
  if (existsSync(current.config)) return current;
  const legacy = { config: join(dir, LEGACY_ADAPTER_CONFIG_FILE), weights: join(dir, LEGACY_ADAPTER_WEIGHTS_FILE) };
  if (!existsSync(legacy.config)) return current;
  // A PEFT/AdapterHub adapter_config.json is not ours: say so instead of a schema error.
  let format: unknown;
  try {
    format = (JSON.parse(readFileSync(legacy.config, 'utf8')) as { format?: unknown }).format;
  } catch {
    return legacy; // reported as invalid JSON by the loader
  }
  if (format !== ADAPTER_FORMAT)
    throw new PeftFileError(
      legacy.config,
      `${legacy.config}: an HF PEFT or AdapterHub adapter, not an autopeft adapter (no ${ADAPTER_CONFIG_FILE}); load it with that library, or point at a folder written by 'autopeft train --out'`,
    );
  return legacy;
}

/** Reads a folder written by `savePeftAdapter` (or one saved before the file rename). */
export async function loadPeftAdapter(dir: string): Promise<SavedAdapter> {
  const { config: cfgFile, weights: wFile } = adapterFiles(dir);
  if (!existsSync(cfgFile))
    throw new PeftFileError(cfgFile, `${cfgFile}: not found; point at a folder written by 'autopeft train --out'`);
  if (!existsSync(wFile)) throw new PeftFileError(wFile, `${wFile}: not found; the adapter folder is incomplete`);
  let json: AdapterConfigJson;
  try {
    json = JSON.parse(await readFile(cfgFile, 'utf8')) as AdapterConfigJson;
  } catch (e) {
    throw new PeftFileError(cfgFile, `${cfgFile}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || json.format !== ADAPTER_FORMAT)
    throw new PeftFileError(
      cfgFile,
      `${cfgFile}: "format" must be "${ADAPTER_FORMAT}"; not an autopeft adapter config`,
    );
  if (json.formatVersion !== ADAPTER_FORMAT_VERSION)
    throw new PeftFileError(
      cfgFile,
      `${cfgFile}: "formatVersion" ${json.formatVersion} is not supported (expected ${ADAPTER_FORMAT_VERSION}); upgrade autopeft`,
    );
  if (!json.backbone || typeof json.backbone.id !== 'string' || !isDims(json.backbone.dims)) {
    throw new PeftFileError(
      cfgFile,
      `${cfgFile}: "backbone" must be {"id": string, "dims": {"numLayers", "hidden", "numHeads", optional "attentionWidths" (one per layer)}}`,
    );
  }
  const h = json.head;
  if (h?.pairEncoding !== undefined && !PAIR_ENCODINGS.includes(h.pairEncoding))
    throw new PeftFileError(cfgFile, `${cfgFile}: "head.pairEncoding" must be one of ${PAIR_ENCODINGS.join(', ')}`);
  if (h?.pairHead !== undefined && !PAIR_HEADS.includes(h.pairHead))
    throw new PeftFileError(cfgFile, `${cfgFile}: "head.pairHead" must be one of ${PAIR_HEADS.join(', ')}`);
  const dims = json.backbone.dims;
  const p = json.peft;
  if (typeof p !== 'object' || p === null) throw new PeftFileError(cfgFile, `${cfgFile}: "peft" is missing`);
  const config = parsePeftConfig(
    { layers: p.layers, sa: p.sa, pa: p.pa, pt: p.pt, lora: p.lora, ...(p.options ?? {}) },
    dims.numLayers,
    `${cfgFile} "peft"`,
  );
  const { tensors } = await readSafetensors(wFile);
  const weights: PeftWeights = new Map();
  const headWeights: PeftWeights = new Map();
  for (const [n, t] of tensors) {
    if (!(t.data instanceof Float32Array))
      throw new PeftFileError(wFile, `${wFile}: tensor '${n}' is ${t.dtype}, expected a float tensor`);
    (n.startsWith('peft.') ? weights : headWeights).set(n, { data: t.data, shape: t.shape });
  }
  checkTensors(wFile, config, dims, weights);
  for (const n of json.headWeights ?? [])
    if (!headWeights.has(n))
      throw new PeftFileError(wFile, `${wFile}: head tensor '${n}' listed in ${basename(cfgFile)} is missing`);
  return { config, backbone: json.backbone, head: json.head, task: json.task, weights, headWeights, extra: json.extra };
}
