/**
 * SVG plots of the recorded-trials benchmark (`bench:search-real -- --svg DIR`), drawn with the
 * report room's SVG helpers: the samplers' hypervolume curves (per evaluation and per unit of
 * compute), how each fidelity ranks configurations, and the table itself (true score vs param %).
 */
import { PALETTE, axes, el, heading, marker, svgRoot, text, type Frame } from '../../src/report/svg.js';
import { linearScale, logScale } from '../../src/report/scale.js';
import { paretoFrontIndices } from '../../src/search/pareto/pareto.js';
import { hvAt, quantile, type RunTrace } from './simulate.js';
import type { Table } from './table.js';

const COLORS = [
  PALETTE.black,
  PALETTE.orange,
  PALETTE.blue,
  PALETTE.vermillion,
  PALETTE.green,
  PALETTE.purple,
  PALETTE.skyBlue,
  PALETTE.grey,
  PALETTE.yellow,
];
const W = 780;
const H = 420;
const FRAME: Frame = { left: 70, top: 56, width: 440, height: 300 };

function legend(names: readonly string[], x: number, y: number, colors: readonly string[] = COLORS): string {
  return names
    .map((n, i) =>
      el(
        'g',
        {},
        el('line', {
          x1: x,
          y1: y + i * 18,
          x2: x + 22,
          y2: y + i * 18,
          stroke: colors[i % colors.length],
          'stroke-width': 2.5,
        }),
        text({ x: x + 28, y: y + i * 18 + 4 }, n),
      ),
    )
    .join('');
}

/**
 * Median normalised true hypervolume (line) and its interquartile range (band) per strategy, against
 * evaluations or against compute (training examples seen, in units of one full-fidelity trial).
 */
export function curvesSvg(
  runs: ReadonlyMap<string, readonly RunTrace[]>,
  xAxis: 'evaluations' | 'compute',
  fullTrialExamples: number,
  title: string,
): string {
  const series: { name: string; pts: { x: number; lo: number; mid: number; hi: number }[] }[] = [];
  for (const [name, rs] of runs) {
    const len = Math.max(...rs.map((r) => r.hv.length));
    const pts: { x: number; lo: number; mid: number; hi: number }[] = [];
    if (xAxis === 'evaluations') {
      for (let n = 1; n <= len; n++) {
        const v = rs.map((r) => hvAt(r, n));
        pts.push({ x: n, lo: quantile(v, 0.25), mid: quantile(v, 0.5), hi: quantile(v, 0.75) });
      }
    } else {
      // Each run's hypervolume as a step function of its cumulative compute, read on a common grid.
      const maxC = Math.max(...rs.map((r) => r.examples[r.examples.length - 1] ?? 0)) / fullTrialExamples;
      for (let k = 1; k <= 100; k++) {
        const c = (maxC * k) / 100;
        const v = rs.map((r) => {
          let i = -1;
          while (i + 1 < r.examples.length && r.examples[i + 1]! / fullTrialExamples <= c + 1e-12) i++;
          return i < 0 ? 0 : r.hv[i]!;
        });
        pts.push({ x: c, lo: quantile(v, 0.25), mid: quantile(v, 0.5), hi: quantile(v, 0.75) });
      }
    }
    series.push({ name, pts });
  }
  const xs = series.flatMap((s) => s.pts.map((p) => p.x));
  const ys = series.flatMap((s) => s.pts.flatMap((p) => [p.lo, p.hi]));
  const x = linearScale(0, Math.max(...xs), [FRAME.left, FRAME.left + FRAME.width], { pad: 0 });
  const y = linearScale(Math.min(...ys), 1, [FRAME.top + FRAME.height, FRAME.top], { pad: 0.02 });
  const body = series.map((s, i) => {
    const c = COLORS[i % COLORS.length];
    const band =
      s.pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${x.map(p.x).toFixed(1)},${y.map(p.hi).toFixed(1)}`).join('') +
      s.pts
        .slice()
        .reverse()
        .map((p) => `L${x.map(p.x).toFixed(1)},${y.map(p.lo).toFixed(1)}`)
        .join('') +
      'Z';
    const line = s.pts
      .map((p, j) => `${j === 0 ? 'M' : 'L'}${x.map(p.x).toFixed(1)},${y.map(p.mid).toFixed(1)}`)
      .join('');
    return (
      el('path', { d: band, fill: c, 'fill-opacity': 0.1, stroke: 'none' }) +
      el('path', { d: line, fill: 'none', stroke: c, 'stroke-width': 2 })
    );
  });
  const xTitle =
    xAxis === 'evaluations' ? 'evaluations' : `compute (training examples seen / ${fullTrialExamples}, one full trial)`;
  return svgRoot(
    { width: W, height: H, id: `hv-${xAxis}`, title, desc: 'median and interquartile range over paired run seeds' },
    heading(FRAME.left, title, 'median (line) and interquartile range (band) over paired run seeds', W - FRAME.left),
    axes(FRAME, x, y, xTitle, 'normalised true hypervolume'),
    ...body,
    legend(
      series.map((s) => s.name),
      FRAME.left + FRAME.width + 20,
      FRAME.top + 10,
    ),
  );
}

/**
 * Spearman correlation of each fidelity's validation accuracy with the truth (one seed, mean of the
 * seeds), next to the truth's own reliability (the seeds' dev scores against each other).
 */
export function fidelitySvg(
  fs: Readonly<Record<string, { single: number; mean: number }>>,
  seedVsSeed: number,
  title: string,
): string {
  const fids = Object.keys(fs).map(Number);
  // Ticks at the recorded fidelities themselves (they double, so a log axis spaces them evenly).
  const x = {
    ...logScale(Math.min(...fids), Math.max(...fids), [FRAME.left, FRAME.left + FRAME.width], { pad: 0.1 }),
    ticks: fids,
  };
  const all = [...Object.values(fs).flatMap((v) => [v.single, v.mean]), seedVsSeed, 0];
  const y = linearScale(Math.min(...all), 1, [FRAME.top + FRAME.height, FRAME.top], { pad: 0 });
  const line = (key: 'single' | 'mean', c: string, shape: 'circle' | 'square'): string =>
    el('path', {
      d: fids
        .map((f, j) => `${j === 0 ? 'M' : 'L'}${x.map(f).toFixed(1)},${y.map(fs[String(f)]![key]).toFixed(1)}`)
        .join(''),
      fill: 'none',
      stroke: c,
      'stroke-width': 2,
    }) + fids.map((f) => marker(shape, x.map(f), y.map(fs[String(f)]![key]), 4, { fill: c })).join('');
  const ry = y.map(seedVsSeed);
  return svgRoot(
    { width: W, height: H, id: 'fidelity', title, desc: 'Spearman rank correlation with the truth per fidelity' },
    heading(
      FRAME.left,
      title,
      'Spearman with the truth (mean dev score over seeds at the top fidelity)',
      W - FRAME.left,
    ),
    axes(FRAME, x, y, 'training examples seen (fidelity)', 'Spearman with the truth'),
    line('single', PALETTE.blue, 'circle'),
    line('mean', PALETTE.orange, 'square'),
    el('line', {
      x1: FRAME.left,
      y1: ry,
      x2: FRAME.left + FRAME.width,
      y2: ry,
      stroke: PALETTE.grey,
      'stroke-dasharray': '5 4',
      'stroke-width': 1.5,
    }),
    legend(
      ['one seed (one evaluation)', 'mean of the seeds', 'dev: seed vs seed'],
      FRAME.left + FRAME.width + 20,
      FRAME.top + 10,
      [PALETTE.blue, PALETTE.orange, PALETTE.grey],
    ),
  );
}

/** The table: every configuration's truth against its param % (log), the best front and the single-method ones marked. */
export function tableSvg(t: Table, title: string): string {
  const pct = t.configs.map((c) => c.paramPct);
  const x = logScale(Math.min(...pct), Math.max(...pct), [FRAME.left, FRAME.left + FRAME.width]);
  const y = linearScale(Math.min(...t.configs.map((c) => c.truth)), Math.max(...t.configs.map((c) => c.truth)), [
    FRAME.top + FRAME.height,
    FRAME.top,
  ]);
  const front = new Set(paretoFrontIndices(t.configs.map((c) => [-c.truth, c.paramPct])));
  const single = (c: Table['configs'][number]): boolean =>
    c.layers.every((b) => b) && [c.sa, c.pa, c.pt].filter((v) => v > 0).length === 1;
  const frontPts = [...front].map((i) => t.configs[i]!).sort((a, b) => a.paramPct - b.paramPct);
  const dots = t.configs.map((c, i) =>
    marker(single(c) ? 'square' : 'circle', x.map(c.paramPct), y.map(c.truth), front.has(i) ? 4.5 : 3, {
      fill: single(c) ? PALETTE.vermillion : front.has(i) ? PALETTE.blue : PALETTE.grey,
      'fill-opacity': front.has(i) || single(c) ? 1 : 0.55,
    }),
  );
  return svgRoot(
    { width: W, height: H, id: 'table', title, desc: 'true score against param % for every recorded configuration' },
    heading(
      FRAME.left,
      title,
      `${t.configs.length} configurations; truth = mean official dev score over seeds`,
      W - FRAME.left,
    ),
    axes(FRAME, x, y, '% tunable parameters (log)', 'true score (dev metric)'),
    el('path', {
      d: frontPts
        .map((c, j) => `${j === 0 ? 'M' : 'L'}${x.map(c.paramPct).toFixed(1)},${y.map(c.truth).toFixed(1)}`)
        .join(''),
      fill: 'none',
      stroke: PALETTE.blue,
      'stroke-width': 1.5,
    }),
    ...dots,
    ...[
      ['best front', PALETTE.blue, 'circle'],
      ['single method, all layers', PALETTE.vermillion, 'square'],
      ['other configurations', PALETTE.grey, 'circle'],
    ].map(([label, fill, shape], i) => {
      const ly = FRAME.top + 10 + i * 18;
      const lx = FRAME.left + FRAME.width + 20;
      return marker(shape as 'circle' | 'square', lx + 8, ly, 4, { fill }) + text({ x: lx + 20, y: ly + 4 }, label!);
    }),
  );
}
