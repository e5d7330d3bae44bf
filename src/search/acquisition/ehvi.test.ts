import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/random.js';
import { hypervolume } from '../pareto/hypervolume.js';
import { KnownFront, expectedPositivePart } from './ehvi.js';
import { NoisyEhvi } from './nehvi.js';
import { MaternGp } from '../gp/gp.js';
import { choleskyJitter } from '../linalg/linalg.js';

function randomFront(rng: Rng, n: number, k: number): { known: number[][]; vals: number[] } {
  const known = Array.from({ length: n }, () => Array.from({ length: k }, () => rng.float()));
  const vals = Array.from({ length: n }, () => rng.float());
  return { known, vals };
}

test('HVI of one added point equals the difference of exact hypervolumes (k = 0, 1, 2)', () => {
  const rng = new Rng(21);
  for (let t = 0; t < 60; t++) {
    const k = t % 3;
    const { known, vals } = randomFront(rng, 8, k);
    const ref = new Array<number>(k + 1).fill(1.05);
    const front = new KnownFront(known, vals, ref);
    const pts = known.map((c, i) => [...c, vals[i]!]);
    const base = hypervolume(pts, ref);
    for (let r = 0; r < 5; r++) {
      const c = Array.from({ length: k }, () => rng.float() * 1.1);
      const v = rng.float() * 1.1 - 0.05;
      const want = hypervolume([...pts, [...c, v]], ref) - base;
      assert.ok(Math.abs(front.hvi(c, v) - want) < 1e-12, `k=${k}: ${front.hvi(c, v)} vs ${want}`);
    }
  }
});

test('closed-form EHVI equals a Monte Carlo estimate (k = 1 and k = 2)', () => {
  const rng = new Rng(22);
  assert.ok(Math.abs(expectedPositivePart(0.3, 0.3, 0) - 0) < 1e-15);
  for (const k of [1, 2]) {
    for (let t = 0; t < 3; t++) {
      const { known, vals } = randomFront(rng, 6, k);
      const ref = new Array<number>(k + 1).fill(1.1);
      const front = new KnownFront(known, vals, ref);
      const pts = known.map((c, i) => [...c, vals[i]!]);
      const base = hypervolume(pts, ref);
      const c = Array.from({ length: k }, () => 0.3 * rng.float());
      const mean = 0.2 + 0.6 * rng.float(),
        sd = 0.05 + 0.3 * rng.float();
      const N = 20000;
      let s = 0,
        s2 = 0;
      for (let i = 0; i < N; i++) {
        const v = mean + sd * rng.normal();
        // an independent code path: full hypervolume difference (WFG for k = 2)
        const h = hypervolume([...pts, [...c, v]], ref) - base;
        s += h;
        s2 += h * h;
      }
      const mc = s / N,
        se = Math.sqrt((s2 / N - mc * mc) / N);
      const cf = front.ehvi(c, mean, sd);
      assert.ok(Math.abs(cf - mc) < 4 * se + 1e-12, `k=${k}: closed form ${cf} vs MC ${mc} ± ${se}`);
    }
  }
});

test('noisy EHVI equals brute-force Monte Carlo over the joint posterior of incumbents and candidate', () => {
  const rng = new Rng(23);
  const d = 2,
    n = 6;
  const X = Float64Array.from({ length: n * d }, () => rng.float());
  const y = Float64Array.from({ length: n }, () => rng.normal());
  const gp = new MaternGp(X, n, d, y, [Math.log(3), Math.log(3), 0, Math.log(0.2)]);
  // incumbents: the observed points (and one "pending" point), known objective = x_0 * 2
  const incX = Float64Array.from([...X, 0.5, 0.5]);
  const m = n + 1;
  const known = Array.from({ length: m }, (_, i) => [2 * incX[i * d]!]);
  const ref = [2.2, 2.5]; // minimisation: known <= 2.2, -f <= 2.5
  const acq = new NoisyEhvi({
    gp,
    sign: -1,
    incumbentsX: incX,
    incumbentsKnown: known,
    ref,
    nSamples: 4000,
    rng: new Rng(5),
  });
  for (const cand of [
    [0, 0.9],
    [0.05, 0.2],
    [0.6, 0.2],
  ]) {
    const cknown = [2 * cand[0]!];
    const got = acq.value(Float64Array.from(cand), 0, cknown);
    // brute force: sample (f_inc, f_cand) jointly, HVI by exact hypervolumes
    const all = Float64Array.from([...incX, ...cand]);
    const { mean, cov } = gp.predictJoint(all, m + 1);
    const L = choleskyJitter(cov, m + 1)!.L;
    const N = 8000;
    let s = 0,
      s2 = 0;
    const z = new Float64Array(m + 1);
    for (let t = 0; t < N; t++) {
      for (let i = 0; i <= m; i++) z[i] = rng.normal();
      const f = new Array<number>(m + 1);
      for (let i = 0; i <= m; i++) {
        let v = mean[i]!;
        for (let j = 0; j <= i; j++) v += L[i * (m + 1) + j]! * z[j]!;
        f[i] = v;
      }
      const pts = known.map((c, i) => [c[0]!, -f[i]!]);
      const h = hypervolume([...pts, [cknown[0]!, -f[m]!]], ref) - hypervolume(pts, ref);
      s += h;
      s2 += h * h;
    }
    const mc = s / N,
      se = Math.sqrt((s2 / N - mc * mc) / N);
    // the acquisition is itself a 4000-sample average: allow both errors
    assert.ok(Math.abs(got - mc) < 4 * se * Math.sqrt(1 + N / 4000) + 1e-9, `${got} vs ${mc} ± ${se}`);
    if (cand[0] === 0) assert.ok(got > 0.01);
  }
});

test('noise-free limit: noisy EHVI equals plain EHVI on the observed front', async () => {
  const { PlainEhvi } = await import('./plain.js');
  const rng = new Rng(24);
  const d = 2,
    n = 8;
  const X = Float64Array.from({ length: n * d }, () => rng.float());
  const y = Float64Array.from({ length: n }, () => rng.normal());
  // noise variance 1e-6 (the floor) + e^-25: the posterior at the data is the data
  const gp = new MaternGp(X, n, d, y, [Math.log(2), Math.log(2), 0, -25]);
  const known = Array.from({ length: n }, (_, i) => [X[i * d]!]);
  const ref = [1.1, 3];
  const noisy = new NoisyEhvi({
    gp,
    sign: -1,
    incumbentsX: X,
    incumbentsKnown: known,
    ref,
    nSamples: 16,
    rng: new Rng(1),
  });
  const plain = new PlainEhvi({ gp, sign: -1, known, latent: y, ref });
  let nonzero = 0;
  for (let t = 0; t < 20; t++) {
    const x = Float64Array.from({ length: d }, () => rng.float());
    const a = noisy.value(x, 0, [x[0]!]),
      b = plain.value(x, 0, [x[0]!]);
    // the 1e-6 noise floor leaves ~1e-3 sd on the incumbents: agreement to 1%
    assert.ok(Math.abs(a - b) < 1e-2 * Math.max(1e-3, b), `${a} vs ${b}`);
    if (b > 1e-3) nonzero++;
  }
  assert.ok(nonzero >= 5);
});

test('noisy EHVI with pruned incumbents still equals brute-force Monte Carlo over all of them', () => {
  const rng = new Rng(25);
  const d = 2,
    n = 24;
  const X = Float64Array.from({ length: n * d }, () => rng.float());
  // a smooth latent with a clear trade-off against the known coordinate x_0, small noise
  const y = Float64Array.from(
    { length: n },
    (_, i) => 2 * X[i * d]! + Math.sin(5 * X[i * d + 1]!) + 0.05 * rng.normal(),
  );
  const gp = new MaternGp(X, n, d, y, [Math.log(2), Math.log(2), Math.log(2), Math.log(0.003)]);
  const known = Array.from({ length: n }, (_, i) => [X[i * d]!]);
  const ref = [1.1, 1];
  const acq = new NoisyEhvi({
    gp,
    sign: -1,
    incumbentsX: X,
    incumbentsKnown: known,
    ref,
    nSamples: 3000,
    rng: new Rng(6),
  });
  assert.ok(acq.pruned <= n - 6, `kept ${acq.pruned} of ${n}: the test needs pruning to happen`);
  for (const cand of [
    [0.05, 0.3],
    [0.3, 0.35],
  ]) {
    const got = acq.value(Float64Array.from(cand), 0, [cand[0]!]);
    const all = Float64Array.from([...X, ...cand]);
    const { mean, cov } = gp.predictJoint(all, n + 1);
    const L = choleskyJitter(cov, n + 1)!.L;
    const N = 6000;
    let s = 0,
      s2 = 0;
    const z = new Float64Array(n + 1);
    for (let t = 0; t < N; t++) {
      for (let i = 0; i <= n; i++) z[i] = rng.normal();
      const f = new Array<number>(n + 1);
      for (let i = 0; i <= n; i++) {
        let v = mean[i]!;
        for (let j = 0; j <= i; j++) v += L[i * (n + 1) + j]! * z[j]!;
        f[i] = v;
      }
      const front = new KnownFront(
        known,
        f.slice(0, n).map((v) => -v),
        ref,
      );
      const h = front.hvi([cand[0]!], -f[n]!);
      s += h;
      s2 += h * h;
    }
    const mc = s / N,
      se = Math.sqrt((s2 / N - mc * mc) / N);
    assert.ok(mc > 1e-3, `candidate ${cand} has no improvement to compare (${mc})`);
    assert.ok(Math.abs(got - mc) < 4 * se * Math.sqrt(1 + N / 3000) + 1e-9, `${got} vs ${mc} ± ${se}`);
  }
});

test('pending points as sampled fantasies: a candidate equal to a pending point has ~zero noisy EHVI', () => {
  const rng = new Rng(26);
  const d = 2,
    n = 10;
  const X = Float64Array.from({ length: n * d }, () => rng.float());
  const y = Float64Array.from({ length: n }, () => rng.normal());
  const gp = new MaternGp(X, n, d, y, [Math.log(2), Math.log(2), 0, Math.log(0.1)]);
  const cand = [0.02, 0.5];
  const known = Array.from({ length: n }, (_, i) => [X[i * d]!]);
  const ref = [1.1, 3];
  const without = new NoisyEhvi({
    gp,
    sign: -1,
    incumbentsX: X,
    incumbentsKnown: known,
    ref,
    nSamples: 64,
    rng: new Rng(1),
  });
  const withPending = new NoisyEhvi({
    gp,
    sign: -1,
    incumbentsX: Float64Array.from([...X, ...cand]),
    incumbentsKnown: [...known, [cand[0]!]],
    ref,
    nSamples: 64,
    rng: new Rng(1),
  });
  const a = without.value(Float64Array.from(cand), 0, [cand[0]!]);
  const b = withPending.value(Float64Array.from(cand), 0, [cand[0]!]);
  assert.ok(a > 0.05, `improvement without the fantasy ${a}`);
  assert.ok(b < 1e-3 * a, `improvement with itself pending ${b} (without: ${a})`);
});
