/** The stored shape of a trial, shared by the backends, and its conversion to a frozen snapshot. */
import type { AttrValue, Direction, IntermediateValue, InterruptKind, TrialState } from '../trials/index.js';
import type { StudyRecord, TrialInit, TrialRecord } from './types.js';
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

/** A `studies` row of the SQL backends (SQLite, PostgreSQL): attributes and names as JSON text. */
export interface StudyRow {
  id: number;
  name: string;
  directions: string;
  objective_names: string;
  user_attrs: string;
  system_attrs: string;
  created_at: number;
}

export function studyRecord(r: StudyRow): StudyRecord {
  return deepFreeze({
    name: r.name,
    directions: JSON.parse(r.directions) as Direction[],
    objectiveNames: JSON.parse(r.objective_names) as string[],
    userAttrs: JSON.parse(r.user_attrs) as Record<string, AttrValue>,
    systemAttrs: JSON.parse(r.system_attrs) as Record<string, AttrValue>,
    createdAt: r.created_at,
  });
}

/** The `trials` columns of the SQL backends under `TrialRow`'s field names, ready for `toTrialRecord`. */
export const TRIAL_COLUMNS = `number, state, config, values_json AS "values", reason, user_attrs AS "userAttrs",
  worker_id AS "workerId", created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt",
  heartbeat_at AS "heartbeatAt", interrupted, requeued_from AS "requeuedFrom", requeued_as AS "requeuedAs",
  intermediate`;

/** The columns a trial insert writes after `study_id`, in the order of `trialValues`. */
export const TRIAL_INSERT_COLUMNS = `number, state, config, values_json, reason, user_attrs, worker_id, created_at,
  started_at, finished_at, heartbeat_at, interrupted, requeued_from, requeued_as, intermediate`;

/** A row's values for `TRIAL_INSERT_COLUMNS`. */
export function trialValues(row: TrialRow): (string | number | null)[] {
  return [
    row.number,
    row.state,
    row.config,
    row.values,
    row.reason,
    row.userAttrs,
    row.workerId,
    row.createdAt,
    row.startedAt,
    row.finishedAt,
    row.heartbeatAt,
    row.interrupted,
    row.requeuedFrom,
    row.requeuedAs,
    row.intermediate ?? null,
  ];
}

/** SQL: the trials that count toward a target (`countsTowardTarget`): all but the interrupted ones. */
export const COUNTED = `NOT (state = 'FAILED' AND interrupted IS NOT NULL)`;

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
