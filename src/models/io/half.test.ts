import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../testing/random.js';
import {
  bf16ToF32,
  f16BitsToF32Bits,
  f16ToF32,
  f32Bits,
  f32BitsToBf16Bits,
  f32BitsToF16Bits,
  f32FromBits,
  f32ToBf16,
  f32ToF16,
} from './half.js';

/** Independent oracle: decode F16 bits with float64 arithmetic from the IEEE definition. */
function f16Value(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m === 0 ? s * Infinity : NaN;
  if (e === 0) return s * m * 2 ** -24;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

test('F16 -> F32 widening is exact for all 65536 bit patterns', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const wide = f16ToF32(all);
  for (let h = 0; h < 65536; h++) {
    const want = f16Value(h);
    const got = wide[h]!;
    if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `h=${h.toString(16)}`);
    else assert.ok(Object.is(got, want), `h=0x${h.toString(16)}: ${got} vs ${want}`);
    // F16 -> F32 -> F16 is the identity (NaNs keep payload, gain only the quiet bit).
    const back = f32BitsToF16Bits(f16BitsToF32Bits(h));
    if (Number.isNaN(want)) assert.equal(back, h | 0x200);
    else assert.equal(back, h);
  }
});

test('F16 named values: subnormals, max, inf, -0', () => {
  const v = f16ToF32(new Uint16Array([0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0x7c00, 0xfc00, 0x8000, 0x7e00]));
  assert.equal(v[0], 2 ** -24);
  assert.equal(v[1], 1023 * 2 ** -24);
  assert.equal(v[2], 2 ** -14);
  assert.equal(v[3], 1);
  assert.equal(v[4], 65504);
  assert.equal(v[5], Infinity);
  assert.equal(v[6], -Infinity);
  assert.ok(Object.is(v[7], -0));
  assert.ok(Number.isNaN(v[8]));
});

test('F32 -> F16 rounds to nearest even at ties, overflows and underflows per IEEE', () => {
  const cases: Array<[number, number]> = [
    [1, 0x3c00],
    [1 + 2 ** -11, 0x3c00], // tie between 1 and 1+2^-10 -> even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // tie -> even (1 + 2^-9)
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
    [65504, 0x7bff],
    [65519, 0x7bff],
    [65520, 0x7c00], // tie between max and 2^16 -> even = inf
    [1e9, 0x7c00],
    [-1e9, 0xfc00],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal -> even (0)
    [2 ** -25 * 1.5, 0x0001],
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal units -> even (2)
    [2 ** -14 - 2 ** -25, 0x0400], // rounds up into the smallest normal
    [1e-30, 0x0000],
    [-1e-30, 0x8000],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [-0, 0x8000],
  ];
  for (const [x, want] of cases) {
    assert.equal(f32BitsToF16Bits(f32Bits(x)), want, `${x}`);
  }
  assert.ok(Number.isNaN(f16ToF32(f32ToF16(new Float32Array([NaN])))[0]));
});

/** Nearest-even oracle by search over the sorted finite values of a small float format. */
function nearestEvenOracle(
  x: number,
  finite: Array<[number, number]>,
  overflowAt: number,
  infBits: number,
  negZero: number,
): number {
  if (Math.abs(x) >= overflowAt) return x > 0 ? infBits : infBits | 0x8000;
  // Binary search for the largest value <= x.
  let lo = 0;
  let hi = finite.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (finite[mid]![0] <= x) lo = mid;
    else hi = mid - 1;
  }
  const [a, ab] = finite[lo]!;
  if (a === x) return x === 0 && Object.is(x, -0) ? negZero : ab;
  const [b, bb] = finite[lo + 1]!;
  const da = x - a;
  const db = b - x;
  let r: number;
  if (da < db) r = ab;
  else if (db < da) r = bb;
  else r = (ab & 1) === 0 ? ab : bb;
  // Rounding to zero keeps the sign of x.
  if ((r & 0x7fff) === 0) return x < 0 ? negZero : 0;
  return r;
}

test('F32 -> F16 matches a brute-force nearest-even oracle on random and near-tie inputs', () => {
  const finite: Array<[number, number]> = [];
  for (let h = 0; h < 0x7c00; h++) finite.push([f16Value(h), h], [f16Value(h | 0x8000), h | 0x8000]);
  finite.sort((p, q) => p[0] - q[0] || (p[1] & 0x8000 ? -1 : 1));
  const dedup = finite.filter((p, i) => i === 0 || p[0] !== finite[i - 1]![0]);
  const rng = new Rng(7);
  const xs: number[] = [];
  for (let i = 0; i < 4000; i++) xs.push(f32FromBits(Math.floor(rng.next() * 2 ** 32)));
  for (let i = 0; i < 4000; i++) {
    // Exact midpoints between adjacent F16 values (representable in f32) and their neighbours.
    const k = Math.floor(rng.next() * (dedup.length - 1));
    const mid = (dedup[k]![0] + dedup[k + 1]![0]) / 2;
    xs.push(mid, f32FromBits(f32Bits(mid) + 1), f32FromBits(f32Bits(mid) - 1));
  }
  // Oracle overflow threshold: 65520 (midpoint of 65504 and 2^16) and above go to inf.
  for (const x of xs) {
    if (Number.isNaN(x)) continue;
    const want = nearestEvenOracle(x, dedup, 65520, 0x7c00, 0x8000);
    assert.equal(f32BitsToF16Bits(f32Bits(x)), want, `x=${x} bits=0x${f32Bits(x).toString(16)}`);
  }
});

test('BF16 widening is exact and narrowing rounds to nearest even', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const wide = bf16ToF32(all);
  // Compare bit patterns through a view: a JS number read would quiet signalling NaNs.
  const wideBits = new Uint32Array(wide.buffer);
  for (let h = 0; h < 65536; h++) {
    assert.equal(wideBits[h], h * 65536, `h=${h}`);
    if (!Number.isNaN(wide[h]!)) assert.equal(f32BitsToBf16Bits(h * 65536), h);
  }
  const cases: Array<[number, number]> = [
    [1, 0x3f80],
    [f32FromBits(0x3f808000), 0x3f80], // tie -> even
    [f32FromBits(0x3f818000), 0x3f82], // tie -> even (up)
    [f32FromBits(0x3f808001), 0x3f81],
    [f32FromBits(0x7f7fffff), 0x7f80], // f32 max rounds to inf in bf16
    [f32FromBits(0x00000001), 0x0000], // f32 subnormal underflows
    [f32FromBits(0x00018000), 0x0002], // subnormal tie -> even
    [-Infinity, 0xff80],
  ];
  for (const [x, want] of cases) assert.equal(f32BitsToBf16Bits(f32Bits(x)), want, `${x}`);
  const nan = f32ToBf16(new Float32Array([NaN, f32FromBits(0x7f800001)]));
  assert.ok(Number.isNaN(bf16ToF32(nan)[0]) && Number.isNaN(bf16ToF32(nan)[1]));
});
