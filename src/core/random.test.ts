import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashString, mixSeed, Rng, seededNormal, seededUniform } from './random.js';

test('same seed, same stream; other seeds and streams differ; the stream is pinned', () => {
  const a = new Rng(7);
  const b = new Rng(7);
  const xs = Array.from({ length: 100 }, () => a.float());
  assert.deepEqual(
    Array.from({ length: 100 }, () => b.float()),
    xs,
  );
  const c = new Rng(8);
  assert.ok(xs.some((x) => x !== c.float()));
  // A stream of a seed is another seed's stream through mixSeed, and differs from the seed's own.
  const e1 = new Rng(42, 3);
  const e2 = new Rng(mixSeed(42, 3));
  const plain = new Rng(42);
  const s1 = Array.from({ length: 10 }, () => e1.nextU32());
  assert.deepEqual(
    s1,
    Array.from({ length: 10 }, () => e2.nextU32()),
  );
  assert.notDeepEqual(
    s1,
    Array.from({ length: 10 }, () => plain.nextU32()),
  );
  // NOTE: pinned first words of xoshiro128** seeded through splitmix32 (seed 0): any change to the
  // generator moves every seeded number in the project, so it must show up here first.
  const z = new Rng(0);
  assert.deepEqual([z.nextU32(), z.nextU32(), z.nextU32()], [1292791899, 1284423797, 2013314966]);
});

test('uniform and normal moments', () => {
  const rng = new Rng(123);
  const n = 200_000;
  let s = 0;
  let s2 = 0;
  let lo = 1;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.float();
    s += u;
    s2 += u * u;
    lo = Math.min(lo, u);
    hi = Math.max(hi, u);
  }
  const mean = s / n;
  const variance = s2 / n - mean * mean;
  // Standard errors: sqrt(1/12 / n) ~ 6.5e-4 for the mean; 5 sigma bounds.
  assert.ok(Math.abs(mean - 0.5) < 3.3e-3, `uniform mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 2e-3, `uniform variance ${variance}`);
  assert.ok(lo >= 0 && hi < 1 && lo < 1e-3 && hi > 1 - 1e-3, `range [${lo}, ${hi}]`);

  const normal = new Float64Array(n);
  new Rng(5).fillNormal(normal);
  let m1 = 0;
  let m2 = 0;
  let m4 = 0;
  for (const x of normal) m1 += x;
  m1 /= n;
  for (const x of normal) {
    m2 += (x - m1) ** 2;
    m4 += (x - m1) ** 4;
  }
  m2 /= n;
  m4 /= n;
  assert.ok(Math.abs(m1) < 0.012, `normal mean ${m1}`);
  assert.ok(Math.abs(m2 - 1) < 0.016, `normal variance ${m2}`);
  assert.ok(Math.abs(m4 / (m2 * m2) - 3) < 0.06, `normal kurtosis ${m4 / (m2 * m2)}`);

  const w = new Rng(9).fillNormal(new Float32Array(50_000), 0.02, 1);
  const wm = w.reduce((a, x) => a + x, 0) / w.length;
  const ws = Math.sqrt(w.reduce((a, x) => a + (x - wm) ** 2, 0) / w.length);
  assert.ok(Math.abs(wm - 1) < 5e-4 && Math.abs(ws - 0.02) < 5e-4, `N(1, 0.02^2) fill: ${wm}, ${ws}`);
  const u = new Rng(9).fillUniform(new Float64Array(50_000), -3, -1);
  assert.ok(
    u.every((x) => x >= -3 && x < -1),
    'U(-3, -1) fill stays in range',
  );
  assert.ok(Math.abs(u.reduce((a, x) => a + x, 0) / u.length + 2) < 0.02);
});

test('int, pick, shuffle and permutation', () => {
  const rng = new Rng(1);
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 60_000; i++) counts[rng.int(6)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `die face count ${c}`);
  assert.throws(() => rng.pick([]), RangeError);
  const p = rng.permutation(1000);
  assert.deepEqual(
    [...p].sort((a, b) => a - b),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.ok(
    p.some((v, i) => v !== i),
    'a permutation of 1000 is not the identity',
  );
  const arr = ['a', 'b', 'c', 'd', 'e'];
  const same = new Rng(3).shuffle([...arr]);
  assert.deepEqual(new Rng(3).shuffle([...arr]), same);
  assert.deepEqual([...same].sort(), arr);
  // Position 0 after a shuffle of 4 is uniform.
  const first = new Map<number, number>();
  const r2 = new Rng(11);
  for (let i = 0; i < 40_000; i++) {
    const v = r2.shuffle(Int32Array.from([0, 1, 2, 3]))[0]!;
    first.set(v, (first.get(v) ?? 0) + 1);
  }
  for (const v of [0, 1, 2, 3]) assert.ok(Math.abs(first.get(v)! - 10_000) < 500, `first = ${v}: ${first.get(v)}`);
});

test('function forms draw the same numbers as the generator', () => {
  const u = seededUniform(4);
  const r = new Rng(4);
  assert.deepEqual([u(), u(), u()], [r.float(), r.float(), r.float()]);
  const n = seededNormal(4);
  const rn = new Rng(4);
  assert.deepEqual([n(), n(), n()], [rn.normal(), rn.normal(), rn.normal()]);
});

test('hashString is FNV-1a (published test vectors); mixSeed is stable and order-sensitive', () => {
  assert.equal(hashString(''), 0x811c9dc5);
  assert.equal(hashString('a'), 0xe40c292c);
  assert.equal(hashString('foobar'), 0xbf9cf968);
  assert.equal(mixSeed(1, 2), 4023407878);
  assert.notEqual(mixSeed(1, 2), mixSeed(2, 1));
  assert.notEqual(mixSeed(2 ** 32), mixSeed(0), 'the high word counts');
});
