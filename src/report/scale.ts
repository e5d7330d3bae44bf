/**
 * Axis scales with "nice" ticks. Pure: data range in, domain + ticks + a pixel mapping out.
 * The domain always covers the data (tests check every point lies inside the plot area).
 */
import { formatNumber } from './format.js';

export interface Scale {
  kind: 'linear' | 'log';
  /** Data-space interval drawn, [lo, hi], lo < hi; covers every value given to the constructor. */
  domain: [number, number];
  /** Pixel interval [start, end]; end < start for a y axis (SVG y grows downwards). */
  range: [number, number];
  /** Tick positions in data space, ascending, inside the domain. */
  ticks: number[];
  /** Data value -> pixel. */
  map(v: number): number;
  /** Tick label text. */
  label(v: number): string;
}

/** Rounds to 1, 2 or 5 x 10^k, the step humans read without effort. */
function niceStep(rough: number): number {
  const p = 10 ** Math.floor(Math.log10(rough));
  const f = rough / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/**
 * A linear scale whose domain is [min, max] padded by `pad` x span, then widened to whole ticks.
 * `integer` forces steps >= 1 (counts of trials). A zero-width range is widened around the value.
 */
export function linearScale(
  min: number,
  max: number,
  range: [number, number],
  opts: { targetTicks?: number; pad?: number; integer?: boolean } = {},
): Scale {
  const target = opts.targetTicks ?? 6;
  let lo = min;
  let hi = max;
  if (!(hi > lo)) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  const span = hi - lo;
  const pad = opts.pad ?? 0.04;
  lo -= span * pad;
  hi += span * pad;
  let step = niceStep((hi - lo) / target);
  if (opts.integer) step = Math.max(1, step);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  // NOTE: ticks are rounded to the step's decimals so 0.1 + 0.2 does not print as 0.30000000000000004.
  const round = (v: number): number => Number(v.toFixed(Math.min(decimals, 20)));
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(round(i * step));
  const domain: [number, number] = [Math.min(ticks[0], min), Math.max(ticks[ticks.length - 1], max)];
  const [r0, r1] = range;
  const map = (v: number): number => r0 + ((v - domain[0]) / (domain[1] - domain[0])) * (r1 - r0);
  return { kind: 'linear', domain, range, ticks, map, label: (v) => v.toFixed(Math.min(decimals, 20)) };
}

/**
 * A log10 scale for positive data: the domain is [min, max] padded by `pad` decades, ticks at
 * 10^k, plus 2 and 5 x 10^k when the domain spans fewer than 3 decades (so there are always >= 2).
 * Throws a RangeError for non-positive values; callers check first.
 */
export function logScale(min: number, max: number, range: [number, number], opts: { pad?: number } = {}): Scale {
  if (!(min > 0) || !(max > 0)) throw new RangeError(`log scale needs positive values, got [${min}, ${max}]`);
  let l0 = Math.log10(min);
  let l1 = Math.log10(max);
  if (!(l1 > l0)) {
    l0 -= 0.5;
    l1 += 0.5;
  }
  const pad = (opts.pad ?? 0.04) * (l1 - l0);
  l0 -= pad;
  l1 += pad;
  const decades = l1 - l0;
  const mult = decades < 1 ? [1, 2, 3, 5, 7] : decades < 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let k = Math.floor(l0); k <= Math.ceil(l1); k++) {
    for (const m of mult) {
      // Number(`${m}e${k}`) is exact where m * 10 ** k is not (3 * 10 ** -2 = 0.030000000000000002).
      const v = Number(`${m}e${k}`);
      const lv = Math.log10(v);
      if (lv >= l0 - 1e-12 && lv <= l1 + 1e-12) ticks.push(v);
    }
  }
  const domain: [number, number] = [10 ** l0, 10 ** l1];
  const [r0, r1] = range;
  const map = (v: number): number => r0 + ((Math.log10(v) - l0) / (l1 - l0)) * (r1 - r0);
  return { kind: 'log', domain, range, ticks, map, label: (v) => formatNumber(v, 3) };
}
