/** What `tell` accepts, and its resolution into a storage outcome. */
import type { Config, ObjectiveSpec, TrialOutcome } from '../../trials/index.js';
import { TellValuesError } from './errors.js';

/**
 * What `tell` accepts for a finished trial:
 * - all objective values in objective order;
 * - only the values of the objectives without `known` (in objective order): the study computes the rest;
 * - an object by objective name (known objectives may be left out);
 * - `{ state: 'FAILED', reason }` or `{ state: 'PRUNED', reason? }`, or a storage `TrialOutcome`.
 */
export type TellArg = readonly number[] | Readonly<Record<string, number>> | TrialOutcome;

/**
 * Turns a tell argument into a storage outcome, computing known objectives from the trial's config
 * (read through `configOf`, once, only when a known objective is missing). `where` names the trial.
 */
export async function resolveTellArg(
  result: TellArg,
  objs: readonly ObjectiveSpec[],
  where: string,
  configOf: () => Promise<Config>,
): Promise<TrialOutcome> {
  if (!Array.isArray(result) && typeof (result as { state?: unknown }).state === 'string')
    return result as TrialOutcome;
  const unknownIdx = objs.flatMap((o, i) => (o.known ? [] : [i]));
  const given = new Map<number, number>();
  if (Array.isArray(result)) {
    const arr = result as readonly number[];
    if (arr.length === objs.length)
      arr.forEach((v, i) => {
        given.set(i, v);
      });
    else if (arr.length === unknownIdx.length)
      arr.forEach((v, j) => {
        given.set(unknownIdx[j]!, v);
      });
    else {
      throw new TellValuesError(
        `${where}: got ${arr.length} values; pass all ${objs.length} (${objs.map((o) => o.name).join(', ')}) or only the ${unknownIdx.length} not known (${unknownIdx.map((i) => objs[i]!.name).join(', ') || 'none'})`,
      );
    }
  } else {
    const rec = result as Readonly<Record<string, number>>;
    for (const key of Object.keys(rec)) {
      const i = objs.findIndex((o) => o.name === key);
      if (i < 0)
        throw new TellValuesError(`${where}: "${key}" is not an objective (${objs.map((o) => o.name).join(', ')})`);
      given.set(i, rec[key]!);
    }
  }
  let config: Config | undefined;
  const values: number[] = [];
  for (const [i, o] of objs.entries()) {
    const v = given.get(i);
    if (v !== undefined) {
      values.push(v);
      continue;
    }
    if (!o.known)
      throw new TellValuesError(`${where}: no value for objective "${o.name}"; pass it or tell the trial FAILED`);
    config ??= await configOf();
    const k = o.known(config);
    if (!Number.isFinite(k))
      throw new TellValuesError(
        `${where}: known objective "${o.name}" computed ${k} from the config; fix its known() function`,
      );
    values.push(k);
  }
  return { state: 'COMPLETE', values };
}
