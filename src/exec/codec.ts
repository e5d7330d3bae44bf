/**
 * Codecs for job payloads: a job's arguments, result and progress events cross a process boundary
 * as JSON (`Json`), and a codec turns a typed value into that JSON and checks it on the way back,
 * so neither side casts (`as unknown as Json`). A codec is written next to the type it carries, and
 * `object` makes the compiler check it against that type key by key: a field added to the type
 * without its codec is a type error, not a field silently dropped between processes.
 *
 * Decoding checks shapes and primitive types and rejects unknown keys (a payload from another
 * version of autopeft fails here, naming the key); value ranges are the receiver's business.
 */
import type { Json } from './types.js';

export interface Codec<T> {
  encode(value: T): Json;
  /** `path` names the value in errors, e.g. `runTrialJob args.hyper.lr`. */
  decode(json: Json, path: string): T;
}

/** A payload that does not match its codec: a bug, or parent and worker from different versions. */
export class CodecError extends Error {
  override name = 'CodecError';
  constructor(
    readonly path: string,
    expected: string,
    got: Json | undefined,
  ) {
    super(`${path}: expected ${expected}, got ${describe(got)}`);
  }
}

function describe(v: Json | undefined): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function primitive<T extends string | number | boolean>(kind: 'string' | 'number' | 'boolean'): Codec<T> {
  return {
    encode: (v) => v,
    decode(json, path) {
      if (typeof json !== kind) throw new CodecError(path, `a ${kind}`, json);
      return json as T;
    },
  };
}

export const string: Codec<string> = primitive('string');
/** Any number, NaN and infinities included (the pool's IPC carries them; a diverged loss is one). */
export const number: Codec<number> = primitive('number');
export const boolean: Codec<boolean> = primitive('boolean');

/** One of the given strings. */
export function literal<const L extends string>(...values: readonly L[]): Codec<L> {
  return {
    encode: (v) => v,
    decode(json, path) {
      if (typeof json !== 'string' || !(values as readonly string[]).includes(json))
        throw new CodecError(path, values.map((v) => JSON.stringify(v)).join(' | '), json);
      return json as L;
    },
  };
}

export function array<T>(item: Codec<T>): Codec<T[]> {
  return {
    encode: (v) => v.map((x) => item.encode(x)),
    decode(json, path) {
      if (!Array.isArray(json)) throw new CodecError(path, 'an array', json);
      return json.map((x, i) => item.decode(x, `${path}[${i}]`));
    },
  };
}

function isObject(json: Json | undefined): json is { [key: string]: Json } {
  return typeof json === 'object' && json !== null && !Array.isArray(json);
}

/** A string-keyed map; `keys`, when given, are the only keys allowed (and each may be absent). */
export function record<V>(value: Codec<V>): Codec<Record<string, V>>;
export function record<V, K extends string>(value: Codec<V>, keys: readonly K[]): Codec<Partial<Record<K, V>>>;
export function record<V>(value: Codec<V>, keys?: readonly string[]): Codec<Partial<Record<string, V>>> {
  return {
    encode(v) {
      const out: { [key: string]: Json } = {};
      for (const [k, x] of Object.entries(v) as [string, V | undefined][])
        if (x !== undefined) out[k] = value.encode(x);
      return out;
    },
    decode(json, path) {
      if (!isObject(json)) throw new CodecError(path, 'an object', json);
      const out: Partial<Record<string, V>> = {};
      for (const [k, x] of Object.entries(json)) {
        if (keys && !keys.includes(k)) throw new CodecError(`${path}.${k}`, 'no such key', x);
        out[k] = value.decode(x, `${path}.${k}`);
      }
      return out;
    },
  };
}

/** Marks a key of `object`'s shape as optional: absent in the JSON when the value is undefined. */
export interface Optional<T> {
  readonly optional: Codec<T>;
}
export function optional<T>(codec: Codec<T>): Optional<T> {
  return { optional: codec };
}

type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];
/** One codec per key of T: `optional(...)` exactly for T's optional keys. */
export type Shape<T> = {
  [K in keyof T]-?: K extends OptionalKeys<T> ? Optional<Exclude<T[K], undefined>> : Codec<T[K]>;
};

export function object<T extends object>(shape: Shape<T>): Codec<T> {
  const entries = Object.entries(shape) as [string, Codec<unknown> | Optional<unknown>][];
  return {
    encode(v) {
      const out: { [key: string]: Json } = {};
      for (const [k, c] of entries) {
        const x = (v as Record<string, unknown>)[k];
        if ('optional' in c) {
          if (x !== undefined) out[k] = c.optional.encode(x);
        } else out[k] = c.encode(x);
      }
      return out;
    },
    decode(json, path) {
      if (!isObject(json)) throw new CodecError(path, 'an object', json);
      for (const k of Object.keys(json))
        if (!(k in shape))
          throw new CodecError(`${path}.${k}`, `no such key (known: ${Object.keys(shape).join(', ')})`, json[k]);
      const out: Record<string, unknown> = {};
      for (const [k, c] of entries) {
        const x = json[k];
        if ('optional' in c) {
          if (x !== undefined) out[k] = c.optional.decode(x, `${path}.${k}`);
        } else {
          if (x === undefined) throw new CodecError(`${path}.${k}`, 'a value (required key)', x);
          out[k] = c.decode(x, `${path}.${k}`);
        }
      }
      return out as T;
    },
  };
}

/**
 * A union told apart by its `kind` key; one codec per kind (each usually an `object` whose `kind`
 * is `literal(thatKind)`).
 */
export function byKind<T extends { kind: string }>(
  codecs: { [V in T['kind']]: Codec<Extract<T, { kind: V }>> },
): Codec<T> {
  const of = (kind: string): Codec<T> | undefined =>
    Object.hasOwn(codecs, kind) ? (codecs as Record<string, Codec<T>>)[kind] : undefined;
  return {
    encode(v) {
      const c = of(v.kind);
      if (!c) throw new CodecError('kind', Object.keys(codecs).join(' | '), v.kind);
      return c.encode(v);
    },
    decode(json, path) {
      const kind = isObject(json) ? json.kind : undefined;
      const c = typeof kind === 'string' ? of(kind) : undefined;
      if (!c)
        throw new CodecError(
          `${path}.kind`,
          Object.keys(codecs)
            .map((k) => JSON.stringify(k))
            .join(' | '),
          kind,
        );
      return c.decode(json, path);
    },
  };
}
