/** The study report renderer: ReportData in, Markdown/HTML/JSON/SVG files out. */
export { renderReport, reportJsonLine, writeReport, type RenderedReport } from './write.js';
export { hypervolumeSvg, placementSvg, retrainSvg, scatterSvg } from './charts.js';
export { buildView, type ReportView } from './view.js';
export { reportJson } from './summary.js';
export { ReportError } from './errors.js';
export { reportTrialsFromFrozen } from './adapt.js';
export type {
  BaselinePoint,
  ReportData,
  ReportJson,
  ReportObjective,
  ReportOptions,
  ReportTrial,
  RetrainData,
  RetrainResult,
  TransferData,
  TransferResult,
} from './types.js';
