/**
 * From the search room's stored trials to the report's: objective values in study order
 * [metric, paramPct] become `metric`/`paramPct`, start/finish times become a duration.
 */
import type { FrozenTrial } from '../search/types.js';
import type { ReportTrial } from './types.js';

/** One ReportTrial per FrozenTrial, same order. Values are read only for COMPLETE trials. */
export function reportTrialsFromFrozen(trials: readonly FrozenTrial[]): ReportTrial[] {
  return trials.map((t) => {
    const r: ReportTrial = { number: t.number, state: t.state, config: { ...t.config } };
    if (t.state === 'COMPLETE' && t.values) {
      r.metric = t.values[0];
      r.paramPct = t.values[1];
    }
    if (t.startedAt !== undefined && t.finishedAt !== undefined && t.finishedAt >= t.startedAt)
      r.durationMs = t.finishedAt - t.startedAt;
    if (t.reason !== undefined) r.reason = t.reason;
    if (t.intermediateValues?.length) r.intermediateValues = t.intermediateValues.map((p) => ({ ...p }));
    const prunedAt = t.userAttrs['prunedAt'];
    if (t.state === 'PRUNED' && typeof prunedAt === 'number') r.prunedAt = prunedAt;
    return r;
  });
}
