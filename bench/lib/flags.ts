/**
 * The few command-line and statistics helpers every bench script needs (the bench scripts are small
 * programs run with tsx; a CLI library would be heavier than what they parse).
 */

/** The value after `--name` on the command line, or `fallback` when the flag is absent. */
export function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** A numeric `--name` flag; a value that is not a number stops the script with a one-line message. */
export function numFlag(name: string, fallback: number): number {
  const raw = flag(name, String(fallback));
  const v = Number(raw);
  if (raw.trim() === '' || Number.isNaN(v)) {
    console.error(`--${name} must be a number (got "${raw}")`);
    process.exit(2);
  }
  return v;
}

/** The q-quantile (0..1) by linear interpolation between order statistics; NaN for no values. */
export function quantile(xs: readonly number[], q: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** The median (the mean of the middle two for an even count). */
export const median = (xs: readonly number[]): number => quantile(xs, 0.5);
