/**
 * The report's tables as data (header + cells), rendered by both the Markdown and the HTML writer so
 * the two always show the same numbers.
 */
import { formatDuration, formatNumber, formatPct, layerRanges, modulesText, placement } from './format.js';
import type { ReportTrial } from './types.js';
import type { CompleteTrial, ReportView } from './view.js';

export interface Cell {
  text: string;
  /** Sort key for the HTML table (numbers sort numerically); defaults to the text. */
  sort?: number | string;
}

export interface Column {
  header: string;
  /** Sorts numerically (by Cell.sort) and is right-aligned unless `left`. */
  numeric: boolean;
  /** Left-align a numeric column whose text is not a plain number (layer ranges). */
  left?: boolean;
  /** Free text that may wrap (failure reasons); other columns never wrap in HTML. */
  wrap?: boolean;
}

export interface Table {
  id: string;
  columns: Column[];
  rows: Cell[][];
}

const num = (v: number | undefined, fmt: (x: number) => string = formatNumber): Cell =>
  v === undefined ? { text: '', sort: Number.NEGATIVE_INFINITY } : { text: fmt(v), sort: v };

function layersCell(t: ReportTrial): Cell {
  const p = placement(t.config);
  if (!p.layers) return { text: '', sort: 0 };
  const n = p.layers.filter(Boolean).length;
  return { text: `${layerRanges(p.layers)} (${n}/${p.layers.length})`, sort: n };
}

function otherCell(t: ReportTrial): Cell {
  return {
    text: placement(t.config)
      .other.map(([k, v]) => `${k}=${v}`)
      .join(', '),
  };
}

/** Whether any trial has keys outside the AutoPEFT space (then an "other" column is shown). */
function hasOther(trials: readonly ReportTrial[]): boolean {
  return trials.some((t) => placement(t.config).other.length > 0);
}

/** The front, paramPct ascending: trial, metric, param %, modules, layers (+ other keys). */
export function frontTable(v: ReportView): Table {
  const other = hasOther(v.front);
  return {
    id: 'front',
    columns: [
      { header: 'trial', numeric: true },
      { header: v.metricLabel, numeric: true },
      { header: 'param %', numeric: true },
      { header: 'modules', numeric: false },
      { header: 'layers', numeric: true, left: true },
      ...(other ? [{ header: 'other', numeric: false, wrap: true }] : []),
    ],
    rows: v.front.map((t) => [
      { text: String(t.number), sort: t.number },
      num(t.metric),
      num(t.paramPct, formatPct),
      { text: modulesText(placement(t.config)) },
      layersCell(t),
      ...(other ? [otherCell(t)] : []),
    ]),
  };
}

/** Every trial in number order, one row each, whatever its state. */
export function trialsTable(v: ReportView): Table {
  const trials = v.trials;
  const other = hasOther(trials);
  return {
    id: 'trials',
    columns: [
      { header: 'trial', numeric: true },
      { header: 'state', numeric: false },
      { header: 'front', numeric: true, left: true },
      { header: v.metricLabel, numeric: true },
      { header: 'param %', numeric: true },
      { header: 'modules', numeric: false },
      { header: 'layers', numeric: true, left: true },
      ...(other ? [{ header: 'other', numeric: false, wrap: true }] : []),
      { header: 'duration', numeric: true },
      { header: 'reason', numeric: false, wrap: true },
    ],
    rows: trials.map((t) => [
      { text: String(t.number), sort: t.number },
      { text: t.state },
      { text: v.frontSet.has(t.number) ? '★' : '', sort: v.frontSet.has(t.number) ? 1 : 0 },
      num(t.metric),
      num(t.paramPct, formatPct),
      { text: modulesText(placement(t.config)) },
      layersCell(t),
      ...(other ? [otherCell(t)] : []),
      t.durationMs === undefined ? { text: '', sort: -1 } : { text: formatDuration(t.durationMs), sort: t.durationMs },
      { text: t.reason ?? '' },
    ]),
  };
}

/** Baselines: method, variant, split, metric ± std, seeds, param %. Null when there are none. */
export function baselinesTable(v: ReportView): Table | null {
  const b = v.data.baselines ?? [];
  if (b.length === 0) return null;
  return {
    id: 'baselines',
    columns: [
      { header: 'method', numeric: false },
      { header: 'variant', numeric: false },
      { header: 'evaluated on', numeric: false },
      { header: v.metricLabel, numeric: true },
      { header: 'std', numeric: true },
      { header: 'seeds', numeric: true },
      { header: 'param %', numeric: true },
    ],
    rows: b.map((p) => [
      { text: p.method },
      { text: p.label ?? '' },
      { text: p.split === 'search' ? 'search split' : (v.data.retrain?.split ?? 'dev set') },
      num(p.metric),
      num(p.metricStd),
      p.seeds === undefined ? { text: '', sort: 0 } : { text: String(p.seeds), sort: p.seeds },
      num(p.paramPct, formatPct),
    ]),
  };
}

/** Re-trained front: trial, search metric, mean ± std on the dev split, seeds, param %, modules. */
export function retrainTable(v: ReportView): Table | null {
  const rt = v.data.retrain;
  if (!rt || rt.results.length === 0) return null;
  const rows = rt.results
    .map((r) => ({ r, t: v.byNumber.get(r.trial) as CompleteTrial }))
    .sort((a, b) => a.t.paramPct - b.t.paramPct || a.t.number - b.t.number);
  return {
    id: 'retrain',
    columns: [
      { header: 'trial', numeric: true },
      { header: `${v.metricLabel} (search)`, numeric: true },
      { header: `mean on ${rt.split}`, numeric: true },
      { header: 'std', numeric: true },
      { header: 'seeds', numeric: true },
      { header: 'param %', numeric: true },
      { header: 'modules', numeric: false },
    ],
    rows: rows.map(({ r, t }) => [
      { text: String(t.number), sort: t.number },
      num(t.metric),
      num(r.mean),
      num(r.std),
      { text: String(r.seeds), sort: r.seeds },
      num(t.paramPct, formatPct),
      { text: modulesText(placement(t.config)) },
    ]),
  };
}

/** One table per transfer target: trial, source score, mean ± std on the target, seeds, param %, modules. */
export function transferTables(v: ReportView): { task: string; split: string; table: Table }[] {
  return (v.data.transfer ?? [])
    .filter((d) => d.results.length > 0)
    .map((d, k) => ({
      task: d.task,
      split: d.split ?? 'official dev set',
      table: {
        id: `transfer-${k}`,
        columns: [
          { header: 'trial', numeric: true },
          { header: `${v.metricLabel} (source search)`, numeric: true },
          { header: `${d.metricLabel ?? 'metric'} on ${d.task}`, numeric: true },
          { header: 'std', numeric: true },
          { header: 'seeds', numeric: true },
          { header: 'param %', numeric: true },
          { header: 'modules', numeric: false },
        ],
        rows: [...d.results]
          .sort((a, b) => a.paramPct - b.paramPct || a.trial - b.trial)
          .map((r) => {
            const t = v.byNumber.get(r.trial);
            return [
              { text: String(r.trial), sort: r.trial },
              num(r.sourceMetric ?? t?.metric),
              num(r.mean),
              num(r.std),
              { text: String(r.seeds), sort: r.seeds },
              num(r.paramPct, formatPct),
              { text: t ? modulesText(placement(t.config)) : '' },
            ];
          }),
      },
    }));
}
