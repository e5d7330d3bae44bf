/** The stored shape of a trial, shared by the backends, and its conversion to a frozen snapshot. */
import type { AttrValue, IntermediateValue, InterruptKind, TrialState } from '../trials/index.js';
import type { TrialInit, TrialRecord } from './types.js';
import { deepFreeze } from './validate.js';

/** Config, values and attrs as JSON text; optional times as null. */
export interface TrialRow {
  number: number;
  state: TrialState;
  config: string;
  values: string | null;
  reason: string | null;
  userAttrs: string;
  workerId: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  heartbeatAt: number | null;
  interrupted: InterruptKind | null;
  requeuedFrom: number | null;
  requeuedAs: number | null;
  /** JSON array of `IntermediateValue`s sorted by step; null (or absent) when none was reported. */
  intermediate?: string | null;
}

/** `json` (a row's intermediate values) with `value` at `step`, replacing an earlier report of that step. */
export function withIntermediate(json: string | null | undefined, step: number, value: number): string {
  const list = json === null || json === undefined ? [] : (JSON.parse(json) as IntermediateValue[]);
  const kept = list.filter((p) => p.step !== step);
  kept.push({ step, value });
  kept.sort((a, b) => a.step - b.step);
  return JSON.stringify(kept);
}

export function toTrialRecord(row: TrialRow): TrialRecord {
  const t: {
    -readonly [K in keyof TrialRecord]: TrialRecord[K];
  } = {
    number: row.number,
    state: row.state,
    config: JSON.parse(row.config),
    userAttrs: JSON.parse(row.userAttrs) as Record<string, AttrValue>,
    createdAt: row.createdAt,
  };
  if (row.values !== null) t.values = JSON.parse(row.values) as number[];
  if (row.reason !== null) t.reason = row.reason;
  if (row.startedAt !== null) t.startedAt = row.startedAt;
  if (row.finishedAt !== null) t.finishedAt = row.finishedAt;
  if (row.heartbeatAt !== null) t.heartbeatAt = row.heartbeatAt;
  if (row.workerId !== null) t.workerId = row.workerId;
  if (row.interrupted !== null) t.interrupted = row.interrupted;
  if (row.requeuedFrom !== null) t.requeuedFrom = row.requeuedFrom;
  if (row.requeuedAs !== null) t.requeuedAs = row.requeuedAs;
  if (row.intermediate !== null && row.intermediate !== undefined)
    t.intermediateValues = JSON.parse(row.intermediate) as IntermediateValue[];
  return deepFreeze(t);
}

/** Builds the stored row of a new trial (shared with the SQLite backend); `requeuedFrom` for re-runs. */
export function newTrialRow(
  number: number,
  init: TrialInit,
  now: number,
  requeuedFrom: number | null = null,
): TrialRow {
  const row: TrialRow = {
    number,
    state: init.state,
    config: JSON.stringify(init.config),
    values: null,
    reason: null,
    userAttrs: JSON.stringify(init.userAttrs ?? {}),
    workerId: null,
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    heartbeatAt: null,
    interrupted: null,
    requeuedFrom,
    requeuedAs: null,
    intermediate: null,
  };
  switch (init.state) {
    case 'WAITING':
      break;
    case 'RUNNING':
      row.workerId = init.workerId;
      row.startedAt = now;
      row.heartbeatAt = now;
      break;
    case 'COMPLETE':
      row.values = JSON.stringify(init.values);
      row.startedAt = init.startedAt ?? null;
      row.finishedAt = init.finishedAt ?? now;
      break;
    case 'FAILED':
    case 'PRUNED':
      row.reason = init.reason ?? null;
      row.startedAt = init.startedAt ?? null;
      row.finishedAt = init.finishedAt ?? now;
      break;
  }
  return row;
}
