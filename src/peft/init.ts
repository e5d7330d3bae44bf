/**
 * Seeded initial values for PEFT tensors. Each tensor's stream is seeded from (seed, its name), so
 * a tensor's init does not depend on which other modules are on (adding SA leaves LoRA's A as is).
 */
import { Rng } from '../testing/random.js';
import { shapeSize, type TensorSpec } from './types.js';

/** FNV-1a 32-bit hash of a string. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function initTensor(
  spec: TensorSpec,
  seed: number,
  dtype: 'float32' | 'float64' = 'float32',
): Float32Array | Float64Array {
  const n = shapeSize(spec.shape);
  const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  const init = spec.init;
  if (init.kind === 'zeros') return out;
  const rng = new Rng((fnv1a(spec.name) ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0);
  for (let i = 0; i < n; i++)
    out[i] = init.kind === 'normal' ? init.std * rng.normal() : rng.uniform(-init.bound, init.bound);
  return out;
}

/**
 * PyTorch's default `nn.Linear` / `kaiming_uniform_(a=sqrt(5))` bound: gain sqrt(2/(1+a^2)) =
 * sqrt(1/3), bound = gain * sqrt(3/fan_in) = 1/sqrt(fan_in).
 */
export const kaimingUniformBound = (fanIn: number): number => 1 / Math.sqrt(fanIn);
