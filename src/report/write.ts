/**
 * Rendering entry points: `renderReport` (pure, returns every file's text) and `writeReport` (the
 * one function with I/O, writes them into a directory).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hypervolumeSvg, placementSvg, retrainSvg, scatterSvg } from './charts.js';
import { ReportError } from './errors.js';
import { renderHtml } from './html.js';
import { CHART_FILES, renderMarkdown } from './markdown.js';
import { reportJson } from './summary.js';
import type { ReportData, ReportJson, ReportOptions } from './types.js';
import { buildView } from './view.js';

export interface RenderedReport {
  /** File name (relative to the report directory) -> content. */
  files: Record<string, string>;
  json: ReportJson;
}

/**
 * Renders report.md, report.html, report.json and the chart SVGs (scatter, hypervolume, placement,
 * and retrain when `data.retrain` has results). Throws ReportError when `data` is inconsistent.
 */
export function renderReport(data: ReportData, options: ReportOptions = {}): RenderedReport {
  const v = buildView(data);
  const scatter = scatterSvg(v, options);
  const hypervolume = hypervolumeSvg(v);
  const placement = placementSvg(v);
  const retrain = retrainSvg(v, options);
  const json = reportJson(v);
  const files: Record<string, string> = {
    'report.md': renderMarkdown(v, retrain !== null),
    'report.html': renderHtml(v, { scatter, hypervolume, placement, retrain }),
    'report.json': `${JSON.stringify(json, null, 2)}\n`,
    [CHART_FILES.scatter]: scatter,
    [CHART_FILES.hypervolume]: hypervolume,
    [CHART_FILES.placement]: placement,
  };
  if (retrain !== null) files[CHART_FILES.retrain] = retrain;
  return { files, json };
}

/** The `--json` line: report.json's object on one line. */
export function reportJsonLine(data: ReportData): string {
  return JSON.stringify(reportJson(buildView(data)));
}

/**
 * Renders and writes the report into `dir` (created if missing), plus a PNG per chart when
 * `options.rasterize` is given. Returns the written paths and the JSON summary. Throws ReportError for inconsistent data or an unwritable directory.
 */
export function writeReport(
  dir: string,
  data: ReportData,
  options: ReportOptions = {},
): { paths: string[]; json: ReportJson } {
  const { files, json } = renderReport(data, options);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new ReportError(
      dir,
      `cannot create the report directory (${(e as NodeJS.ErrnoException).code ?? String(e)}); pass a writable --out directory`,
    );
  }
  const out: [string, string | Uint8Array][] = Object.entries(files);
  if (options.rasterize) {
    for (const [name, content] of Object.entries(files)) {
      if (!name.endsWith('.svg')) continue;
      let png: Uint8Array;
      try {
        png = options.rasterize(content);
      } catch (e) {
        throw new ReportError(
          `options.rasterize(${name})`,
          `the PNG rasteriser failed (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); drop the rasteriser to write SVG only`,
        );
      }
      out.push([name.replace(/\.svg$/, '.png'), png]);
    }
  }
  const paths: string[] = [];
  for (const [name, content] of out) {
    const p = join(dir, name);
    try {
      writeFileSync(p, content);
    } catch (e) {
      throw new ReportError(
        p,
        `cannot write the report file (${(e as NodeJS.ErrnoException).code ?? String(e)}); pass a writable --out directory`,
      );
    }
    paths.push(p);
  }
  return { paths, json };
}
