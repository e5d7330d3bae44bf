/** report.md: summary, charts (as image links to the SVG files beside it) and tables. */
import { escapeMdCell } from './format.js';
import { summaryLines } from './summary.js';
import { baselinesTable, frontTable, retrainTable, transferTables, trialsTable, type Table } from './tables.js';
import type { ReportView } from './view.js';

/** File names of the charts, relative to the report directory. */
export const CHART_FILES = {
  scatter: 'scatter.svg',
  hypervolume: 'hypervolume.svg',
  placement: 'placement.svg',
  retrain: 'retrain.svg',
} as const;

/** A GitHub-flavoured Markdown table; numeric columns right-aligned. One line per row. */
export function markdownTable(t: Table): string {
  const head = `| ${t.columns.map((c) => escapeMdCell(c.header)).join(' | ')} |`;
  const sep = `|${t.columns.map((c) => (c.numeric && !c.left ? ' ---: ' : ' --- ')).join('|')}|`;
  const rows = t.rows.map((r) => `| ${r.map((c) => escapeMdCell(c.text)).join(' | ')} |`);
  return [head, sep, ...rows].join('\n');
}

/** The whole report.md text. `hasRetrainChart` says whether retrain.svg is written beside it. */
export function renderMarkdown(v: ReportView, hasRetrainChart: boolean): string {
  const out: string[] = [];
  out.push(`# AutoPEFT study report: ${escapeMdCell(v.data.study)}`, '');
  out.push('| | |', '| --- | --- |');
  for (const [k, val] of summaryLines(v)) out.push(`| ${escapeMdCell(k)} | ${escapeMdCell(val)} |`);
  out.push('');
  out.push('## Pareto front', '');
  out.push(
    `![Scatter of ${v.metricLabel} against parameter % for every complete trial, Pareto front highlighted](${CHART_FILES.scatter})`,
    '',
  );
  if (v.front.length > 0) {
    out.push(markdownTable(frontTable(v)), '');
    out.push(`![Layer placement of each Pareto-front configuration](${CHART_FILES.placement})`, '');
  } else {
    out.push('No completed trial yet, so the front is empty.', '');
  }
  out.push('## Hypervolume', '');
  out.push(`![Hypervolume after each completed trial](${CHART_FILES.hypervolume})`, '');
  const rt = retrainTable(v);
  if (rt) {
    out.push(`## Re-trained front (${escapeMdCell(v.data.retrain?.split ?? '')})`, '');
    if (hasRetrainChart)
      out.push(`![Re-trained front configurations, mean ± std over seeds](${CHART_FILES.retrain})`, '');
    out.push(markdownTable(rt), '');
  }
  const bt = baselinesTable(v);
  if (bt) out.push('## Baselines', '', markdownTable(bt), '');
  for (const tr of transferTables(v))
    out.push(`## Transfer to ${escapeMdCell(tr.task)} (${escapeMdCell(tr.split)})`, '', markdownTable(tr.table), '');
  out.push('## All trials', '', markdownTable(trialsTable(v)), '');
  return out.join('\n');
}
