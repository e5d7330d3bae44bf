import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/random.js';
import { GpObjective, MaternGp, NOISE_FLOOR, fitGp } from './gp.js';
import { normalCopula } from './copula.js';
import { normQuantile } from '../linalg/normal.js';

const close = (a: number, b: number, tol: number, msg = ''): void =>
  assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b}`);

/** Matérn-5/2 written out from its textbook form. */
function materns(r: number, s2: number): number {
  return s2 * (1 + Math.sqrt(5) * r + (5 * r * r) / 3) * Math.exp(-Math.sqrt(5) * r);
}

test('posterior equals the closed form for 1 and 2 observations', () => {
  const d = 2;
  const theta = [Math.log(4), Math.log(0.25), Math.log(1.5), Math.log(0.1)]; // κ = 4, 0.25; s² = 1.5; η = 0.1
  const s2 = 1.5,
    noise = 0.1 + NOISE_FLOOR;
  const x1 = [0.2, 0.9],
    x2 = [0.7, 0.1],
    xs = [0.4, 0.5];
  const dist = (a: number[], b: number[]): number => Math.sqrt(4 * (a[0]! - b[0]!) ** 2 + 0.25 * (a[1]! - b[1]!) ** 2);
  // one observation: mean = k y / (s² + σ²), var = s² - k² / (s² + σ²)
  const g1 = new MaternGp(Float64Array.from(x1), 1, d, Float64Array.of(0.8), theta);
  const k1 = materns(dist(xs, x1), s2);
  const p1 = g1.predict(Float64Array.from(xs));
  close(p1.mean, (k1 * 0.8) / (s2 + noise), 1e-13, 'mean1');
  close(p1.variance, s2 - (k1 * k1) / (s2 + noise), 1e-13, 'var1');
  // two observations: explicit 2 x 2 inverse
  const y = [0.8, -1.2];
  const g2 = new MaternGp(Float64Array.from([...x1, ...x2]), 2, d, Float64Array.from(y), theta);
  const a = s2 + noise,
    b = materns(dist(x1, x2), s2),
    det = a * a - b * b;
  const inv = [a / det, -b / det, -b / det, a / det];
  const k = [materns(dist(xs, x1), s2), materns(dist(xs, x2), s2)];
  const mean = k[0]! * (inv[0]! * y[0]! + inv[1]! * y[1]!) + k[1]! * (inv[2]! * y[0]! + inv[3]! * y[1]!);
  const quad = k[0]! * (inv[0]! * k[0]! + inv[1]! * k[1]!) + k[1]! * (inv[2]! * k[0]! + inv[3]! * k[1]!);
  const p2 = g2.predict(Float64Array.from(xs));
  close(p2.mean, mean, 1e-13, 'mean2');
  close(p2.variance, s2 - quad, 1e-13, 'var2');
  // joint prediction agrees with the marginal one and is symmetric
  const j = g2.predictJoint(Float64Array.from([...xs, ...x1]), 2);
  close(j.mean[0]!, mean, 1e-13);
  close(j.cov[0]!, s2 - quad, 1e-12);
  assert.equal(j.cov[1], j.cov[2]);
});

test('log marginal likelihood + prior: value vs a direct formula, gradient vs finite differences', () => {
  const rng = new Rng(2);
  const n = 14,
    d = 4;
  const X = Float64Array.from({ length: n * d }, () => (rng.float() < 0.5 ? rng.int(2) : rng.float()));
  const y = Float64Array.from({ length: n }, () => rng.normal());
  const obj = new GpObjective(X, n, d, y);
  for (let trial = 0; trial < 5; trial++) {
    const theta = Float64Array.from({ length: d + 2 }, (_, i) =>
      i < d ? Math.log(0.05) + 4 * rng.float() : -2 + 2 * rng.float(),
    );
    const g = new Float64Array(d + 2);
    const f = obj.evaluate(theta, g);
    // direct: -log N(y; 0, K) via the 2-step solve on the fitted GP
    const gp = new MaternGp(X, n, d, y, theta);
    let quad = 0,
      logdet = 0;
    for (let i = 0; i < n; i++) {
      quad += y[i]! * gp.alpha[i]!;
      logdet += 2 * Math.log(gp.L[i * n + i]!);
    }
    const tau = 0.1;
    let lp = 0;
    for (let k = 0; k < d; k++) lp += theta[k]! - Math.log(1 + Math.exp(2 * theta[k]!) / (tau * tau));
    lp += -0.5 * theta[d]! ** 2 - 0.5 * ((theta[d + 1]! + 4) / 2) ** 2;
    close(f, 0.5 * quad + 0.5 * logdet + 0.5 * n * Math.log(2 * Math.PI) - lp, 1e-9, 'value');
    const gtmp = new Float64Array(d + 2);
    for (let i = 0; i < d + 2; i++) {
      const h = 1e-5;
      const tp = theta.slice();
      tp[i]! += h;
      const tm = theta.slice();
      tm[i]! -= h;
      const fd = (obj.evaluate(tp, gtmp) - obj.evaluate(tm, gtmp)) / (2 * h);
      close(g[i]!, fd, 1e-6 * Math.max(1, Math.abs(fd)), `grad[${i}]`);
    }
  }
});

test('MAP fit finds the relevant dimension (SAAS-like shrinkage) and predicts held-out points', () => {
  const rng = new Rng(4);
  const n = 40,
    d = 6;
  const X = Float64Array.from({ length: n * d }, () => rng.float());
  const f = (x: Float64Array, o: number): number => Math.sin(6 * x[o]!) + 0.5 * x[o + 1]!;
  const y = Float64Array.from({ length: n }, (_, i) => f(X, i * d) + 0.01 * rng.normal());
  const gp = fitGp(X, n, d, y, { restarts: 2, rng });
  // dims 0 and 1 matter, dims 2..5 do not
  for (let k = 2; k < d; k++) assert.ok(gp.kappa[0]! > 20 * gp.kappa[k]!, `κ0 ${gp.kappa[0]} vs κ${k} ${gp.kappa[k]}`);
  assert.ok(gp.kappa[1]! > gp.kappa[2]!);
  let se = 0,
    sv = 0;
  for (let t = 0; t < 50; t++) {
    const x = Float64Array.from({ length: d }, () => rng.float());
    const p = gp.predict(x);
    se += (p.mean - f(x, 0)) ** 2;
    sv += (f(x, 0) - 0.25) ** 2;
  }
  assert.ok(se / sv < 0.05, `relative held-out error ${se / sv}`);
});

test('normal copula: ranks, ties, monotone latent map', () => {
  const c = normalCopula([3, 1, 2, 2, 10]);
  close(c.z[1]!, normQuantile(0.1), 1e-15);
  close(c.z[2]!, normQuantile(0.4), 1e-15);
  assert.equal(c.z[2], c.z[3]);
  close(c.z[4]!, normQuantile(0.9), 1e-15);
  close(c.toLatent(10), c.z[4]!, 1e-15);
  close(c.toLatent(2), c.z[2]!, 1e-15);
  close(c.toLatent(2.5), (c.z[2]! + c.z[0]!) / 2, 1e-12);
  assert.ok(c.toLatent(0) < c.z[1]!);
  assert.ok(c.toLatent(20) > c.z[4]!);
});

test('heteroscedastic noise: closed form with 2 observations, gradient vs finite differences, fitGp checks', () => {
  const d = 2;
  const theta = [Math.log(4), Math.log(0.25), Math.log(1.5), Math.log(0.1)];
  const s2 = 1.5;
  const noise = 0.1 + NOISE_FLOOR;
  const r = [0.3, 0.02]; // known noise variance of each observation
  const x1 = [0.2, 0.9];
  const x2 = [0.7, 0.1];
  const xs = [0.4, 0.5];
  const dist = (a: number[], b: number[]): number => Math.sqrt(4 * (a[0]! - b[0]!) ** 2 + 0.25 * (a[1]! - b[1]!) ** 2);
  const y = [0.8, -1.2];
  const g = new MaternGp(Float64Array.from([...x1, ...x2]), 2, d, Float64Array.from(y), theta, Float64Array.from(r));
  const a0 = s2 + noise + r[0]!;
  const a1 = s2 + noise + r[1]!;
  const b = materns(dist(x1, x2), s2);
  const det = a0 * a1 - b * b;
  const inv = [a1 / det, -b / det, -b / det, a0 / det];
  const k = [materns(dist(xs, x1), s2), materns(dist(xs, x2), s2)];
  const mean = k[0]! * (inv[0]! * y[0]! + inv[1]! * y[1]!) + k[1]! * (inv[2]! * y[0]! + inv[3]! * y[1]!);
  const quad = k[0]! * (inv[0]! * k[0]! + inv[1]! * k[1]!) + k[1]! * (inv[2]! * k[0]! + inv[3]! * k[1]!);
  const p = g.predict(Float64Array.from(xs));
  close(p.mean, mean, 1e-13, 'mean');
  close(p.variance, s2 - quad, 1e-13, 'var');
  // The noisier observation pulls the mean less: at x1 (r = 0.3) the posterior mean is further from y than without.
  const plain = new MaternGp(Float64Array.from([...x1, ...x2]), 2, d, Float64Array.from(y), theta);
  assert.ok(
    Math.abs(g.predict(Float64Array.from(x1)).mean - y[0]!) >
      Math.abs(plain.predict(Float64Array.from(x1)).mean - y[0]!),
  );

  const rng = new Rng(7);
  const n = 12;
  const dd = 3;
  const X = Float64Array.from({ length: n * dd }, () => rng.float());
  const yy = Float64Array.from({ length: n }, () => rng.normal());
  const fixed = Float64Array.from({ length: n }, () => 0.5 * rng.float());
  const obj = new GpObjective(X, n, dd, yy, undefined, fixed);
  const th = Float64Array.from({ length: dd + 2 }, (_, i) => (i < dd ? Math.log(0.1) + 3 * rng.float() : -1.5));
  const gr = new Float64Array(dd + 2);
  const f = obj.evaluate(th, gr);
  // value: -log N(y; 0, K + diag(fixed)) - log prior, via the GP built with the same fixed noise
  const gp = new MaternGp(X, n, dd, yy, th, fixed);
  let q = 0;
  let logdet = 0;
  for (let i = 0; i < n; i++) {
    q += yy[i]! * gp.alpha[i]!;
    logdet += 2 * Math.log(gp.L[i * n + i]!);
  }
  const tau = 0.1;
  let lp = 0;
  for (let kk = 0; kk < dd; kk++) lp += th[kk]! - Math.log(1 + Math.exp(2 * th[kk]!) / (tau * tau));
  lp += -0.5 * th[dd]! ** 2 - 0.5 * ((th[dd + 1]! + 4) / 2) ** 2;
  close(f, 0.5 * q + 0.5 * logdet + 0.5 * n * Math.log(2 * Math.PI) - lp, 1e-9, 'value');
  const tmp = new Float64Array(dd + 2);
  for (let i = 0; i < dd + 2; i++) {
    const h = 1e-5;
    const tp = th.slice();
    tp[i]! += h;
    const tm = th.slice();
    tm[i]! -= h;
    const fd = (obj.evaluate(tp, tmp) - obj.evaluate(tm, tmp)) / (2 * h);
    close(gr[i]!, fd, 1e-6 * Math.max(1, Math.abs(fd)), `grad[${i}]`);
  }
  const fitted = fitGp(X, n, dd, yy, { noiseVariances: fixed });
  assert.deepEqual(Array.from(fitted.fixedNoise!), Array.from(fixed));
  assert.throws(() => fitGp(X, n, dd, yy, { noiseVariances: [1, 2] }), /noiseVariances must be 12/);
});
