/**
 * Text formatting shared by the SVG, Markdown and HTML writers: escaping, numbers a person can read
 * (no 0.30000000000000004, no 1e-7 in a table), durations, and the AutoPEFT config read-out.
 */
import type { Config } from './types.js';

/** Escapes text for XML/HTML element content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/**
 * Escapes text for a Markdown table cell or heading: pipes and newlines would break the row, and
 * `<`/`>` would let a name (a study, a task) inject raw HTML into the rendered page.
 */
export function escapeMdCell(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/**
 * `sig` significant digits, trailing zeros dropped, never exponent notation for |v| in [1e-6, 1e9).
 * formatNumber(0.1 + 0.2) = "0.3"; formatNumber(0.0012345) = "0.001235"; formatNumber(123456) = "123456".
 */
export function formatNumber(v: number, sig = 4): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e9 || a < 1e-6) return v.toExponential(sig - 1).replace(/\.?0+e/, 'e');
  const digits = Math.floor(Math.log10(a));
  // Integers part never rounded away: 123456 stays 123456 even with sig = 4.
  const decimals = Math.max(0, sig - 1 - digits);
  let s = v.toFixed(Math.min(decimals, 20));
  if (s.includes('.')) s = s.replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}

/** A parameter percentage: 3 significant digits, at least 2 decimals below 10 %: "0.0412", "1.25", "12.5". */
export function formatPct(v: number): string {
  return formatNumber(v, 3);
}

/** Milliseconds as "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${formatNumber(s, 3)} s`;
  const totalS = Math.round(s);
  if (totalS < 3600) return `${Math.floor(totalS / 60)} min ${String(totalS % 60).padStart(2, '0')} s`;
  const totalMin = Math.round(totalS / 60);
  return `${Math.floor(totalMin / 60)} h ${String(totalMin % 60).padStart(2, '0')} min`;
}

/** The AutoPEFT reading of a config; `layers` is null when the config has no `layer_i` keys. */
export interface PlacementInfo {
  /** Layer mask, index = layer; null for configs without `layer_i` keys. */
  layers: boolean[] | null;
  sa: number;
  pa: number;
  pt: number;
  /** LoRA rank, or null when the config has no `lora` key. */
  lora: number | null;
  /** Keys that are not part of the AutoPEFT space, shown as is. */
  other: [string, string][];
}

const LAYER_KEY = /^layer_(\d+)$/;
const MODULE_KEYS = new Set(['sa', 'pa', 'pt', 'lora']);

/** Splits a config into the AutoPEFT mask/sizes and everything else. Missing sizes read as 0 (off). */
export function placement(config: Config): PlacementInfo {
  let maxLayer = -1;
  const other: [string, string][] = [];
  for (const [k, v] of Object.entries(config)) {
    const m = LAYER_KEY.exec(k);
    if (m) maxLayer = Math.max(maxLayer, Number(m[1]));
    else if (!MODULE_KEYS.has(k)) other.push([k, String(v)]);
  }
  const layers = maxLayer < 0 ? null : Array.from({ length: maxLayer + 1 }, (_, l) => config[`layer_${l}`] === true);
  const num = (k: string): number => {
    const v = config[k];
    return typeof v === 'number' && Number.isFinite(v) ? v : 0;
  };
  return { layers, sa: num('sa'), pa: num('pa'), pt: num('pt'), lora: 'lora' in config ? num('lora') : null, other };
}

/** Active layers as compact ranges: [T,T,F,T,T,T] -> "0-1, 3-5"; none -> "none". */
export function layerRanges(mask: readonly boolean[]): string {
  const parts: string[] = [];
  let l = 0;
  while (l < mask.length) {
    if (!mask[l]) {
      l++;
      continue;
    }
    let e = l;
    while (e + 1 < mask.length && mask[e + 1]) e++;
    parts.push(e === l ? `${l}` : `${l}-${e}`);
    l = e + 1;
  }
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/** "SA 48 · PT 6 · LoRA 8" (modules that are on), or "no module" when all are off. */
export function modulesText(p: PlacementInfo): string {
  const parts: string[] = [];
  if (p.sa > 0) parts.push(`SA ${p.sa}`);
  if (p.pa > 0) parts.push(`PA ${p.pa}`);
  if (p.pt > 0) parts.push(`PT ${p.pt}`);
  if (p.lora !== null && p.lora > 0) parts.push(`LoRA ${p.lora}`);
  return parts.length === 0 ? 'no module' : parts.join(' · ');
}

/** Cuts `s` to `n` characters with an ellipsis. */
export function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/** "1 trial", "3 trials"; `plural` defaults to word + "s". */
export function count(n: number, word: string, plural = `${word}s`): string {
  return `${n} ${n === 1 ? word : plural}`;
}

/** "a–b", or just "a" when both ends print the same. */
export function span(a: string, b: string): string {
  return a === b ? a : `${a}–${b}`;
}
