/**
 * report.html: one self-contained file (SVGs inlined, CSS and a small sort script embedded), so it
 * can be mailed or opened from any directory. Tables work without JavaScript; with it, clicking a
 * header sorts by that column.
 */
import { escapeXml } from './format.js';
import { summaryLines } from './summary.js';
import {
  baselinesTable,
  frontTable,
  retrainTable,
  transferTables,
  trialsTable,
  type Column,
  type Table,
} from './tables.js';
import type { ReportView } from './view.js';

export interface HtmlCharts {
  scatter: string;
  hypervolume: string;
  placement: string;
  retrain: string | null;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;margin:0;background:#fafafa}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:24px;margin:0 0 16px}h2{font-size:19px;margin:32px 0 12px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0 16px;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;border-bottom:1px solid #e6e6e6;text-align:left;vertical-align:top}
th{background:#f0f0f0;font-weight:600;white-space:nowrap}
td{white-space:nowrap}td.wrap{white-space:normal;min-width:14em}
td.r,th.r{text-align:right}
tbody tr:nth-child(even){background:#fafafa}
table.summary th{background:none;text-align:left;padding-right:20px}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th[aria-sort=ascending]::after{content:" ▲";font-size:10px}
table.sortable th[aria-sort=descending]::after{content:" ▼";font-size:10px}
tr.front td{background:#fdf0e6}
tr.failed td{color:#8a1c1c}
figure{margin:12px 0 20px}figure svg{max-width:100%;height:auto;border:1px solid #e6e6e6}
figcaption{color:#555;font-size:13px;margin-top:4px}
.scroll{overflow-x:auto}
`;

// Sorts a table by the clicked column: numeric columns by data-sort, others by text.
const SCRIPT = `
document.querySelectorAll('table.sortable').forEach(function(table){
  var heads=table.querySelectorAll('th');
  heads.forEach(function(th,col){
    th.tabIndex=0;
    function sort(){
      var asc=th.getAttribute('aria-sort')!=='ascending';
      heads.forEach(function(h){h.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',asc?'ascending':'descending');
      var num=th.classList.contains('num');
      var body=table.tBodies[0];
      var rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){
        var x=a.cells[col].getAttribute('data-sort'),y=b.cells[col].getAttribute('data-sort');
        var c=num?(parseFloat(x)-parseFloat(y)):String(x).localeCompare(String(y));
        return asc?c:-c;
      });
      rows.forEach(function(r){body.appendChild(r);});
    }
    th.addEventListener('click',sort);
    th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sort();}});
  });
});
`;

function sortKey(v: number | string): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? '1e308' : '-1e308';
  return v;
}

/** An HTML table; `rowClass(i)` adds a class to row i (front, failed). */
export function htmlTable(t: Table, rowClass: (i: number) => string = () => ''): string {
  const colClass = (c: Column, th: boolean): string => {
    const names = [
      ...(th && c.numeric ? ['num'] : []),
      ...(c.numeric && !c.left ? ['r'] : []),
      ...(!th && c.wrap ? ['wrap'] : []),
    ];
    return names.length ? ` class="${names.join(' ')}"` : '';
  };
  const head = t.columns.map((c) => `<th scope="col"${colClass(c, true)}>${escapeXml(c.header)}</th>`).join('');
  const rows = t.rows.map((r, i) => {
    const cls = rowClass(i);
    const cells = r
      .map(
        (c, j) =>
          `<td${colClass(t.columns[j], false)} data-sort="${escapeXml(sortKey(c.sort ?? c.text))}">${escapeXml(c.text)}</td>`,
      )
      .join('');
    return `<tr${cls ? ` class="${cls}"` : ''}>${cells}</tr>`;
  });
  return `<div class="scroll"><table id="${escapeXml(t.id)}" class="sortable"><thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
}

function figure(svg: string, caption: string): string {
  // The XML-level newline at the end of each SVG document is dropped when inlined.
  return `<figure>${svg.trimEnd()}<figcaption>${escapeXml(caption)}</figcaption></figure>`;
}

/** The whole report.html text. */
export function renderHtml(v: ReportView, charts: HtmlCharts): string {
  const { data } = v;
  const parts: string[] = [];
  parts.push(`<h1>AutoPEFT study report: ${escapeXml(data.study)}</h1>`);
  parts.push(
    '<table class="summary"><tbody>' +
      summaryLines(v)
        .map(([k, val]) => `<tr><th scope="row">${escapeXml(k)}</th><td>${escapeXml(val)}</td></tr>`)
        .join('') +
      '</tbody></table>',
  );
  parts.push('<h2>Pareto front</h2>');
  parts.push(
    figure(
      charts.scatter,
      `Every complete trial (blue) and the Pareto front (vermillion, joined as a staircase; the shaded area is what the front dominates). Hover a point for its configuration.`,
    ),
  );
  if (v.front.length > 0) {
    parts.push(htmlTable(frontTable(v)));
    parts.push(
      figure(
        charts.placement,
        'Which modules each front configuration puts in which layer: a filled band means the module is on in that layer.',
      ),
    );
  } else {
    parts.push('<p>No completed trial yet, so the front is empty.</p>');
  }
  parts.push('<h2>Hypervolume</h2>');
  parts.push(
    figure(
      charts.hypervolume,
      'Hypervolume of the front after each completed trial, against the reference point in the summary.',
    ),
  );
  const rt = retrainTable(v);
  if (rt) {
    parts.push(`<h2>Re-trained front (${escapeXml(data.retrain?.split ?? '')})</h2>`);
    if (charts.retrain)
      parts.push(
        figure(
          charts.retrain,
          'Front configurations re-trained at full fidelity: mean ± one standard deviation over seeds.',
        ),
      );
    parts.push(htmlTable(rt));
  }
  const bt = baselinesTable(v);
  if (bt) parts.push('<h2>Baselines</h2>', htmlTable(bt));
  for (const tr of transferTables(v))
    parts.push(`<h2>Transfer to ${escapeXml(tr.task)} (${escapeXml(tr.split)})</h2>`, htmlTable(tr.table));
  const tt = trialsTable(v);
  parts.push('<h2>All trials</h2>', '<p>Click a column header to sort.</p>');
  // trialsTable's rows are v.trials, in that order.
  parts.push(
    htmlTable(tt, (i) =>
      v.frontSet.has(v.trials[i].number) ? 'front' : v.trials[i].state === 'FAILED' ? 'failed' : '',
    ),
  );
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>AutoPEFT report: ${escapeXml(data.study)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n<main>\n` +
    parts.join('\n') +
    `\n</main>\n<script>${SCRIPT}</script>\n</body>\n</html>\n`
  );
}
