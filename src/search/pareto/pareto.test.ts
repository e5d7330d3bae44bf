import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/random.js';
import { crowdingDistance, dominates, nonDominatedSort, paretoFrontIndices, toMinimization } from './pareto.js';
import { hypervolume, hypervolumeWithDirections, inferReferencePoint } from './hypervolume.js';

function randomInts(rng: Rng, n: number, m: number, hi: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: m }, () => rng.int(hi)));
}

/** Front ranks by repeated peeling with the definition (brute force). */
function bruteRanks(pts: number[][]): number[] {
  const rank = new Array<number>(pts.length).fill(-1);
  let left = pts.map((_, i) => i);
  for (let r = 0; left.length > 0; r++) {
    const cur = left.filter((i) => !left.some((j) => j !== i && dominates(pts[j]!, pts[i]!)));
    for (const i of cur) rank[i] = r;
    left = left.filter((i) => rank[i] === -1);
  }
  return rank;
}

/** Exact HV of integer points on an integer grid: count the unit cells some point dominates. */
function gridHv(pts: number[][], ref: number[]): number {
  const m = ref.length;
  const cell = new Array<number>(m).fill(0);
  let count = 0;
  const total = ref.reduce((a, b) => a * b, 1);
  for (let idx = 0; idx < total; idx++) {
    let r = idx;
    for (let j = 0; j < m; j++) {
      cell[j] = r % ref[j]!;
      r = Math.floor(r / ref[j]!);
    }
    if (pts.some((p) => p.every((v, j) => v <= cell[j]!))) count++;
  }
  return count;
}

/** HV by inclusion-exclusion over all subsets (exact for small n, real coordinates). */
function inclusionExclusionHv(pts: number[][], ref: number[]): number {
  const n = pts.length;
  let hv = 0;
  for (let mask = 1; mask < 1 << n; mask++) {
    let bits = 0;
    let vol = 1;
    for (let j = 0; j < ref.length; j++) {
      let worst = -Infinity;
      for (let i = 0; i < n; i++) if (mask & (1 << i)) worst = Math.max(worst, pts[i]![j]!);
      vol *= Math.max(0, ref[j]! - worst);
    }
    for (let i = 0; i < n; i++) if (mask & (1 << i)) bits++;
    hv += (bits % 2 === 1 ? 1 : -1) * vol;
  }
  return hv;
}

test('non-dominated sort equals brute-force peeling', () => {
  const rng = new Rng(5);
  for (let t = 0; t < 30; t++) {
    const m = 2 + (t % 3);
    const pts = randomInts(rng, 25, m, 6);
    const fronts = nonDominatedSort(pts);
    const ranks = bruteRanks(pts);
    const got = new Array<number>(pts.length).fill(-1);
    fronts.forEach((f, r) => {
      f.forEach((i) => {
        got[i] = r;
      });
    });
    assert.deepEqual(got, ranks);
    assert.deepEqual(paretoFrontIndices(pts), fronts[0]);
  }
});

test('directions and crowding distance', () => {
  assert.deepEqual(toMinimization([[0.9, 2]], ['maximize', 'minimize']), [[-0.9, 2]]);
  const pts = [
    [0, 4],
    [1, 2],
    [2, 1.5],
    [4, 0],
  ];
  const d = crowdingDistance(pts, [0, 1, 2, 3]);
  assert.equal(d[0], Infinity);
  assert.equal(d[3], Infinity);
  // point 1: (2-0)/4 + (4-1.5)/4; point 2: (4-1)/4 + (2-0)/4
  assert.ok(Math.abs(d[1]! - (2 / 4 + 2.5 / 4)) < 1e-12);
  assert.ok(Math.abs(d[2]! - (3 / 4 + 2 / 4)) < 1e-12);
});

test('hypervolume: closed-form staircases', () => {
  // 2-D staircase (i, n-1-i), i = 0..n-1, ref (n, n): HV = n(n+1)/2.
  for (const n of [1, 2, 5, 10]) {
    const pts = Array.from({ length: n }, (_, i) => [i, n - 1 - i]);
    assert.equal(hypervolume(pts, [n, n]), (n * (n + 1)) / 2);
  }
  // 3-D: the points (i, j, k) with i + j + k = n-1 and ref (n,n,n) dominate exactly the unit
  // cells with i + j + k >= n - 1: n^3 - C(n+1, 3) (the simplex of cells below has C(n+1,3) cells).
  for (const n of [2, 3, 5]) {
    const pts: number[][] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j + i < n; j++) pts.push([i, j, n - 1 - i - j]);
    assert.equal(hypervolume(pts, [n, n, n]), n ** 3 - ((n + 1) * n * (n - 1)) / 6);
  }
  assert.equal(hypervolume([[1]], [3]), 2);
  assert.equal(hypervolume([[5, 0]], [3, 3]), 0);
  assert.ok(Math.abs(hypervolumeWithDirections([[0.8, 1]], ['maximize', 'minimize'], [0.5, 3]) - 0.3 * 2) < 1e-12);
});

test('hypervolume vs grid counting and inclusion-exclusion (2-D, 3-D, 4-D)', () => {
  const rng = new Rng(9);
  for (let t = 0; t < 40; t++) {
    const m = 2 + (t % 3);
    const side = m === 4 ? 5 : 7;
    const pts = randomInts(rng, m === 4 ? 8 : 14, m, side);
    const ref = new Array<number>(m).fill(side);
    assert.equal(hypervolume(pts, ref), gridHv(pts, ref), `m=${m} t=${t}`);
  }
  for (let t = 0; t < 40; t++) {
    const m = 2 + (t % 4);
    const pts = Array.from({ length: 7 }, () => Array.from({ length: m }, () => rng.float()));
    const ref = new Array<number>(m).fill(1.1);
    const want = inclusionExclusionHv(pts, ref);
    assert.ok(Math.abs(hypervolume(pts, ref) - want) < 1e-12, `m=${m}`);
  }
});

test('inferred reference point: nadir + 10% of the front range', () => {
  const ref = inferReferencePoint([
    [0, 4],
    [2, 2],
    [4, 0],
    [5, 5],
  ]);
  assert.deepEqual(ref, [4.4, 4.4]);
  assert.deepEqual(inferReferencePoint([[2, 3]]), [2.2, 3.3]);
  assert.deepEqual(inferReferencePoint([[0, 0]]), [0.1, 0.1]);
});
