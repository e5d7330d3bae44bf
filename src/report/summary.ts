/** The report's summary as key/value lines, shared by the Markdown and HTML writers. */
import { count, formatDuration, formatNumber, formatPct, span } from './format.js';
import type { PairEncoding, ReportJson, TrialState } from './types.js';
import type { ReportView } from './view.js';

/** The summary's words for each pair encoding. */
const PAIR_ENCODING_TEXT: Record<PairEncoding, string> = {
  cross: 'cross (each pair as one sequence: first text, separator, second text)',
  siamese: 'siamese (each text encoded on its own by the shared encoder and PEFT modules; head over both vectors)',
};

const STATES: TrialState[] = ['COMPLETE', 'FAILED', 'PRUNED', 'RUNNING', 'WAITING'];

export function summaryLines(v: ReportView): [string, string][] {
  const { data, front } = v;
  const counts = STATES.map((s) => [s, data.trials.filter((t) => t.state === s).length] as const).filter(
    ([s, n]) => n > 0 || s === 'COMPLETE' || s === 'FAILED',
  );
  const lines: [string, string][] = [
    ['study', data.study],
    ['task', data.task],
    ['model', data.model],
    ...(data.pairEncoding ? [['pair encoding', PAIR_ENCODING_TEXT[data.pairEncoding]] as [string, string]] : []),
    ['objectives', data.objectives.map((o) => `${o.label ?? o.name} (${o.direction})`).join(', ')],
    ['trials', `${data.trials.length}: ${counts.map(([s, n]) => `${n} ${s.toLowerCase()}`).join(', ')}`],
    [
      'hypervolume',
      `${formatNumber(v.finalHypervolume)} (reference point: ${v.metricLabel} ${formatNumber(data.refPoint[0])}, ${formatPct(data.refPoint[1])} % params)`,
    ],
  ];
  if (front.length > 0) {
    const ms = front.map((t) => t.metric);
    lines.push([
      'Pareto front',
      `${count(front.length, 'configuration')}, ${span(formatPct(front[0].paramPct), formatPct(front[front.length - 1].paramPct))} % params, ` +
        `${v.metricLabel} ${span(formatNumber(Math.min(...ms)), formatNumber(Math.max(...ms)))}`,
    ]);
  } else {
    lines.push(['Pareto front', 'empty (no completed trial yet)']);
  }
  const best = v.complete.reduce<(typeof v.complete)[number] | null>((b, t) => {
    if (!b) return t;
    const better = data.objectives[0].direction === 'maximize' ? t.metric > b.metric : t.metric < b.metric;
    return better ? t : b;
  }, null);
  if (best)
    lines.push([
      `best ${v.metricLabel}`,
      `${formatNumber(best.metric)} (trial ${best.number}, ${formatPct(best.paramPct)} % params)`,
    ]);
  const durations = data.trials.flatMap((t) => (t.durationMs === undefined ? [] : [t.durationMs]));
  if (durations.length > 0) {
    const total = durations.reduce((a, b) => a + b, 0);
    lines.push([
      'training time',
      `${formatDuration(total)} in all, ${formatDuration(total / durations.length)} per trial on average`,
    ]);
  }
  for (const [k, val] of Object.entries(data.settings ?? {})) lines.push([k, String(val)]);
  return lines;
}

/** The machine-readable summary: exactly the keys of ReportJson, front sorted by paramPct. */
export function reportJson(v: ReportView): ReportJson {
  return {
    study: v.data.study,
    trials: { complete: v.complete.length, failed: v.failed.length },
    hypervolume: v.finalHypervolume,
    refPoint: [v.data.refPoint[0], v.data.refPoint[1]],
    front: v.front.map((t) => ({ trial: t.number, metric: t.metric, paramPct: t.paramPct, config: { ...t.config } })),
    allTrials: v.trials.map((t) => ({ ...t, config: { ...t.config } })),
    hypervolumeHistory: [...v.data.hypervolume],
    ...(v.data.pairEncoding ? { pairEncoding: v.data.pairEncoding } : {}),
    ...(v.data.baselines && v.data.baselines.length > 0 ? { baselines: v.data.baselines.map((b) => ({ ...b })) } : {}),
    ...(v.data.retrain ? { retrain: v.data.retrain } : {}),
    ...(v.data.transfer && v.data.transfer.length > 0 ? { transfer: v.data.transfer } : {}),
  };
}
