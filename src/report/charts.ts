/**
 * The report's SVG charts, each a pure function from the view to an SVG document string:
 * (a) scatter of all complete trials with the Pareto front as a staircase and the baselines,
 * (b) hypervolume after each completed trial, (c) per-layer placement of each front configuration,
 * (d) the re-trained front (mean ± std) with the dev-set baselines.
 *
 * Points carry `data-trial` / `data-method` attributes and a <title> tooltip: tests count them, and a
 * person hovering in a browser sees the trial's numbers.
 */
import { ReportError } from './errors.js';
import { count, formatNumber, formatPct, layerRanges, modulesText, placement, truncate } from './format.js';
import { linearScale, logScale, type Scale } from './scale.js';
import { placeLabels, type LabelRequest, type Side } from './labels.js';
import { PALETTE, SHAPES, axes, el, heading, marker, px, svgRoot, text, tip, type Frame, type Shape } from './svg.js';
import type { BaselinePoint, Direction, ReportObjective, ReportOptions } from './types.js';
import type { CompleteTrial, ReportView } from './view.js';

const TRIAL_COLOR = PALETTE.blue;
const FRONT_COLOR = PALETTE.vermillion;
/** Baseline family colours, avoiding the trials' blue and the front's vermillion. */
const BASELINE_COLORS = [PALETTE.black, PALETTE.green, PALETTE.purple, PALETTE.orange, PALETTE.skyBlue];

/** Module colours of the placement grid (SA, PA, PT, LoRA): Okabe-Ito, distinct also in grey scale. */
export const MODULE_COLORS = { sa: PALETTE.blue, pa: PALETTE.orange, pt: PALETTE.green, lora: PALETTE.purple } as const;

type Obstacle = { x: number; y: number; r: number };

/** Draws placed labels as text with a halo (and a leader line for a label placed further out); left-out ones are skipped. */
function labelText(placed: ReturnType<typeof placeLabels>, fill: string, cls: string): string {
  return placed
    .map((l) =>
      l === null
        ? ''
        : (l.leader
            ? el('line', {
                ...l.leader,
                stroke: fill,
                'stroke-width': 0.8,
                'stroke-opacity': 0.7,
                class: `${cls}-leader`,
              })
            : '') +
          text({ x: l.x, y: l.y, 'text-anchor': l.anchor, 'font-size': 10, fill, class: cls, ...HALO }, l.text),
    )
    .join('');
}

/** ", unlabelled (no free place): #3, #9" for the labels placeLabels left out, or "". */
function unlabelled(placed: ReturnType<typeof placeLabels>, requests: readonly LabelRequest[]): string {
  const left = requests.filter((_, i) => placed[i] === null).map((r) => r.text);
  return left.length > 0 ? ` Unlabelled for lack of room: ${left.join(', ')}.` : '';
}

/** A white outline behind small labels so they stay readable over lines and markers. */
const HALO = { stroke: '#ffffff', 'stroke-width': 3, 'stroke-linejoin': 'round', 'paint-order': 'stroke' } as const;

const better = (dir: Direction): string => (dir === 'maximize' ? 'higher is better' : 'lower is better');

/** The x axis title of the scatter and retrain charts. */
const pctAxisTitle = (pct: ReportObjective, log: boolean): string =>
  `parameters tuned (${pct.name}, % of backbone${log ? ', log scale' : ''}, ${better(pct.direction)})`;

/** Path data of a vertical error bar at X from y0 to y1, with 8-pixel caps. */
const errorBarD = (X: number, y0: number, y1: number): string =>
  `M${px(X)} ${px(y0)}V${px(y1)}M${px(X - 4)} ${px(y0)}h8M${px(X - 4)} ${px(y1)}h8`;

/** Decides the x scale kind: explicit log needs positive values; auto picks log for wide positive ranges. */
export function useLogX(xs: readonly number[], opt: ReportOptions['logX']): boolean {
  const positive = xs.length > 0 && xs.every((v) => v > 0);
  if (opt === true) {
    if (!positive)
      throw new ReportError('options.logX', 'a log-scale x axis needs every paramPct > 0; use logX: false or "auto"');
    return true;
  }
  if (opt === false) return false;
  if (!positive) return false;
  return Math.max(...xs) / Math.min(...xs) >= 30;
}

function xScale(xs: number[], log: boolean, range: [number, number]): Scale {
  if (xs.length === 0) return linearScale(0, 1, range);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return log ? logScale(lo, hi, range) : linearScale(lo, hi, range);
}

function yScale(ys: number[], range: [number, number]): Scale {
  if (ys.length === 0) return linearScale(0, 1, range);
  return linearScale(Math.min(...ys), Math.max(...ys), range);
}

function trialTip(t: CompleteTrial, v: ReportView): string {
  const p = placement(t.config);
  const layers = p.layers ? ` · layers ${layerRanges(p.layers)}` : '';
  const front = v.frontSet.has(t.number) ? ' (Pareto front)' : '';
  return `trial ${t.number}${front}: ${v.metricLabel} ${formatNumber(t.metric)}, ${formatPct(t.paramPct)} % params · ${modulesText(p)}${layers}`;
}

interface Family {
  method: string;
  shape: Shape;
  color: string;
  points: BaselinePoint[];
}

/** Groups baselines by method, in first-seen order, and assigns each family a shape and a colour. */
function families(points: readonly BaselinePoint[]): Family[] {
  const out: Family[] = [];
  for (const b of points) {
    let f = out.find((x) => x.method === b.method);
    if (!f) {
      const i = out.length;
      f = {
        method: b.method,
        shape: SHAPES[i % SHAPES.length],
        color: BASELINE_COLORS[i % BASELINE_COLORS.length],
        points: [],
      };
      out.push(f);
    }
    f.points.push(b);
  }
  return out;
}

/** The families of `split`, keeping the shape/colour each family has across both splits. */
function familiesOf(all: readonly BaselinePoint[], split: BaselinePoint['split']): Family[] {
  return families(all)
    .map((f) => ({ ...f, points: f.points.filter((b) => b.split === split) }))
    .filter((f) => f.points.length > 0);
}

const BASELINE_SIDES: readonly Side[] = ['right', 'left', 'above-right', 'below-right', 'above-left', 'below-left'];

/** Baseline markers (with error bars), plus their variant labels to place and their footprints. */
function baselineMarks(
  fams: Family[],
  x: Scale,
  y: Scale,
  metricLabel: string,
): { svg: string; labels: LabelRequest[]; obstacles: Obstacle[] } {
  const out: string[] = [];
  const labels: LabelRequest[] = [];
  const obstacles: Obstacle[] = [];
  for (const f of fams) {
    const marks: string[] = [];
    for (const b of f.points) {
      const X = x.map(b.paramPct);
      const Y = y.map(b.metric);
      const name = b.label ? `${b.method} ${b.label}` : b.method;
      const std = b.metricStd !== undefined ? ` ± ${formatNumber(b.metricStd)}` : '';
      const seeds = b.seeds !== undefined ? ` (${b.seeds} seeds)` : '';
      if (b.metricStd !== undefined && b.metricStd > 0) {
        const y0 = y.map(b.metric - b.metricStd);
        const y1 = y.map(b.metric + b.metricStd);
        marks.push(el('path', { d: errorBarD(X, y0, y1), stroke: f.color, fill: 'none', class: 'errbar' }));
      }
      marks.push(
        marker(
          f.shape,
          X,
          Y,
          5.5,
          { fill: f.color, stroke: '#222222', 'stroke-width': 0.9, class: 'baseline', 'data-method': f.method },
          tip(`${name}: ${metricLabel} ${formatNumber(b.metric)}${std}${seeds}, ${formatPct(b.paramPct)} % params`),
        ),
      );
      obstacles.push({ x: X, y: Y, r: 6 });
      if (b.label) labels.push({ x: X, y: Y, r: 6, text: b.label, prefer: BASELINE_SIDES });
    }
    out.push(el('g', { class: 'baselines', 'data-method': f.method }, ...marks));
  }
  return { svg: out.join(''), labels, obstacles };
}

interface LegendItem {
  mark: (x: number, y: number) => string;
  label: string;
}

function legend(x: number, y: number, items: LegendItem[]): string {
  const rows = items.map((it, i) => {
    const Y = y + 18 + i * 20;
    return it.mark(x + 8, Y) + text({ x: x + 22, y: Y + 4 }, truncate(it.label, 26));
  });
  return el('g', { class: 'legend' }, text({ x, y, 'font-weight': 'bold' }, 'Legend'), ...rows);
}

const STD_LEGEND: LegendItem = {
  mark: (lx, ly) => el('path', { d: errorBarD(lx, ly - 7, ly + 7), stroke: '#333', fill: 'none' }),
  label: '± 1 std over seeds',
};

function familyLegend(fams: Family[]): LegendItem[] {
  return fams.map((f) => ({
    mark: (x: number, y: number) => marker(f.shape, x, y, 5, { fill: f.color, stroke: '#222222', 'stroke-width': 0.9 }),
    label: f.method,
  }));
}

const SCATTER = {
  width: 900,
  height: 480,
  frame: { left: 84, top: 58, width: 580, height: 350 } as Frame,
  legendX: 690,
};

/**
 * (a) Metric (y) vs parameter % (x) of every COMPLETE trial, one circle each (`class="trial"`, front
 * ones also `front`), the front joined as a staircase with its dominated region shaded, and the
 * `split: 'search'` baselines as per-family markers. Non-complete trials are not drawn.
 */
export function scatterSvg(v: ReportView, opts: ReportOptions = {}): string {
  const { data, complete, front } = v;
  const [metricObj, pctObj] = data.objectives;
  const base = (data.baselines ?? []).filter((b) => b.split === 'search');
  const f = SCATTER.frame;
  const xs = [...complete.map((t) => t.paramPct), ...base.map((b) => b.paramPct)];
  const ys = [
    ...complete.map((t) => t.metric),
    ...base.flatMap((b) => [b.metric - (b.metricStd ?? 0), b.metric + (b.metricStd ?? 0)]),
  ];
  const log = useLogX(xs, opts.logX ?? 'auto');
  const x = xScale(xs, log, [f.left, f.left + f.width]);
  const y = yScale(ys, [f.top + f.height, f.top]);

  // Staircase: order the front from best x to worst x; each step goes along x first, then y.
  // NOTE: with x minimised and y maximised the corner between p_i and p_{i+1} is (x_{i+1}, y_i),
  // the attainment boundary of the union of the points' dominated boxes.
  const stair = [...front].sort(
    (a, b) =>
      (pctObj.direction === 'minimize' ? a.paramPct - b.paramPct : b.paramPct - a.paramPct) || a.number - b.number,
  );
  let stairMarks = '';
  if (stair.length > 0) {
    const xWorst = pctObj.direction === 'minimize' ? f.left + f.width : f.left;
    const yWorst = metricObj.direction === 'maximize' ? f.top + f.height : f.top;
    const P = stair.map((t) => [x.map(t.paramPct), y.map(t.metric)] as const);
    let steps = '';
    for (let i = 1; i < P.length; i++) steps += `H${px(P[i][0])}V${px(P[i][1])}`;
    const line = `M${px(P[0][0])} ${px(P[0][1])}${steps}`;
    // The dominated region: down (or up) from the first point, along the steps, out to the worst corner.
    const region = `M${px(P[0][0])} ${px(yWorst)}V${px(P[0][1])}${steps}H${px(xWorst)}V${px(yWorst)}Z`;
    const last = P[P.length - 1];
    stairMarks =
      el('path', { d: region, fill: FRONT_COLOR, 'fill-opacity': 0.07, stroke: 'none', class: 'dominated' }) +
      el('path', {
        d: `M${px(P[0][0])} ${px(yWorst)}V${px(P[0][1])}M${px(last[0])} ${px(last[1])}H${px(xWorst)}`,
        stroke: FRONT_COLOR,
        'stroke-width': 1.2,
        'stroke-dasharray': '4 3',
        fill: 'none',
        'stroke-opacity': 0.7,
      }) +
      el('path', { d: line, stroke: FRONT_COLOR, 'stroke-width': 2, fill: 'none', class: 'front-line' });
  }

  const trialMarks = complete
    .filter((t) => !v.frontSet.has(t.number))
    .map((t) =>
      el(
        'circle',
        {
          cx: x.map(t.paramPct),
          cy: y.map(t.metric),
          r: 3.6,
          fill: TRIAL_COLOR,
          'fill-opacity': 0.45,
          stroke: TRIAL_COLOR,
          'stroke-width': 0.8,
          class: 'trial',
          'data-trial': String(t.number),
        },
        tip(trialTip(t, v)),
      ),
    );
  // Front points on top, labelled preferably on the non-dominated side (no trial can sit there).
  const vert = metricObj.direction === 'maximize' ? 'above' : 'below';
  const overt = vert === 'above' ? 'below' : 'above';
  const hor = pctObj.direction === 'minimize' ? 'left' : 'right';
  const ohor = hor === 'left' ? 'right' : 'left';
  const frontSides: Side[] = [`${vert}-${hor}`, hor, `${vert}-${ohor}`, ohor, `${overt}-${ohor}`, `${overt}-${hor}`];
  const frontMarks = front.map((t) =>
    el(
      'circle',
      {
        cx: x.map(t.paramPct),
        cy: y.map(t.metric),
        r: 5.2,
        fill: FRONT_COLOR,
        stroke: '#ffffff',
        'stroke-width': 1.2,
        class: 'trial front',
        'data-trial': String(t.number),
      },
      tip(trialTip(t, v)),
    ),
  );
  const fams = familiesOf(data.baselines ?? [], 'search');
  const bm = baselineMarks(fams, x, y, v.metricLabel);
  const obstacles: Obstacle[] = [
    ...complete.map((t) => ({ x: x.map(t.paramPct), y: y.map(t.metric), r: v.frontSet.has(t.number) ? 5.2 : 3.6 })),
    ...bm.obstacles,
  ];
  const frontLabels: LabelRequest[] =
    front.length <= 25
      ? front.map((t) => ({
          x: x.map(t.paramPct),
          y: y.map(t.metric),
          r: 5.2,
          text: `#${t.number}`,
          prefer: frontSides,
        }))
      : [];
  const placed = placeLabels([...frontLabels, ...bm.labels], obstacles, f);
  const labels =
    labelText(placed.slice(0, frontLabels.length), '#7a2e00', 'front-label') +
    labelText(placed.slice(frontLabels.length), '#333', 'baseline-label');
  const items: LegendItem[] = [
    {
      mark: (lx, ly) =>
        el('circle', { cx: lx, cy: ly, r: 3.6, fill: TRIAL_COLOR, 'fill-opacity': 0.45, stroke: TRIAL_COLOR }),
      label: `trial (${complete.length - front.length})`,
    },
    {
      mark: (lx, ly) =>
        el('path', {
          d: `M${px(lx - 8)} ${px(ly + 4)}H${px(lx)}V${px(ly - 4)}H${px(lx + 8)}`,
          stroke: FRONT_COLOR,
          'stroke-width': 2,
          fill: 'none',
        }) + el('circle', { cx: lx, cy: ly - 4, r: 4, fill: FRONT_COLOR }),
      label: `Pareto front (${front.length})`,
    },
    ...familyLegend(fams),
  ];
  if (base.some((b) => b.metricStd !== undefined)) {
    items.push(STD_LEGEND);
  }

  const title = `${data.study}: ${v.metricLabel} vs parameters tuned`;
  const subtitle = `${data.task} · ${data.model} · ${count(complete.length, 'complete trial')}, ${front.length} on the Pareto front${base.length ? `, ${count(base.length, 'baseline')}` : ''}`;
  const xTitle = pctAxisTitle(pctObj, log);
  const yTitle = `${v.metricLabel} (${better(metricObj.direction)})`;
  const desc =
    `Scatter plot of ${complete.length} complete trials: x = ${pctObj.name} from ${formatPct(x.domain[0])} to ${formatPct(x.domain[1])}${log ? ' (log scale)' : ''}, ` +
    `y = ${v.metricLabel} from ${formatNumber(y.domain[0])} to ${formatNumber(y.domain[1])}. Pareto front trials: ${front.map((t) => t.number).join(', ') || 'none'}.` +
    (fams.length ? ` Baselines: ${fams.map((fam) => fam.method).join(', ')}.` : '') +
    unlabelled(placed, [...frontLabels, ...bm.labels]);
  return svgRoot(
    { width: SCATTER.width, height: SCATTER.height, id: 'scatter', title, desc },
    heading(f.left, title, subtitle, SCATTER.width - f.left - 10),
    axes(f, x, y, xTitle, yTitle),
    el(
      'g',
      { class: 'plot' },
      stairMarks,
      el('g', { class: 'points' }, ...trialMarks, ...frontMarks),
      bm.svg,
      el('g', { class: 'labels' }, labels),
    ),
    legend(SCATTER.legendX, f.top + 6, items),
  );
}

/** (b) Hypervolume (y) after the k-th completed trial (x = k, 1-based), as a step line with dots. */
export function hypervolumeSvg(v: ReportView): string {
  const hv = v.data.hypervolume;
  const width = 760;
  const height = 380;
  const f: Frame = { left: 84, top: 58, width: 640, height: 250 };
  const x = linearScale(1, Math.max(1, hv.length), [f.left, f.left + f.width], { integer: true, pad: 0.02 });
  const y = yScale(hv, [f.top + f.height, f.top]);
  const ref = v.data.refPoint;
  const title = `${v.data.study}: hypervolume over completed trials`;
  const subtitle = `reference point (${v.metricLabel} ${formatNumber(ref[0])}, ${formatPct(ref[1])} % params) · final ${formatNumber(v.finalHypervolume)}`;
  const P = hv.map((h, i) => [x.map(i + 1), y.map(h)] as const);
  let line = '';
  if (P.length > 0) {
    line = `M${px(P[0][0])} ${px(P[0][1])}`;
    for (let i = 1; i < P.length; i++) line += `H${px(P[i][0])}V${px(P[i][1])}`;
  }
  const dots = hv.map((h, i) =>
    el(
      'circle',
      {
        cx: P[i][0],
        cy: P[i][1],
        r: hv.length > 150 ? 1.5 : 2.6,
        fill: PALETTE.blue,
        class: 'hv',
        'data-k': String(i + 1),
      },
      tip(`after ${i + 1} completed trials: hypervolume ${formatNumber(h)}`),
    ),
  );
  const desc =
    hv.length === 0
      ? 'No completed trials yet, so there is no hypervolume to plot.'
      : `Hypervolume of the Pareto front after each of ${hv.length} completed trials, from ${formatNumber(hv[0])} to ${formatNumber(v.finalHypervolume)}.`;
  return svgRoot(
    { width, height, id: 'hypervolume', title, desc },
    heading(f.left, title, subtitle, width - f.left - 10),
    axes(f, x, y, 'completed trials', 'hypervolume (higher is better)'),
    line ? el('path', { d: line, stroke: PALETTE.blue, 'stroke-width': 2, fill: 'none', class: 'hv-line' }) : '',
    el('g', { class: 'points' }, ...dots),
    hv.length === 0
      ? text(
          { x: f.left + f.width / 2, y: f.top + f.height / 2, 'text-anchor': 'middle', fill: '#555' },
          'no completed trials yet',
        )
      : '',
  );
}

/**
 * (c) One row per front configuration (paramPct ascending), one column per layer. A layer's cell is
 * split into one band per module (SA, PA, PT, and LoRA when the study searched it); a band is filled
 * with the module's colour when the layer is on and the module's size is > 0. The row label repeats
 * everything in text, so colour is never the only carrier.
 */
export function placementSvg(v: ReportView): string {
  const rows = v.front.map((t) => ({ t, p: placement(t.config) }));
  const L = Math.max(0, ...rows.map((r) => r.p.layers?.length ?? 0));
  const withLora = rows.some((r) => r.p.lora !== null);
  const modules = ['sa', 'pa', 'pt', ...(withLora ? ['lora'] : [])] as const as readonly (
    | 'sa'
    | 'pa'
    | 'pt'
    | 'lora'
  )[];
  const names: Record<string, string> = {
    sa: 'serial adapter (SA)',
    pa: 'parallel adapter (PA)',
    pt: 'prefix-tuning (PT)',
    lora: 'LoRA',
  };
  const cw = L <= 16 ? 24 : Math.max(12, Math.floor(420 / L));
  const band = 7;
  const ch = band * modules.length;
  const gap = 6;
  const left = 64;
  const top = 96;
  const gridW = L * cw;
  const textX = left + gridW + 14;
  const width = Math.max(left + (modules.length + 1) * 170, textX + 380);
  const height = top + Math.max(1, rows.length) * (ch + gap) + 24;
  const title = `${v.data.study}: layer placement of the Pareto-front configurations`;
  const subtitle = `rows = front configurations by parameter % · columns = transformer layers 0-${Math.max(0, L - 1)}`;

  const legendItems = modules.map((m, i) => {
    const X = left + i * 170;
    return (
      el('rect', { x: X, y: 52, width: 14, height: 10, fill: MODULE_COLORS[m] }) + text({ x: X + 20, y: 61 }, names[m])
    );
  });
  const offX = left + modules.length * 170;
  legendItems.push(
    el('rect', { x: offX, y: 51, width: 14, height: 12, fill: '#f2f2f2', stroke: '#c8c8c8' }) +
      text({ x: offX + 20, y: 61 }, 'layer without modules'),
  );
  const header: string[] = [];
  const every = cw >= 16 ? 1 : cw >= 10 ? 2 : 4;
  for (let l = 0; l < L; l++)
    if (l % every === 0)
      header.push(
        text(
          { x: left + l * cw + cw / 2, y: top - 8, 'text-anchor': 'middle', 'font-size': 10, fill: '#555' },
          String(l),
        ),
      );
  const body = rows.map(({ t, p }, r) => {
    const Y = top + r * (ch + gap);
    const cells: string[] = [];
    for (let l = 0; l < L; l++) {
      const on = p.layers?.[l] === true;
      const X = left + l * cw;
      const bands = modules.map((m, i) => {
        const size = m === 'lora' ? (p.lora ?? 0) : p[m];
        return on && size > 0
          ? el('rect', { x: X + 1, y: Y + i * band, width: cw - 2, height: band, fill: MODULE_COLORS[m] })
          : '';
      });
      cells.push(
        el(
          'g',
          { class: on ? 'cell on' : 'cell off', 'data-layer': String(l) },
          el('rect', {
            x: X + 1,
            y: Y,
            width: cw - 2,
            height: ch,
            fill: on ? '#ffffff' : '#f2f2f2',
            stroke: on ? '#333' : '#c8c8c8',
            'stroke-width': 0.8,
          }),
          ...bands,
          tip(`trial ${t.number}, layer ${l}: ${on ? modulesText(p) : 'no module'}`),
        ),
      );
    }
    const info = `${modulesText(p)} · ${formatPct(t.paramPct)} % · ${v.metricLabel} ${formatNumber(t.metric)}`;
    return el(
      'g',
      { class: 'placement-row', 'data-trial': String(t.number) },
      text({ x: left - 10, y: Y + ch / 2 + 4, 'text-anchor': 'end', 'font-weight': 'bold' }, `#${t.number}`),
      ...cells,
      text({ x: textX, y: Y + ch / 2 + 4 }, info),
    );
  });
  const empty =
    rows.length === 0
      ? 'The front is empty.'
      : L === 0
        ? 'The front configurations have no layer_i keys (not AutoPEFT configs).'
        : '';
  const desc =
    empty ||
    `${rows.length} front configurations over ${L} layers. ` +
      rows
        .map(
          ({ t, p }) => `Trial ${t.number}: ${modulesText(p)} on layers ${p.layers ? layerRanges(p.layers) : 'none'}.`,
        )
        .join(' ');
  return svgRoot(
    { width, height, id: 'placement', title, desc },
    heading(left, title, subtitle, width - left - 10),
    el('g', { class: 'legend' }, ...legendItems),
    el('g', { class: 'header' }, ...header),
    el('g', { class: 'rows' }, ...body),
    empty ? text({ x: left, y: top + 14, fill: '#555' }, empty) : '',
  );
}

/**
 * (d) The re-trained front: mean (dot) ± std (bar) of each configuration on `retrain.split`, at its
 * paramPct, with the `split: 'dev'` baselines. Returns null when there are no retrain results.
 */
export function retrainSvg(v: ReportView, opts: ReportOptions = {}): string | null {
  const rt = v.data.retrain;
  if (!rt || rt.results.length === 0) return null;
  const [metricObj, pctObj] = v.data.objectives;
  const base = (v.data.baselines ?? []).filter((b) => b.split === 'dev');
  const pts = rt.results.map((r) => ({ r, t: v.byNumber.get(r.trial) as CompleteTrial }));
  const f = SCATTER.frame;
  const xs = [...pts.map((p) => p.t.paramPct), ...base.map((b) => b.paramPct)];
  const ys = [
    ...pts.flatMap((p) => [p.r.mean - p.r.std, p.r.mean + p.r.std]),
    ...base.flatMap((b) => [b.metric - (b.metricStd ?? 0), b.metric + (b.metricStd ?? 0)]),
  ];
  const log = useLogX(xs, opts.logX ?? 'auto');
  const x = xScale(xs, log, [f.left, f.left + f.width]);
  const y = yScale(ys, [f.top + f.height, f.top]);
  const marks = pts.map(({ r, t }) => {
    const X = x.map(t.paramPct);
    const Y = y.map(r.mean);
    const y0 = y.map(r.mean - r.std);
    const y1 = y.map(r.mean + r.std);
    return el(
      'g',
      { class: 'retrained', 'data-trial': String(t.number) },
      r.std > 0 ? el('path', { d: errorBarD(X, y0, y1), stroke: FRONT_COLOR, fill: 'none' }) : '',
      el(
        'circle',
        { cx: X, cy: Y, r: 5, fill: FRONT_COLOR, stroke: '#ffffff', 'stroke-width': 1 },
        tip(
          `trial ${t.number}: ${formatNumber(r.mean)} ± ${formatNumber(r.std)} over ${r.seeds} seeds, ${formatPct(t.paramPct)} % params`,
        ),
      ),
    );
  });
  const fams = familiesOf(v.data.baselines ?? [], 'dev');
  const bm = baselineMarks(fams, x, y, v.metricLabel);
  const ptLabels: LabelRequest[] = pts.map(({ t, r }) => ({
    x: x.map(t.paramPct),
    y: y.map(r.mean),
    r: 5,
    text: `#${t.number}`,
    prefer: BASELINE_SIDES,
  }));
  const placed = placeLabels(
    [...ptLabels, ...bm.labels],
    [...ptLabels.map((l) => ({ x: l.x, y: l.y, r: l.r })), ...bm.obstacles],
    f,
  );
  const labels =
    labelText(placed.slice(0, ptLabels.length), '#7a2e00', 'front-label') +
    labelText(placed.slice(ptLabels.length), '#333', 'baseline-label');
  const seeds = [...new Set(rt.results.map((r) => r.seeds))].join('/');
  const items: LegendItem[] = [
    {
      mark: (lx, ly) => el('circle', { cx: lx, cy: ly, r: 4.5, fill: FRONT_COLOR }),
      label: `re-trained front (${pts.length})`,
    },
    ...familyLegend(fams),
    STD_LEGEND,
  ];
  const title = `${v.data.study}: re-trained front on ${rt.split}`;
  const subtitle = `mean ± std over ${seeds} seeds · ${v.data.task} · ${v.data.model}${base.length ? ` · ${count(base.length, 'baseline')}` : ''}`;
  const desc =
    `Re-trained front configurations on ${rt.split}: ` +
    pts
      .map(
        ({ r, t }) =>
          `trial ${t.number} ${formatNumber(r.mean)} ± ${formatNumber(r.std)} at ${formatPct(t.paramPct)} %`,
      )
      .join('; ') +
    '.';
  return svgRoot(
    { width: SCATTER.width, height: SCATTER.height, id: 'retrain', title, desc },
    heading(f.left, title, subtitle, SCATTER.width - f.left - 10),
    axes(
      f,
      x,
      y,
      pctAxisTitle(pctObj, log),
      `${rt.metricLabel ?? v.metricLabel} on ${rt.split} (${better(metricObj.direction)})`,
    ),
    el('g', { class: 'plot' }, ...marks, bm.svg, el('g', { class: 'labels' }, labels)),
    legend(SCATTER.legendX, f.top + 6, items),
  );
}
