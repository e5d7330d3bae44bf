/**
 * The one seeded random module: every product use (data splits and subsamples, batch orders, weight
 * init, dropout seeds, samplers) draws from `Rng`, seeds from strings with `hashString` and derives
 * seeds with `mixSeed`. Same seed -> same stream on every platform (32-bit integer arithmetic only).
 *
 * Generator: xoshiro128** (Blackman & Vigna; period 2^128 - 1), its four state words seeded through
 * splitmix32 so that small consecutive seeds (0, 1, 2, ...) give unrelated streams. Normals:
 * Box-Muller, the second value of each pair kept for the next call.
 */

/** A mutable array or typed array (what `shuffle` permutes in place). */
export interface MutableArrayLike<T> {
  readonly length: number;
  [i: number]: T;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  /**
   * `streams` (e.g. an epoch number) select an independent stream of the same seed:
   * `new Rng(seed, epoch)` is `new Rng(mixSeed(seed, epoch))`.
   */
  constructor(seed: number, ...streams: number[]) {
    let s = ((streams.length > 0 ? mixSeed(seed, ...streams) : seed) >>> 0) ^ 0x9e3779b9;
    const next = (): number => {
      // splitmix32
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next raw 32-bit unsigned integer. */
  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Standard normal draw (Box-Muller, the second value cached). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Picks one element uniformly. */
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError('Rng.pick: empty array');
    return xs[this.int(xs.length)]!;
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<A extends MutableArrayLike<unknown>>(xs: A): A {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = xs[i];
      xs[i] = xs[j];
      xs[j] = t;
    }
    return xs;
  }

  /** A uniformly random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** Fills `out` with U(lo, hi) draws (weight init); returns it. */
  fillUniform<A extends Float32Array | Float64Array>(out: A, lo: number, hi: number): A {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform(lo, hi);
    return out;
  }

  /** Fills `out` with N(mean, std^2) draws (weight init); returns it. */
  fillNormal<A extends Float32Array | Float64Array>(out: A, std = 1, mean = 0): A {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A seeded U[0, 1) generator as a function (for code that takes `() => number`). */
export function seededUniform(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.float();
}

/** A seeded standard normal generator as a function (`Rng.normal`). */
export function seededNormal(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.normal();
}

/**
 * Mixes numbers into one 32-bit seed (FNV-1a over their 32-bit words): seeds derived from a base
 * seed and a position (an epoch, a trial number, a tensor's name hash).
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    for (const w of [lo, hi]) {
      for (let k = 0; k < 4; k++) {
        h ^= (w >>> (8 * k)) & 0xff;
        h = Math.imul(h, 0x01000193);
      }
    }
  }
  return h >>> 0;
}

/** 32-bit FNV-1a hash of a string's UTF-16 code units (seeds from names and config keys). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
