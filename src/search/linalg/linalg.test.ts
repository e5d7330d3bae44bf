import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/random.js';
import { choleskyJitter, cholInverse, cholSolve, halfLogDet } from './linalg.js';
import { normCdf, normExpectedPositivePart, normPdf, normQuantile } from './normal.js';
import { lbfgs } from './lbfgs.js';

function randomSpd(rng: Rng, n: number): Float64Array {
  const B = new Float64Array(n * n).map(() => rng.normal());
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? 0.5 : 0;
      for (let k = 0; k < n; k++) s += B[i * n + k]! * B[j * n + k]!;
      A[i * n + j] = s;
    }
  return A;
}

test('cholesky, solve, inverse and log-det', () => {
  const rng = new Rng(1);
  const n = 7;
  const A = randomSpd(rng, n);
  const res = choleskyJitter(A, n)!;
  assert.equal(res.jitter, 0);
  const L = res.L;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += L[i * n + k]! * L[j * n + k]!;
      assert.ok(Math.abs(s - A[i * n + j]!) < 1e-10);
    }
  const b = Float64Array.from({ length: n }, () => rng.normal());
  const x = cholSolve(L, n, b, new Float64Array(n));
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += A[i * n + k]! * x[k]!;
    assert.ok(Math.abs(s - b[i]!) < 1e-9);
  }
  const inv = cholInverse(L, n, new Float64Array(n * n), new Float64Array(n * n));
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += A[i * n + k]! * inv[k * n + j]!;
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-9);
    }
  // log det of [[4,2],[2,3]] = log 8
  const two = choleskyJitter(Float64Array.of(4, 2, 2, 3), 2)!;
  assert.ok(Math.abs(2 * halfLogDet(two.L, 2) - Math.log(8)) < 1e-14);
  // singular (rank 1) matrix: succeeds only with jitter
  const sing = choleskyJitter(Float64Array.of(1, 1, 1, 1), 2)!;
  assert.ok(sing.jitter > 0);
});

test('normal cdf vs Simpson integration of the pdf; quantile inverts it', () => {
  for (const x of [-8, -5, -2.5, -1, -0.3, 0, 0.7, 1.9, 3, 6]) {
    // Φ(x) = ½ + ∫_0^x φ, Simpson with 2000 panels (error ~1e-15 here)
    const m = 2000,
      h = x / m;
    let s = normPdf(0) + normPdf(x);
    for (let i = 1; i < m; i++) s += (i % 2 === 1 ? 4 : 2) * normPdf(i * h);
    const want = 0.5 + (s * h) / 3;
    assert.ok(Math.abs(normCdf(x) - want) < 1e-13, `x=${x}: ${normCdf(x)} vs ${want}`);
  }
  // tail relative accuracy: Φ(-10) = 7.6198530241605e-24
  assert.ok(Math.abs(normCdf(-10) / 7.6198530241605e-24 - 1) < 1e-7);
  for (const p of [1e-12, 1e-5, 0.01, 0.1, 0.3, 0.5, 0.77, 0.99, 1 - 1e-9]) {
    const q = normQuantile(p);
    assert.ok(Math.abs(normCdf(q) - p) < 1e-14 + 1e-12 * p, `p=${p}`);
  }
  assert.equal(normQuantile(0.5), 0);
});

test('lbfgs minimises Rosenbrock and an ill-conditioned quadratic', () => {
  const rosen = (x: Float64Array, g: Float64Array): number => {
    const a = 1 - x[0]!,
      b = x[1]! - x[0]! * x[0]!;
    g[0] = -2 * a - 400 * x[0]! * b;
    g[1] = 200 * b;
    return a * a + 100 * b * b;
  };
  const r = lbfgs(rosen, [-1.2, 1], { maxIter: 200, gtol: 1e-8, ftol: 0 });
  assert.ok(Math.abs(r.x[0]! - 1) < 1e-5 && Math.abs(r.x[1]! - 1) < 1e-5, JSON.stringify([...r.x]));
  const scales = [1, 10, 100, 1000, 1e4];
  const quad = (x: Float64Array, g: Float64Array): number => {
    let f = 0;
    for (let i = 0; i < x.length; i++) {
      f += 0.5 * scales[i]! * (x[i]! - i) ** 2;
      g[i] = scales[i]! * (x[i]! - i);
    }
    return f;
  };
  const q = lbfgs(quad, [5, 5, 5, 5, 5], { maxIter: 100, gtol: 1e-9, ftol: 0 });
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(q.x[i]! - i) < 1e-6);
  // a non-finite region: f = Infinity for x < 0; minimum at x = 1e-3 of x - 1e-3 log x
  const barrier = (x: Float64Array, g: Float64Array): number => {
    if (x[0]! <= 0) return Infinity;
    g[0] = 1 - 1e-3 / x[0]!;
    return x[0]! - 1e-3 * Math.log(x[0]!);
  };
  const b = lbfgs(barrier, [3], { maxIter: 100, gtol: 1e-10, ftol: 0 });
  assert.ok(Math.abs(b.x[0]! - 1e-3) < 1e-7, String(b.x[0]));
});

test('fused E[(h - V)+] equals (h - m) Φ(z) + s φ(z) and a quadrature of the integral', () => {
  for (const [h, m, s] of [
    [0.3, 0.1, 0.2],
    [-1, 2, 0.5],
    [5, 0, 0.6],
    [0, 0, 1],
    [1, 0.2, 1e-3],
  ] as const) {
    const z = (h - m) / s;
    const want = (h - m) * normCdf(z) + s * normPdf(z);
    assert.ok(Math.abs(normExpectedPositivePart(h, m, s) - want) < 1e-15 * Math.max(1, Math.abs(want)));
    // ∫_{-∞}^{h} (h - v) φ((v - m)/s)/s dv by the midpoint rule over [m - 12 s, h]
    const lo = m - 12 * s;
    if (h <= lo) continue;
    const K = 200000,
      dv = (h - lo) / K;
    let q = 0;
    for (let i = 0; i < K; i++) {
      const v = lo + (i + 0.5) * dv;
      q += (((h - v) * normPdf((v - m) / s)) / s) * dv;
    }
    assert.ok(Math.abs(q - want) < 1e-8 * Math.max(1, want), `${q} vs ${want}`);
  }
});
