/**
 * Checks shared by every backend, so that all of them reject the same inputs with the same errors
 * and store only values that survive a JSON round trip unchanged.
 */
import {
  INTERRUPT_KINDS,
  type AttrValue,
  type Config,
  type Direction,
  type InterruptOptions,
} from '../trials/index.js';
import { InvalidInputError } from './errors.js';
import type { StudySpec, TrialInit, TrialOutcome } from './types.js';

const DIRECTIONS: readonly Direction[] = ['maximize', 'minimize'];

/** Returns the objective names (defaulted) after checking counts, uniqueness and directions. */
export function checkStudySpec(spec: StudySpec): string[] {
  if (typeof spec.name !== 'string' || spec.name.length === 0) {
    throw new InvalidInputError(
      'a study name must be a non-empty string; give the study a name (e.g. --study my-study)',
    );
  }
  if (!Array.isArray(spec.directions) || spec.directions.length === 0) {
    throw new InvalidInputError(`study "${spec.name}": directions must list at least one of 'maximize' | 'minimize'`);
  }
  for (const d of spec.directions) {
    if (!DIRECTIONS.includes(d)) {
      throw new InvalidInputError(`study "${spec.name}": direction "${String(d)}" is not 'maximize' or 'minimize'`);
    }
  }
  const names = spec.objectiveNames ? [...spec.objectiveNames] : spec.directions.map((_, i) => `objective_${i}`);
  if (names.length !== spec.directions.length) {
    throw new InvalidInputError(
      `study "${spec.name}": ${spec.directions.length} directions but ${names.length} objective names; give one name per direction`,
    );
  }
  if (new Set(names).size !== names.length || names.some((n) => typeof n !== 'string' || n.length === 0)) {
    throw new InvalidInputError(
      `study "${spec.name}": objective names must be unique non-empty strings, got ${JSON.stringify(names)}`,
    );
  }
  if (spec.userAttrs !== undefined) checkAttrs(spec.userAttrs, `study "${spec.name}" userAttrs`);
  if (spec.systemAttrs !== undefined) checkAttrs(spec.systemAttrs, `study "${spec.name}" systemAttrs`);
  return names;
}

export function checkConfig(config: Config, where: string): void {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new InvalidInputError(`${where}: config must be an object of name -> number | boolean | string`);
  }
  for (const [k, v] of Object.entries(config)) {
    const t = typeof v;
    if (t === 'string' || t === 'boolean') continue;
    if (t === 'number' && Number.isFinite(v)) continue;
    throw new InvalidInputError(`${where}: config.${k} = ${String(v)} is not a finite number, boolean or string`);
  }
}

function checkAttrValue(v: unknown, path: string, depth: number): void {
  if (depth > 64) throw new InvalidInputError(`${path}: nested deeper than 64 levels`);
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    // NOTE: JSON has no NaN/Infinity; storing them would silently read back as null.
    if (!Number.isFinite(v))
      throw new InvalidInputError(`${path} = ${v} is not finite; store null or a string instead`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      checkAttrValue(x, `${path}[${i}]`, depth + 1);
    });
    return;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) checkAttrValue(x, `${path}.${k}`, depth + 1);
    return;
  }
  throw new InvalidInputError(
    `${path} is a ${typeof v === 'object' ? 'non-plain object' : typeof v}; attributes must be JSON values`,
  );
}

export function checkAttrs(attrs: Record<string, AttrValue>, where: string): void {
  if (attrs === null || typeof attrs !== 'object' || Array.isArray(attrs)) {
    throw new InvalidInputError(`${where} must be an object of key -> JSON value`);
  }
  for (const [k, v] of Object.entries(attrs)) checkAttrValue(v, `${where}.${k}`, 0);
}

export function checkValues(
  values: readonly number[],
  nObjectives: number,
  objectiveNames: readonly string[],
  where: string,
): void {
  if (!Array.isArray(values) || values.length !== nObjectives) {
    const got = Array.isArray(values) ? `${values.length} values` : typeof values;
    throw new InvalidInputError(
      `${where}: got ${got} but the study has ${nObjectives} objectives (${objectiveNames.join(', ')}); pass one value per objective in that order`,
    );
  }
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InvalidInputError(
        `${where}: value of ${objectiveNames[i]} is ${String(v)}, not a finite number; tell the trial FAILED instead`,
      );
    }
  });
}

export function checkTrialInit(
  init: TrialInit,
  nObjectives: number,
  objectiveNames: readonly string[],
  where: string,
): void {
  checkConfig(init.config, where);
  if (init.userAttrs !== undefined) checkAttrs(init.userAttrs, `${where} userAttrs`);
  switch (init.state) {
    case 'WAITING':
      return;
    case 'RUNNING':
      checkWorkerId(init.workerId, `${where} (RUNNING)`);
      return;
    case 'COMPLETE':
      checkValues(init.values, nObjectives, objectiveNames, where);
      return;
    case 'FAILED':
    case 'PRUNED':
      if (init.reason !== undefined && typeof init.reason !== 'string')
        throw new InvalidInputError(`${where}: reason must be a string`);
      return;
    default:
      throw new InvalidInputError(
        `${where}: unknown trial state ${JSON.stringify((init as { state: unknown }).state)}`,
      );
  }
}

export function checkOutcome(
  outcome: TrialOutcome,
  nObjectives: number,
  objectiveNames: readonly string[],
  where: string,
): void {
  switch (outcome?.state) {
    case 'COMPLETE':
      checkValues(outcome.values, nObjectives, objectiveNames, where);
      return;
    case 'FAILED':
      if (typeof outcome.reason !== 'string')
        throw new InvalidInputError(`${where}: a FAILED outcome needs a reason string`);
      return;
    case 'PRUNED':
      if (outcome.reason !== undefined && typeof outcome.reason !== 'string')
        throw new InvalidInputError(`${where}: reason must be a string`);
      return;
    default:
      throw new InvalidInputError(
        `${where}: outcome state must be COMPLETE, FAILED or PRUNED, got ${JSON.stringify((outcome as { state?: unknown } | undefined)?.state)}`,
      );
  }
}

export function checkIntermediate(step: number, value: number, where: string): void {
  if (typeof step !== 'number' || !Number.isFinite(step) || step < 0)
    throw new InvalidInputError(`${where}: intermediate step must be a finite number >= 0, got ${String(step)}`);
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new InvalidInputError(
      `${where}: intermediate value at step ${step} is ${String(value)}, not a finite number`,
    );
}

export function checkWorkerId(workerId: string, where: string): void {
  if (typeof workerId !== 'string' || workerId.length === 0)
    throw new InvalidInputError(`${where}: workerId must be a non-empty string`);
}

export function checkTrialNumber(number: number, where: string): void {
  if (!Number.isInteger(number) || number < 0)
    throw new InvalidInputError(`${where}: trial number must be a non-negative integer, got ${number}`);
}

export function checkOlderThan(ms: number, where: string): void {
  if (typeof ms !== 'number' || !(ms >= 0))
    throw new InvalidInputError(`${where}: olderThanMs must be a number >= 0, got ${String(ms)}`);
}

export function checkInterrupt(options: InterruptOptions, where: string): void {
  if (!INTERRUPT_KINDS.includes(options?.kind))
    throw new InvalidInputError(
      `${where}: interrupt kind must be one of ${INTERRUPT_KINDS.join(', ')}, got ${JSON.stringify(options?.kind)}`,
    );
  if (options.reason !== undefined && typeof options.reason !== 'string')
    throw new InvalidInputError(`${where}: reason must be a string`);
}

export function checkMaxTrials(max: number | undefined, where: string): void {
  if (max !== undefined && !(Number.isInteger(max) && max >= 0))
    throw new InvalidInputError(`${where}: maxTrials must be an integer >= 0, got ${String(max)}`);
}

/** Freezes a JSON-like value in place, recursively, and returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
