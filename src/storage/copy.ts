/**
 * Copying a study between storages, losslessly (`autopeft copy-study`, e.g. SQLite -> PostgreSQL
 * to scale a search out, and back to archive it): the study record and every trial row as stored
 * (numbers, states, times, worker ids, interrupt links, intermediate values), through each
 * backend's `importStudy`.
 */
import { InvalidInputError } from './errors.js';
import type { TrialRow } from './rows.js';
import type { Storage, StudyRecord, TrialRecord } from './types.js';
import { checkAttrs, checkConfig, checkStudySpec } from './validate.js';

/** The stored row of a trial snapshot (the inverse of `toTrialRecord`). */
export function trialRowOf(t: TrialRecord): TrialRow {
  return {
    number: t.number,
    state: t.state,
    config: JSON.stringify(t.config),
    values: t.values === undefined ? null : JSON.stringify(t.values),
    reason: t.reason ?? null,
    userAttrs: JSON.stringify(t.userAttrs),
    workerId: t.workerId ?? null,
    createdAt: t.createdAt,
    startedAt: t.startedAt ?? null,
    finishedAt: t.finishedAt ?? null,
    heartbeatAt: t.heartbeatAt ?? null,
    interrupted: t.interrupted ?? null,
    requeuedFrom: t.requeuedFrom ?? null,
    requeuedAs: t.requeuedAs ?? null,
    intermediate: t.intermediateValues === undefined ? null : JSON.stringify(t.intermediateValues),
  };
}

/** Checks what an `importStudy` is given: a valid study and trials numbered 0..n-1 in order. */
export function checkImport(study: StudyRecord, trials: readonly TrialRecord[]): void {
  checkStudySpec(study);
  checkAttrs({ ...study.systemAttrs }, `study "${study.name}" systemAttrs`);
  trials.forEach((t, i) => {
    if (t.number !== i)
      throw new InvalidInputError(
        `study "${study.name}": imported trials must be numbered 0..n-1 in order, found #${t.number} at position ${i}`,
      );
    checkConfig(t.config, `study "${study.name}" trial #${i}`);
    checkAttrs({ ...t.userAttrs }, `study "${study.name}" trial #${i} userAttrs`);
  });
}

/** Copies study `name` of `from` into `to` (as `as`, default the same name); `to` must not hold it. */
export async function copyStudy(from: Storage, to: Storage, name: string, as = name): Promise<number> {
  if (!to.importStudy)
    throw new InvalidInputError(
      `${to.location} cannot import studies; copy into an SQLite file or a PostgreSQL database`,
    );
  const study = await from.getStudy(name);
  const trials = await from.listTrials(name);
  await to.importStudy({ ...study, name: as }, trials);
  return trials.length;
}
