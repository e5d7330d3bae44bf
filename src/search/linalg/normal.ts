/** Standard normal pdf, cdf and quantile in double precision. */

const INV_SQRT_2PI = 0.3989422804014327;

export function normPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/**
 * Φ(-a) for a = |x| >= 0 given e = exp(-a²/2), by Hart's (1968) rational approximation as given by
 * West (2005, "Better approximations to cumulative normal functions"): absolute error ~1e-15
 * (relative ~1e-8 beyond a = 7.07), computed from the tail so that Φ(-a) for large a keeps its
 * relative precision. Shared by normCdf and normExpectedPositivePart (which reuses e for φ).
 */
function lowerTail(a: number, e: number): number {
  if (a < 7.07106781186547) {
    let b = 3.52624965998911e-2 * a + 0.700383064443688;
    b = b * a + 6.37396220353165;
    b = b * a + 33.912866078383;
    b = b * a + 112.079291497871;
    b = b * a + 221.213596169931;
    b = b * a + 220.206867912376;
    const c = e * b;
    b = 8.83883476483184e-2 * a + 1.75566716318264;
    b = b * a + 16.064177579207;
    b = b * a + 86.7807322029461;
    b = b * a + 296.564248779674;
    b = b * a + 637.333633378831;
    b = b * a + 793.826512519948;
    b = b * a + 440.413735824752;
    return c / b;
  }
  let b = a + 0.65;
  b = a + 4 / b;
  b = a + 3 / b;
  b = a + 2 / b;
  b = a + 1 / b;
  return e / b / 2.506628274631;
}

/** Φ(x) (see lowerTail for the approximation and its error). */
export function normCdf(x: number): number {
  const a = Math.abs(x);
  const c = a > 37 ? 0 : lowerTail(a, Math.exp(-0.5 * a * a));
  return x > 0 ? 1 - c : c;
}

/**
 * E[(h - V)_+] for V ~ N(m, s²) = (h - m) Φ(z) + s φ(z), z = (h - m) / s, with Φ and φ sharing
 * one exp (the acquisition's innermost call). s must be > 0.
 */
export function normExpectedPositivePart(h: number, m: number, s: number): number {
  const z = (h - m) / s;
  const a = Math.abs(z);
  if (a > 37) return z > 0 ? h - m : 0;
  const e = Math.exp(-0.5 * a * a);
  const c = lowerTail(a, e);
  const cdf = z > 0 ? 1 - c : c;
  return (h - m) * cdf + s * INV_SQRT_2PI * e;
}

const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/**
 * Φ^{-1}(p) for p in (0, 1): Acklam's rational approximation (relative error 1.15e-9) refined by
 * one Halley step on normCdf, which brings it to ~1e-15.
 */
export function normQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    throw new RangeError(`normQuantile: p must be in [0, 1], got ${p}`);
  }
  const plow = 0.02425;
  let x: number;
  if (p < plow) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) /
      ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  } else if (p <= 1 - plow) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A[5]!) * q) /
      (((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) /
      ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  }
  // Halley refinement: e = Φ(x) - p, u = e / φ(x), x -= u / (1 + x u / 2)
  const e = normCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}
