/**
 * A declarative mixed search space: bool, int (a range or an explicit sorted list of values),
 * categorical and float parameters, plus an optional validity constraint.
 *
 * Configs are plain `Config` objects (param name -> value). For the GP each config is encoded to a
 * point of [0,1]^dim: bools as 0/1, ints as their index / (count - 1) (ordered), floats linearly (or
 * in log space), categoricals with 2 choices as 0/1 and with k > 2 choices one-hot (k dims: an
 * unordered choice must not get a fake order).
 */
import type { Config, ParamValue } from '../types.js';
import { SearchSpaceError } from './errors.js';
import type { Rng } from '../../core/random.js';

export interface BoolParam {
  kind: 'bool';
  name: string;
}
export interface IntParam {
  kind: 'int';
  name: string;
  /** Inclusive range (step 1) ... */
  low?: number;
  high?: number;
  /** ... or an explicit strictly increasing list of allowed values (e.g. adapter sizes). */
  values?: readonly number[];
}
export interface CategoricalParam {
  kind: 'categorical';
  name: string;
  choices: readonly (string | number | boolean)[];
}
export interface FloatParam {
  kind: 'float';
  name: string;
  low: number;
  high: number;
  /** Sample and encode in log space (low must be > 0). */
  log?: boolean;
}
export type ParamDef = BoolParam | IntParam | CategoricalParam | FloatParam;

export interface SpaceOptions {
  /** Returns true when a config is allowed; configs failing it are never sampled or proposed. */
  constraint?: (config: Config) => boolean;
  /** Says in words what the constraint requires (used in error messages). */
  constraintText?: string;
}

/** Internal normalised view of one parameter. */
interface Slot {
  def: ParamDef;
  /** Encoded offset and width. */
  offset: number;
  width: number;
  /** Number of discrete values (Infinity for floats). */
  count: number;
}

/** Fraction of a float's (log) range that one neighbour step moves. */
const FLOAT_STEP = 0.1;

export class SearchSpace {
  readonly params: readonly ParamDef[];
  /** Encoded dimension. */
  readonly dim: number;
  private readonly slots: Slot[];
  private readonly constraint?: (config: Config) => boolean;
  private readonly constraintText: string;

  constructor(params: readonly ParamDef[], options: SpaceOptions = {}) {
    if (params.length === 0) throw new SearchSpaceError('search space: no parameters; declare at least one param');
    const seen = new Set<string>();
    const slots: Slot[] = [];
    let offset = 0;
    for (const p of params) {
      if (seen.has(p.name))
        throw new SearchSpaceError(`search space: duplicate param name "${p.name}"; names must be unique`);
      seen.add(p.name);
      const count = validateDef(p);
      const width = p.kind === 'categorical' && p.choices.length > 2 ? p.choices.length : 1;
      slots.push({ def: p, offset, width, count });
      offset += width;
    }
    this.params = params;
    this.slots = slots;
    this.dim = offset;
    if (options.constraint) this.constraint = options.constraint;
    this.constraintText = options.constraintText ?? 'the space constraint';
  }

  /** True iff every param is present with an allowed value and the constraint holds. */
  isValid(config: Config): boolean {
    for (const s of this.slots) if (!inDomain(s.def, config[s.def.name])) return false;
    return this.constraint ? this.constraint(config) : true;
  }

  /** Throws a SearchSpaceError naming the first bad field. */
  check(config: Config): void {
    for (const s of this.slots) {
      const v = config[s.def.name];
      if (!inDomain(s.def, v)) {
        throw new SearchSpaceError(
          `config field "${s.def.name}": ${JSON.stringify(v)} is not allowed; expected ${describe(s.def)}`,
        );
      }
    }
    if (this.constraint && !this.constraint(config)) {
      throw new SearchSpaceError(
        `config ${this.key(config)} violates ${this.constraintText}; change it so that it holds`,
      );
    }
  }

  /**
   * Throws a SearchSpaceError when a field is missing or outside its domain (the constraint is not
   * checked: a hand-enqueued config may break it and still be modelled). `where` names the source.
   */
  checkDomain(config: Config, where = 'config'): void {
    for (const s of this.slots) {
      const v = config[s.def.name];
      if (!inDomain(s.def, v)) {
        throw new SearchSpaceError(
          `${where}: field "${s.def.name}" is ${JSON.stringify(v) ?? 'missing'}, expected ${describe(s.def)}; was it made for another search space?`,
        );
      }
    }
  }

  /** Canonical string of a config (param order, only the space's params): the dedup key. */
  key(config: Config): string {
    const vals: ParamValue[] = [];
    for (const s of this.slots) vals.push(config[s.def.name]!);
    return JSON.stringify(vals);
  }

  /** One draw from the product of independent uniforms (may be invalid). */
  private sampleRaw(rng: Rng): Config {
    const c: Config = {};
    for (const s of this.slots) c[s.def.name] = valueAt(s.def, s.count === Infinity ? rng.float() : rng.int(s.count));
    return c;
  }

  /**
   * A uniform draw from the valid configs: rejection sampling from the product of uniforms is exact
   * (each valid config keeps its equal probability). Throws when the constraint rejects ~everything.
   */
  sample(rng: Rng, maxTries = 10000): Config {
    for (let t = 0; t < maxTries; t++) {
      const c = this.sampleRaw(rng);
      if (!this.constraint || this.constraint(c)) return c;
    }
    throw new SearchSpaceError(
      `search space: ${maxTries} random draws all violate ${this.constraintText}; loosen the constraint`,
    );
  }

  /**
   * All valid neighbours of a config: each bool flipped; each int moved one value up/down; each
   * categorical swapped to every other choice; each float moved +-10% of its (log) range.
   */
  neighbours(config: Config): Config[] {
    const out: Config[] = [];
    for (const s of this.slots) {
      for (const v of this.neighbourValues(s, config[s.def.name]!)) {
        const c = { ...config, [s.def.name]: v };
        if (!this.constraint || this.constraint(c)) out.push(c);
      }
    }
    return out;
  }

  private neighbourValues(s: Slot, v: ParamValue): ParamValue[] {
    const p = s.def;
    switch (p.kind) {
      case 'bool':
        return [!v];
      case 'categorical':
        return p.choices.filter((c) => c !== v);
      case 'int': {
        const i = indexOf(p, v);
        const out: ParamValue[] = [];
        if (i > 0) out.push(valueAt(p, i - 1));
        if (i < s.count - 1) out.push(valueAt(p, i + 1));
        return out;
      }
      case 'float': {
        const u = encodeFloat(p, v as number);
        const out: ParamValue[] = [];
        if (u > 0) out.push(valueAt(p, Math.max(0, u - FLOAT_STEP)));
        if (u < 1) out.push(valueAt(p, Math.min(1, u + FLOAT_STEP)));
        return out;
      }
    }
  }

  /**
   * Makes a config valid with few changes: breadth-first over neighbour moves (ignoring the
   * constraint on the way) up to `depth` steps, picking uniformly among the valid configs found at
   * the smallest depth; falls back to a uniform valid sample.
   */
  repair(config: Config, rng: Rng, depth = 3): Config {
    const base = this.clamp(config);
    if (this.isValid(base)) return base;
    let frontier: Config[] = [base];
    const seen = new Set<string>([this.key(base)]);
    for (let d = 0; d < depth; d++) {
      const next: Config[] = [];
      const valid: Config[] = [];
      for (const c of frontier) {
        for (const s of this.slots) {
          for (const v of this.neighbourValues(s, c[s.def.name]!)) {
            const n = { ...c, [s.def.name]: v };
            const k = this.key(n);
            if (seen.has(k)) continue;
            seen.add(k);
            if (!this.constraint || this.constraint(n)) valid.push(n);
            else next.push(n);
          }
        }
      }
      if (valid.length > 0) return rng.pick(valid);
      // NOTE: cap the frontier so a deep repair in a big space stays cheap.
      frontier = next.length > 256 ? rng.shuffle(next).slice(0, 256) : next;
    }
    return this.sample(rng);
  }

  /** Snaps every field to its domain (missing fields get a default) without checking the constraint. */
  private clamp(config: Config): Config {
    const c: Config = {};
    for (const s of this.slots) {
      const v = config[s.def.name];
      c[s.def.name] = inDomain(s.def, v) ? v! : valueAt(s.def, s.count === Infinity ? 0.5 : 0);
    }
    return c;
  }

  /**
   * Moves one param to a random neighbouring value (bool flip, int step, categorical swap, float
   * step); the constraint is not checked. Returns the config unchanged when the param has no neighbour.
   */
  mutateParam(config: Config, name: string, rng: Rng): Config {
    const s = this.slots.find((x) => x.def.name === name);
    if (!s) throw new SearchSpaceError(`search space: no param "${name}"`);
    const vals = this.neighbourValues(s, config[name]!);
    return vals.length === 0 ? config : { ...config, [name]: rng.pick(vals) };
  }

  /** A valid random neighbour, or the config itself when it has none. */
  randomNeighbour(config: Config, rng: Rng): Config {
    const ns = this.neighbours(config);
    return ns.length === 0 ? config : rng.pick(ns);
  }

  /** Encodes a config to [0,1]^dim, written into `out` at `offset` (allocated when absent). */
  encode(config: Config, out?: Float64Array, offset = 0): Float64Array {
    const x = out ?? new Float64Array(this.dim);
    for (const s of this.slots) {
      const p = s.def;
      const v = config[p.name]!;
      const o = offset + s.offset;
      switch (p.kind) {
        case 'bool':
          x[o] = v ? 1 : 0;
          break;
        case 'int':
          x[o] = s.count === 1 ? 0.5 : indexOf(p, v) / (s.count - 1);
          break;
        case 'float':
          x[o] = encodeFloat(p, v as number);
          break;
        case 'categorical': {
          const i = p.choices.indexOf(v);
          if (s.width === 1) x[o] = s.count === 1 ? 0.5 : i;
          else for (let k = 0; k < s.width; k++) x[o + k] = k === i ? 1 : 0;
          break;
        }
      }
    }
    return x;
  }

  /** Encodes many configs: n x dim row-major. */
  encodeAll(configs: readonly Config[]): Float64Array {
    const X = new Float64Array(configs.length * this.dim);
    configs.forEach((c, i) => {
      this.encode(c, X, i * this.dim);
    });
    return X;
  }

  /** Decodes a point of R^dim (clipped to [0,1]) to the nearest config; the constraint is not checked. */
  decode(x: ArrayLike<number>, offset = 0): Config {
    const c: Config = {};
    for (const s of this.slots) {
      const p = s.def;
      const o = offset + s.offset;
      const u = Math.min(1, Math.max(0, x[o]!));
      if (p.kind === 'float') c[p.name] = valueAt(p, u);
      else if (p.kind === 'categorical' && s.width > 1) {
        let best = 0;
        for (let k = 1; k < s.width; k++) if (x[o + k]! > x[o + best]!) best = k;
        c[p.name] = p.choices[best]!;
      } else c[p.name] = valueAt(p, s.count === 1 ? 0 : Math.round(u * (s.count - 1)));
    }
    return c;
  }

  /** Number of discrete values of a param (Infinity for floats). */
  cardinality(name: string): number {
    const s = this.slots.find((x) => x.def.name === name);
    if (!s) throw new SearchSpaceError(`search space: no param "${name}"`);
    return s.count;
  }
}

function validateDef(p: ParamDef): number {
  const where = `search space param "${p.name}"`;
  switch (p.kind) {
    case 'bool':
      return 2;
    case 'categorical':
      if (p.choices.length === 0) throw new SearchSpaceError(`${where}: empty choices; give at least one choice`);
      if (new Set(p.choices).size !== p.choices.length)
        throw new SearchSpaceError(`${where}: duplicate choices; make them unique`);
      return p.choices.length;
    case 'int':
      if (p.values) {
        if (p.values.length === 0) throw new SearchSpaceError(`${where}: empty values; give at least one value`);
        for (let i = 0; i < p.values.length; i++) {
          if (!Number.isFinite(p.values[i]!) || (i > 0 && !(p.values[i]! > p.values[i - 1]!))) {
            throw new SearchSpaceError(`${where}: values must be finite and strictly increasing`);
          }
        }
        return p.values.length;
      }
      if (!Number.isInteger(p.low) || !Number.isInteger(p.high) || p.high! < p.low!) {
        throw new SearchSpaceError(`${where}: give integer low <= high, or a values list`);
      }
      return p.high! - p.low! + 1;
    case 'float':
      if (!Number.isFinite(p.low) || !Number.isFinite(p.high) || !(p.high > p.low)) {
        throw new SearchSpaceError(`${where}: give finite low < high`);
      }
      if (p.log && !(p.low > 0)) throw new SearchSpaceError(`${where}: log scale needs low > 0`);
      return Infinity;
  }
}

function inDomain(p: ParamDef, v: ParamValue | undefined): boolean {
  if (v === undefined) return false;
  switch (p.kind) {
    case 'bool':
      return typeof v === 'boolean';
    case 'categorical':
      return p.choices.includes(v);
    case 'int':
      if (typeof v !== 'number') return false;
      return p.values ? p.values.includes(v) : Number.isInteger(v) && v >= p.low! && v <= p.high!;
    case 'float':
      return typeof v === 'number' && v >= p.low && v <= p.high;
  }
}

function describe(p: ParamDef): string {
  switch (p.kind) {
    case 'bool':
      return 'true or false';
    case 'categorical':
      return `one of ${JSON.stringify(p.choices)}`;
    case 'int':
      return p.values ? `one of ${JSON.stringify(p.values)}` : `an integer in [${p.low}, ${p.high}]`;
    case 'float':
      return `a number in [${p.low}, ${p.high}]`;
  }
}

function indexOf(p: IntParam, v: ParamValue): number {
  return p.values ? p.values.indexOf(v as number) : (v as number) - p.low!;
}

function encodeFloat(p: FloatParam, v: number): number {
  if (p.log) return (Math.log(v) - Math.log(p.low)) / (Math.log(p.high) - Math.log(p.low));
  return (v - p.low) / (p.high - p.low);
}

/** Value at an index (discrete params) or at a unit position (floats). */
function valueAt(p: ParamDef, i: number): ParamValue {
  switch (p.kind) {
    case 'bool':
      return i === 1;
    case 'categorical':
      return p.choices[i]!;
    case 'int':
      return p.values ? p.values[i]! : p.low! + i;
    case 'float': {
      const v = p.log
        ? Math.exp(Math.log(p.low) + i * (Math.log(p.high) - Math.log(p.low)))
        : p.low + i * (p.high - p.low);
      return Math.min(p.high, Math.max(p.low, v));
    }
  }
}
