/** Test shorthands over the one seeded generator (src/core/random.ts); product code uses core directly. */
import { Rng as CoreRng } from '../core/random.js';

export { seededNormal, seededUniform } from '../core/random.js';

export class Rng extends CoreRng {
  /** Uniform in [0, 1) (= `float()`). */
  next(): number {
    return this.float();
  }
  /** n draws: `scale` x N(0, 1), or U(lo, scale) when `lo` is given. */
  float64(n: number, scale = 1, lo?: number): Float64Array {
    const out = new Float64Array(n);
    return lo === undefined ? this.fillNormal(out, scale) : this.fillUniform(out, lo, scale);
  }
  /** n draws of `scale` x N(0, 1). */
  float32(n: number, scale = 1): Float32Array {
    return this.fillNormal(new Float32Array(n), scale);
  }
}
