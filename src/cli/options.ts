/** Flag parsers shared by the commands: each failure is a UsageError naming the flag. */
import { UsageError } from './errors.js';

export function int(flag: string, min = 0): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
}

export function positive(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!(Number.isFinite(n) && n > 0)) throw new UsageError(`${flag} must be a positive number, got "${v}"`);
    return n;
  };
}

/** "0.1" -> fraction, "500" -> count. */
export function sizeSpec(flag: string): (v: string) => { fraction?: number; count?: number } {
  return (v) => {
    const n = Number(v);
    if (Number.isFinite(n) && n > 0 && n < 1) return { fraction: n };
    if (Number.isInteger(n) && n >= 1) return { count: n };
    throw new UsageError(`${flag} takes a fraction in (0, 1) or a count >= 1, got "${v}"`);
  };
}
