/**
 * The recorded-trials table (bench/data/*.jsonl.gz): one JSON line per (configuration, seed) of a
 * real training run. Columns (see bench/data/README.md):
 *   key       configuration key, e.g. "L11-sa16-pa0-pt4" (layer mask bits, layer 0 first)
 *   layers    one boolean per layer; sa / pa / pt: module sizes (0 = off)
 *   seed      training seed (init, order, dropout); the validation carve is fixed across rows
 *   paramPct  the paper's tunable-parameter % (from the product's one formula)
 *   valN      validation examples (carved from train); devN: official dev examples
 *   curve     [{examples, val, sec}]: validation accuracy after `examples` training examples seen,
 *             and the wall seconds of training (evaluations excluded) up to that point
 *   dev       official dev accuracy after the last curve point (the top fidelity)
 *   sec       wall seconds of the whole row (training + every evaluation)
 *   rev       git revision of the code that recorded it
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { layerName } from '../../src/search/space/autopeft.js';
import type { Config } from '../../src/search/types.js';

export interface CurvePoint {
  examples: number;
  val: number;
  sec: number;
}

export interface TableRow {
  key: string;
  layers: boolean[];
  sa: number;
  pa: number;
  pt: number;
  seed: number;
  paramPct: number;
  valN: number;
  devN: number;
  curve: CurvePoint[];
  dev: number;
  sec: number;
  /** The git revision that recorded the row (`+dirty`: with uncommitted changes under src/). */
  rev?: string;
}

/** Rows grouped by configuration, with what the harness needs precomputed. */
export interface TableConfig {
  key: string;
  layers: boolean[];
  sa: number;
  pa: number;
  pt: number;
  paramPct: number;
  /** One row per recorded seed, in seed order. */
  rows: TableRow[];
  /** The truth samplers never see: mean official dev accuracy at the top fidelity over seeds. */
  truth: number;
}

export interface Table {
  configs: TableConfig[];
  byKey: Map<string, TableConfig>;
  /** The fidelities every row records (examples seen), ascending. */
  fidelities: number[];
  numLayers: number;
  /** Module sizes that occur in the table, ascending (0 included). */
  sizes: number[];
  seeds: number;
}

export function configKey(layers: readonly boolean[], sa: number, pa: number, pt: number): string {
  return `L${layers.map((b) => (b ? 1 : 0)).join('')}-sa${sa}-pa${pa}-pt${pt}`;
}

/** The layer mask of a flat search config (`layer_0 .. layer_{L-1}`). */
export function configLayers(c: Config, numLayers: number): boolean[] {
  return Array.from({ length: numLayers }, (_, l) => c[layerName(l)] === true);
}

/** The table key of a flat search config (`layer_i`, `sa`, `pa`, `pt`). */
export function keyOfConfig(c: Config, numLayers: number): string {
  return configKey(configLayers(c, numLayers), Number(c.sa), Number(c.pa), Number(c.pt));
}

export function parseRows(text: string, where: string): TableRow[] {
  const rows: TableRow[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let r: TableRow;
    try {
      r = JSON.parse(line) as TableRow;
    } catch {
      throw new Error(`${where}:${i + 1}: not JSON`);
    }
    if (typeof r.key !== 'string' || !Array.isArray(r.curve) || r.curve.length === 0 || !Number.isFinite(r.dev))
      throw new Error(`${where}:${i + 1}: a row needs key, curve and dev`);
    rows.push(r);
  });
  return rows;
}

export function readRows(path: string): TableRow[] {
  const raw = readFileSync(path);
  const text = path.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return parseRows(text, path);
}

/**
 * Groups rows into configurations. Only configurations with at least `minSeeds` rows, and only the
 * fidelities that every kept row recorded, are used, so every sampler sees the same problem.
 */
export function buildTable(rows: readonly TableRow[], minSeeds = 2): Table {
  const groups = new Map<string, TableRow[]>();
  for (const r of rows) {
    const g = groups.get(r.key) ?? [];
    if (!g.some((x) => x.seed === r.seed)) g.push(r);
    groups.set(r.key, g);
  }
  const configs: TableConfig[] = [];
  for (const [key, g] of groups) {
    if (g.length < minSeeds) continue;
    g.sort((a, b) => a.seed - b.seed);
    const r0 = g[0]!;
    const truth = g.reduce((s, r) => s + r.dev, 0) / g.length;
    configs.push({ key, layers: r0.layers, sa: r0.sa, pa: r0.pa, pt: r0.pt, paramPct: r0.paramPct, rows: g, truth });
  }
  if (configs.length === 0) throw new Error(`the table has no configuration with ${minSeeds} or more seeds`);
  configs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let fid: number[] | null = null;
  for (const c of configs)
    for (const r of c.rows) {
      const f = r.curve.map((p) => p.examples);
      fid = fid === null ? f : fid.filter((x) => f.includes(x));
    }
  const fidelities = (fid ?? []).sort((a, b) => a - b);
  const sizes = [...new Set(configs.flatMap((c) => [0, c.sa, c.pa, c.pt]))].sort((a, b) => a - b);
  const seeds = Math.min(...configs.map((c) => c.rows.length));
  return {
    configs,
    byKey: new Map(configs.map((c) => [c.key, c])),
    fidelities,
    numLayers: configs[0]!.layers.length,
    sizes,
    seeds,
  };
}

/** The validation accuracy of one recorded seed at a fidelity, and its training seconds. */
export function observe(row: TableRow, examples: number): CurvePoint {
  const p = row.curve.find((c) => c.examples === examples);
  if (!p) throw new Error(`row ${row.key} seed ${row.seed} has no point at ${examples} examples`);
  return p;
}
