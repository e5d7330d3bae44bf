/** The pipeline room: the AutoPEFT search loop and what follows it (retrain, baselines, transfer, export, report data). */
export { runSearch, type SearchOptions, type SearchEvent, type SearchOutcome } from './search.js';
export {
  retrainFront,
  runBaselines,
  transferFront,
  defaultBaselines,
  frontTrials,
  type BaselineSpec,
  type TransferRecord,
  type FollowupOptions,
} from './followup.js';
export { exportAdapter, type ExportResult } from './export.js';
export { summarizeStudy, referencePoint, hypervolumeOf, type StudySummary } from './report.js';
export { runTrials, type BatchEvents } from './batch.js';
export { readSetup, meanStd, type SearchSetup, type RetrainRecord, type BaselineRecord } from './attrs.js';
