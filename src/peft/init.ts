/**
 * Seeded initial values for PEFT tensors. Each tensor's stream is seeded from (seed, its name), so
 * a tensor's init does not depend on which other modules are on (adding SA leaves LoRA's A as is).
 */
import { hashString, mixSeed, Rng } from '../core/random.js';
import { shapeSize, type TensorSpec } from './types.js';

export function initTensor(
  spec: TensorSpec,
  seed: number,
  dtype: 'float32' | 'float64' = 'float32',
): Float32Array | Float64Array {
  const n = shapeSize(spec.shape);
  const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  const init = spec.init;
  if (init.kind === 'zeros') return out;
  const rng = new Rng(mixSeed(seed, hashString(spec.name)));
  return init.kind === 'normal' ? rng.fillNormal(out, init.std) : rng.fillUniform(out, -init.bound, init.bound);
}

/**
 * PyTorch's default `nn.Linear` / `kaiming_uniform_(a=sqrt(5))` bound: gain sqrt(2/(1+a^2)) =
 * sqrt(1/3), bound = gain * sqrt(3/fan_in) = 1/sqrt(fan_in).
 */
export const kaimingUniformBound = (fanIn: number): number => 1 / Math.sqrt(fanIn);
