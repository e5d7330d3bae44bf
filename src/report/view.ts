/**
 * The derived view every writer shares: trials split by state, the front sorted the way the report
 * shows it (paramPct ascending, then trial number), objective labels.
 */
import { validateReportData } from './validate.js';
import type { ReportData, ReportTrial } from './types.js';

/** A COMPLETE trial: metric and paramPct are present. */
export type CompleteTrial = ReportTrial & { metric: number; paramPct: number };

export interface ReportView {
  data: ReportData;
  byNumber: Map<number, ReportTrial>;
  /** Every trial in trial-number order, whatever its state. */
  trials: ReportTrial[];
  /** COMPLETE trials in trial-number order. */
  complete: CompleteTrial[];
  failed: ReportTrial[];
  /** Front trials sorted by paramPct ascending, then trial number. */
  front: CompleteTrial[];
  frontSet: Set<number>;
  metricLabel: string;
  pctLabel: string;
  /** Hypervolume after the last completed trial, 0 when there is none. */
  finalHypervolume: number;
}

const isComplete = (t: ReportTrial): t is CompleteTrial => t.state === 'COMPLETE';

/** Validates (throws ReportError) and derives the view. */
export function buildView(data: ReportData): ReportView {
  const byNumber = validateReportData(data);
  const sorted = [...data.trials].sort((a, b) => a.number - b.number);
  const complete = sorted.filter(isComplete);
  const front = data.front
    .map((n) => byNumber.get(n) as CompleteTrial)
    .sort((a, b) => a.paramPct - b.paramPct || a.number - b.number);
  const hv = data.hypervolume;
  return {
    data,
    byNumber,
    trials: sorted,
    complete,
    failed: sorted.filter((t) => t.state === 'FAILED'),
    front,
    frontSet: new Set(data.front),
    metricLabel: data.objectives[0].label ?? data.objectives[0].name,
    pctLabel: data.objectives[1].label ?? data.objectives[1].name,
    finalHypervolume: hv.length === 0 ? 0 : hv[hv.length - 1],
  };
}
